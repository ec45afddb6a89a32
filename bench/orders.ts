/**
 * Benchmark: two commerce operations through the Lambda handler, against the minimal raw
 * DynamoDB calls that produce the same result, in the same run:
 *
 *  (a) `placeOrder`: an order of 3 lines for a customer account, a fresh idempotencyKey each round;
 *  (b) the subscriptions page: `subscriptions(first: 20)` of one account with, for each
 *      subscription, `history(first: 10)`, in one GraphQL query.
 *
 * Same harness as bench/hierarchy-page.ts: everything in-process, DynamoDB Local on loopback, the
 * production token verifier (JWKS served once over loopback, then cached), `handleEvent` fed with
 * hand-built API Gateway HTTP API (v2) events. The data is seeded through the core functions
 * (offers, accounts, the seller's invitation, orders), not over HTTP.
 */
import * as Acceptance from "../core/acceptance.js";
import { mkdir, writeFile } from "node:fs/promises";
import { Session as InspectorSession } from "node:inspector/promises";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { isDeepStrictEqual } from "node:util";
import { BatchGetCommand, QueryCommand, TransactWriteCommand } from "@aws-sdk/lib-dynamodb";
import type { DynamoDBDocumentClient, QueryCommandInput, TransactWriteCommandInput } from "@aws-sdk/lib-dynamodb";
import type { APIGatewayProxyEventV2 } from "aws-lambda";
import { decodeGlobalID, encodeGlobalID } from "@pothos/plugin-relay";
import { Service } from "electrodb";
import * as Account from "../core/account.js";
import type { UserActor } from "../core/context.js";
import { ensurePlatform } from "../core/bootstrap.js";
import * as Catalog from "../core/catalog.js";
import { Session } from "../core/context.js";
import type { Deps } from "../core/context.js";
import * as Money from "../core/money.js";
import * as Order from "../core/order.js";
import { PLATFORM_ID } from "../core/rights.js";
import { MAX_QUANTITY } from "../core/subscription.js";
import { handleEvent } from "../functions/http.js";
import { createGraphQLServer } from "../graphql/server.js";
import type { GraphQLServer } from "../graphql/server.js";
import { SettableClock } from "../infra/clock.js";
import { createDocumentClient, ensureTable } from "../infra/dynamo.js";
import { newId } from "../infra/ids.js";
import { OutboxMailer } from "../infra/mail.js";
import { Store, createEntities } from "../infra/store.js";
import type { Entities } from "../infra/store.js";
import { startDynamoLocal } from "../local/dynamodb.js";
import type { LocalDynamo } from "../local/dynamodb.js";
import type { Stats } from "./common.js";
import { Busy, apiGatewayEvent, describeCall, invitationToken, runCleanups, stats, timedAuth } from "./common.js";

export type { Stats };

export interface OrdersOptions {
  /** Unmeasured iterations of both paths before measuring, per operation. */
  readonly warmup: number;
  /** Measured rounds per operation; each round runs one handler call and one raw call (order alternates). */
  readonly rounds: number;
  /** Subscriptions of the account read by (b) (issue: more than a page). */
  readonly subscriptions: number;
  /** Ledger entries of each of those subscriptions (issue: more than a history page). */
  readonly history: number;
  /** `subscriptions(first: N)` (issue: 20). */
  readonly subsPage: number;
  /** `history(first: N)` (issue: 10). */
  readonly historyPage: number;
  readonly signal?: AbortSignal;
  readonly log?: (line: string) => void;
}

export const ordersDefaults: OrdersOptions = {
  warmup: 50,
  rounds: 300,
  subscriptions: 25,
  history: 12,
  subsPage: 20,
  historyPage: 10,
};

/** Lines of the measured order (issue: 3), and the quantity each adds per order. */
export const ORDER_LINES = 3;
const LINE_QUANTITIES = [1, 2, 3] as const;
/** Most offers an account can have available (Catalog.MAX_AVAILABLE) less the order's own. */
export const MAX_SEEDED_SUBSCRIPTIONS = Catalog.MAX_AVAILABLE - ORDER_LINES;

export interface OperationResult {
  readonly handler: Stats;
  readonly raw: Stats;
  /** median(handler) / median(raw). */
  readonly ratio: number;
  /**
   * Where the handler's time goes, per request, as a partition of its wall time: JWT verification;
   * time with at least one DynamoDB call in flight (overlapping calls count once); time inside
   * Store methods with no call in flight (ElectroDB params and parsing, cursors, zod); the rest
   * (handleEvent, Yoga, Pothos, graphql-js, DataLoader, core checks).
   */
  readonly handlerBreakdown: {
    readonly jwtVerify: Stats;
    readonly dynamoInFlight: Stats;
    readonly storeLayer: Stats;
    readonly graphqlLayer: Stats;
  };
  /** The raw path's wall time: DynamoDB calls in flight, and the rest (its own checks and items). */
  readonly rawBreakdown: { readonly dynamoInFlight: Stats; readonly rest: Stats };
  /** DynamoDB requests of one operation (handler: read from `store.requests`; raw: counted by a middleware). */
  readonly handlerRequests: number;
  readonly rawRequests: number;
  /** Sequential waves of DynamoDB calls (a wave: from no call in flight to none again). */
  readonly handlerRoundTrips: number;
  readonly rawRoundTrips: number;
  /** The DynamoDB calls of one operation, in the order they were sent. */
  readonly graphqlCalls: readonly string[];
  readonly rawCalls: readonly string[];
  /** Median duration of each kind of call (whole SDK send), over the measured rounds. */
  readonly handlerCallTimes: readonly CallTime[];
  readonly rawCallTimes: readonly CallTime[];
  /** Time between the first and the last call sent in the last wave of calls (the fan-out of (b)). */
  readonly lastWaveSpread: { readonly handler: Stats; readonly raw: Stats };
  /**
   * CPU time of this Node process per operation (process.cpuUsage, user + system, all its threads),
   * whether or not it overlaps a DynamoDB call; DynamoDB Local runs in its own process.
   */
  readonly nodeCpu: { readonly handler: Stats; readonly raw: Stats };
}

export interface CallTime {
  readonly call: string;
  /** Calls of this kind per operation. */
  readonly perOperation: number;
  readonly median: number;
}

export interface OrdersResult {
  readonly options: Omit<OrdersOptions, "signal" | "log">;
  readonly placeOrder: OperationResult;
  readonly subscriptionsPage: OperationResult & { readonly subscriptionsOnPage: number };
  readonly auth: string;
  readonly jwksFetches: number;
  readonly seedMs: number;
  readonly totalMs: number;
}

/** The order mutation as a portal sends it. */
export const PLACE_ORDER_MUTATION = /* GraphQL */ `
  mutation PlaceOrder($input: PlaceOrderInput!) {
    placeOrder(input: $input) {
      __typename
      ... on MutationPlaceOrderSuccess {
        data {
          order {
            id idempotencyKey currency
            lines { sku quantity unitPrice { amount currency } amount { amount currency } }
            total { amount currency }
          }
        }
      }
      ... on Error { code message }
    }
  }
`;

