import type * as Member from "../../core/member.js";
import * as Trials from "../../core/trials.js";
import { builder } from "../builder.js";
import { AccountRef } from "../types/account.js";
import { scoped } from "../ids.js";
import { MemberRef } from "../types/member.js";
import { OrderRef } from "../types/order.js";
import { SubscriptionRef } from "../types/subscription.js";

const ConvertTrialInput = builder.inputType("ConvertTrialInput", {
  description: "The trial to convert to its paid offer",
  fields: (t) => ({
    subscriptionId: t.globalID({
      for: SubscriptionRef,
      required: true,
      description: "The trial's LicenceSubscription global id",
    }),
    quantity: t.int({
      required: true,
      description: "Licences of the paid offer to add (at least the trial's assigned licences)",
    }),
    idempotencyKey: t.string({
      required: true,
      description: "Your key for this conversion: sending it again returns the first conversion",
    }),
  }),
});

const ConvertTrialPayload = builder.objectRef<Trials.Conversion>("ConvertTrialPayload").implement({
  description: "The conversion: its order, the trial (CONVERTED) and the paid subscription",
  fields: (t) => ({
    order: t.field({
      type: OrderRef,
      description: 'The order of the paid offer (the charge; reference "trial conversion")',
      resolve: (p) => p.order,
    }),
    trial: t.field({
      type: SubscriptionRef,
      description: "The trial, now CONVERTED with quantity 0",
      resolve: (p) => p.trial,
    }),
    subscription: t.field({
      type: SubscriptionRef,
      description: "The paid subscription, created or increased, holding the trial's licences",
      resolve: (p) => p.subscription,
    }),
  }),
});

builder.mutationField("convertTrial", (t) =>
  t.field({
    type: ConvertTrialPayload,
    description:
      "Convert a trial to its paid offer (convertsTo) in one transaction: the paid subscription is created or increased, the members' trial licences become paid licences of the same family, the ledger records CONVERTED; charged like an order. Idempotent by key",
    args: { input: t.arg({ type: ConvertTrialInput, required: true, description: "The operation's fields" }) },
    errors: {},
    resolve: (_r, { input }, ctx) => {
      const { accountId, key } = scoped(input.subscriptionId);
      return Trials.convert(ctx.session, {
        accountId,
        sku: key,
        quantity: input.quantity,
        idempotencyKey: input.idempotencyKey,
      });
    },
  }),
);

const SetTrialDigestInput = builder.inputType("SetTrialDigestInput", {
  description: "Your own weekly trial digest on a partner account",
  fields: (t) => ({
    accountId: t.globalID({
      for: AccountRef,
      required: true,
      description: "The partner account (distributor or reseller) you are a selling owner of",
    }),
    enabled: t.boolean({
      required: true,
      description: "Receive the weekly mail of the trials ending within 7 days in its reach",
    }),
  }),
});

const TrialDigestPayload = builder.objectRef<{ member: Member.Info }>("TrialDigestPayload").implement({
  description: "Your membership with its digest setting",
  fields: (t) => ({
    member: t.field({ type: MemberRef, description: "Your membership on the account", resolve: (p) => p.member }),
  }),
});

builder.mutationField("setTrialDigest", (t) =>
  t.field({
    type: TrialDigestPayload,
    description:
      "A partner's selling owner opts in (or out) of the weekly mail (Mondays) of the trials ending within 7 days in the partner's reach",
    args: { input: t.arg({ type: SetTrialDigestInput, required: true, description: "The operation's fields" }) },
    errors: {},
    resolve: async (_r, { input }, ctx) => ({
      member: await Trials.setDigest(ctx.session, {
        accountId: input.accountId.id,
        enabled: input.enabled,
      }),
    }),
  }),
);
