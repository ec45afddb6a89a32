import { randomUUID } from "node:crypto";
import { BatchGetCommand, BatchWriteCommand, QueryCommand } from "@aws-sdk/lib-dynamodb";
import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { Service, createConversions } from "electrodb";
import type { EntityItem } from "electrodb";
import * as z from "zod";
import { accountEntity } from "./entities/account.js";
import { auditEventEntity } from "./entities/audit-event.js";
import { counterEntity, dueEntity, invoiceEntity, invoiceLineEntity, sentEntity, usageEntity } from "./entities/billing.js";
import { invitationEntity } from "./entities/invitation.js";
import { licenceEntity } from "./entities/licence.js";
import { administeredEntity, behalfEntity } from "./entities/partner-admin.js";
import { offerEntity } from "./entities/offer.js";
import { orderEntity, orderKeyEntity } from "./entities/order.js";
import { subscriptionChangeEntity } from "./entities/subscription-change.js";
import { subscriptionEntity } from "./entities/subscription.js";
import { memberEntity, roles } from "./entities/member.js";
import { personEntity } from "./entities/person.js";
import { subtreeEntryEntity } from "./entities/subtree-entry.js";
import {
  equipmentEntity,
  equipmentExtensionsEntity,
  equipmentPrefixEntity,
  equipmentTenantEntity,
  extensionAssignmentEntity,
  sharedEquipmentEntity,
} from "./entities/equipment.js";
import { rateCounterEntity } from "./entities/rate-counter.js";

/** The entities of the single table, bound to one client and table name. */
export function createEntities(client: DynamoDBDocumentClient, table: string) {
  const config = { client, table };
  return {
    account: accountEntity(config),
    subtree: subtreeEntryEntity(config),
    person: personEntity(config),
    member: memberEntity(config),
    invitation: invitationEntity(config),
    audit: auditEventEntity(config),
    offer: offerEntity(config),
    subscription: subscriptionEntity(config),
    change: subscriptionChangeEntity(config),
    order: orderEntity(config),
    orderKey: orderKeyEntity(config),
    licence: licenceEntity(config),
    invoice: invoiceEntity(config),
    invoiceLine: invoiceLineEntity(config),
    counter: counterEntity(config),
    usage: usageEntity(config),
    due: dueEntity(config),
    sent: sentEntity(config),
    administered: administeredEntity(config),
    behalf: behalfEntity(config),
    equipment: equipmentEntity(config),
    equipmentExtensions: equipmentExtensionsEntity(config),
    equipmentPrefix: equipmentPrefixEntity(config),
    equipmentTenant: equipmentTenantEntity(config),
    sharedEquipment: sharedEquipmentEntity(config),
    extensionAssignment: extensionAssignmentEntity(config),
    rateCounter: rateCounterEntity(config),
  };
}

export type Entities = ReturnType<typeof createEntities>;
export type AccountRecord = EntityItem<Entities["account"]>;
export type MemberRecord = EntityItem<Entities["member"]>;
export type InvitationRecord = EntityItem<Entities["invitation"]>;
export type AuditRecord = EntityItem<Entities["audit"]>;
export type SubtreeRecord = EntityItem<Entities["subtree"]>;
export type OfferRecord = EntityItem<Entities["offer"]>;
export type SubscriptionRecord = EntityItem<Entities["subscription"]>;
export type ChangeRecord = EntityItem<Entities["change"]>;
export type OrderRecord = EntityItem<Entities["order"]>;
export type OrderKeyRecord = EntityItem<Entities["orderKey"]>;
export type LicenceRecord = EntityItem<Entities["licence"]>;
export type InvoiceRecord = EntityItem<Entities["invoice"]>;
export type InvoiceLineRecord = EntityItem<Entities["invoiceLine"]>;
export type UsageRecord = EntityItem<Entities["usage"]>;
export type DueRecord = EntityItem<Entities["due"]>;
export type AdministeredRecord = EntityItem<Entities["administered"]>;
export type BehalfRecord = EntityItem<Entities["behalf"]>;
export type EquipmentRecord = EntityItem<Entities["equipment"]>;
export type EquipmentTenantRecord = EntityItem<Entities["equipmentTenant"]>;
export type SharedEquipmentRecord = EntityItem<Entities["sharedEquipment"]>;
export type ExtensionAssignmentRecord = EntityItem<Entities["extensionAssignment"]>;

export const membershipSchema = z.object({
  role: z.enum(roles),
  seller: z.boolean(),
  partnerAdmin: z.boolean(),
});
export type Membership = z.infer<typeof membershipSchema>;
const membershipsSchema = z.record(z.string(), membershipSchema);

export interface PersonRecord {
  readonly email: string;
  readonly memberships: Readonly<Record<string, Membership>>;
  readonly version: number;
  readonly createdAt: string;
  readonly updatedAt: string;
}

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

