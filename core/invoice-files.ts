import { renderInvoicePdf, renderReportCsv, renderReportXlsx } from "../infra/documents.js";
import type { ConsumptionReport, Issuer } from "../infra/documents.js";
import { document, documentLine, eachLine, get } from "./billing.js";
import * as Money from "./money.js";
import type { Invoice } from "./billing.js";
import type { Session } from "./context.js";

/*
 * Invoice files (PDF, CSV): rendering pulls in pdf-lib and csv-stringify, so it lives apart from
 * the rest of billing. Only the documents function and the billing worker load this module; the
 * GraphQL function never does (its bundle stays small and its cold start short).
 */

/** Default hold on an invoice's mail: twice the worker's 60 s timeout, well below the queue's 360 s visibility. */
export const MAIL_LEASE_MS = 120_000;

/**
 * Mails a new invoice, with its PDF, to the party's owners, once (security rule 13): a worker takes
 * a lease on the mail (a conditional write of `mailLeaseUntil`), sends, then marks it mailed. A
 * worker that dies holding the lease leaves it to expire: the redelivered message, which comes after
 * the queue's visibility timeout, takes it then. While another worker's lease holds, this one fails
 * (the message is retried later) rather than send twice; a send that fails gives the lease back.
 */
export async function mail(s: Session, invoice: Invoice, issuer: Issuer, leaseMs = MAIL_LEASE_MS): Promise<void> {
  const store = s.deps.store;
  const fresh = await store.getInvoice(invoice.partyId, invoice.period);
  if (!fresh || fresh.mailedAt) return;
  const now = s.now;
  const lease = new Date(now.getTime() + leaseMs).toISOString();
  if (!(await store.leaseInvoiceMail(fresh.partyId, fresh.period, now.toISOString(), lease))) {
    const again = await store.getInvoice(invoice.partyId, invoice.period);
    if (again?.mailedAt) return;
    throw new Error("the invoice mail is being sent by another worker; retry after its lease");
  }
  try {
    const owners = await store.listOwners(invoice.partyId);
    const doc = await document(s, fresh, issuer);
    const pdf = await renderInvoicePdf(doc);
    for (const owner of owners) {
      await s.deps.mailer.send({
        to: owner.email,
        subject: `Invoice ${fresh.number} for ${fresh.period}`,
        text: `Your invoice ${fresh.number} for ${fresh.period} is attached: ${doc.total} ${fresh.currency}, due ${fresh.dueAt.slice(0, 10)}.`,
        attachments: [{ filename: `${fresh.number}.pdf`, contentType: "application/pdf", content: pdf }],
      });
    }
  } catch (err) {
    await store.releaseInvoiceMail(fresh.partyId, fresh.period, lease);
    throw err;
  }
  await store.markInvoiceMailed(fresh.partyId, fresh.period, lease, s.now.toISOString());
}

/** The formats an invoice downloads as: the PDF, and the consumption detail report as CSV or xlsx. */
export type FileFormat = "pdf" | "csv" | "xlsx";

/** The invoice as a downloadable file, for an authorised caller. */
export async function download(
  s: Session,
  partyId: string,
  period: string,
  format: FileFormat,
  issuer: Issuer,
  opts: { bom?: boolean } = {},
): Promise<{ filename: string; contentType: string; body: Uint8Array | string }> {
  const invoice = await get(s, partyId, period);
  if (format === "pdf")
    return {
      filename: `${invoice.number}.pdf`,
      contentType: "application/pdf",
      body: await renderInvoicePdf(await document(s, invoice, issuer)),
    };
  const report = reportOf(s, invoice);
  if (format === "csv")
    return {
      filename: `${invoice.number}.csv`,
      contentType: "text/csv; charset=utf-8",
      body: await collect(renderReportCsv(report, { bom: opts.bom ?? false })),
    };
  return {
    filename: `${invoice.number}.xlsx`,
    contentType: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    body: await renderReportXlsx(report),
  };
}

/** The consumption detail report of an invoice: its totals and its lines as a stream, formatted by core. */
function reportOf(s: Session, invoice: Invoice): ConsumptionReport {
  const f = (v: number) => Money.format(v, invoice.currency);
  return {
    number: invoice.number,
    period: invoice.period,
    currency: invoice.currency,
    taxRatePercent: String(invoice.taxRate / 100),
    net: f(invoice.net),
    vat: f(invoice.vat),
    total: f(invoice.total),
    lines: (async function* () {
      for await (const l of eachLine(s, invoice)) yield documentLine(l, f);
    })(),
  };
}

async function collect(chunks: AsyncIterable<string>): Promise<string> {
  let out = "";
  for await (const c of chunks) out += c;
  return out;
}
