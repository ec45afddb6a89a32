/**
 * Everything an invoice shows, already decided and formatted by core/ (amounts are decimal strings,
 * so this module never does money arithmetic and cannot round differently from the ledger).
 */
export interface InvoiceDocument {
  readonly number: string;
  readonly issuer: Issuer;
  readonly billTo: {
    readonly name: string;
    readonly country: string;
    readonly reference?: string;
    /** Postal address, lines separated by newlines. */
    readonly address?: string;
    readonly vatId?: string;
    readonly purchaseOrder?: string;
  };
  /** Billing month, `YYYY-MM`. */
  readonly period: string;
  /** ISO instant. */
  readonly issuedAt: string;
  /** ISO instant. */
  readonly dueAt: string;
  /** ISO 4217. */
  readonly currency: string;
  /** e.g. "20" or "20.5". */
  readonly taxRatePercent: string;
  readonly net: string;
  /** Discounts granted on the net (shown as a row even when zero, as auditors expect every adjustment stated). */
  readonly discount: string;
  readonly vat: string;
  readonly total: string;
  readonly lineCount: number;
  /** Every line (small invoices), or empty when `summary` stands for them. */
  readonly lines: ReadonlyArray<InvoiceDocumentLine>;
  /** Per offer: quantity, customers, amount; set for large invoices, whose line detail is the consumption report. */
  readonly summary: ReadonlyArray<InvoiceSummaryRow> | null;
}

/** The issuer's legal identity on its invoices (stage configuration). */
export interface Issuer {
  readonly name: string;
  /** Postal address, lines separated by newlines. */
  readonly address?: string;
  readonly vatId?: string;
  readonly companyNumber?: string;
}

export interface InvoiceSummaryRow {
  readonly sku: string;
  readonly description: string;
  readonly kind: string;
  readonly quantity: number;
  readonly customers: number;
  readonly amount: string;
}

/**
 * One invoice line with the partners above its end customer: the consumption detail report
 * (Rainbow guide step 5.5) names the tier-1 and tier-2 partner and the end customer of each line.
 */
export interface InvoiceDocumentLine {
  readonly sku: string;
  readonly description: string;
  readonly kind: string;
  readonly quantity: number;
  readonly unitPrice: string;
  readonly amount: string;
  /** The end customer, or the billed party itself for its own licences. */
  readonly customer: string;
  /** Tier-1 partner (reseller under the distributor), null if none. */
  readonly tier1: string | null;
  /** Tier-2 partner, null if none. */
  readonly tier2: string | null;
  /** Service period, first and last day (`YYYY-MM-DD`). */
  readonly from: string;
  readonly to: string;
}
