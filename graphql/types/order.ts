import * as Order from "../../core/order.js";
import * as Subscription from "../../core/subscription.js";
import { builder } from "../builder.js";
import { forward, toConnection } from "../connection.js";
import { localId, splitScoped } from "../ids.js";
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
  fields: (t) => ({
    sku: t.string({ resolve: (l) => l.line.sku }),
    name: t.string({ resolve: (l) => l.line.name }),
    kind: t.field({ type: OfferKind, resolve: (l) => l.line.kind }),
    quantity: t.int({ resolve: (l) => l.line.quantity }),
    unitPrice: t.field({ type: MoneyRef, nullable: true, resolve: (l) => money(l.line.unitPrice, l.currency) }),
    amount: t.field({ type: MoneyRef, nullable: true, description: "quantity × unitPrice; licences added to a prepaid subscription: prorated to the whole months left in its term", resolve: (l) => money(l.line.amount, l.currency) }),
    subscription: t.field({
      type: SubscriptionRef,
      nullable: true,
      resolve: (l, _a, ctx) => Subscription.find(ctx.session, l.accountId, l.line.sku),
    }),
  }),
});

const lines = (accountId: string, currency: string, ls: readonly Order.Line[]): LineView[] => ls.map((line) => ({ accountId, currency, line }));

export const OrderRef = builder.objectRef<Order.Info>("Order");

builder.node(OrderRef, {
  id: { resolve: (o) => `${o.accountId}:${o.id}` },
  loadOne: (id, ctx) => {
    const parts = splitScoped(id);
    return parts ? Order.find(ctx.session, parts.accountId, parts.key) : undefined;
  },
  fields: (t) => ({
    lines: t.field({ type: [OrderLineRef], resolve: (o) => lines(o.accountId, o.currency, o.lines) }),
    currency: t.field({ type: "Currency", resolve: (o) => o.currency }),
    total: t.field({ type: MoneyRef, nullable: true, description: "Null unless you see the billed party's prices", resolve: (o) => money(o.total, o.currency) }),
    reference: t.exposeString("reference", { nullable: true }),
    idempotencyKey: t.exposeString("idempotencyKey"),
    placedBy: t.exposeString("placedBy"),
    onBehalfOf: t.exposeString("onBehalfOf", { nullable: true }),
    placedAt: t.field({ type: "DateTime", resolve: (o) => o.placedAt }),
  }),
});

const OrderPreviewRef = builder.objectRef<Order.Preview>("OrderPreview").implement({
  description: "What placeOrder would charge; nothing is written",
  fields: (t) => ({
    lines: t.field({ type: [OrderLineRef], resolve: (p) => lines(p.accountId, p.currency, p.lines) }),
    currency: t.field({ type: "Currency", resolve: (p) => p.currency }),
    total: t.field({ type: MoneyRef, nullable: true, resolve: (p) => money(p.total, p.currency) }),
  }),
});

export const OrderLineInput = builder.inputType("OrderLineInput", {
  fields: (t) => ({
    sku: t.string({ required: true }),
    quantity: t.int({ required: true, description: "1 to 100000 licences to add" }),
  }),
});

const PreviewOrderInput = builder.inputType("PreviewOrderInput", {
  fields: (t) => ({
    accountId: t.id({ required: true, description: "The account to order for (to preview an order for a new account, its parent)" }),
    lines: t.field({ type: [OrderLineInput], required: true }),
    currency: t.string({ required: false, description: "The currency you expect to be charged in" }),
  }),
});

builder.queryField("previewOrder", (t) =>
  t.field({
    type: OrderPreviewRef,
    description: "A dry run of placeOrder for the confirmation window",
    args: { input: t.arg({ type: PreviewOrderInput, required: true }) },
    errors: {},
    resolve: (_r, { input }, ctx) =>
      Order.preview(ctx.session, {
        accountId: localId(String(input.accountId), "Account"),
        lines: input.lines.map((l) => ({ sku: l.sku, quantity: l.quantity })),
        ...(input.currency != null ? { currency: input.currency } : {}),
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
