import { basename } from "node:path";
import type { FunctionProps } from "sst/constructs";
import { FONT_FILES } from "../infra/documents/font-files.js";

/**
 * How every Lambda function is built and run (sst.config.ts `setDefaultFunctionProps`). The
 * cold-start benchmark and the bundle test (bench/bundle-options.ts) build with these same options.
 *
 * - minify: SST v2 does not minify by default; minified bundles load faster (graphql: 5.1 -> 1.3 MB).
 * - `@aws-sdk/*` external: the nodejs22.x runtime provides AWS SDK v3; bundling our own copy costs
 *   ~450 kB in every function. The DynamoDB retry strategy (@smithy/util-retry) stays bundled, so
 *   retries behave as chosen whatever SDK version the runtime has.
 * - keepNames off (SST forces it on unless `nodejs.esbuild` overrides it): keeping every function's
 *   and class's name adds a `__name(...)` call per definition to the bundle, run at module load;
 *   without them the graphql function's init went from 1.66x to 1.61x the minimal peer's and init +
 *   first call from 703 to 642 ms (bench/RESULTS.md, "Bundles without keepNames"). Nothing here depends on a bundled class's name: the
 *   typed errors carry explicit names and are matched with instanceof, jose's errors by `code`; the
 *   shipped bundle's answers are checked against the local server's (test/bundle-requests.test.ts).
 * - `graphql/language/parser` aliased to its ESM file: graphql-armor's max-tokens plugin, which parses
 *   every request, imports that deep path, which esbuild resolves to graphql-js's CommonJS build
 *   while `graphql` itself resolves to the ESM one (`module` field). The bundle then had two copies
 *   of the parser, lexer and GraphQLError (44 KB), and a syntax error, thrown as the CommonJS
 *   GraphQLError, was not recognised as one: the deployed API answered it with a 500 "Unexpected
 *   error." where the local server gives GRAPHQL_PARSE_FAILED.
 */
export const FUNCTION_DEFAULTS = {
  runtime: "nodejs22.x",
  architecture: "arm_64",
  nodejs: {
    format: "esm",
    minify: true,
    esbuild: {
      external: ["@aws-sdk/*"],
      keepNames: false,
      alias: { "graphql/language/parser": "graphql/language/parser.mjs" },
    },
  },
} as const satisfies FunctionProps;

/**
 * Optional stage settings passed through from the deploying shell when set (`INVOICE_ISSUER_VAT_ID=…
 * npx sst deploy`); unset ones keep the functions' defaults (infra/config.ts).
 */
export function stageSettings(names: readonly string[], env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  return Object.fromEntries(names.flatMap((n) => (env[n] ? [[n, env[n]]] : [])));
}

/**
 * Where the links in mails point (the partner portal): the functions that mail (graphql: invitations;
 * the job workers: reminders and invoices; the webhook worker: disabled endpoints). Unset, the
 * functions' default is a placeholder (infra/config.ts), so a real stage sets it at deploy.
 */
export const PORTAL_SETTINGS = ["PORTAL_URL"] as const;

/** The vendor's legal identity on invoices: the documents and billing functions print it. */
export const ISSUER_SETTINGS = [
  "INVOICE_ISSUER_ADDRESS",
  "INVOICE_ISSUER_VAT_ID",
  "INVOICE_ISSUER_COMPANY_NUMBER",
] as const;
/** Token checks and request limits of the GraphQL function. */
export const API_SETTINGS = [
  "AUTH_EMAIL_CLAIM",
  "AUTH_EMAIL_VERIFIED_CLAIM",
  "AUTH_MAX_TOKEN_LIFETIME_SECONDS",
  "REQUEST_BUDGET",
] as const;

/**
 * The fonts of the invoice PDF, copied into the bundles of the functions that render it (documents,
 * billing worker) under `fonts/`, where infra/documents/fonts.ts finds them (`LAMBDA_TASK_ROOT/fonts`).
 */
export const INVOICE_FONTS: NonNullable<FunctionProps["copyFiles"]> = Object.values(FONT_FILES).map((spec) => ({
  from: `node_modules/${spec}`,
  to: `fonts/${basename(spec)}`,
}));
