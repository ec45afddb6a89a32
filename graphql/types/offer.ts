import * as Catalog from "../../core/catalog.js";
import { builder } from "../builder.js";
import { forward, toConnection } from "../connection.js";
import { localId } from "../ids.js";
import { MoneyRef, money } from "./money.js";

export const OfferKind = builder.enumType("OfferKind", { values: ["MONTHLY", "TRIAL", "PREPAID", "USAGE"] as const });
export const OfferStatus = builder.enumType("OfferStatus", { values: ["ACTIVE", "RETIRED"] as const });

export const OfferRef = builder.objectRef<Catalog.Info>("Offer").implement({
  description: "Something that can be ordered. `unitPrice` is null unless you see the billed party's prices",
  fields: (t) => ({
    sku: t.exposeString("sku"),
    name: t.exposeString("name"),
    kind: t.field({ type: OfferKind, resolve: (o) => o.kind }),
    family: t.exposeString("family", { description: "A member holds at most one licence per family" }),
    unitPrice: t.field({ type: MoneyRef, nullable: true, description: "Per licence per month (MONTHLY), per term (PREPAID), per unit (USAGE)", resolve: (o) => money(o.unitPrice, o.currency) }),
    currency: t.field({ type: "Currency", resolve: (o) => o.currency }),
    termMonths: t.exposeInt("termMonths", { nullable: true }),
    trialDays: t.exposeInt("trialDays", { nullable: true }),
    convertsTo: t.exposeString("convertsTo", { nullable: true, description: "The paid offer a trial converts to" }),
    unit: t.exposeString("unit", { nullable: true }),
    internalOnly: t.exposeBoolean("internalOnly", { description: "Partner staff licences: ordered by an operator for a partner's own account" }),
    status: t.field({ type: OfferStatus, resolve: (o) => o.status }),
  }),
});

builder.queryFields((t) => ({
  offers: t.field({
    type: [OfferRef],
    description: "What an account can order now (made available by its parent), by sku",
    args: { accountId: t.arg.id({ required: true }) },
    errors: {},
    resolve: (_r, args, ctx) => Catalog.available(ctx.session, localId(String(args.accountId), "Account")),
  }),
  catalog: t.connection({
    type: OfferRef,
    description: "The whole catalog (operators)",
    args: { includeRetired: t.arg.boolean({ required: false }) },
    resolve: async (_r, args, ctx) => toConnection(await Catalog.catalog(ctx.session, { ...forward(args), includeRetired: args.includeRetired ?? false })),
  }),
}));
