import * as z from "zod";
import type { UsageRecord } from "../infra/store.js";
import { Contention, guard } from "./tx.js";
import { actorLabel } from "./actor.js";
import * as Billing from "./billing.js";
import * as Catalog from "./catalog.js";
import type { Session } from "./context.js";
import { Conflict, Forbidden, Invalid, NotFound } from "./errors.js";
import { isOperator } from "./rights.js";
import * as V from "./validation.js";
import * as Cond from "../infra/store/conditions.js";

export type Info = UsageRecord;

/** A billing run starts at 00:05 UTC on the 1st: the month before is closed from then on. */
const CLOSE_AFTER_MS = 5 * 60_000;

const input = z.object({
  accountId: z.string().min(1),
  sku: Catalog.sku,
  quantity: z
    .number()
    .int("must be a whole number")
    .min(1, "must be at least 1")
    .max(1_000_000_000, "must be at most 1000000000"),
  // Round-trips through Date: "2026-09-31" (rolled over to 1 October by Date) is not a day.
  day: z
    .string()
    .regex(/^\d{4}-\d{2}-\d{2}$/, "must be a day such as 2026-10-31")
    .refine(
      (d) => !Number.isNaN(Date.parse(`${d}T00:00:00Z`)) && new Date(`${d}T00:00:00Z`).toISOString().slice(0, 10) === d,
      "must be a real day",
    ),
  idempotencyKey: z
    .string()
    .trim()
    .min(1, "must not be empty")
    .max(100, "must be at most 100 characters")
    .regex(/^[\x21-\x7e]*$/, "must be printable ASCII without spaces"),
});
export type Input = z.input<typeof input>;

/**
 * Records usage of a USAGE offer (e.g. conference minutes) by the vendor's platform. Idempotent by
 * the integrator's key: the same key and quantity returns the first record; another quantity is a
 * Conflict. Future days and months already billed are refused.
 */
export async function record(s: Session, raw: Input): Promise<Info> {
  s.principal();
  const u = V.parse(input, raw);
  const [ms, account, sub] = await Promise.all([
    s.memberships(),
    s.account(u.accountId),
    s.subscription(u.accountId, u.sku),
  ]);
  if (!isOperator(s.actor, ms)) throw new Forbidden("Usage is recorded by the vendor's platform", "OPERATOR_ONLY");
  if (!account) throw new NotFound("Account");
  if (!sub) throw Invalid.field("sku", `the account has no ${u.sku} subscription`);
  if (sub.kind !== "USAGE") throw Invalid.field("sku", `${u.sku} is not a usage offer`);
  const at = new Date(`${u.day}T00:00:00Z`);
  const now = s.now;
  if (at > now) throw Invalid.field("day", "must not be in the future");
  const period = Billing.periodOf(at);
  const closesAt = Billing.parsePeriod(period).end.getTime() + CLOSE_AFTER_MS;
  if (now.getTime() >= closesAt) throw Invalid.field("day", `${period} is closed: it has been billed`);
  // A month billed by hand before 00:05 is closed too: its invoice exists.
  const party = await Catalog.billedParty(s, account);
  if (party && (await s.deps.store.getInvoice(party.id, period)))
    throw Invalid.field("day", `${period} is closed: it has been billed`);
  const item: UsageRecord = {
    accountId: u.accountId,
    sku: u.sku,
    period,
    key: u.idempotencyKey,
    quantity: u.quantity,
    day: u.day,
    recordedBy: actorLabel(s.actor),
    recordedAt: now.toISOString(),
  };
  // The key is the integrator's, for the account and offer whatever the month: an idempotency
  // record (the order-key entity, "usage:" keys) points at the month the usage was filed under.
  const key = `usage:${u.sku}:${u.idempotencyKey}`;
  const fingerprint = `${u.quantity}@${u.day}`;
  const replay = async () => {
    const earlier = await s.deps.store.getOrderKey(u.accountId, key);
    if (!earlier) return undefined;
    if (earlier.requestHash !== fingerprint) throw new Conflict("This idempotency key was used for different usage");
    return s.deps.store.getUsage(u.accountId, u.sku, earlier.orderId, u.idempotencyKey);
  };
  const first = await replay();
  if (first) return first;
  try {
    await s.transact(
      (e) => [
        // The month-closed marker (rule 12): once billing has planned the party's month, usage for it
        // is refused, so an accepted record is always in the month's invoice.
        ...(party
          ? [
              guard(e.billingRun.check({ partyId: party.id, period }).where(Cond.monthOpen()).commit(), () =>
                Invalid.field("day", `${period} is closed: it is being billed`),
              ),
            ]
          : []),
        e.usage.create(item).commit(),
        e.orderKey.create({ accountId: u.accountId, key, requestHash: fingerprint, orderId: period }).commit(),
      ],
      { otherwise: "retry" },
    );
  } catch (err) {
    if (!(err instanceof Contention)) throw err;
    // The same key recorded meanwhile by a concurrent retry.
    const again = await replay();
    if (again) return again;
    throw new Conflict("This idempotency key was used for different usage");
  }
  return item;
}
