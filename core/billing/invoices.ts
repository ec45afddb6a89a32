import type * as z from "zod";
import { BLOCK_LINES } from "../../infra/store/billing-runs.js";
import type { AccountRecord, Page } from "../../infra/store.js";
import { BadCursor } from "../../infra/store.js";
import type { InvoiceDocument, InvoiceDocumentLine, Issuer } from "../../infra/documents.js";
import type { Session } from "../context.js";
import { Forbidden, NotFound, unlessHidden } from "../errors.js";
import * as Money from "../money.js";
import { paged } from "../paging.js";
import type { PageArgs } from "../paging.js";
import { seesPrices } from "../rights.js";
import type { Invoice } from "./period.js";
import { lineSchema, summarySchema } from "./lines.js";
import type { InvoiceLine, DraftLine, SummaryRow } from "./lines.js";

/** Invoices as their readers see them: lists, lines, the document data behind the PDF and reports. */

/** Lines of an invoice from `after` (a line number) on, at most `limit` (+1 to know whether more follow). */
async function readLines(s: Session, invoice: Invoice, after: number, limit: number): Promise<InvoiceLine[]> {
  const counts = invoice.chunkCounts ?? [];
  const out: InvoiceLine[] = [];
  let offset = 0;
  for (let i = 0; i < counts.length && out.length < limit; i++) {
    const count = counts[i]!;
    const chunkNo = invoice.chunkNos?.[i] ?? i;
    if (after >= offset + count) {
      offset += count;
      continue;
    }
    const skip = Math.max(0, after - offset);
    const fromBlock = Math.floor(skip / BLOCK_LINES);
    const need = Math.min(count - skip, limit - out.length);
    const blocks = await s.deps.store.lineBlocks(
      invoice.partyId,
      invoice.period,
      chunkNo,
      fromBlock,
      Math.ceil((skip - fromBlock * BLOCK_LINES + need) / BLOCK_LINES),
    );
    const lines = blocks.flatMap((b) => lineSchema.parse(JSON.parse(b.lines)));
    const wanted = lines.slice(skip - fromBlock * BLOCK_LINES, skip - fromBlock * BLOCK_LINES + need);
    for (const [i, l] of wanted.entries()) out.push({ ...stripUndefined(l), lineNo: offset + skip + i + 1 });
    offset += count;
  }
  return out;
}

function stripUndefined(l: z.infer<typeof lineSchema>[number]): DraftLine {
  const { tier1, tier2, ...rest } = l;
  return { ...rest, ...(tier1 !== undefined ? { tier1 } : {}), ...(tier2 !== undefined ? { tier2 } : {}) };
}

/** Every line of an invoice, a few blocks at a time (the CSV and xlsx stream them). */
export async function* eachLine(s: Session, invoice: Invoice): AsyncGenerator<InvoiceLine> {
  for (let after = 0; after < invoice.lineCount; ) {
    const page = await readLines(s, invoice, after, 1_000);
    if (page.length === 0) return;
    yield* page;
    after = page.at(-1)!.lineNo;
  }
}

/** The offer summary of an invoice (per offer: quantity, amount, customers). */
export function summaryOf(invoice: Invoice): SummaryRow[] {
  return invoice.summary ? summarySchema.parse(JSON.parse(invoice.summary)) : [];
}

/** Invoices up to this many lines list every line in the PDF; larger ones get the offer summary (the lines are in the report). */
export const PDF_DETAIL_LINES = 300;

