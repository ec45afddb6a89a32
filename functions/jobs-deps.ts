import type { Deps } from "../core/context.js";
import type { Queues } from "../core/jobs.js";
import { systemClock } from "../infra/clock.js";
import { loadJobsConfig } from "../infra/config.js";
import type { JobsConfig } from "../infra/config.js";
import { createDocumentClient } from "../infra/dynamo.js";
import { SesMailer } from "../infra/mail.js";
import { routedMailer } from "../infra/mail-queue.js";
import { SqsWorkQueue } from "../infra/queue.js";
import { createSqsClient } from "../infra/sqs-client.js";
import { Store } from "../infra/store.js";
import { effectFailureReporter, powertoolsTelemetry } from "../infra/telemetry.js";
import type { Telemetry } from "../infra/telemetry.js";

interface JobsRuntime {
  readonly deps: Deps;
  readonly config: JobsConfig;
  readonly queues: Queues;
  readonly telemetry: Telemetry;
}

let built: JobsRuntime | undefined;

/** Clients and configuration of the scheduled-run functions, built once per container. */
export function jobsRuntime(): JobsRuntime {
  if (built) return built;
  const config = loadJobsConfig();
  const client = createDocumentClient({
    region: config.region,
    ...(config.dynamoEndpoint ? { endpoint: config.dynamoEndpoint } : {}),
  });
  const sqs = createSqsClient({ region: config.region });
  const queue = (url: string | undefined, name: string) => {
    if (!url) return { send: () => Promise.reject(new Error(`${name} queue URL is not configured`)) };
    return new SqsWorkQueue(sqs, url);
  };
  // Plain mails (trial reminders) go through the mail queue, retried there; invoice mails carry
  // their PDF and are sent by the billing worker itself, which claims and retries them.
  const mailQueue = config.mailQueueUrl ? queue(config.mailQueueUrl, "MAIL") : undefined;
  const mailer = routedMailer(() => mailQueue, new SesMailer(config.mailFrom, config.region));
  const telemetry = powertoolsTelemetry();
  built = {
    config,
    deps: {
      store: new Store(client, config.tableName),
      clock: systemClock,
      mailer,
      portalUrl: config.portalUrl,
      effectFailed: effectFailureReporter(telemetry),
    },
    queues: {
      billing: queue(config.billingQueueUrl, "BILLING"),
      lifecycle: queue(config.lifecycleQueueUrl, "LIFECYCLE"),
    },
    telemetry,
  };
  return built;
}
