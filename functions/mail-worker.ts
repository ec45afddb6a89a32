import type { SQSBatchResponse, SQSEvent } from "aws-lambda";
import { loadMailConfig } from "../infra/config.js";
import { deliverQueuedMail } from "../infra/mail-queue.js";
import { SesMailer } from "../infra/mail.js";
import { processSqsBatch } from "../infra/sqs-batch.js";

let mailer: SesMailer | undefined;

/**
 * SQS → SES, one mail per record, with partial batch responses: a send SES refuses (throttling,
 * an outage) comes back after the visibility timeout, and after five receives waits in the mail
 * dead-letter queue. Only MAIL_FROM and the region are needed.
 */
export async function handler(event: SQSEvent): Promise<SQSBatchResponse> {
  if (!mailer) {
    const config = loadMailConfig();
    mailer = new SesMailer(config.mailFrom, config.region);
  }
  const m = mailer;
  return processSqsBatch(event, (record) => deliverQueuedMail(m, record.body));
}
