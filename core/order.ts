import * as z from "zod";
import { digest, newId } from "../infra/ids.js";
import type { AccountRecord, OfferRecord, OrderRecord, SubscriptionRecord, TxEntities } from "../infra/store.js";
import { actorLabel } from "./actor.js";
import * as Audit from "./audit.js";
import * as Catalog from "./catalog.js";
import { termOp } from "./due.js";
import type { Session } from "./context.js";
import { Conflict, Invalid } from "./errors.js";
import type { Issue } from "./errors.js";
import * as Money from "./money.js";
import { authorize } from "./rights.js";
import { partyOf } from "./party.js";
import * as Subscription from "./subscription.js";
import * as TrialEntries from "./trial-entries.js";
import * as V from "./validation.js";
import * as Time from "./time.js";
import * as Cond from "../infra/store/conditions.js";
import { present, presentPlan } from "./order-views.js";
import type { Info, Preview } from "./order-views.js";

export { find, get, list, present, presentPlan } from "./order-views.js";
export type { Info, Line, Preview } from "./order-views.js";

/**
 * Most lines in one order. An order is one DynamoDB transaction (at most 100 writes): each line
 * writes its subscription, its ledger entry and a lifecycle marker (trials, prepaid terms), and
 * account creation with an order adds up to 19 more items (account, parent, subtree entries,
 * audit, owner invitation, retention marker, order, keys).
 */
export const MAX_LINES = 25;

const lineInput = z.object({
  sku: Catalog.sku,
  quantity: z
    .number()
    .int("must be a whole number")
    .min(1, "must be at least 1")
    .max(Subscription.MAX_QUANTITY, `must be at most ${Subscription.MAX_QUANTITY}`),
});

const lines = z
  .array(lineInput)
  .min(1, "an order has at least one line")
  .max(MAX_LINES, `an order has at most ${MAX_LINES} lines`)
  .superRefine((list, ctx) => {
    const seen = new Set<string>();
    list.forEach((l, i) => {
      if (seen.has(l.sku))
        ctx.addIssue({
          code: "custom",
          path: [i, "sku"],
          message: `${l.sku} is ordered twice; use one line with the total quantity`,
        });
      seen.add(l.sku);
    });
  });

const orderFields = {
  lines,
  reference: V.absentIfNull(V.reference),
  currency: V.absentIfNull(Catalog.currency),
};

/**
 * Where a client's order key is kept (security rule 10): in its own "order:" namespace, apart from
 * the system's keys (renewal:, usage:, new-account:, ...), so no string a client sends can collide.
 */
export function clientOrderKey(key: string): string {
  return `order:${key}`;
}

export const newAccountOrder = z.object({
  ...orderFields,
  idempotencyKey: z
    .string()
    .trim()
    .min(1, "must not be empty")
    .max(100, "must be at most 100 characters")
    .regex(/^[\x21-\x7e]*$/, "must be printable ASCII without spaces"),
});
export type NewAccountOrderInput = z.input<typeof newAccountOrder>;

const placeInput = newAccountOrder.extend({ accountId: z.string().min(1) });
export type PlaceInput = z.input<typeof placeInput>;
const previewInput = z.object({ accountId: z.string().min(1), ...orderFields });
export type PreviewInput = z.input<typeof previewInput>;

type Parsed = z.infer<typeof newAccountOrder>;

/** One line, priced, with the subscription write it makes. */
export interface PlannedLine {
  readonly offer: OfferRecord;
  readonly quantity: number;
  readonly unitPrice: number;
  readonly amount: number;
  readonly before: SubscriptionRecord | undefined;
  readonly after: SubscriptionRecord;
}

/** TransactWriteItems takes at most 100 items. */
const MAX_TX_ITEMS = 100;
/** What creating the account adds to the transaction of its first order (account, parent, subtree entries, audit, owner invitation, retention marker, creation key). */
const CREATION_ITEMS = 19;

const startsTrial = (l: Pick<PlannedLine, "before" | "after">) =>
  l.after.kind === "TRIAL" && l.before?.status !== "ACTIVE";

