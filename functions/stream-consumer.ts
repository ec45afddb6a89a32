import type { Context, DynamoDBBatchResponse, DynamoDBStreamEvent } from "aws-lambda";
import * as Events from "../core/events.js";
import type { Deps } from "../core/context.js";
import { toChangeRecord } from "../infra/change-stream.js";
import type { ChangeRecord, RawStreamRecord } from "../infra/change-stream.js";
import { systemClock } from "../infra/clock.js";
import { loadJobsConfig } from "../infra/config.js";
import { createDocumentClient } from "../infra/dynamo.js";
import { IntegrationStore } from "../infra/integrations.js";
import { SqsWorkQueue } from "../infra/queue.js";
import { createSqsClient } from "../infra/sqs-client.js";
import { Store } from "../infra/store.js";
import { effectFailureReporter, framesOf, powertoolsTelemetry } from "../infra/telemetry.js";
import * as Webhooks from "../core/webhooks.js";

let deps: Deps | undefined;
const telemetry = powertoolsTelemetry();

/** The consumer needs the table and the delivery queue (no key: it signs nothing and sends no mail). */
function build(): Deps {
  const config = loadJobsConfig();
  const client = createDocumentClient({
    region: config.region,
    ...(config.dynamoEndpoint ? { endpoint: config.dynamoEndpoint } : {}),
  });
  return {
    store: new Store(client, config.tableName),
    clock: systemClock,
    mailer: { send: () => Promise.reject(new Error("the stream consumer sends no mail")) },
    portalUrl: config.portalUrl,
    integrations: {
      store: new IntegrationStore(client, config.tableName),
      keys: () => Promise.resolve(undefined),
      ...(config.deliveryQueueUrl
        ? { deliveries: new SqsWorkQueue(createSqsClient({ region: config.region }), config.deliveryQueueUrl) }
        : {}),
    },
    effectFailed: effectFailureReporter(telemetry),
  };
}

/**
 * DynamoDB Streams → events and webhook deliveries. The whole batch is handled at once
 * (idempotent writes), then its events are fanned out to the delivery queue; on a failure the batch
 * is reported failed from its first record, so Lambda retries it (bisecting) and a replay writes the
 * same event ids again, never new ones (and the worker drops the delivery messages queued twice).
 * A failure is logged by its error's name and frames only: records and messages may carry keys and
 * names.
 */
export async function handler(event: DynamoDBStreamEvent, context?: Context): Promise<DynamoDBBatchResponse> {
  const started = performance.now();
  telemetry.beginInvocation(context ? { lambdaContext: context } : {});
  try {
    deps ??= build();
    const records = event.Records.map((r) => toChangeRecord(r as RawStreamRecord)).filter(
      (r): r is ChangeRecord => r !== undefined,
    );
    const { events } = await Events.consume(deps, records);
    await Webhooks.fanOut(deps, events);
    telemetry.count("JobsProcessed");
    telemetry.info("stream batch processed", {
      records: event.Records.length,
      events: events.length,
      durationMs: Math.round(performance.now() - started),
    });
    return { batchItemFailures: [] };
  } catch (err) {
    const first = event.Records[0]?.dynamodb?.SequenceNumber;
    telemetry.count("JobsFailed");
    telemetry.error("stream batch failed", {
      records: event.Records.length,
      firstSequenceNumber: first,
      errorName: err instanceof Error ? err.name : typeof err,
      frames: framesOf(err),
    });
    return { batchItemFailures: first ? [{ itemIdentifier: first }] : [] };
  } finally {
    telemetry.endInvocation();
  }
}
