import { ChangeMessageVisibilityCommand } from "@aws-sdk/client-sqs";
import type { SQSClient } from "@aws-sdk/client-sqs";
import type { Context, SQSBatchResponse, SQSEvent } from "aws-lambda";
import type { Deps } from "../core/context.js";
import * as Webhooks from "../core/webhooks.js";
import { systemClock } from "../infra/clock.js";
import { loadJobsConfig } from "../infra/config.js";
import { createDocumentClient } from "../infra/dynamo.js";
import { IntegrationStore } from "../infra/integrations.js";
import { QueuedMailer } from "../infra/mail-queue.js";
import { SqsWorkQueue } from "../infra/queue.js";
import { createSqsClient } from "../infra/sqs-client.js";
import { processSqsBatch } from "../infra/sqs-batch.js";
import { PRODUCTION_POLICY } from "../infra/ssrf.js";
import { Store } from "../infra/store.js";
import { effectFailureReporter, observeRecord, powertoolsTelemetry } from "../infra/telemetry.js";
import type { Telemetry } from "../infra/telemetry.js";
import { createWebhookSender } from "../infra/webhook-http.js";
import { apiKeysLoader } from "./secret-keys.js";

interface WorkerRuntime {
  readonly deps: Deps;
  readonly runtime: Webhooks.DeliveryRuntime;
  readonly sqs: SQSClient;
  readonly queueUrl: string;
  readonly telemetry: Telemetry;
}

let built: WorkerRuntime | undefined;

function build(): WorkerRuntime {
  const config = loadJobsConfig();
  if (!config.deliveryQueueUrl) throw new Error("Invalid configuration: DELIVERY_QUEUE_URL");
  if (!config.mailQueueUrl) throw new Error("Invalid configuration: MAIL_QUEUE_URL");
  const client = createDocumentClient({
    region: config.region,
    ...(config.dynamoEndpoint ? { endpoint: config.dynamoEndpoint } : {}),
  });
  const sqs = createSqsClient({ region: config.region });
  const telemetry = powertoolsTelemetry();
  return {
    deps: {
      store: new Store(client, config.tableName),
      clock: systemClock,
      // Owners of a disabled endpoint are told through the mail queue (retried there).
      mailer: new QueuedMailer(new SqsWorkQueue(sqs, config.mailQueueUrl)),
      portalUrl: config.portalUrl,
      integrations: {
        store: new IntegrationStore(client, config.tableName),
        keys: apiKeysLoader(),
        network: PRODUCTION_POLICY,
      },
      effectFailed: effectFailureReporter(telemetry),
    },
    runtime: {
      // Deployed: https only, public addresses only, checked at each connection.
      sender: createWebhookSender(PRODUCTION_POLICY),
      timeoutMs: Webhooks.DELIVERY_TIMEOUT_MS,
      schedule: Webhooks.RETRY_SCHEDULE_SECONDS,
      signingClock: systemClock,
    },
    sqs,
    queueUrl: config.deliveryQueueUrl,
    telemetry,
  };
}

/** A record to hold: reported failed, it comes back when its changed visibility runs out. */
class HoldForRetry extends Error {
  constructor(readonly delaySeconds: number) {
    super(`retry in ${delaySeconds} s`);
    this.name = "HoldForRetry";
  }
}

/**
 * SQS → one webhook delivery attempt per record, with partial batch responses. A record to retry has
 * its visibility set to the schedule's wait (ChangeMessageVisibility, at most 12 h) and is reported
 * failed, so SQS hands it out again then: the retry schedule needs no timer of ours. The attempt
 * number is the message's ApproximateReceiveCount.
 */
export async function handler(event: SQSEvent, context?: Context): Promise<SQSBatchResponse> {
  built ??= build();
  const { deps, runtime, sqs, queueUrl, telemetry } = built;
  telemetry.beginInvocation(context ? { lambdaContext: context } : {});
  try {
    // The whole batch's attempts at once (two DynamoDB round trips); a failure there fails every record.
    const outcomes = await Webhooks.deliverBatch(
      deps,
      runtime,
      event.Records.map((r) => ({ body: r.body, receiveCount: Number(r.attributes.ApproximateReceiveCount) || 1 })),
    );
    const byId = new Map(event.Records.map((r, i) => [r.messageId, outcomes[i]!] as const));
    return await processSqsBatch(event, (record) =>
      observeRecord(telemetry, record, "webhook", async () => {
        const outcome = byId.get(record.messageId)!;
        if (outcome.kind === "retry") {
          await sqs.send(
            new ChangeMessageVisibilityCommand({
              QueueUrl: queueUrl,
              ReceiptHandle: record.receiptHandle,
              VisibilityTimeout: outcome.delaySeconds,
            }),
          );
          throw new HoldForRetry(outcome.delaySeconds);
        }
        return { outcome: outcome.kind === "done" ? outcome.why : outcome.kind };
      }),
    );
  } finally {
    telemetry.endInvocation();
  }
}
