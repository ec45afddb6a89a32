import { subscriptionStatuses } from "../../infra/entities/subscription.js";
import { changeKinds } from "../../infra/entities/subscription-change.js";
import { valuesOf } from "../enums.js";
import * as Account from "../../core/account.js";
import * as Licence from "../../core/licence.js";
import * as Subscription from "../../core/subscription.js";
import { builder } from "../builder.js";
import { forward, toConnection } from "../connection.js";
import { compositeId, compositeParts, globalId, scoped, splitScoped } from "../ids.js";
import * as Catalog from "../../core/catalog.js";
import { AccountRef } from "./account.js";
import { MoneyRef, money } from "./money.js";
import { OfferKind, OfferRef, seenFrom } from "./offer.js";

/** The estimate of one subscriptionOverview, in DynamoDB requests: a partner with about 40 accounts below. */
const OVERVIEW_ESTIMATE = 42;

export const SubscriptionStatus = builder.enumType("LicenceSubscriptionStatus", {
  description: "Whether a subscription's licences count",
  values: valuesOf(subscriptionStatuses, {
    ACTIVE: "Billed and usable",
    CANCELLED: "Quantity 0, cancelled by a person",
    EXPIRED: "A trial or prepaid term ended without conversion or renewal",
    CONVERTED:
      "A trial converted to its paid offer (convertTrial): quantity 0, its licences moved to the paid subscription",
  }),
});
export const ChangeKind = builder.enumType("LicenceSubscriptionChangeKind", {
  description: "What a ledger entry did to the subscription",
  values: valuesOf(changeKinds, {
    CREATED: "Created by an order",
    INCREASED: "Quantity raised (an order or a quantity change)",
    DECREASED: "Quantity lowered",
    CANCELLED: "Cancelled: quantity 0",
    CONVERTED: "A trial converted to its paid offer",
    EXPIRED: "A trial or prepaid term ended",
    RENEWED: "A prepaid term renewed",
  }),
});

export const SubscriptionChangeRef = builder.objectRef<Subscription.Change>("LicenceSubscriptionChange");

builder.node(SubscriptionChangeRef, {
  description: "One entry of the subscription ledger: every quantity change, in order",
  id: { resolve: (c) => compositeId(c.accountId, c.sku, c.version) },
  loadWithoutCache: (id, ctx) => {
    const p = compositeParts(id, 3);
    return p && /^[0-9]{1,9}$/.test(p[2]!)
      ? Subscription.findChange(ctx.session, p[0]!, p[1]!, Number(p[2]))
      : undefined;
  },
  fields: (t) => ({
    kind: t.field({ type: ChangeKind, description: "What the change did", resolve: (c) => c.kind }),
    sku: t.exposeString("sku", { description: "The subscription's offer" }),
    version: t.exposeInt("version", { description: "The subscription's version after this change" }),
    at: t.field({ type: "DateTime", description: "When it happened", resolve: (c) => c.at }),
    actor: t.exposeString("actor", { description: "user:<email> or system:<job>" }),
    onBehalfOf: t.exposeString("onBehalfOf", {
      nullable: true,
      description: "The seller's account when a seller made the change for the customer",
    }),
    from: t.exposeInt("from", { description: "Quantity before" }),
    to: t.exposeInt("to", { description: "Quantity after" }),
    delta: t.int({ description: "to − from", resolve: (c) => c.to - c.from }),
    reason: t.exposeString("reason", { nullable: true, description: "Why, when given" }),
    orderId: t.id({
      nullable: true,
      description: "The Order id, when an order made the change",
      resolve: (c) => (c.orderId ? globalId("Order", `${c.accountId}:${c.orderId}`) : null),
    }),
  }),
});

export const LicenceRef = builder.objectRef<Licence.Info>("Licence");