/** The subscriptions tab: a page of subscriptions, each with its latest ledger entries. */
export const SUBSCRIPTIONS_PAGE_QUERY = /* GraphQL */ `
  query SubscriptionsPage($id: ID!, $first: Int!, $history: Int!) {
    account(id: $id) {
      ... on QueryAccountSuccess {
        data {
          subscriptions(first: $first) {
            edges {
              node {
                id sku status quantity assigned version unitPrice { amount currency }
                history(first: $history) {
                  edges { node { kind version from to delta at actor } }
                  pageInfo { hasNextPage }
                }
              }
            }
            pageInfo { hasNextPage endCursor }
          }
        }
      }
    }
  }
`;

interface MoneyView {
  amount: string;
  currency: string;
}
interface OrderView {
  id: string;
  idempotencyKey: string;
  currency: string;
  lines: { sku: string; quantity: number; unitPrice: MoneyView | null; amount: MoneyView | null }[];
  total: MoneyView | null;
}
interface PlaceOrderResponse {
  data?: { placeOrder?: { __typename: string; data?: { order: OrderView }; code?: string; message?: string } } | null;
  errors?: unknown[];
}
interface SubscriptionsPageResponse {
  data?: {
    account?: {
      data?: {
        subscriptions: {
          edges: {
            node: {
              id: string;
              sku: string;
              status: string;
              quantity: number;
              version: number;
              unitPrice: MoneyView | null;
              history: {
                edges: { node: { kind: string; version: number; from: number; to: number } }[];
                pageInfo: { hasNextPage: boolean };
              };
            };
          }[];
          pageInfo: { hasNextPage: boolean; endCursor: string | null };
        };
      };
    };
  } | null;
  errors?: unknown[];
}

const AUDIENCE = "channel-partner-api";
/** The caller: a seller OWNER of the distributor, so a writer above the customer who sees its prices. */
const SELLER = "seller@orders.bench.example.com";
const OPERATOR = "operator@orders.bench.example.com";
const CURRENCY = "USD";

/** Median duration of each kind of call over the measured rounds, in the order first seen. */
function callTimes(
  timed: readonly { name: string | undefined; input: unknown; ms: number }[],
  rounds: number,
): CallTime[] {
  const byCall = new Map<string, number[]>();
  for (const t of timed) {
    const call = describeCall(t.name, t.input);
    const list = byCall.get(call) ?? [];
    list.push(t.ms);
    byCall.set(call, list);
  }
  return [...byCall].map(([call, ms]) => ({ call, perOperation: ms.length / rounds, median: stats(ms).median }));
}

/** Call log with runs of the same call folded: "Query(table, Limit 11, desc) x20". */
export function foldCalls(calls: readonly string[]): string {
  const out: { call: string; n: number }[] = [];
  for (const call of calls) {
    const last = out.at(-1);
    if (last?.call === call) last.n += 1;
    else out.push({ call, n: 1 });
  }
  return out.map((c) => (c.n > 1 ? `${c.call} x${c.n}` : c.call)).join(", ");
}

/**
 * Instruments a document client: every DynamoDB call is tracked by `busy`, named while `recording`,
 * and timed while `timing` (described after the measurement). Added in the bench only, at the
 * outermost step, so it brackets the whole SDK send.
 */
function instrument(client: DynamoDBDocumentClient, busy: Busy) {
  const probe = {
    recording: false,
    calls: [] as string[],
    timing: false,
    timed: [] as { name: string | undefined; input: unknown; ms: number }[],
  };
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const t0 = performance.now();
      busy.enter();
      if (probe.recording) probe.calls.push(describeCall(context.commandName, args.input));
      try {
        return await next(args);
      } finally {
        busy.exit();
        if (probe.timing)
          probe.timed.push({ name: context.commandName, input: args.input, ms: performance.now() - t0 });
      }
    },
    { step: "initialize", name: "benchOrdersProbe", priority: "high" },
  );
  return probe;
}

/** Tracks every Store method of one instance with `busy` (nested calls count once). */
function trackStore(store: Store, busy: Busy): void {
  const target = store as unknown as Record<string, unknown>;
  for (const name of Object.getOwnPropertyNames(Store.prototype)) {
    const desc = Object.getOwnPropertyDescriptor(Store.prototype, name);
    if (name === "constructor" || typeof desc?.value !== "function") continue;
    const fn = (desc.value as (...args: unknown[]) => unknown).bind(store);
    target[name] = (...args: unknown[]): unknown => {
      busy.enter();
      try {
        const out = fn(...args);
        if (out instanceof Promise) return out.finally(() => busy.exit());
        busy.exit();
        return out;
      } catch (err) {
        busy.exit();
        throw err;
      }
    };
  }
}

// ---------------------------------------------------------------------------------------------
// The raw paths: plain @aws-sdk/lib-dynamodb commands. Keys and Query values come from templates
// taken once from the entities' `.params()`; items are written by hand and checked against the
// product's own transaction before measuring.
// ---------------------------------------------------------------------------------------------

type Item = Record<string, unknown>;
type Key = Record<string, string>;
type Values = Record<string, string | number>;
type Part = string | { readonly name: string; readonly lower: boolean; readonly width?: number };

const lc = (v: string) => v.toLowerCase();
const notExists = {
  ConditionExpression: "attribute_not_exists(#pk) AND attribute_not_exists(#sk)",
  ExpressionAttributeNames: { "#pk": "pk", "#sk": "sk" },
};

/**
 * A builder of key strings in exactly ElectroDB's format, taken once from `.params()` with marker
 * values: where each composite goes, whether ElectroDB lower-cases it (the index's `casing`), and
 * the zero padding of numbers. String markers are mixed case ("Mk0Xq"); number markers 900000 + i.
 * Building a key is then string concatenation, with no ElectroDB work in the measured path.
 */
function keyTemplate(
  names: readonly string[],
  numbers: readonly string[],
  build: (markers: Values) => unknown,
  fields: readonly string[],
): (values: Values) => Key {
  const markers: Values = {};
  for (const [i, name] of names.entries()) markers[name] = numbers.includes(name) ? 900_000 + i : `Mk${i}Xq`;
  const built = build(markers) as Record<string, unknown>;
  const compiled = fields.map((field): [string, Part[]] => {
    const text = built[field];
    if (typeof text !== "string") throw new Error(`key template: no ${field} in ${JSON.stringify(built)}`);
    const holes: { start: number; end: number; part: Exclude<Part, string> }[] = [];
    for (const [name, marker] of Object.entries(markers)) {
      if (typeof marker === "number") {
        for (const m of text.matchAll(new RegExp(`0*${marker}`, "g")))
          holes.push({ start: m.index, end: m.index + m[0].length, part: { name, lower: false, width: m[0].length } });
        continue;
      }
      for (const [shown, lower] of [
        [marker, false],
        [lc(marker), true],
      ] as const) {
        for (let at = text.indexOf(shown); at >= 0; at = text.indexOf(shown, at + shown.length))
          holes.push({ start: at, end: at + shown.length, part: { name, lower } });
      }
    }
    holes.sort((a, b) => a.start - b.start);
    const parts: Part[] = [];
    let pos = 0;
    for (const h of holes) {
      parts.push(text.slice(pos, h.start), h.part);
      pos = h.end;
    }
    parts.push(text.slice(pos));
    return [field, parts];
  });
  const render = (parts: readonly Part[], values: Values) =>
    parts
      .map((p) =>
        typeof p === "string"
          ? p
          : p.width
            ? String(values[p.name]).padStart(p.width, "0")
            : p.lower
              ? lc(String(values[p.name]))
              : String(values[p.name]),
      )
      .join("");
  return (values) => {
    const key: Key = {};
    for (const [field, parts] of compiled) key[field] = render(parts, values);
    return key;
  };
}

