import { NoSchemaIntrospectionCustomRule } from "graphql";
import type { GraphQLError } from "graphql";
import { createGraphQLError, createYoga, isAsyncIterable, maskError as defaultMaskError } from "graphql-yoga";
import type { GraphiQLOptions, Plugin } from "graphql-yoga";
import { useCSRFPrevention } from "@graphql-yoga/plugin-csrf-prevention";
import { blockFieldSuggestionsPlugin } from "@escape.tech/graphql-armor-block-field-suggestions";
import { costLimitPlugin } from "@escape.tech/graphql-armor-cost-limit";
import { maxAliasesPlugin } from "@escape.tech/graphql-armor-max-aliases";
import { maxDepthPlugin } from "@escape.tech/graphql-armor-max-depth";
import { maxDirectivesPlugin } from "@escape.tech/graphql-armor-max-directives";
import { maxTokensPlugin } from "@escape.tech/graphql-armor-max-tokens";
import type { Actor } from "../core/actor.js";
import { Session } from "../core/context.js";
import type { Deps } from "../core/context.js";
import { Invalid, RateLimited, Unauthenticated, VisibleError } from "../core/errors.js";
import { Throttled } from "../infra/dynamo.js";
import { DEFAULT_REQUEST_BUDGET, RequestBudgetExceeded, withRequestBudget } from "../infra/request-budget.js";
import { framesOf } from "../infra/telemetry.js";
import type { Telemetry } from "../infra/telemetry.js";
import { BadCredentials, actorOf } from "./bearer.js";
import type { Authenticate } from "./bearer.js";
import { observability } from "./observability.js";
import { cursorSeal, ephemeralCursorSecret } from "./cursors.js";
import type { CursorSeal } from "./cursors.js";
import type { Context } from "./builder.js";
import { schema } from "./schema.js";
import { MAX_ALIASES, MAX_BODY_BYTES, MAX_COST, MAX_DEPTH, MAX_DIRECTIVES, MAX_TOKENS, tooLarge } from "./limits.js";

export type { Authenticate } from "./bearer.js";

export interface ServerOptions {
  readonly deps: Deps;
  readonly authenticate: Authenticate;
  /**
   * GraphiQL in the browser: the local stack's page (local/graphiql.ts, assets from node_modules,
   * never a CDN) or none. Lambda serves none: its assets would not fit the graphql bundle.
   */
  readonly graphiql:
    | false
    | { readonly render: (options: GraphiQLOptions) => string; readonly options?: GraphiQLOptions };
  /** Schema introspection (`__schema`, `__type`): on in the local stack, off in Lambda unless configured. */
  readonly introspection?: boolean;
  readonly graphqlEndpoint?: string;
  /** Structured logs and metrics (Powertools in Lambda); none when absent. */
  readonly telemetry?: Telemetry;
  /**
   * The stage's secret for sealing cursors (at least 32 characters), or its loader (Lambda: the SST
   * secret CURSOR_SECRET, read on first use). Absent: a key of this process only (tests, benches).
   */
  readonly cursorSecret?: string | (() => Promise<string>);
  /** DynamoDB requests one GraphQL request may make (estimated before it runs, counted as it runs). */
  readonly requestBudget?: number;
}

/** Every execution counts its DynamoDB requests against its own budget (infra/request-budget.ts). */
function requestBudget(limit: number): Plugin {
  return {
    onExecute({ setExecuteFn, executeFn }) {
      setExecuteFn((args) => withRequestBudget(limit, () => executeFn(args)));
    },
  };
}

/** The cursor seal of a server, built once from its secret (a failed load is retried by the next request). */
function cursorSealOf(secret: ServerOptions["cursorSecret"]): () => Promise<CursorSeal> {
  let loading: Promise<CursorSeal> | undefined;
  return () =>
    (loading ??= (async () =>
      cursorSeal(typeof secret === "function" ? await secret() : (secret ?? ephemeralCursorSecret())))().catch(
      (err: unknown) => {
        loading = undefined;
        throw err;
      },
    ));
}

const unauthorized = (message: string) =>
  createGraphQLError(message, {
    extensions: { code: "UNAUTHENTICATED", http: { status: 401, headers: { "WWW-Authenticate": "Bearer" } } },
  });

