import { renderInvoiceCsv, renderInvoicePdf } from "../infra/documents.js";
import { document, get } from "./billing.js";
import type { Invoice } from "./billing.js";
import type { Session } from "./context.js";

/*
 * Invoice files (PDF, CSV): rendering pulls in pdf-lib and csv-stringify, so it lives apart from
 * the rest of billing. Only the documents function and the billing worker load this module; the
 * GraphQL function never does (its bundle stays small and its cold start short).
 */

/**
 * Mails a new invoice, with its PDF, to the party's owners, once: a worker first claims the mail
 * (a conditional write of `mailedAt`), and only the winner sends. A send that fails gives the
 * claim back, so the redelivered message tries again.
 */
export async function mail(s: Session, invoice: Invoice, issuerName: string): Promise<void> {
  const fresh = await s.deps.store.getInvoice(invoice.partyId, invoice.period);
  if (!fresh || fresh.mailedAt) return;
  if (!(await s.deps.store.claimInvoiceMail(fresh.partyId, fresh.period, s.now.toISOString()))) return;
  try {
    const owners = await s.deps.store.listOwners(invoice.partyId);
    const doc = await document(s, fresh, issuerName);
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
    await s.deps.store.releaseInvoiceMail(fresh.partyId, fresh.period);
    throw err;
  }
}

/** The invoice as a downloadable file, for an authorised caller. */
export async function download(s: Session, partyId: string, period: string, format: "pdf" | "csv", issuerName: string): Promise<{ filename: string; contentType: string; body: Uint8Array | string }> {
  const invoice = await get(s, partyId, period);
  const doc = await document(s, invoice, issuerName);
  return format === "pdf"
    ? { filename: `${invoice.number}.pdf`, contentType: "application/pdf", body: await renderInvoicePdf(doc) }
    : { filename: `${invoice.number}.csv`, contentType: "text/csv; charset=utf-8", body: renderInvoiceCsv(doc) };
}

