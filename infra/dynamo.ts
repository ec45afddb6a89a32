import {
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  type DynamoDBClientConfig,
  ResourceNotFoundException,
  UpdateTableCommand,
} from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import type { NodeHttpHandler } from "@smithy/node-http-handler";
import { ConfiguredRetryStrategy } from "@smithy/util-retry";
import { tableSchema } from "./table-schema.js";

export interface DynamoOptions {
  readonly region: string;
  readonly endpoint?: string;
  /** The SDK's HTTP handler (tests put a fault-injecting one in front of the real one). */
  readonly requestHandler?: Pick<NodeHttpHandler, "handle">;
}

/**
 * Retries of throttled and failed DynamoDB requests, chosen rather than inherited: the SDK's own
 * default waits up to 1 s, 2 s, 4 s for throttling (7 s worst case), most of the GraphQL function's
 * 10 s. Ours is full-jitter exponential backoff from 50 ms (the base AWS's SDKs have long used for
 * DynamoDB), capped at 1 s: retry n waits random(0, min(1000, 50 · 2^n)) ms.
 */
export const DYNAMO_RETRY = { maxAttempts: 4, baseMs: 50, capMs: 1000 } as const;

/** The longest the retries of one request can wait in total (backoff only). */
export const DYNAMO_WORST_BACKOFF_MS = Array.from({ length: DYNAMO_RETRY.maxAttempts - 1 }, (_, i) =>
  Math.min(DYNAMO_RETRY.capMs, DYNAMO_RETRY.baseMs * 2 ** (i + 1)),
).reduce((a, b) => a + b, 0);

const backoff = (attempt: number) =>
  Math.floor(Math.random() * Math.min(DYNAMO_RETRY.capMs, DYNAMO_RETRY.baseMs * 2 ** attempt));

/**
 * The SDK's logger: silent, as its default NoOpLogger, but without `info`. The SDK's logger middleware
 * calls `logger?.info?.({ input: filter(input), output: filter(output) })` after every request: with a
 * no-op `info` it still builds both filtered copies, walking every item of the response
 * (@smithy/core `schemaLogFilter`: about 1.2 ms of CPU per subscriptions page of 23 requests);
 * without `info` the call, arguments included, is skipped (the SDK calls `info` only that way:
 * checked in @aws-sdk/* and @smithy/* 3.11xx). The other methods stay no-ops, as NoOpLogger's.
 */
const SILENT_SDK_LOGGER = { debug() {}, warn() {}, error() {} } as unknown as NonNullable<
  DynamoDBClientConfig["logger"]
>;

/** One document client per process: created at cold start, reused by every request. */
export function createDocumentClient(opts: DynamoOptions): DynamoDBDocumentClient {
  const client = new DynamoDBClient({
    region: opts.region,
    ...(opts.endpoint
      ? { endpoint: opts.endpoint, credentials: { accessKeyId: "local", secretAccessKey: "local" } }
      : {}),
    // `retry` is the number of the retry about to be made (1, 2, 3).
    retryStrategy: new ConfiguredRetryStrategy(DYNAMO_RETRY.maxAttempts, (retry) => backoff(retry)),
    logger: SILENT_SDK_LOGGER,
    ...(opts.requestHandler ? { requestHandler: opts.requestHandler } : {}),
  });
  return DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
}

/**
 * Creates the table with the shape of `tableSchema` if it does not exist (local stack and tests;
 * in AWS the SST data stack owns it).
 */
export async function ensureTable(client: DynamoDBDocumentClient, tableName: string): Promise<void> {
  try {
    const existing = await client.send(new DescribeTableCommand({ TableName: tableName }));
    // Tables made before the change stream existed get it now.
    if (!existing.Table?.StreamSpecification?.StreamEnabled) {
      await client.send(
        new UpdateTableCommand({
          TableName: tableName,
          StreamSpecification: { StreamEnabled: true, StreamViewType: "NEW_AND_OLD_IMAGES" },
        }),
      );
    }
    return;
  } catch (err) {
    if (!(err instanceof ResourceNotFoundException)) throw err;
  }
  const gsis = Object.entries(tableSchema.globalIndexes);
  const attributes = new Set<string>([tableSchema.partitionKey, tableSchema.sortKey]);
  for (const [, k] of gsis) {
    attributes.add(k.partitionKey);
    attributes.add(k.sortKey);
  }
  await client.send(
    new CreateTableCommand({
      TableName: tableName,
      BillingMode: "PAY_PER_REQUEST",
      AttributeDefinitions: [...attributes].map((name) => ({ AttributeName: name, AttributeType: "S" })),
      KeySchema: [
        { AttributeName: tableSchema.partitionKey, KeyType: "HASH" },
        { AttributeName: tableSchema.sortKey, KeyType: "RANGE" },
      ],
      GlobalSecondaryIndexes: gsis.map(([name, k]) => ({
        IndexName: name,
        KeySchema: [
          { AttributeName: k.partitionKey, KeyType: "HASH" },
          { AttributeName: k.sortKey, KeyType: "RANGE" },
        ],
        Projection: { ProjectionType: "ALL" },
      })),
      // The change stream events are derived from, as in the Data stack.
      StreamSpecification: { StreamEnabled: true, StreamViewType: "NEW_AND_OLD_IMAGES" },
    }),
  );
}

/** DynamoDB's throttling errors: the SDK retried them (DYNAMO_RETRY) and they persisted. */
const THROTTLING = new Set(["ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded"]);

/**
 * DynamoDB throttling that outlasted the SDK's retries, as the store reports it: the service is
 * busy and the caller may retry in a moment. The store's adapter raises it; callers never look
 * at DynamoDB's own error names.
 */
export class Throttled extends Error {
  /** What a caller is told to wait before retrying. */
  readonly retryAfterSeconds = 1;
  constructor(options?: ErrorOptions) {
    super("DynamoDB kept throttling the request", options);
    this.name = "Throttled";
  }

  /** The Throttled error in `err`'s cause chain (libraries such as ElectroDB wrap what the client throws). */
  static in(err: unknown): Throttled | undefined {
    for (let e: unknown = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
      if (e instanceof Throttled) return e;
    }
    return undefined;
  }
}

/** Whether `err` (or its cause) is DynamoDB throttling that outlasted the retries. */
export function isThrottled(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    if (THROTTLING.has(e.name)) return true;
    // A transaction throttled item by item is cancelled with "ThrottlingError" reasons.
    const reasons = (e as { CancellationReasons?: ReadonlyArray<{ Code?: string }> }).CancellationReasons;
    if (e.name === "TransactionCanceledException" && reasons?.some((r) => r.Code === "ThrottlingError")) return true;
  }
  return false;
}
