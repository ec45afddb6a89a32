import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { SingleBar, Presets } from "cli-progress";
import { startLocalStack } from "./stack.js";

/**
 * `npm run billing -- --period 2026-10`: bills one month by hand on the local data (DATA_DIR, or a
 * running DynamoDB at DYNAMO_ENDPOINT), through the same scheduler, queue and workers as the
 * monthly run, with a progress bar. A month already billed is left as it is (same invoices).
 */
async function main() {
  const { values } = parseArgs({ options: { period: { type: "string" }, "table-name": { type: "string" } } });
  if (!values.period || !/^\d{4}-(0[1-9]|1[0-2])$/.test(values.period)) throw new Error("usage: npm run billing -- --period YYYY-MM");
  const stack = await startLocalStack({
    dataDir: resolve(process.env.DATA_DIR ?? ".data"),
    ...(process.env.DYNAMO_ENDPOINT ? { dynamoEndpoint: process.env.DYNAMO_ENDPOINT } : {}),
    ...(values["table-name"] ? { tableName: values["table-name"] } : {}),
    operatorEmail: process.env.BOOTSTRAP_OPERATOR_EMAIL ?? "operator@example.com",
    cron: false,
  });
  const bar = new SingleBar({ format: "billing {period} [{bar}] {value}/{total} parties", hideCursor: true }, Presets.shades_classic);
  let started = false;
  try {
    const report = await stack.jobs.run("billing", {
      period: values.period,
      onProgress: (done, total) => {
        if (!started) {
          bar.start(total, 0, { period: values.period });
          started = true;
        }
        bar.update(done);
      },
    });
    if (started) bar.stop();
    console.log(`billed ${values.period}: ${report.scheduled} parties scheduled, ${report.processed} processed, ${report.failedAttempts} failed attempts, ${report.deadLettered} dead-lettered`);
  } finally {
    await stack.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