/** Items of an order's transaction: per line its subscription and ledger entry, a lifecycle marker for a new term, a new trial's Trials-view entries; the order, its key, the audit entry, the account (checked as read, or its retention reset). */
function txItems(account: AccountRecord, lines: readonly Pick<PlannedLine, "before" | "after">[]): number {
  const perLine = lines.reduce(
    (n, l) =>
      n +
      2 +
      (l.before?.status !== "ACTIVE" && (l.after.kind === "TRIAL" || l.after.kind === "PREPAID") ? 1 : 0) +
      (startsTrial(l) ? TrialEntries.entryCount(account) : 0),
    0,
  );
  return perLine + 4;
}

export interface Plan {
  readonly account: AccountRecord;
  readonly lines: readonly PlannedLine[];
  readonly currency: string;
  readonly total: number;
  readonly showPrices: boolean;
}

/**
 * Checks an order against the catalog and the account, and prices it. `isNew`: the account is
 * being created in the same transaction (no subscriptions yet).
 */
export async function plan(
  s: Session,
  account: AccountRecord,
  input: Pick<Parsed, "lines" | "currency">,
  isNew = false,
): Promise<Plan> {
  const skus = input.lines.map((l) => l.sku);
  // One BatchGetItem: the offers, the subscriptions and the ancestors (availability, billed party).
  const [offers, subs, showPrices] = await Promise.all([
    s.offers(skus),
    isNew
      ? Promise.resolve(skus.map(() => undefined))
      : Promise.all(skus.map((sku) => s.subscription(account.id, sku))),
    Catalog.showsPrices(s, account),
    s.accounts(Catalog.partnersAbove(account)),
  ]);
  await Catalog.orderable(s, account, skus, offers, (i) => ["lines", String(i), "sku"]);
  const issues: Issue[] = [];
  const planned: PlannedLine[] = [];
  const now = s.now;
  input.lines.forEach((line, i) => {
    const at = (field: string, message: string) => issues.push({ path: ["lines", String(i), field], message });
    const offer = offers[i]!;
    const before = subs[i];
    if (offer.kind === "TRIAL" && before && before.status !== "ACTIVE")
      return at("sku", `the ${offer.sku} trial has been used on this account`);
    const active = before?.status === "ACTIVE";
    // An increase keeps the subscription's price (and a prepaid its term end: Rainbow 5.5).
    const unitPrice = active ? before.unitPrice : offer.unitPrice;
    // Prepaid licences added mid-term are charged for the whole months left in the term (DESIGN 1).
    const share =
      active && offer.kind === "PREPAID" && before.endsAt
        ? { months: Time.monthsLeft(now, new Date(before.endsAt)), of: offer.termMonths ?? 12 }
        : undefined;
    const to = (active ? before.quantity : 0) + line.quantity;
    if (to > Subscription.MAX_QUANTITY)
      return at("quantity", `the subscription would hold ${to} licences; at most ${Subscription.MAX_QUANTITY}`);
    const endsAt =
      offer.kind === "TRIAL"
        ? Time.addDays(now, offer.trialDays ?? Catalog.DEFAULT_TRIAL_DAYS)
        : offer.kind === "PREPAID"
          ? Time.addMonths(now, offer.termMonths ?? 12)
          : undefined;
    const after: SubscriptionRecord = active
      ? { ...before, quantity: to, version: before.version + 1, updatedAt: now.toISOString() }
      : {
          accountId: account.id,
          sku: offer.sku,
          kind: offer.kind,
          family: offer.family,
          status: "ACTIVE",
          quantity: to,
          assigned: before?.assigned ?? 0,
          unitPrice,
          currency: offer.currency,
          partyId: partyOf(account),
          startedAt: now.toISOString(),
          ...(endsAt ? { endsAt: endsAt.toISOString() } : {}),
          version: (before?.version ?? 0) + 1,
          updatedAt: now.toISOString(),
        };
    const amount = share
      ? Money.prepaid(unitPrice, line.quantity, share.months, share.of)
      : Money.times(unitPrice, line.quantity);
    planned.push({ offer, quantity: line.quantity, unitPrice, amount, before, after });
    return undefined;
  });
  if (issues.length) throw new Invalid(issues);
  // Trials add their Trials-view entries to the transaction: the order must still fit in one.
  const budget = MAX_TX_ITEMS - (isNew ? CREATION_ITEMS : 0);
  const items = txItems(account, planned);
  if (items > budget) {
    throw Invalid.field(
      "lines",
      `these lines need ${items} writes and one order makes at most ${budget}; order the trials (${planned.filter((l) => startsTrial(l)).length}) in fewer lines or separately`,
    );
  }
  const currencies = new Set(planned.map((l) => l.offer.currency));
  if (currencies.size > 1)
    throw Invalid.field(
      "lines",
      `an order is in one currency; these lines are in ${[...currencies].sort().join(" and ")}`,
    );
  const currency = planned[0]!.offer.currency;
  if (input.currency && input.currency !== currency)
    throw Invalid.field("currency", `these offers are priced in ${currency}`);
  const total = planned.reduce((sum, l) => sum + l.amount, 0);
  return { account, lines: planned, currency, total, showPrices };
}

