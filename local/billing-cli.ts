import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { runningStack } from "./stack-file.js";

const USAGE = "usage: npm run billing -- --period YYYY-MM [--url http://localhost:4000] [--table-name NAME]";

interface Report {
  readonly scheduled: number;
  readonly processed: number;
  readonly failedAttempts: number;
  readonly deadLettered: number;
}

const summary = (period: string, r: Report) =>
  `billed ${period}: ${r.scheduled} parties scheduled, ${r.processed} processed, ${r.failedAttempts} failed attempts, ${r.deadLettered} dead-lettered`;

/** Bills through a running stack (POST /dev/jobs/run): its clock, its data, its queue and workers. */
async function throughStack(url: string, period: string): Promise<void> {
  console.log(`billing ${period} through the running local stack at ${url} (its clock and data)`);
  const res = await fetch(`${url}/dev/jobs/run`, { method: "POST", body: JSON.stringify({ job: "billing", period }) });
  const body = (await res.json()) as Report & { error?: string };
  if (!res.ok) throw new Error(`the stack refused the run (${res.status}): ${body.error ?? "no reason given"}`);
  console.log(summary(period, body));
}

/** No stack runs: starts one on DATA_DIR (or on DYNAMO_ENDPOINT's DynamoDB), without HTTP clients, and bills with a progress bar. */
async function ownStack(period: string, tableName: string | undefined): Promise<void> {
  const [{ startLocalStack }, { SingleBar, Presets }] = await Promise.all([
    import("./stack.js"),
    import("cli-progress"),
  ]);
  const dynamoEndpoint = process.env.DYNAMO_ENDPOINT;
  const stack = await startLocalStack({
    // With DYNAMO_ENDPOINT the data is that DynamoDB's; nothing is kept in DATA_DIR then.
    ...(dynamoEndpoint ? { dynamoEndpoint, inMemory: true } : { dataDir: resolve(process.env.DATA_DIR ?? ".data") }),
    ...(tableName ? { tableName } : {}),
    operatorEmail: process.env.BOOTSTRAP_OPERATOR_EMAIL ?? "operator@example.com",
    cron: false,
  });
  const bar = new SingleBar(
    { format: "billing {period} [{bar}] {value}/{total} parties", hideCursor: true },
    Presets.shades_classic,
  );
  let started = false;
  try {
    const report = await stack.jobs.run("billing", {
      period,
      onProgress: (done, total) => {
        if (!started) {
          bar.start(total, 0, { period });
          started = true;
        }
        bar.update(done);
      },
    });
    if (started) bar.stop();
    console.log(summary(period, report));
  } finally {
    await stack.stop();
  }
}

/**
 * `npm run billing -- --period 2026-10`: bills one month by hand, through the same scheduler, queue
 * and workers as the monthly run. A month already billed is left as it is (same invoices).
 * - A stack runs on DATA_DIR (`npm start`, found by DATA_DIR/local-stack.json), or `--url` names one:
 *   the run goes through it (`POST /dev/jobs/run`), with its clock and data; it starts at once.
 * - Otherwise a stack is started here on DATA_DIR (default .data), or on the DynamoDB at
 *   DYNAMO_ENDPOINT (table `--table-name`, default channel-partner), by the system clock.
 * A DATA_DIR held by a stack that does not answer is refused: two processes must not share its files.
 */
async function main() {
  const { values } = parseArgs({
    options: { period: { type: "string" }, "table-name": { type: "string" }, url: { type: "string" } },
  });
  const period = values.period;
  if (!period || !/^\d{4}-(0[1-9]|1[0-2])$/.test(period)) throw new Error(USAGE);
  const url =
    values.url?.replace(/\/+$/, "") ??
    (process.env.DYNAMO_ENDPOINT ? undefined : await runningStack(resolve(process.env.DATA_DIR ?? ".data")));
  if (url) return throughStack(url, period);
  return ownStack(period, values["table-name"]);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
