/**
 * `npm run bench` (tsx bench/run.ts): the hierarchy-page benchmark, then the orders benchmark
 * (placeOrder of 3 lines; the subscriptions page with each subscription's history).
 *
 * Options:
 *   --bench LIST               hierarchy, orders or both comma-separated (default: hierarchy,orders)
 *   --rounds N, --warmup N     measured rounds and warm-up iterations of every benchmark
 *                              (defaults: 300 and 50 for the hierarchy page and for each orders operation)
 *   --children N, --page N     hierarchy: children of the account, page size (defaults: 1000, 20)
 *   --subscriptions N, --history N, --subs-page N, --history-page N
 *                              orders: subscriptions of the read account, ledger entries of each,
 *                              subscriptions(first: N), history(first: N) (defaults: 25, 12, 20, 10)
 *
 * Exits 1 when a path takes more DynamoDB requests than its target, or a benchmark fails (the
 * others still run); the latency ratios are reported against their 1.5 target but do not fail the run.
 */
import { parseArgs } from "node:util";
import { defaultOptions, runHierarchyPageBench } from "./hierarchy-page.js";
import type { HierarchyPageResult, Stats } from "./hierarchy-page.js";
import { foldCalls, ordersDefaults, runOrdersBench } from "./orders.js";
import type { CallTime, OperationResult, OrdersResult } from "./orders.js";

const TARGET_RATIO = 1.5;
const TARGET_REQUESTS = 2;
/**
 * placeOrder: 3 requests in 3 round trips on both paths (BatchGetItem of the caller, the account
 * and the idempotency key; BatchGetItem of the offers, subscriptions and partner ancestors;
 * TransactWriteItems). One more request on either path fails the run.
 */
const TARGET_ORDER_REQUESTS = { handler: 3, raw: 3 };
/**
 * The subscriptions page: BatchGetItem (person, account), then the subscriptions Query beside the
 * BatchGetItem of the ancestors (billed party, for price visibility), then one history Query per
 * subscription on the page (a Query reads one partition; each subscription's ledger is its own).
 * So 3 + N for N subscriptions on the page, on both paths.
 */
const pageRequestsTarget = (onPage: number) => 3 + onPage;

const BENCHES = ["hierarchy", "orders"] as const;
type Bench = (typeof BENCHES)[number];

