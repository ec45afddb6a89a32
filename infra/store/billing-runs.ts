import { createConversions } from "electrodb";
import type { EntityItem } from "electrodb";
import { ConditionFailed, GO, StoreBase } from "./base.js";
import { batchWriteRequests } from "./batches.js";
import type { TableKey } from "./batches.js";
import type { Entities, SubscriptionRecord } from "./records.js";

/*
 * Storage of billing runs: the billed-party index of subscriptions, runs, chunk
 * results, line blocks, watermarks, departures and the invoice mail lease. Every list reads
 * all its pages (the callers bound what they ask for).
 */

export type BillingRunRecord = EntityItem<Entities["billingRun"]>;
export type BillingChunkRecord = EntityItem<Entities["billingChunk"]>;
export type BillingRangeRecord = EntityItem<Entities["billingRange"]>;
export type LineBlockRecord = EntityItem<Entities["invoiceLines"]>;
export type BillingStateRecord = EntityItem<Entities["billingState"]>;
export type DepartureRecord = EntityItem<Entities["partyDeparture"]>;

/** Lines per block item (a line is ~250 bytes of JSON: a block stays far below DynamoDB's 400 KB). */
export const BLOCK_LINES = 200;

/** A window of a party's index: whole accounts' subscriptions, and the cursor of the next account (null at the end). */
export interface IndexWindow {
  readonly subs: SubscriptionRecord[];
  readonly next: string | null;
}

let toCursor: ((item: object) => string) | undefined;
// A module function, not a #private method: the areas' methods are copied onto one Store class.
function partyCursor(entities: Entities): (item: object) => string {
  toCursor ??= createConversions(entities.subscription).byAccessPattern.byParty.fromComposite.toCursor as (
    item: object,
  ) => string;
  return toCursor;
}

/** Billing runs: the billed-party index, runs, chunks, line blocks, watermarks, departures, the mail lease. */
export class BillingRunStore extends StoreBase {
  /**
   * The subscriptions of the next `accounts` accounts of a party's index after a cursor ("" = from
   * the start), read a page at a time, and where the account after them starts: a chunk's work, bounded
   * by its size whatever the party's.
   */
  async partyWindow(partyId: string, after: string, accounts: number): Promise<IndexWindow> {
    const subs: SubscriptionRecord[] = [];
    const cursorOf = partyCursor(this.entities);
    let seen = 0;
    let prev: string | undefined;
    let cursor: string | null = after || null;
    do {
      const page: { data: SubscriptionRecord[]; cursor: string | null } = await this.entities.subscription.query
        .byParty({ partyId })
        .go({ ...GO, cursor, limit: 500 });
      for (const sub of page.data) {
        if (sub.accountId !== prev) {
          if (seen === accounts) return { subs, next: cursorOf(subs.at(-1)!) };
          seen += 1;
          prev = sub.accountId;
        }
        subs.push(sub);
      }
      cursor = page.cursor;
    } while (cursor);
    return { subs, next: null };
  }

  /** `count` subscriptions of a party's index after a cursor ("" = from the start). */
  async partySubscriptions(partyId: string, after: string, count: number): Promise<SubscriptionRecord[]> {
    if (count === 0) return [];
    const { data } = await this.entities.subscription.query
      .byParty({ partyId })
      .go({ ...GO, cursor: after || null, count, pages: "all" });
    return data;
  }

  /** Accounts that left a party at or after an instant (moves are rare: a handful of items). */
  async departuresSince(partyId: string, at: string): Promise<DepartureRecord[]> {
    const { data } = await this.entities.partyDeparture.query
      .byParty({ partyId })
      .gte({ at })
      .go({ ...GO, pages: "all" });
    return data;
  }

  async getRun(partyId: string, period: string): Promise<BillingRunRecord | undefined> {
    return (await this.entities.billingRun.get({ partyId, period }).go({ ...GO, consistent: true })).data ?? undefined;
  }

  /** Creates the run item and its first chunk's range once; a concurrent or earlier planner's item wins and is returned. */
  async createRun(run: BillingRunRecord): Promise<BillingRunRecord> {
    try {
      await this.transact((e) => [
        e.billingRun.create(run).commit(),
        e.billingRange.create({ partyId: run.partyId, period: run.period, chunkNo: 0, start: "" }).commit(),
      ]);
      return run;
    } catch (err) {
      if (!(err instanceof ConditionFailed)) throw err;
      const existing = await this.getRun(run.partyId, run.period);
      if (!existing) throw err;
      return existing;
    }
  }

  async getRange(partyId: string, period: string, chunkNo: number): Promise<BillingRangeRecord | undefined> {
    return (
      (await this.entities.billingRange.get({ partyId, period, chunkNo }).go({ ...GO, consistent: true })).data ??
      undefined
    );
  }

