import { StoreBase, cursorOf, oversized, GO } from "./base.js";
import type { Page } from "./base.js";
import type {
  ChangeRecord,
  LicenceRecord,
  OfferRecord,
  OrderKeyRecord,
  OrderRecord,
  SubscriptionRecord,
  TrialEntryRecord,
} from "./records.js";

/** Commerce: the catalog, subscriptions and their ledger, orders, licences. */
export class CommerceStore extends StoreBase {
  async getOffers(skus: readonly string[]): Promise<(OfferRecord | undefined)[]> {
    return (await this.batchGet(skus.map((sku) => ({ type: "offer" as const, sku })))) as (OfferRecord | undefined)[];
  }

  /** The operators' catalog, by sku. */
  async listCatalog(limit: number, cursor?: string | null): Promise<Page<OfferRecord>> {
    const e = this.entities.offer;
    return this.page(cursorOf(e, "catalog"), e.query.catalog({ catalog: "catalog" }), { limit, cursor });
  }

  /** Every offer of the catalog (operators' view of the platform; tens of items). */
  async allCatalog(): Promise<OfferRecord[]> {
    return this.all((limit, cursor) => this.listCatalog(limit, cursor));
  }

  async getSubscription(accountId: string, sku: string): Promise<SubscriptionRecord | undefined> {
    return (await this.entities.subscription.get({ accountId, sku }).go({ ...GO, consistent: true })).data ?? undefined;
  }

  async getSubscriptions(accountId: string, skus: readonly string[]): Promise<(SubscriptionRecord | undefined)[]> {
    return (await this.batchGet(skus.map((sku) => ({ type: "subscription" as const, accountId, sku })))) as (
      | SubscriptionRecord
      | undefined
    )[];
  }

  /** Subscriptions of an account by sku, optionally of one status. */
  async listSubscriptions(
    accountId: string,
    opts: { status?: SubscriptionRecord["status"]; limit: number; cursor?: string | null },
  ): Promise<Page<SubscriptionRecord>> {
    const e = this.entities.subscription;
    const q = e.query.byAccount({ accountId });
    const status = opts.status;
    return this.page(cursorOf(e, "byAccount"), status ? q.where((a, op) => op.eq(a.status, status)) : q, {
      ...opts,
      filtered: !!status,
    });
  }

  /** Every subscription of an account (an account holds at most one per offer). */
  async allSubscriptions(accountId: string): Promise<SubscriptionRecord[]> {
    return this.all((limit, cursor) => this.listSubscriptions(accountId, { limit, cursor }));
  }

  /** Ledger of one subscription, newest first. */
  async listChanges(
    accountId: string,
    sku: string,
    limit: number,
    cursor?: string | null,
  ): Promise<Page<ChangeRecord>> {
    const e = this.entities.change;
    return this.page(cursorOf(e, "bySubscription"), e.query.bySubscription({ accountId, sku }), {
      limit,
      cursor,
      order: "desc",
    });
  }

  /** One ledger entry: the change that brought the subscription to this version. */
  async getChange(accountId: string, sku: string, version: number): Promise<ChangeRecord | undefined> {
    if (oversized({ accountId, sku })) return undefined;
    return (await this.entities.change.get({ accountId, sku, version }).go(GO)).data ?? undefined;
  }

  /** Ledger of all subscriptions of an account, newest first. */
  async listAccountChanges(accountId: string, limit: number, cursor?: string | null): Promise<Page<ChangeRecord>> {
    const e = this.entities.change;
    return this.page(cursorOf(e, "byAccount"), e.query.byAccount({ accountId }), { limit, cursor, order: "desc" });
  }

  async getOrder(accountId: string, id: string): Promise<OrderRecord | undefined> {
    return (await this.entities.order.get({ accountId, id }).go({ ...GO, consistent: true })).data ?? undefined;
  }

  /** Orders of an account, newest first. */
  async listOrders(accountId: string, limit: number, cursor?: string | null): Promise<Page<OrderRecord>> {
    const e = this.entities.order;
    return this.page(cursorOf(e, "byAccount"), e.query.byAccount({ accountId }), { limit, cursor, order: "desc" });
  }

  /** Orders of an account placed in [start, end) (orders are read newest first; ids are ULIDs, in time order). */
  async ordersBetween(accountId: string, start: Date, end: Date): Promise<OrderRecord[]> {
    const placed = (o: OrderRecord) => new Date(o.placedAt);
    const read = await this.all(
      (limit, cursor) => this.listOrders(accountId, limit, cursor),
      (orders) => placed(orders.at(-1)!) < start,
    );
    return read.filter((o) => placed(o) >= start && placed(o) < end);
  }

  async getOrderKey(accountId: string, key: string): Promise<OrderKeyRecord | undefined> {
    return (await this.entities.orderKey.get({ accountId, key }).go({ ...GO, consistent: true })).data ?? undefined;
  }

  async getLicence(accountId: string, email: string, family: string): Promise<LicenceRecord | undefined> {
    return (
      (await this.entities.licence.get({ accountId, email, family }).go({ ...GO, consistent: true })).data ?? undefined
    );
  }

  /** Licences a member holds on an account (one per family: a handful). */
  async licencesOfMember(accountId: string, email: string): Promise<LicenceRecord[]> {
    const e = this.entities.licence;
    return this.all((limit, cursor) =>
      this.page(cursorOf(e, "byMember"), e.query.byMember({ accountId, email }), { limit, cursor }),
    );
  }

  /** Holders of a subscription's licences, by e-mail. */
  async listLicences(
    accountId: string,
    sku: string,
    limit: number,
    cursor?: string | null,
  ): Promise<Page<LicenceRecord>> {
    const e = this.entities.licence;
    return this.page(cursorOf(e, "bySubscription"), e.query.bySubscription({ accountId, sku }), { limit, cursor });
  }

  /**
   * Active trials in an account's reach (its own and its subtree's), soonest end first; with
   * `endsBy`, only those ending by then (ISO instant).
   */
  async listTrials(
    reachId: string,
    opts: { limit: number; cursor?: string | null; endsBy?: string },
  ): Promise<Page<TrialEntryRecord>> {
    const e = this.entities.trialEntry;
    const q = e.query.byReach({ reachId });
    return this.page(cursorOf(e, "byReach"), opts.endsBy ? q.lte({ endsAt: opts.endsBy }) : q, opts);
  }
}
