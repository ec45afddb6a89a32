import { randomUUID } from "node:crypto";
import { TransactWriteCommand } from "@aws-sdk/lib-dynamodb";
import type { DynamoDBDocumentClient, TransactWriteCommandInput } from "@aws-sdk/lib-dynamodb";
import { createConversions, type createWriteTransaction } from "electrodb";
import type { Service } from "electrodb";
import { Throttled, isThrottled } from "../dynamo.js";
import { chargeRequest } from "../request-budget.js";
import { batchGetItems, batchWriteItems } from "./batches.js";
import type { TableKey, WriteRequest } from "./batches.js";
import { createEntities, membershipsSchema } from "./records.js";
import type { Entities, ItemKey, LoadedItem, PersonRecord } from "./records.js";
import type { EntityItem } from "electrodb";

/**
 * Options of every ElectroDB call (`.go(GO)`, `.go({ ...GO, … })`). originalErr: without it ElectroDB
 * builds an Error on every call, only to have a stack trace ready should the call fail (about 25 µs
 * each; 0.6 ms of CPU per subscriptions page and its 20 history pages). A failure comes as the SDK's
 * error itself (transactions still report cancellations as results), which the checks here, in
 * ../integrations.ts and in ../dynamo.ts read.
 */
export const GO = { originalErr: true } as const;

export type { TableKey, WriteRequest } from "./batches.js";

/** A page of items, each with the cursor that resumes after it. */
export interface Page<T> {
  readonly items: ReadonlyArray<{ readonly node: T; readonly cursor: string }>;
  readonly hasNextPage: boolean;
}

/** A write whose condition failed: a concurrent change, a duplicate, or a stale version. */
export class ConditionFailed extends Error {
  constructor(readonly reasons: readonly string[]) {
    super(`condition failed: ${reasons.join(", ")}`);
    this.name = "ConditionFailed";
  }
}

/** A cursor that does not belong to this list (tampered, or from another list). */
export class BadCursor extends Error {
  constructor() {
    super("bad cursor");
    this.name = "BadCursor";
  }
}

type TransactFn = WriteTransactionBuilder<Entities>;
/** The entities as a transaction builder sees them (ops end with `.commit()`). */
export type TxEntities = Parameters<TransactFn>[0];
/** One operation of a transaction (what an entity's `.commit()` returns inside `transact`). */
export type TxItem = ReturnType<TransactFn>[number];

