import { DeleteTableCommand, DescribeTableCommand, ScanCommand } from "@aws-sdk/client-dynamodb";
import type { AttributeValue } from "@aws-sdk/client-dynamodb";
import {
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
} from "@aws-sdk/client-dynamodb-streams";
import type { _Record } from "@aws-sdk/client-dynamodb-streams";
import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import * as Events from "../core/events.js";
import { toChangeRecord } from "../infra/change-stream.js";
import type { ChangeRecord } from "../infra/change-stream.js";
import { systemClock } from "../infra/clock.js";
import { createDocumentClient, ensureTable } from "../infra/dynamo.js";
import { IntegrationStore } from "../infra/integrations.js";
import { Store } from "../infra/store.js";
import { shipFunction } from "./bundle-runner.js";
import type { ShippedFunction } from "./bundle-runner.js";
import { OPERATOR, PLATFORM, startTestStack } from "./harness.js";
import type { TestStack } from "./harness.js";

/**
 * The stream consumer as `sst deploy` ships it, fed what Lambda's event source mapping hands it: the
 * table's stream records in Lambda's JSON (times in epoch seconds, binaries in base64), not the
 * SDK's objects the local stack reads. It must derive exactly the items the local consumer derives
 * from the same records, and report a failed batch from its first record, so Lambda retries it.
 */
