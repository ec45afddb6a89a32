import { BatchGetCommand, BatchWriteCommand } from "@aws-sdk/lib-dynamodb";
import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { Throttled } from "../dynamo.js";

/*
 * Batch reads and writes for every store of the table: BatchGetItem and BatchWriteItem in chunks,
 * what DynamoDB leaves unprocessed sent again with backoff (ElectroDB's own batch `go` hands it back
 * to its caller instead).
 */

/** A key of the table as DynamoDB sees it. */
export type TableKey = { readonly pk: string; readonly sk: string };
/** One request of a BatchWriteItem. */
export type WriteRequest =
  | { readonly PutRequest: { readonly Item: Record<string, unknown> } }
  | { readonly DeleteRequest: { readonly Key: TableKey } };

/** Sends of one batch while DynamoDB keeps returning unprocessed items (backoff 20 ms, 40 ms, …). */
const BATCH_ATTEMPTS = 7;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Sends `items` in chunks of `size` (BatchGetItem takes 100 keys, BatchWriteItem 25 requests), up to
 * `concurrency` chunks at a time; `send` returns what DynamoDB left unprocessed, which is sent again
 * after a backoff.
 */
async function inBatches<T>(
  items: readonly T[],
  size: number,
  send: (chunk: T[]) => Promise<readonly T[]>,
  concurrency = 1,
): Promise<void> {
  const chunks: T[][] = [];
  for (let i = 0; i < items.length; i += size) chunks.push(items.slice(i, i + size));
  const drain = async (chunk: T[]) => {
    let pending = chunk;
    for (let attempt = 0; pending.length > 0; attempt++) {
      // DynamoDB leaves items unprocessed when it cannot take the throughput: past the attempts, the
      // same answer as throttling that outlasted the SDK's retries (THROTTLED, 503, retry later).
      if (attempt >= BATCH_ATTEMPTS)
        throw new Throttled({ cause: new Error("DynamoDB kept returning unprocessed items") });
      if (attempt > 0) await sleep(20 * 2 ** (attempt - 1));
      pending = [...(await send(pending))];
    }
  };
  let next = 0;
  let failed = false;
  const worker = async () => {
    try {
      // A failed chunk stops the others taking more: the caller sees the failure and may retry it all.
      while (!failed && next < chunks.length) await drain(chunks[next++]!);
    } catch (err) {
      failed = true;
      throw err;
    }
  };
  const workers = Math.min(Math.max(1, Math.floor(concurrency) || 1), chunks.length);
  await Promise.all(Array.from({ length: workers }, worker));
}

const keyString = (k: Record<string, unknown>) => `${String(k.pk)}|${String(k.sk)}`;

/**
 * Items by table key in BatchGetItem requests (strongly consistent), retrying unprocessed keys;
 * by `pk|sk`. Every store of the table reads batches through this one function.
 */
export async function batchGetItems(
  client: DynamoDBDocumentClient,
  table: string,
  keys: readonly TableKey[],
): Promise<Map<string, Record<string, unknown>>> {
  // DynamoDB refuses a batch with the same key twice (ids differing only in case are one key).
  const unique = [...new Map(keys.map((k) => [keyString(k), k] as const)).values()];
  const found = new Map<string, Record<string, unknown>>();
  await inBatches(unique, 100, async (Keys) => {
    const out = await client.send(new BatchGetCommand({ RequestItems: { [table]: { Keys, ConsistentRead: true } } }));
    for (const item of out.Responses?.[table] ?? []) found.set(keyString(item), item);
    return (out.UnprocessedKeys?.[table]?.Keys ?? []) as TableKey[];
  });
  return found;
}

/**
 * BatchWriteItem requests of 25, up to `concurrency` at a time, retrying unprocessed ones. A key
 * written twice keeps its last request (DynamoDB refuses a batch that names a key twice).
 */
export async function batchWriteItems(
  client: DynamoDBDocumentClient,
  table: string,
  requests: readonly WriteRequest[],
  concurrency = 1,
): Promise<void> {
  const byKey = new Map<string, WriteRequest>();
  for (const r of requests) {
    const key = keyString("PutRequest" in r ? r.PutRequest.Item : r.DeleteRequest.Key);
    byKey.delete(key);
    byKey.set(key, r);
  }
  await inBatches(
    [...byKey.values()],
    25,
    async (chunk) => {
      const out = await client.send(new BatchWriteCommand({ RequestItems: { [table]: chunk } }));
      return (out.UnprocessedItems?.[table] ?? []) as WriteRequest[];
    },
    concurrency,
  );
}

/**
 * The requests of an ElectroDB batch put or delete (`entity.put([...]).params()`: one BatchWriteItem
 * input per 25 items), to send with `batchWriteItems`: ElectroDB's own `go` hands unprocessed items
 * back to its caller without sending them again.
 */
export function batchWriteRequests(table: string, params: unknown): WriteRequest[] {
  if (!Array.isArray(params)) throw new TypeError("expected the params of an ElectroDB batch write");
  return (params as { RequestItems: Record<string, unknown> }[]).flatMap((p) => {
    const tables = Object.keys(p.RequestItems);
    // Requests for another table would be dropped here: the entity and the store must name the same one.
    if (tables.length !== 1 || tables[0] !== table)
      throw new TypeError(`batch write for ${tables.join(", ")}, not for the store's table`);
    return p.RequestItems[table] as WriteRequest[];
  });
}
