/**
 * Monthly billing of each distributor (the billed party) for its whole subtree: a party's month is
 * planned into bounded chunks, each chunk writes its lines, the last one's finaliser takes the
 * invoice number (core/billing/run.ts); invoices are read and rendered by those who may see them
 * (core/billing/invoices.ts); the billed party's details and tax rate are account settings
 * (core/billing/settings.ts); months and VAT are in core/billing/period.ts.
 */
export { NUMBER_SEQUENCE, PAYMENT_DAYS, assertClosed, parsePeriod, periodOf, vatOf } from "./billing/period.js";
export type { Invoice } from "./billing/period.js";
export { DEFAULT_CHUNK_SIZE, EXTRA_CHUNKS, billChunk, plan, plannedChunks } from "./billing/run.js";
export { quantityAt } from "./billing/lines.js";
export { advance, finalise, firstPeriod, issue, nextDue, nextPeriod, numberContention } from "./billing/finalise.js";
export type { InvoiceLine, SummaryRow } from "./billing/lines.js";
export type { IssueOutcome } from "./billing/finalise.js";
export {
  PDF_DETAIL_LINES,
  document,
  documentLine,
  eachLine,
  find,
  findLine,
  get,
  lines,
  list,
  summaryOf,
} from "./billing/invoices.js";
export type { PlacedLine } from "./billing/invoices.js";
export { billingDetails, setBillingDetails, setTaxRate } from "./billing/settings.js";
export type { BillingDetails } from "./billing/settings.js";
