import { stringify } from "csv-stringify/sync";
import type { InvoiceDocument, InvoiceDocumentLine } from "./model.js";

// ---------------------------------------------------------------------------------------------
// CSV

const CSV_COLUMNS = [
  "invoice_number",
  "period",
  "currency",
  "customer",
  "tier1_partner",
  "tier2_partner",
  "sku",
  "description",
  "kind",
  "service_from",
  "service_to",
  "quantity",
  "unit_price",
  "amount",
] as const;

const NUMERIC = /^[+-]?\d+(\.\d+)?$/;

/**
 * Spreadsheets run a cell starting with = + - @ (or tab / CR, or their full-width forms) as a
 * formula, and names here come from users (OWASP "CSV injection"): such cells get a leading quote.
 * Numbers in numeric columns stay as they are so a credit ("-12.40") still sums.
 */
function neutralise(value: string, numeric: boolean): string {
  if (numeric && NUMERIC.test(value)) return value;
  return /^[=+\-@\t\r\uFF1D\uFF0B\uFF0D\uFF20]/.test(value) ? `'${value}` : value;
}

/** The consumption detail report: the invoice's totals and its lines, streamed (a 20,000-customer month is never held whole). */
export interface ConsumptionReport {
  readonly number: string;
  readonly period: string;
  readonly currency: string;
  readonly taxRatePercent: string;
  readonly net: string;
  readonly vat: string;
  readonly total: string;
  readonly lines: AsyncIterable<InvoiceDocumentLine>;
}

const UTF8_BOM = "\uFEFF";

function csvRow(report: ConsumptionReport, l: InvoiceDocumentLine): string[] {
  return [
    neutralise(report.number, false),
    neutralise(report.period, false),
    neutralise(report.currency, false),
    neutralise(l.customer, false),
    neutralise(l.tier1 ?? "", false),
    neutralise(l.tier2 ?? "", false),
    neutralise(l.sku, false),
    neutralise(l.description, false),
    neutralise(l.kind, false),
    neutralise(l.from, false),
    neutralise(l.to, false),
    neutralise(String(l.quantity), true),
    neutralise(l.unitPrice, true),
    neutralise(l.amount, true),
  ];
}

/**
 * The consumption detail report as CSV, produced a row at a time: one header row, one row per line,
 * then the net, VAT and total rows (their `kind` column says which, so a tool can skip them). RFC
 * 4180: CRLF record separators, fields quoted when they hold a comma, quote or line break. `bom`
 * starts the file with a UTF-8 byte order mark, which spreadsheet programs need to read non-ASCII names.
 */
export async function* renderReportCsv(report: ConsumptionReport, opts: { bom: boolean }): AsyncGenerator<string> {
  const row = (cells: readonly string[]) => stringify([cells as string[]], { record_delimiter: "windows" });
  yield (opts.bom ? UTF8_BOM : "") + row([...CSV_COLUMNS]);
  for await (const l of report.lines) yield row(csvRow(report, l));
  const total = (kind: string, amount: string) => {
    const cells = CSV_COLUMNS.map(() => "");
    cells[0] = neutralise(report.number, false);
    cells[1] = neutralise(report.period, false);
    cells[2] = neutralise(report.currency, false);
    cells[8] = kind;
    cells[CSV_COLUMNS.length - 1] = neutralise(amount, true);
    return row(cells);
  };
  yield total("NET", report.net);
  yield total(`VAT ${report.taxRatePercent}%`, report.vat);
  yield total("TOTAL", report.total);
}

/**
 * The consumption detail report as an .xlsx workbook (Rainbow delivers it as a spreadsheet), written
 * row by row through exceljs's streaming writer: amounts are numbers in the currency's format, then
 * the net, VAT and total rows.
 */
export async function renderReportXlsx(report: ConsumptionReport): Promise<Uint8Array> {
  const { default: ExcelJS } = await import("exceljs");
  const { PassThrough } = await import("node:stream");
  const out = new PassThrough();
  const parts: Buffer[] = [];
  out.on("data", (b: Buffer) => parts.push(b));
  const book = new ExcelJS.stream.xlsx.WorkbookWriter({ stream: out, useStyles: true, useSharedStrings: false });
  const sheet = book.addWorksheet(`Invoice ${report.number}`.slice(0, 31));
  const headers = [
    "Customer",
    "Tier-1 partner",
    "Tier-2 partner",
    "SKU",
    "Description",
    "Kind",
    "Service from",
    "Service to",
    "Quantity",
    `Unit price (${report.currency})`,
    `Amount (${report.currency})`,
  ];
  sheet.columns = headers.map((header, i) => ({ header, width: i < 3 || i === 4 ? 28 : 14 }));
  sheet.getRow(1).font = { bold: true };
  sheet.getRow(1).commit();
  const money = "#,##0.00";
  // Decimal strings from core: parsed for the cell value only (the file shows what core formatted).
  const num = (v: string) => Number(v);
  for await (const l of report.lines) {
    const row = sheet.addRow([
      l.customer,
      l.tier1 ?? "",
      l.tier2 ?? "",
      l.sku,
      l.description,
      l.kind,
      l.from,
      l.to,
      l.quantity,
      num(l.unitPrice),
      num(l.amount),
    ]);
    row.getCell(10).numFmt = money;
    row.getCell(11).numFmt = money;
    row.commit();
  }
  const totals: [string, string][] = [
    ["Net amount (excl. VAT)", report.net],
    [`VAT ${report.taxRatePercent} %`, report.vat],
    ["Total", report.total],
  ];
  for (const [label, value] of totals) {
    const row = sheet.addRow(["", "", "", "", label, "", "", "", "", "", num(value)]);
    row.getCell(11).numFmt = money;
    row.font = { bold: label === "Total" };
    row.commit();
  }
  sheet.commit();
  await book.commit();
  return new Uint8Array(Buffer.concat(parts));
}

/**
 * The invoice's lines as CSV from a whole document (kept for callers holding one): the same rows
 * as the streamed report, without a byte order mark.
 */
export async function renderInvoiceCsv(doc: InvoiceDocument): Promise<string> {
  const lines = (async function* () {
    yield* doc.lines;
  })();
  let out = "";
  for await (const c of renderReportCsv({ ...doc, lines }, { bom: false })) out += c;
  return out;
}
