import { UpdateCommand } from "@aws-sdk/lib-dynamodb";
import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import type { EntityItem } from "electrodb";
import { auditEventEntity } from "./entities/audit-event.js";
import { lazyEntities } from "./entities/entity.js";
import {
  apiClientEntity,
  deliveryEntity,
  deliveryStateEntity,
  eventEntity,
  eventFeedEntity,
  webhookEndpointEntity,
} from "./entities/integration.js";
import type { Page } from "./store.js";
import { GO, MAX_ID, cursorOf, isConditionFailure, readPage as page, runTransaction } from "./store/base.js";
import type { WriteTransactionBuilder } from "./store/base.js";
import { batchGetItems, batchWriteItems, batchWriteRequests } from "./store/batches.js";
import type { TableKey } from "./store/batches.js";

/** The integration entities (and the audit, written in the same transactions), bound to one table. */
const INTEGRATION_FACTORIES = {
  audit: auditEventEntity,
  apiClient: apiClientEntity,
  eventFeed: eventFeedEntity,
  event: eventEntity,
  webhookEndpoint: webhookEndpointEntity,
  delivery: deliveryEntity,
  deliveryState: deliveryStateEntity,
};

/** Built on first use, as the store's (infra/entities/entity.ts `lazyEntities`). */
function createIntegrationEntities(client: DynamoDBDocumentClient, table: string) {
  return lazyEntities(INTEGRATION_FACTORIES, { client, table });
}

export type IntegrationEntities = ReturnType<typeof createIntegrationEntities>;
export type ApiClientRecord = EntityItem<IntegrationEntities["apiClient"]>;
export type EventFeedRecord = EntityItem<IntegrationEntities["eventFeed"]>;
export type EventRecord = EntityItem<IntegrationEntities["event"]>;
export type WebhookEndpointRecord = EntityItem<IntegrationEntities["webhookEndpoint"]>;
export type DeliveryRecord = EntityItem<IntegrationEntities["delivery"]>;
export type DeliveryStateRecord = EntityItem<IntegrationEntities["deliveryState"]>;

type TransactFn = WriteTransactionBuilder<IntegrationEntities>;
export type IntegrationTx = Parameters<TransactFn>[0];

/** What a client's request did to its counter: counted (with the client as it now is), limited, or no such active client. */
export type ClientHit =
  | { readonly kind: "counted"; readonly client: ApiClientRecord }
  | { readonly kind: "limited" }
  | { readonly kind: "inactive" };

/**
 * Storage of API clients, events, webhook endpoints and deliveries, in the same single
 * table as the rest, with its own entities. One function per access pattern; lists paged by cursor.
 */
export class IntegrationStore {
  private readonly entities: IntegrationEntities;
  readonly #client: DynamoDBDocumentClient;
  readonly #table: string;

  constructor(client: DynamoDBDocumentClient, table: string) {
    this.#client = client;
    this.#table = table;
    this.entities = createIntegrationEntities(client, table);
  }

  /**
   * One TransactWriteItems, as every store of the table runs them (`runTransaction`: conflicts
   * retried; a failed condition becomes ConditionFailed with each item's reason).
   */
  async transact(build: TransactFn): Promise<void> {
    await runTransaction(this.#client, this.entities, build);
  }

  async getClient(accountId: string, clientId: string): Promise<ApiClientRecord | undefined> {
    if (accountId.length > 200 || clientId.length > 200) return undefined;
    return (
      (await this.entities.apiClient.get({ accountId, clientId }).go({ ...GO, consistent: true })).data ?? undefined
    );
  }

  async listClients(accountId: string, limit: number, cursor?: string | null): Promise<Page<ApiClientRecord>> {
    const e = this.entities.apiClient;
    return page(cursorOf(e, "byAccount"), e.query.byAccount({ accountId }), { limit, cursor });
  }

  /**
   * Counts one request of an active client in its fixed window (at most `max`) and stamps lastUsedAt,
   * in one conditional UpdateItem on the client's own item (the common case); a new window takes a
   * second, and a third when a concurrent request opened it first. A revoked or deleted client is "inactive".
   */
  async hitClient(accountId: string, clientId: string, window: string, max: number, now: string): Promise<ClientHit> {
    const Key = this.entities.apiClient.get({ accountId, clientId }).params().Key as Record<string, string>;
    const attempt = async (update: string, condition: string, values: Record<string, unknown>) => {
      try {
        const out = await this.#client.send(
          new UpdateCommand({
            TableName: this.#table,
            Key,
            UpdateExpression: update,
            ConditionExpression: condition,
            ExpressionAttributeNames: { "#s": "status", "#w": "window", "#c": "windowCount", "#u": "lastUsedAt" },
            ExpressionAttributeValues: values,
            ReturnValues: "ALL_NEW",
          }),
        );
        return this.entities.apiClient.parse({ Item: out.Attributes ?? {} }).data ?? undefined;
      } catch (err) {
        if (isConditionFailure(err)) return undefined;
        throw err;
      }
    };
    const count = () =>
      attempt("SET #c = #c + :one, #u = :now", "#s = :active AND #w = :w AND #c < :max", {
        ":one": 1,
        ":now": now,
        ":active": "ACTIVE",
        ":w": window,
        ":max": max,
      });
    const counted = await count();
    if (counted) return { kind: "counted", client: counted };
    const fresh = await attempt(
      "SET #c = :one, #w = :w, #u = :now",
      "#s = :active AND (attribute_not_exists(#w) OR #w <> :w)",
      { ":one": 1, ":now": now, ":active": "ACTIVE", ":w": window },
    );
    if (fresh) return { kind: "counted", client: fresh };
    // A concurrent request opened this window between the two: count in it (over the allowance only if it is spent).
    const late = await count();
    if (late) return { kind: "counted", client: late };
    const current = await this.getClient(accountId, clientId);
    return current?.status === "ACTIVE" ? { kind: "limited" } : { kind: "inactive" };
  }

