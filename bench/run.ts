/**
 * `npm run bench` (tsx bench/run.ts): the hierarchy-page benchmark, the orders benchmark
 * (placeOrder of 3 lines; the subscriptions page with each subscription's history), then the
 * billing benchmark (a monthly billing run through the queue and workers, at 500, 1,000 and 2,000 customers),
 * then the load benchmark (concurrent clients over HTTP against the local server, a partner portal's mix),
 * then the cold-start benchmark (the Lambda bundles as SST builds them: sizes, module initialisation),
 * then the webhooks benchmark (orders → change stream → delivery queue → worker → a loopback receiver).
 *
 * Options:
 *   --bench LIST               hierarchy, orders, billing, load, cold, webhooks, comma-separated (default: all six)
 *   --rounds N, --warmup N     measured rounds and warm-up iterations of every benchmark
 *                              (defaults: 300 and 50 for the hierarchy page and for each orders operation)
 *   --children N, --page N     hierarchy: children of the account, page size (defaults: 1000, 20)
 *   --subscriptions N, --history N, --subs-page N, --history-page N
 *                              orders: subscriptions of the read account, ledger entries of each,
 *                              subscriptions(first: N), history(first: N) (defaults: 25, 12, 20, 10)
 *   --customers LIST, --resellers N, --distributors N
 *                              billing: customer counts measured, each on fresh tables (default 500,1000,2000),
 *                              resellers and distributors above them (defaults: 50, 5)
 *   --party-sizes LIST         billing: customers of each party in one measured size ("20000,2000x5": one party of
 *                              20,000 and five of 2,000); replaces --customers and --distributors
 *   --billing-rounds N, --billing-warmup N
 *                              billing: measurements per size (default 1; which path goes first alternates),
 *                              customers of the unreported warm-up run (default 200; 0 for none)
 *   --clients N, --seconds N, --warmup-seconds N
 *                              load: concurrent clients (one customer each), measured seconds, unmeasured
 *                              warm-up seconds (defaults: 200, 60, 5)
 *   --samples N                cold: fresh node processes per bundle (default 15)
 *   --orders N                 webhooks: orders placed, each one delivery (default 1000)
 *
 * BENCH_PROFILE_DIR=dir (orders): after each operation's measured rounds, a CPU profile of 200 more
 * handler calls alone, written to dir/<operation>.cpuprofile (open it in Chrome's DevTools).
 *
 * Exits 1 when a path takes more DynamoDB requests than its target, a second billing run of the same
 * month writes anything, the load benchmark has any error or an overall p99/p50 above 5, the graphql
 * bundle is over 1.6 MiB minified or a bundle does not build or load, or a
 * benchmark fails (the others still run); the latency ratios of the other benchmarks are reported
 * against their targets (`TARGET_RATIO`) but do not fail the run.
 */
import { parseArgs } from "node:util";
import { defaultOptions, runHierarchyPageBench } from "./hierarchy-page.js";
import type { HierarchyPageResult, Stats } from "./hierarchy-page.js";
import { foldCalls, ordersDefaults, runOrdersBench } from "./orders.js";
import type { CallTime, OperationResult, OrdersResult } from "./orders.js";
import { PERIOD, billingDefaults, describeModel, runBillingBench } from "./billing.js";
import type { BillingResult, CallStats, PathRun, SizeResult } from "./billing.js";
import { loadDefaults, reportLoad, runLoadBench } from "./load.js";
import { coldStartDefaults, runColdStartBench } from "./cold-start.js";
import { reportWebhooks, runWebhooksBench, webhooksDefaults } from "./webhooks.js";

/** Handler over raw, median against median: the write-path issue's goals. */
const TARGET_RATIO = { hierarchy: 1.3, placeOrder: 1.25, subscriptionsPage: 1.3 } as const;
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

const BENCHES = ["hierarchy", "orders", "billing", "load", "cold", "webhooks"] as const;
type Bench = (typeof BENCHES)[number];