builder.node(LicenceRef, {
  description: "A licence of a subscription held by a member (one per member and offer family)",
  id: { resolve: (l) => compositeId(l.accountId, l.family, l.email) },
  loadWithoutCache: (id, ctx) => {
    const p = compositeParts(id, 3);
    return p ? Licence.find(ctx.session, p[0]!, p[1]!, p[2]!) : undefined;
  },
  fields: (t) => ({
    email: t.field({ type: "EmailAddress", description: "The member holding it", resolve: (l) => l.email }),
    sku: t.exposeString("sku", { description: "The subscription's offer" }),
    family: t.exposeString("family", { description: "The offer's family (a member holds one licence per family)" }),
    assignedAt: t.field({ type: "DateTime", description: "When it was assigned", resolve: (l) => l.assignedAt }),
    assignedBy: t.exposeString("assignedBy", { description: "Who assigned it: user:<email>" }),
  }),
});

export const SubscriptionRef = builder.objectRef<Subscription.Info>("LicenceSubscription");

builder.node(SubscriptionRef, {
  description: "An account's licences of one offer: how many, how many assigned, and their history",
  id: { resolve: (s) => `${s.accountId}:${s.sku}` },
  loadWithoutCache: (id, ctx) => {
    const parts = splitScoped(id);
    return parts ? Subscription.find(ctx.session, parts.accountId, parts.key) : undefined;
  },
  fields: (t) => ({
    sku: t.exposeString("sku", { description: "The offer subscribed to" }),
    account: t.field({
      type: AccountRef,
      description: "The account holding the subscription",
      resolve: (s, _a, ctx) => Account.get(ctx.session, s.accountId),
    }),
    kind: t.field({ type: OfferKind, description: "How it is charged", resolve: (s) => s.kind }),
    family: t.exposeString("family", { description: "The offer's family" }),
    status: t.field({ type: SubscriptionStatus, description: "Whether its licences count", resolve: (s) => s.status }),
    quantity: t.exposeInt("quantity", { description: "Licences subscribed" }),
    assigned: t.exposeInt("assigned", { description: "Licences assigned to members; never above quantity" }),
    available: t.int({ description: "Licences left to assign", resolve: (s) => s.quantity - s.assigned }),
    unitPrice: t.field({
      type: MoneyRef,
      nullable: true,
      description: "The price the subscription was created at; null unless you see prices",
      resolve: (s) => money(s.unitPrice, s.currency),
    }),
    startedAt: t.field({
      type: "DateTime",
      description: "When the first order created it",
      resolve: (s) => s.startedAt,
    }),
    endsAt: t.field({
      type: "DateTime",
      nullable: true,
      description: "Trial end, or the prepaid term end",
      resolve: (s) => s.endsAt ?? null,
    }),
    daysRemaining: t.int({
      nullable: true,
      description: 'Whole days until endsAt (trials: "expiring in 25 days")',
      resolve: (s, _a, ctx) => Subscription.daysRemaining(s.endsAt, ctx.session.now),
    }),
    version: t.exposeInt("version", { description: "Pass as expectedVersion when changing the quantity" }),
    updatedAt: t.field({ type: "DateTime", description: "When it last changed", resolve: (s) => s.updatedAt }),
    history: t.connection({
      type: SubscriptionChangeRef,
      description: "Every change of this subscription, newest first",
      resolve: async (s, args, ctx) =>
        toConnection(await Subscription.history(ctx.session, s.accountId, s.sku, forward(args))),
    }),
    licences: t.connection({
      type: LicenceRef,
      description: "Who holds this subscription's licences",
      resolve: async (s, args, ctx) => toConnection(await Licence.list(ctx.session, s.accountId, s.sku, forward(args))),
    }),
  }),
});

const UsageRef = builder.objectRef<Subscription.Usage>("LicenceUsage").implement({
  description:
    "Licence counts of one offer over a set of accounts. A value, not an entity: a sum computed on each read",
  fields: (t) => ({
    quantity: t.exposeInt("quantity", { description: "Licences held by active subscriptions" }),
    assigned: t.exposeInt("assigned", { description: "Of those, licences assigned to members" }),
  }),
});

export const OverviewRowRef = builder.objectRef<Subscription.OverviewRow>("LicenceSubscriptionOverview").implement({
  description:
    "Licences of one offer: the account's own, and summed over the customers and resellers below it. A value, not an entity: computed on each read",
  fields: (t) => ({
    sku: t.exposeString("sku", { description: "The offer" }),
    own: t.field({ type: UsageRef, description: "The account's own subscription", resolve: (r) => r.own }),
    customers: t.field({
      type: UsageRef,
      nullable: true,
      description: "Null when you do not see the account's subtree",
      resolve: (r) => r.customers,
    }),
    resellers: t.field({
      type: UsageRef,
      nullable: true,
      description: "Summed over the resellers below; null when you do not see the account's subtree",
      resolve: (r) => r.resellers,
    }),
  }),
});

