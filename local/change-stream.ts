import { DescribeTableCommand, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import {
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
} from "@aws-sdk/client-dynamodb-streams";
import { toChangeRecord } from "../infra/change-stream.js";
import type { ChangeRecord } from "../infra/change-stream.js";

/** The local stand-in for the stream's Lambda event source mapping. */
export interface LocalChangeStream {
  /** Resolves once every record committed before the call has been handled. */
  drain(): Promise<void>;
  /**
   * Makes the handler's next `count` batches fail (as a crashing consumer would): they are read
   * again. `afterHandling`: the crash comes after the handler did its work (its writes and queued
   * deliveries), before the position moves on: the replay does the same work a second time.
   * `only`: only batches it holds true for crash (the others are handled as usual).
   */
  failNext(
    count: number,
    opts?: { afterHandling?: boolean; only?: (records: readonly ChangeRecord[]) => boolean },
  ): void;
  /** Batches handled, and failed attempts (each failed batch is retried from the same position). */
  readonly stats: { batches: number; failures: number; records: number };
  stop(): Promise<void>;
}

const IDLE_MS = 100;

/**
 * Reads DynamoDB Local's stream of the table through the DynamoDB Streams API, shard by shard from
 * the trim horizon, and hands each batch to `handle` (the same consumer the Lambda runs). A batch
 * whose handling throws is read again from the same iterator, as Lambda retries a failed batch:
 * the consumer is idempotent, so a replay creates nothing twice.
 */
export async function startLocalChangeStream(opts: {
  endpoint: string;
  tableName: string;
  handle: (records: ChangeRecord[]) => Promise<void>;
}): Promise<LocalChangeStream> {
  const credentials = { accessKeyId: "local", secretAccessKey: "local" };
  const ddb = new DynamoDBClient({ region: "local", endpoint: opts.endpoint, credentials });
  const streams = new DynamoDBStreamsClient({ region: "local", endpoint: opts.endpoint, credentials });
  const arn = (await ddb.send(new DescribeTableCommand({ TableName: opts.tableName }))).Table?.LatestStreamArn;
  ddb.destroy();
  if (!arn) throw new Error(`the table ${opts.tableName} has no stream`);
  const iterators = new Map<string, string | null>();
  let failing = 0;
  let failAfter = false;
  let failOnly: ((records: readonly ChangeRecord[]) => boolean) | undefined;
  let stopped = false;
  let round = 0;
  const waiters: { after: number; resolve: () => void }[] = [];
  const stats = { batches: 0, failures: 0, records: 0 };

  const discover = async () => {
    let start: string | undefined;
    do {
      const out = await streams.send(
        new DescribeStreamCommand({ StreamArn: arn, ...(start ? { ExclusiveStartShardId: start } : {}) }),
      );
      for (const shard of out.StreamDescription?.Shards ?? []) {
        if (!shard.ShardId || iterators.has(shard.ShardId)) continue;
        const it = await streams.send(
          new GetShardIteratorCommand({ StreamArn: arn, ShardId: shard.ShardId, ShardIteratorType: "TRIM_HORIZON" }),
        );
        iterators.set(shard.ShardId, it.ShardIterator ?? null);
      }
      start = out.StreamDescription?.LastEvaluatedShardId;
    } while (start);
  };

  /** One pass over the open shards; true when it handled records. */
  const pass = async (): Promise<boolean> => {
    await discover();
    let busy = false;
    // Shards in parallel, as Lambda runs one batch per shard at a time; records of one shard in order.
    await Promise.all(
      [...iterators].map(async ([shardId, iterator]) => {
        if (!iterator) return;
        const out = await streams.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 1000 }));
        const records = (out.Records ?? []).map(toChangeRecord).filter((r): r is ChangeRecord => r !== undefined);
        if (records.length > 0) {
          busy = true;
          // Taken before any await: shards run in parallel, each injected crash happens once.
          const crash = failing > 0 && (!failOnly || failOnly(records));
          if (crash) failing -= 1;
          try {
            if (crash && !failAfter) throw new Error("injected consumer crash");
            await opts.handle(records);
            if (crash) throw new Error("injected consumer crash after handling");
            stats.batches += 1;
            stats.records += records.length;
          } catch {
            // Lambda's retry of a failed batch: the same records, from the same position.
            stats.failures += 1;
            return;
          }
        }
        iterators.set(shardId, out.NextShardIterator ?? null);
      }),
    );
    return busy;
  };

  const loop = (async () => {
    while (!stopped) {
      let busy = false;
      let read = true;
      try {
        busy = await pass();
      } catch {
        // DynamoDB Local busy or restarting: try again on the next tick.
        read = false;
      }
      round += 1;
      // Drained only by a pass that read the stream and found nothing new, never by a failed one.
      if (read && !busy) {
        for (const w of waiters.splice(0)) {
          if (round > w.after) w.resolve();
          else waiters.push(w);
        }
      }
      await new Promise((r) => setTimeout(r, busy ? 0 : IDLE_MS));
    }
  })();

  return {
    stats,
    drain: () =>
      new Promise<void>((resolve) => {
        // A quiet pass that started after this call has seen every earlier commit.
        waiters.push({ after: round + 1, resolve });
      }),
    failNext(count, o) {
      failing = count;
      failAfter = o?.afterHandling === true;
      failOnly = o?.only;
    },
    async stop() {
      stopped = true;
      await loop;
      for (const w of waiters.splice(0)) w.resolve();
      streams.destroy();
    },
  };
}
