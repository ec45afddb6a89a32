import { ChangeMessageVisibilityCommand, DeleteMessageBatchCommand, ReceiveMessageCommand } from "@aws-sdk/client-sqs";
import type { SQSClient } from "@aws-sdk/client-sqs";
import type { SQSEvent, SQSRecord } from "aws-lambda";
import type { Deps } from "../core/context.js";
import * as Webhooks from "../core/webhooks.js";
import type { DeliveryOutcome, DeliveryRuntime } from "../core/webhooks.js";
import { processSqsBatch } from "../infra/sqs-batch.js";
import { asFunction } from "./iam.js";

/** The local stand-in for the delivery worker Lambda and its event source mapping. */
export interface LocalWebhookWorker {
  /** Resolves once every delivery due now has been attempted (messages held for a later retry excepted). */
  drain(): Promise<void>;
  /** Receives processed, and what became of them, by outcome ("delivered", "retry", "done:duplicate", ...). */
  readonly stats: { receives: number; outcomes: Record<string, number> };
  stop(): Promise<void>;
}

/** Thrown for a record to hold: the batch reports it failed, and its changed visibility brings it back. */
class HoldForRetry extends Error {
  constructor(readonly delaySeconds: number) {
    super(`retry in ${delaySeconds} s`);
    this.name = "HoldForRetry";
  }
}

/**
 * Polls the delivery queue (fauxqs) as Lambda's poller would, and runs each batch through the same
 * core function as functions/webhook-worker.ts with Powertools' partial batch responses: a record to
 * retry has its visibility changed to the schedule's wait (ChangeMessageVisibility) and is reported
 * failed, so SQS hands it out again then.
 */
export function startLocalWebhookWorker(opts: {
  deps: Deps;
  runtime: DeliveryRuntime;
  sqs: SQSClient;
  queueUrl: string;
  inspect: () => { ready: number; delayed: number; inflight: readonly number[] };
  /** Batches handled at once (default 4). */
  pollers?: number;
}): LocalWebhookWorker {
  let stopped = false;
  let busy = 0;
  const stats = { receives: 0, outcomes: {} as Record<string, number> };
  const count = (o: DeliveryOutcome) => {
    const key = o.kind === "done" ? `done:${o.why}` : o.kind;
    stats.outcomes[key] = (stats.outcomes[key] ?? 0) + 1;
  };

  /** A record of a batch whose attempt was made: count it, and hold it when it is to be retried. */
  const handle = async (record: SQSRecord, outcome: DeliveryOutcome) => {
    count(outcome);
    if (outcome.kind !== "retry") return;
    await opts.sqs.send(
      new ChangeMessageVisibilityCommand({
        QueueUrl: opts.queueUrl,
        ReceiptHandle: record.receiptHandle,
        VisibilityTimeout: outcome.delaySeconds,
      }),
    );
    throw new HoldForRetry(outcome.delaySeconds);
  };

  const pass = async (): Promise<number> => {
    busy += 1;
    try {
      const out = await opts.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: opts.queueUrl,
          MaxNumberOfMessages: 10,
          WaitTimeSeconds: 0,
          MessageSystemAttributeNames: ["ApproximateReceiveCount"],
        }),
      );
      const messages = out.Messages ?? [];
      if (messages.length === 0) return 0;
      stats.receives += messages.length;
      const event: SQSEvent = {
        Records: messages.map((m) => ({
          messageId: m.MessageId!,
          receiptHandle: m.ReceiptHandle!,
          body: m.Body ?? "",
          attributes: {
            ApproximateReceiveCount: m.Attributes?.ApproximateReceiveCount ?? "1",
            SentTimestamp: "0",
            SenderId: "local",
            ApproximateFirstReceiveTimestamp: "0",
          },
          messageAttributes: {},
          md5OfBody: m.MD5OfBody ?? "",
          eventSource: "aws:sqs",
          eventSourceARN: opts.queueUrl,
          awsRegion: "us-east-1",
        })),
      };
      // The whole batch's attempts at once (two DynamoDB round trips), then each record's outcome.
      // As the webhook worker function, held to its role's grant (local/iam.ts).
      const outcomes = await asFunction("webhookWorker", () =>
        Webhooks.deliverBatch(
          opts.deps,
          opts.runtime,
          event.Records.map((r) => ({ body: r.body, receiveCount: Number(r.attributes.ApproximateReceiveCount) || 1 })),
        ),
      );
      const byId = new Map(event.Records.map((r, i) => [r.messageId, outcomes[i]!] as const));
      const result = await processSqsBatch(event, (record) => handle(record, byId.get(record.messageId)!));
      const failed = new Set(result.batchItemFailures.map((f) => f.itemIdentifier));
      const done = messages.filter((m) => !failed.has(m.MessageId!));
      if (done.length)
        await opts.sqs.send(
          new DeleteMessageBatchCommand({
            QueueUrl: opts.queueUrl,
            Entries: done.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })),
          }),
        );
      return messages.length;
    } finally {
      busy -= 1;
    }
  };

  // Several pollers, as Lambda runs several batches of one queue at once.
  const loops = Array.from({ length: opts.pollers ?? 4 }, async () => {
    while (!stopped) {
      let got = 0;
      try {
        got = await pass();
      } catch {
        // DynamoDB Local or fauxqs busy: try again on the next tick (the messages come back by themselves).
      }
      if (got === 0) await new Promise((r) => setTimeout(r, 20));
    }
  });

  /** Due work: ready or delayed messages, a batch in hand, or a held message whose wait is over. */
  const due = () => {
    const q = opts.inspect();
    const now = Date.now();
    return q.ready > 0 || q.delayed > 0 || busy > 0 || q.inflight.some((deadline) => deadline <= now);
  };

  return {
    stats,
    async drain() {
      // Twice quiet in a row: a pass may be between its receive and its count.
      for (let quiet = 0; quiet < 2 && !stopped; ) {
        quiet = due() ? 0 : quiet + 1;
        if (quiet < 2) await new Promise((r) => setTimeout(r, 10));
      }
    },
    async stop() {
      stopped = true;
      await Promise.all(loops);
    },
  };
}