/** Attempts of a transaction cancelled only by conflicts with concurrent transactions. */
const TRANSACT_ATTEMPTS = 6;

/** A key the store can batch-load in one BatchGetItem. */
export type ItemKey =
  | { readonly type: "account"; readonly id: string }
  | { readonly type: "person"; readonly email: string }
  | { readonly type: "offer"; readonly sku: string }
  | { readonly type: "subscription"; readonly accountId: string; readonly sku: string }
  | { readonly type: "orderKey"; readonly accountId: string; readonly key: string };
export type LoadedItem = AccountRecord | PersonRecord | OfferRecord | SubscriptionRecord | OrderKeyRecord | undefined;

type TransactFn = Parameters<Service<Entities>["transaction"]["write"]>[0];
/** The entities as a transaction builder sees them (ops end with `.commit()`). */
export type TxEntities = Parameters<TransactFn>[0];

/**
 * The data access layer: one function per access pattern, every list paged by cursor,
 * every multi-item change one TransactWriteItems. No scans.
 */
export class Store {
  readonly entities: Entities;
  readonly #service: Service<Entities>;
  readonly #client: DynamoDBDocumentClient;
  readonly #table: string;
  /** DynamoDB requests sent by this store (benchmarks count them). */
  requests = 0;

  constructor(client: DynamoDBDocumentClient, table: string) {
    this.#client = client;
    this.#table = table;
    this.entities = createEntities(client, table);
    this.#service = new Service(this.entities, { client, table });
    client.middlewareStack.add(
      (next) => async (args) => {
        this.requests += 1;
        return next(args);
      },
      { step: "initialize", name: "countRequests", override: true },
    );
  }

  get tableName(): string {
    return this.#table;
  }