  /**
   * Writes events and their feed entries (BatchWriteItem, idempotent: same keys, same items on a
   * replay), retrying unprocessed items like every batch of the table.
   */
  async putEvents(events: readonly EventRecord[], feed: readonly EventFeedRecord[]): Promise<void> {
    const requests = [
      ...(events.length > 0 ? batchWriteRequests(this.#table, this.entities.event.put([...events]).params()) : []),
      ...(feed.length > 0 ? batchWriteRequests(this.#table, this.entities.eventFeed.put([...feed]).params()) : []),
    ];
    // Independent items: the 25-item requests go four at a time.
    await batchWriteItems(this.#client, this.#table, requests, 4);
  }

  async getEvent(eventId: string): Promise<EventRecord | undefined> {
    if (eventId.length > 200) return undefined;
    return (await this.entities.event.get({ eventId }).go({ ...GO, consistent: true })).data ?? undefined;
  }

  /**
   * The feed of an account from `since` on (older entries wait for TTL deletion and are never shown),
   * oldest first; `ownOnly` keeps the account's own events, `types` filters by type.
   */
  async listFeed(
    feedAccountId: string,
    opts: { since: string; types?: readonly string[]; ownOnly: boolean; limit: number; cursor?: string | null },
  ): Promise<Page<EventFeedRecord>> {
    const e = this.entities.eventFeed;
    let q = e.query.byFeed({ feedAccountId }).gte({ occurredAt: opts.since });
    const types = opts.types ?? [];
    const filtered = opts.ownOnly || types.length > 0;
    if (filtered) {
      q = q.where((a, op) => {
        const parts: string[] = [];
        if (opts.ownOnly) parts.push(op.eq(a.depth, 0));
        if (types.length > 0) parts.push(`(${types.map((t) => op.eq(a.type, t)).join(" OR ")})`);
        return parts.join(" AND ");
      });
    }
    return page(cursorOf(e, "byFeed"), q, { limit: opts.limit, cursor: opts.cursor, filtered });
  }

  async getEndpoint(accountId: string, endpointId: string): Promise<WebhookEndpointRecord | undefined> {
    if (accountId.length > 200 || endpointId.length > 200) return undefined;
    return (
      (await this.entities.webhookEndpoint.get({ accountId, endpointId }).go({ ...GO, consistent: true })).data ??
      undefined
    );
  }

  /** Endpoints by (account, endpoint), strongly consistent, in BatchGetItem requests; absent ones are left out. */
  async getEndpoints(keys: readonly { accountId: string; endpointId: string }[]): Promise<WebhookEndpointRecord[]> {
    const e = this.entities.webhookEndpoint;
    const found = await batchGetItems(
      this.#client,
      this.#table,
      keys
        .filter((k) => k.accountId.length <= MAX_ID && k.endpointId.length <= MAX_ID)
        .map((k) => e.get({ accountId: k.accountId, endpointId: k.endpointId }).params().Key as TableKey),
    );
    return [...found.values()].flatMap((Item) => e.parse({ Item }, { ignoreOwnership: false }).data ?? []);
  }

  async listEndpoints(accountId: string, limit: number, cursor?: string | null): Promise<Page<WebhookEndpointRecord>> {
    const e = this.entities.webhookEndpoint;
    return page(cursorOf(e, "byAccount"), e.query.byAccount({ accountId }), { limit, cursor });
  }

  /** Every endpoint of an account (a handful; the stream consumer matches events against them). */
  async allEndpoints(accountId: string): Promise<WebhookEndpointRecord[]> {
    const out: WebhookEndpointRecord[] = [];
    let cursor: string | null = null;
    for (;;) {
      const p: Page<WebhookEndpointRecord> = await this.listEndpoints(accountId, 100, cursor);
      out.push(...p.items.map((i) => i.node));
      if (!p.hasNextPage) return out;
      cursor = p.items.at(-1)!.cursor;
    }
  }

  async putDelivery(d: DeliveryRecord): Promise<void> {
    await this.entities.delivery.put(d).go(GO);
  }

  /** Attempts of an endpoint, newest first. */
  async listDeliveries(
    accountId: string,
    endpointId: string,
    limit: number,
    cursor?: string | null,
  ): Promise<Page<DeliveryRecord>> {
    const e = this.entities.delivery;
    return page(cursorOf(e, "byEndpoint"), e.query.byEndpoint({ accountId, endpointId }), {
      limit,
      cursor,
      order: "desc",
    });
  }

  async getDelivery(
    accountId: string,
    endpointId: string,
    attemptedAt: string,
    deliveryId: string,
  ): Promise<DeliveryRecord | undefined> {
    if ([accountId, endpointId, attemptedAt, deliveryId].some((p) => p.length > 200)) return undefined;
    return (
      (
        await this.entities.delivery
          .get({ accountId, endpointId, attemptedAt, deliveryId })
          .go({ ...GO, consistent: true })
      ).data ?? undefined
    );
  }

  /** Delivery states by (endpoint, event), strongly consistent, in BatchGetItem requests; absent ones are left out. */
  async getDeliveryStates(keys: readonly { endpointId: string; eventId: string }[]): Promise<DeliveryStateRecord[]> {
    const e = this.entities.deliveryState;
    const found = await batchGetItems(
      this.#client,
      this.#table,
      keys.map((k) => e.get({ endpointId: k.endpointId, eventId: k.eventId }).params().Key as TableKey),
    );
    return [...found.values()].flatMap((Item) => e.parse({ Item }, { ignoreOwnership: false }).data ?? []);
  }

  async deliveredAt(endpointId: string, eventId: string): Promise<string | undefined> {
    return (
      (await this.entities.deliveryState.get({ endpointId, eventId }).go({ ...GO, consistent: true })).data
        ?.deliveredAt ?? undefined
    );
  }

  /**
   * Takes the lease of one (endpoint, event) delivery until `leaseUntil`, unless the event already
   * reached the endpoint or another attempt holds a lease that has not run out: one conditional
   * UpdateItem (it creates the item on the first attempt).
   */
  async claimDelivery(
    endpointId: string,
    eventId: string,
    token: string,
    now: string,
    leaseUntil: string,
    expiresAt: number,
  ): Promise<"claimed" | "delivered" | "busy"> {
    try {
      await this.entities.deliveryState
        .update({ endpointId, eventId })
        .set({ leaseToken: token, leaseUntil, expiresAt })
        .where(
          (a, op) =>
            `${op.notExists(a.deliveredAt)} AND (${op.notExists(a.leaseUntil)} OR ${op.lt(a.leaseUntil, now)})`,
        )
        .go(GO);
      return "claimed";
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
      return (await this.deliveredAt(endpointId, eventId)) ? "delivered" : "busy";
    }
  }

  /** Ends a lease: the event reached the endpoint (`deliveredAt`), or the attempt failed (the lease is given back). */
  async settleDelivery(endpointId: string, eventId: string, token: string, deliveredAt?: string): Promise<void> {
    try {
      const u = this.entities.deliveryState.patch({ endpointId, eventId });
      await (deliveredAt ? u.set({ deliveredAt }) : u)
        .remove(["leaseToken", "leaseUntil"])
        .where((a, op) => op.eq(a.leaseToken, token))
        .go(GO);
    } catch (err) {
      // The lease ran out and was taken meanwhile (or the pair was cleared for a redelivery): that attempt settles it.
      if (!isConditionFailure(err)) throw err;
    }
  }

  /** Notes the first failure since the last success (kept while failures go on). */
  async markFailing(accountId: string, endpointId: string, since: string): Promise<void> {
    try {
      await this.entities.webhookEndpoint
        .patch({ accountId, endpointId })
        .set({ failingSince: since })
        .where((a, op) => op.notExists(a.failingSince))
        .go(GO);
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
    }
  }

  /** A success ends a run of failures. */
  async clearFailing(accountId: string, endpointId: string): Promise<void> {
    try {
      await this.entities.webhookEndpoint.patch({ accountId, endpointId }).remove(["failingSince"]).go(GO);
    } catch (err) {
      // Deleted meanwhile.
      if (!isConditionFailure(err)) throw err;
    }
  }
}