builder.objectFields(AccountRef, (t) => ({
  subscriptions: t.connection({
    type: SubscriptionRef,
    description: "Subscriptions of this account, by sku",
    args: {
      status: t.arg({ type: SubscriptionStatus, required: false, description: "Only subscriptions in this state" }),
    },
    resolve: async (a, args, ctx) =>
      toConnection(await Subscription.list(ctx.session, a.id, { ...forward(args), status: args.status ?? null })),
  }),
  subscriptionHistory: t.connection({
    type: SubscriptionChangeRef,
    description: "Every change of this account's subscriptions, newest first (operations history)",
    resolve: async (a, args, ctx) => toConnection(await Subscription.accountHistory(ctx.session, a.id, forward(args))),
  }),
  subscriptionOverview: t.field({
    type: [OverviewRowRef],
    description:
      "Licences per offer: own, customers' and resellers' below (one read per account below: a large subtree may need more than a request's budget of DynamoDB requests)",
    // One query per account of the subtree: ~42 for a reseller with 40 customers (measured).
    complexity: OVERVIEW_ESTIMATE,
    resolve: (a, _args, ctx) => Subscription.overview(ctx.session, a.id),
  }),
  availableOffers: t.field({
    type: [OfferRef],
    description: "What this account can order now (same as Query.offers)",
    resolve: async (a, _args, ctx) => seenFrom(a.id, await Catalog.available(ctx.session, a.id)),
  }),
  canUpdateSubscriptions: t.exposeBoolean("canUpdateSubscriptions", {
    description: "Delegated by a seller: the account's own admins may change quantities",
  }),
  canDecreaseSubscriptions: t.exposeBoolean("canDecreaseSubscriptions", {
    description: "Delegated by a seller: ...and decrease them",
  }),
  billable: t.exposeBoolean("billable", { description: "Invoiced by the vendor (distributors)" }),
  currency: t.field({
    type: "Currency",
    nullable: true,
    description: "Billing currency of a billable account",
    resolve: (a) => a.currency ?? null,
  }),
}));

const ChangePreviewRef = builder.objectRef<Subscription.ChangePreview>("LicenceSubscriptionChangePreview").implement({
  description:
    "What updateSubscriptionQuantity would do; nothing is written. A value, not an entity: computed on each read",
  fields: (t) => ({
    subscription: t.field({
      type: SubscriptionRef,
      description: "The subscription as it is now (pass its version as expectedVersion)",
      resolve: (p) => p.subscription,
    }),
    oldQuantity: t.exposeInt("oldQuantity", { description: "Licences subscribed now" }),
    newQuantity: t.exposeInt("newQuantity", { description: "Licences after the change" }),
    nextInvoiceAmount: t.field({
      type: MoneyRef,
      nullable: true,
      description:
        "What the next invoice carries for this subscription after the change: MONTHLY the month-end amount (new quantity × price, no pro-rata), PREPAID the prorated charge of the licences added (zero when none), TRIAL zero. Null for USAGE offers (billed from recorded usage) and unless you see prices",
      resolve: (p) => money(p.nextInvoiceAmount, p.currency),
    }),
  }),
});

builder.queryField("previewSubscriptionChange", (t) =>
  t.field({
    type: ChangePreviewRef,
    description:
      "A dry run of updateSubscriptionQuantity: old and new quantity and what the next invoice carries, checked like the change itself",
    args: {
      subscriptionId: t.arg.globalID({
        for: SubscriptionRef,
        required: true,
        description: "The LicenceSubscription's global id",
      }),
      quantity: t.arg.int({ required: true, description: "The new quantity (0 cancels)" }),
    },
    errors: {},
    resolve: (_r, args, ctx) => {
      const { accountId, key } = scoped(args.subscriptionId);
      return Subscription.previewChange(ctx.session, { accountId, sku: key, quantity: args.quantity });
    },
  }),
);