/** The key formats of the product's entities, and its two Queries, as the raw paths build them. */
function rawKeysOf(e: Entities, table: string) {
  const s = (m: Values, name: string) => m[name] as string;
  const subscriptionsQuery = e.subscription.query
    .byAccount({ accountId: "x" })
    .params({ limit: 1 }) as QueryCommandInput;
  const historyQuery = e.change.query
    .bySubscription({ accountId: "x", sku: "x" })
    .params({ limit: 1, order: "desc" }) as QueryCommandInput;
  const subscriptionsValues = keyTemplate(
    ["accountId"],
    [],
    (m) => e.subscription.query.byAccount({ accountId: s(m, "accountId") }).params().ExpressionAttributeValues,
    [":pk", ":sk1"],
  );
  const historyValues = keyTemplate(
    ["accountId", "sku"],
    [],
    (m) =>
      e.change.query.bySubscription({ accountId: s(m, "accountId"), sku: s(m, "sku") }).params()
        .ExpressionAttributeValues,
    [":pk", ":sk1"],
  );
  return {
    person: keyTemplate(["email"], [], (m) => e.person.get({ email: s(m, "email") }).params().Key, ["pk", "sk"]),
    account: keyTemplate(["id"], [], (m) => e.account.get({ id: s(m, "id") }).params().Key, ["pk", "sk"]),
    offer: keyTemplate(["sku"], [], (m) => e.offer.get({ sku: s(m, "sku") }).params().Key, ["pk", "sk"]),
    subscription: keyTemplate(
      ["accountId", "sku"],
      [],
      (m) => e.subscription.get({ accountId: s(m, "accountId"), sku: s(m, "sku") }).params().Key,
      ["pk", "sk"],
    ),
    orderKey: keyTemplate(
      ["accountId", "key"],
      [],
      (m) => e.orderKey.get({ accountId: s(m, "accountId"), key: s(m, "key") }).params().Key,
      ["pk", "sk"],
    ),
    order: keyTemplate(
      ["accountId", "id"],
      [],
      (m) => e.order.get({ accountId: s(m, "accountId"), id: s(m, "id") }).params().Key,
      ["pk", "sk"],
    ),
    change: keyTemplate(
      ["accountId", "sku", "version", "at"],
      ["version"],
      (m) =>
        e.change
          .put({
            accountId: s(m, "accountId"),
            sku: s(m, "sku"),
            version: m.version as number,
            kind: "INCREASED",
            at: s(m, "at"),
            actor: "a",
            from: 0,
            to: 1,
          })
          .params().Item,
      ["pk", "sk", "gsi1pk", "gsi1sk"],
    ),
    audit: keyTemplate(
      ["accountId", "at", "id"],
      [],
      (m) =>
        e.audit.put({ accountId: s(m, "accountId"), at: s(m, "at"), id: s(m, "id"), action: "a", actor: "a" }).params()
          .Item,
      ["pk", "sk"],
    ),
    /** Subscriptions of an account by sku (ElectroDB `subscription.query.byAccount`). */
    subscriptionsQuery: (accountId: string, limit: number): QueryCommandInput => ({
      ...subscriptionsQuery,
      TableName: table,
      ExpressionAttributeValues: subscriptionsValues({ accountId }),
      Limit: limit,
    }),
    /** One subscription's ledger, newest first (ElectroDB `change.query.bySubscription`, order desc). */
    historyQuery: (accountId: string, sku: string, limit: number): QueryCommandInput => ({
      ...historyQuery,
      TableName: table,
      ExpressionAttributeValues: historyValues({ accountId, sku }),
      Limit: limit,
    }),
  };
}
type RawKeys = ReturnType<typeof rawKeysOf>;

/** What both raw paths work with: their own client, the table, the key formats, the caller. */
interface Raw {
  readonly client: DynamoDBDocumentClient;
  readonly table: string;
  readonly keys: RawKeys;
  readonly caller: string;
}

const keyId = (k: { pk?: unknown; sk?: unknown }) => `${String(k.pk)}|${String(k.sk)}`;

/** One BatchGetItem (strongly consistent, as the product's), results by key. */
async function batchGet(
  client: DynamoDBDocumentClient,
  table: string,
  keys: readonly Key[],
): Promise<Map<string, Item>> {
  if (keys.length === 0) return new Map();
  const out = await client.send(
    new BatchGetCommand({ RequestItems: { [table]: { Keys: [...keys], ConsistentRead: true } } }),
  );
  if (out.UnprocessedKeys?.[table]?.Keys?.length) throw new Error("raw: BatchGetItem returned unprocessed keys");
  const found = new Map<string, Item>();
  for (const item of out.Responses?.[table] ?? []) found.set(keyId(item), item);
  return found;
}

interface RawMembership {
  readonly role: string;
  readonly seller: boolean;
}
const writerRole = (role: string | undefined) => role === "OWNER" || role === "CONTRIBUTOR";

/** The caller's reach from above (the part of core/rights.ts `reachOf` these operations need). */
function above(ms: Record<string, RawMembership>, path: readonly string[]): RawMembership | undefined {
  let best: RawMembership | undefined;
  const rank = (r: string) => (r === "OWNER" ? 2 : r === "CONTRIBUTOR" ? 1 : 0);
  for (const id of path) {
    const m = ms[id];
    if (m && (id === PLATFORM_ID || m.seller) && (!best || rank(m.role) > rank(best.role))) best = m;
  }
  return best;
}

/** Price visibility: operators, and the OWNERs of the billed party (core/rights.ts `seesPrices`). */
function seesPrices(ms: Record<string, RawMembership>, billedPartyId: string | undefined): boolean {
  return !!ms[PLATFORM_ID] || (billedPartyId !== undefined && ms[billedPartyId]?.role === "OWNER");
}

/** Accounts above `account` that its checks need: every ancestor but the platform (which never restricts offers and is never billable). */
const ancestorsToRead = (account: Item) => (account.path as string[]).filter((id) => id !== PLATFORM_ID);

/** The nearest billable account, the account itself first (core/catalog.ts `billedParty`). */
function billedParty(keys: RawKeys, account: Item, ancestors: Map<string, Item>): Item | undefined {
  if (account.billable) return account;
  return [...(account.path as string[])]
    .reverse()
    .map((id) => ancestors.get(keyId(keys.account({ id }))))
    .find((a) => a?.billable);
}

export interface RawOrderInput {
  readonly accountId: string;
  readonly lines: { sku: string; quantity: number }[];
  readonly idempotencyKey: string;
}

interface RawOrderOutcome {
  readonly order: {
    id: string;
    lines: { sku: string; quantity: number; unitPrice: number | null; amount: number | null }[];
    currency: string;
    total: number | null;
  };
  readonly params: TransactWriteCommandInput;
  readonly auditId: string;
}

