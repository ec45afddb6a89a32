import * as z from "zod";
import { digest as sha256 } from "../infra/ids.js";
import type { AccountRecord, OrderKeyRecord, Page, SubscriptionRecord } from "../infra/store.js";
import * as Audit from "./audit.js";
import * as Catalog from "./catalog.js";
import type { Session } from "./context.js";
import { Conflict, Invalid, NotFound } from "./errors.js";
import * as Order from "./order.js";
import { paged, pageSize } from "./paging.js";
import type { PageArgs } from "./paging.js";
import { allowed, authorize } from "./rights.js";
import * as Subscription from "./subscription.js";
import * as TrialEntries from "./trial-entries.js";
import { Contention } from "./tx.js";
import * as V from "./validation.js";
import * as Cond from "../infra/store/conditions.js";

// ---------------------------------------------------------------- the Trials view (Ribbon's Trials tab)

/**
 * The active trials within the caller's reach of an account, soonest end first: the account's own
 * and, for those who reach its subtree (its sellers, the sellers above, operators), every trial
 * below it. The subtree is one Query of the Trials-view entries; the account's own trials alone
 * are read from its subscriptions (an account holds one per offer: a handful).
 */
export async function list(s: Session, accountId: string, args: PageArgs): Promise<Page<Subscription.Info>> {
  const { account, memberships: ms } = await s.authorized(accountId, "account.read");
  const a = account!;
  if (!allowed(s.actor, ms, a, "account.listChildren", s.now)) return own(s, a, args);
  const page = await paged(args, (limit, cursor) => s.deps.store.listTrials(a.id, { limit, cursor }));
  const subs = await Promise.all(page.items.map((i) => s.subscription(i.node.accountId, i.node.sku)));
  const shown = await present(s, subs);
  // An entry always has its active trial (they change in one transaction); a stale one is skipped.
  return {
    hasNextPage: page.hasNextPage,
    items: page.items.flatMap((i, n) => (shown[n] ? [{ node: shown[n], cursor: i.cursor }] : [])),
  };
}

/** Subscriptions as their readers see them: prices by each account's billed party (trials are free all the same). */
async function present(
  s: Session,
  subs: readonly (SubscriptionRecord | undefined)[],
): Promise<(Subscription.Info | undefined)[]> {
  const accounts = await s.accounts([...new Set(subs.flatMap((x) => (x ? [x.accountId] : [])))]);
  const byId = new Map(accounts.flatMap((x) => (x ? [[x.id, x] as const] : [])));
  const shows = new Map(
    await Promise.all([...byId.values()].map(async (x) => [x.id, await Catalog.showsPrices(s, x)] as const)),
  );
  return subs.map((x) =>
    x && x.kind === "TRIAL" && x.status === "ACTIVE"
      ? Subscription.present(x, shows.get(x.accountId) ?? false)
      : undefined,
  );
}

/** The account's own active trials, soonest end first; the cursor is the position (end, sku) of the last one. */
async function own(s: Session, account: AccountRecord, args: PageArgs): Promise<Page<Subscription.Info>> {
  const limit = pageSize(args);
  const after = args.after ? openOwnCursor(args.after) : undefined;
  const key = (x: SubscriptionRecord) => `${x.endsAt ?? ""}|${x.sku}`;
  const trials = (await s.deps.store.allSubscriptions(account.id))
    .filter((x) => x.kind === "TRIAL" && x.status === "ACTIVE")
    .sort((x, y) => key(x).localeCompare(key(y)))
    .filter((x) => after === undefined || key(x) > after);
  const shown = await present(s, trials);
  const items = trials
    .slice(0, limit)
    .map((x, i) => ({ node: shown[i]!, cursor: Buffer.from(key(x)).toString("base64url") }));
  return { items, hasNextPage: trials.length > limit };
}

function openOwnCursor(cursor: string): string {
  const key = /^[A-Za-z0-9_-]{1,400}$/.test(cursor) ? Buffer.from(cursor, "base64url").toString("utf8") : "";
  if (!/^\d{4}-\d\d-\d\dT[\d:.]+Z\|[A-Z0-9._-]{1,40}$/.test(key))
    throw Invalid.field("after", "is not a cursor of this list");
  return key;
}

export { DIGEST_DAYS, nextDigestAt, sendDigest, setDigest } from "./trial-digest.js";

// ---------------------------------------------------------------- conversion

const conversionRef = z.object({
  accountId: z.string().min(1),
  sku: z.string().min(1),
  quantity: z
    .number()
    .int("must be a whole number")
    .min(1, "must be at least 1")
    .max(Subscription.MAX_QUANTITY, `must be at most ${Subscription.MAX_QUANTITY}`),
});
const conversionInput = conversionRef.extend({ idempotencyKey: Order.newAccountOrder.shape.idempotencyKey });
export type ConversionInput = z.input<typeof conversionInput>;

