import * as Account from "../../core/account.js";
import type * as Invitation from "../../core/invitation.js";
import * as Move from "../../core/move.js";
import type * as Order from "../../core/order.js";
import { builder } from "../builder.js";
import { AccountKind, AccountPayload, AccountRef } from "../types/account.js";
import { InvitationRef } from "../types/member.js";
import { OrderLineInput, OrderRef } from "../types/order.js";

const OwnerInput = builder.inputType("OwnerInviteInput", {
  description: "The first owner to invite",
  fields: (t) => ({
    email: t.field({ description: "The first owner's e-mail address", type: "EmailAddress", required: true }),
    firstName: t.string({ description: "Given name", required: false }),
    lastName: t.string({ description: "Family name", required: false }),
  }),
});

const NewAccountOrderInput = builder.inputType("NewAccountOrderInput", {
  description: "A first order placed with the new account",
  fields: (t) => ({
    lines: t.field({ description: "The offers and quantities", type: [OrderLineInput], required: true }),
    reference: t.string({ description: "Your own reference for the order", required: false }),
    idempotencyKey: t.string({
      description: "Your unique key for this order: placing again with it answers the first order instead of a second",
      required: true,
    }),
    currency: t.string({ description: "The currency you expect to be charged in (ISO 4217)", required: false }),
  }),
});

const CreateAccountInput = builder.inputType("CreateAccountInput", {
  description: "A new account below one of yours",
  fields: (t) => ({
    parentId: t.globalID({ for: AccountRef, description: "The account to create it below", required: true }),
    kind: t.field({
      description: "DISTRIBUTOR below the platform, RESELLER or CUSTOMER below a partner",
      type: AccountKind,
      required: true,
    }),
    name: t.string({ description: "The company's name", required: true }),
    reference: t.string({ required: false, description: "Your CRM reference for this account" }),
    country: t.string({ required: true, description: "ISO 3166-1 alpha-2" }),
    owner: t.field({ type: OwnerInput, required: false, description: "Invite the first owner in the same call" }),
    currency: t.string({
      required: false,
      description: "Distributors only (required there): the ISO 4217 billing currency",
    }),
    order: t.field({
      type: NewAccountOrderInput,
      required: false,
      description: "A first order, placed in the same transaction",
    }),
    canCreateAccounts: t.boolean({
      required: false,
      description:
        "Resellers only: may the reseller's own people create accounts below it. Default false (granted later with setResellerRights)",
    }),
    canCreateEquipment: t.boolean({
      required: false,
      description:
        "Resellers only: may the reseller's own people declare PBX equipment. Default false (granted later with setResellerRights)",
    }),
  }),
});

const CreateAccountPayload = builder.objectRef<{
  account: Account.Info;
  invitation?: Invitation.Info;
  order?: Order.Info;
}>("CreateAccountPayload");

builder.mutationField("createAccount", (t) =>
  t.field({
    type: CreateAccountPayload,
    description:
      "Create an account below one of yours (optionally inviting its owner and placing a first order, in one transaction)",
    args: { input: t.arg({ type: CreateAccountInput, required: true, description: "The operation's fields" }) },
    errors: {},
    resolve: (_r, { input }, ctx) =>
      Account.create(ctx.session, {
        parentId: input.parentId.id,
        kind: input.kind,
        name: input.name,
        reference: input.reference,
        country: input.country,
        ...(input.owner
          ? {
              owner: {
                email: input.owner.email,
                ...(input.owner.firstName ? { firstName: input.owner.firstName } : {}),
                ...(input.owner.lastName ? { lastName: input.owner.lastName } : {}),
              },
            }
          : {}),
        currency: input.currency,
        canCreateAccounts: input.canCreateAccounts,
        canCreateEquipment: input.canCreateEquipment,
        order: input.order,
      }),
  }),
);