  /**
   * Loads items by key with one BatchGetItem per 100 keys (strongly consistent: orders price
   * from what they read); result order follows `keys`.
   */
  async batchGet(keys: readonly ItemKey[]): Promise<LoadedItem[]> {
    const requests = keys.map((k) => (oversized(k) ? undefined : this.#keyOf(k)));
    // DynamoDB refuses a batch with the same key twice (ids differing only in case are one key).
    const unique = [...new Map(requests.flatMap((r) => (r ? [[`${r.pk}|${r.sk}`, r] as const] : []))).values()];
    const found = new Map<string, Record<string, unknown>>();
    for (let i = 0; i < unique.length; i += 100) {
      let pending: Record<string, string>[] | undefined = unique.slice(i, i + 100);
      for (let attempt = 0; pending && pending.length > 0; attempt++) {
        if (attempt > 5) throw new Error("BatchGetItem kept returning unprocessed keys");
        const out = await this.#client.send(
          new BatchGetCommand({ RequestItems: { [this.#table]: { Keys: pending, ConsistentRead: true } } }),
        );
        for (const item of out.Responses?.[this.#table] ?? []) found.set(`${item.pk}|${item.sk}`, item);
        pending = out.UnprocessedKeys?.[this.#table]?.Keys as Record<string, string>[] | undefined;
        if (pending?.length) await new Promise((r) => setTimeout(r, 20 * 2 ** attempt));
      }
    }
    return keys.map((k, i) => {
      const key = requests[i];
      const item = key && found.get(`${key.pk}|${key.sk}`);
      return item ? this.#parse(k, item) : undefined;
    });
  }

  #keyOf(k: ItemKey): Record<string, string> {
    const e = this.entities;
    switch (k.type) {
      case "account":
        return e.account.get({ id: k.id }).params().Key as Record<string, string>;
      case "person":
        return e.person.get({ email: k.email }).params().Key as Record<string, string>;
      case "offer":
        return e.offer.get({ sku: k.sku }).params().Key as Record<string, string>;
      case "subscription":
        return e.subscription.get({ accountId: k.accountId, sku: k.sku }).params().Key as Record<string, string>;
      case "orderKey":
        return e.orderKey.get({ accountId: k.accountId, key: k.key }).params().Key as Record<string, string>;
    }
  }

  #parse(k: ItemKey, item: Record<string, unknown>): LoadedItem {
    const e = this.entities;
    switch (k.type) {
      case "account":
        return e.account.parse({ Item: item }).data ?? undefined;
      case "person":
        return this.#toPerson(e.person.parse({ Item: item }).data);
      case "offer":
        return e.offer.parse({ Item: item }).data ?? undefined;
      case "subscription":
        return e.subscription.parse({ Item: item }).data ?? undefined;
      case "orderKey":
        return e.orderKey.parse({ Item: item }).data ?? undefined;
    }
  }

  async getAccount(id: string): Promise<AccountRecord | undefined> {
    const [a] = await this.batchGet([{ type: "account", id }]);
    return a as AccountRecord | undefined;
  }

  async getPerson(email: string): Promise<PersonRecord | undefined> {
    const [p] = await this.batchGet([{ type: "person", email }]);
    return p as PersonRecord | undefined;
  }

  #toPerson(data: EntityItem<Entities["person"]> | null): PersonRecord | undefined {
    if (!data) return undefined;
    return { ...data, memberships: membershipsSchema.parse(data.memberships) };
  }

  /** Children of an account, ordered by name, optionally by name prefix or reference prefix. */
  async listChildren(
    parentId: string,
    opts: { namePrefix?: string; referencePrefix?: string; limit: number; cursor?: string | null },
  ): Promise<Page<AccountRecord>> {
    const e = this.entities.account;
    return opts.referencePrefix !== undefined
      ? this.#page(cursorOf(e, "childrenByReference"), e.query.childrenByReference({ parentId }).begins({ referenceKey: opts.referencePrefix }), opts)
      : this.#page(cursorOf(e, "childrenByName"), e.query.childrenByName({ parentId }).begins({ nameKey: opts.namePrefix ?? "" }), opts);
  }

  /** Descendants of an account (any depth) whose name or reference starts with a prefix. */
  async searchSubtree(
    ancestorId: string,
    opts: { namePrefix?: string; referencePrefix?: string; limit: number; cursor?: string | null },
  ): Promise<Page<SubtreeRecord>> {
    const e = this.entities.subtree;
    return opts.referencePrefix !== undefined
      ? this.#page(cursorOf(e, "byAncestorReference"), e.query.byAncestorReference({ ancestorId }).begins({ referenceKey: opts.referencePrefix }), opts)
      : this.#page(cursorOf(e, "byAncestorName"), e.query.byAncestorName({ ancestorId }).begins({ nameKey: opts.namePrefix ?? "" }), opts);
  }

  /** Every descendant entry of an account, all pages (account moves; bounded by the caller). */
  async listSubtree(ancestorId: string, max: number): Promise<SubtreeRecord[]> {
    const e = this.entities.subtree;
    const out: SubtreeRecord[] = [];
    let cursor: string | null = null;
    for (;;) {
      const page: Page<SubtreeRecord> = await this.#page(cursorOf(e, "byAncestor"), e.query.byAncestor({ ancestorId }), { limit: 100, cursor });
      out.push(...page.items.map((i) => i.node));
      if (!page.hasNextPage || out.length > max) return out;
      cursor = page.items.at(-1)!.cursor;
    }
  }

  async getMember(accountId: string, email: string): Promise<MemberRecord | undefined> {
    const r = await this.entities.member.get({ accountId, email }).go();
    return r.data ?? undefined;
  }

  async listMembers(accountId: string, limit: number, cursor?: string | null): Promise<Page<MemberRecord>> {
    const e = this.entities.member;
    return this.#page(cursorOf(e, "byAccount"), e.query.byAccount({ accountId }), { limit, cursor });
  }

  /** Active owners of an account (small: an account has a handful of members). */
  async listOwners(accountId: string): Promise<MemberRecord[]> {
    const out: MemberRecord[] = [];
    let cursor: string | null = null;
    for (;;) {
      const page: Page<MemberRecord> = await this.listMembers(accountId, 100, cursor);
      out.push(...page.items.map((i) => i.node).filter((m) => m.role === "OWNER" && m.status === "ACTIVE"));
      if (!page.hasNextPage) return out;
      cursor = page.items.at(-1)!.cursor;
    }
  }

  async getInvitation(tokenHash: string): Promise<InvitationRecord | undefined> {
    const r = await this.entities.invitation.get({ tokenHash }).go();
    return r.data ?? undefined;
  }

  async listInvitations(accountId: string, limit: number, cursor?: string | null): Promise<Page<InvitationRecord>> {
    const e = this.entities.invitation;
    return this.#page(cursorOf(e, "byAccount"), e.query.byAccount({ accountId }), { limit, cursor });
  }

  /** History of an account, newest first. */
  async listAudit(accountId: string, limit: number, cursor?: string | null): Promise<Page<AuditRecord>> {
    const e = this.entities.audit;
    return this.#page(cursorOf(e, "byAccount"), e.query.byAccount({ accountId }), { limit, cursor, order: "desc" });
  }

  async getOffers(skus: readonly string[]): Promise<(OfferRecord | undefined)[]> {
    return (await this.batchGet(skus.map((sku) => ({ type: "offer" as const, sku })))) as (OfferRecord | undefined)[];
  }

  /** The operators' catalog, by sku. */
  async listCatalog(limit: number, cursor?: string | null): Promise<Page<OfferRecord>> {
    const e = this.entities.offer;
    return this.#page(cursorOf(e, "catalog"), e.query.catalog({ catalog: "catalog" }), { limit, cursor });
  }

  /** Every offer of the catalog (operators' view of the platform; tens of items). */
  async allCatalog(): Promise<OfferRecord[]> {
    return this.#all((cursor) => this.listCatalog(100, cursor));
  }

  async getSubscriptions(accountId: string, skus: readonly string[]): Promise<(SubscriptionRecord | undefined)[]> {
    return (await this.batchGet(skus.map((sku) => ({ type: "subscription" as const, accountId, sku })))) as (SubscriptionRecord | undefined)[];
  }

  /** Subscriptions of an account by sku, optionally of one status. */
  async listSubscriptions(accountId: string, opts: { status?: SubscriptionRecord["status"]; limit: number; cursor?: string | null }): Promise<Page<SubscriptionRecord>> {
    const e = this.entities.subscription;
    const q = e.query.byAccount({ accountId });
    const status = opts.status;
    return this.#page(cursorOf(e, "byAccount"), status ? q.where((a, op) => op.eq(a.status, status)) : q, { ...opts, filtered: !!status });
  }

  /** Every subscription of an account (an account holds at most one per offer). */
  async allSubscriptions(accountId: string): Promise<SubscriptionRecord[]> {
    return this.#all((cursor) => this.listSubscriptions(accountId, { limit: 100, cursor }));
  }

  /** Ledger of one subscription, newest first. */
  async listChanges(accountId: string, sku: string, limit: number, cursor?: string | null): Promise<Page<ChangeRecord>> {
    const e = this.entities.change;
    return this.#page(cursorOf(e, "bySubscription"), e.query.bySubscription({ accountId, sku }), { limit, cursor, order: "desc" });
  }

  /** Ledger of all subscriptions of an account, newest first. */
  async listAccountChanges(accountId: string, limit: number, cursor?: string | null): Promise<Page<ChangeRecord>> {
    const e = this.entities.change;
    return this.#page(cursorOf(e, "byAccount"), e.query.byAccount({ accountId }), { limit, cursor, order: "desc" });
  }

  async getOrder(accountId: string, id: string): Promise<OrderRecord | undefined> {
    return (await this.entities.order.get({ accountId, id }).go({ consistent: true })).data ?? undefined;
  }

  /** Orders of an account, newest first. */
  async listOrders(accountId: string, limit: number, cursor?: string | null): Promise<Page<OrderRecord>> {
    const e = this.entities.order;
    return this.#page(cursorOf(e, "byAccount"), e.query.byAccount({ accountId }), { limit, cursor, order: "desc" });
  }

  async getOrderKey(accountId: string, key: string): Promise<OrderKeyRecord | undefined> {
    return (await this.entities.orderKey.get({ accountId, key }).go({ consistent: true })).data ?? undefined;
  }

  async getLicence(accountId: string, email: string, family: string): Promise<LicenceRecord | undefined> {
    return (await this.entities.licence.get({ accountId, email, family }).go({ consistent: true })).data ?? undefined;
  }

  /** Licences a member holds on an account (one per family: a handful). */
  async licencesOfMember(accountId: string, email: string): Promise<LicenceRecord[]> {
    const e = this.entities.licence;
    return this.#all((cursor) => this.#page(cursorOf(e, "byMember"), e.query.byMember({ accountId, email }), { limit: 100, cursor }));
  }

  /** Holders of a subscription's licences, by e-mail. */
  async listLicences(accountId: string, sku: string, limit: number, cursor?: string | null): Promise<Page<LicenceRecord>> {
    const e = this.entities.licence;
    return this.#page(cursorOf(e, "bySubscription"), e.query.bySubscription({ accountId, sku }), { limit, cursor });
  }

  async getInvoice(partyId: string, period: string): Promise<InvoiceRecord | undefined> {
    return (await this.entities.invoice.get({ partyId, period }).go({ consistent: true })).data ?? undefined;
  }

  /** Invoices of a billed party, newest month first. */
  async listInvoices(partyId: string, limit: number, cursor?: string | null): Promise<Page<InvoiceRecord>> {
    const e = this.entities.invoice;
    return this.#page(cursorOf(e, "byParty"), e.query.byParty({ partyId }), { limit, cursor, order: "desc" });
  }

  /** Claims the mailing of an invoice: true for the one caller that set `mailedAt`. */
  async claimInvoiceMail(partyId: string, period: string, at: string): Promise<boolean> {
    try {
      await this.transact((e) => [e.invoice.patch({ partyId, period }).set({ mailedAt: at }).where((i, op) => op.notExists(i.mailedAt)).commit()]);
      return true;
    } catch (err) {
      if (err instanceof ConditionFailed) return false;
      throw err;
    }
  }

  async releaseInvoiceMail(partyId: string, period: string): Promise<void> {
    await this.entities.invoice.patch({ partyId, period }).remove(["mailedAt"]).go();
  }

  /** Writes invoice lines with BatchWriteItem (25 a request); same keys, same items on a rerun. */
  async putInvoiceLines(lines: readonly InvoiceLineRecord[]): Promise<void> {
    for (let i = 0; i < lines.length; i += 25) {
      const chunk = lines.slice(i, i + 25) as InvoiceLineRecord[];
      for (let attempt = 0; ; attempt++) {
        const { unprocessed } = await this.entities.invoiceLine.put(chunk).go();
        if (unprocessed.length === 0) break;
        if (attempt > 6) throw new Error("BatchWriteItem kept returning unprocessed items");
        await new Promise((r) => setTimeout(r, 20 * 2 ** attempt));
        chunk.splice(0, chunk.length, ...(unprocessed as unknown as InvoiceLineRecord[]).map((k) => chunk.find((l) => l.lineNo === (k as { lineNo: number }).lineNo)!));
      }
    }
  }

  /** Lines 1..lineCount of an invoice (lines past the count are leftovers of an abandoned attempt). */
  async listInvoiceLines(partyId: string, period: string, lineCount: number, limit: number, cursor?: string | null): Promise<Page<InvoiceLineRecord>> {
    const e = this.entities.invoiceLine;
    const page = await this.#page(cursorOf(e, "byInvoice"), e.query.byInvoice({ partyId, period }).lte({ lineNo: lineCount }), { limit, cursor });
    return page;
  }

  async allInvoiceLines(partyId: string, period: string, lineCount: number): Promise<InvoiceLineRecord[]> {
    return this.#all((cursor) => this.listInvoiceLines(partyId, period, lineCount, 100, cursor));
  }

  /** Current value of a sequence (0 before its first use). */
  async counterValue(name: string): Promise<number> {
    return (await this.entities.counter.get({ name }).go({ consistent: true })).data?.value ?? 0;
  }

  /** Recorded usage of one offer by one account in one month. */
  async usageTotal(accountId: string, sku: string, period: string): Promise<number> {
    const e = this.entities.usage;
    const items = await this.#all((cursor) => this.#page(cursorOf(e, "byAccount"), e.query.byAccount({ accountId, sku, period }), { limit: 100, cursor }));
    return items.reduce((sum, u) => sum + u.quantity, 0);
  }

  async getUsage(accountId: string, sku: string, period: string, key: string): Promise<UsageRecord | undefined> {
    return (await this.entities.usage.get({ accountId, sku, period, key }).go({ consistent: true })).data ?? undefined;
  }

  /** Orders of an account placed in [start, end) (orders are read newest first; ids are ULIDs, in time order). */
  async ordersBetween(accountId: string, start: Date, end: Date): Promise<OrderRecord[]> {
    const out: OrderRecord[] = [];
    let cursor: string | null = null;
    for (;;) {
      const page: Page<OrderRecord> = await this.listOrders(accountId, 100, cursor);
      for (const { node } of page.items) {
        const at = new Date(node.placedAt);
        if (at < start) return out;
        if (at < end) out.push(node);
      }
      if (!page.hasNextPage) return out;
      cursor = page.items.at(-1)!.cursor;
    }
  }

  async getSubscription(accountId: string, sku: string): Promise<SubscriptionRecord | undefined> {
    return (await this.entities.subscription.get({ accountId, sku }).go({ consistent: true })).data ?? undefined;
  }

  /** Lifecycle markers of one day. */
  async listDue(day: string): Promise<DueRecord[]> {
    const e = this.entities.due;
    return this.#all((cursor) => this.#page(cursorOf(e, "byDay"), e.query.byDay({ day }), { limit: 100, cursor }));
  }

  /** Records that a one-off mail went out; false when it already had. */
  async markSent(key: string, at: string): Promise<boolean> {
    try {
      await this.transact((e) => [e.sent.create({ key, at }).commit()]);
      return true;
    } catch (err) {
      if (err instanceof ConditionFailed) return false;
      throw err;
    }
  }

  async setPendingDeletion(accountId: string, at: string | null): Promise<void> {
    const p = this.entities.account.patch({ id: accountId });
    await (at ? p.set({ pendingDeletionAt: at }) : p.remove(["pendingDeletionAt"])).go();
  }

  async allInvitations(accountId: string): Promise<InvitationRecord[]> {
    return this.#all((cursor) => this.listInvitations(accountId, 100, cursor));
  }

  async allMembers(accountId: string): Promise<MemberRecord[]> {
    return this.#all((cursor) => this.listMembers(accountId, 100, cursor));
  }

  /** The partition every item an account owns lives in (members, subscriptions, orders, licences, audit, usage, keys). */
  accountPartition(accountId: string): string {
    return this.entities.member.query.byAccount({ accountId }).params().ExpressionAttributeValues[":pk"] as string;
  }

  /** The partition of one subscription's ledger. */
  ledgerPartition(accountId: string, sku: string): string {
    return this.entities.change.query.bySubscription({ accountId, sku }).params().ExpressionAttributeValues[":pk"] as string;
  }

  /** Deletes every item of a partition, whatever its entity (account deletion), in BatchWriteItem requests. */
  async deletePartition(pk: string): Promise<number> {
    let deleted = 0;
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.#client.send(
        new QueryCommand({ TableName: this.#table, KeyConditionExpression: "#pk = :pk", ExpressionAttributeNames: { "#pk": "pk" }, ExpressionAttributeValues: { ":pk": pk }, ProjectionExpression: "pk, sk", ...(start ? { ExclusiveStartKey: start } : {}) }),
      );
      const keys = (page.Items ?? []).map((i) => ({ pk: i.pk as string, sk: i.sk as string }));
      for (let i = 0; i < keys.length; i += 25) {
        let pending = keys.slice(i, i + 25).map((Key) => ({ DeleteRequest: { Key } }));
        for (let attempt = 0; pending.length > 0; attempt++) {
          if (attempt > 6) throw new Error("BatchWriteItem kept returning unprocessed deletes");
          const out = await this.#client.send(new BatchWriteCommand({ RequestItems: { [this.#table]: pending } }));
          pending = (out.UnprocessedItems?.[this.#table] ?? []) as typeof pending;
          if (pending.length) await new Promise((r) => setTimeout(r, 20 * 2 ** attempt));
        }
      }
      deleted += keys.length;
      start = page.LastEvaluatedKey;
    } while (start);
    return deleted;
  }

  /** Opted-in customers of a reseller, by name; expired opt-ins filtered out. */
  async listAdministered(
    resellerId: string,
    opts: { prefix: string; limit: number; cursor?: string | null; descending: boolean; now: string },
  ): Promise<Page<AdministeredRecord>> {
    const e = this.entities.administered;
    const q = e.query.byName({ resellerId }).begins({ nameKey: opts.prefix }).where((a, op) => `${op.notExists(a.until)} OR ${op.gt(a.until, opts.now)}`);
    return this.#page(cursorOf(e, "byName"), q, { limit: opts.limit, cursor: opts.cursor, order: opts.descending ? "desc" : "asc", filtered: true });
  }

  /** Actions done on behalf of a customer, newest first. */
  async listBehalf(customerId: string, limit: number, cursor?: string | null): Promise<Page<BehalfRecord>> {
    const e = this.entities.behalf;
    return this.#page(cursorOf(e, "byCustomer"), e.query.byCustomer({ customerId }), { limit, cursor, order: "desc" });
  }

  async getEquipment(accountId: string, equipmentId: string): Promise<EquipmentRecord | undefined> {
    if (oversized({ accountId, equipmentId })) return undefined;
    return (await this.entities.equipment.get({ accountId, equipmentId }).go({ consistent: true })).data ?? undefined;
  }

  /** Equipment items by key in one BatchGetItem per 100 keys (the PBXs shared with a customer); result order follows `keys`. */
  async getEquipments(keys: readonly { accountId: string; equipmentId: string }[]): Promise<(EquipmentRecord | undefined)[]> {
    const out: (EquipmentRecord | undefined)[] = [];
    for (let i = 0; i < keys.length; i += 100) {
      const chunk = keys.slice(i, i + 100);
      const { data, unprocessed } = await this.entities.equipment.get(chunk.map((k) => ({ ...k }))).go({ consistent: true, preserveBatchOrder: true });
      if (unprocessed.length) throw new Error("BatchGetItem returned unprocessed equipment keys");
      out.push(...data.map((d) => d ?? undefined));
    }
    return out;
  }

  /** The equipment a device id was issued to (activation: the PBX knows nothing else). */
  async findEquipmentByDevice(deviceId: string): Promise<EquipmentRecord | undefined> {
    if (deviceId.length > MAX_ID) return undefined;
    const { data } = await this.entities.equipment.query.byDevice({ deviceId }).go({ limit: 1 });
    return data[0];
  }

  /**
   * Equipment of an account by id, optionally of one connection state: `connectedSince` is the
   * oldest heartbeat that still counts as CONNECTED (DISCONNECTED is decided at read time).
   */
  async listEquipment(
    accountId: string,
    opts: { status?: "PENDING" | "CONNECTED" | "DISCONNECTED" | null; connectedSince: string; limit: number; cursor?: string | null },
  ): Promise<Page<EquipmentRecord>> {
    const e = this.entities.equipment;
    const since = opts.connectedSince;
    const q = e.query.byAccount({ accountId }).where((x, op) => {
      const live = op.notExists(x.removing);
      switch (opts.status) {
        case "PENDING":
          return `${live} AND ${op.eq(x.status, "PENDING")}`;
        case "CONNECTED":
          return `${live} AND ${op.eq(x.status, "CONNECTED")} AND ${op.gte(x.lastSeenAt, since)}`;
        case "DISCONNECTED":
          return `${live} AND ${op.eq(x.status, "CONNECTED")} AND (${op.notExists(x.lastSeenAt)} OR ${op.lt(x.lastSeenAt, since)})`;
        default:
          return live;
      }
    });
    return this.#page(cursorOf(e, "byAccount"), q, { limit: opts.limit, cursor: opts.cursor, filtered: true });
  }

  /** The partners' PBXs a customer is attached to (a handful). */
  async allSharedEquipment(customerId: string): Promise<SharedEquipmentRecord[]> {
    const e = this.entities.sharedEquipment;
    return this.#all((cursor) => this.#page(cursorOf(e, "byCustomer"), e.query.byCustomer({ customerId }), { limit: 100, cursor }));
  }

  async getSharedEquipment(customerId: string, equipmentId: string): Promise<SharedEquipmentRecord | undefined> {
    if (oversized({ customerId, equipmentId })) return undefined;
    return (await this.entities.sharedEquipment.get({ customerId, equipmentId }).go({ consistent: true })).data ?? undefined;
  }

  /** The extensions a PBX last reported (empty before its first report). */
  async reportedExtensions(accountId: string, equipmentId: string): Promise<string[]> {
    return (await this.entities.equipmentExtensions.get({ accountId, equipmentId }).go({ consistent: true })).data?.numbers ?? [];
  }

  /** Customers attached to a multi-tenant PBX, by customer id. */
  async listEquipmentTenants(accountId: string, equipmentId: string, limit: number, cursor?: string | null): Promise<Page<EquipmentTenantRecord>> {
    const e = this.entities.equipmentTenant;
    return this.#page(cursorOf(e, "byEquipment"), e.query.byEquipment({ accountId, equipmentId }), { limit, cursor });
  }

  async allEquipmentTenants(accountId: string, equipmentId: string): Promise<EquipmentTenantRecord[]> {
    return this.#all((cursor) => this.listEquipmentTenants(accountId, equipmentId, 100, cursor));
  }

  /** Extension associations of a PBX, by extension. */
  async listEquipmentAssignments(accountId: string, equipmentId: string, limit: number, cursor?: string | null): Promise<Page<ExtensionAssignmentRecord>> {
    const e = this.entities.extensionAssignment;
    return this.#page(cursorOf(e, "byEquipment"), e.query.byEquipment({ accountId, equipmentId }), { limit, cursor });
  }

  async getExtensionAssignment(accountId: string, equipmentId: string, extension: string): Promise<ExtensionAssignmentRecord | undefined> {
    if (oversized({ accountId, equipmentId, extension })) return undefined;
    return (await this.entities.extensionAssignment.get({ accountId, equipmentId, extension }).go({ consistent: true })).data ?? undefined;
  }

  /** Extension associations of an account's members, optionally on one PBX, by PBX and extension. */
  async listCustomerAssignments(customerId: string, opts: { equipmentId?: string; limit: number; cursor?: string | null }): Promise<Page<ExtensionAssignmentRecord>> {
    const e = this.entities.extensionAssignment;
    const q = opts.equipmentId ? e.query.byCustomer({ customerId, equipmentId: opts.equipmentId }) : e.query.byCustomer({ customerId });
    return this.#page(cursorOf(e, "byCustomer"), q, opts);
  }

  /**
   * Records a heartbeat: `lastSeenAt` moves only while the credential version is the current one
   * and the equipment is paired. False when the condition failed (revoked, removed, not paired).
   */
  async touchEquipment(accountId: string, equipmentId: string, version: number, at: string): Promise<boolean> {
    if (oversized({ accountId, equipmentId })) return false;
    const r = await this.entities.equipment
      .patch({ accountId, equipmentId })
      .set({ lastSeenAt: at })
      .where((x, op) => `${op.eq(x.credentialVersion, version)} AND ${op.eq(x.status, "CONNECTED")} AND ${op.notExists(x.removing)}`)
      .go({ response: "none", returnOnConditionCheckFailure: true });
    return !r.rejected;
  }

  /**
   * Deletes the tenants (all three items of each) and extension associations of a PBX in
   * BatchWriteItem requests; the caller has flagged the PBX `removing`, so none are added meanwhile.
   */
  async deleteEquipmentChildren(accountId: string, equipmentId: string): Promise<{ tenants: EquipmentTenantRecord[]; assignments: number }> {
    const e = this.entities;
    const tenants = await this.allEquipmentTenants(accountId, equipmentId);
    await this.#batchDelete(e.sharedEquipment, tenants.map((t) => ({ customerId: t.customerId, equipmentId })));
    await this.#batchDelete(e.equipmentPrefix, tenants.map((t) => ({ accountId, equipmentId, companyPrefix: t.companyPrefix })));
    await this.#batchDelete(e.equipmentTenant, tenants.map((t) => ({ accountId, equipmentId, customerId: t.customerId })));
    let assignments = 0;
    for (;;) {
      // Always the first page: each round deletes what it read.
      const page = await this.listEquipmentAssignments(accountId, equipmentId, 100);
      await this.#batchDelete(e.extensionAssignment, page.items.map(({ node }) => ({ accountId, equipmentId, extension: node.extension })));
      assignments += page.items.length;
      if (!page.hasNextPage) return { tenants, assignments };
    }
  }

  async #batchDelete<K extends object>(entity: { delete: (keys: K[]) => { go: () => Promise<{ unprocessed: unknown[] }> } }, keys: K[]): Promise<void> {
    for (let i = 0; i < keys.length; i += 25) {
      const chunk = keys.slice(i, i + 25);
      for (let attempt = 0; ; attempt++) {
        const { unprocessed } = await entity.delete(chunk).go();
        if (unprocessed.length === 0) break;
        if (attempt > 6) throw new Error("BatchWriteItem kept returning unprocessed deletes");
        await new Promise((r) => setTimeout(r, 20 * 2 ** attempt));
      }
    }
  }

  async #all<T>(list: (cursor: string | null) => Promise<Page<T>>): Promise<T[]> {
    const out: T[] = [];
    let cursor: string | null = null;
    for (;;) {
      const page: Page<T> = await list(cursor);
      out.push(...page.items.map((i) => i.node));
      if (!page.hasNextPage) return out;
      cursor = page.items.at(-1)!.cursor;
    }
  }

  /**
   * Runs one TransactWriteItems built from the entities. A failed condition becomes
   * `ConditionFailed` with the cancellation reason of each item.
   */
  async transact(build: TransactFn): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      // The token makes the SDK's own retries of this call idempotent (a commit is never applied twice).
      const result = await this.#service.transaction.write(build).go({ token: randomUUID() });
      if (!result.canceled) return;
      const reasons = (result.data as ReadonlyArray<{ code?: string }>).map((d) => d.code ?? "None");
      // Another transaction held one of the items: transient, so try again; a failed condition is an answer.
      const conflictOnly = reasons.includes("TransactionConflict") && !reasons.includes("ConditionalCheckFailed");
      if (!conflictOnly || attempt >= TRANSACT_ATTEMPTS) throw new ConditionFailed(reasons);
      await new Promise((r) => setTimeout(r, Math.random() * 10 * 2 ** attempt));
    }
  }

  /**
   * One Query of `limit + 1` items: the extra item only tells whether a next page exists.
   * Each item's cursor is derived from its own keys, so a client may resume after any edge.
   */
  async #page<T extends object>(
    toCursor: (item: T) => string,
    query: { go: (o: { limit: number; cursor: string | null; order: "asc" | "desc"; count?: number; pages?: "all" }) => Promise<{ data: T[] }> },
    opts: { limit: number; cursor?: string | null | undefined; order?: "asc" | "desc"; filtered?: boolean },
  ): Promise<Page<T>> {
    let data: T[];
    try {
      // A filter applies after DynamoDB's Limit: a filtered list reads on until it has limit + 1 matches.
      const more = opts.filtered ? { count: opts.limit + 1, pages: "all" as const } : {};
      data = (await query.go({ limit: opts.limit + 1, cursor: opts.cursor ?? null, order: opts.order ?? "asc", ...more })).data;
    } catch (err) {
      if (opts.cursor && isCursorError(err)) throw new BadCursor();
      throw err;
    }
    return {
      items: data.slice(0, opts.limit).map((node) => ({ node, cursor: toCursor(node) })),
      hasNextPage: data.length > opts.limit,
    };
  }
}

/** Ids longer than any the service issues cannot exist: answered as missing, never sent to DynamoDB. */
const MAX_ID = 200;
function oversized(k: ItemKey | Record<string, string>): boolean {
  return Object.values(k).some((v) => v.length > MAX_ID);
}

/** The cursor of an item in a given access pattern, derived from the item's own composite attributes. */
const conversions = new WeakMap<object, Record<string, { fromComposite: { toCursor: (c: never) => string } }>>();
function cursorOf(entity: object, accessPattern: string) {
  let patterns = conversions.get(entity);
  if (!patterns) {
    // Built once per entity: the conversion tables are costly to derive on every page.
    patterns = createConversions(entity as never).byAccessPattern as Record<string, { fromComposite: { toCursor: (c: never) => string } }>;
    conversions.set(entity, patterns);
  }
  const convert = patterns[accessPattern]!.fromComposite.toCursor;
  return <T>(item: T): string => convert(item as never);
}

function isCursorError(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const name = err.name;
  const msg = err.message.toLowerCase();
  return name === "ValidationException" || msg.includes("cursor") || msg.includes("exclusivestartkey") || msg.includes("starting key");
}