/** Attempts of a transaction cancelled only by conflicts with concurrent transactions. */
const TRANSACT_ATTEMPTS = 6;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Runs one TransactWriteItems built from a store's entities: the operations are ElectroDB's own
 * (each entity's `.commit()`), sent as one TransactWriteCommand on `client`, as ElectroDB's
 * `createWriteTransaction` sends them (it also reads every entity to pick a driver, which would
 * build each lazily built entity). A transaction cancelled only by conflicts with concurrent
 * transactions is tried again (up to TRANSACT_ATTEMPTS times, with jittered backoff); a failed
 * condition becomes `ConditionFailed` with each item's cancellation reason.
 */
export async function runTransaction<E extends Parameters<typeof createWriteTransaction>[0]>(
  client: DynamoDBDocumentClient,
  entities: E,
  build: WriteTransactionBuilder<E>,
): Promise<void> {
  const items = build(entities as never) as unknown as NonNullable<TransactWriteCommandInput["TransactItems"]>;
  if (items.length === 0) return;
  for (let attempt = 1; ; attempt++) {
    // The token makes the SDK's own retries of this call idempotent (a commit is never applied twice).
    const reasons = await client
      .send(new TransactWriteCommand({ TransactItems: items, ClientRequestToken: randomUUID() }))
      .then(() => undefined, cancellationReasons);
    if (reasons === undefined) return;
    // Another transaction held one of the items: transient, so try again; a failed condition is an answer.
    const conflictOnly = reasons.includes("TransactionConflict") && !reasons.includes("ConditionalCheckFailed");
    if (!conflictOnly || attempt >= TRANSACT_ATTEMPTS) throw new ConditionFailed(reasons);
    await sleep(Math.random() * 10 * 2 ** attempt);
  }
}

/** Each item's reason (`None` for the items that did not fail) of a cancelled transaction; any other error, thrown. */
function cancellationReasons(err: unknown): string[] {
  const reasons = (err as { CancellationReasons?: ReadonlyArray<{ Code?: string }> } | null)?.CancellationReasons;
  if (!Array.isArray(reasons)) throw err;
  return reasons.map((r: { Code?: string }) => r.Code ?? "None");
}

/** The function that builds a write transaction's operations from the entities. */
export type WriteTransactionBuilder<E extends Parameters<typeof createWriteTransaction>[0]> = Parameters<
  Service<E>["transaction"]["write"]
>[0];

/** The query a page reads: an ElectroDB query chain, ready to `go`. */
export interface PagedQuery<T> {
  go: (o: {
    limit: number;
    cursor: string | null;
    order: "asc" | "desc";
    count?: number;
    pages?: "all";
    originalErr?: boolean;
  }) => Promise<{ data: T[] }>;
}

/** How a page is read: its size, where it resumes, its order, and whether a filter applies. */
export interface PageOptions {
  readonly limit: number;
  readonly cursor?: string | null | undefined;
  readonly order?: "asc" | "desc";
  readonly filtered?: boolean;
}

/**
 * One Query of `limit + 1` items: the extra item only tells whether a next page exists. Each item's
 * cursor is derived from its own keys, so a client may resume after any edge. A cursor DynamoDB
 * refuses is a BadCursor; any other failure (throttling among them) is passed on as it is.
 */
export async function readPage<T extends object>(
  toCursor: (item: T) => string,
  query: PagedQuery<T>,
  opts: PageOptions,
): Promise<Page<T>> {
  let data: T[];
  try {
    // A filter applies after DynamoDB's Limit: a filtered list reads on until it has limit + 1 matches.
    const more = opts.filtered ? { count: opts.limit + 1, pages: "all" as const } : {};
    data = (
      await query.go({
        ...GO,
        limit: opts.limit + 1,
        cursor: opts.cursor ?? null,
        order: opts.order ?? "asc",
        ...more,
      })
    ).data;
  } catch (err) {
    if (opts.cursor && isCursorError(err)) throw new BadCursor();
    throw err;
  }
  return {
    items: data.slice(0, opts.limit).map((node) => ({ node, cursor: toCursor(node) })),
    hasNextPage: data.length > opts.limit,
  };
}

/** A conditional write that did not apply (with `GO`, ElectroDB rethrows the SDK's own error, unwrapped). */
export function isConditionFailure(err: unknown): boolean {
  return (err as { name?: unknown } | null)?.name === "ConditionalCheckFailedException";
}

/**
 * What every area of the store shares: the entities (private to infra/), the pager, the batch
 * helpers that retry unprocessed items, and the transaction runner. The areas (accounts, commerce,
 * billing, equipment, jobs) extend it and are composed into `Store` in infra/store.ts.
 */
export abstract class StoreBase {
  protected readonly entities: Entities;
  protected readonly client: DynamoDBDocumentClient;
  protected readonly table: string;
  /** DynamoDB requests sent by this store (benchmarks count them). */
  requests = 0;

  constructor(client: DynamoDBDocumentClient, table: string) {
    this.client = client;
    this.table = table;
    this.entities = createEntities(client, table);
    client.middlewareStack.add(
      (next) => async (args) => {
        this.requests += 1;
        // A GraphQL request past its budget of DynamoDB requests stops here, before sending.
        chargeRequest();
        try {
          return await next(args);
        } catch (err) {
          // The adapter's answer to throttling that outlasted the SDK's retries: a domain error.
          if (isThrottled(err)) throw new Throttled({ cause: err });
          throw err;
        }
      },
      { step: "initialize", name: "countRequests", override: true },
    );
  }

  get tableName(): string {
    return this.table;
  }

  /**
   * Runs one TransactWriteItems built from the entities (`runTransaction`: conflicts retried, a
   * failed condition is `ConditionFailed` with the cancellation reason of each item).
   */
  async transact(build: TransactFn): Promise<void> {
    await runTransaction(this.client, this.entities, build);
  }

  /**
   * Loads items by key with one BatchGetItem per 100 keys (strongly consistent: orders price
   * from what they read); result order follows `keys`.
   */
  async batchGet(keys: readonly ItemKey[]): Promise<LoadedItem[]> {
    const tableKeys = keys.map((k) => (oversized(k) ? undefined : this.keyOfItem(k)));
    const found = await this.getItems(tableKeys.filter((k) => k !== undefined));
    return keys.map((k, i) => {
      const key = tableKeys[i];
      const item = key && found.get(`${key.pk}|${key.sk}`);
      return item ? this.parseItem(k, item) : undefined;
    });
  }

  protected keyOfItem(k: ItemKey): TableKey {
    const e = this.entities;
    switch (k.type) {
      case "account":
        return e.account.get({ id: k.id }).params().Key as TableKey;
      case "person":
        return e.person.get({ email: k.email }).params().Key as TableKey;
      case "offer":
        return e.offer.get({ sku: k.sku }).params().Key as TableKey;
      case "subscription":
        return e.subscription.get({ accountId: k.accountId, sku: k.sku }).params().Key as TableKey;
      case "orderKey":
        return e.orderKey.get({ accountId: k.accountId, key: k.key }).params().Key as TableKey;
    }
  }

  protected parseItem(k: ItemKey, item: Record<string, unknown>): LoadedItem {
    const e = this.entities;
    switch (k.type) {
      case "account":
        return e.account.parse({ Item: item }).data ?? undefined;
      case "person":
        return toPerson(e.person.parse({ Item: item }).data);
      case "offer":
        return e.offer.parse({ Item: item }).data ?? undefined;
      case "subscription":
        return e.subscription.parse({ Item: item }).data ?? undefined;
      case "orderKey":
        return e.orderKey.parse({ Item: item }).data ?? undefined;
    }
  }

  /** Items by table key in BatchGetItem requests (strongly consistent), retrying unprocessed keys; by `pk|sk`. */
  protected getItems(keys: readonly TableKey[]): Promise<Map<string, Record<string, unknown>>> {
    return batchGetItems(this.client, this.table, keys);
  }

  /** BatchWriteItem requests of 25, retrying unprocessed ones. */
  protected writeItems(requests: readonly WriteRequest[]): Promise<void> {
    return batchWriteItems(this.client, this.table, requests);
  }

  /** One page of a query (`readPage`). */
  protected page<T extends object>(
    toCursor: (item: T) => string,
    query: PagedQuery<T>,
    opts: PageOptions,
  ): Promise<Page<T>> {
    return readPage(toCursor, query, opts);
  }

  /**
   * Every item of a list, page after page of 100; `enough` stops early once the items read so far
   * suffice (callers that bound what they read, or lists in an order they can stop on).
   */
  protected async all<T>(
    list: (limit: number, cursor: string | null) => Promise<Page<T>>,
    enough?: (items: readonly T[]) => boolean,
  ): Promise<T[]> {
    const out: T[] = [];
    let cursor: string | null = null;
    for (;;) {
      const page: Page<T> = await list(100, cursor);
      out.push(...page.items.map((i) => i.node));
      if (!page.hasNextPage || enough?.(out)) return out;
      cursor = page.items.at(-1)!.cursor;
    }
  }
}

/** Ids longer than any the service issues cannot exist: answered as missing, never sent to DynamoDB. */
export const MAX_ID = 200;
export function oversized(k: Record<string, string>): boolean {
  return Object.values(k).some((v) => v.length > MAX_ID);
}

/** The cursor of an item in a given access pattern, derived from the item's own composite attributes. */
const conversions = new WeakMap<object, Record<string, { fromComposite: { toCursor: (c: never) => string } }>>();
export function cursorOf(entity: object, accessPattern: string) {
  let patterns = conversions.get(entity);
  if (!patterns) {
    // Built once per entity: the conversion tables are costly to derive on every page.
    patterns = createConversions(entity as never).byAccessPattern as Record<
      string,
      { fromComposite: { toCursor: (c: never) => string } }
    >;
    conversions.set(entity, patterns);
  }
  const convert = patterns[accessPattern]!.fromComposite.toCursor;
  return <T>(item: T): string => convert(item as never);
}

function isCursorError(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const name = err.name;
  const msg = err.message.toLowerCase();
  return (
    name === "ValidationException" ||
    msg.includes("cursor") ||
    msg.includes("exclusivestartkey") ||
    msg.includes("starting key")
  );
}

function toPerson(data: EntityItem<Entities["person"]> | null): PersonRecord | undefined {
  if (!data) return undefined;
  return { ...data, memberships: membershipsSchema.parse(data.memberships) };
}
