import { INVOICE_FONTS, ISSUER_SETTINGS, PORTAL_SETTINGS, stageSettings } from "./function-defaults.js";
import { Duration } from "aws-cdk-lib";
import { RuleTargetInput } from "aws-cdk-lib/aws-events";
import { QueueEncryption } from "aws-cdk-lib/aws-sqs";
import { Cron, Function as LambdaFunction, Queue, use } from "sst/constructs";
import type { StackContext } from "sst/constructs";
import { GRANTS } from "./grants.js";
import { sendStatements, sesSendStatement, tableStatements } from "./permissions.js";
import { Data } from "./Data.js";
import { JOB_SCHEDULES } from "../infra/schedules.js";

/** Jobs run by the scheduler; each has its own queue, dead-letter queue and worker. */
export const JOBS = ["billing", "lifecycle"] as const;
export type Job = (typeof JOBS)[number];

/** EventBridge schedules (UTC): one definition, read by the local cron too. */
export { JOB_SCHEDULES };

/**
 * Billing invocations at once (SQS event source maximum concurrency; each handles a batch of up to
 * 10 records in parallel). Every issuer's invoices take the next number of one counter, so
 * finalisers contend: measured with `npx tsx bench/invoice-numbers.ts --parties 500`, 50 at once
 * cost 6.3 retries per invoice (1 of 500 redelivered), 500 at once 35 (376 of 500 redelivered).
 * Five invocations keep it near the first figure; chunks are bounded (500 accounts, 2.4 s at most in
 * `npm run bench -- --bench billing --party-sizes 20000,2000x5`), so a party of 20,000 customers
 * still bills in under a minute.
 */
export const BILLING_MAX_CONCURRENCY = 5;

/** Worker limits. A batch that outlives the timeout is retried after the visibility timeout. */
export const WORKER_TIMEOUT_SECONDS = 60;
export const SCHEDULER_TIMEOUT_SECONDS = 300;
/**
 * AWS's rule for Lambda consumers: visibility timeout >= 6 x function timeout, so a message
 * is not handed out again while Lambda is still retrying a throttled or slow batch.
 */
export const QUEUE_VISIBILITY_SECONDS = 6 * WORKER_TIMEOUT_SECONDS;
/** The mail worker sends at most ten mails per invocation. */
export const MAIL_WORKER_TIMEOUT_SECONDS = 30;
/** After this many receives a message goes to the job's dead-letter queue. */
export const MAX_RECEIVE_COUNT = 5;
/** 14 days is the SQS maximum: time to notice, fix and redrive a failed run. */
export const DLQ_RETENTION_DAYS = 14;