function patchOp(e: TxEntities, l: PlannedLine, moved: number) {
  const before = l.before!;
  // A patch, not a put: `assigned` moves with licence assignments, which do not bump the version.
  const set = e.subscription.patch({ accountId: l.after.accountId, sku: l.after.sku }).set({
    quantity: l.after.quantity,
    status: l.after.status,
    unitPrice: l.after.unitPrice,
    startedAt: l.after.startedAt,
    version: l.after.version,
    updatedAt: l.after.updatedAt,
    ...(l.after.endsAt ? { endsAt: l.after.endsAt } : {}),
  });
  return (moved > 0 ? set.add({ assigned: moved }) : set)
    .where(Cond.roomFor(before.version, l.after.quantity - moved))
    .commit();
}

/**
 * The subscription write and ledger entry of one planned line. `moved`: licences that come with the
 * line (a trial's, converting), added to `assigned` in the same write, so `assigned <= quantity` holds.
 */
export function lineOps(
  s: Session,
  e: TxEntities,
  l: PlannedLine,
  orderId: string,
  opts: { reason: string; moved?: number } = { reason: "order" },
) {
  const moved = opts.moved ?? 0;
  return [
    l.before ? patchOp(e, l, moved) : e.subscription.create({ ...l.after, assigned: moved }).commit(),
    Subscription.changeOp(e, {
      sub: l.after,
      version: l.after.version,
      kind: l.before ? "INCREASED" : "CREATED",
      from: l.before?.status === "ACTIVE" ? l.before.quantity : 0,
      to: l.after.quantity,
      at: s.now,
      actor: s.actor,
      reason: opts.reason,
      orderId,
    }),
  ];
}

/** The lifecycle items of the lines that start a term: the term's marker, a trial's Trials-view entries. */
export function termOps(s: Session, e: TxEntities, p: Pick<Plan, "account" | "lines">) {
  return [
    ...p.lines.flatMap((l) => (l.before?.status === "ACTIVE" ? [] : termOp(e, l.after, s.now))),
    // A trial that starts enters the Trials views of its account and of every account above.
    ...p.lines.flatMap((l) => (startsTrial(l) ? TrialEntries.addOps(e, p.account, l.after) : [])),
  ];
}

/** A planned order's items: subscriptions, ledger entries, the account (unless created with it), order, key, audit. */
export function orderOps(s: Session, e: TxEntities, p: Plan, order: OrderRecord, hash: string, accountCreated = false) {
  return [
    ...p.lines.flatMap((l) => lineOps(s, e, l, order.id)),
    ...termOps(s, e, p),
    ...(accountCreated ? [] : [accountOp(e, p.account)]),
    e.order.create(order).commit(),
    e.orderKey
      .create({
        accountId: order.accountId,
        key: clientOrderKey(order.idempotencyKey),
        requestHash: hash,
        orderId: order.id,
      })
      .commit(),
    Audit.entry(e, {
      accountId: order.accountId,
      action: "order.placed",
      actor: s.actor,
      at: s.now,
      subjectId: order.id,
      details: {
        lines: order.lines.map((l) => ({ sku: l.sku, quantity: l.quantity })),
        ...(order.reference ? { reference: order.reference } : {}),
      },
    }).commit(),
  ];
}