/**
 * placeOrder with the fewest calls for the same checks and the same writes:
 *  1. one BatchGetItem of every key the input names: the caller's person item (memberships), the
 *     account (rights, path, available offers), the idempotency key (replay), the offers (existence,
 *     status, price, currency) and the subscriptions (current quantity and version);
 *  2. one BatchGetItem of the ancestors in the account's path (known only from the account item):
 *     each level's available offers, and the billed party (currency, price visibility);
 *  3. one TransactWriteItems: per line the subscription update (condition: version unchanged) and
 *     its ledger entry, then the order, the key and the audit entry (creates: must not exist).
 * Supports what the bench orders (increases of active MONTHLY subscriptions, no partner staff
 * offers); anything else throws rather than guess the product's answer.
 */
async function rawPlaceOrder(raw: Raw, input: RawOrderInput, now: Date): Promise<RawOrderOutcome> {
  const { client, table, keys, caller } = raw;
  const { accountId } = input;
  const accountKey = keys.account({ id: accountId });
  const personKey = keys.person({ email: caller });
  // The client's key lives in the order namespace (security rule 10), as the product stores it.
  const storedKey = Order.clientOrderKey(input.idempotencyKey);
  const orderKeyKey = keys.orderKey({ accountId, key: storedKey });
  const offerKeys = input.lines.map((l) => keys.offer({ sku: l.sku }));
  const subKeys = input.lines.map((l) => keys.subscription({ accountId, sku: l.sku }));
  const got = await batchGet(client, table, [personKey, accountKey, orderKeyKey, ...offerKeys, ...subKeys]);
  const account = got.get(keyId(accountKey));
  const ms = (got.get(keyId(personKey))?.memberships ?? {}) as Record<string, RawMembership>;
  if (!account) throw new Error("raw: no account");
  const path = account.path as string[];
  const own = ms[accountId];
  const reach = above(ms, path);
  if (
    account.kind === "PLATFORM" ||
    !(writerRole(reach?.role) || (account.kind !== "CUSTOMER" && own?.seller && writerRole(own.role)))
  )
    throw new Error("raw: not allowed to order");
  if (got.has(keyId(orderKeyKey))) throw new Error("raw: replays are not part of the bench");

  const ancestors = await batchGet(
    client,
    table,
    ancestorsToRead(account).map((id) => keys.account({ id })),
  );
  const available = new Set(account.offers as string[]);
  for (const id of ancestorsToRead(account)) {
    const a = ancestors.get(keyId(keys.account({ id })));
    if (!a) throw new Error(`raw: ancestor ${id} missing`);
    const theirs = new Set(a.offers as string[]);
    for (const sku of available) if (!theirs.has(sku)) available.delete(sku);
  }
  const party = billedParty(keys, account, ancestors);
  const showPrices = seesPrices(ms, party?.id as string | undefined);

  const at = now.toISOString();
  const actor = `user:${caller}`;
  const orderId = newId();
  const writes: NonNullable<TransactWriteCommandInput["TransactItems"]> = [];
  const lines = input.lines.map((line, i) => {
    const offer = got.get(keyId(offerKeys[i]!));
    const sub = got.get(keyId(subKeys[i]!));
    if (offer?.status !== "ACTIVE" || !available.has(line.sku)) throw new Error(`raw: ${line.sku} cannot be ordered`);
    if (offer.internalOnly) throw new Error("raw: partner staff offers are not part of the bench");
    if (party?.currency && offer.currency !== party.currency)
      throw new Error(`raw: ${line.sku} is in another currency`);
    if (offer.kind !== "MONTHLY" || sub?.status !== "ACTIVE" || sub.endsAt !== undefined)
      throw new Error("raw: the bench only increases active MONTHLY subscriptions");
    const from = sub.quantity as number;
    const to = from + line.quantity;
    if (to > MAX_QUANTITY) throw new Error("raw: quantity over the maximum");
    const version = (sub.version as number) + 1;
    const unitPrice = sub.unitPrice as number;
    writes.push(
      {
        // The product's patch, SET for SET (a hand-written one would SET only quantity, version
        // and updatedAt; DynamoDB bills a write by item size, so the longer expression costs the same).
        Update: {
          TableName: table,
          Key: subKeys[i]!,
          UpdateExpression:
            "SET #quantity = :quantity_u0, #status = :status_u0, #unitPrice = :unitPrice_u0, #startedAt = :startedAt_u0, #version = :version_u0, #updatedAt = :updatedAt_u0, #accountId = :accountId_u0, #sku = :sku_u0, #__edb_e__ = :__edb_e___u0, #__edb_v__ = :__edb_v___u0",
          ConditionExpression:
            "attribute_exists(#pk) AND attribute_exists(#sk) AND #version = :version0 AND #assigned <= :assigned0",
          ExpressionAttributeNames: {
            "#pk": "pk",
            "#sk": "sk",
            "#version": "version",
            "#assigned": "assigned",
            "#quantity": "quantity",
            "#status": "status",
            "#unitPrice": "unitPrice",
            "#startedAt": "startedAt",
            "#updatedAt": "updatedAt",
            "#accountId": "accountId",
            "#sku": "sku",
            "#__edb_e__": "__edb_e__",
            "#__edb_v__": "__edb_v__",
          },
          ExpressionAttributeValues: {
            ":version0": sub.version,
            ":assigned0": to,
            ":quantity_u0": to,
            ":status_u0": "ACTIVE",
            ":unitPrice_u0": unitPrice,
            ":startedAt_u0": sub.startedAt,
            ":version_u0": version,
            ":updatedAt_u0": at,
            ":accountId_u0": accountId,
            ":sku_u0": line.sku,
            ":__edb_e___u0": "subscription",
            ":__edb_v___u0": "1",
          },
        },
      },
      {
        Put: {
          TableName: table,
          Item: {
            accountId,
            sku: line.sku,
            version,
            kind: "INCREASED",
            at,
            actor,
            from,
            to,
            reason: "order",
            orderId,
            ...keys.change({ accountId, sku: line.sku, version, at }),
            __edb_e__: "subchange",
            __edb_v__: "1",
          },
          ...notExists,
        },
      },
    );
    return {
      sku: line.sku,
      name: offer.name as string,
      kind: offer.kind as string,
      quantity: line.quantity,
      unitPrice,
      amount: Money.times(unitPrice, line.quantity),
      currency: offer.currency as string,
    };
  });
  const currency = lines[0]!.currency;
  if (lines.some((l) => l.currency !== currency)) throw new Error("raw: an order is in one currency");
  const total = lines.reduce((sum, l) => sum + l.amount, 0);
  const orderLines = lines.map(({ currency: _c, ...l }) => l);
  const auditId = newId();
  writes.push(
    {
      Put: {
        TableName: table,
        Item: {
          accountId,
          id: orderId,
          lines: orderLines,
          currency,
          total,
          idempotencyKey: input.idempotencyKey,
          placedBy: actor,
          placedAt: at,
          ...keys.order({ accountId, id: orderId }),
          __edb_e__: "order",
          __edb_v__: "1",
        },
        ...notExists,
      },
    },
    {
      Put: {
        TableName: table,
        Item: {
          accountId,
          key: storedKey,
          requestHash: Order.fingerprint(accountId, input),
          orderId,
          ...orderKeyKey,
          __edb_e__: "orderkey",
          __edb_v__: "1",
        },
        ...notExists,
      },
    },
    {
      Put: {
        TableName: table,
        Item: {
          accountId,
          at,
          id: auditId,
          action: "order.placed",
          actor,
          subjectId: orderId,
          details: JSON.stringify({ lines: input.lines.map((l) => ({ sku: l.sku, quantity: l.quantity })) }),
          ...keys.audit({ accountId, at, id: auditId }),
          __edb_e__: "audit",
          __edb_v__: "1",
        },
      },
    },
  );
  const params: TransactWriteCommandInput = { TransactItems: writes };
  await client.send(new TransactWriteCommand(params));
  return {
    order: {
      id: orderId,
      lines: orderLines.map((l) => ({
        sku: l.sku,
        quantity: l.quantity,
        unitPrice: showPrices ? l.unitPrice : null,
        amount: showPrices ? l.amount : null,
      })),
      currency,
      total: showPrices ? total : null,
    },
    params,
    auditId,
  };
}

