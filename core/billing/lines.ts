import * as z from "zod";
import type { AccountRecord, Page, SubscriptionRecord } from "../../infra/store.js";
import type { BillingRunRecord } from "../../infra/store/billing-runs.js";
import type { Session } from "../context.js";
import * as Money from "../money.js";
import * as Renewal from "../renewal.js";
import { partyAt } from "../party.js";
import { parsePeriod } from "./period.js";
import { DAY_MS } from "../time.js";

/** The lines of a chunk: each account's charges for the month (DESIGN 1, "Billing"), and their per-offer summary. */

/** One charge of an invoice: the end customer, the partners above it, the offer, the service period. */
export interface InvoiceLine {
  readonly lineNo: number;
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
  /** Service period of the line, first and last day (`YYYY-MM-DD`). */
  readonly from: string;
  readonly to: string;
}
export type DraftLine = Omit<InvoiceLine, "lineNo">;

export const lineSchema = z.array(
  z.object({
    accountId: z.string(),
    sku: z.string(),
    description: z.string(),
    kind: z.string(),
    quantity: z.number(),
    unitPrice: z.number(),
    amount: z.number(),
    customer: z.string(),
    tier1: z.string().optional(),
    tier2: z.string().optional(),
    from: z.string(),
    to: z.string(),
  }),
);

/** Per offer: quantity, amount and how many customers hold it (the summary of a large invoice). */
export interface SummaryRow {
  readonly sku: string;
  readonly description: string;
  readonly kind: string;
  readonly quantity: number;
  readonly amount: number;
  readonly customers: number;
}
export const summarySchema = z.array(
  z.object({
    sku: z.string(),
    description: z.string(),
    kind: z.string(),
    quantity: z.number(),
    amount: z.number(),
    customers: z.number(),
  }),
);

/**
 * Quantity of a subscription at an instant, from the ledger (no pro-rata: monthly lines bill the
 * quantity at month end). Untouched since the instant: its current quantity.
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

const day = (d: Date) => d.toISOString().slice(0, 10);

export function summarise(lines: readonly DraftLine[]): SummaryRow[] {
  const rows = new Map<string, SummaryRow & { holders: Set<string> }>();
  for (const l of lines) {
    const key = `${l.sku}\u0000${l.description}\u0000${l.kind}`;
    const r = rows.get(key) ?? {
      sku: l.sku,
      description: l.description,
      kind: l.kind,
      quantity: 0,
      amount: 0,
      customers: 0,
      holders: new Set<string>(),
    };
    r.holders.add(l.accountId);
    rows.set(key, { ...r, quantity: r.quantity + l.quantity, amount: r.amount + l.amount, customers: r.holders.size });
  }
  return [...rows.values()].map(({ holders: _h, ...r }) => r);
}

export function mergeSummaries(parts: readonly SummaryRow[][]): SummaryRow[] {
  const rows = new Map<string, SummaryRow>();
  for (const r of parts.flat()) {
    const key = `${r.sku}\u0000${r.description}\u0000${r.kind}`;
    const was = rows.get(key);
    // Chunks hold disjoint accounts: customer counts add up.
    rows.set(
      key,
      was
        ? {
            ...was,
            quantity: was.quantity + r.quantity,
            amount: was.amount + r.amount,
            customers: was.customers + r.customers,
          }
        : r,
    );
  }
  return [...rows.values()].sort((a, b) =>
    a.sku < b.sku ? -1 : a.sku > b.sku ? 1 : a.description < b.description ? -1 : 1,
  );
}

/**
 * The charges of one chunk (DESIGN 1, "Billing"): MONTHLY at the month-end quantity, PREPAID as
 * ordered or renewed in the month, USAGE from recorded usage, TRIAL never; only for accounts the
 * party billed at month end. Lines follow the index order (account, offer), so any chunking gives
 * the same invoice.
 */
