import type { GraphiQLOptions } from "graphql-yoga";
import { PLATFORM_ID } from "../core/account.js";
import { globalId } from "../graphql/ids.js";

/**
 * GraphiQL for the local stack, entirely from the installed packages: the page is rendered here and
 * its script, style and editor workers are served from `@graphql-yoga/render-graphiql` (the same
 * GraphiQL build Yoga's CDN page loads), under ASSET_PREFIX on the stack's own port. Nothing comes
 * from a CDN, so it works offline. Local stack only: the assets (about 9 MB) are not in the Lambda
 * bundle.
 */
export const ASSET_PREFIX = "/graphiql/";

interface Asset {
  readonly type: string;
  readonly body: string;
}

type Assets = ReadonlyMap<string, Asset>;

/** The assets, read from node_modules once, when GraphiQL is first asked for. */
let loading: Promise<Assets> | undefined;
function assets(): Promise<Assets> {
  loading ??= import("@graphql-yoga/render-graphiql/graphiql").then(
    (m) =>
      new Map<string, Asset>([
        ["graphiql.css", { type: "text/css; charset=utf-8", body: m.css }],
        ["graphiql.js", { type: "text/javascript; charset=utf-8", body: m.js }],
        ["editor.worker.js", { type: "text/javascript; charset=utf-8", body: m.editorWorkerService }],
        ["json.worker.js", { type: "text/javascript; charset=utf-8", body: m.jsonWorker }],
        ["graphql.worker.js", { type: "text/javascript; charset=utf-8", body: m.graphqlWorker }],
        ["favicon.ico", { type: "image/x-icon", body: m.favicon }],
      ]),
  );
  return loading;
}

/** The asset at `path` (under ASSET_PREFIX), or undefined. The favicon is a data URL in the package: served decoded. */
export async function graphiqlAsset(path: string): Promise<{ type: string; body: string | Buffer } | undefined> {
  if (!path.startsWith(ASSET_PREFIX)) return undefined;
  const asset = (await assets()).get(path.slice(ASSET_PREFIX.length));
  if (!asset) return undefined;
  if (asset.type === "image/x-icon")
    return { type: asset.type, body: Buffer.from(asset.body.replace(/^data:[^,]*,/, ""), "base64") };
  return asset;
}

/** The comment heading every default tab: how to authenticate. */
function authNote(origin: string): string {
  return [
    "# Channel Partner API, local stack. Authenticate in Headers:",
    '#   {"Authorization": "Bearer <token>"}',
    "# A token for any e-mail; local tokens last one hour",
    "# (real time: /dev/clock jumps do not expire them):",
    `#   curl -s -X POST ${origin}/dev/token \\`,
    `#     -d '{"email":"operator@example.com"}'`,
    "",
  ].join("\n");
}

const VIEWER = `query Viewer {
  viewer {
    email
    emailVerified
    memberships {
      role
      account { id name kind }
    }
  }
}
`;

const ACCOUNT_PAGE = `# An account and a page of its children; pass pageInfo.endCursor as $after for the next page.
query AccountPage($id: ID!, $first: Int = 10, $after: String) {
  account(id: $id) {
    __typename
    ... on QueryAccountSuccess {
      data {
        id
        name
        kind
        country
        currency
        childCount
        children(first: $first, after: $after) {
          edges { node { id name kind country } }
          pageInfo { hasNextPage endCursor }
        }
      }
    }
    ... on Error { code message }
  }
}
`;

/** GraphiQL's options for the stack at `origin`: two default tabs (viewer, an account page) opening with the note on tokens. */
export function graphiqlOptions(origin: string): GraphiQLOptions {
  const note = authNote(origin);
  return {
    title: "Channel Partner API (local)",
    favicon: `${ASSET_PREFIX}favicon.ico`,
    defaultQuery: `${note}${VIEWER}`,
    defaultTabs: [
      { query: `${note}${VIEWER}` },
      {
        query: `${note}${ACCOUNT_PAGE}`,
        variables: JSON.stringify({ id: globalId("Account", PLATFORM_ID), first: 10 }, null, 2),
      },
    ],
    defaultEditorToolsVisibility: "headers",
    // Tokens are secrets: kept in the tab only, not in the browser's storage.
    shouldPersistHeaders: false,
  };
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
/** JSON safe inside a <script> element. */
const scriptJson = (v: unknown) => JSON.stringify(v).replace(/</g, "\\u003c");

/**
 * The page: Yoga's GraphiQL (`YogaGraphiQL.renderYogaGraphiQL`) with every asset from this stack,
 * the editor workers loaded by URL from the same origin, and a one-line note on the Authorization header.
 */
export function renderGraphiQL(options: GraphiQLOptions): string {
  const title = escapeHtml(options.title ?? "GraphiQL");
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${title}</title>
<link rel="icon" href="${ASSET_PREFIX}favicon.ico">
<link rel="stylesheet" href="${ASSET_PREFIX}graphiql.css">
<style>
  html, body { height: 100%; margin: 0; }
  body { display: flex; flex-direction: column; }
  #auth-note { flex: none; padding: 6px 12px; font: 13px/1.4 system-ui, sans-serif; background: #fff8e1; color: #3e2f00; border-bottom: 1px solid #e6d9a8; }
  #auth-note code { font-size: 12px; }
  #root { flex: 1; min-height: 0; height: auto; }
</style>
</head>
<body id="body" class="no-focus-outline">
<noscript>You need to enable JavaScript to run GraphiQL.</noscript>
<div id="auth-note">Set the <code>Authorization</code> header in Headers: <code>{"Authorization": "Bearer &lt;token&gt;"}</code>,
a token from <code>POST /dev/token {"email": "…"}</code>. Local tokens last one hour.</div>
<div id="root"></div>
<script>
  self.MonacoEnvironment = {
    globalAPI: false,
    getWorkerUrl: function (moduleId, label) {
      return ${scriptJson({ editorWorkerService: `${ASSET_PREFIX}editor.worker.js`, json: `${ASSET_PREFIX}json.worker.js`, graphql: `${ASSET_PREFIX}graphql.worker.js` })}[label];
    },
  };
</script>
<script src="${ASSET_PREFIX}graphiql.js"></script>
<script>
  YogaGraphiQL.renderYogaGraphiQL(document.querySelector("#root"), ${scriptJson(options)});
</script>
</body>
</html>
`;
}
