import { SQSClient } from "@aws-sdk/client-sqs";
import { sqsConfig } from "./queue.js";

/** An SQS client, for the functions that use SQS on every invocation (workers, the local stack). */
export function createSqsClient(opts: { region: string; endpoint?: string }): SQSClient {
  return new SQSClient(sqsConfig(opts));
}
