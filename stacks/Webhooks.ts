import { Duration } from "aws-cdk-lib";
import { StartingPosition } from "aws-cdk-lib/aws-lambda";
import { SqsDlq } from "aws-cdk-lib/aws-lambda-event-sources";
import { QueueEncryption } from "aws-cdk-lib/aws-sqs";
import { Config, Function as LambdaFunction, Queue, use } from "sst/constructs";
import type { StackContext } from "sst/constructs";
import { Data } from "./Data.js";
import { PORTAL_SETTINGS, stageSettings } from "./function-defaults.js";
import { DLQ_RETENTION_DAYS, Jobs } from "./Jobs.js";
import { GRANTS } from "./grants.js";
import { sendStatements, tableStatements } from "./permissions.js";

/** The stream consumer's limit: one batch of 100 records, its events and its fan-out. */
export const STREAM_CONSUMER_TIMEOUT_SECONDS = 60;
/** A batch of ten deliveries runs in parallel, each at most 10 s (core/webhooks.ts DELIVERY_TIMEOUT_MS), plus the table. */
export const WEBHOOK_WORKER_TIMEOUT_SECONDS = 30;
/**
 * Nine attempts on the retry schedule (the worker gives up after them), the rest for lease
 * conflicts and crashes: a message that still fails is a poison for the dead-letter queue.
 */
export const DELIVERY_MAX_RECEIVE_COUNT = 20;
/** The schedule spans about 28 hours; a message is kept 4 days, beyond any wait it holds. */
export const DELIVERY_RETENTION_DAYS = 4;

/**
 * Events and webhooks: the table's change stream consumer (events, fan-out), the webhook
 * delivery queue with its dead-letter queue, and the delivery worker. The API key (opens the sealed
 * endpoint secrets) is the SST secret API_SIGNING_KEY, declared here and bound by the Api stack too.
 */
export function Webhooks({ stack, app }: StackContext) {
  const { table } = use(Data);
  const { mail } = use(Jobs);

  const dlq = new Queue(stack, "deliveryDlq", {
    cdk: { queue: { retentionPeriod: Duration.days(DLQ_RETENTION_DAYS), encryption: QueueEncryption.SQS_MANAGED } },
  });
  const queue = new Queue(stack, "delivery", {
    cdk: {
      queue: {
        // AWS's rule for Lambda consumers (6 × the function's timeout); held retries set their own.
        visibilityTimeout: Duration.seconds(6 * WEBHOOK_WORKER_TIMEOUT_SECONDS),
        retentionPeriod: Duration.days(DELIVERY_RETENTION_DAYS),
        deadLetterQueue: { queue: dlq.cdk.queue, maxReceiveCount: DELIVERY_MAX_RECEIVE_COUNT },
        encryption: QueueEncryption.SQS_MANAGED,
      },
    },
  });

  // Where Lambda records a stream batch it gave up on (its shard and sequence numbers: the records
  // stay readable from the stream for 24 hours), instead of skipping it without a trace.
  const streamFailures = new Queue(stack, "streamFailures", {
    cdk: { queue: { retentionPeriod: Duration.days(DLQ_RETENTION_DAYS), encryption: QueueEncryption.SQS_MANAGED } },
  });

  // The stream consumer: derives thin events from audit, ledger, invoice, usage and reminder items,
  // and queues a delivery per matching endpoint. Failed batches are retried (bisected) from their
  // first record; the writes are idempotent and the worker drops deliveries queued twice.
  table.addConsumers(stack, {
    events: {
      function: {
        handler: "functions/stream-consumer.handler",
        timeout: STREAM_CONSUMER_TIMEOUT_SECONDS,
        memorySize: 512,
        environment: { TABLE_NAME: table.tableName, STAGE: app.stage, DELIVERY_QUEUE_URL: queue.queueUrl },
      },
      cdk: {
        eventSource: {
          startingPosition: StartingPosition.TRIM_HORIZON,
          batchSize: 100,
          maxBatchingWindow: Duration.seconds(1),
          bisectBatchOnError: true,
          retryAttempts: 10,
          reportBatchItemFailures: true,
          onFailure: new SqsDlq(streamFailures.cdk.queue),
        },
      },
    },
  });
  // Reads accounts, people, clients and endpoints; writes events; queues deliveries: nothing else.
  table.attachPermissionsToConsumer("events", [
    ...tableStatements(table.tableArn, GRANTS.streamConsumer),
    ...sendStatements(GRANTS.streamConsumer, { deliveries: queue.queueArn }),
  ]);

  const signingKey = new Config.Secret(stack, "API_SIGNING_KEY");
  const worker = new LambdaFunction(stack, "webhookWorker", {
    handler: "functions/webhook-worker.handler",
    timeout: WEBHOOK_WORKER_TIMEOUT_SECONDS,
    memorySize: 512,
    environment: {
      TABLE_NAME: table.tableName,
      STAGE: app.stage,
      DELIVERY_QUEUE_URL: queue.queueUrl,
      MAIL_QUEUE_URL: mail.queue.queueUrl,
      ...stageSettings(PORTAL_SETTINGS),
    },
  });
  worker.bind([signingKey]);
  worker.attachPermissions([
    ...tableStatements(table.tableArn, GRANTS.webhookWorker),
    // Owners of a disabled endpoint are mailed through the mail queue.
    ...sendStatements(GRANTS.webhookWorker, { mail: mail.queue.queueArn }),
  ]);
  // The event source grants Receive/Delete/ChangeMessageVisibility on this queue only (the retry schedule holds messages by their visibility).
  queue.addConsumer(stack, {
    function: worker,
    cdk: { eventSource: { reportBatchItemFailures: true, batchSize: 10, maxBatchingWindow: Duration.seconds(0) } },
  });

  stack.addOutputs({
    DeliveryQueueUrl: queue.queueUrl,
    DeliveryDeadLetterQueueUrl: dlq.queueUrl,
    StreamFailuresQueueUrl: streamFailures.queueUrl,
  });

  return { queue, dlq, streamFailures, worker, signingKey, consumer: table.getFunction("events")! };
}
