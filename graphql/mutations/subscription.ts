import * as Licence from "../../core/licence.js";
import * as Subscription from "../../core/subscription.js";
import { builder } from "../builder.js";
import { scoped } from "../ids.js";
import type { GlobalIdArg } from "../ids.js";
import { AccountPayload, AccountRef } from "../types/account.js";
import { LicenceRef, SubscriptionRef } from "../types/subscription.js";

const SubscriptionPayload = builder
  .objectRef<{ subscription: Subscription.Info }>("LicenceSubscriptionPayload")
  .implement({
    description: "The subscription as the mutation left it",
    fields: (t) => ({
      subscription: t.field({
        description: "The subscription as the mutation left it",
        type: SubscriptionRef,
        resolve: (p) => p.subscription,
      }),
    }),
  });

const subscriptionRef = (id: GlobalIdArg) => {
  const { accountId, key } = scoped(id);
  return { accountId, sku: key };
};

const UpdateQuantityInput = builder.inputType("UpdateSubscriptionQuantityInput", {
  description: "A subscription and its new quantity",
  fields: (t) => ({
    subscriptionId: t.globalID({
      for: SubscriptionRef,
      description: "The LicenceSubscription's global id",
      required: true,
    }),
    quantity: t.int({ required: true, description: "The new quantity (0 cancels); never below the licences assigned" }),
    expectedVersion: t.int({ required: true, description: "The version you read; a stale one is a ConflictError" }),
  }),
});

builder.mutationField("updateSubscriptionQuantity", (t) =>
  t.field({
    type: SubscriptionPayload,
    description: "Set a subscription's quantity (0 cancels); needs the version you read",
    args: { input: t.arg({ type: UpdateQuantityInput, required: true, description: "The operation's fields" }) },
    errors: {},
    resolve: async (_r, { input }, ctx) => ({
      subscription: await Subscription.updateQuantity(ctx.session, {
        ...subscriptionRef(input.subscriptionId),
        quantity: input.quantity,
        expectedVersion: input.expectedVersion,
      }),
    }),
  }),
);

const CancelInput = builder.inputType("CancelSubscriptionInput", {
  description: "The subscription to cancel",
  fields: (t) => ({
    subscriptionId: t.globalID({
      for: SubscriptionRef,
      description: "The LicenceSubscription's global id",
      required: true,
    }),
    expectedVersion: t.int({ description: "The version you read; a stale one is a ConflictError", required: false }),
  }),
});

builder.mutationField("cancelSubscription", (t) =>
  t.field({
    type: SubscriptionPayload,
    description: "Quantity 0, status CANCELLED (unassign its licences first)",
    args: { input: t.arg({ type: CancelInput, required: true, description: "The operation's fields" }) },
    errors: {},
    resolve: async (_r, { input }, ctx) => ({
      subscription: await Subscription.cancel(ctx.session, {
        ...subscriptionRef(input.subscriptionId),
        expectedVersion: input.expectedVersion,
      }),
    }),
  }),
);

const DelegatedRightsInput = builder.inputType("SetDelegatedRightsInput", {
  description: "What an account's own admins may do to its subscriptions",
  fields: (t) => ({
    accountId: t.globalID({ for: AccountRef, description: "The account's global id", required: true }),
    canUpdateSubscriptions: t.boolean({
      description: "The account's own admins may change quantities",
      required: true,
    }),
    canDecreaseSubscriptions: t.boolean({ description: "...and decrease them", required: true }),
  }),
});

builder.mutationField("setDelegatedRights", (t) =>
  t.field({
    type: AccountPayload,
    description: "Sellers above an account: let its own admins change (and decrease) its subscriptions",
    args: { input: t.arg({ type: DelegatedRightsInput, required: true, description: "The operation's fields" }) },
    errors: {},
    resolve: async (_r, { input }, ctx) => ({
      account: await Subscription.setDelegatedRights(ctx.session, {
        accountId: input.accountId.id,
        canUpdateSubscriptions: input.canUpdateSubscriptions,
        canDecreaseSubscriptions: input.canDecreaseSubscriptions,
      }),
    }),
  }),
);

const LicenceInput = builder.inputType("LicenceInput", {
  description: "A subscription and a member",
  fields: (t) => ({
    subscriptionId: t.globalID({
      for: SubscriptionRef,
      description: "The LicenceSubscription's global id",
      required: true,
    }),
    email: t.field({
      type: "EmailAddress",
      required: true,
      description: "An active member of the subscription's account",
    }),
  }),
});

const LicencePayload = builder
  .objectRef<{ licence: Licence.Info; subscription: Subscription.Info }>("LicencePayload")
  .implement({
    description: "The licence and its subscription after the change",
    fields: (t) => ({
      licence: t.field({
        description: "The licence assigned or taken back",
        type: LicenceRef,
        resolve: (p) => p.licence,
      }),
      subscription: t.field({
        description: "The subscription, with its new assigned count",
        type: SubscriptionRef,
        resolve: (p) => p.subscription,
      }),
    }),
  });

const licenceMutation = (name: "assignLicence" | "unassignLicence", run: typeof Licence.assign, description: string) =>
  builder.mutationField(name, (t) =>
    t.field({
      type: LicencePayload,
      description,
      args: { input: t.arg({ type: LicenceInput, required: true, description: "The operation's fields" }) },
      errors: {},
      resolve: async (_r, { input }, ctx) => {
        const ref = subscriptionRef(input.subscriptionId);
        const licence = await run(ctx.session, { ...ref, email: input.email });
        return { licence, subscription: await Subscription.get(ctx.session, ref.accountId, ref.sku) };
      },
    }),
  );

licenceMutation("assignLicence", Licence.assign, "The account's own admins: give a member a licence of a subscription");
licenceMutation("unassignLicence", Licence.unassign, "The account's own admins: take a member's licence back");