  async getChunk(partyId: string, period: string, chunkNo: number): Promise<BillingChunkRecord | undefined> {
    return (
      (await this.entities.billingChunk.get({ partyId, period, chunkNo }).go({ ...GO, consistent: true })).data ??
      undefined
    );
  }

  async allChunks(partyId: string, period: string): Promise<BillingChunkRecord[]> {
    const { data } = await this.entities.billingChunk.query
      .byRun({ partyId, period })
      .go({ ...GO, pages: "all", consistent: true });
    return data;
  }

  /** Writes line blocks with BatchWriteItem (25 a request, unprocessed ones sent again); the same keys and items on a rerun. */
  async putLineBlocks(blocks: readonly LineBlockRecord[]): Promise<void> {
    if (blocks.length === 0) return;
    await this.writeItems(batchWriteRequests(this.table, this.entities.invoiceLines.put([...blocks]).params()));
  }

  /** Blocks of one chunk from `fromBlock` on, at most `count`. */
  async lineBlocks(
    partyId: string,
    period: string,
    chunkNo: number,
    fromBlock: number,
    count: number,
  ): Promise<LineBlockRecord[]> {
    const { data } = await this.entities.invoiceLines.query
      .byInvoice({ partyId, period })
      .between({ chunkNo, blockNo: fromBlock }, { chunkNo, blockNo: fromBlock + count - 1 })
      .go({ ...GO, pages: "all" });
    return data;
  }

  /** Watermarks of parties, by id (one BatchGetItem per 100, unprocessed keys asked again). */
  async billingStates(partyIds: readonly string[]): Promise<Map<string, BillingStateRecord>> {
    const e = this.entities.billingState;
    const found = await this.getItems(partyIds.map((partyId) => e.get({ partyId }).params().Key as TableKey));
    const out = new Map<string, BillingStateRecord>();
    for (const Item of found.values()) {
      const s = e.parse({ Item }, { ignoreOwnership: false }).data;
      if (s) out.set(s.partyId, s);
    }
    return out;
  }

  /**
   * Moves a party's watermark to `period` when it is the next month (`previous` is the month before,
   * or null for the party's first month); false when it was not (out of order, or already there).
   */
  async advanceWatermark(partyId: string, period: string, previous: string | null, at: string): Promise<boolean> {
    try {
      await this.transact((e) => [
        previous === null
          ? e.billingState.create({ partyId, billedThrough: period, updatedAt: at }).commit()
          : e.billingState
              .upsert({ partyId, billedThrough: period, updatedAt: at })
              .where((x, op) => op.eq(x.billedThrough, previous))
              .commit(),
      ]);
      return true;
    } catch (err) {
      if (err instanceof ConditionFailed) return false;
      throw err;
    }
  }

  /**
   * Leases the mailing of an invoice until `until`: granted when it was never mailed and no lease
   * is held (or the holder's has expired: it died). False otherwise.
   */
  async leaseInvoiceMail(partyId: string, period: string, now: string, until: string): Promise<boolean> {
    try {
      await this.transact((e) => [
        e.invoice
          .patch({ partyId, period })
          .set({ mailLeaseUntil: until })
          .where(
            (i, op) =>
              `${op.notExists(i.mailedAt)} AND (${op.notExists(i.mailLeaseUntil)} OR ${op.lte(i.mailLeaseUntil, now)})`,
          )
          .commit(),
      ]);
      return true;
    } catch (err) {
      if (err instanceof ConditionFailed) return false;
      throw err;
    }
  }

  /** Marks an invoice mailed (by the lease holder, while its lease holds). False when the lease was lost. */
  async markInvoiceMailed(partyId: string, period: string, lease: string, at: string): Promise<boolean> {
    try {
      await this.transact((e) => [
        e.invoice
          .patch({ partyId, period })
          .set({ mailedAt: at })
          .remove(["mailLeaseUntil"])
          .where((i, op) => op.eq(i.mailLeaseUntil, lease))
          .commit(),
      ]);
      return true;
    } catch (err) {
      if (err instanceof ConditionFailed) return false;
      throw err;
    }
  }

  /** Gives a lease back (the send failed): the redelivery may take it at once. */
  async releaseInvoiceMail(partyId: string, period: string, lease: string): Promise<void> {
    try {
      await this.transact((e) => [
        e.invoice
          .patch({ partyId, period })
          .remove(["mailLeaseUntil"])
          .where((i, op) => op.eq(i.mailLeaseUntil, lease))
          .commit(),
      ]);
    } catch (err) {
      if (!(err instanceof ConditionFailed)) throw err;
    }
  }
}
