import { DeleteMessageBatchCommand, ReceiveMessageCommand } from "@aws-sdk/client-sqs";
import type { SQSClient } from "@aws-sdk/client-sqs";
import type { SQSEvent, SQSRecord } from "aws-lambda";
import { startFauxqs } from "fauxqs";
import type { FauxqsServer } from "fauxqs";
import type { Deps } from "../core/context.js";
import { queueOf, schedule, work, workLifecycle } from "../core/jobs.js";
import type { BillingOptions, Job, Queues, Run } from "../core/jobs.js";
import type { Issuer } from "../infra/documents.js";
import { deliverQueuedMail } from "../infra/mail-queue.js";
import type { Mailer } from "../infra/mail.js";
import { SqsWorkQueue } from "../infra/queue.js";
import { createSqsClient } from "../infra/sqs-client.js";
import type { WorkQueue } from "../infra/queue.js";
import { processSqsBatch } from "../infra/sqs-batch.js";
import { observeRecord, silentTelemetry } from "../infra/telemetry.js";
import type { Telemetry } from "../infra/telemetry.js";
import type { QueueName } from "../stacks/grants.js";
import { asFunction, enforceSends } from "./iam.js";

/** What a run did, for `POST /dev/jobs/run` and the CLI. */
export interface RunReport {
  readonly job: Run;
  readonly scheduled: number;
  readonly processed: number;
  readonly failedAttempts: number;
  readonly deadLettered: number;
}

/** The local queues: one per scheduled job, and the mail queue. */
export type LocalQueue = Job | "mail";

/** Local SQS (fauxqs, in-process) with the same queues, redrive policy and workers as the stacks. */
export interface LocalJobs {
  readonly queues: Queues;
  /**
   * The mail queue as the GraphQL function sees it. Locally, sending also hands the message to the
   * mail worker at once (as Lambda's poller would within moments) and waits for that first attempt,
   * so the outbox is filled when the mutation answers; a failed attempt is retried in the background.
   */
  readonly mailQueue: WorkQueue;
  readonly sqs: SQSClient;
  readonly urls: Readonly<Record<LocalQueue | `${LocalQueue}-dlq`, string>>;
  /** The webhook delivery queue and its dead-letter queue (its worker is local/webhooks.ts). */
  readonly webhookUrls: { readonly queue: string; readonly dlq: string };
  /** Messages of a queue by state (fauxqs's view): ready, delayed, and in flight with their visibility deadlines. */
  inspect(name: string): { ready: number; delayed: number; inflight: readonly number[] };
  /** Schedules a run now and drains its queue through the workers; answers when the work is done. */
  run(job: Run, opts?: { period?: string; onProgress?: (done: number, total: number) => void }): Promise<RunReport>;
  /** Receives and processes messages until the queue is empty (redeliveries included). */
  drain(queue: LocalQueue, onProgress?: (done: number) => void): Promise<{ processed: number; failedAttempts: number }>;
  deadLetters(queue: LocalQueue): number;
  stop(): Promise<void>;
}

/** Same as the stacks: five receives, then the dead-letter queue. Visibility is short locally so retries are quick. */
const MAX_RECEIVE = 5;
const LOCAL_VISIBILITY_SECONDS = 1;

/** As stacks/Webhooks.ts: nine attempts at most, the rest for leases and crashes. */
const WEBHOOK_MAX_RECEIVE = 20;

/** How often the local mail worker looks for mail to retry. */
const MAIL_POLL_MS = 250;

/**
 * `deps` serve the billing and lifecycle workers; `mailer` is the mail worker's real mailer (the
 * outbox), the SES of the local stack.
 */