/** The document model of an invoice (PDF): every line of a small invoice, the offer summary of a large one. */
export async function document(s: Session, invoice: Invoice, issuer: Issuer): Promise<InvoiceDocument> {
  const detailed = invoice.lineCount <= PDF_DETAIL_LINES;
  const lines: InvoiceLine[] = [];
  if (detailed) for await (const l of eachLine(s, invoice)) lines.push(l);
  const f = (v: number) => Money.format(v, invoice.currency);
  return {
    number: invoice.number,
    issuer,
    billTo: {
      name: invoice.partyName,
      country: invoice.country,
      ...(invoice.reference ? { reference: invoice.reference } : {}),
      ...(invoice.billToAddress ? { address: invoice.billToAddress } : {}),
      ...(invoice.billToVatId ? { vatId: invoice.billToVatId } : {}),
      ...(invoice.purchaseOrder ? { purchaseOrder: invoice.purchaseOrder } : {}),
    },
    period: invoice.period,
    issuedAt: invoice.issuedAt,
    dueAt: invoice.dueAt,
    currency: invoice.currency,
    taxRatePercent: String(invoice.taxRate / 100),
    net: f(invoice.net),
    discount: f(0),
    vat: f(invoice.vat),
    total: f(invoice.total),
    lineCount: invoice.lineCount,
    lines: lines.map((l) => documentLine(l, f)),
    summary: detailed
      ? null
      : summaryOf(invoice).map((r) => ({
          sku: r.sku,
          description: r.description,
          kind: r.kind,
          quantity: r.quantity,
          customers: r.customers,
          amount: f(r.amount),
        })),
  };
}

/** One line as the documents print it (amounts formatted by core, never by the renderer). */
export function documentLine(l: InvoiceLine, f: (v: number) => string): InvoiceDocumentLine {
  return {
    sku: l.sku,
    description: l.description,
    kind: l.kind,
    quantity: l.quantity,
    unitPrice: f(l.unitPrice),
    amount: f(l.amount),
    customer: l.customer,
    tier1: l.tier1 ?? null,
    tier2: l.tier2 ?? null,
    from: l.from,
    to: l.to,
  };
}

/** Who may see a party's invoices: those who see its prices (its owners, operators). */
async function loadParty(s: Session, partyId: string): Promise<AccountRecord> {
  const { account: party, memberships: ms } = await s.authorized(partyId, "account.read");
  if (!seesPrices(s.actor, ms, party!.id))
    throw new Forbidden("Invoices are shown to the billed account's owners", "ROLE");
  return party!;
}

/** Invoices of a billed party, newest first. */
export async function list(s: Session, partyId: string, args: PageArgs): Promise<Page<Invoice>> {
  await loadParty(s, partyId);
  return paged(args, (limit, cursor) => s.deps.store.listInvoices(partyId, limit, cursor));
}

/** One invoice (same NotFound for unknown and invisible). */
export async function get(s: Session, partyId: string, period: string): Promise<Invoice> {
  const invoice = await find(s, partyId, period);
  if (!invoice) throw new NotFound("Invoice");
  return invoice;
}

export async function find(s: Session, partyId: string, period: string): Promise<Invoice | undefined> {
  try {
    await loadParty(s, partyId);
  } catch (err) {
    if (err instanceof NotFound || err instanceof Forbidden) return undefined;
    throw err;
  }
  return s.deps.store.getInvoice(partyId, period);
}

/** Lines of an invoice, in order. */
export async function lines(s: Session, invoice: Invoice, args: PageArgs): Promise<Page<InvoiceLine>> {
  await loadParty(s, invoice.partyId);
  return paged(args, async (limit, cursor) => {
    // The cursor is the line number the page follows.
    const after = cursor === null ? 0 : /^[0-9]{1,9}$/.test(cursor) ? Number(cursor) : NaN;
    if (!Number.isInteger(after) || after > invoice.lineCount) throw new BadCursor();
    const lines = await readLines(s, invoice, after, limit + 1);
    return {
      items: lines.slice(0, limit).map((node) => ({ node, cursor: String(node.lineNo) })),
      hasNextPage: lines.length > limit,
    };
  });
}

/** One line of an invoice, for those who see the invoice (node lookups); undefined otherwise. */
export function findLine(s: Session, partyId: string, period: string, lineNo: number): Promise<PlacedLine | undefined> {
  return unlessHidden(async () => {
    await loadParty(s, partyId);
    const invoice = await s.deps.store.getInvoice(partyId, period);
    if (!invoice || !Number.isInteger(lineNo) || lineNo < 1 || lineNo > invoice.lineCount) return undefined;
    const line = (await readLines(s, invoice, lineNo - 1, 1))[0];
    return line && { ...line, partyId, period, currency: invoice.currency };
  });
}

/** A line with the invoice it is on. */
export type PlacedLine = InvoiceLine & Pick<Invoice, "partyId" | "period" | "currency">;