/**
 * Where a client's conversion key is kept: its own "conversion:" namespace, apart from the order keys
 * ("order:") and the system's (renewal:, usage:, new-account:), so no string a client sends collides.
 */
function clientConversionKey(key: string): string {
  return `conversion:${key}`;
}

/** TransactWriteItems takes at most 100 items. */
const MAX_TX_ITEMS = 100;
/**
 * Items of a conversion besides the licences: the trial and its ledger entry, the paid subscription
 * and its ledger entry, a new term's marker, the retention reset, the order, its key, the audit entry.
 */
const FIXED_ITEMS = 9;

/** Licences one conversion can move (each is one write of its transaction) for an account at this depth. */
export const maxMovedLicences = (account: Pick<AccountRecord, "path">) =>
  MAX_TX_ITEMS - FIXED_ITEMS - TrialEntries.entryCount(account);

interface ConversionPlan {
  readonly account: AccountRecord;
  readonly trial: SubscriptionRecord;
  readonly order: Order.Plan;
  readonly line: Order.PlannedLine;
}

/** A conversion checked against the rules and priced (the order for the paid offer), not yet written. */
async function plan(s: Session, input: z.infer<typeof conversionRef>): Promise<ConversionPlan> {
  const { ms, account, sub: trial } = await Subscription.visible(s, input.accountId, input.sku);
  // Converting is ordering the paid offer: the rights of placeOrder.
  authorize(s.actor, ms, account, "order.place", s.now);
  if (trial.kind !== "TRIAL")
    throw Invalid.field("subscriptionId", `is a ${trial.kind.toLowerCase()} subscription, not a trial`);
  if (trial.status !== "ACTIVE")
    throw new Conflict(`The trial is ${trial.status.toLowerCase()}; it can no longer be converted`);
  // No user loses service: every licence of the trial becomes a paid one.
  if (input.quantity < trial.assigned)
    throw Invalid.field("quantity", `${trial.assigned} members hold licences of the trial; convert at least that many`);
  const max = maxMovedLicences(account);
  if (trial.assigned > max)
    throw new Conflict(
      `${trial.assigned} licences of this trial are assigned; one conversion moves at most ${max} (one transaction)`,
    );
  const [offer] = await s.offers([trial.sku]);
  const paidSku = offer?.convertsTo;
  if (!paidSku) throw new Conflict(`The ${trial.sku} trial names no paid offer to convert to`);
  const order = await Order.plan(s, account, { lines: [{ sku: paidSku, quantity: input.quantity }] }).catch(
    (err: unknown) => {
      // The order's issues are the conversion's: its paid offer (the subscription's), its quantity.
      throw err instanceof Invalid
        ? new Invalid(
            err.issues.map((i) => ({ ...i, path: i.path.at(-1) === "quantity" ? ["quantity"] : ["subscriptionId"] })),
          )
        : err;
    },
  );
  const line = order.lines[0]!;
  if (line.offer.family !== trial.family)
    throw new Conflict(
      `The ${trial.sku} trial's licences (${trial.family}) are not of the family of ${paidSku} (${line.offer.family}); ask the operators`,
    );
  return { account, trial, order, line };
}

/** A dry run of `convert`: the paid offer's order as it would be placed, nothing written. */
export interface ConversionPreview {
  readonly trial: Subscription.Info;
  readonly order: Order.Preview;
  /** Licences of the trial that become paid licences. */
  readonly licences: number;
}

export async function previewConversion(s: Session, raw: z.input<typeof conversionRef>): Promise<ConversionPreview> {
  s.principal();
  const input = V.parse(conversionRef, raw);
  const p = await plan(s, input);
  return {
    trial: Subscription.present(p.trial, p.order.showPrices),
    order: Order.presentPlan(p.order),
    licences: p.trial.assigned,
  };
}

export interface Conversion {
  readonly order: Order.Info;
  /** The trial after the conversion (CONVERTED). */
  readonly trial: Subscription.Info;
  /** The paid subscription created or increased. */
  readonly subscription: Subscription.Info;
}

/** Attempts while concurrent changes (licences, orders) keep moving what the conversion read. */
const ATTEMPTS = 5;

/**
 * Converts a trial to its paid offer in one transaction: the paid subscription is created or
 * increased by `quantity` (an order, charged by the usual rules: monthly at month end, prepaid for
 * the term), the trial's licences become licences of the paid subscription (same family: no member
 * loses service), the trial ends CONVERTED with a CONVERTED ledger entry and leaves the Trials
 * views. Idempotent by the client's key (its own namespace): a replay answers the first conversion.
 */
