import { StoreBase, cursorOf, GO } from "./base.js";
import type { Page } from "./base.js";
import type { InvoiceRecord, UsageRecord } from "./records.js";

/** Billing: invoices and their lines, sequences, usage. */
export class BillingStore extends StoreBase {
  async getInvoice(partyId: string, period: string): Promise<InvoiceRecord | undefined> {
    return (await this.entities.invoice.get({ partyId, period }).go({ ...GO, consistent: true })).data ?? undefined;
  }

  /** Invoices of a billed party, newest month first. */
  async listInvoices(partyId: string, limit: number, cursor?: string | null): Promise<Page<InvoiceRecord>> {
    const e = this.entities.invoice;
    return this.page(cursorOf(e, "byParty"), e.query.byParty({ partyId }), { limit, cursor, order: "desc" });
  }

  /** Current value of a sequence (0 before its first use). */
  async counterValue(name: string): Promise<number> {
    return (await this.entities.counter.get({ name }).go({ ...GO, consistent: true })).data?.value ?? 0;
  }

  /** Recorded usage of one offer by one account in one month. */
  async usageTotal(accountId: string, sku: string, period: string): Promise<number> {
    const e = this.entities.usage;
    const items = await this.all((limit, cursor) =>
      this.page(cursorOf(e, "byAccount"), e.query.byAccount({ accountId, sku, period }), { limit, cursor }),
    );
    return items.reduce((sum, u) => sum + u.quantity, 0);
  }

  async getUsage(accountId: string, sku: string, period: string, key: string): Promise<UsageRecord | undefined> {
    return (
      (await this.entities.usage.get({ accountId, sku, period, key }).go({ ...GO, consistent: true })).data ?? undefined
    );
  }
}
