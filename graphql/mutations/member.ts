import * as Invitation from "../../core/invitation.js";
import * as Member from "../../core/member.js";
import { builder } from "../builder.js";
import { localId } from "../ids.js";
import { AccountRef } from "../types/account.js";
import { InvitationRef, MemberRef, Role } from "../types/member.js";

const InviteMemberInput = builder.inputType("InviteMemberInput", {
  fields: (t) => ({
    accountId: t.id({ required: true }),
    email: t.field({ type: "EmailAddress", required: true }),
    role: t.field({ type: Role, required: true }),
    seller: t.boolean({ required: false, description: "Partner accounts only: reach the whole subtree" }),
    firstName: t.string({ required: false }),
    lastName: t.string({ required: false }),
  }),
});

const InviteMemberPayload = builder.objectRef<{ member: Member.Info; invitation: Invitation.Info }>("InviteMemberPayload").implement({
  fields: (t) => ({
    member: t.field({ type: MemberRef, resolve: (p) => p.member }),
    invitation: t.field({ type: InvitationRef, resolve: (p) => p.invitation }),
  }),
});

builder.mutationField("inviteMember", (t) =>
  t.field({
    type: InviteMemberPayload,
    args: { input: t.arg({ type: InviteMemberInput, required: true }) },
    errors: {},
    resolve: (_r, { input }, ctx) =>
      Member.invite(ctx.session, {
        accountId: localId(String(input.accountId), "Account"),
        email: input.email,
        role: input.role,
        seller: input.seller ?? false,
        ...(input.firstName ? { firstName: input.firstName } : {}),
        ...(input.lastName ? { lastName: input.lastName } : {}),
      }),
  }),
);

const AcceptPayload = builder.objectRef<Invitation.Accepted>("AcceptInvitationPayload").implement({
  fields: (t) => ({
    account: t.field({ type: AccountRef, resolve: (p) => p.account }),
    invitation: t.field({ type: InvitationRef, resolve: (p) => p.invitation }),
  }),
});

builder.mutationField("acceptInvitation", (t) =>
  t.field({
    type: AcceptPayload,
    description: "Accept an invitation received by e-mail, signed in with that e-mail address",
    args: { token: t.arg.string({ required: true }) },
    errors: {},
    resolve: (_r, args, ctx) => Invitation.accept(ctx.session, args.token),
  }),
);

const MemberRefInput = builder.inputType("MemberRefInput", {
  fields: (t) => ({
    accountId: t.id({ required: true }),
    email: t.field({ type: "EmailAddress", required: true }),
  }),
});

const MemberPayload = builder.objectRef<{ member: Member.Info }>("MemberPayload").implement({
  fields: (t) => ({ member: t.field({ type: MemberRef, resolve: (p) => p.member }) }),
});

builder.mutationField("removeMember", (t) =>
  t.field({
    type: MemberPayload,
    args: { input: t.arg({ type: MemberRefInput, required: true }) },
    errors: {},
    resolve: async (_r, { input }, ctx) => ({
      member: await Member.remove(ctx.session, { accountId: localId(String(input.accountId), "Account"), email: input.email }),
    }),
  }),
);

const SetRoleInput = builder.inputType("SetMemberRoleInput", {
  fields: (t) => ({
    accountId: t.id({ required: true }),
    email: t.field({ type: "EmailAddress", required: true }),
    role: t.field({ type: Role, required: true }),
  }),
});

builder.mutationField("setMemberRole", (t) =>
  t.field({
    type: MemberPayload,
    args: { input: t.arg({ type: SetRoleInput, required: true }) },
    errors: {},
    resolve: async (_r, { input }, ctx) => ({
      member: await Member.setRole(ctx.session, { accountId: localId(String(input.accountId), "Account"), email: input.email, role: input.role }),
    }),
  }),
);

const SetSellerInput = builder.inputType("SetMemberSellerInput", {
  fields: (t) => ({
    accountId: t.id({ required: true }),
    email: t.field({ type: "EmailAddress", required: true }),
    seller: t.boolean({ required: true }),
  }),
});

builder.mutationField("setMemberSeller", (t) =>
  t.field({
    type: MemberPayload,
    args: { input: t.arg({ type: SetSellerInput, required: true }) },
    errors: {},
    resolve: async (_r, { input }, ctx) => ({
      member: await Member.setSeller(ctx.session, { accountId: localId(String(input.accountId), "Account"), email: input.email, seller: input.seller }),
    }),
  }),
);