export async function chunkLines(
  s: Session,
  run: BillingRunRecord,
  subs: readonly SubscriptionRecord[],
): Promise<DraftLine[]> {
  const { start, end } = parsePeriod(run.period);
  // Prepaid terms that ended in the month renew first, so this invoice charges them (the daily run
  // may not have come by since the term ended). Sequential: few are due, and each is a transaction.
  const current: SubscriptionRecord[] = [];
  for (const sub of subs) current.push(sub.kind === "PREPAID" ? await Renewal.renewDue(s, sub, end) : sub);
  const byAccount = new Map<string, SubscriptionRecord[]>();
  for (const sub of current) byAccount.set(sub.accountId, [...(byAccount.get(sub.accountId) ?? []), sub]);
  const accounts = new Map((await s.accounts([...byAccount.keys()])).flatMap((a) => (a ? [[a.id, a] as const] : [])));
  const partners = [...new Set([...accounts.values()].flatMap((a) => a.path.slice(2)))];
  const names = new Map((await s.accounts(partners)).flatMap((a) => (a ? [[a.id, a.name] as const] : [])));
  for (const a of accounts.values()) names.set(a.id, a.name);
  const offerNames = new Map(
    (await s.offers([...new Set(current.map((x) => x.sku))])).flatMap((o) => (o ? [[o.sku, o.name] as const] : [])),
  );
  const out: DraftLine[] = [];
  const month = { from: day(start), to: day(new Date(end.getTime() - DAY_MS)) };
  const work = [...byAccount.entries()];
  for (let i = 0; i < work.length; i += 16) {
    const batch = work.slice(i, i + 16);
    const results = await Promise.all(
      batch.map(async ([accountId, held]) => {
        const a = accounts.get(accountId);
        // Deleted accounts wait for their months' invoices (retention), so a missing one has nothing left to bill.
        if (!a || partyAt(a, held[0]!.partyId, end) !== run.partyId) return [];
        // Within an account: by kind, then offer (as invoices always listed them).
        const ls = await accountLines(s, a, held, start, end, run.period, offerNames, month);
        return ls
          .map((l, i) => [l, i] as const)
          .sort(([x, i], [y, j]) =>
            x.kind !== y.kind ? (x.kind < y.kind ? -1 : 1) : x.sku !== y.sku ? (x.sku < y.sku ? -1 : 1) : i - j,
          )
          .map(([l]) => l);
      }),
    );
    results.forEach((ls, j) => {
      const a = accounts.get(batch[j]![0]);
      if (!a) return;
      // The chain of partners below the distributor, down to the account itself when it is a reseller.
      const chain = [...a.path.slice(2), ...(a.kind === "RESELLER" ? [a.id] : [])]
        .map((id) => names.get(id))
        .filter((n): n is string => !!n);
      for (const l of ls)
        out.push({
          ...l,
          customer: a.name,
          ...(chain[0] ? { tier1: chain[0] } : {}),
          ...(chain[1] ? { tier2: chain[1] } : {}),
        });
    });
  }
  return out;
}

type Charge = Omit<DraftLine, "customer" | "tier1" | "tier2">;

async function accountLines(
  s: Session,
  a: AccountRecord,
  subs: readonly SubscriptionRecord[],
  start: Date,
  end: Date,
  period: string,
  offers: ReadonlyMap<string, string>,
  month: { from: string; to: string },
): Promise<Charge[]> {
  const out: Charge[] = [];
  for (const sub of [...subs].sort((x, y) => (x.sku < y.sku ? -1 : 1))) {
    const description = offers.get(sub.sku) ?? sub.sku;
    if (sub.kind === "MONTHLY") {
      const quantity = await quantityAt(s, sub, end);
      if (quantity > 0)
        out.push({
          accountId: a.id,
          sku: sub.sku,
          description,
          kind: sub.kind,
          quantity,
          unitPrice: sub.unitPrice,
          amount: Money.times(sub.unitPrice, quantity),
          ...month,
        });
    } else if (sub.kind === "USAGE") {
      const quantity = await s.deps.store.usageTotal(a.id, sub.sku, period);
      if (quantity > 0)
        out.push({
          accountId: a.id,
          sku: sub.sku,
          description,
          kind: sub.kind,
          quantity,
          unitPrice: sub.unitPrice,
          amount: Money.times(sub.unitPrice, quantity),
          ...month,
        });
    }
  }
  // Prepaid: charged for the term when ordered or renewed (renewals are recorded as system orders).
  // Only accounts holding a prepaid subscription can have such orders: the others skip the read.
  if (!subs.some((x) => x.kind === "PREPAID")) return out;
  const ends = new Map(subs.map((x) => [x.sku, x.endsAt]));
  for (const order of (await s.deps.store.ordersBetween(a.id, start, end)).reverse()) {
    for (const l of order.lines) {
      if (l.kind !== "PREPAID") continue;
      // The term the line paid for; orders from before lines named it: the subscription's current term.
      const termEnd = l.termEndsAt ?? ends.get(l.sku);
      const to = termEnd ? day(new Date(new Date(termEnd).getTime() - DAY_MS)) : month.to;
      out.push({
        accountId: a.id,
        sku: l.sku,
        description: order.reference === "renewal" ? `${l.name} (renewal)` : l.name,
        kind: l.kind,
        quantity: l.quantity,
        unitPrice: l.unitPrice,
        amount: l.amount,
        from: order.placedAt.slice(0, 10),
        to,
      });
    }
  }
  return out;
}
