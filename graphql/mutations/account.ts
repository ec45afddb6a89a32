import * as Account from "../../core/account.js";
import type * as Invitation from "../../core/invitation.js";
import * as Move from "../../core/move.js";
import type * as Order from "../../core/order.js";
import { builder } from "../builder.js";
import { localId } from "../ids.js";
import { AccountKind, AccountPayload, AccountRef } from "../types/account.js";
import { InvitationRef } from "../types/member.js";
import { OrderLineInput, OrderRef } from "../types/order.js";

const OwnerInput = builder.inputType("OwnerInviteInput", {
  fields: (t) => ({
    email: t.field({ type: "EmailAddress", required: true }),
    firstName: t.string({ required: false }),
    lastName: t.string({ required: false }),
  }),
});

const NewAccountOrderInput = builder.inputType("NewAccountOrderInput", {
  fields: (t) => ({
    lines: t.field({ type: [OrderLineInput], required: true }),
    reference: t.string({ required: false }),
    idempotencyKey: t.string({ required: true }),
    currency: t.string({ required: false }),
  }),
});

const CreateAccountInput = builder.inputType("CreateAccountInput", {
  fields: (t) => ({
    parentId: t.id({ required: true }),
    kind: t.field({ type: AccountKind, required: true }),
    name: t.string({ required: true }),
    reference: t.string({ required: false, description: "Your CRM reference for this account" }),
    country: t.string({ required: true, description: "ISO 3166-1 alpha-2" }),
    owner: t.field({ type: OwnerInput, required: false, description: "Invite the first owner in the same call" }),
    currency: t.string({ required: false, description: "Distributors only (required there): the ISO 4217 billing currency" }),
    order: t.field({ type: NewAccountOrderInput, required: false, description: "A first order, placed in the same transaction" }),
    canCreateAccounts: t.boolean({
      required: false,
      description: "Resellers only: may the reseller's own people create accounts below it. Default false (granted later with setResellerRights)",
    }),
    canCreateEquipment: t.boolean({
      required: false,
      description: "Resellers only: may the reseller's own people declare PBX equipment. Default false (granted later with setResellerRights)",
    }),
  }),
});

const CreateAccountPayload = builder.objectRef<{ account: Account.Info; invitation?: Invitation.Info; order?: Order.Info }>("CreateAccountPayload");

builder.mutationField("createAccount", (t) =>
  t.field({
    type: CreateAccountPayload,
    args: { input: t.arg({ type: CreateAccountInput, required: true }) },
    errors: {},
    resolve: (_r, { input }, ctx) =>
      Account.create(ctx.session, {
        parentId: localId(String(input.parentId), "Account"),
        kind: input.kind,
        name: input.name,
        ...(input.reference != null ? { reference: input.reference } : {}),
        country: input.country,
        ...(input.owner
          ? { owner: { email: input.owner.email, ...(input.owner.firstName ? { firstName: input.owner.firstName } : {}), ...(input.owner.lastName ? { lastName: input.owner.lastName } : {}) } }
          : {}),
        ...(input.currency != null ? { currency: input.currency } : {}),
        ...(input.canCreateAccounts != null ? { canCreateAccounts: input.canCreateAccounts } : {}),
        ...(input.canCreateEquipment != null ? { canCreateEquipment: input.canCreateEquipment } : {}),
        ...(input.order
          ? {
              order: {
                lines: input.order.lines.map((l) => ({ sku: l.sku, quantity: l.quantity })),
                idempotencyKey: input.order.idempotencyKey,
                ...(input.order.reference != null ? { reference: input.order.reference } : {}),
                ...(input.order.currency != null ? { currency: input.order.currency } : {}),
              },
            }
          : {}),
      }),
  }),
);

const UpdateAccountInput = builder.inputType("UpdateAccountInput", {
  fields: (t) => ({
    id: t.id({ required: true }),
    name: t.string({ required: false }),
    reference: t.string({ required: false, description: "Empty string or null clears it" }),
    country: t.string({ required: false }),
  }),
});


builder.mutationField("updateAccount", (t) =>
  t.field({
    type: AccountPayload,
    args: { input: t.arg({ type: UpdateAccountInput, required: true }) },
    errors: {},
    resolve: async (_r, { input }, ctx) => ({
      account: await Account.update(ctx.session, {
        id: localId(String(input.id), "Account"),
        ...(input.name != null ? { name: input.name } : {}),
        ...(input.reference !== undefined ? { reference: input.reference } : {}),
        ...(input.country != null ? { country: input.country } : {}),
      }),
    }),
  }),
);

const ResellerRightsInput = builder.inputType("SetResellerRightsInput", {
  fields: (t) => ({
    id: t.id({ required: true }),
    canCreateAccounts: t.boolean({ required: false }),
    canCreateEquipment: t.boolean({ required: false }),
  }),
});

builder.mutationField("setResellerRights", (t) =>
  t.field({
    type: AccountPayload,
    args: { input: t.arg({ type: ResellerRightsInput, required: true }) },
    errors: {},
    resolve: async (_r, { input }, ctx) => ({
      account: await Account.setResellerRights(ctx.session, {
        id: localId(String(input.id), "Account"),
        ...(input.canCreateAccounts != null ? { canCreateAccounts: input.canCreateAccounts } : {}),
        ...(input.canCreateEquipment != null ? { canCreateEquipment: input.canCreateEquipment } : {}),
      }),
    }),
  }),
);

const InviteExistingInput = builder.inputType("InviteExistingAccountInput", {
  fields: (t) => ({
    parentId: t.id({ required: true, description: "Your account that will become the parent" }),
    accountId: t.id({ required: true, description: "The existing account's id, given to you by its owner" }),
  }),
});

const InviteExistingPayload = builder.objectRef<{ invitations: number }>("InviteExistingAccountPayload").implement({
  fields: (t) => ({ invitationsSent: t.exposeInt("invitations") }),
});

builder.mutationField("inviteExistingAccount", (t) =>
  t.field({
    type: InviteExistingPayload,
    description: "Ask an existing account's owners to move it, with its subtree, under your account",
    args: { input: t.arg({ type: InviteExistingInput, required: true }) },
    errors: {},
    resolve: (_r, { input }, ctx) =>
      Move.invite(ctx.session, { parentId: localId(String(input.parentId), "Account"), accountId: localId(String(input.accountId), "Account") }),
  }),
);

CreateAccountPayload.implement({
  fields: (t) => ({
    account: t.field({ type: AccountRef, resolve: (p) => p.account }),
    invitation: t.field({ type: InvitationRef, nullable: true, resolve: (p) => p.invitation ?? null }),
    order: t.field({ type: OrderRef, nullable: true, resolve: (p) => p.order ?? null }),
  }),
});
