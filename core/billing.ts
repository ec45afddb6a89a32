import type { AccountRecord, InvoiceLineRecord, InvoiceRecord, Page, SubscriptionRecord } from "../infra/store.js";
import { ConditionFailed } from "../infra/store.js";
import type { InvoiceDocument } from "../infra/documents.js";
import type { Session } from "./context.js";
import { Forbidden, Invalid, NotFound } from "./errors.js";
import * as Money from "./money.js";
import { paged } from "./paging.js";
import type { PageArgs } from "./paging.js";
import { PLATFORM_ID, authorize, isOperator, seesPrices } from "./rights.js";
import * as AccountSettings from "./account-settings.js";

export type Invoice = InvoiceRecord;
export type InvoiceLine = InvoiceLineRecord;

/** Invoice numbers are sequential per issuer; the vendor (the platform) is the one issuer. */
export const NUMBER_SEQUENCE = `invoice-number:${PLATFORM_ID}`;
/** DESIGN 1: invoices are due in 30 days. */
export const PAYMENT_DAYS = 30;

const DAY = 86_400_000;

/** "2026-10": a calendar month in UTC. */
export function parsePeriod(period: string, field = "period"): { start: Date; end: Date } {
  const m = /^(\d{4})-(0[1-9]|1[0-2])$/.exec(period);
  if (!m) throw Invalid.field(field, "must be a month such as 2026-10");
  const y = Number(m[1]);
  const mo = Number(m[2]) - 1;
  return { start: new Date(Date.UTC(y, mo, 1)), end: new Date(Date.UTC(y, mo + 1, 1)) };
}

export function periodOf(at: Date): string {
  return `${at.getUTCFullYear()}-${String(at.getUTCMonth() + 1).padStart(2, "0")}`;
}

/** The month before `now` (the billing run on the 1st bills the previous month). */
export function previousPeriod(now: Date): string {
  return periodOf(new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 1)));
}

/** A month can be billed once it has ended. */
export function assertClosed(period: string, now: Date): void {
  if (parsePeriod(period).end > now) throw Invalid.field("period", "the month has not ended yet");
}

/** VAT in minor units, rounded half up (rates in basis points: 2000 = 20 %). */
export function vatOf(net: number, taxRate: number): number {
  return Math.floor((net * taxRate + 5_000) / 10_000);
}

/** One charge, before it is numbered into an invoice. */
export interface DraftLine {
  readonly accountId: string;
  readonly sku: string;
  readonly description: string;
  readonly kind: string;
  readonly quantity: number;
  readonly unitPrice: number;
  readonly amount: number;
  readonly customer: string;
  readonly tier1?: string;
  readonly tier2?: string;
}

/**
 * Quantity of a subscription at an instant, from the ledger (no pro-rata: monthly lines bill
 * the quantity at month end). Untouched since the instant: its current quantity.
 */
export async function quantityAt(s: Session, sub: SubscriptionRecord, at: Date): Promise<number> {
  // Untouched since: the current state holds. Otherwise the ledger (a subscription cancelled and
  // ordered again after `at` has a later startedAt but its earlier history still counts).
  if (new Date(sub.updatedAt) < at) return sub.status === "ACTIVE" ? sub.quantity : 0;
  let cursor: string | null = null;
  for (;;) {
    const page: Page<{ at: string; to: number }> = await s.deps.store.listChanges(sub.accountId, sub.sku, 100, cursor);
    const hit = page.items.find((i) => new Date(i.node.at) < at);
    if (hit) return hit.node.to;
    if (!page.hasNextPage) return 0;
    cursor = page.items.at(-1)!.cursor;
  }
}

/** The accounts a billed party pays for: itself and its subtree, less the subtrees of other billable accounts. */
async function billedAccounts(s: Session, party: AccountRecord): Promise<AccountRecord[]> {
  const entries = await s.deps.store.listSubtree(party.id, Number.MAX_SAFE_INTEGER);
  const accounts = [party, ...(await s.accounts(entries.map((e) => e.accountId))).filter((a): a is AccountRecord => !!a)];
  const elsewhere = new Set(accounts.filter((a) => a.billable && a.id !== party.id).map((a) => a.id));
  return accounts.filter((a) => !elsewhere.has(a.id) && !a.path.some((id) => elsewhere.has(id)));
}

/**
 * The charges of a party for a month (DESIGN 1, "Billing"): MONTHLY at the month-end quantity,
 * PREPAID as ordered or renewed in the month (order lines carry the prorated amount), USAGE from
 * recorded usage, TRIAL never. Each line names the end customer and the tier-1/tier-2 partners.
 */
