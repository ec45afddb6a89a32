import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
} from "@aws-sdk/client-dynamodb";
import {
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
} from "@aws-sdk/client-dynamodb-streams";
import initSqlJs from "sql.js";
import { afterAll, describe, expect, it } from "vitest";
import { DB_FILE, hasStreamRecordIndexes, startDynamoLocal } from "../local/dynamodb.js";

// The engine the local stack and the tests run on: its own database file, patched with the stream
// record indexes DynamoDB Local lacks. These starts are separate engines from the run's shared one.

const credentials = { accessKeyId: "local", secretAccessKey: "local" };
const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function writeAndReadStream(endpoint: string, table: string, create: boolean): Promise<string[]> {
  const ddb = new DynamoDBClient({ region: "local", endpoint, credentials });
  const streams = new DynamoDBStreamsClient({ region: "local", endpoint, credentials });
  try {
    if (create) {
      await ddb.send(
        new CreateTableCommand({
          TableName: table,
          BillingMode: "PAY_PER_REQUEST",
          AttributeDefinitions: [{ AttributeName: "pk", AttributeType: "S" }],
          KeySchema: [{ AttributeName: "pk", KeyType: "HASH" }],
          StreamSpecification: { StreamEnabled: true, StreamViewType: "NEW_IMAGE" },
        }),
      );
    }
    for (const k of ["a", "b", "c"]) {
      await ddb.send(new PutItemCommand({ TableName: table, Item: { pk: { S: `${k}-${create ? 1 : 2}` } } }));
    }
    const arn = (await ddb.send(new DescribeTableCommand({ TableName: table }))).Table?.LatestStreamArn;
    const shards = (await streams.send(new DescribeStreamCommand({ StreamArn: arn }))).StreamDescription?.Shards ?? [];
    const keys: string[] = [];
    for (const shard of shards) {
      const it = await streams.send(
        new GetShardIteratorCommand({ StreamArn: arn, ShardId: shard.ShardId, ShardIteratorType: "TRIM_HORIZON" }),
      );
      const out = await streams.send(new GetRecordsCommand({ ShardIterator: it.ShardIterator }));
      for (const r of out.Records ?? []) keys.push(r.dynamodb?.Keys?.pk?.S ?? "?");
    }
    return keys;
  } finally {
    ddb.destroy();
    streams.destroy();
  }
}

describe("DynamoDB Local as the stack runs it", () => {
  it("a data directory gets the stream record indexes, keeps its data, and gets them back if they go", async () => {
    const dir = await mkdtemp(join(tmpdir(), "ddb-local-test-"));
    dirs.push(dir);
    const first = await startDynamoLocal({ dataDir: dir });
    expect(first.dataDir).toBe(dir);
    try {
      expect(await hasStreamRecordIndexes(dir)).toBe(true);
      // The stream reads as it did without the indexes: every write, in order.
      expect(await writeAndReadStream(first.endpoint, "tbl", true)).toEqual(["a-1", "b-1", "c-1"]);
    } finally {
      await first.stop();
    }

    // A database made before the indexes existed (or by another tool): drop them while the engine is down.
    const file = join(dir, DB_FILE);
    const SQL = await initSqlJs();
    const db = new SQL.Database(await readFile(file));
    db.run("DROP INDEX us_by_stream");
    db.run("DROP INDEX us_by_shard");
    await writeFile(file, db.export());
    db.close();
    expect(await hasStreamRecordIndexes(dir)).toBe(false);

    const second = await startDynamoLocal({ dataDir: dir });
    try {
      expect(await hasStreamRecordIndexes(dir)).toBe(true);
      const ddb = new DynamoDBClient({ region: "local", endpoint: second.endpoint, credentials });
      const kept = await ddb.send(new GetItemCommand({ TableName: "tbl", Key: { pk: { S: "b-1" } } }));
      ddb.destroy();
      expect(kept.Item?.pk?.S).toBe("b-1");
      // The stream keeps its earlier records and takes new ones.
      expect(await writeAndReadStream(second.endpoint, "tbl", false)).toEqual([
        "a-1",
        "b-1",
        "c-1",
        "a-2",
        "b-2",
        "c-2",
      ]);
    } finally {
      await second.stop();
    }
  }, 120_000);

  it("a scratch database is a file with the indexes, gone after stop; without either it is in memory", async () => {
    const engine = await startDynamoLocal({ scratch: true });
    const dir = engine.dataDir ?? "";
    try {
      expect(existsSync(join(dir, DB_FILE))).toBe(true);
      expect(await hasStreamRecordIndexes(dir)).toBe(true);
    } finally {
      await engine.stop();
    }
    expect(existsSync(dir)).toBe(false);
    const memory = await startDynamoLocal();
    await memory.stop();
    expect(memory.dataDir).toBeUndefined();
  }, 120_000);
});
