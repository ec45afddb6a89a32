import * as Order from "../../core/order.js";
import { builder } from "../builder.js";
import { AccountRef } from "../types/account.js";
import { OrderLineInput, OrderRef } from "../types/order.js";

export const PlaceOrderInput = builder.inputType("PlaceOrderInput", {
  description: "The order to place",
  fields: (t) => ({
    accountId: t.globalID({ for: AccountRef, description: "The account's global id", required: true }),
    lines: t.field({
      type: [OrderLineInput],
      required: true,
      description: `1 to ${Order.MAX_LINES} lines, one per sku`,
    }),
    reference: t.string({ required: false, description: "Your internal or CRM reference for the order" }),
    idempotencyKey: t.string({
      required: true,
      description: "Your key for this order: sending it again returns the first order",
    }),
    currency: t.string({
      required: false,
      description: "The currency you expect to be charged in; refused if it differs",
    }),
  }),
});

const OrderPayload = builder.objectRef<{ order: Order.Info }>("OrderPayload").implement({
  description: "The order placed",
  fields: (t) => ({
    order: t.field({
      description: "The order placed (or the earlier one with the same idempotency key)",
      type: OrderRef,
      resolve: (p) => p.order,
    }),
  }),
});

builder.mutationField("placeOrder", (t) =>
  t.field({
    type: OrderPayload,
    description: "Create or increase subscriptions, atomically and idempotently",
    args: { input: t.arg({ type: PlaceOrderInput, required: true, description: "The operation's fields" }) },
    errors: {},
    resolve: async (_r, { input }, ctx) => ({
      order: await Order.place(ctx.session, {
        accountId: input.accountId.id,
        lines: input.lines.map((l) => ({ sku: l.sku, quantity: l.quantity })),
        idempotencyKey: input.idempotencyKey,
        reference: input.reference,
        currency: input.currency,
      }),
    }),
  }),
);