function isGraphQLError(e: unknown): e is GraphQLError {
  return e instanceof Error && e.name === "GraphQLError";
}

/**
 * Input the schema itself refuses (a variable that is not an Int, a missing required field) fails
 * before any resolver runs, without a code; it gets `BAD_USER_INPUT` so clients can tell it apart.
 */
const codeInputErrors: Plugin = {
  onExecute: () => ({
    onExecuteDone: ({ result, setResult }) => {
      if (isAsyncIterable(result) || result.data != null || !result.errors?.length) return;
      setResult({
        ...result,
        errors: result.errors.map((e) =>
          e.extensions?.code || e.path
            ? e
            : createGraphQLError(e.message, {
                ...(e.nodes ? { nodes: e.nodes } : {}),
                extensions: { ...e.extensions, code: "BAD_USER_INPUT" },
              }),
        ),
      });
    },
  }),
};

/** Refuses a body announced as larger than MAX_BODY_BYTES with 413, before anything reads it. */
const bodyLimit: Plugin = {
  onRequest({ request, endResponse }) {
    const length = Number(request.headers.get("content-length") ?? 0);
    if (length > MAX_BODY_BYTES) endResponse(tooLarge());
  },
};

/** What `GET /health` answers: a small JSON body (Yoga's own check answers an empty one). */
export const HEALTH_BODY = { status: "ok" } as const;
const HEALTH_PATH = "/health";

/** `GET /health` (the API Gateway route and the local stack): 200 with HEALTH_BODY, before any GraphQL handling. */
const health: Plugin = {
  onRequest({ request, url, endResponse, fetchAPI }) {
    if (url.pathname === HEALTH_PATH && (request.method === "GET" || request.method === "HEAD")) {
      endResponse(
        new fetchAPI.Response(JSON.stringify(HEALTH_BODY), {
          status: 200,
          headers: { "content-type": "application/json", "cache-control": "no-store" },
        }),
      );
    }
  },
};

/**
 * CSRF prevention: a request a browser sends without a CORS preflight (GET, form or text/plain POST)
 * must carry a header no cross-site form can set. `x-graphql-yoga-csrf` or `Authorization` (a bearer
 * token is such a header), so clients with a token, such as urql's default GET for queries, just work.
 */
const CSRF_HEADERS = ["x-graphql-yoga-csrf", "authorization"];

/** Refuses `__schema` and `__type` (graphql-js's own rule); `__typename` stays allowed. */
const noIntrospection: Plugin = {
  onValidate: ({ addValidationRule }) => addValidationRule(NoSchemaIntrospectionCustomRule),
};

/**
 * Guards on the operation's shape, limits in ./limits.ts. Each refuses the operation at validation
 * with a GraphQL error (code GRAPHQL_VALIDATION_FAILED / BAD_USER_INPUT for tokens) naming the limit.
 */
function guards(introspection: boolean): Plugin[] {
  return [
    maxTokensPlugin({ n: MAX_TOKENS }),
    maxDepthPlugin({ n: MAX_DEPTH, ignoreIntrospection: true, flattenFragments: true }),
    maxAliasesPlugin({ n: MAX_ALIASES }),
    maxDirectivesPlugin({ n: MAX_DIRECTIVES }),
    costLimitPlugin({ maxCost: MAX_COST, ignoreIntrospection: true, flattenFragments: true }),
    blockFieldSuggestionsPlugin(),
    ...(introspection ? [] : [noIntrospection]),
  ];
}

/**
 * The one Yoga instance shared by the Lambda handler and the local server: same schema, same
 * authentication, same error masking.
 */
