import { CreateTableCommand, DescribeTableCommand, DynamoDBClient, ResourceNotFoundException } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { tableSchema } from "./table-schema.js";

export interface DynamoOptions {
  readonly region: string;
  readonly endpoint?: string;
}

/** One document client per process: created at cold start, reused by every request. */
export function createDocumentClient(opts: DynamoOptions): DynamoDBDocumentClient {
  const client = new DynamoDBClient({
    region: opts.region,
    ...(opts.endpoint
      ? { endpoint: opts.endpoint, credentials: { accessKeyId: "local", secretAccessKey: "local" } }
      : {}),
    maxAttempts: 4,
  });
  return DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
}

/**
 * Creates the table with the shape of `tableSchema` if it does not exist (local stack and tests;
 * in AWS the SST data stack owns it).
 */
export async function ensureTable(client: DynamoDBDocumentClient, tableName: string): Promise<void> {
  try {
    await client.send(new DescribeTableCommand({ TableName: tableName }));
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
    }),
  );
}
