/**
 * `npm run bench` (tsx bench/run.ts): the hierarchy-page benchmark.
 *
 * Options: --rounds N, --warmup N, --children N, --page N (defaults: 300, 50, 1000, 20).
 * Exits 1 when the page takes more than 2 DynamoDB requests (or the run fails); the latency
 * ratio is reported against its 1.5 target but does not fail the run.
 */
import { parseArgs } from "node:util";
import { defaultOptions, runHierarchyPageBench } from "./hierarchy-page.js";
import type { HierarchyPageResult, Stats } from "./hierarchy-page.js";

const TARGET_RATIO = 1.5;
const TARGET_REQUESTS = 2;

function intOption(value: string | undefined, fallback: number, name: string, min: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer >= ${min}`);
  return n;
}

const ms = (v: number) => v.toFixed(2).padStart(8);
const row = (label: string, s: Stats) => `  ${label.padEnd(36)}${ms(s.median)}${ms(s.p90)}${ms(s.min)}${ms(s.max)}`;

function report(r: HierarchyPageResult): { text: string; failed: boolean } {
  const ratioOk = r.ratio <= TARGET_RATIO;
  const requestsOk = r.dynamoRequestsPerGraphQL <= TARGET_REQUESTS;
  const lines = [
    "",
    `Hierarchy page: ${r.options.pageSize} children of an account with ${r.options.children} children`,
    `  ${r.options.warmup} warm-up iterations, ${r.options.rounds} measured rounds (one handler call + one raw call each, order alternating)`,
    `  auth: ${r.auth} (JWKS fetches: ${r.jwksFetches})`,
    "",
    `  ${"latency (ms)".padEnd(36)}${"median".padStart(8)}${"p90".padStart(8)}${"min".padStart(8)}${"max".padStart(8)}`,
    row("Lambda handler (handleEvent)", r.handler),
    row("raw DynamoDB (BatchGet + Query)", r.raw),
    "  handler breakdown:",
    row("  JWT verification", r.breakdown.jwtVerify),
    row("  DynamoDB calls (SDK send)", r.breakdown.dynamoCalls),
    row("  store layer (ElectroDB, cursors)", r.breakdown.storeLayer),
    row("  handleEvent + Yoga + Pothos", r.breakdown.graphqlLayer),
    "",
    `  ratio median(handler)/median(raw): ${r.ratio.toFixed(2)}  (target <= ${TARGET_RATIO}: ${ratioOk ? "met" : "OVER TARGET"})`,
    `  DynamoDB requests per GraphQL request: ${r.dynamoRequestsPerGraphQL}  (target <= ${TARGET_REQUESTS}: ${requestsOk ? "met" : "OVER TARGET"})`,
    `    GraphQL path: ${r.graphqlCalls.join(", ")}`,
    `    raw path:     ${r.rawCalls.join(", ")}`,
    "",
    `  seeding ${(r.seedMs / 1000).toFixed(1)} s, whole run ${(r.totalMs / 1000).toFixed(1)} s`,
    "",
  ];
  return { text: lines.join("\n"), failed: !requestsOk };
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: { rounds: { type: "string" }, warmup: { type: "string" }, children: { type: "string" }, page: { type: "string" } },
    strict: true,
  });
  const children = intOption(values.children, defaultOptions.children, "children", 1);
  const pageSize = intOption(values.page, defaultOptions.pageSize, "page", 1);
  if (pageSize >= children) throw new Error("--page must be smaller than --children");
  const abort = new AbortController();
  const onSignal = () => abort.abort(new Error("interrupted"));
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  const result = await runHierarchyPageBench({
    children,
    pageSize,
    warmup: intOption(values.warmup, defaultOptions.warmup, "warmup", 0),
    rounds: intOption(values.rounds, defaultOptions.rounds, "rounds", 1),
    signal: abort.signal,
    log: (line) => process.stderr.write(`bench: ${line}\n`),
  });
  const { text, failed } = report(result);
  process.stdout.write(text);
  if (failed) process.stderr.write(`bench: FAIL: ${result.dynamoRequestsPerGraphQL} DynamoDB requests for the page (at most ${TARGET_REQUESTS} allowed)\n`);
  return failed ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    const interrupted = err instanceof Error && err.message === "interrupted";
    process.stderr.write(`bench: ${interrupted ? "interrupted; DynamoDB Local stopped" : err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
