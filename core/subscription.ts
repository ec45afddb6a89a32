import * as z from "zod";
import type { AccountRecord, ChangeRecord, OrderRecord, Page, SubscriptionRecord, TxEntities } from "../infra/store.js";
import { newId } from "../infra/ids.js";
import type { changeKinds } from "../infra/entities/subscription-change.js";
import type { Actor } from "./actor.js";
import { actorLabel } from "./actor.js";
import * as AccountSettings from "./account-settings.js";
import * as Catalog from "./catalog.js";
import { dueOp } from "./due.js";
import * as Money from "./money.js";
import type { Session } from "./context.js";
import { Conflict, Forbidden, Invalid, NotFound, unlessHidden } from "./errors.js";
import { paged } from "./paging.js";
import type { PageArgs } from "./paging.js";
import { allowed, authorize, isOperator, isVisible, reachOf } from "./rights.js";
import * as TrialEntries from "./trial-entries.js";
import { Contention } from "./tx.js";
import * as V from "./validation.js";
import { DAY_MS, monthsLeft } from "./time.js";
import * as Cond from "../infra/store/conditions.js";

export type ChangeKind = (typeof changeKinds)[number];
export type Status = SubscriptionRecord["status"];

/** A subscription as a caller sees it: `unitPrice` is null unless the caller sees prices. */
export type Info = Omit<SubscriptionRecord, "unitPrice"> & { readonly unitPrice: number | null };
export type Change = ChangeRecord;

/** Most licences one subscription (or order line) may hold. */
export const MAX_QUANTITY = 100_000;

export const quantity = z
  .number()
  .int("must be a whole number")
  .min(0, "must not be negative")
  .max(MAX_QUANTITY, `must be at most ${MAX_QUANTITY}`);

/** Whole days left before `endsAt`, rounded up (Ribbon "Active, expiring in 25 days"); 0 once past. */
export function daysRemaining(endsAt: string | undefined, now: Date): number | null {
  if (!endsAt) return null;
  return Math.max(0, Math.ceil((new Date(endsAt).getTime() - now.getTime()) / DAY_MS));
}

export function present(sub: SubscriptionRecord, showPrices: boolean): Info {
  return showPrices ? sub : { ...sub, unitPrice: null };
}

export interface ChangeInput {
  readonly sub: Pick<SubscriptionRecord, "accountId" | "sku">;
  readonly version: number;
  readonly kind: ChangeKind;
  readonly from: number;
  readonly to: number;
  readonly at: Date;
  readonly actor: Actor;
  readonly onBehalfOf?: string;
  readonly reason?: string;
  readonly orderId?: string;
}

/** The ledger entry of a change, for the change's own transaction. */
export function changeOp(e: TxEntities, c: ChangeInput) {
  return e.change
    .create({
      accountId: c.sub.accountId,
      sku: c.sub.sku,
      version: c.version,
      kind: c.kind,
      at: c.at.toISOString(),
      actor: actorLabel(c.actor),
      from: c.from,
      to: c.to,
      ...(c.onBehalfOf ? { onBehalfOf: c.onBehalfOf } : {}),
      ...(c.reason ? { reason: c.reason } : {}),
      ...(c.orderId ? { orderId: c.orderId } : {}),
    })
    .commit();
}

async function loadAccount(s: Session, accountId: string) {
  const { account, memberships: ms } = await s.authorized(accountId, "account.read");
  return { ms, account: account! };
}

/** Subscriptions of an account, by sku, optionally of one status. */
export async function list(
  s: Session,
  accountId: string,
  args: PageArgs & { status?: Status | null },
): Promise<Page<Info>> {
  const { account } = await loadAccount(s, accountId);
  const [page, show] = await Promise.all([subscriptionsPage(s, accountId, args), Catalog.showsPrices(s, account)]);
  return {
    hasNextPage: page.hasNextPage,
    items: page.items.map((i) => ({ node: present(i.node, show), cursor: i.cursor })),
  };
}

type ListArgs = PageArgs & { status?: Status | null };

function subscriptionsPage(s: Session, accountId: string, args: ListArgs): Promise<Page<SubscriptionRecord>> {
  return paged(args, (limit, cursor) => {
    const opts = { limit, cursor, ...(args.status ? { status: args.status } : {}) };
    return s.shared(`subscriptions:${accountId}:${JSON.stringify(opts)}`, () =>
      s.deps.store.listSubscriptions(accountId, opts),
    );
  });
}

