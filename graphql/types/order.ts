import * as Order from "../../core/order.js";
import * as Subscription from "../../core/subscription.js";
import { builder } from "../builder.js";
import { forward, toConnection } from "../connection.js";
import { splitScoped } from "../ids.js";
import { AccountRef } from "./account.js";
import { MoneyRef, money } from "./money.js";
import { OfferKind } from "./offer.js";
import { SubscriptionRef } from "./subscription.js";

interface LineView {
  readonly accountId: string;
  readonly currency: string;
  readonly line: Order.Line;
}

const OrderLineRef = builder.objectRef<LineView>("OrderLine").implement({
  description: "One line of an order or of its preview. A value, not an entity: part of its order",
  fields: (t) => ({
    sku: t.string({ description: "The offer ordered", resolve: (l) => l.line.sku }),
    name: t.string({ description: "The offer's name", resolve: (l) => l.line.name }),
    kind: t.field({ type: OfferKind, description: "How the offer is charged", resolve: (l) => l.line.kind }),
    quantity: t.int({ description: "Licences added", resolve: (l) => l.line.quantity }),
    unitPrice: t.field({
      type: MoneyRef,
      nullable: true,
      description: "Price per licence; null unless you see the billed party's prices",
      resolve: (l) => money(l.line.unitPrice, l.currency),
    }),
    amount: t.field({
      type: MoneyRef,
      nullable: true,
      description:
        "quantity × unitPrice; licences added to a prepaid subscription: prorated to the whole months left in its term",
      resolve: (l) => money(l.line.amount, l.currency),
    }),
    subscription: t.field({
      type: SubscriptionRef,
      nullable: true,
      description: "The subscription the line added to, when you may see it",
      resolve: (l, _a, ctx) => Subscription.find(ctx.session, l.accountId, l.line.sku),
    }),
  }),
});

const lines = (accountId: string, currency: string, ls: readonly Order.Line[]): LineView[] =>
  ls.map((line) => ({ accountId, currency, line }));

export const OrderRef = builder.objectRef<Order.Info>("Order");

builder.node(OrderRef, {
  description: "An order placed for an account: licences added to its subscriptions in one transaction",
  id: { resolve: (o) => `${o.accountId}:${o.id}` },
  loadWithoutCache: (id, ctx) => {
    const parts = splitScoped(id);
    return parts ? Order.find(ctx.session, parts.accountId, parts.key) : undefined;
  },
  fields: (t) => ({
    lines: t.field({
      type: [OrderLineRef],
      description: "What was ordered, in input order",
      resolve: (o) => lines(o.accountId, o.currency, o.lines),
    }),
    currency: t.field({ type: "Currency", description: "The currency charged", resolve: (o) => o.currency }),
    total: t.field({
      type: MoneyRef,
      nullable: true,
      description: "Null unless you see the billed party's prices",
      resolve: (o) => money(o.total, o.currency),
    }),
    reference: t.exposeString("reference", {
      nullable: true,
      description: "The orderer's own reference (a purchase order number)",
    }),
    idempotencyKey: t.exposeString("idempotencyKey", {
      description: "The key the order was placed with; placing again with it answers this order",
    }),
    placedBy: t.exposeString("placedBy", { description: "Who placed it: user:<email>" }),
    onBehalfOf: t.exposeString("onBehalfOf", {
      nullable: true,
      description: "The seller's account when a seller ordered for the customer",
    }),
    placedAt: t.field({ type: "DateTime", description: "When it was placed", resolve: (o) => o.placedAt }),
  }),
});

export const OrderPreviewRef = builder.objectRef<Order.Preview>("OrderPreview").implement({
  description: "What placeOrder would charge; nothing is written. A value, not an entity: computed on each read",
  fields: (t) => ({
    lines: t.field({
      type: [OrderLineRef],
      description: "What would be ordered",
      resolve: (p) => lines(p.accountId, p.currency, p.lines),
    }),
    currency: t.field({
      type: "Currency",
      description: "The currency that would be charged",
      resolve: (p) => p.currency,
    }),
    total: t.field({
      type: MoneyRef,
      nullable: true,
      description: "The sum of the lines; null unless you see prices",
      resolve: (p) => money(p.total, p.currency),
    }),
  }),
});

export const OrderLineInput = builder.inputType("OrderLineInput", {
  description: "One offer to order, and how many licences",
  fields: (t) => ({
    sku: t.string({ required: true, description: "An offer available to the account" }),
    quantity: t.int({ required: true, description: "1 to 100000 licences to add" }),
  }),
});

const PreviewOrderInput = builder.inputType("PreviewOrderInput", {
  description: "The order to price",
  fields: (t) => ({
    accountId: t.globalID({
      for: AccountRef,
      required: true,
      description: "The account to order for (to preview an order for a new account, its parent)",
    }),
    lines: t.field({ type: [OrderLineInput], required: true, description: "The offers and quantities" }),
    currency: t.string({ required: false, description: "The currency you expect to be charged in" }),
  }),
});

builder.queryField("previewOrder", (t) =>
  t.field({
    type: OrderPreviewRef,
    description: "A dry run of placeOrder for the confirmation window",
    args: { input: t.arg({ type: PreviewOrderInput, required: true, description: "The operation's fields" }) },
    errors: {},
    resolve: (_r, { input }, ctx) =>
      Order.preview(ctx.session, {
        accountId: input.accountId.id,
        lines: input.lines.map((l) => ({ sku: l.sku, quantity: l.quantity })),
        currency: input.currency,
      }),
  }),
);

builder.objectFields(AccountRef, (t) => ({
  orders: t.connection({
    type: OrderRef,
    description: "Orders placed for this account, newest first",
    resolve: async (a, args, ctx) => toConnection(await Order.list(ctx.session, a.id, forward(args))),
  }),
}));