/**
 * The account item of every transaction that orders (an order, a trial conversion): the account as
 * read (a move or deletion meanwhile cancels it, and it reads again), counted so a move that read its
 * subscriptions reads again; active again, its retention clock stops (DESIGN 1).
 */
export function accountOp(e: TxEntities, account: AccountRecord) {
  const counted = e.account.patch({ id: account.id }).add({ orderCount: 1 });
  const kept = account.pendingDeletionAt ? counted.remove(["pendingDeletionAt"]) : counted;
  return kept.where(Cond.asOrdered(account)).commit();
}

/** The order record of a plan. */
export function orderRecord(s: Session, p: Plan, input: Pick<Parsed, "reference" | "idempotencyKey">): OrderRecord {
  return {
    accountId: p.account.id,
    id: newId(),
    lines: p.lines.map((l) => ({
      sku: l.offer.sku,
      name: l.offer.name,
      kind: l.offer.kind,
      quantity: l.quantity,
      unitPrice: l.unitPrice,
      amount: l.amount,
      ...(l.offer.kind === "PREPAID" && l.after.endsAt ? { termEndsAt: l.after.endsAt } : {}),
    })),
    currency: p.currency,
    total: p.total,
    ...(input.reference ? { reference: input.reference } : {}),
    idempotencyKey: input.idempotencyKey,
    placedBy: actorLabel(s.actor),
    placedAt: s.now.toISOString(),
  };
}

/** Fingerprint of what an order asks for: a replayed key must carry the same request. */
export function fingerprint(accountId: string, input: Pick<Parsed, "lines" | "reference" | "currency">): string {
  const lines = [...input.lines].sort((x, y) => x.sku.localeCompare(y.sku)).map((l) => [l.sku, l.quantity]);
  return digest(JSON.stringify([accountId, lines, input.reference || null, input.currency ?? null]));
}

/** The dry run of `place`, for the portals' confirmation window. Nothing is written. */
export async function preview(s: Session, raw: PreviewInput): Promise<Preview> {
  s.principal();
  const input = V.parse(previewInput, raw);
  const { account } = await s.authorized(input.accountId, "order.place");
  return presentPlan(await plan(s, account!, input));
}

/** Attempts before giving up when concurrent orders keep changing the same subscriptions. */
const ATTEMPTS = 5;

/**
 * Places an order: creates or increases subscriptions, records the order with its prices, in one
 * transaction. Idempotent per account and key: a replay with the same request returns the first
 * order; the same key with another request is a Conflict.
 */
export async function place(s: Session, raw: PlaceInput): Promise<Info> {
  s.principal();
  const input = V.parse(placeInput, raw);
  const hash = fingerprint(input.accountId, input);
  // Either the key was taken by a concurrent replay, or a subscription moved: read again.
  return s.optimistic(
    { attempts: ATTEMPTS, gaveUp: () => new Conflict("The subscriptions kept changing meanwhile; try again") },
    async () => {
      // One BatchGetItem: the caller, the account and the key.
      const [ms, account, key] = await Promise.all([
        s.memberships(),
        s.account(input.accountId),
        s.orderKey(input.accountId, clientOrderKey(input.idempotencyKey)),
      ]);
      authorize(s.actor, ms, account, "order.place", s.now);
      if (key) return replay(s, account!, key, hash);
      const p = await plan(s, account!, input);
      const order = orderRecord(s, p, input);
      await s.transact((e) => orderOps(s, e, p, order, hash), { otherwise: "retry" });
      return present(order, p.showPrices);
    },
  );
}

async function replay(
  s: Session,
  account: AccountRecord,
  key: { requestHash: string; orderId: string },
  hash: string,
): Promise<Info> {
  if (key.requestHash !== hash) throw new Conflict("This idempotency key was used for a different order");
  const [order, show] = await Promise.all([
    s.deps.store.getOrder(account.id, key.orderId),
    Catalog.showsPrices(s, account),
  ]);
  if (!order) throw new Error("idempotency key without its order");
  return present(order, show);
}
