import { ConditionFailed, StoreBase, cursorOf } from "./base.js";
import type { Page } from "./base.js";
import type { InvoiceLineRecord, InvoiceRecord, UsageRecord } from "./records.js";

/** Billing: invoices and their lines, sequences, usage. */
export class BillingStore extends StoreBase {
  async getInvoice(partyId: string, period: string): Promise<InvoiceRecord | undefined> {
    return (await this.entities.invoice.get({ partyId, period }).go({ consistent: true })).data ?? undefined;
  }

  /** Invoices of a billed party, newest month first. */
  async listInvoices(partyId: string, limit: number, cursor?: string | null): Promise<Page<InvoiceRecord>> {
    const e = this.entities.invoice;
    return this.page(cursorOf(e, "byParty"), e.query.byParty({ partyId }), { limit, cursor, order: "desc" });
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
    const e = this.entities.invoiceLine;
    await this.writeItems(lines.map((line) => ({ PutRequest: { Item: e.put(line).params().Item as Record<string, unknown> } })));
  }

  /** Lines 1..lineCount of an invoice (lines past the count are leftovers of an abandoned attempt). */
  async listInvoiceLines(partyId: string, period: string, lineCount: number, limit: number, cursor?: string | null): Promise<Page<InvoiceLineRecord>> {
    const e = this.entities.invoiceLine;
    return this.page(cursorOf(e, "byInvoice"), e.query.byInvoice({ partyId, period }).lte({ lineNo: lineCount }), { limit, cursor });
  }

  async allInvoiceLines(partyId: string, period: string, lineCount: number): Promise<InvoiceLineRecord[]> {
    return this.all((limit, cursor) => this.listInvoiceLines(partyId, period, lineCount, limit, cursor));
  }

  /** Current value of a sequence (0 before its first use). */
  async counterValue(name: string): Promise<number> {
    return (await this.entities.counter.get({ name }).go({ consistent: true })).data?.value ?? 0;
  }

  /** Recorded usage of one offer by one account in one month. */
  async usageTotal(accountId: string, sku: string, period: string): Promise<number> {
    const e = this.entities.usage;
    const items = await this.all((limit, cursor) => this.page(cursorOf(e, "byAccount"), e.query.byAccount({ accountId, sku, period }), { limit, cursor }));
    return items.reduce((sum, u) => sum + u.quantity, 0);
  }

  async getUsage(accountId: string, sku: string, period: string, key: string): Promise<UsageRecord | undefined> {
    return (await this.entities.usage.get({ accountId, sku, period, key }).go({ consistent: true })).data ?? undefined;
  }
}
