import { BatchProcessor, EventType, processPartialResponse } from "@aws-lambda-powertools/batch";
import type { SQSBatchResponse, SQSEvent, SQSRecord } from "aws-lambda";

/**
 * Runs an SQS batch with Powertools' partial batch responses: each record is processed on its
 * own; the ones that throw are reported in `batchItemFailures` and come back (then go to the
 * dead-letter queue after maxReceiveCount), the others are deleted. One poison message never
 * fails its batch.
 */
export async function processSqsBatch(
  event: SQSEvent,
  handle: (record: SQSRecord) => Promise<unknown>,
): Promise<SQSBatchResponse> {
  const processor = new BatchProcessor(EventType.SQS);
  // A batch that fails whole is reported record by record (same effect for Lambda, and the local
  // poller needs no special case).
  return processPartialResponse(event, handle, processor, { throwOnFullBatchFailure: false });
}
