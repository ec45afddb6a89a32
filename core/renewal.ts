import type { SubscriptionRecord } from "../infra/store.js";
import { newId } from "../infra/ids.js";
import * as Cond from "../infra/store/conditions.js";
import { actorLabel } from "./actor.js";
import type { Session } from "./context.js";
import { termOp } from "./due.js";
import * as Money from "./money.js";
import * as Subscription from "./subscription.js";
import * as Time from "./time.js";

/**
 * A prepaid term renews for 12 months at its end (DESIGN 1), charged on the invoice of the month
 * the term ended in: the renewal's order is dated at the term's end, whenever it is recorded (by the
 * daily lifecycle run after the end, or by the month's billing run first, `renewDue`). Idempotent:
 * the order's key names the term that ended, so a replay renews nothing twice.
 */
export async function renew(s: Session, sub: SubscriptionRecord): Promise<void> {
  const [offer] = await s.deps.store.getOffers([sub.sku]);
  const term = offer?.termMonths ?? 12;
  const ended = sub.endsAt!;
  const endsAt = Time.addMonths(new Date(ended), 12).toISOString();
  const amount = Money.prepaid(sub.unitPrice, sub.quantity, 12, term);
  const version = sub.version + 1;
  const orderId = newId();
  const key = `renewal:${sub.sku}:${ended}`;
  const renewed = await s.transact(
    (e) => [
      e.subscription
        .patch({ accountId: sub.accountId, sku: sub.sku })
        .set({ endsAt, version, updatedAt: s.now.toISOString() })
        .where(Cond.activeAt(sub.version))
        .commit(),
      Subscription.changeOp(e, {
        sub,
        version,
        kind: "RENEWED",
        from: sub.quantity,
        to: sub.quantity,
        at: s.now,
        actor: s.actor,
        reason: "prepaid renewal",
        orderId,
      }),
      e.order
        .create({
          accountId: sub.accountId,
          id: orderId,
          lines: [
            {
              sku: sub.sku,
              name: offer?.name ?? sub.sku,
              kind: "PREPAID",
              quantity: sub.quantity,
              unitPrice: sub.unitPrice,
              amount,
              termEndsAt: endsAt,
            },
          ],
          currency: sub.currency,
          total: amount,
          reference: "renewal",
          idempotencyKey: key,
          placedBy: actorLabel(s.actor),
          // When the new term began, not when the run noticed: the month it is billed in.
          placedAt: ended,
        })
        .commit(),
      e.orderKey.create({ accountId: sub.accountId, key, requestHash: key, orderId }).commit(),
      ...termOp(e, { ...sub, endsAt }, s.now),
    ],
    { otherwise: "skip" },
  );
  if (renewed) return;
  // Renewed by an earlier delivery or the other run (its key exists), or changed meanwhile: re-read.
  const again = await s.deps.store.getSubscription(sub.accountId, sub.sku);
  if (again?.status !== "ACTIVE" || again.endsAt !== ended) return;
  throw new Error("subscription changed during renewal; retry");
}

/**
 * Renews every term of `sub` that ended before `until` (a billing run: the end of the month it
 * bills), so the month's invoice carries the renewals of that month even when the daily run has not
 * come by yet. Answers the subscription as it then is.
 */
export async function renewDue(s: Session, sub: SubscriptionRecord, until: Date): Promise<SubscriptionRecord> {
  let current: SubscriptionRecord | undefined = sub;
  while (
    current?.kind === "PREPAID" &&
    current.status === "ACTIVE" &&
    current.endsAt &&
    new Date(current.endsAt) < until
  ) {
    await renew(s, current);
    const next: SubscriptionRecord | undefined = await s.deps.store.getSubscription(sub.accountId, sub.sku);
    // Cancelled or changed so it no longer ends before `until`: nothing more to renew.
    if (!next || next.endsAt === current.endsAt) return next ?? current;
    current = next;
  }
  return current ?? sub;
}
