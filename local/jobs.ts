import { DeleteMessageBatchCommand, ReceiveMessageCommand } from "@aws-sdk/client-sqs";
import type { SQSClient } from "@aws-sdk/client-sqs";
import type { SQSEvent, SQSRecord } from "aws-lambda";
import { startFauxqs } from "fauxqs";
import type { FauxqsServer } from "fauxqs";
import type { Deps } from "../core/context.js";
import { schedule, work } from "../core/jobs.js";
import type { Job, Queues } from "../core/jobs.js";
import { SqsWorkQueue, createSqsClient } from "../infra/queue.js";
import { processSqsBatch } from "../infra/sqs-batch.js";

/** What a run did, for `POST /dev/jobs/run` and the CLI. */
export interface RunReport {
  readonly job: Job;
  readonly scheduled: number;
  readonly processed: number;
  readonly failedAttempts: number;
  readonly deadLettered: number;
}

/** Local SQS (fauxqs, in-process) with the same queues, redrive policy and workers as the stacks. */
export interface LocalJobs {
  readonly queues: Queues;
  readonly sqs: SQSClient;
  readonly urls: Readonly<Record<Job | `${Job}-dlq`, string>>;
  /** Schedules a run now and drains its queue through the workers; answers when the work is done. */
  run(job: Job, opts?: { period?: string; onProgress?: (done: number, total: number) => void }): Promise<RunReport>;
  /** Receives and processes messages until the queue is empty (redeliveries included). */
  drain(job: Job, onProgress?: (done: number) => void): Promise<{ processed: number; failedAttempts: number }>;
  deadLetters(job: Job): number;
  stop(): Promise<void>;
}

/** Same as the stacks: five receives, then the dead-letter queue. Visibility is short locally so retries are quick. */
const MAX_RECEIVE = 5;
const LOCAL_VISIBILITY_SECONDS = 1;

export async function startLocalJobs(deps: Deps, opts: { issuerName: string }): Promise<LocalJobs> {
  const server: FauxqsServer = await startFauxqs({ port: 0, logger: false });
  const sqs = createSqsClient({ region: "us-east-1", endpoint: server.address });
  const urls = {} as Record<Job | `${Job}-dlq`, string>;
  for (const job of ["billing", "lifecycle"] as const) {
    const dlq = server.createQueue(`${job}-dlq`);
    urls[`${job}-dlq`] = dlq.queueUrl;
    urls[job] = server.createQueue(job, {
      attributes: {
        VisibilityTimeout: String(LOCAL_VISIBILITY_SECONDS),
        RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlq.queueArn, maxReceiveCount: MAX_RECEIVE }),
      },
    }).queueUrl;
  }
  const queues: Queues = { billing: new SqsWorkQueue(sqs, urls.billing), lifecycle: new SqsWorkQueue(sqs, urls.lifecycle) };

  const pending = (job: Job) => {
    const q = server.inspectQueue(job);
    return q ? q.messages.ready.length + q.messages.delayed.length + q.messages.inflight.length : 0;
  };

  /** The event source mapping, locally: receive a batch, hand it to the worker, delete what succeeded. */
  async function drain(job: Job, onProgress?: (done: number) => void) {
    let processed = 0;
    let failedAttempts = 0;
    while (pending(job) > 0) {
      const out = await sqs.send(new ReceiveMessageCommand({ QueueUrl: urls[job], MaxNumberOfMessages: 10, WaitTimeSeconds: 0, MessageSystemAttributeNames: ["ApproximateReceiveCount"] }));
      const messages = out.Messages ?? [];
      if (messages.length === 0) {
        await new Promise((r) => setTimeout(r, 100));
        continue;
      }
      const event: SQSEvent = { Records: messages.map((m) => toRecord(m, urls[job])) };
      const result = await processSqsBatch(event, (record) => work(deps, record.body, opts.issuerName));
      const failed = new Set(result.batchItemFailures.map((f) => f.itemIdentifier));
      failedAttempts += failed.size;
      const done = messages.filter((m) => !failed.has(m.MessageId!));
      if (done.length) await sqs.send(new DeleteMessageBatchCommand({ QueueUrl: urls[job], Entries: done.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })) }));
      processed += done.length;
      onProgress?.(processed);
    }
    return { processed, failedAttempts };
  }

  const deadLetters = (job: Job) => {
    const q = server.inspectQueue(`${job}-dlq`);
    return q ? q.messages.ready.length + q.messages.inflight.length + q.messages.delayed.length : 0;
  };

  return {
    queues,
    sqs,
    urls,
    drain,
    deadLetters,
    async run(job, o = {}) {
      const before = deadLetters(job);
      const scheduled = await schedule(deps, queues, job, o.period ? { period: o.period } : {});
      const { processed, failedAttempts } = await drain(job, (done) => o.onProgress?.(done, scheduled));
      return { job, scheduled, processed, failedAttempts, deadLettered: deadLetters(job) - before };
    },
    async stop() {
      sqs.destroy();
      await server.stop();
    },
  } satisfies LocalJobs;
}

function toRecord(m: { MessageId?: string; ReceiptHandle?: string; Body?: string; Attributes?: Record<string, string>; MD5OfBody?: string }, queueUrl: string): SQSRecord {
  return {
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
    eventSourceARN: queueUrl,
    awsRegion: "us-east-1",
  };
}