function changesPage(s: Session, accountId: string, sku: string, args: PageArgs): Promise<Page<ChangeRecord>> {
  return paged(args, (limit, cursor) =>
    s.shared(`changes:${accountId}:${sku}:${JSON.stringify([limit, cursor])}`, () =>
      s.deps.store.listChanges(accountId, sku, limit, cursor),
    ),
  );
}

const ignore = () => undefined;

/**
 * Starts the reads of a subscriptions page while the caller's rights are still being read (the
 * page of `list(s, accountId, args)`), and, with `history`, each listed subscription's
 * `history(first)` page as soon as both the page and the rights check are in. Nothing is handed
 * out here: `list` and `history` hand the pages out after their own checks, and a caller who may
 * not read the account causes no history read.
 */
export function prefetchList(s: Session, accountId: string, args: ListArgs, history?: PageArgs): void {
  if (s.actor.type !== "user" && s.actor.type !== "client") return;
  const page = subscriptionsPage(s, accountId, args);
  page.catch(ignore);
  if (!history) return;
  Promise.all([page, s.authorized(accountId, "account.read")]).then(([p]) => {
    for (const i of p.items) changesPage(s, accountId, i.node.sku, history).catch(ignore);
  }, ignore);
}

/** One subscription (same NotFound for unknown and invisible). */
export async function get(s: Session, accountId: string, sku: string): Promise<Info> {
  const found = await find(s, accountId, sku);
  if (!found) throw new NotFound("Subscription");
  return found;
}

/** Like `get`, but undefined instead of NotFound (Relay `node`). */
export async function find(s: Session, accountId: string, sku: string): Promise<Info | undefined> {
  const [ms, account, sub] = await Promise.all([s.memberships(), s.account(accountId), s.subscription(accountId, sku)]);
  if (!account || !sub || !allowed(s.actor, ms, account, "account.read", s.now)) return undefined;
  return present(sub, await Catalog.showsPrices(s, account));
}

/** Ledger of one subscription, newest first. */
export async function history(s: Session, accountId: string, sku: string, args: PageArgs): Promise<Page<Change>> {
  await loadAccount(s, accountId);
  return changesPage(s, accountId, sku, args);
}

/** Ledger of every subscription of an account, newest first (Rainbow "Operations history", Subscriptions tab). */
export async function accountHistory(s: Session, accountId: string, args: PageArgs): Promise<Page<Change>> {
  await loadAccount(s, accountId);
  return paged(args, (limit, cursor) => s.deps.store.listAccountChanges(accountId, limit, cursor));
}

/**
 * A subscription the caller may see, with its account and the caller's memberships. An unknown
 * subscription and one on an account outside the caller's reach answer the same
 * NotFound("Subscription"): the id names a subscription, so does the answer.
 */
export async function visible(s: Session, accountId: string, sku: string) {
  const [ms, account, sub] = await Promise.all([s.memberships(), s.account(accountId), s.subscription(accountId, sku)]);
  if (!account || !sub || !isVisible(reachOf(s.actor, ms, account, s.now))) throw new NotFound("Subscription");
  return { ms, account, sub };
}

const changeInput = z.object({ accountId: z.string().min(1), sku: Catalog.sku, quantity });

const updateInput = changeInput.extend({
  expectedVersion: z.number().int().min(1, "must be a version the subscription had"),
});

/** A quantity change checked against the rules, not yet written: what `updateQuantity` would do. */
interface ChangePlan {
  readonly account: AccountRecord;
  readonly sub: SubscriptionRecord;
  readonly show: boolean;
  /** Undefined when the quantity does not change. */
  readonly kind: ChangeKind | undefined;
  readonly next: SubscriptionRecord;
  /** Prepaid licences added mid-term: the order that charges them. */
  readonly charge: OrderRecord | undefined;
}

/**
 * Checks a quantity change (rights, state, rules) and works out what it writes and charges. Shared
 * by `updateQuantity` and its preview, so the preview refuses exactly what the change would.
 */
