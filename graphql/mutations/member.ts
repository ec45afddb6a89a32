import * as Acceptance from "../../core/acceptance.js";
import type * as Invitation from "../../core/invitation.js";
import * as Member from "../../core/member.js";
import { builder } from "../builder.js";
import { AccountRef } from "../types/account.js";
import { InvitationRef, MemberRef, Role } from "../types/member.js";

const InviteMemberInput = builder.inputType("InviteMemberInput", {
  description: "The person to invite",
  fields: (t) => ({
    accountId: t.globalID({ for: AccountRef, description: "The account's global id", required: true }),
    email: t.field({ description: "The member's e-mail address", type: "EmailAddress", required: true }),
    role: t.field({ description: "The member's role", type: Role, required: true }),
    seller: t.boolean({ required: false, description: "Partner accounts only: reach the whole subtree" }),
    firstName: t.string({ description: "Given name", required: false }),
    lastName: t.string({ description: "Family name", required: false }),
  }),
});

const InviteMemberPayload = builder
  .objectRef<{ member: Member.Info; invitation: Invitation.Info }>("InviteMemberPayload")
  .implement({
    description: "The member added (INVITED) and the invitation sent",
    fields: (t) => ({
      member: t.field({
        description: "The member, INVITED until they accept",
        type: MemberRef,
        resolve: (p) => p.member,
      }),
      invitation: t.field({ description: "The invitation sent", type: InvitationRef, resolve: (p) => p.invitation }),
    }),
  });

builder.mutationField("inviteMember", (t) =>
  t.field({
    type: InviteMemberPayload,
    description: "Invite a person to an account by e-mail",
    args: { input: t.arg({ type: InviteMemberInput, required: true, description: "The operation's fields" }) },
    errors: {},
    resolve: (_r, { input }, ctx) =>
      Member.invite(ctx.session, {
        accountId: input.accountId.id,
        email: input.email,
        role: input.role,
        seller: input.seller ?? false,
        ...(input.firstName ? { firstName: input.firstName } : {}),
        ...(input.lastName ? { lastName: input.lastName } : {}),
      }),
  }),
);

const AcceptPayload = builder.objectRef<Invitation.Accepted>("AcceptInvitationPayload").implement({
  description: "The invitation accepted and the account it concerns",
  fields: (t) => ({
    account: t.field({ description: "The account joined (or moved)", type: AccountRef, resolve: (p) => p.account }),
    invitation: t.field({ description: "The accepted invitation", type: InvitationRef, resolve: (p) => p.invitation }),
  }),
});

builder.mutationField("acceptInvitation", (t) =>
  t.field({
    type: AcceptPayload,
    description: "Accept an invitation received by e-mail, signed in with that e-mail address",
    args: { token: t.arg.string({ required: true, description: "The token from the invitation e-mail" }) },
    errors: {},
    resolve: (_r, args, ctx) => Acceptance.accept(ctx.session, args.token),
  }),
);

const MemberRefInput = builder.inputType("MemberRefInput", {
  description: "A member of an account",
  fields: (t) => ({
    accountId: t.globalID({ for: AccountRef, description: "The account's global id", required: true }),
    email: t.field({ description: "The member's e-mail address", type: "EmailAddress", required: true }),
  }),
});

const MemberPayload = builder.objectRef<{ member: Member.Info }>("MemberPayload").implement({
  description: "The member as the mutation left it",
  fields: (t) => ({
    member: t.field({ description: "The member as the mutation left it", type: MemberRef, resolve: (p) => p.member }),
  }),
});

builder.mutationField("removeMember", (t) =>
  t.field({
    type: MemberPayload,
    description: "Remove a member (or a pending invitee) from an account",
    args: { input: t.arg({ type: MemberRefInput, required: true, description: "The operation's fields" }) },
    errors: {},
    resolve: async (_r, { input }, ctx) => ({
      member: await Member.remove(ctx.session, {
        accountId: input.accountId.id,
        email: input.email,
      }),
    }),
  }),
);

const SetRoleInput = builder.inputType("SetMemberRoleInput", {
  description: "A member and its new role",
  fields: (t) => ({
    accountId: t.globalID({ for: AccountRef, description: "The account's global id", required: true }),
    email: t.field({ description: "The member's e-mail address", type: "EmailAddress", required: true }),
    role: t.field({ description: "The new role", type: Role, required: true }),
  }),
});

builder.mutationField("setMemberRole", (t) =>
  t.field({
    type: MemberPayload,
    description: "Change a member's role",
    args: { input: t.arg({ type: SetRoleInput, required: true, description: "The operation's fields" }) },
    errors: {},
    resolve: async (_r, { input }, ctx) => ({
      member: await Member.setRole(ctx.session, {
        accountId: input.accountId.id,
        email: input.email,
        role: input.role,
      }),
    }),
  }),
);

const SetSellerInput = builder.inputType("SetMemberSellerInput", {
  description: "A member and whether it sells",
  fields: (t) => ({
    accountId: t.globalID({ for: AccountRef, description: "The account's global id", required: true }),
    email: t.field({ description: "The member's e-mail address", type: "EmailAddress", required: true }),
    seller: t.boolean({ description: "Make (true) or unmake (false) the member a seller", required: true }),
  }),
});

builder.mutationField("setMemberSeller", (t) =>
  t.field({
    type: MemberPayload,
    description: "Make a member of a partner account a seller, or not",
    args: { input: t.arg({ type: SetSellerInput, required: true, description: "The operation's fields" }) },
    errors: {},
    resolve: async (_r, { input }, ctx) => ({
      member: await Member.setSeller(ctx.session, {
        accountId: input.accountId.id,
        email: input.email,
        seller: input.seller,
      }),
    }),
  }),
);
