/**
 * The billing documents: an invoice's PDF (`documents/pdf.ts`) and its consumption report as CSV
 * and .xlsx (`documents/report.ts`), from the model core/ fills (`documents/model.ts`).
 */
export type { ConsumptionReport } from "./documents/report.js";
export type { InvoiceDocument, InvoiceDocumentLine, InvoiceSummaryRow, Issuer } from "./documents/model.js";
export { renderInvoicePdf } from "./documents/pdf.js";
export { renderInvoiceCsv, renderReportCsv, renderReportXlsx } from "./documents/report.js";
