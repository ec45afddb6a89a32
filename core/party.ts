import type { AccountRecord } from "../infra/store.js";
import { PLATFORM_ID } from "./rights.js";

/*
 * The billed party of an account (DESIGN 1, "Billing": the nearest billable ancestor-or-self; only
 * distributors, the platform's children, are billable), today and at a past instant.
 */

/** Today's billed party ("-" for none: the platform's own account). */
export function partyOf(account: Pick<AccountRecord, "id" | "billable" | "path">): string {
  if (account.billable) return account.id;
  return account.path[0] === PLATFORM_ID && account.path[1] ? account.path[1] : "-";
}

/**
 * The party an account was billed to at an instant (security rule 11: the hierarchy at the end of
 * the month): the first former party it kept until then or later, else today's.
 */
export function partyAt(account: Pick<AccountRecord, "formerParties">, current: string, at: Date): string {
  const iso = at.toISOString();
  return (account.formerParties ?? []).find((f) => f.until >= iso)?.partyId ?? current;
}