async function planChange(s: Session, input: z.infer<typeof changeInput>): Promise<ChangePlan> {
  const { ms, account: a, sub } = await visible(s, input.accountId, input.sku);
  authorize(s.actor, ms, a, input.quantity >= sub.quantity ? "subscription.increase" : "subscription.decrease", s.now);
  if (sub.status !== "ACTIVE")
    throw new Conflict(`The subscription is ${sub.status.toLowerCase()}; place an order to subscribe again`);
  // Partner staff licences are ordered and amended through the vendor's service desk (Call2Teams
  // "Internal Use"): lowering or cancelling them too; more of them is an order, refused below.
  if (input.quantity < sub.quantity && !isOperator(s.actor, ms) && (await s.offers([sub.sku]))[0]?.internalOnly)
    throw new Forbidden(`${sub.sku} is amended through the vendor's service desk`, "OPERATOR_ONLY");
  const show = await Catalog.showsPrices(s, a);
  if (input.quantity === sub.quantity) return { account: a, sub, show, kind: undefined, next: sub, charge: undefined };
  // Prepaid licences are paid up front for the term: they may be added, never returned (Rainbow 5.5).
  if (sub.kind === "PREPAID" && input.quantity < sub.quantity)
    throw Invalid.field("quantity", "a prepaid subscription may only increase");
  if (input.quantity < sub.assigned) throw belowAssigned(sub.assigned);
  // More licences are an order in all but name: the offer must still be on sale and available here.
  if (input.quantity > sub.quantity)
    await Catalog.orderable(s, a, [sub.sku], await s.offers([sub.sku]), () => ["quantity"]);
  const kind: ChangeKind =
    input.quantity === 0 ? "CANCELLED" : input.quantity > sub.quantity ? "INCREASED" : "DECREASED";
  // Prepaid licences added mid-term are charged for the whole months left in the term, at the
  // original price (DESIGN 1): as an order, which is what billing charges prepaid from.
  const charge =
    kind === "INCREASED" && sub.kind === "PREPAID"
      ? await prepaidCharge(s, sub, input.quantity - sub.quantity)
      : undefined;
  const next: SubscriptionRecord = {
    ...sub,
    quantity: input.quantity,
    status: input.quantity === 0 ? "CANCELLED" : "ACTIVE",
    version: sub.version + 1,
    updatedAt: s.now.toISOString(),
  };
  return { account: a, sub, show, kind, next, charge };
}

/**
 * Sets a subscription's quantity. Optimistic: `expectedVersion` must be the current version.
 * Never below the licences assigned; prepaid quantities only grow; 0 cancels.
 */
export async function updateQuantity(s: Session, raw: z.input<typeof updateInput>): Promise<Info> {
  s.principal();
  const input = V.parse(updateInput, raw);
  const { account, sub, show, kind, next, charge } = await planChange(s, input);
  if (sub.version !== input.expectedVersion) throw staleVersion(sub.version);
  if (!kind) return present(sub, show);
  await s
    .transact(
      (e) => [
        e.subscription
          .patch({ accountId: sub.accountId, sku: sub.sku })
          .set({ quantity: next.quantity, status: next.status, version: next.version, updatedAt: next.updatedAt })
          .where(Cond.roomFor(sub.version, input.quantity))
          .commit(),
        changeOp(e, {
          sub,
          version: next.version,
          kind,
          from: sub.quantity,
          to: next.quantity,
          at: s.now,
          actor: s.actor,
          reason: "quantity update",
        }),
        ...(charge ? [e.order.create(charge).commit()] : []),
        // A cancellation may leave the account without an active subscription (retention); a cancelled
        // trial leaves the Trials views.
        ...(next.status === "CANCELLED"
          ? [dueOp(e, "retention", s.now, sub.accountId), ...TrialEntries.removeOps(e, account, sub)]
          : []),
      ],
      { otherwise: "retry" },
    )
    .catch(async (err: unknown) => {
      if (!(err instanceof Contention)) throw err;
      // Changed meanwhile, or licences assigned meanwhile: say which, from what is there now.
      const now = await s.subscription(sub.accountId, sub.sku);
      if (now && now.version === sub.version && now.assigned > input.quantity) throw belowAssigned(now.assigned);
      throw staleVersion(now?.version ?? sub.version);
    });
  return present(next, show);
}

/** What a quantity change would do, before it is made (Call2Teams shows it before an update). */
export interface ChangePreview {
  readonly subscription: Info;
  readonly oldQuantity: number;
  readonly newQuantity: number;
  readonly currency: string;
  /**
   * What the next invoice carries for this subscription after the change, in minor units: MONTHLY
   * the month-end amount (new quantity × price, no pro-rata), PREPAID the prorated charge of the
   * licences added (0 when none), TRIAL 0 (never billed). Null for USAGE (billed from recorded
   * usage) and for callers who do not see prices.
   */
  readonly nextInvoiceAmount: number | null;
}