export function createGraphQLServer(opts: ServerOptions) {
  const cursors = cursorSealOf(opts.cursorSecret);
  const budget = opts.requestBudget ?? DEFAULT_REQUEST_BUDGET;
  return createYoga<Record<string, unknown>, Context>({
    schema,
    graphqlEndpoint: opts.graphqlEndpoint ?? "/graphql",
    // Yoga's own check (an empty body) is moved out of the way of `health` above, which answers JSON.
    healthCheckEndpoint: "/__yoga/health",
    landingPage: false,
    graphiql: opts.graphiql ? { title: "Channel Partner API", ...opts.graphiql.options } : false,
    ...(opts.graphiql ? { renderGraphiQL: opts.graphiql.render } : {}),
    logging: false,
    plugins: [
      health,
      bodyLimit,
      useCSRFPrevention({ requestHeaders: CSRF_HEADERS }),
      ...guards(opts.introspection ?? false),
      codeInputErrors,
      requestBudget(budget),
      ...(opts.telemetry ? [observability(opts.telemetry)] : []),
    ],
    context: async ({ request }): Promise<Context> => {
      let actor: Actor;
      try {
        actor = await actorOf(request.headers.get("authorization"), opts.deps, opts.authenticate);
      } catch (err) {
        // A client over its allowance is told when to come back (429), not that its token is bad.
        if (err instanceof RateLimited) {
          throw createGraphQLError(err.message, {
            extensions: {
              code: err.code,
              retryAfterSeconds: err.retryAfterSeconds,
              http: { status: 429, headers: { "Retry-After": String(err.retryAfterSeconds) } },
            },
          });
        }
        throw unauthorized(err instanceof BadCredentials ? err.message : "Invalid or expired token");
      }
      return {
        session: new Session(opts.deps, actor),
        cursors,
        requestBudget: budget,
        ...(opts.telemetry ? { telemetry: opts.telemetry } : {}),
      };
    },
    maskedErrors: {
      maskError(error, message, isDev) {
        // Duck-typed: under some loaders `graphql` is instantiated twice, so instanceof is unreliable.
        const located = isGraphQLError(error) ? error : undefined;
        const original = located ? located.originalError : error;
        if (original instanceof Unauthenticated) {
          return unauthorized(original.message);
        }
        const over = RequestBudgetExceeded.in(original);
        if (over) {
          opts.telemetry?.warn("request budget exceeded", { errorName: over.name });
          // The caller's own request is too expensive: said so, with what it may spend.
          return createGraphQLError(
            over.estimated === undefined
              ? `This request used its budget of ${over.budget} DynamoDB requests; ask for fewer items or fewer fields at once`
              : `This request would need about ${over.estimated} DynamoDB requests, over its budget of ${over.budget}; ask for fewer items or fewer fields at once`,
            {
              ...(located?.path ? { path: located.path } : {}),
              extensions: {
                code: "BUDGET_EXCEEDED",
                budget: over.budget,
                ...(over.estimated !== undefined ? { estimated: over.estimated } : {}),
              },
            },
          );
        }
        const busy = Throttled.in(original);
        if (busy) {
          opts.telemetry?.warn("throttled after retries", { errorName: busy.name });
          // Retryable, and said so: 503 with Retry-After, no internals.
          return createGraphQLError("The service is busy; retry in a moment", {
            ...(located?.path ? { path: located.path } : {}),
            extensions: {
              code: "THROTTLED",
              http: { status: 503, headers: { "Retry-After": String(busy.retryAfterSeconds) } },
            },
          });
        }
        if (original instanceof VisibleError) {
          return createGraphQLError(original.message, {
            ...(located?.nodes ? { nodes: located.nodes } : {}),
            ...(located?.path ? { path: located.path } : {}),
            extensions: {
              // Outside a result union (connection arguments), a broken input rule is the GraphQL
              // convention's BAD_USER_INPUT, with the same issues a ValidationError carries.
              code: original instanceof Invalid ? "BAD_USER_INPUT" : original.code,
              ...("issues" in original ? { issues: original.issues } : {}),
              // An allowance used up: 429 with the seconds until the window ends.
              ...(original instanceof RateLimited
                ? {
                    retryAfterSeconds: original.retryAfterSeconds,
                    http: { status: 429, headers: { "Retry-After": String(original.retryAfterSeconds) } },
                  }
                : {}),
            },
          });
        }
        // graphql-js's own errors (syntax, validation, variable coercion) carry no original error:
        // the client's mistake, answered as it is (defaultMaskError keeps them), not an alarm.
        if (located && original === undefined) return defaultMaskError(error, message, isDev);
        // Masked for the client; logged by name and frames (the message may quote input).
        opts.telemetry?.error("unexpected error", {
          errorName: original instanceof Error ? original.name : typeof original,
          frames: framesOf(original),
        });
        return defaultMaskError(error, message, isDev);
      },
    },
  });
}

export type GraphQLServer = ReturnType<typeof createGraphQLServer>;
