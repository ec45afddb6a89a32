import * as Catalog from "../../core/catalog.js";
import { builder } from "../builder.js";
import { AccountPayload, AccountRef } from "../types/account.js";
import { OfferKind, OfferRef } from "../types/offer.js";

const CreateOfferInput = builder.inputType("CreateOfferInput", {
  description: "A new offer of the catalog",
  fields: (t) => ({
    sku: t.string({ description: "A new, unique sku", required: true }),
    name: t.string({ description: "The offer's name", required: true }),
    kind: t.field({ description: "How it is charged", type: OfferKind, required: true }),
    unitPrice: t.string({
      required: true,
      description: 'Decimal in the currency\'s major unit, e.g. "3.00"; "0" for a trial',
    }),
    currency: t.string({ required: true, description: "ISO 4217" }),
    family: t.string({
      required: false,
      description: "Licences of one family are interchangeable; defaults to the sku (a trial: its paid offer's family)",
    }),
    termMonths: t.int({ required: false, description: "PREPAID: 12 or 36" }),
    trialDays: t.int({ required: false, description: "TRIAL: defaults to 30" }),
    convertsTo: t.string({ required: false, description: "TRIAL: the paid offer it converts to" }),
    unit: t.string({ required: false, description: "USAGE: what is counted, e.g. minute" }),
    internalOnly: t.boolean({ required: false, description: "Partner staff licences" }),
  }),
});

const OfferPayload = builder.objectRef<{ offer: Catalog.Info }>("OfferPayload").implement({
  description: "The offer as the mutation left it",
  fields: (t) => ({
    offer: t.field({ description: "The offer as the mutation left it", type: OfferRef, resolve: (p) => p.offer }),
  }),
});

builder.mutationField("createOffer", (t) =>
  t.field({
    type: OfferPayload,
    description: "Operators: add an offer to the catalog",
    args: { input: t.arg({ type: CreateOfferInput, required: true, description: "The operation's fields" }) },
    errors: {},
    resolve: async (_r, { input }, ctx) => ({
      offer: await Catalog.create(ctx.session, {
        sku: input.sku,
        name: input.name,
        kind: input.kind,
        unitPrice: input.unitPrice,
        currency: input.currency,
        family: input.family,
        termMonths: input.termMonths,
        trialDays: input.trialDays,
        convertsTo: input.convertsTo,
        unit: input.unit,
        internalOnly: input.internalOnly ?? false,
      }),
    }),
  }),
);

const UpdateOfferPriceInput = builder.inputType("UpdateOfferPriceInput", {
  description: "An offer and its new price",
  fields: (t) => ({
    sku: t.string({ description: "The offer's sku", required: true }),
    unitPrice: t.string({
      required: true,
      description: "The price of future orders; existing subscriptions keep theirs",
    }),
  }),
});

builder.mutationField("updateOfferPrice", (t) =>
  t.field({
    type: OfferPayload,
    description: "Operators: change the price of future orders",
    args: { input: t.arg({ type: UpdateOfferPriceInput, required: true, description: "The operation's fields" }) },
    errors: {},
    resolve: async (_r, { input }, ctx) => ({
      offer: await Catalog.updatePrice(ctx.session, { sku: input.sku, unitPrice: input.unitPrice }),
    }),
  }),
);

builder.mutationField("retireOffer", (t) =>
  t.field({
    type: OfferPayload,
    description: "Operators: stop selling an offer; existing subscriptions continue",
    args: { sku: t.arg.string({ required: true, description: "The offer's sku" }) },
    errors: {},
    resolve: async (_r, args, ctx) => ({ offer: await Catalog.retire(ctx.session, { sku: args.sku }) }),
  }),
);

const SetAvailableOffersInput = builder.inputType("SetAvailableOffersInput", {
  description: "What an account may order",
  fields: (t) => ({
    accountId: t.globalID({ for: AccountRef, description: "The account's global id", required: true }),
    skus: t.stringList({
      required: true,
      description: "The complete list of offers the account may order (at most 100)",
    }),
  }),
});

builder.mutationField("setAvailableOffers", (t) =>
  t.field({
    type: AccountPayload,
    description: "Sellers above an account: choose what it may order, among what its parent may",
    args: { input: t.arg({ type: SetAvailableOffersInput, required: true, description: "The operation's fields" }) },
    errors: {},
    resolve: async (_r, { input }, ctx) => ({
      account: await Catalog.setAvailable(ctx.session, {
        accountId: input.accountId.id,
        skus: input.skus,
      }),
    }),
  }),
);
