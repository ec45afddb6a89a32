import type { AccountRecord } from "../infra/store.js";
import * as Cond from "../infra/store/conditions.js";
import * as Audit from "./audit.js";
import type { Session } from "./context.js";
import { Conflict } from "./errors.js";

/** Settings of an account that the sellers above it (or the catalog) change one at a time. */
export type Settings = Partial<
  Pick<
    AccountRecord,
    | "canCreateAccounts"
    | "canCreateEquipment"
    | "canUpdateSubscriptions"
    | "canDecreaseSubscriptions"
    | "offers"
    | "taxRate"
    | "billingAddress"
    | "vatId"
    | "purchaseOrder"
  >
>;

/** Any account write that lost to a concurrent one. */
export const accountChanged = () => new Conflict("The account changed meanwhile; reload and try again");

/**
 * Writes account settings with their audit entry. Versioned like every account write, so a
 * concurrent `update` (a whole-item put) cannot undo it, and vice versa.
 */
export async function change(
  s: Session,
  a: AccountRecord,
  set: Settings,
  action: string,
  details: Record<string, unknown>,
): Promise<AccountRecord> {
  const next: AccountRecord = { ...a, ...set, updatedAt: s.now.toISOString(), version: a.version + 1 };
  await s.transact(
    (e) => [
      e.account
        .patch({ id: a.id })
        .set({ ...set, updatedAt: next.updatedAt, version: next.version })
        .where(Cond.atVersion(a.version))
        .commit(),
      Audit.entry(e, { accountId: a.id, action, actor: s.actor, at: s.now, subjectId: a.id, details }).commit(),
    ],
    { otherwise: accountChanged },
  );
  return next;
}
