import { offerKinds, offerStatuses } from "../../infra/entities/offer.js";
import { valuesOf } from "../enums.js";
import * as Catalog from "../../core/catalog.js";
import { builder } from "../builder.js";
import { AccountRef } from "../types/account.js";
import { forward, toConnection } from "../connection.js";
import { compositeId, compositeParts } from "../ids.js";
import { MoneyRef, money } from "./money.js";

export const OfferKind = builder.enumType("OfferKind", {
  description: "How an offer is charged",
  values: valuesOf(offerKinds, {
    MONTHLY: "Billed each month for the quantity held at month end",
    TRIAL: "Free for trialDays, then converts to its paid offer",
    PREPAID: "Paid up front for termMonths",
    USAGE: "Billed per unit recorded",
  }),
});
export const OfferStatus = builder.enumType("OfferStatus", {
  description: "Whether an offer can still be ordered",
  values: valuesOf(offerStatuses, {
    ACTIVE: "Can be ordered",
    RETIRED: "No new orders; existing subscriptions continue",
  }),
});

/** An offer as seen from an account (its prices are that account's billed party's), or from the catalog. */
export type OfferView = Catalog.Info & { readonly seenFrom?: string };
export const OfferRef = builder.objectRef<OfferView>("Offer");

/** Offers as `offers(accountId)` shows them: their ids say from which account (prices differ by billed party). */
export const seenFrom = (accountId: string, offers: readonly Catalog.Info[]): OfferView[] =>
  offers.map((o) => ({ ...o, seenFrom: accountId }));

builder.node(OfferRef, {
  description:
    "Something that can be ordered. `unitPrice` is null unless you see the billed party's prices, so an offer seen from an account (offers, availableOffers) has an id of its own per account; the catalog's and the catalog mutations' offers have the operators' id",
  id: { resolve: (o) => (o.seenFrom === undefined ? compositeId(o.sku) : compositeId(o.sku, o.seenFrom)) },
  loadWithoutCache: (id, ctx) => {
    const p = compositeParts(id, 2) ?? compositeParts(id, 1);
    return p
      ? Catalog.find(ctx.session, p[0]!, p[1]).then((o) => o && (p[1] === undefined ? o : { ...o, seenFrom: p[1] }))
      : undefined;
  },
  fields: (t) => ({
    sku: t.exposeString("sku", { description: "Stock-keeping unit: the offer's stable code" }),
    name: t.exposeString("name", { description: "The offer's name" }),
    kind: t.field({ type: OfferKind, description: "How it is charged", resolve: (o) => o.kind }),
    family: t.exposeString("family", { description: "A member holds at most one licence per family" }),
    unitPrice: t.field({
      type: MoneyRef,
      nullable: true,
      description: "Per licence per month (MONTHLY), per term (PREPAID), per unit (USAGE)",
      resolve: (o) => money(o.unitPrice, o.currency),
    }),
    currency: t.field({ type: "Currency", description: "The currency of its price", resolve: (o) => o.currency }),
    termMonths: t.exposeInt("termMonths", { nullable: true, description: "PREPAID: months paid up front" }),
    trialDays: t.exposeInt("trialDays", { nullable: true, description: "TRIAL: days before it converts" }),
    convertsTo: t.exposeString("convertsTo", { nullable: true, description: "The paid offer a trial converts to" }),
    unit: t.exposeString("unit", { nullable: true, description: "USAGE: what one unit is (e.g. minute)" }),
    internalOnly: t.exposeBoolean("internalOnly", {
      description: "Partner staff licences: ordered by an operator for a partner's own account",
    }),
    status: t.field({ type: OfferStatus, description: "Whether it can still be ordered", resolve: (o) => o.status }),
  }),
});

builder.queryFields((t) => ({
  offers: t.field({
    type: [OfferRef],
    description: "What an account can order now (made available by its parent), by sku",
    args: {
      accountId: t.arg.globalID({ for: AccountRef, required: true, description: "The account that would order" }),
    },
    errors: {},
    resolve: async (_r, args, ctx) => {
      const accountId = args.accountId.id;
      return seenFrom(accountId, await Catalog.available(ctx.session, accountId));
    },
  }),
  catalog: t.connection({
    type: OfferRef,
    description: "The whole catalog (operators)",
    args: { includeRetired: t.arg.boolean({ required: false, description: "List retired offers too" }) },
    resolve: async (_r, args, ctx) =>
      toConnection(
        await Catalog.catalog(ctx.session, { ...forward(args), includeRetired: args.includeRetired ?? false }),
      ),
  }),
}));
