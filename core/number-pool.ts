import type { AccountRecord, PhoneNumberRecord, TxEntities } from "../infra/store.js";
import * as Cond from "../infra/store/conditions.js";
import type { Session } from "./context.js";
import { Invalid } from "./errors.js";
import { guard } from "./tx.js";
import { PLATFORM_ID } from "./rights.js";
import { DAY_MS } from "./time.js";

/**
 * What the scheduled runs need of the number inventory (core/numbers.ts has the use cases): kept
 * apart so the lifecycle worker and the change-stream consumer do not load the numbering plans.
 */

/** How long a released number waits in its pool before anyone takes it again. */
export const QUARANTINE_DAYS = 30;

/** Whether a number is out of quarantine at `now` (may be allocated, assigned or chosen). */
export function available(n: Pick<PhoneNumberRecord, "quarantinedUntil">, now: Date): boolean {
  return !n.quarantinedUntil || n.quarantinedUntil <= now.toISOString();
}

/**
 * A deleted account's numbers go back the way they came: to the pool each was allocated from (the
 * platform's when that account is gone too), quarantined. Idempotent (part of the purge).
 */
export async function returnAll(s: Session, accountId: string): Promise<void> {
  const held = await s.deps.store.allNumbers(accountId);
  const until = new Date(s.now.getTime() + QUARANTINE_DAYS * DAY_MS).toISOString();
  const now = s.now.toISOString();
  for (let i = 0; i < held.length; i += 90) {
    const chunk = held.slice(i, i + 90);
    const targets = await s.accounts([...new Set(chunk.map((n) => n.fromId))]);
    const exists = new Set(targets.filter((a) => !!a).map((a) => a!.id));
    await s.transact(
      (e) =>
        chunk.map((n) =>
          e.phoneNumber
            .patch({ number: n.number })
            .set({
              holderId: exists.has(n.fromId) ? n.fromId : PLATFORM_ID,
              quarantinedUntil: until,
              version: n.version + 1,
              updatedAt: now,
            })
            .where(Cond.atVersion(n.version))
            .commit(),
        ),
      { otherwise: () => new Error("numbers changed while returning them; retry") },
    );
  }
}

/**
 * The operation an extension association adds to its transaction: the public number must be in
 * the account's pool, out of quarantine; its version moves, so a release that read it before fails.
 */
export function useOp(e: TxEntities, accountId: string, number: string, now: Date) {
  return guard(
    e.phoneNumber.patch({ number }).add({ version: 1 }).where(Cond.inPool(accountId, now.toISOString())).commit(),
    () => Invalid.field("publicNumber", "is not in the account's number pool"),
  );
}

/** Checked before an association, for a clear error: the number is in the account's pool. */
export async function assertUsable(s: Session, accountId: string, number: string): Promise<void> {
  const n = await s.deps.store.getNumber(number);
  if (!n || n.holderId !== accountId || !available(n, s.now))
    throw Invalid.field("publicNumber", "is not in the account's number pool");
}

/** Refuses the numbers `holder` uses itself: its main number, and the numbers on its extensions. */
export async function assertUnused(
  s: Session,
  holder: AccountRecord,
  numbers: readonly string[],
  who: string,
): Promise<void> {
  if (holder.mainNumber && numbers.includes(holder.mainNumber))
    throw Invalid.field("numbers", `${holder.mainNumber} is the main number of ${who}: choose another first`);
  const inUse = new Set((await s.deps.store.allCustomerAssignments(holder.id)).map((a) => a.publicNumber));
  const used = numbers.filter((n) => inUse.has(n));
  if (used.length > 0)
    throw Invalid.field("numbers", `on an extension of ${who}, unassign it first: ${used.slice(0, 5).join(", ")}`);
}
