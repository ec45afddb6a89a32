import type { Session } from "./context.js";
import { Conflict } from "./errors.js";
import { allowed } from "./rights.js";

/** The subscriptions overview of an account's subtree (Call2Teams: licences by offer, with their usage). */

export interface Usage {
  readonly quantity: number;
  readonly assigned: number;
}

export interface OverviewRow {
  readonly sku: string;
  readonly own: Usage;
  /** Null when the caller does not see the account's subtree. */
  readonly customers: Usage | null;
  readonly resellers: Usage | null;
}

/** Largest subtree the overview sums (one Query per account below). */
export const OVERVIEW_MAX_ACCOUNTS = 2_000;

/**
 * Billed (active quantity) and assigned licences per offer, for the account itself and summed over
 * the customers and the resellers below it (Rainbow "Subscriptions" tab).
 */
export async function overview(s: Session, accountId: string): Promise<OverviewRow[]> {
  const { account, memberships: ms } = await s.authorized(accountId, "account.read");
  const subtree = allowed(s.actor, ms, account, "account.listChildren", s.now);
  const entries = subtree ? await s.deps.store.listSubtree(accountId, OVERVIEW_MAX_ACCOUNTS) : [];
  if (entries.length > OVERVIEW_MAX_ACCOUNTS)
    throw new Conflict(
      `The overview covers at most ${OVERVIEW_MAX_ACCOUNTS} accounts below; open a child account instead`,
    );
  const targets = [
    { accountId, bucket: "own" as const },
    ...entries.map((e) => ({
      accountId: e.accountId,
      bucket: e.kind === "CUSTOMER" ? ("customers" as const) : ("resellers" as const),
    })),
  ];
  const rows = new Map<string, { own: Usage; customers: Usage; resellers: Usage }>();
  const zero = { quantity: 0, assigned: 0 };
  // Bounded fan-out: eight Queries in flight.
  for (let i = 0; i < targets.length; i += 8) {
    const batch = targets.slice(i, i + 8);
    const lists = await Promise.all(batch.map((t) => s.deps.store.allSubscriptions(t.accountId)));
    batch.forEach((t, j) => {
      for (const sub of lists[j]!) {
        if (sub.status !== "ACTIVE") continue;
        const row = rows.get(sub.sku) ?? { own: zero, customers: zero, resellers: zero };
        row[t.bucket] = {
          quantity: row[t.bucket].quantity + sub.quantity,
          assigned: row[t.bucket].assigned + sub.assigned,
        };
        rows.set(sub.sku, row);
      }
    });
  }
  return [...rows.entries()]
    .sort(([x], [y]) => x.localeCompare(y))
    .map(([sku, r]) => ({
      sku,
      own: r.own,
      customers: subtree ? r.customers : null,
      resellers: subtree ? r.resellers : null,
    }));
}

/** One ledger entry (the change that brought the subscription to `version`), for the account's readers (node lookups). */