export async function convert(s: Session, raw: ConversionInput): Promise<Conversion> {
  s.principal();
  const input = V.parse(conversionInput, raw);
  const key = clientConversionKey(input.idempotencyKey);
  const hash = sha256(JSON.stringify(["conversion", input.accountId, input.sku, input.quantity]));
  // The key taken by a concurrent replay, the trial converted by another key, licences or the paid
  // subscription changed meanwhile: read again (the next round answers the first two).
  return s.optimistic(
    {
      attempts: ATTEMPTS,
      gaveUp: () => new Conflict("The trial's licences kept changing meanwhile; try again"),
      baseMs: 20,
    },
    async () => {
      // Rights first (as placeOrder): a replay answers only those who may convert.
      const [{ ms, account: seen }, found] = await Promise.all([
        Subscription.visible(s, input.accountId, input.sku),
        s.orderKey(input.accountId, key),
      ]);
      authorize(s.actor, ms, seen, "order.place", s.now);
      if (found) return replay(s, seen, input, found, hash);
      const p = await plan(s, input);
      const { account, trial, line } = p;
      // Holders come from an index that may lag behind `assigned` (read consistently): the trial's
      // write is conditioned on the count, and each licence's on still being the trial's.
      const licences = (
        await s.deps.store.listLicences(trial.accountId, trial.sku, maxMovedLicences(account) + 1, null)
      ).items.map((i) => i.node);
      // The index has not caught up yet.
      if (licences.length !== trial.assigned) throw new Contention();
      const order = Order.orderRecord(s, p.order, { reference: "trial conversion", idempotencyKey: key });
      const version = trial.version + 1;
      const now = s.now.toISOString();
      await s.transact(
        (e) => [
          e.subscription
            .patch({ accountId: trial.accountId, sku: trial.sku })
            .set({ status: "CONVERTED", quantity: 0, assigned: 0, version, updatedAt: now })
            .where(Cond.activeAt(trial.version, licences.length))
            .commit(),
          Subscription.changeOp(e, {
            sub: trial,
            version,
            kind: "CONVERTED",
            from: trial.quantity,
            to: 0,
            at: s.now,
            actor: s.actor,
            reason: `converted to ${line.offer.sku}`,
            orderId: order.id,
          }),
          ...Order.lineOps(s, e, line, order.id, { reason: "trial conversion", moved: licences.length }),
          ...Order.termOps(s, e, p.order),
          Order.accountOp(e, account),
          e.order.create(order).commit(),
          e.orderKey.create({ accountId: account.id, key, requestHash: hash, orderId: order.id }).commit(),
          Audit.entry(e, {
            accountId: account.id,
            action: "trial.converted",
            actor: s.actor,
            at: s.now,
            subjectId: trial.sku,
            details: { to: line.offer.sku, quantity: input.quantity, licences: licences.length, orderId: order.id },
          }).commit(),
          ...licences.map((l) =>
            e.licence
              .patch({ accountId: l.accountId, email: l.email, family: l.family })
              .set({ sku: line.offer.sku })
              .where(Cond.ofSku(trial.sku))
              .commit(),
          ),
          ...TrialEntries.removeOps(e, account, trial),
        ],
        { otherwise: "retry" },
      );
      const [after, paid] = await Promise.all([
        s.subscription(trial.accountId, trial.sku),
        s.subscription(account.id, line.offer.sku),
      ]);
      return {
        order: Order.present(order, p.order.showPrices),
        trial: Subscription.present(after!, p.order.showPrices),
        subscription: Subscription.present(paid!, p.order.showPrices),
      };
    },
  );
}

async function replay(
  s: Session,
  account: AccountRecord,
  input: z.infer<typeof conversionInput>,
  found: OrderKeyRecord,
  hash: string,
): Promise<Conversion> {
  if (found.requestHash !== hash) throw new Conflict("This idempotency key was used for a different conversion");
  const order = await s.deps.store.getOrder(account.id, found.orderId);
  if (!order) throw new NotFound("Order");
  const paidSku = order.lines[0]!.sku;
  const [show, trial, paid] = await Promise.all([
    Catalog.showsPrices(s, account),
    s.subscription(account.id, input.sku),
    s.subscription(account.id, paidSku),
  ]);
  return {
    order: Order.present(order, show),
    trial: Subscription.present(trial!, show),
    subscription: Subscription.present(paid!, show),
  };
}

/** The offer of a subscription its reader sees, priced as that reader sees the account's prices. */
export async function offerOf(
  s: Session,
  sub: Pick<SubscriptionRecord, "accountId" | "sku">,
): Promise<Catalog.Info | undefined> {
  const [[offer], account] = await Promise.all([s.offers([sub.sku]), s.account(sub.accountId)]);
  if (!offer || !account) return undefined;
  return Catalog.present(offer, await Catalog.showsPrices(s, account));
}
