import type { Context, SQSBatchResponse, SQSEvent } from "aws-lambda";
import { workLifecycle } from "../core/jobs.js";
import { processSqsBatch } from "../infra/sqs-batch.js";
import { observeRecord } from "../infra/telemetry.js";
import { jobsRuntime } from "./jobs-deps.js";

/** SQS → one lifecycle unit of work per record, with partial batch responses; a log line and metrics per record. */
export async function handler(event: SQSEvent, context?: Context): Promise<SQSBatchResponse> {
  const { deps, telemetry } = jobsRuntime();
  telemetry.beginInvocation(context ? { lambdaContext: context } : {});
  try {
    return await processSqsBatch(event, (record) =>
      observeRecord(telemetry, record, "lifecycle", () => workLifecycle(deps, record.body)),
    );
  } finally {
    telemetry.endInvocation();
  }
}