function intOption(value: string | undefined, fallback: number, name: string, min: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer >= ${min}`);
  return n;
}

const ms = (v: number) => v.toFixed(2).padStart(8);
const row = (label: string, s: Stats) => `  ${label.padEnd(36)}${ms(s.median)}${ms(s.p90)}${ms(s.min)}${ms(s.max)}`;
const header = () =>
  `  ${"latency (ms)".padEnd(36)}${"median".padStart(8)}${"p90".padStart(8)}${"min".padStart(8)}${"max".padStart(8)}`;

function report(r: HierarchyPageResult): { text: string; failed: boolean } {
  const ratioOk = r.ratio <= TARGET_RATIO.hierarchy;
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
    row("  DynamoDB calls in flight", r.breakdown.dynamoCalls),
    row("  store layer (ElectroDB, cursors)", r.breakdown.storeLayer),
    row("  handleEvent + Yoga + Pothos", r.breakdown.graphqlLayer),
    "",
    `  ratio median(handler)/median(raw): ${r.ratio.toFixed(2)}  (target <= ${TARGET_RATIO.hierarchy}: ${ratioOk ? "met" : "OVER TARGET"})`,
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
function reportOperation(
  title: string,
  rawLabel: string,
  r: OperationResult,
  targets: { handler: number; raw: number; ratio: number },
  failures: string[],
): string[] {
  const ratioOk = r.ratio <= targets.ratio;
  const handlerOk = r.handlerRequests <= targets.handler;
  const rawOk = r.rawRequests <= targets.raw;
  if (!handlerOk)
    failures.push(
      `${title}: ${r.handlerRequests} DynamoDB requests through the handler (at most ${targets.handler} allowed)`,
    );
  if (!rawOk)
    failures.push(`${title}: ${r.rawRequests} DynamoDB requests on the raw path (at most ${targets.raw} allowed)`);
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
    `  ratio median(handler)/median(raw): ${r.ratio.toFixed(2)}  (target <= ${targets.ratio}: ${ratioOk ? "met" : "OVER TARGET"})`,
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
  calls
    .map(
      (c) =>
        `${c.call}${c.perOperation === 1 ? "" : ` x${Number.isInteger(c.perOperation) ? c.perOperation : c.perOperation.toFixed(2)}`} ${c.median.toFixed(2)}`,
    )
    .join(", ");

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
      { ...TARGET_ORDER_REQUESTS, ratio: TARGET_RATIO.placeOrder },
      failures,
    ),
    ...reportOperation(
      `(b) subscriptions(first: ${o.subsPage}) of an account with ${o.subscriptions}, each with history(first: ${o.historyPage}) of ${o.history}`,
      `raw DynamoDB (2 BatchGet + ${1 + onPage} Query)`,
      r.subscriptionsPage,
      { handler: pageRequestsTarget(onPage), raw: pageRequestsTarget(onPage), ratio: TARGET_RATIO.subscriptionsPage },
      failures,
    ),
    `  seeding ${(r.seedMs / 1000).toFixed(1)} s, whole run ${(r.totalMs / 1000).toFixed(1)} s`,
    "",
  ];
  return { text: lines.join("\n"), failures };
}

const sec = (ms: number) => (ms / 1000).toFixed(2);
const pad = (v: string | number, n: number) => String(v).padStart(n);
/** "Query subscription 2055 (6000 items read, 7.27 s in flight, mean 58.4 ms)" lines, most requests first. */
const callLines = (calls: Readonly<Record<string, CallStats>>, indent: string) =>
  Object.entries(calls)
    .sort(([, x], [, y]) => y.requests - x.requests)
    .map(
      ([call, c]) =>
        `${indent}${call.padEnd(36)}${pad(c.requests, 6)}${pad(c.itemsRead, 8)}${pad(c.itemsWritten, 8)}${pad(sec(c.busyMs), 9)}${pad((c.sumMs / c.requests).toFixed(1), 9)}${c.errors ? `  (${c.errors} answered with an error)` : ""}`,
    );
const callHeader = (indent: string) =>
  `${indent}${"call".padEnd(36)}${pad("req", 6)}${pad("read", 8)}${pad("written", 8)}${pad("busy s", 9)}${pad("mean ms", 9)}`;
const cpuLine = (r: PathRun) =>
  `wall ${sec(r.wallMs)} s, a DynamoDB call in flight ${sec(r.dynamoBusyMs)} s, Node CPU ${sec(r.nodeCpuMs)} s, DynamoDB Local CPU ${r.dynamoCpuMs === null ? "n/a" : `${sec(r.dynamoCpuMs)} s`}`;
const writesOf = (r: PathRun) =>
  ["BatchWriteItem", "TransactWriteItems", "PutItem", "UpdateItem", "DeleteItem"]
    .map((c) => `${c} ${r.byCommand[c]?.requests ?? 0}`)
    .join(", ");

function reportBilling(r: BillingResult): { text: string; failures: string[] } {
  const failures: string[] = [];
  const o = r.options;
  const rows = r.sizes.map((s) => {
    const p = s.product;
    if (s.secondWrites > 0)
      failures.push(`billing (${s.customers} customers): the second run of ${PERIOD} wrote (${writesOf(s.second)})`);
    return `  ${pad(s.customers, 9)}${pad(s.first, 8)}${pad(s.lines, 7)}${pad(s.invoices, 5)}${pad(sec(p.wallMs), 9)}${pad((s.invoices / (p.wallMs / 1000)).toFixed(2), 7)}${pad(Math.round(s.lines / (p.wallMs / 1000)), 9)}${pad(p.requests, 9)}${pad((p.requests / s.invoices).toFixed(1), 8)}${pad(sec(s.raw.wallMs), 8)}${pad(s.raw.requests, 6)}${pad(s.ratio.toFixed(2), 7)}${pad(`${s.second.requests} / ${s.secondWrites}`, 12)}`;
  });
  const by = new Map<number, SizeResult[]>();
  for (const s of r.sizes) by.set(s.customers, [...(by.get(s.customers) ?? []), s]);
  const median = (v: number[]) => {
    const x = [...v].sort((a, b) => a - b);
    return x.length % 2 ? x[(x.length - 1) / 2]! : (x[x.length / 2 - 1]! + x[x.length / 2]!) / 2;
  };
  const sizes = [...by.keys()].sort((a, b) => a - b);
  const wall = sizes.map((c) => median(by.get(c)!.map((s) => s.product.wallMs)));
  const growth = sizes.map(
    (c, i) =>
      `${c}: ${sec(wall[i]!)} s (${(wall[i]! / c).toFixed(2)} ms per customer${i > 0 ? `, x${(wall[i]! / wall[i - 1]!).toFixed(2)} for x${(c / sizes[i - 1]!).toFixed(1)} customers` : ""})`,
  );
  const lines = [
    "",
    `Billing: the monthly run of ${PERIOD} through startLocalJobs(...).run("billing") (scheduler, fauxqs, SQS worker), clock at 1 November`,
    `  data per size, on fresh tables, seeded in bulk through the entities: ${describeModel(o.resellers, o.distributors)}`,
    `  raw path: BatchWriteItem of the same line items (25 a request, each invoice's in sequence, the invoices concurrently) + 1 TransactWriteItems per invoice (invoice + counter), @aws-sdk/lib-dynamodb on its own client, fresh table; which path goes first alternates`,
    `  checked: the product's lines and invoices equal the raw path's items (number and instants aside), every invoice mailed with its PDF, seeded items shaped like the product's (${r.shape.checked.length} kinds)`,
    `  warm-up: ${o.warmup > 0 ? `${o.warmup} customers, not reported (${sec(r.warmupMs)} s)` : "none"}`,
    "",
    `  ${pad("customers", 9)}${pad("first", 8)}${pad("lines", 7)}${pad("inv", 5)}${pad("wall s", 9)}${pad("inv/s", 7)}${pad("lines/s", 9)}${pad("DDB req", 9)}${pad("req/inv", 8)}${pad("raw s", 8)}${pad("raw", 6)}${pad("ratio", 7)}${pad("2nd req/wr", 12)}`,
    ...rows,
    "",
    `  growth of the run's wall time: ${growth.join("; ")}`,
  ];
  for (const s of r.sizes) {
    const p = s.product;
    lines.push(
      "",
      `  ${s.customers} customers${o.rounds > 1 ? `, round ${s.round + 1}` : ""} (${s.subscriptions} subscriptions, ${s.ledgerReads} needing a ledger read; seeded ${s.seedItems} items in ${sec(s.seedMs)} s):`,
      `    billing run: ${cpuLine(p)}`,
      `      report ${JSON.stringify(p.report)}; SQS ${Object.entries(p.sqsRequests)
        .map(([k, v]) => `${k} ${v}`)
        .join(", ")}; store.requests ${p.storeRequests}`,
      `      DynamoDB requests: ${p.requests} (${(p.requests / s.invoices).toFixed(1)} per invoice, ${(p.requests / s.customers).toFixed(2)} per customer)`,
      `      billing messages (the worker's time on each, concurrent ones included): ${p.messages
        .map((m) => `${m.outcome} ×${m.count}: longest ${sec(m.maxMs)} s, median ${sec(m.medianMs)} s`)
        .join("; ")}`,
      callHeader("      "),
      ...callLines(p.byCall, "      "),
      `    raw writes: ${cpuLine(s.raw)}`,
      ...callLines(s.raw.byCall, "      "),
      `    second run of ${PERIOD}: ${s.second.requests} requests (${Object.entries(s.second.byCall)
        .map(([k, v]) => `${k} ${v.requests}`)
        .join(", ")}), wall ${sec(s.second.wallMs)} s`,
      `      writes: ${writesOf(s.second)}  ${s.secondWrites === 0 ? "(nothing written: OK)" : "(WROTE: FAIL)"}`,
      `    one invoice outside the runs: document read ${s.pdf.documentMs.toFixed(0)} ms (${s.pdf.documentRequests} DynamoDB requests), PDF of ${s.pdf.lines} lines rendered in ${s.pdf.renderMs.toFixed(0)} ms (${Math.round(s.pdf.bytes / 1024)} KiB)`,
    );
  }
  lines.push(
    "",
    `  not seeded in bulk (created through core functions, or not needed): ${r.shape.notSeeded.join(", ")}`,
    `  whole billing benchmark ${sec(r.totalMs)} s`,
    "",
  );
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
      customers: { type: "string" },
      resellers: { type: "string" },
      distributors: { type: "string" },
      "billing-rounds": { type: "string" },
      "billing-warmup": { type: "string" },
      "party-sizes": { type: "string" },
      clients: { type: "string" },
      seconds: { type: "string" },
      "warmup-seconds": { type: "string" },
      samples: { type: "string" },
      orders: { type: "string" },
    },
    strict: true,
  });
  const benches = (values.bench ?? BENCHES.join(",")).split(",").map((b) => b.trim());
  for (const b of benches)
    if (!(BENCHES as readonly string[]).includes(b))
      throw new Error(`--bench: unknown benchmark ${b} (known: ${BENCHES.join(", ")})`);
  const runs = (b: Bench) => benches.includes(b);
  const children = intOption(values.children, defaultOptions.children, "children", 1);
  const pageSize = intOption(values.page, defaultOptions.pageSize, "page", 1);
  if (pageSize >= children) throw new Error("--page must be smaller than --children");
  const subsPage = intOption(values["subs-page"], ordersDefaults.subsPage, "subs-page", 1);
  const historyPage = intOption(values["history-page"], ordersDefaults.historyPage, "history-page", 1);
  if (subsPage > 100 || historyPage > 100)
    throw new Error("--subs-page and --history-page must be at most 100 (the API's largest page)");
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
  // "20000,2000x5": one party of 20,000 customers and five of 2,000, in one measured size.
  const partySizes = values["party-sizes"]?.split(",").flatMap((p) => {
    const [n, times] = p.trim().split("x");
    return Array.from({ length: intOption(times, 1, "party-sizes", 1) }, () => intOption(n, 0, "party-sizes", 1));
  });
  const billingOptions = {
    sizes: partySizes
      ? [partySizes.reduce((a, b) => a + b, 0)]
      : values.customers === undefined
        ? billingDefaults.sizes
        : values.customers.split(",").map((c) => intOption(c.trim(), 0, "customers", 1)),
    resellers: intOption(values.resellers, billingDefaults.resellers, "resellers", 1),
    distributors: partySizes
      ? partySizes.length
      : intOption(values.distributors, billingDefaults.distributors, "distributors", 1),
    ...(partySizes ? { partySizes } : {}),
    rounds: intOption(values["billing-rounds"], billingDefaults.rounds, "billing-rounds", 1),
    warmup: intOption(values["billing-warmup"], billingDefaults.warmup, "billing-warmup", 0),
  };
  const loadOptions = {
    clients: intOption(values.clients, loadDefaults.clients, "clients", 1),
    seconds: intOption(values.seconds, loadDefaults.seconds, "seconds", 1),
    warmupSeconds: intOption(values["warmup-seconds"], loadDefaults.warmupSeconds, "warmup-seconds", 0),
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
      process.stderr.write(
        `bench: ${name} failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
      );
      failures.push(`${name}: the benchmark failed (see above)`);
    }
  };

  if (runs("hierarchy"))
    await attempt("hierarchy page", async () => {
      const result = await runHierarchyPageBench({ ...hierarchyOptions, signal: abort.signal, log });
      const { text, failed } = report(result);
      process.stdout.write(text);
      if (failed)
        failures.push(
          `hierarchy page: ${result.dynamoRequestsPerGraphQL} DynamoDB requests for the page (at most ${TARGET_REQUESTS} allowed)`,
        );
    });
  if (runs("orders"))
    await attempt("orders", async () => {
      const result = await runOrdersBench({ ...ordersOptions, signal: abort.signal, log });
      const { text, failures: f } = reportOrders(result);
      process.stdout.write(text);
      failures.push(...f);
    });
  if (runs("billing"))
    await attempt("billing", async () => {
      const result = await runBillingBench({ ...billingOptions, signal: abort.signal, log });
      const { text, failures: f } = reportBilling(result);
      process.stdout.write(text);
      failures.push(...f);
    });
  if (runs("load"))
    await attempt("load", async () => {
      const result = await runLoadBench({ ...loadOptions, signal: abort.signal, log });
      const { text, failures: f } = reportLoad(result);
      process.stdout.write(text);
      failures.push(...f);
    });
  if (runs("cold"))
    await attempt("cold start", async () => {
      const result = await runColdStartBench({
        samples: intOption(values.samples, coldStartDefaults.samples, "samples", 1),
        log,
      });
      process.stdout.write(`${result.text}\n`);
      failures.push(...result.failures);
    });
  // The delivery ratio is reported against its goal (at most 2) but does not fail the run, like the latency ratios.
  if (runs("webhooks"))
    await attempt("webhooks", async () => {
      const result = await runWebhooksBench({
        orders: intOption(values.orders, webhooksDefaults.orders, "orders", 2),
        log,
      });
      process.stdout.write(reportWebhooks(result));
    });
  for (const f of failures) process.stderr.write(`bench: FAIL: ${f}\n`);
  return failures.length > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    const interrupted = err instanceof Error && err.message === "interrupted";
    process.stderr.write(
      `bench: ${interrupted ? "interrupted; DynamoDB Local stopped" : err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    process.exit(1);
  },
);
