import type { SQSBatchResponse, SQSEvent } from "aws-lambda";
import { work } from "../core/jobs.js";
import { processSqsBatch } from "../infra/sqs-batch.js";
import { jobsRuntime } from "./jobs-deps.js";

/** SQS → one billing unit of work per record, with partial batch responses. */
export async function handler(event: SQSEvent): Promise<SQSBatchResponse> {
  const { deps, config } = jobsRuntime();
  return processSqsBatch(event, (record) => work(deps, record.body, config.invoiceIssuerName));
}