export async function draft(s: Session, party: AccountRecord, period: string): Promise<DraftLine[]> {
  const { start, end } = parsePeriod(period);
  const accounts = await billedAccounts(s, party);
  const names = new Map(accounts.map((a) => [a.id, a.name]));
  const lines: DraftLine[] = [];
  for (let i = 0; i < accounts.length; i += 8) {
    const batch = accounts.slice(i, i + 8);
    const results = await Promise.all(batch.map((a) => accountLines(s, a, start, end, period)));
    results.forEach((ls, j) => {
      const a = batch[j]!;
      // The chain of partners below the distributor, down to the account itself when it is a reseller.
      const chain = [...a.path.slice(2), ...(a.kind === "RESELLER" ? [a.id] : [])].map((id) => names.get(id)).filter((n): n is string => !!n);
      for (const l of ls) lines.push({ ...l, customer: a.name, ...(chain[0] ? { tier1: chain[0] } : {}), ...(chain[1] ? { tier2: chain[1] } : {}) });
    });
  }
  const key = (l: DraftLine) => [l.tier1 ?? "", l.tier2 ?? "", l.customer, l.accountId, l.kind, l.sku].join("\u0000");
  return lines.sort((x, y) => (key(x) < key(y) ? -1 : key(x) > key(y) ? 1 : 0));
}

type Charge = Omit<DraftLine, "customer" | "tier1" | "tier2">;

async function accountLines(s: Session, a: AccountRecord, start: Date, end: Date, period: string): Promise<Charge[]> {
  const subs = await s.deps.store.allSubscriptions(a.id);
  const offers = new Map((await s.offers(subs.map((x) => x.sku))).flatMap((o) => (o ? [[o.sku, o.name] as const] : [])));
  const out: Charge[] = [];
  for (const sub of subs) {
    const description = offers.get(sub.sku) ?? sub.sku;
    if (sub.kind === "MONTHLY") {
      const quantity = await quantityAt(s, sub, end);
      if (quantity > 0) out.push({ accountId: a.id, sku: sub.sku, description, kind: sub.kind, quantity, unitPrice: sub.unitPrice, amount: Money.times(sub.unitPrice, quantity) });
    } else if (sub.kind === "USAGE") {
      const quantity = await s.deps.store.usageTotal(a.id, sub.sku, period);
      if (quantity > 0) out.push({ accountId: a.id, sku: sub.sku, description, kind: sub.kind, quantity, unitPrice: sub.unitPrice, amount: Money.times(sub.unitPrice, quantity) });
    }
  }
  // Prepaid: charged for the term when ordered or renewed (renewals are recorded as system orders).
  // Only accounts holding a prepaid subscription can have such orders: the others skip the read.
  if (!subs.some((x) => x.kind === "PREPAID")) return out;
  for (const order of await s.deps.store.ordersBetween(a.id, start, end)) {
    for (const l of order.lines) {
      if (l.kind !== "PREPAID") continue;
      out.push({ accountId: a.id, sku: l.sku, description: order.reference === "renewal" ? `${l.name} (renewal)` : l.name, kind: l.kind, quantity: l.quantity, unitPrice: l.unitPrice, amount: l.amount });
    }
  }
  return out;
}

/** What a billing run did for one party and month. */
export type IssueOutcome = { readonly outcome: "issued" | "existing"; readonly invoice: Invoice } | { readonly outcome: "nothing-to-bill" | "not-billable" };

const NUMBER_ATTEMPTS = 25;

/**
 * Issues the invoice of a party for a month, exactly once: the lines are written under
 * deterministic keys first (a rerun rewrites the same items), then the invoice and the next
 * number move in one transaction conditioned on the invoice not existing and the counter being
 * where it was read. A redelivered message, a crash or a concurrent run finds the invoice.
 */