const UpdateAccountInput = builder.inputType("UpdateAccountInput", {
  description: "The account's fields to change",
  fields: (t) => ({
    id: t.globalID({ for: AccountRef, description: "The account's global id", required: true }),
    name: t.string({ description: "A new name (unchanged when omitted)", required: false }),
    reference: t.string({ required: false, description: "Empty string or null clears it" }),
    country: t.string({ description: "A new country (unchanged when omitted)", required: false }),
  }),
});

builder.mutationField("updateAccount", (t) =>
  t.field({
    type: AccountPayload,
    description: "Change an account's name, reference or country",
    args: { input: t.arg({ type: UpdateAccountInput, required: true, description: "The operation's fields" }) },
    errors: {},
    resolve: async (_r, { input }, ctx) => ({
      account: await Account.update(ctx.session, {
        id: input.id.id,
        name: input.name,
        // Null clears the reference; left out, it is unchanged.
        ...(input.reference !== undefined ? { reference: input.reference } : {}),
        country: input.country,
      }),
    }),
  }),
);

const ResellerRightsInput = builder.inputType("SetResellerRightsInput", {
  description: "What a reseller may do, set by its parent",
  fields: (t) => ({
    id: t.globalID({ for: AccountRef, description: "The reseller's Account id", required: true }),
    canCreateAccounts: t.boolean({
      description: "The reseller may create accounts below it (unchanged when omitted)",
      required: false,
    }),
    canCreateEquipment: t.boolean({
      description: "The reseller may declare equipment (unchanged when omitted)",
      required: false,
    }),
  }),
});

builder.mutationField("setResellerRights", (t) =>
  t.field({
    type: AccountPayload,
    description: "The parent of a reseller: set whether it may create accounts and declare equipment",
    args: { input: t.arg({ type: ResellerRightsInput, required: true, description: "The operation's fields" }) },
    errors: {},
    resolve: async (_r, { input }, ctx) => ({
      account: await Account.setResellerRights(ctx.session, {
        id: input.id.id,
        canCreateAccounts: input.canCreateAccounts,
        canCreateEquipment: input.canCreateEquipment,
      }),
    }),
  }),
);

const InviteExistingInput = builder.inputType("InviteExistingAccountInput", {
  description: "An existing account to move under yours",
  fields: (t) => ({
    parentId: t.globalID({ for: AccountRef, required: true, description: "Your account that will become the parent" }),
    accountId: t.globalID({
      for: AccountRef,
      required: true,
      description: "The existing account's id, given to you by its owner",
    }),
  }),
});

const InviteExistingPayload = builder.objectRef<{ invitations: number }>("InviteExistingAccountPayload").implement({
  description: "How many owners were invited",
  fields: (t) => ({
    invitationsSent: t.exposeInt("invitations", {
      description:
        "Invitations e-mailed to the account's owners; 1 for an account you cannot see (its number of owners is not disclosed)",
    }),
  }),
});

builder.mutationField("inviteExistingAccount", (t) =>
  t.field({
    type: InviteExistingPayload,
    description: "Ask an existing account's owners to move it, with its subtree, under your account",
    args: { input: t.arg({ type: InviteExistingInput, required: true, description: "The operation's fields" }) },
    errors: {},
    resolve: (_r, { input }, ctx) =>
      Move.invite(ctx.session, {
        parentId: input.parentId.id,
        accountId: input.accountId.id,
      }),
  }),
);

CreateAccountPayload.implement({
  description: "The new account, and the invitation and order made with it",
  fields: (t) => ({
    account: t.field({ type: AccountRef, description: "The new account", resolve: (p) => p.account }),
    invitation: t.field({
      type: InvitationRef,
      nullable: true,
      description: "The owner's invitation, when one was asked for",
      resolve: (p) => p.invitation ?? null,
    }),
    order: t.field({
      type: OrderRef,
      nullable: true,
      description: "The first order, when one was given",
      resolve: (p) => p.order ?? null,
    }),
  }),
});