interface RawSubscriptionsPage {
  readonly subscriptions: {
    sku: string;
    status: string;
    quantity: number;
    version: number;
    unitPrice: number | null;
    currency: string;
    history: Item[];
    historyHasNextPage: boolean;
  }[];
  readonly hasNextPage: boolean;
  readonly queries: { subscriptions: QueryCommandInput; history: QueryCommandInput[] };
}

/**
 * The subscriptions page with the fewest calls, concurrent where the product's are:
 *  1. one BatchGetItem: the caller's person item and the account (visibility);
 *  2. concurrently: the Query of the account's subscriptions (Limit first + 1), and, unless the
 *     account is billable itself, one BatchGetItem of its ancestors (billed party: price visibility);
 *  3. concurrently: one Query per subscription on the page for its ledger (newest first, Limit first + 1).
 */
async function rawSubscriptionsPage(
  raw: Raw,
  accountId: string,
  first: number,
  historyFirst: number,
): Promise<RawSubscriptionsPage> {
  const { client, table, keys, caller } = raw;
  const accountKey = keys.account({ id: accountId });
  const personKey = keys.person({ email: caller });
  const got = await batchGet(client, table, [personKey, accountKey]);
  const account = got.get(keyId(accountKey));
  const ms = (got.get(keyId(personKey))?.memberships ?? {}) as Record<string, RawMembership>;
  if (!account || !(ms[accountId] || above(ms, account.path as string[]))) throw new Error("raw: account not visible");
  const subsQuery = keys.subscriptionsQuery(accountId, first + 1);
  const [page, ancestors] = await Promise.all([
    client.send(new QueryCommand(subsQuery)),
    account.billable
      ? Promise.resolve(new Map<string, Item>())
      : batchGet(
          client,
          table,
          ancestorsToRead(account).map((id) => keys.account({ id })),
        ),
  ]);
  const showPrices = seesPrices(ms, billedParty(keys, account, ancestors)?.id as string | undefined);
  const items = page.Items ?? [];
  const subs = items.slice(0, first);
  const historyQueries = subs.map((s) => keys.historyQuery(accountId, s.sku as string, historyFirst + 1));
  const histories = await Promise.all(historyQueries.map((q) => client.send(new QueryCommand(q))));
  return {
    subscriptions: subs.map((s, i) => {
      const h = histories[i]!.Items ?? [];
      return {
        sku: s.sku as string,
        status: s.status as string,
        quantity: s.quantity as number,
        version: s.version as number,
        unitPrice: showPrices ? (s.unitPrice as number) : null,
        currency: s.currency as string,
        history: h.slice(0, historyFirst),
        historyHasNextPage: h.length > historyFirst,
      };
    }),
    hasNextPage: items.length > first,
    queries: { subscriptions: subsQuery, history: historyQueries },
  };
}

/** Fails unless each templated key equals the key the product's entity builds for the same (mixed-case) values. */
function checkRawKeys(
  e: Entities,
  keys: RawKeys,
  sample: { email: string; accountId: string; sku: string; key: string; orderId: string; at: string },
): void {
  const { email, accountId, sku, key, orderId, at } = sample;
  const pick = (item: Record<string, unknown> | undefined, fields: readonly string[]) =>
    Object.fromEntries(fields.map((f) => [f, item?.[f]]));
  const pairs: [string, Key, unknown][] = [
    ["person", keys.person({ email }), e.person.get({ email }).params().Key],
    ["account", keys.account({ id: accountId }), e.account.get({ id: accountId }).params().Key],
    ["offer", keys.offer({ sku }), e.offer.get({ sku }).params().Key],
    ["subscription", keys.subscription({ accountId, sku }), e.subscription.get({ accountId, sku }).params().Key],
    ["orderKey", keys.orderKey({ accountId, key }), e.orderKey.get({ accountId, key }).params().Key],
    ["order", keys.order({ accountId, id: orderId }), e.order.get({ accountId, id: orderId }).params().Key],
    [
      "change",
      keys.change({ accountId, sku, version: 42, at }),
      pick(
        e.change.put({ accountId, sku, version: 42, kind: "INCREASED", at, actor: "a", from: 0, to: 1 }).params().Item,
        ["pk", "sk", "gsi1pk", "gsi1sk"],
      ),
    ],
    [
      "audit",
      keys.audit({ accountId, at, id: orderId }),
      pick(e.audit.put({ accountId, at, id: orderId, action: "a", actor: "a" }).params().Item, ["pk", "sk"]),
    ],
  ];
  for (const [name, raw, electro] of pairs) {
    if (!isDeepStrictEqual(raw, electro))
      throw new Error(`raw ${name} key ${JSON.stringify(raw)} differs from ElectroDB's ${JSON.stringify(electro)}`);
  }
}

/** Replaces every occurrence of the given ids (as written and lower-cased) in a JSON-able value. */
function normalizeIds<T>(value: T, ids: Record<string, string>): T {
  let text = JSON.stringify(value);
  for (const [from, to] of Object.entries(ids)) text = text.split(from).join(to).split(lc(from)).join(lc(to));
  return JSON.parse(text) as T;
}

interface Timings {
  readonly handler: number[];
  readonly jwt: number[];
  readonly dynamo: number[];
  readonly store: number[];
  readonly graphql: number[];
  readonly raw: number[];
  readonly rawDynamo: number[];
  readonly rawRest: number[];
  readonly handlerSpread: number[];
  readonly rawSpread: number[];
  readonly handlerCpu: number[];
  readonly rawCpu: number[];
  handlerCalls: CallTime[];
  rawCalls: CallTime[];
}

