import type { AccountRecord, InvoiceRecord } from "../../infra/store.js";
import type { Session } from "../context.js";
import { guard } from "../tx.js";
import { NUMBER_SEQUENCE, PAYMENT_DAYS, parsePeriod, periodOf, vatOf } from "./period.js";
import type { Invoice } from "./period.js";
import { DAY_MS } from "../time.js";
import * as Cond from "../../infra/store/conditions.js";
import { DEFAULT_CHUNK_SIZE, billChunk, plan, plannedChunks } from "./run.js";
import { mergeSummaries, summarySchema } from "./lines.js";

/** Finishing a party's month: the finaliser that numbers and writes the invoice once, and the watermark that leads to the next month. */

/** What a billing step did for one party and month. */
export type IssueOutcome =
  | { readonly outcome: "issued" | "existing"; readonly invoice: Invoice }
  | { readonly outcome: "nothing-to-bill" | "not-billable" };

const NUMBER_ATTEMPTS = 40;

/** Retries of the invoice-number transaction since the process started (the contention measurement reads it). */
export const numberContention = { invoices: 0, retries: 0 };

/**
 * Finalises a party's month once every chunk is done: the invoice and the next number move in one
 * transaction conditioned on the invoice not existing and the counter being where it was read.
 * A redelivered message, a crash or a concurrent finaliser finds the invoice.
 */
export async function finalise(s: Session, partyId: string, period: string): Promise<IssueOutcome> {
  parsePeriod(period);
  const existing = await s.deps.store.getInvoice(partyId, period);
  if (existing) return { outcome: "existing", invoice: existing };
  const party = await s.account(partyId);
  if (!party?.billable || !party.currency) return { outcome: "not-billable" };
  const run = await s.deps.store.getRun(partyId, period);
  if (!run) throw new Error(`billing run ${partyId} ${period} is not planned`);
  const chunks = await s.deps.store.allChunks(partyId, period);
  if (run.chunks === undefined || chunks.length < run.chunks)
    throw new Error(`billing run ${partyId} ${period}: ${chunks.length} of ${run.chunks ?? "?"} chunks done`);
  const chunkCounts = chunks.map((c) => c.lineCount);
  const chunkNos = chunks.map((c) => c.chunkNo);
  const lineCount = chunkCounts.reduce((n, c) => n + c, 0);
  if (lineCount === 0) return { outcome: "nothing-to-bill" };
  const net = chunks.reduce((n, c) => n + c.net, 0);
  const summary = mergeSummaries(chunks.map((c) => summarySchema.parse(JSON.parse(c.summary))));
  const taxRate = party.taxRate ?? 0;
  const vat = vatOf(net, taxRate);
  const issuedAt = s.now;
  const currency = party.currency;
  numberContention.invoices += 1;
  // Another party's invoice took the number: read the counter again.
  const policy = {
    attempts: NUMBER_ATTEMPTS,
    gaveUp: (cause: Error) => new Error("invoice number kept moving", { cause }),
    baseMs: 10,
    onRetry: () => {
      numberContention.retries += 1;
    },
  };
  return s.optimistic<IssueOutcome>(policy, async () => {
    const current = await s.deps.store.counterValue(NUMBER_SEQUENCE);
    const invoice: InvoiceRecord = {
      partyId,
      period,
      number: `INV${String(current + 1).padStart(8, "0")}`,
      partyName: party.name,
      country: party.country,
      ...(party.reference ? { reference: party.reference } : {}),
      ...(party.billingAddress ? { billToAddress: party.billingAddress } : {}),
      ...(party.vatId ? { billToVatId: party.vatId } : {}),
      ...(party.purchaseOrder ? { purchaseOrder: party.purchaseOrder } : {}),
      currency,
      taxRate,
      net,
      vat,
      total: net + vat,
      lineCount,
      chunkCounts,
      chunkNos,
      summary: JSON.stringify(summary),
      issuedAt: issuedAt.toISOString(),
      dueAt: new Date(issuedAt.getTime() + PAYMENT_DAYS * DAY_MS).toISOString(),
    };
    try {
      await s.transact(
        (e) => [
          guard(e.invoice.create(invoice).commit(), () => new InvoiceExists()),
          current === 0
            ? e.counter.create({ name: NUMBER_SEQUENCE, value: 1 }).commit()
            : e.counter
                .patch({ name: NUMBER_SEQUENCE })
                .set({ value: current + 1 })
                .where(Cond.counterAt(current))
                .commit(),
        ],
        { otherwise: "retry" },
      );
      return { outcome: "issued", invoice };
    } catch (err) {
      if (!(err instanceof InvoiceExists)) throw err;
      // Issued by another delivery of this finaliser.
      return { outcome: "existing", invoice: (await s.deps.store.getInvoice(partyId, period))! };
    }
  });
}

/** The party-month's invoice exists already (internal to `finalise`). */
class InvoiceExists extends Error {}

/**
 * A whole party-month in this process: plan, every chunk, finalise (the CLI and tests; the jobs
 * run the same steps as separate messages).
 */
export async function issue(
  s: Session,
  partyId: string,
  period: string,
  chunkSize = DEFAULT_CHUNK_SIZE,
): Promise<IssueOutcome> {
  const p = await plan(s, partyId, period, chunkSize);
  if (p.outcome === "not-billable") return { outcome: "not-billable" };
  if (p.outcome === "planned") {
    for (let n: number | undefined = 0; n !== undefined; ) n = (await billChunk(s, partyId, period, n)).next;
    for (const n of plannedChunks(p.run).slice(1)) await billChunk(s, partyId, period, n);
  }
  return finalise(s, partyId, period);
}

/** The first month a party can be billed for: the month it was created in. */
export function firstPeriod(party: AccountRecord): string {
  return periodOf(new Date(party.createdAt));
}

/** The month after `period`. */
export function nextPeriod(period: string): string {
  return periodOf(parsePeriod(period).end);
}

/**
 * Moves the party's watermark past a month that is finished (invoiced, or nothing to bill), when it is
 * the next one, and answers the next closed month still to bill, if any (catch-up, in order).
 */
export async function advance(s: Session, party: AccountRecord, period: string): Promise<string | undefined> {
  const state = (await s.deps.store.billingStates([party.id])).get(party.id);
  const through = state?.billedThrough;
  const previous = through ?? null;
  const expected = through ? nextPeriod(through) : firstPeriod(party);
  // Only a month billed in order moves the watermark and leads on to the next (a month billed out of
  // order by hand leaves the catch-up to the scheduler); a redelivery finds it moved already.
  const advanced =
    through === period ||
    (expected === period && (await s.deps.store.advanceWatermark(party.id, period, previous, s.now.toISOString())));
  return advanced ? nextDue(s, party, period) : undefined;
}

/** The next month to bill after a watermark (or from the party's first month), if it has closed. */
export function nextDue(s: Session, party: AccountRecord, billedThrough: string | undefined): string | undefined {
  const next = billedThrough ? nextPeriod(billedThrough) : firstPeriod(party);
  return parsePeriod(next).end <= s.now ? next : undefined;
}