export async function issue(s: Session, partyId: string, period: string): Promise<IssueOutcome> {
  parsePeriod(period);
  const existing = await s.deps.store.getInvoice(partyId, period);
  if (existing) return { outcome: "existing", invoice: existing };
  const party = await s.account(partyId);
  if (!party?.billable || !party.currency) return { outcome: "not-billable" };
  const lines = await draft(s, party, period);
  if (lines.length === 0) return { outcome: "nothing-to-bill" };
  await s.deps.store.putInvoiceLines(lines.map((l, i) => ({ partyId, period, lineNo: i + 1, ...l })));
  const net = lines.reduce((sum, l) => sum + l.amount, 0);
  const taxRate = party.taxRate ?? 0;
  const vat = vatOf(net, taxRate);
  const issuedAt = s.now;
  for (let attempt = 1; ; attempt++) {
    const current = await s.deps.store.counterValue(NUMBER_SEQUENCE);
    const invoice: InvoiceRecord = {
      partyId,
      period,
      number: `INV${String(current + 1).padStart(8, "0")}`,
      partyName: party.name,
      country: party.country,
      ...(party.reference ? { reference: party.reference } : {}),
      currency: party.currency,
      taxRate,
      net,
      vat,
      total: net + vat,
      lineCount: lines.length,
      issuedAt: issuedAt.toISOString(),
      dueAt: new Date(issuedAt.getTime() + PAYMENT_DAYS * DAY).toISOString(),
    };
    try {
      await s.deps.store.transact((e) => [
        e.invoice.create(invoice).commit(),
        current === 0
          ? e.counter.create({ name: NUMBER_SEQUENCE, value: 1 }).commit()
          : e.counter.patch({ name: NUMBER_SEQUENCE }).set({ value: current + 1 }).where((c, op) => op.eq(c.value, current)).commit(),
      ]);
      return { outcome: "issued", invoice };
    } catch (err) {
      if (!(err instanceof ConditionFailed)) throw err;
      const now = await s.deps.store.getInvoice(partyId, period);
      if (now) return { outcome: "existing", invoice: now };
      // Another party's invoice took the number: read the counter again.
      if (attempt >= NUMBER_ATTEMPTS) throw new Error("invoice number kept moving", { cause: err });
      await new Promise((r) => setTimeout(r, Math.random() * 15 * Math.min(attempt, 6)));
    }
  }
}

/** The document model of an invoice (PDF, CSV). */
export async function document(s: Session, invoice: Invoice, issuerName: string): Promise<InvoiceDocument> {
  const lines = await s.deps.store.allInvoiceLines(invoice.partyId, invoice.period, invoice.lineCount);
  const f = (v: number) => Money.format(v, invoice.currency);
  return {
    number: invoice.number,
    issuer: { name: issuerName },
    billTo: { name: invoice.partyName, country: invoice.country, ...(invoice.reference ? { reference: invoice.reference } : {}) },
    period: invoice.period,
    issuedAt: invoice.issuedAt,
    dueAt: invoice.dueAt,
    currency: invoice.currency,
    taxRatePercent: String(invoice.taxRate / 100),
    net: f(invoice.net),
    vat: f(invoice.vat),
    total: f(invoice.total),
    lines: lines.map((l) => ({
      sku: l.sku,
      description: l.description,
      kind: l.kind,
      quantity: l.quantity,
      unitPrice: f(l.unitPrice),
      amount: f(l.amount),
      customer: l.customer,
      tier1: l.tier1 ?? null,
      tier2: l.tier2 ?? null,
    })),
  };
}

/** Who may see a party's invoices: those who see its prices (its owners, operators). */
async function loadParty(s: Session, partyId: string): Promise<AccountRecord> {
  const [ms, party] = await Promise.all([s.memberships(), s.account(partyId)]);
  authorize(s.actor, ms, party, "account.read", s.now);
  if (!seesPrices(s.actor, ms, party!.id)) throw new Forbidden("Invoices are shown to the billed account's owners", "ROLE");
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
  return paged(args, (limit, cursor) => s.deps.store.listInvoiceLines(invoice.partyId, invoice.period, invoice.lineCount, limit, cursor));
}

/** Operators set the VAT rate a billed account is invoiced at ("20" or "20.5" percent). */
export async function setTaxRate(s: Session, input: { accountId: string; taxRatePercent: string }): Promise<AccountRecord> {
  s.principal();
  const [ms, account] = await Promise.all([s.memberships(), s.account(input.accountId)]);
  authorize(s.actor, ms, account, "account.read", s.now);
  if (!isOperator(s.actor, ms)) throw new Forbidden("Tax rates are set by the vendor's operators", "OPERATOR_ONLY");
  const a = account!;
  if (!a.billable) throw Invalid.field("accountId", "only billed accounts (distributors) have a tax rate");
  const m = /^(\d{1,2}|100)(?:\.(\d{1,2}))?$/.exec(input.taxRatePercent.trim());
  if (!m) throw Invalid.field("taxRatePercent", "must be a percentage between 0 and 100 with at most two decimals, e.g. 20 or 20.5");
  const taxRate = Number(m[1]) * 100 + Number((m[2] ?? "").padEnd(2, "0") || "0");
  if (taxRate > 10_000) throw Invalid.field("taxRatePercent", "must be at most 100");
  return AccountSettings.change(s, a, { taxRate }, "account.taxRateChanged", { from: (a.taxRate ?? 0) / 100, to: taxRate / 100 });
}