describe("the stream consumer's bundle on Lambda's event", () => {
  const endpoint = inject("dynamoEndpoint");
  const credentials = { AWS_ACCESS_KEY_ID: "local", AWS_SECRET_ACCESS_KEY: "local", AWS_REGION: "eu-west-1" };
  let t: TestStack;
  let fn: ShippedFunction;
  let client: DynamoDBDocumentClient;
  let records: _Record[] = [];
  let streamArn = "";
  const twins: string[] = [];

  /** Every record of the table's stream so far, shard by shard from the trim horizon. */
  async function readStream(tableName: string): Promise<_Record[]> {
    const streams = new DynamoDBStreamsClient({
      region: "local",
      endpoint,
      credentials: { accessKeyId: "local", secretAccessKey: "local" },
    });
    try {
      streamArn = (await client.send(new DescribeTableCommand({ TableName: tableName }))).Table?.LatestStreamArn ?? "";
      const shards = (await streams.send(new DescribeStreamCommand({ StreamArn: streamArn }))).StreamDescription
        ?.Shards;
      const all: _Record[] = [];
      for (const shard of shards ?? []) {
        let iterator = (
          await streams.send(
            new GetShardIteratorCommand({
              StreamArn: streamArn,
              ShardId: shard.ShardId,
              ShardIteratorType: "TRIM_HORIZON",
            }),
          )
        ).ShardIterator;
        while (iterator) {
          const out = await streams.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 1000 }));
          all.push(...(out.Records ?? []));
          if ((out.Records ?? []).length === 0) break;
          iterator = out.NextShardIterator;
        }
      }
      return all;
    } finally {
      streams.destroy();
    }
  }

  /** A record as Lambda's event carries it: JSON, the creation time in epoch seconds, binaries in base64. */
  const lambdaRecord = (r: _Record): unknown =>
    JSON.parse(
      JSON.stringify(
        {
          eventID: r.eventID,
          eventName: r.eventName,
          eventVersion: r.eventVersion,
          eventSource: "aws:dynamodb",
          awsRegion: "eu-west-1",
          eventSourceARN: streamArn,
          dynamodb: {
            ...r.dynamodb,
            ApproximateCreationDateTime: Math.floor((r.dynamodb?.ApproximateCreationDateTime?.getTime() ?? 0) / 1000),
          },
        },
        (_k, v: unknown) => (v instanceof Uint8Array ? Buffer.from(v).toString("base64") : v),
      ),
    );

  async function freshTable(): Promise<string> {
    const name = `stream-twin-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
    await ensureTable(client, name);
    twins.push(name);
    return name;
  }

  async function scanAll(tableName: string): Promise<Record<string, AttributeValue>[]> {
    const items: Record<string, AttributeValue>[] = [];
    let start: Record<string, AttributeValue> | undefined;
    do {
      const out = await client.send(new ScanCommand({ TableName: tableName, ExclusiveStartKey: start }));
      items.push(...(out.Items ?? []));
      start = out.LastEvaluatedKey;
    } while (start);
    const key = (i: Record<string, AttributeValue>) => JSON.stringify([i.pk, i.sk]);
    return items.sort((a, b) => key(a).localeCompare(key(b)));
  }

  beforeAll(async () => {
    [t, fn] = await Promise.all([startTestStack(), shipFunction("stream-consumer")]);
    client = createDocumentClient({ region: "local", endpoint });
    // Prepare: a distributor, a reseller below it, a rename: audit items, each an event.
    const distributorId = await t.createAccount({
      parentId: PLATFORM,
      kind: "DISTRIBUTOR",
      name: "Dist Stream Twin",
      currency: "GBP",
    });
    await t.createAccount({ parentId: distributorId, kind: "RESELLER", name: "Res Stream Twin" });
    await t.mutateOk(
      OPERATOR,
      "updateAccount",
      "UpdateAccountInput",
      { id: distributorId, name: "Dist Stream Twin 2" },
      "account { id }",
    );
    records = await readStream(t.stack.store.tableName);
  });
  afterAll(async () => {
    await t?.stop();
    fn?.remove();
    for (const name of twins) await client.send(new DeleteTableCommand({ TableName: name }));
    client?.destroy();
  });

  it("derives from Lambda's records exactly what the local consumer derives from the SDK's", async () => {
    // Prepare
    expect(records.length).toBeGreaterThan(0);
    const [local, shipped] = await Promise.all([freshTable(), freshTable()]);
    const deps = {
      store: new Store(client, local),
      clock: systemClock,
      mailer: { send: () => Promise.reject(new Error("no mail")) },
      portalUrl: "https://portal.example.com",
      integrations: { store: new IntegrationStore(client, local), keys: () => Promise.resolve(undefined) },
    };
    // Act
    const report = await Events.consume(
      deps,
      records.map(toChangeRecord).filter((r): r is ChangeRecord => r !== undefined),
    );
    const { results, logs } = await fn.run({ ...credentials, TABLE_NAME: shipped, DYNAMO_ENDPOINT: endpoint }, [
      { Records: records.map(lambdaRecord) },
    ]);
    // Assess
    expect(results).toEqual([{ batchItemFailures: [] }]);
    expect(logs).toContainEqual(
      expect.objectContaining({ level: "INFO", message: "stream batch processed", records: records.length }),
    );
    expect(report.events.map((e) => e.type)).toEqual(
      expect.arrayContaining(["account.created", "account.created", "account.updated"]),
    );
    const [fromLocal, fromShipped] = await Promise.all([scanAll(local), scanAll(shipped)]);
    expect(fromLocal.length).toBeGreaterThanOrEqual(report.events.length);
    expect(fromShipped).toEqual(fromLocal);
  });

  it("a batch it cannot write is reported failed from its first record, for Lambda to retry", async () => {
    // Act: the table is out of reach (nothing listens on port 9).
    const { results, logs } = await fn.run(
      { ...credentials, TABLE_NAME: "unreachable", DYNAMO_ENDPOINT: "http://127.0.0.1:9" },
      [{ Records: records.map(lambdaRecord) }],
    );
    // Assess
    const first = records[0]?.dynamodb?.SequenceNumber;
    expect(results).toEqual([{ batchItemFailures: [{ itemIdentifier: first }] }]);
    // Logged, by the error's name and the batch's position only: no record's content (names, keys).
    expect(logs).toContainEqual(
      expect.objectContaining({
        level: "ERROR",
        message: "stream batch failed",
        records: records.length,
        firstSequenceNumber: first,
        errorName: expect.any(String),
      }),
    );
    expect(JSON.stringify(logs)).not.toMatch(/Stream Twin|Account:|"pk"/);
  });
});
