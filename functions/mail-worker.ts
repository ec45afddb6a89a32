import type { Context, SQSBatchResponse, SQSEvent } from "aws-lambda";
import { loadMailConfig } from "../infra/config.js";
import { deliverQueuedMail } from "../infra/mail-queue.js";
import { SesMailer } from "../infra/mail.js";
import { processSqsBatch } from "../infra/sqs-batch.js";
import { observeRecord, powertoolsTelemetry } from "../infra/telemetry.js";
import type { Telemetry } from "../infra/telemetry.js";

let runtime: { mailer: SesMailer; telemetry: Telemetry } | undefined;

/**
 * SQS → SES, one mail per record, with partial batch responses: a send SES refuses (throttling,
 * an outage) comes back after the visibility timeout, and after five receives waits in the mail
 * dead-letter queue. Only MAIL_FROM and the region are needed. Logs never name the recipient.
 */
export async function handler(event: SQSEvent, context?: Context): Promise<SQSBatchResponse> {
  if (!runtime) {
    const config = loadMailConfig();
    runtime = { mailer: new SesMailer(config.mailFrom, config.region), telemetry: powertoolsTelemetry() };
  }
  const { mailer, telemetry } = runtime;
  telemetry.beginInvocation(context ? { lambdaContext: context } : {});
  try {
    return await processSqsBatch(event, (record) =>
      observeRecord(telemetry, record, "mail", async () => {
        try {
          await deliverQueuedMail(mailer, record.body);
        } catch (err) {
          telemetry.count("MailsFailed");
          throw err;
        }
        return { outcome: "sent", metric: "MailsSent" };
      }),
    );
  } finally {
    telemetry.endInvocation();
  }
}