/** The dry run of `updateQuantity`: the same checks, nothing written. */
export async function previewChange(s: Session, raw: z.input<typeof changeInput>): Promise<ChangePreview> {
  s.principal();
  const input = V.parse(changeInput, raw);
  const { sub, show, next, charge } = await planChange(s, input);
  const amount =
    sub.kind === "MONTHLY"
      ? Money.times(sub.unitPrice, next.quantity)
      : sub.kind === "PREPAID"
        ? (charge?.total ?? 0)
        : sub.kind === "TRIAL"
          ? 0
          : null;
  return {
    subscription: present(sub, show),
    oldQuantity: sub.quantity,
    newQuantity: next.quantity,
    currency: sub.currency,
    nextInvoiceAmount: show ? amount : null,
  };
}

async function prepaidCharge(s: Session, sub: SubscriptionRecord, added: number): Promise<OrderRecord> {
  const [offer] = await s.offers([sub.sku]);
  const term = offer?.termMonths ?? 12;
  const months = sub.endsAt ? monthsLeft(s.now, new Date(sub.endsAt)) : term;
  const amount = Money.prepaid(sub.unitPrice, added, months, term);
  const id = newId();
  return {
    accountId: sub.accountId,
    id,
    lines: [
      {
        sku: sub.sku,
        name: offer?.name ?? sub.sku,
        kind: "PREPAID",
        quantity: added,
        unitPrice: sub.unitPrice,
        amount,
        ...(sub.endsAt ? { termEndsAt: sub.endsAt } : {}),
      },
    ],
    currency: sub.currency,
    total: amount,
    reference: "quantity update",
    idempotencyKey: `quantity-update:${sub.version + 1}`,
    placedBy: actorLabel(s.actor),
    placedAt: s.now.toISOString(),
  };
}

const staleVersion = (current: number) =>
  new Conflict(`Stale version: the subscription is at version ${current}; reload and try again`);
const belowAssigned = (assigned: number) =>
  Invalid.field("quantity", `${assigned} licences are assigned; unassign some first`);

const cancelInput = z.object({
  accountId: z.string().min(1),
  sku: Catalog.sku,
  expectedVersion: V.absentIfNull(z.number().int().min(1)),
});

/** Cancels: quantity 0, status CANCELLED (Ribbon: set every quantity to 0). */
export async function cancel(s: Session, raw: z.input<typeof cancelInput>): Promise<Info> {
  const input = V.parse(cancelInput, raw);
  const current = input.expectedVersion ?? (await visible(s, input.accountId, input.sku)).sub.version;
  return updateQuantity(s, { accountId: input.accountId, sku: input.sku, quantity: 0, expectedVersion: current });
}

const delegationInput = z
  .object({ accountId: z.string().min(1), canUpdateSubscriptions: z.boolean(), canDecreaseSubscriptions: z.boolean() })
  .refine((v) => v.canUpdateSubscriptions || !v.canDecreaseSubscriptions, {
    path: ["canDecreaseSubscriptions"],
    message: "decreasing is part of updating: grant canUpdateSubscriptions too",
  });

/** A seller lets an account's own admins change its quantities (and decrease them) (Rainbow 5.4). */
export async function setDelegatedRights(s: Session, raw: z.input<typeof delegationInput>): Promise<AccountRecord> {
  s.principal();
  const input = V.parse(delegationInput, raw);
  const { account } = await s.authorized(input.accountId, "subscription.setDelegatedRights");
  const set = {
    canUpdateSubscriptions: input.canUpdateSubscriptions,
    canDecreaseSubscriptions: input.canDecreaseSubscriptions,
  };
  return AccountSettings.change(s, account!, set, "account.delegatedRightsChanged", set);
}

export { OVERVIEW_MAX_ACCOUNTS, overview } from "./subscription-overview.js";
export type { OverviewRow, Usage } from "./subscription-overview.js";

export function findChange(s: Session, accountId: string, sku: string, version: number): Promise<Change | undefined> {
  return unlessHidden(async () => {
    await loadAccount(s, accountId);
    return s.deps.store.getChange(accountId, sku, version);
  });
}