export async function startLocalJobs(
  deps: Deps,
  opts: {
    issuer: Issuer;
    mailer: Mailer;
    telemetry?: Telemetry;
    billingChunkSize?: number;
    mailLeaseMs?: number;
    webhookVisibilitySeconds?: number;
  },
): Promise<LocalJobs> {
  const server: FauxqsServer = await startFauxqs({ port: 0, logger: false });
  const sqs = createSqsClient({ region: "us-east-1", endpoint: server.address });
  const urls = {} as Record<LocalQueue | `${LocalQueue}-dlq`, string>;
  for (const job of ["billing", "lifecycle", "mail"] as const) {
    const dlq = server.createQueue(`${job}-dlq`);
    urls[`${job}-dlq`] = dlq.queueUrl;
    urls[job] = server.createQueue(job, {
      attributes: {
        VisibilityTimeout: String(LOCAL_VISIBILITY_SECONDS),
        RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlq.queueArn, maxReceiveCount: MAX_RECEIVE }),
      },
    }).queueUrl;
  }
  // Webhook deliveries: held by their visibility between attempts (the retry schedule), so far
  // more receives than the jobs' five before the dead-letter queue (core/webhooks.ts gives up first).
  const webhookDlq = server.createQueue("webhooks-dlq");
  const webhookUrls = {
    dlq: webhookDlq.queueUrl,
    queue: server.createQueue("webhooks", {
      attributes: {
        VisibilityTimeout: String(opts.webhookVisibilitySeconds ?? 30),
        RedrivePolicy: JSON.stringify({
          deadLetterTargetArn: webhookDlq.queueArn,
          maxReceiveCount: WEBHOOK_MAX_RECEIVE,
        }),
      },
    }).queueUrl,
  };
  // Messages are held to the sending function's grant (local/iam.ts); the local webhook queue is the stacks' delivery queue.
  const queueNames: Record<string, QueueName> = {
    [urls.billing]: "billing",
    [urls.lifecycle]: "lifecycle",
    [urls.mail]: "mail",
    [webhookUrls.queue]: "deliveries",
  };
  enforceSends(sqs, (url) => queueNames[url]);
  const queues: Queues = {
    billing: new SqsWorkQueue(sqs, urls.billing),
    lifecycle: new SqsWorkQueue(sqs, urls.lifecycle),
  };
  const billing: BillingOptions = {
    issuer: opts.issuer,
    queue: queues.billing,
    ...(opts.billingChunkSize ? { chunkSize: opts.billingChunkSize } : {}),
    ...(opts.mailLeaseMs ? { mailLeaseMs: opts.mailLeaseMs } : {}),
  };

  const pending = (job: LocalQueue) => {
    const q = server.inspectQueue(job);
    return q ? q.messages.ready.length + q.messages.delayed.length + q.messages.inflight.length : 0;
  };

  // The same units of work and the same per-record logs and metrics as the Lambda workers.
  const telemetry = opts.telemetry ?? silentTelemetry;
  const workers: Record<LocalQueue, (record: SQSRecord) => Promise<void>> = {
    // Each as the Lambda function that does it in AWS, held to its role's grant (local/iam.ts).
    billing: (record) =>
      asFunction("billingWorker", () =>
        observeRecord(telemetry, record, "billing", () => work(deps, record.body, billing)),
      ),
    lifecycle: (record) =>
      asFunction("lifecycleWorker", () =>
        observeRecord(telemetry, record, "lifecycle", () => workLifecycle(deps, record.body)),
      ),
    mail: (record) =>
      asFunction("mailWorker", () =>
        observeRecord(telemetry, record, "mail", async () => {
          await deliverQueuedMail(opts.mailer, record.body);
          return { outcome: "sent", metric: "MailsSent" };
        }),
      ),
  };

  /** The event source mapping, locally: receive a batch, hand it to the worker, delete what succeeded. */
  async function pass(job: LocalQueue): Promise<{ ids: string[]; processed: number; failed: number }> {
    const out = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: urls[job],
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 0,
        MessageSystemAttributeNames: ["ApproximateReceiveCount"],
      }),
    );
    const messages = out.Messages ?? [];
    if (messages.length === 0) return { ids: [], processed: 0, failed: 0 };
    const event: SQSEvent = { Records: messages.map((m) => toRecord(m, urls[job])) };
    const result = await processSqsBatch(event, (record) => workers[job](record));
    const failed = new Set(result.batchItemFailures.map((f) => f.itemIdentifier));
    const done = messages.filter((m) => !failed.has(m.MessageId!));
    if (done.length)
      await sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: urls[job],
          Entries: done.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })),
        }),
      );
    return { ids: messages.map((m) => m.MessageId!), processed: done.length, failed: failed.size };
  }

  async function drain(job: LocalQueue, onProgress?: (done: number) => void) {
    let processed = 0;
    let failedAttempts = 0;
    while (pending(job) > 0) {
      const r = await serial(job, () => pass(job));
      if (r.ids.length === 0) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        continue;
      }
      failedAttempts += r.failed;
      processed += r.processed;
      onProgress?.(processed);
    }
    return { processed, failedAttempts };
  }

  // One pass at a time per queue, as one poller would (a message is never handed to two passes).
  const chains: Record<LocalQueue, Promise<unknown>> = {
    billing: Promise.resolve(),
    lifecycle: Promise.resolve(),
    mail: Promise.resolve(),
  };
  function serial<T>(job: LocalQueue, f: () => Promise<T>): Promise<T> {
    const next = chains[job].then(f, f);
    chains[job] = next.catch(() => undefined);
    return next;
  }

  const mailSqs = new SqsWorkQueue(sqs, urls.mail);
  const mailQueue: WorkQueue = {
    async send(bodies) {
      const ids = new Set<string>();
      for (const body of bodies) ids.add(await mailSqs.sendOne(body));
      // The first delivery attempt of each message, now; later attempts are the poller's.
      for (let i = 0; ids.size > 0 && i < 20; i++)
        for (const id of (await serial("mail", () => pass("mail"))).ids) ids.delete(id);
    },
  };
  const mailPoller = setInterval(() => {
    if (pending("mail") > 0) void serial("mail", () => pass("mail")).catch(() => undefined);
  }, MAIL_POLL_MS);
  mailPoller.unref();

  const deadLetters = (job: LocalQueue) => {
    const q = server.inspectQueue(`${job}-dlq`);
    return q ? q.messages.ready.length + q.messages.inflight.length + q.messages.delayed.length : 0;
  };

  return {
    queues,
    mailQueue,
    sqs,
    urls,
    webhookUrls,
    inspect(name) {
      const q = server.inspectQueue(name);
      if (!q) return { ready: 0, delayed: 0, inflight: [] };
      return {
        ready: q.messages.ready.length,
        delayed: q.messages.delayed.length,
        inflight: q.messages.inflight.map((m) => m.visibilityDeadline),
      };
    },
    drain,
    deadLetters,
    async run(job, o = {}) {
      const queue = queueOf(job);
      const before = deadLetters(queue);
      const scheduled = await asFunction("scheduler", () =>
        schedule(deps, queues, job, o.period ? { period: o.period } : {}),
      );
      const { processed, failedAttempts } = await drain(queue, (done) => o.onProgress?.(done, scheduled));
      return { job, scheduled, processed, failedAttempts, deadLettered: deadLetters(queue) - before };
    },
    async stop() {
      clearInterval(mailPoller);
      await chains.mail;
      sqs.destroy();
      await server.stop();
    },
  } satisfies LocalJobs;
}

function toRecord(
  m: {
    MessageId?: string;
    ReceiptHandle?: string;
    Body?: string;
    Attributes?: Record<string, string>;
    MD5OfBody?: string;
  },
  queueUrl: string,
): SQSRecord {
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
