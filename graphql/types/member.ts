import { memberStatuses, roles } from "../../infra/entities/member.js";
import { invitationKinds, invitationStatuses } from "../../infra/entities/invitation.js";
import { valuesOf } from "../enums.js";
import type * as Invitation from "../../core/invitation.js";
import * as Member from "../../core/member.js";
import { builder } from "../builder.js";
import { compositeId, compositeParts } from "../ids.js";

export const Role = builder.enumType("Role", {
  description: "What a member may do on its account",
  values: valuesOf(roles, {
    OWNER: "Everything, including members and the account's settings",
    CONTRIBUTOR: "Day-to-day work: orders, licences, equipment; not members",
    VIEWER: "Reads only",
  }),
});
export const MemberStatus = builder.enumType("MemberStatus", {
  description: "Whether the person has joined",
  values: valuesOf(memberStatuses, {
    INVITED: "Invited; the invitation is not accepted yet",
    ACTIVE: "Joined: signs in and acts on the account",
  }),
});

export const MemberRef = builder.objectRef<Member.Info>("Member");

builder.node(MemberRef, {
  description: "A person on an account (the same person on two accounts is two members)",
  id: { resolve: (m) => compositeId(m.accountId, m.email) },
  loadWithoutCache: (id, ctx) => {
    const p = compositeParts(id, 2);
    return p ? Member.find(ctx.session, p[0]!, p[1]!) : undefined;
  },
  fields: (t) => ({
    email: t.field({
      type: "EmailAddress",
      description: "The address the person signs in with",
      resolve: (m) => m.email,
    }),
    firstName: t.exposeString("firstName", { nullable: true, description: "Given name, when known" }),
    lastName: t.exposeString("lastName", { nullable: true, description: "Family name, when known" }),
    role: t.field({ type: Role, description: "What the member may do on the account", resolve: (m) => m.role }),
    seller: t.exposeBoolean("seller", { description: "Reaches the partner's whole subtree for commercial work" }),
    partnerAdmin: t.exposeBoolean("partnerAdmin", {
      description: "Administers the tenants of customers that opted in (resellers with PARTNER_ADMIN)",
    }),
    status: t.field({ type: MemberStatus, description: "Whether the person has joined", resolve: (m) => m.status }),
    invitedAt: t.field({
      type: "DateTime",
      description: "When the person was invited (or added)",
      resolve: (m) => m.invitedAt,
    }),
    joinedAt: t.field({
      type: "DateTime",
      nullable: true,
      description: "When the person accepted; null while invited",
      resolve: (m) => m.joinedAt ?? null,
    }),
  }),
});

export const InvitationKind = builder.enumType("InvitationKind", {
  description: "What accepting the invitation does",
  values: valuesOf(invitationKinds, {
    MEMBER: "The invitee joins the account as a member",
    ACCOUNT_MOVE: "The invitee's account moves below the inviting account",
  }),
});
export const InvitationStatus = builder.enumType("InvitationStatus", {
  description: "Where an invitation stands",
  values: valuesOf(invitationStatuses, {
    PENDING: "Sent, not accepted yet (it may have expired: see validUntil)",
    ACCEPTED: "Accepted by the invitee",
    REVOKED: "Withdrawn, or superseded by a newer invitation",
  }),
});

export const InvitationRef = builder.objectRef<Invitation.Info>("Invitation");

builder.node(InvitationRef, {
  description: "An invitation sent by e-mail: to join an account, or to move an account below the inviting one",
  id: { resolve: (i) => compositeId(i.accountId, i.createdAt, i.id) },
  loadWithoutCache: (id, ctx) => {
    const p = compositeParts(id, 3);
    return p ? Member.findInvitation(ctx.session, p[0]!, p[1]!, p[2]!) : undefined;
  },
  fields: (t) => ({
    kind: t.field({ type: InvitationKind, description: "What accepting it does", resolve: (i) => i.kind }),
    email: t.field({ type: "EmailAddress", description: "Who it was sent to", resolve: (i) => i.email }),
    role: t.field({
      type: Role,
      nullable: true,
      description: "The role the invitee gets (member invitations)",
      resolve: (i) => i.role ?? null,
    }),
    seller: t.boolean({ description: "The invitee becomes a seller too", resolve: (i) => i.seller ?? false }),
    status: t.field({ type: InvitationStatus, description: "Where it stands", resolve: (i) => i.status }),
    invitedBy: t.field({ type: "EmailAddress", description: "Who sent it", resolve: (i) => i.invitedBy }),
    createdAt: t.field({ type: "DateTime", description: "When it was sent", resolve: (i) => i.createdAt }),
    validUntil: t.field({
      type: "DateTime",
      description: "It cannot be accepted after this instant",
      resolve: (i) => i.validUntil,
    }),
    acceptedAt: t.field({
      type: "DateTime",
      nullable: true,
      description: "When it was accepted",
      resolve: (i) => i.acceptedAt ?? null,
    }),
  }),
});