export async function runOrdersBench(options: Partial<OrdersOptions> = {}): Promise<OrdersResult> {
  const opts: OrdersOptions = { ...ordersDefaults, ...options };
  const log = opts.log ?? (() => undefined);
  const check = () => opts.signal?.throwIfAborted();
  if (opts.subscriptions > MAX_SEEDED_SUBSCRIPTIONS)
    throw new Error(`at most ${MAX_SEEDED_SUBSCRIPTIONS} subscriptions (offers available to one account)`);
  // Every order (both paths, warm-up included) adds LINE_QUANTITIES to the same subscriptions.
  const orders = 2 * (opts.warmup + opts.rounds) + 4;
  if (orders * Math.max(...LINE_QUANTITIES) > MAX_QUANTITY)
    throw new Error(`too many rounds: the subscriptions would pass ${MAX_QUANTITY} licences`);
  const started = performance.now();
  const cleanups: (() => Promise<void> | void)[] = [];
  try {
    // --- DynamoDB Local, a fresh table, deps as local/stack.ts wires them ---
    log("starting DynamoDB Local...");
    const dynamo: LocalDynamo = await startDynamoLocal();
    cleanups.push(() => dynamo.stop());
    check();
    const table = `bench-orders-${Date.now().toString(36)}`;
    const client = createDocumentClient({ region: "local", endpoint: dynamo.endpoint });
    cleanups.push(() => client.destroy());
    await ensureTable(client, table);
    const store = new Store(client, table);
    const entities = createEntities(client, table);
    const clock = new SettableClock();
    const mailer = new OutboxMailer("no-reply@localhost", () => clock.now());
    const deps: Deps = { store, clock, mailer, portalUrl: "http://localhost:3000" };
    await ensurePlatform(deps, OPERATOR);

    // --- Authentication: the production verifier against a JWKS served over loopback ---
    const { issuer, verify, authenticate, auth, jwksFetches } = await timedAuth({
      audience: AUDIENCE,
      now: () => clock.now(),
      cleanups,
    });
    const server: GraphQLServer = createGraphQLServer({ deps, authenticate, graphiql: false });
    const sellerToken = await issuer.mint(SELLER, { ttlSeconds: 3600 });
    await verify(sellerToken); // fetches the JWKS once, outside the measurement

    // --- Seed through the core functions: offers, distributor (its seller OWNER accepts the
    // invitation), reseller, two customers; orders for the read account's ledger ---
    const t0 = performance.now();
    const user = (email: string): UserActor => ({
      type: "user",
      subject: `local|${email}`,
      email,
      emailVerified: true,
    });
    const as = (email: string) => new Session(deps, user(email));
    const orderSkus = Array.from({ length: ORDER_LINES }, (_, i) => `BENCH-ORDER-${i + 1}`);
    const readSkus = Array.from(
      { length: opts.subscriptions },
      (_, i) => `BENCH-READ-${String(i + 1).padStart(3, "0")}`,
    );
    await Catalog.seed(
      deps,
      [...orderSkus, ...readSkus].map((sku, i) => ({
        sku,
        name: `Bench offer ${sku}`,
        kind: "MONTHLY" as const,
        unitPrice: `${(i % 9) + 1}.50`,
        currency: CURRENCY,
      })),
    );
    const distributor = await Account.create(as(OPERATOR), {
      parentId: PLATFORM_ID,
      kind: "DISTRIBUTOR",
      name: "Bench Orders Distribution Inc",
      country: "US",
      currency: CURRENCY,
      owner: { email: SELLER },
    });
    await Acceptance.accept(as(SELLER), invitationToken(mailer, SELLER));
    const distributorId = distributor.account.id;
    await Catalog.setAvailable(as(OPERATOR), { accountId: distributorId, skus: [...orderSkus, ...readSkus] });
    // The reseller and the customers inherit the distributor's offers.
    const reseller = (
      await Account.create(as(SELLER), {
        parentId: distributorId,
        kind: "RESELLER",
        name: "Bench Orders Reseller",
        country: "US",
      })
    ).account;
    const orderAccount = (
      await Account.create(as(SELLER), {
        parentId: reseller.id,
        kind: "CUSTOMER",
        name: "Bench Ordering Customer",
        country: "US",
      })
    ).account;
    const readAccount = (
      await Account.create(as(SELLER), {
        parentId: reseller.id,
        kind: "CUSTOMER",
        name: "Bench Subscribed Customer",
        country: "US",
      })
    ).account;
    // The order account's 3 subscriptions exist before measuring: every measured order increases them.
    await Order.place(as(SELLER), {
      accountId: orderAccount.id,
      lines: orderSkus.map((sku) => ({ sku, quantity: 1 })),
      idempotencyKey: "seed-order",
    });
    // The read account: `history` orders over all its offers (the first creates, the rest increase).
    for (let h = 0; h < opts.history; h++) {
      for (let c = 0; c < readSkus.length; c += Order.MAX_LINES) {
        const chunk = readSkus.slice(c, c + Order.MAX_LINES);
        await Order.place(as(SELLER), {
          accountId: readAccount.id,
          lines: chunk.map((sku, i) => ({ sku, quantity: 1 + ((h + i) % 4) })),
          idempotencyKey: `seed-${h}-${c}`,
        });
      }
    }
    const seedMs = performance.now() - t0;
    log(
      `seeded ${ORDER_LINES + opts.subscriptions} offers, 4 accounts, ${opts.subscriptions} subscriptions x ${opts.history} ledger entries in ${(seedMs / 1000).toFixed(1)} s`,
    );
    check();

    // --- Instruments: the handler's client and store, and a raw client of its own ---
    const dyn = new Busy();
    const storeBusy = new Busy();
    const probe = instrument(client, dyn);
    trackStore(store, storeBusy);
    const rawClient = createDocumentClient({ region: "local", endpoint: dynamo.endpoint });
    cleanups.push(() => rawClient.destroy());
    const rawDyn = new Busy();
    const rawProbe = instrument(rawClient, rawDyn);
    const raw: Raw = { client: rawClient, table, keys: rawKeysOf(entities, table), caller: SELLER };
    checkRawKeys(entities, raw.keys, {
      email: SELLER,
      accountId: orderAccount.id,
      sku: orderSkus[0]!,
      key: "Bench-Key-1",
      orderId: newId(),
      at: clock.now().toISOString(),
    });

    let n = 0;
    const runId = Date.now().toString(36);
    const lines = orderSkus.map((sku, i) => ({ sku, quantity: LINE_QUANTITIES[i % LINE_QUANTITIES.length]! }));
    const orderAccountGid = encodeGlobalID("Account", orderAccount.id);

    /** Runs one call with a probe's call log on: its value, its calls and its waves of calls. */
    const recordOne = async <T>(p: typeof probe, busy: Busy, call: () => Promise<T>) => {
      p.calls = [];
      p.recording = true;
      busy.reset();
      try {
        const value = await call();
        return { value, calls: [...p.calls], roundTrips: busy.waves };
      } finally {
        p.recording = false;
      }
    };
    /** Runs one call of each path with the call logs on; returns their results and counts. */
    const recorded = async <H, R>(handlerCall: () => Promise<H>, rawCall: () => Promise<R>) => {
      const before = store.requests;
      const h = await recordOne(probe, dyn, handlerCall);
      const handlerRequests = store.requests - before;
      const r = await recordOne(rawProbe, rawDyn, rawCall);
      return {
        h: h.value,
        r: r.value,
        counts: {
          handlerRequests,
          rawRequests: r.calls.length,
          handlerRoundTrips: h.roundTrips,
          rawRoundTrips: r.roundTrips,
          graphqlCalls: h.calls,
          rawCalls: r.calls,
        },
      };
    };

    /** Warm-up, then `rounds` alternating rounds; the event and the raw input are built outside the timing. */
    const measure = async <I>(
      name: string,
      sides: {
        event: (n: number) => APIGatewayProxyEventV2;
        accept: (body: string) => void;
        input: (n: number) => I;
        raw: (input: I) => Promise<unknown>;
      },
    ) => {
      const callHandler = async (event: APIGatewayProxyEventV2) => {
        const res = await handleEvent(server, event);
        if (res.statusCode !== 200) throw new Error(`${name}: handler answered ${res.statusCode}: ${res.body}`);
        return res.body ?? "";
      };
      log(`${name}: warming up (${opts.warmup} iterations of each path)...`);
      for (let i = 0; i < opts.warmup; i++) {
        check();
        sides.accept(await callHandler(sides.event(++n)));
        await sides.raw(sides.input(++n));
      }
      log(`${name}: measuring (${opts.rounds} rounds, alternating)...`);
      const t: Timings = {
        handler: [],
        jwt: [],
        dynamo: [],
        store: [],
        graphql: [],
        raw: [],
        rawDynamo: [],
        rawRest: [],
        handlerSpread: [],
        rawSpread: [],
        handlerCpu: [],
        rawCpu: [],
        handlerCalls: [],
        rawCalls: [],
      };
      const timeHandler = async () => {
        const event = sides.event(++n);
        auth.ms = 0;
        dyn.reset();
        storeBusy.reset();
        const cpu = process.cpuUsage();
        const t1 = performance.now();
        const body = await callHandler(event);
        const total = performance.now() - t1;
        const used = process.cpuUsage(cpu);
        sides.accept(body);
        t.handler.push(total);
        t.jwt.push(auth.ms);
        t.dynamo.push(dyn.ms);
        t.store.push(storeBusy.ms - dyn.ms);
        t.graphql.push(total - auth.ms - storeBusy.ms);
        t.handlerSpread.push(dyn.spread);
        t.handlerCpu.push((used.user + used.system) / 1000);
      };
      const timeRaw = async () => {
        const input = sides.input(++n);
        rawDyn.reset();
        const cpu = process.cpuUsage();
        const t1 = performance.now();
        await sides.raw(input);
        const total = performance.now() - t1;
        const used = process.cpuUsage(cpu);
        t.raw.push(total);
        t.rawDynamo.push(rawDyn.ms);
        t.rawRest.push(total - rawDyn.ms);
        t.rawSpread.push(rawDyn.spread);
        t.rawCpu.push((used.user + used.system) / 1000);
      };
      probe.timed = [];
      rawProbe.timed = [];
      probe.timing = rawProbe.timing = true;
      for (let i = 0; i < opts.rounds; i++) {
        check();
        // Alternate which path goes first so neither always follows the other.
        if (i % 2 === 0) {
          await timeHandler();
          await timeRaw();
        } else {
          await timeRaw();
          await timeHandler();
        }
      }
      probe.timing = rawProbe.timing = false;
      // BENCH_PROFILE_DIR: a CPU profile of 200 more handler calls alone, to see where its time goes.
      const profileDir = process.env.BENCH_PROFILE_DIR;
      if (profileDir) {
        const inspector = new InspectorSession();
        inspector.connect();
        await inspector.post("Profiler.enable");
        await inspector.post("Profiler.start");
        for (let i = 0; i < 200; i++) await callHandler(sides.event(++n));
        const { profile } = await inspector.post("Profiler.stop");
        inspector.disconnect();
        await mkdir(profileDir, { recursive: true });
        await writeFile(join(profileDir, `${name.replace(/\W+/g, "-")}.cpuprofile`), JSON.stringify(profile));
      }
      t.handlerCalls = callTimes(probe.timed, opts.rounds);
      t.rawCalls = callTimes(rawProbe.timed, opts.rounds);
      return t;
    };

    const summarize = (t: Timings, counts: Awaited<ReturnType<typeof recorded>>["counts"]): OperationResult => {
      const handler = stats(t.handler);
      const raw = stats(t.raw);
      return {
        handler,
        raw,
        ratio: handler.median / raw.median,
        handlerBreakdown: {
          jwtVerify: stats(t.jwt),
          dynamoInFlight: stats(t.dynamo),
          storeLayer: stats(t.store),
          graphqlLayer: stats(t.graphql),
        },
        rawBreakdown: { dynamoInFlight: stats(t.rawDynamo), rest: stats(t.rawRest) },
        ...counts,
        handlerCallTimes: t.handlerCalls,
        rawCallTimes: t.rawCalls,
        lastWaveSpread: { handler: stats(t.handlerSpread), raw: stats(t.rawSpread) },
        nodeCpu: { handler: stats(t.handlerCpu), raw: stats(t.rawCpu) },
      };
    };

    // ===== (a) placeOrder =====
    const orderEvent = (k: number) =>
      apiGatewayEvent(
        sellerToken,
        JSON.stringify({
          query: PLACE_ORDER_MUTATION,
          variables: { input: { accountId: orderAccountGid, lines, idempotencyKey: `bench-${runId}-h${k}` } },
        }),
        k,
        "bench-orders",
      );
    const orderOf = (body: string): OrderView => {
      const r = JSON.parse(body) as PlaceOrderResponse;
      const p = r.data?.placeOrder;
      if (p?.__typename !== "MutationPlaceOrderSuccess" || !p.data) throw new Error(`placeOrder failed: ${body}`);
      return p.data.order;
    };
    const orderInput = (k: number): RawOrderInput => ({
      accountId: orderAccount.id,
      lines,
      idempotencyKey: `bench-${runId}-r${k}`,
    });

    // Same writes: the product's own transaction for the raw path's input (Order.plan + Order.orderOps
    // on a frozen clock, read before the raw path writes), compared item by item with the raw
    // path's TransactItems, ids of the order and audit entry aside.
    const frozen = clock.now();
    const frozenSession = new Session({ ...deps, clock: { now: () => frozen } }, user(SELLER));
    const firstInput = orderInput(++n);
    const plannedAccount = await frozenSession.account(orderAccount.id);
    if (!plannedAccount) throw new Error("order account missing");
    const productPlan = await Order.plan(frozenSession, plannedAccount, { lines: firstInput.lines });
    const productOrder = Order.orderRecord(frozenSession, productPlan, { idempotencyKey: firstInput.idempotencyKey });
    const productParams = new Service(entities, { client, table }).transaction
      .write((e) =>
        Order.orderOps(
          frozenSession,
          e,
          productPlan,
          productOrder,
          Order.fingerprint(orderAccount.id, { lines: firstInput.lines }),
        ),
      )
      .params() as TransactWriteCommandInput;
    const firstRaw = await rawPlaceOrder(raw, firstInput, frozen);
    const productAuditId = (productParams.TransactItems ?? [])
      .map((x) => x.Put?.Item)
      .find((i) => i?.__edb_e__ === "audit")?.id as string | undefined;
    if (!productAuditId) throw new Error("product transaction has no audit item");
    const rawNormalized = normalizeIds(firstRaw.params, {
      [firstRaw.order.id]: "ORDER-ID",
      [firstRaw.auditId]: "AUDIT-ID",
    });
    const productNormalized = normalizeIds(productParams, {
      [productOrder.id]: "ORDER-ID",
      [productAuditId]: "AUDIT-ID",
    });
    if (!isDeepStrictEqual(rawNormalized, productNormalized)) {
      throw new Error(
        `raw TransactWriteItems differ from the product's:\nraw     ${JSON.stringify(rawNormalized)}\nproduct ${JSON.stringify(productNormalized)}`,
      );
    }
    if (productParams.TransactItems?.length !== 2 * ORDER_LINES + 3)
      throw new Error(`product transaction has ${productParams.TransactItems?.length} items`);
    const presentedPrice = (v: number | null) => (v === null ? null : Money.format(v, firstRaw.order.currency));
    // The seller's first request binds its e-mail to its sign-in identity (security rule 1), a one-time
    // write: one order first, so the counts below are those of a known caller.
    await handleEvent(server, orderEvent(++n));
    // Same answer: the handler's order (next round, same lines) against the raw path's; then counts.
    const orderCheck = await recorded(
      async () => orderOf((await handleEvent(server, orderEvent(++n))).body ?? ""),
      () => rawPlaceOrder(raw, orderInput(++n), clock.now()),
    );
    const viewOfRaw = (o: RawOrderOutcome["order"]) => ({
      lines: o.lines.map((l) => ({
        sku: l.sku,
        quantity: l.quantity,
        unitPrice: presentedPrice(l.unitPrice),
        amount: presentedPrice(l.amount),
      })),
      total: presentedPrice(o.total),
      currency: o.currency,
    });
    const viewOfHandler = (o: OrderView) => ({
      lines: o.lines.map((l) => ({
        sku: l.sku,
        quantity: l.quantity,
        unitPrice: l.unitPrice?.amount ?? null,
        amount: l.amount?.amount ?? null,
      })),
      total: o.total?.amount ?? null,
      currency: o.currency,
    });
    if (
      !isDeepStrictEqual(viewOfHandler(orderCheck.h), viewOfRaw(orderCheck.r.order)) ||
      orderCheck.r.order.total === null
    ) {
      throw new Error(
        `placeOrder paths disagree: handler ${JSON.stringify(viewOfHandler(orderCheck.h))} vs raw ${JSON.stringify(viewOfRaw(orderCheck.r.order))}`,
      );
    }
    const orderTimings = await measure("placeOrder", {
      event: orderEvent,
      accept: (body) => void orderOf(body),
      input: orderInput,
      raw: (input: RawOrderInput) => rawPlaceOrder(raw, input, clock.now()),
    });
    // The ledger has no gap: every order of both paths bumped each subscription's version by one.
    const after = await store.getSubscriptions(orderAccount.id, orderSkus);
    const changes = await store.listChanges(orderAccount.id, orderSkus[0]!, 1);
    if (after[0]?.version !== changes.items[0]?.node.version)
      throw new Error("ledger and subscription versions disagree after the run");
    const placeOrder = summarize(orderTimings, orderCheck.counts);
    check();

    // ===== (b) the subscriptions page =====
    const pageBody = JSON.stringify({
      query: SUBSCRIPTIONS_PAGE_QUERY,
      variables: { id: encodeGlobalID("Account", readAccount.id), first: opts.subsPage, history: opts.historyPage },
    });
    const pageOf = (body: string) => {
      const r = JSON.parse(body) as SubscriptionsPageResponse;
      const conn = r.data?.account?.data?.subscriptions;
      if (!conn || r.errors) throw new Error(`subscriptions page failed: ${body}`);
      return conn;
    };
    const rawPage = () => rawSubscriptionsPage(raw, readAccount.id, opts.subsPage, opts.historyPage);
    const pageCheck = await recorded(
      async () => pageOf((await handleEvent(server, apiGatewayEvent(sellerToken, pageBody, ++n))).body ?? ""),
      rawPage,
    );
    const handlerView = {
      hasNextPage: pageCheck.h.pageInfo.hasNextPage,
      subs: pageCheck.h.edges.map(({ node: s }) => ({
        id: decodeGlobalID(s.id).id,
        sku: s.sku,
        status: s.status,
        quantity: s.quantity,
        version: s.version,
        unitPrice: s.unitPrice?.amount ?? null,
        history: s.history.edges.map((c) => [c.node.version, c.node.kind, c.node.from, c.node.to]),
        historyHasNextPage: s.history.pageInfo.hasNextPage,
      })),
    };
    const rawView = {
      hasNextPage: pageCheck.r.hasNextPage,
      subs: pageCheck.r.subscriptions.map((s) => ({
        id: `${readAccount.id}:${s.sku}`,
        sku: s.sku,
        status: s.status,
        quantity: s.quantity,
        version: s.version,
        unitPrice: s.unitPrice === null ? null : Money.format(s.unitPrice, s.currency),
        history: s.history.map((c) => [c.version, c.kind, c.from, c.to]),
        historyHasNextPage: s.historyHasNextPage,
      })),
    };
    const onPage = Math.min(opts.subsPage, opts.subscriptions);
    if (
      !isDeepStrictEqual(handlerView, rawView) ||
      handlerView.subs.length !== onPage ||
      handlerView.subs[0]?.unitPrice === null
    ) {
      throw new Error(
        `subscriptions page paths disagree:\nhandler ${JSON.stringify(handlerView)}\nraw     ${JSON.stringify(rawView)}`,
      );
    }
    // The raw Queries are the ones ElectroDB builds for the product's access patterns.
    const e = entities;
    const electroQueries = [
      e.subscription.query.byAccount({ accountId: readAccount.id }).params({ limit: opts.subsPage + 1 }),
      ...pageCheck.r.subscriptions.map((s) =>
        e.change.query
          .bySubscription({ accountId: readAccount.id, sku: s.sku })
          .params({ limit: opts.historyPage + 1, order: "desc" }),
      ),
    ];
    const rawQueries = [pageCheck.r.queries.subscriptions, ...pageCheck.r.queries.history];
    if (!isDeepStrictEqual(rawQueries, electroQueries))
      throw new Error(
        `raw Queries differ from ElectroDB's:\nraw  ${JSON.stringify(rawQueries)}\nelectro ${JSON.stringify(electroQueries)}`,
      );
    const pageTimings = await measure("subscriptions page", {
      event: (k) => apiGatewayEvent(sellerToken, pageBody, k),
      accept: (body) => void pageOf(body),
      input: () => undefined,
      raw: rawPage,
    });
    const subscriptionsPage = { ...summarize(pageTimings, pageCheck.counts), subscriptionsOnPage: onPage };

    return {
      options: {
        warmup: opts.warmup,
        rounds: opts.rounds,
        subscriptions: opts.subscriptions,
        history: opts.history,
        subsPage: opts.subsPage,
        historyPage: opts.historyPage,
      },
      placeOrder,
      subscriptionsPage,
      auth: "infra/auth.ts createTokenVerifier (ES256, production path); JWKS served over loopback HTTP, fetched before measuring and cached by jose",
      jwksFetches: jwksFetches(),
      seedMs,
      totalMs: performance.now() - started,
    };
  } finally {
    await runCleanups(cleanups);
  }
}
