import type { Context, SQSBatchResponse, SQSEvent } from "aws-lambda";
import { work } from "../core/jobs.js";
import { processSqsBatch } from "../infra/sqs-batch.js";
import { observeRecord } from "../infra/telemetry.js";
import { jobsRuntime } from "./jobs-deps.js";

/** SQS → one billing unit of work per record, with partial batch responses; a log line and metrics per record. */
export async function handler(event: SQSEvent, context?: Context): Promise<SQSBatchResponse> {
  const { deps, config, queues, telemetry } = jobsRuntime();
  const opts = {
    issuer: config.invoiceIssuer,
    queue: queues.billing,
    ...(config.billingChunkSize ? { chunkSize: config.billingChunkSize } : {}),
  };
  telemetry.beginInvocation(context ? { lambdaContext: context } : {});
  try {
    return await processSqsBatch(event, (record) =>
      observeRecord(telemetry, record, "billing", () => work(deps, record.body, opts)),
    );
  } finally {
    telemetry.endInvocation();
  }
}
