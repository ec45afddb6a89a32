/**
 * The esbuild options SST v2 uses to bundle a Node.js Lambda function, mirrored here so the
 * cold-start benchmark (bench/cold-start.ts) and the bundle test (test/bundle.test.ts) measure the
 * bundle that `sst deploy` actually ships.
 *
 * Source: node_modules/sst/runtime/handlers/node.js (sst 2.49.8), `build()`, with the props from
 * sst.config.ts (`setDefaultFunctionProps` = stacks/function-defaults.ts: nodejs22.x, arm_64,
 * `nodejs: { format: "esm", minify: true, esbuild: { external: ["@aws-sdk/*"], keepNames: false, alias } }`; the stacks add no
 * further `nodejs` options). For an ESM function SST builds:
 *
 *   bundle: true, platform "node", format "esm", target "esnext", mainFields ["module", "main"],
 *   keepNames: true (unless nodejs.esbuild overrides it), metafile: true, splitting: nodejs.splitting (unset: off),
 *   external: ["sharp", "pg-native", ...nodejs.install, ...nodejs.esbuild.external]
 *     (`aws-sdk` v2 is only forced external for CJS on nodejs16.x; `@aws-sdk/*` v3 is NOT external:
 *     it is bundled for nodejs18.x/20.x/22.x too),
 *   banner: the createRequire / __dirname shim below,
 *   sourcemap: true on deploy unless `nodejs.sourcemap === false` (the .map file is gzipped,
 *     uploaded to the bootstrap bucket and removed from the function code; the bundle keeps only its
 *     `//# sourceMappingURL` line),
 *   minify: nodejs.minify (SST's default is false, Function.d.ts; our stacks set true).
 *
 * SST runs its own esbuild (node_modules/sst/node_modules/esbuild, 0.18.13); the measurements use the
 * project's esbuild devDependency with the same options, and `sstEsbuild()` loads SST's copy for the
 * checks that the bundles SST actually ships load at all. The two differ: esbuild >= 0.19 bundles
 * glob-style dynamic requires (`require("./langs/" + l + ".json")` in i18n-iso-countries' Node entry),
 * 0.18 leaves them in the bundle, where they fail at import time on Lambda.
 */
import { readdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { basename, join } from "node:path";
import { pathToFileURL } from "node:url";
import type * as Esbuild from "esbuild";
import type { BuildOptions, Metafile } from "esbuild";
import { FUNCTION_DEFAULTS } from "../stacks/function-defaults.js";

/**
 * graphql function: bundle size limit, minified (1.6 MiB). It was 1.5 MiB until the number inventory
 * and support tickets (about 40 KB of schema, use cases and entities) took the bundle to 1.51 MiB; the
 * largest inputs are libphonenumber-js's "max" metadata (195 KB: numbers are checked against the
 * numbering plans), ElectroDB (194 KB) and graphql-js (184 KB).
 */
export const GRAPHQL_MAX_BYTES = 1.6 * 1024 * 1024;
/** graphql function: module initialisation at most this many times the empty handler's. */
export const GRAPHQL_MAX_INIT_RATIO = 3;

/**
 * Inputs that must not be in the graphql function's bundle: invoice documents (PDF, CSV) belong to
 * the documents function, mail (SES) to the mail worker. Matched against metafile input paths.
 */
export const GRAPHQL_FORBIDDEN_INPUTS: readonly {
  readonly label: string;
  readonly test: (input: string) => boolean;
}[] = [
  { label: "pdf-lib", test: (p) => /(^|\/)node_modules\/(pdf-lib|@pdf-lib\/[^/]+)\//.test(p) },
  { label: "csv-stringify", test: (p) => /(^|\/)node_modules\/csv-stringify\//.test(p) },
  { label: "@aws-sdk/client-sesv2", test: (p) => /(^|\/)node_modules\/@aws-sdk\/client-sesv2\//.test(p) },
  { label: "infra/documents", test: (p) => p === "infra/documents.ts" || p.startsWith("infra/documents/") },
  { label: "infra/mail.ts", test: (p) => p === "infra/mail.ts" },
  // graphql-js is bundled from its ESM files (.mjs); a CommonJS file is a second copy whose errors the first does not know.
  { label: "graphql-js CommonJS", test: (p) => /(^|\/)node_modules\/graphql\/.*\.js$/.test(p) },
];

/** The banner SST puts on every ESM function (`nodejs.banner` is unset in our stacks). */
export const SST_ESM_BANNER = [
  `import { createRequire as topLevelCreateRequire } from 'module';`,
  `const require = topLevelCreateRequire(import.meta.url);`,
  `import { fileURLToPath as topLevelFileUrlToPath, URL as topLevelURL } from "url"`,
  `const __dirname = topLevelFileUrlToPath(new topLevelURL(".", import.meta.url))`,
  "",
].join("\n");

/** SST's forced externals for an ESM function: no aws-sdk of any version. */
export const SST_ESM_EXTERNAL: readonly string[] = ["sharp", "pg-native"];

export interface BundleTarget {
  /** Entry file (absolute), or in-memory source for the empty handler. */
  readonly entry: string | { readonly contents: string; readonly resolveDir: string; readonly sourcefile: string };
  /** Output file (.mjs), absolute. */
  readonly outfile: string;
  /** SST's default is false; the target is measured minified. */
  readonly minify: boolean;
}

/** esbuild options equal to SST v2's for `format: "esm"` in deploy mode. */
export function sstBuildOptions(target: BundleTarget): BuildOptions & { metafile: true } {
  const entry =
    typeof target.entry === "string"
      ? { entryPoints: [target.entry] }
      : {
          stdin: {
            contents: target.entry.contents,
            resolveDir: target.entry.resolveDir,
            sourcefile: target.entry.sourcefile,
            loader: "ts" as const,
          },
        };
  return {
    ...entry,
    platform: "node",
    external: [...SST_ESM_EXTERNAL, ...FUNCTION_DEFAULTS.nodejs.esbuild.external],
    // SST's default (true), unless the stacks' nodejs.esbuild overrides it, as SST spreads it last.
    keepNames: FUNCTION_DEFAULTS.nodejs.esbuild.keepNames ?? true,
    alias: FUNCTION_DEFAULTS.nodejs.esbuild.alias,
    bundle: true,
    logLevel: "silent",
    metafile: true,
    format: "esm",
    target: "esnext",
    mainFields: ["module", "main"],
    banner: { js: SST_ESM_BANNER },
    outfile: target.outfile,
    sourcemap: true,
    minify: target.minify,
  };
}

/** The empty handler the functions are compared with, built the same way. */
export const EMPTY_HANDLER_SOURCE = "export const handler = async () => ({});\n";

/**
 * The minimal peer of the graphql function: a Lambda with only graphql-yoga, one DynamoDB document
 * client and a one-field schema, built at module load as such a Lambda usually is. The graphql
 * function's init is reported as a ratio to it (goal <= PEER_MAX_INIT_RATIO).
 */
export const MINIMAL_PEER_SOURCE = `
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { createSchema, createYoga } from "graphql-yoga";
const doc = DynamoDBDocumentClient.from(new DynamoDBClient({ region: "eu-west-1" }));
const yoga = createYoga({
  schema: createSchema({ typeDefs: "type Query { ok: Boolean! }", resolvers: { Query: { ok: () => doc !== undefined } } }),
  graphqlEndpoint: "/graphql",
  landingPage: false,
});
export const handler = async (event) => {
  const res = await yoga.fetch("http://lambda" + (event.rawPath ?? "/graphql"), { method: "POST", headers: { "content-type": "application/json" }, body: event.body ?? "{}" });
  return { statusCode: res.status, body: await res.text() };
};
`;
/** Goal for the graphql function's init over the minimal peer's (issue: the write-path issue's Show). */
export const PEER_MAX_INIT_RATIO = 1.5;

const HANDLER_EXPORT =
  /export\s+(?:const|let|var|async\s+function|function)\s+handler\b|export\s*\{[^}]*\bhandler\b[^}]*\}/;

/** Lambda entry points: `functions/*.ts` that export `handler` (jobs-deps.ts and the like do not). */
export function discoverHandlers(root: string): { name: string; file: string }[] {
  const dir = join(root, "functions");
  return readdirSync(dir)
    .filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts") && !f.endsWith(".test.ts"))
    .sort()
    .map((f) => ({ name: basename(f, ".ts"), file: join(dir, f) }))
    .filter(({ file }) => HANDLER_EXPORT.test(readFileSync(file, "utf8")));
}

/** The JavaScript output of a build (not the .map) and its size in bytes. */
export function mainOutput(metafile: Metafile): {
  path: string;
  bytes: number;
  inputs: Record<string, { bytesInOutput: number }>;
} {
  const entry = Object.entries(metafile.outputs).find(([path]) => !path.endsWith(".map"));
  if (!entry) throw new Error("esbuild produced no JavaScript output");
  return { path: entry[0], bytes: entry[1].bytes, inputs: entry[1].inputs };
}

/** Input paths of a build that match the graphql function's forbidden list. */
export function forbiddenInputs(metafile: Metafile): { label: string; inputs: string[] }[] {
  const paths = Object.keys(metafile.inputs);
  return GRAPHQL_FORBIDDEN_INPUTS.map(({ label, test }) => ({ label, inputs: paths.filter(test) })).filter(
    (f) => f.inputs.length > 0,
  );
}

/** The esbuild SST itself bundles with (its own dependency, not the project's). */
export async function sstEsbuild(root: string): Promise<{ version: string; build: typeof Esbuild.build }> {
  const fromSst = createRequire(join(root, "node_modules", "sst", "package.json"));
  const mod = (await import(pathToFileURL(fromSst.resolve("esbuild")).href)) as { default?: typeof Esbuild } & Partial<
    typeof Esbuild
  >;
  const esbuild = mod.default ?? (mod as typeof Esbuild);
  return { version: esbuild.version, build: esbuild.build };
}
