import { resolve } from "node:path";
import { powertoolsTelemetry } from "../infra/telemetry.js";
import { startLocalStack } from "./stack.js";

/** `npm start`: the whole product on this machine, no cloud account. */
async function main() {
  const started = Date.now();
  const inMemory = process.argv.includes("--in-memory");
  const dataDir = resolve(process.env.DATA_DIR ?? ".data");
  const port = Number(process.env.PORT ?? 4000);
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    throw new Error(`PORT must be a port number from 1 to 65535, e.g. PORT=4001 npm start`);
  const host = process.env.HOST?.trim() || "127.0.0.1";
  const requestBudget = process.env.REQUEST_BUDGET ? Number(process.env.REQUEST_BUDGET) : undefined;
  if (requestBudget !== undefined && (!Number.isInteger(requestBudget) || requestBudget < 10))
    throw new Error("REQUEST_BUDGET must be a whole number of DynamoDB requests, at least 10");
  const stack = await startLocalStack({
    port,
    host,
    inMemory,
    dataDir,
    operatorEmail: process.env.BOOTSTRAP_OPERATOR_EMAIL ?? "operator@example.com",
    ...(requestBudget ? { requestBudget } : {}),
    // The Lambda functions' JSON log lines, one per operation and per job record (--quiet: none).
    // Metrics (EMF) are for CloudWatch only.
    ...(process.argv.includes("--quiet") ? {} : { telemetry: powertoolsTelemetry({ metrics: false }) }),
  });
  console.log(
    `Channel Partner API: ${stack.graphqlUrl} (GraphiQL in a browser)${host === "127.0.0.1" ? "" : `, listening on ${host}`}`,
  );
  console.log(`  data: ${inMemory ? "in memory (--in-memory)" : dataDir}`);
  console.log(`  token: curl -s -X POST ${stack.url}/dev/token -d '{"email":"operator@example.com"}'`);
  console.log(`ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await stack.stop();
    process.exit(0);
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