function intOption(value: string | undefined, fallback: number, name: string, min: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer >= ${min}`);
  return n;
}

const ms = (v: number) => v.toFixed(2).padStart(8);
const row = (label: string, s: Stats) => `  ${label.padEnd(36)}${ms(s.median)}${ms(s.p90)}${ms(s.min)}${ms(s.max)}`;
const header = () => `  ${"latency (ms)".padEnd(36)}${"median".padStart(8)}${"p90".padStart(8)}${"min".padStart(8)}${"max".padStart(8)}`;

function report(r: HierarchyPageResult): { text: string; failed: boolean } {
  const ratioOk = r.ratio <= TARGET_RATIO;
  const requestsOk = r.dynamoRequestsPerGraphQL <= TARGET_REQUESTS;
  const lines = [
    "",
    `Hierarchy page: ${r.options.pageSize} children of an account with ${r.options.children} children`,
    `  ${r.options.warmup} warm-up iterations, ${r.options.rounds} measured rounds (one handler call + one raw call each, order alternating)`,
    `  auth: ${r.auth} (JWKS fetches: ${r.jwksFetches})`,
    "",
    header(),
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

/** One operation of the orders benchmark; `failures` collects the request counts over target. */
function reportOperation(title: string, rawLabel: string, r: OperationResult, targets: { handler: number; raw: number }, failures: string[]): string[] {
  const ratioOk = r.ratio <= TARGET_RATIO;
  const handlerOk = r.handlerRequests <= targets.handler;
  const rawOk = r.rawRequests <= targets.raw;
  if (!handlerOk) failures.push(`${title}: ${r.handlerRequests} DynamoDB requests through the handler (at most ${targets.handler} allowed)`);
  if (!rawOk) failures.push(`${title}: ${r.rawRequests} DynamoDB requests on the raw path (at most ${targets.raw} allowed)`);
  return [
    title,
    "",
    header(),
    row("Lambda handler (handleEvent)", r.handler),
    row(rawLabel, r.raw),
    "  handler breakdown (partition of its wall time):",
    row("  JWT verification", r.handlerBreakdown.jwtVerify),
    row("  DynamoDB calls in flight", r.handlerBreakdown.dynamoInFlight),
    row("  store layer, no call in flight", r.handlerBreakdown.storeLayer),
    row("  handleEvent+Yoga+Pothos+core", r.handlerBreakdown.graphqlLayer),
    "  raw breakdown:",
    row("  DynamoDB calls in flight", r.rawBreakdown.dynamoInFlight),
    row("  rest (checks, items, SDK setup)", r.rawBreakdown.rest),
    "  Node CPU per operation (process.cpuUsage, overlapping calls or not):",
    row("  Lambda handler", r.nodeCpu.handler),
    row("  raw path", r.nodeCpu.raw),
    "",
    `  ratio median(handler)/median(raw): ${r.ratio.toFixed(2)}  (target <= ${TARGET_RATIO}: ${ratioOk ? "met" : "OVER TARGET"})`,
    `  DynamoDB requests per operation: handler ${r.handlerRequests} (target <= ${targets.handler}: ${handlerOk ? "met" : "OVER TARGET"}), raw ${r.rawRequests} (target <= ${targets.raw}: ${rawOk ? "met" : "OVER TARGET"})`,
    `  sequential round trips: handler ${r.handlerRoundTrips}, raw ${r.rawRoundTrips}`,
    `    GraphQL path: ${foldCalls(r.graphqlCalls)}`,
    `    raw path:     ${foldCalls(r.rawCalls)}`,
    "  median ms per DynamoDB call (whole SDK send, measured rounds; xN: calls per operation):",
    `    GraphQL path: ${callTimes(r.handlerCallTimes)}`,
    `    raw path:     ${callTimes(r.rawCallTimes)}`,
    `  last wave of calls, first to last sent (median/p90 ms): handler ${r.lastWaveSpread.handler.median.toFixed(2)}/${r.lastWaveSpread.handler.p90.toFixed(2)}, raw ${r.lastWaveSpread.raw.median.toFixed(2)}/${r.lastWaveSpread.raw.p90.toFixed(2)}`,
    "",
  ];
}

const callTimes = (calls: readonly CallTime[]) =>
  calls.map((c) => `${c.call}${c.perOperation === 1 ? "" : ` x${Number.isInteger(c.perOperation) ? c.perOperation : c.perOperation.toFixed(2)}`} ${c.median.toFixed(2)}`).join(", ");

function reportOrders(r: OrdersResult): { text: string; failures: string[] } {
  const o = r.options;
  const failures: string[] = [];
  const onPage = r.subscriptionsPage.subscriptionsOnPage;
  const lines = [
    "",
    `Orders: ${o.warmup} warm-up iterations, ${o.rounds} measured rounds per operation (one handler call + one raw call each, order alternating)`,
    `  auth: ${r.auth} (JWKS fetches: ${r.jwksFetches})`,
    "",
    ...reportOperation(
      "(a) placeOrder: 3 lines for a customer account, fresh idempotencyKey each round",
      "raw DynamoDB (2 BatchGet + TransactWr)",
      r.placeOrder,
      TARGET_ORDER_REQUESTS,
      failures,
    ),
    ...reportOperation(
      `(b) subscriptions(first: ${o.subsPage}) of an account with ${o.subscriptions}, each with history(first: ${o.historyPage}) of ${o.history}`,
      `raw DynamoDB (2 BatchGet + ${1 + onPage} Query)`,
      r.subscriptionsPage,
      { handler: pageRequestsTarget(onPage), raw: pageRequestsTarget(onPage) },
      failures,
    ),
    `  seeding ${(r.seedMs / 1000).toFixed(1)} s, whole run ${(r.totalMs / 1000).toFixed(1)} s`,
    "",
  ];
  return { text: lines.join("\n"), failures };
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      bench: { type: "string" },
      rounds: { type: "string" },
      warmup: { type: "string" },
      children: { type: "string" },
      page: { type: "string" },
      subscriptions: { type: "string" },
      history: { type: "string" },
      "subs-page": { type: "string" },
      "history-page": { type: "string" },
    },
    strict: true,
  });
  const benches = (values.bench ?? BENCHES.join(",")).split(",").map((b) => b.trim());
  for (const b of benches) if (!(BENCHES as readonly string[]).includes(b)) throw new Error(`--bench: unknown benchmark ${b} (known: ${BENCHES.join(", ")})`);
  const runs = (b: Bench) => benches.includes(b);
  const children = intOption(values.children, defaultOptions.children, "children", 1);
  const pageSize = intOption(values.page, defaultOptions.pageSize, "page", 1);
  if (pageSize >= children) throw new Error("--page must be smaller than --children");
  const subsPage = intOption(values["subs-page"], ordersDefaults.subsPage, "subs-page", 1);
  const historyPage = intOption(values["history-page"], ordersDefaults.historyPage, "history-page", 1);
  if (subsPage > 100 || historyPage > 100) throw new Error("--subs-page and --history-page must be at most 100 (the API's largest page)");
  const hierarchyOptions = {
    children,
    pageSize,
    warmup: intOption(values.warmup, defaultOptions.warmup, "warmup", 0),
    rounds: intOption(values.rounds, defaultOptions.rounds, "rounds", 1),
  };
  const ordersOptions = {
    warmup: intOption(values.warmup, ordersDefaults.warmup, "warmup", 0),
    rounds: intOption(values.rounds, ordersDefaults.rounds, "rounds", 1),
    subscriptions: intOption(values.subscriptions, ordersDefaults.subscriptions, "subscriptions", 1),
    history: intOption(values.history, ordersDefaults.history, "history", 1),
    subsPage,
    historyPage,
  };
  const abort = new AbortController();
  const onSignal = () => abort.abort(new Error("interrupted"));
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  const log = (line: string) => process.stderr.write(`bench: ${line}\n`);
  const failures: string[] = [];
  /** Runs one benchmark; a failure is reported and the next benchmark still runs (an interrupt stops all). */
  const attempt = async (name: string, run: () => Promise<void>) => {
    try {
      await run();
    } catch (err) {
      if (abort.signal.aborted) throw err;
      process.stderr.write(`bench: ${name} failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      failures.push(`${name}: the benchmark failed (see above)`);
    }
  };

  if (runs("hierarchy")) await attempt("hierarchy page", async () => {
    const result = await runHierarchyPageBench({ ...hierarchyOptions, signal: abort.signal, log });
    const { text, failed } = report(result);
    process.stdout.write(text);
    if (failed) failures.push(`hierarchy page: ${result.dynamoRequestsPerGraphQL} DynamoDB requests for the page (at most ${TARGET_REQUESTS} allowed)`);
  });
  if (runs("orders")) await attempt("orders", async () => {
    const result = await runOrdersBench({ ...ordersOptions, signal: abort.signal, log });
    const { text, failures: f } = reportOrders(result);
    process.stdout.write(text);
    failures.push(...f);
  });
  for (const f of failures) process.stderr.write(`bench: FAIL: ${f}\n`);
  return failures.length > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    const interrupted = err instanceof Error && err.message === "interrupted";
    process.stderr.write(`bench: ${interrupted ? "interrupted; DynamoDB Local stopped" : err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
