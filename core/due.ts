import type { DueRecord, SubscriptionRecord, TxEntities } from "../infra/store.js";
import { DAY_MS } from "./time.js";

/**
 * The lifecycle watermark, a counter: every day before it has been scheduled (a day number since
 * 1970-01-01). The one item the scheduler writes (its role may write no other: stacks/grants.ts).
 */
export const SCHEDULED_THROUGH = "lifecycle:scheduled-through";

/** Markers of work the daily lifecycle run must look at, written with the change that makes it due. */
export type Due = Pick<DueRecord, "what" | "accountId" | "sku" | "day">;
export const dueKinds: readonly Due["what"][] = ["term-end", "trial-reminder", "retention", "trial-digest"];

/** Trial reminders go 7 days and 1 day before the end. */
export const REMINDER_DAYS = [7, 1] as const;

export const dayOf = (at: Date) => at.toISOString().slice(0, 10);

/** A marker for the lifecycle run, to write in the transaction that makes the work due. */
export function dueOp(e: TxEntities, what: Due["what"], at: Date, accountId: string, sku = "-") {
  return e.due.put({ day: dayOf(at), what, accountId, sku, at: at.toISOString() }).commit();
}

/**
 * The one marker a new trial or prepaid term needs (one, to keep orders inside a transaction): a
 * prepaid term's end; a trial's first reminder, whose handler chains the next reminder and the end.
 */
export function termOp(
  e: TxEntities,
  sub: Pick<SubscriptionRecord, "accountId" | "sku" | "kind" | "endsAt">,
  now: Date,
) {
  if (!sub.endsAt || (sub.kind !== "TRIAL" && sub.kind !== "PREPAID")) return [];
  const end = new Date(sub.endsAt);
  if (sub.kind === "PREPAID") return [dueOp(e, "term-end", end, sub.accountId, sub.sku)];
  return [nextTrialStep(e, sub.accountId, sub.sku, end, now)];
}

/** The next step of a trial after `now`: the 7-day reminder, the 1-day reminder, then its end. */
export function nextTrialStep(e: TxEntities, accountId: string, sku: string, end: Date, now: Date) {
  for (const d of REMINDER_DAYS) {
    const at = new Date(end.getTime() - d * DAY_MS);
    if (at > now) return dueOp(e, "trial-reminder", at, accountId, sku);
  }
  // An end already past (an outage) is due now: a marker on a past day would sit before the lifecycle watermark.
  return dueOp(e, "term-end", end > now ? end : now, accountId, sku);
}
