import { DEFAULT_PAGE, MAX_PAGE } from "../../core/paging.js";
import * as Trials from "../../core/trials.js";
import { builder } from "../builder.js";
import { AccountRef } from "./account.js";
import { forward, toConnection } from "../connection.js";
import { scoped } from "../ids.js";
import { MemberRef } from "./member.js";
import { OfferRef, seenFrom } from "./offer.js";
import { OrderPreviewRef } from "./order.js";
import { SubscriptionRef } from "./subscription.js";

builder.queryField("trials", (t) =>
  t.connection({
    type: SubscriptionRef,
    description:
      "Trials view (Ribbon's Trials tab): the active trials within your reach of an account, soonest end first: its own, and for its sellers (and the sellers above, operators) every trial below it. Each names its account, offer, quantity and daysRemaining",
    // The entries' page, then their subscriptions and accounts (batched): a few requests per page, and what is selected on each.
    complexity: (args) => ({ field: 3, multiplier: Math.min(args.first ?? DEFAULT_PAGE, MAX_PAGE) }),
    args: { accountId: t.arg.globalID({ for: AccountRef, required: true, description: "The account" }) },
    resolve: async (_r, args, ctx) => toConnection(await Trials.list(ctx.session, args.accountId.id, forward(args))),
  }),
);

builder.objectFields(SubscriptionRef, (t) => ({
  offer: t.field({
    type: OfferRef,
    nullable: true,
    description: "The offer subscribed to, as seen from the subscription's account (prices only if you see them)",
    resolve: async (s, _a, ctx) => {
      const offer = await Trials.offerOf(ctx.session, s);
      return offer ? seenFrom(s.accountId, [offer])[0]! : null;
    },
  }),
}));

const ConversionPreviewRef = builder.objectRef<Trials.ConversionPreview>("TrialConversionPreview").implement({
  description: "What convertTrial would do; nothing is written. A value, not an entity: computed on each read",
  fields: (t) => ({
    trial: t.field({ type: SubscriptionRef, description: "The trial as it is now", resolve: (p) => p.trial }),
    order: t.field({
      type: OrderPreviewRef,
      description: "The order of the paid offer the conversion would place (its charge follows the usual rules)",
      resolve: (p) => p.order,
    }),
    licences: t.exposeInt("licences", {
      description: "Licences of the trial that would become paid licences (no member loses service)",
    }),
  }),
});

builder.queryField("previewTrialConversion", (t) =>
  t.field({
    type: ConversionPreviewRef,
    description: "A dry run of convertTrial: the paid offer's order and its charge, checked like the conversion itself",
    args: {
      subscriptionId: t.arg.globalID({
        for: SubscriptionRef,
        required: true,
        description: "The trial's LicenceSubscription global id",
      }),
      quantity: t.arg.int({
        required: true,
        description: "Licences of the paid offer (at least the trial's assigned licences)",
      }),
    },
    errors: {},
    resolve: (_r, args, ctx) => {
      const { accountId, key } = scoped(args.subscriptionId);
      return Trials.previewConversion(ctx.session, { accountId, sku: key, quantity: args.quantity });
    },
  }),
);

builder.objectFields(MemberRef, (t) => ({
  trialDigest: t.boolean({
    description:
      "Receives the weekly mail of the trials ending within 7 days in the account's reach (setTrialDigest; a partner's selling owners)",
    resolve: (m) => m.trialDigest ?? false,
  }),
}));
