import type { AccountRecord, SubscriptionRecord, TxEntities } from "../infra/store.js";

type Trial = Pick<SubscriptionRecord, "accountId" | "sku" | "kind" | "endsAt">;
type Placed = Pick<AccountRecord, "id" | "path">;

/** The accounts whose Trials view lists a trial of `account`: every ancestor, and the account itself. */
export const reachOf = (account: Placed): string[] => [...account.path, account.id];

/** Items an active trial keeps in the Trials views (one per account in whose reach it is). */
export const entryCount = (account: Pick<AccountRecord, "path">): number => account.path.length + 1;

/** Writes the Trials-view entries of a trial that starts (in the transaction that starts it). */
export function addOps(e: TxEntities, account: Placed, sub: Trial, reach: readonly string[] = reachOf(account)) {
  if (sub.kind !== "TRIAL" || !sub.endsAt) return [];
  const endsAt = sub.endsAt;
  return reach.map((reachId) => e.trialEntry.put({ reachId, endsAt, accountId: sub.accountId, sku: sub.sku }).commit());
}

/** Deletes them when the trial ends (expiry, conversion, cancellation), in the transaction that ends it. */
export function removeOps(e: TxEntities, account: Placed, sub: Trial, reach: readonly string[] = reachOf(account)) {
  if (sub.kind !== "TRIAL" || !sub.endsAt) return [];
  const endsAt = sub.endsAt;
  return reach.map((reachId) =>
    e.trialEntry.delete({ reachId, endsAt, accountId: sub.accountId, sku: sub.sku }).commit(),
  );
}