export function Jobs({ stack, app }: StackContext) {
  const { table } = use(Data);

  // The sender of every mail (invoices from the billing worker, the rest from the mail worker);
  // the SES grants below cover exactly this identity.
  const mailFrom = process.env.MAIL_FROM ?? "no-reply@example.com";

  // One queue and one dead-letter queue per job, so a poison billing message never blocks or
  // hides among lifecycle work and each DLQ can be inspected and redriven on its own.
  const queues = {} as Record<Job, { queue: Queue; dlq: Queue }>;
  for (const job of JOBS) {
    const dlq = new Queue(stack, `${job}Dlq`, {
      cdk: {
        queue: {
          retentionPeriod: Duration.days(DLQ_RETENTION_DAYS),
          // SQS-managed keys: encrypted at rest without KMS grants on any role.
          encryption: QueueEncryption.SQS_MANAGED,
        },
      },
    });
    const queue = new Queue(stack, job, {
      cdk: {
        queue: {
          visibilityTimeout: Duration.seconds(QUEUE_VISIBILITY_SECONDS),
          deadLetterQueue: { queue: dlq.cdk.queue, maxReceiveCount: MAX_RECEIVE_COUNT },
          encryption: QueueEncryption.SQS_MANAGED,
        },
      },
    });
    queues[job] = { queue, dlq };
  }

  const environment = {
    TABLE_NAME: table.tableName,
    STAGE: app.stage,
    MAIL_FROM: mailFrom,
    INVOICE_ISSUER_NAME: process.env.INVOICE_ISSUER_NAME ?? "Channel Partner Platform",
    ...stageSettings(ISSUER_SETTINGS),
    ...stageSettings(PORTAL_SETTINGS),
    BILLING_QUEUE_URL: queues.billing.queue.queueUrl,
    LIFECYCLE_QUEUE_URL: queues.lifecycle.queue.queueUrl,
  };

  const sesStatement = sesSendStatement(stack, mailFrom);

  const workers = {} as Record<Job, LambdaFunction>;
  for (const job of JOBS) {
    const worker = new LambdaFunction(stack, `${job}Worker`, {
      handler: `functions/${job}-worker.handler`,
      // The billing worker mails each invoice's PDF: it draws it with the invoice fonts.
      ...(job === "billing" ? { copyFiles: INVOICE_FONTS } : {}),
      timeout: WORKER_TIMEOUT_SECONDS,
      memorySize: 1024,
      environment,
    });
    const grant = GRANTS[`${job}Worker`];
    worker.attachPermissions([...tableStatements(table.tableArn, grant), ...(grant.mails ? [sesStatement] : [])]);
    // The event source grants the worker the consume actions (Receive/Delete/
    // ChangeMessageVisibility/GetQueueAttributes/GetQueueUrl) on this queue only.
    queues[job].queue.addConsumer(stack, {
      function: worker,
      cdk: {
        eventSource: {
          // Failed records are returned individually, so one bad item does not make the
          // whole batch (and its already-sent invoices or e-mails) run again.
          reportBatchItemFailures: true,
          batchSize: 10,
          // Collect a few seconds of messages per invocation instead of one each.
          maxBatchingWindow: Duration.seconds(5),
          ...(job === "billing" ? { maxConcurrency: BILLING_MAX_CONCURRENCY } : {}),
        },
      },
    });
    workers[job] = worker;
  }

  // One scheduler function, started by one rule per job; the rule's input says which job.
  const scheduler = new LambdaFunction(stack, "scheduler", {
    handler: "functions/scheduler.handler",
    timeout: SCHEDULER_TIMEOUT_SECONDS,
    memorySize: 1024,
    environment,
  });
  scheduler.attachPermissions([
    // Reads; writes to the lifecycle watermark's partition only (its one item): a fault or a flaw in the
    // scheduler cannot touch accounts, subscriptions or invoices.
    ...tableStatements(table.tableArn, GRANTS.scheduler),
    // One message per unit of work, to the two work queues.
    ...sendStatements(GRANTS.scheduler, {
      billing: queues.billing.queue.queueArn,
      lifecycle: queues.lifecycle.queue.queueArn,
    }),
  ]);
  for (const job of Object.keys(JOB_SCHEDULES) as (keyof typeof JOB_SCHEDULES)[]) {
    new Cron(stack, `${job}Schedule`, {
      schedule: JOB_SCHEDULES[job],
      job: {
        function: scheduler,
        cdk: { target: { event: RuleTargetInput.fromObject({ job }) } },
      },
    });
  }

  // The mail queue: invitation and reminder mails wait here for the mail worker, which sends them
  // through SES; a send SES refuses (throttling, an outage) is retried, then kept in the DLQ.
  const mailDlq = new Queue(stack, "mailDlq", {
    cdk: { queue: { retentionPeriod: Duration.days(DLQ_RETENTION_DAYS), encryption: QueueEncryption.SQS_MANAGED } },
  });
  const mailQueue = new Queue(stack, "mail", {
    cdk: {
      queue: {
        visibilityTimeout: Duration.seconds(6 * MAIL_WORKER_TIMEOUT_SECONDS),
        deadLetterQueue: { queue: mailDlq.cdk.queue, maxReceiveCount: MAX_RECEIVE_COUNT },
        encryption: QueueEncryption.SQS_MANAGED,
      },
    },
  });
  const mailWorker = new LambdaFunction(stack, "mailWorker", {
    handler: "functions/mail-worker.handler",
    timeout: MAIL_WORKER_TIMEOUT_SECONDS,
    memorySize: 256,
    // Only the sender: the mail worker touches neither the table nor any other queue.
    environment: { STAGE: app.stage, MAIL_FROM: mailFrom },
  });
  mailWorker.attachPermissions(GRANTS.mailWorker.mails ? [sesStatement] : []);
  mailQueue.addConsumer(stack, {
    function: mailWorker,
    cdk: { eventSource: { reportBatchItemFailures: true, batchSize: 10, maxBatchingWindow: Duration.seconds(1) } },
  });
  // A billing run goes on from message to message: each chunk enqueues the next one (and the
  // departed accounts' chunks, the finaliser, the next month of a catch-up) on the billing queue.
  workers.billing.attachPermissions(sendStatements(GRANTS.billingWorker, { billing: queues.billing.queue.queueArn }));
  // The lifecycle worker queues its reminders (plain mails) there too.
  workers.lifecycle.addEnvironment("MAIL_QUEUE_URL", mailQueue.queueUrl);
  workers.lifecycle.attachPermissions(sendStatements(GRANTS.lifecycleWorker, { mail: mailQueue.queueArn }));

  stack.addOutputs({
    MailQueueUrl: mailQueue.queueUrl,
    MailDeadLetterQueueUrl: mailDlq.queueUrl,
    BillingQueueUrl: queues.billing.queue.queueUrl,
    LifecycleQueueUrl: queues.lifecycle.queue.queueUrl,
    BillingDeadLetterQueueUrl: queues.billing.dlq.queueUrl,
    LifecycleDeadLetterQueueUrl: queues.lifecycle.dlq.queueUrl,
  });

  return { queues, workers, scheduler, mail: { queue: mailQueue, dlq: mailDlq, worker: mailWorker } };
}
