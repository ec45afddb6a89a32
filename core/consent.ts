import type { TxEntities } from "../infra/store.js";
import { Forbidden } from "./errors.js";
import { mayAdminister } from "./rights.js";
import { guard } from "./tx.js";
import type { Guarded } from "./tx.js";
import * as Cond from "../infra/store/conditions.js";

/**
 * The condition that makes revocation linear (rules 5 and 7 of the trust model): in the transaction of every
 * write done under a customer's partner-admin opt-in, a check that the opt-in still holds for that
 * reseller. The reseller's entry of "customers I administer" exists exactly while the opt-in is
 * granted to it (written by the opt-in, deleted by the opt-out and by a move that takes the reseller
 * away), and carries its end; so a write committed after the revocation commits is impossible.
 */
export function heldCheck(e: TxEntities, resellerId: string, customerId: string, now: Date, since?: string): Guarded {
  const at = now.toISOString();
  const op = e.administered.check({ resellerId, customerId }).where(Cond.optInHolds(at, since)).commit();
  return guard(op, () => new Forbidden("The partner administration of this customer has ended", "NO_OPT_IN"));
}

/**
 * Whether an opt-in entry (a reseller's "customers I administer" entry) holds at `now`, and, given
 * `since`, was already granted then: something done under an opt-in lapses with it, and does not
 * come back with a later opt-in.
 */
export function holds(
  entry: { readonly since: string; readonly until?: string } | undefined,
  now: Date,
  since?: string,
): boolean {
  return !!entry && (!entry.until || entry.until > now.toISOString()) && (!since || entry.since <= since);
}

/**
 * What a move does to an opt-in (rule 4): the grantees still above the customer keep it, the others
 * lose it; with none left the opt-in lapses. Consent is never extended to a reseller that was not
 * above the customer when it opted in.
 */
export function afterMove(
  grantees: readonly string[],
  newPath: readonly string[],
): { readonly kept: string[]; readonly dropped: string[] } {
  // A distributor keeps it only while the customer still buys from it directly.
  const keeps = (id: string) => newPath.includes(id) && mayAdminister(newPath, id);
  return { kept: grantees.filter(keeps), dropped: grantees.filter((id) => !keeps(id)) };
}
