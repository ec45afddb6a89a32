import type * as Invitation from "../../core/invitation.js";
import type * as Member from "../../core/member.js";
import { builder } from "../builder.js";

export const Role = builder.enumType("Role", { values: ["OWNER", "CONTRIBUTOR", "VIEWER"] as const });
export const MemberStatus = builder.enumType("MemberStatus", { values: ["INVITED", "ACTIVE"] as const });

export const MemberRef = builder.objectRef<Member.Info>("Member").implement({
  description: "A person on an account",
  fields: (t) => ({
    email: t.field({ type: "EmailAddress", resolve: (m) => m.email }),
    firstName: t.exposeString("firstName", { nullable: true }),
    lastName: t.exposeString("lastName", { nullable: true }),
    role: t.field({ type: Role, resolve: (m) => m.role }),
    seller: t.exposeBoolean("seller", { description: "Reaches the partner's whole subtree for commercial work" }),
    partnerAdmin: t.exposeBoolean("partnerAdmin"),
    status: t.field({ type: MemberStatus, resolve: (m) => m.status }),
    invitedAt: t.field({ type: "DateTime", resolve: (m) => m.invitedAt }),
    joinedAt: t.field({ type: "DateTime", nullable: true, resolve: (m) => m.joinedAt ?? null }),
  }),
});

export const InvitationKind = builder.enumType("InvitationKind", { values: ["MEMBER", "ACCOUNT_MOVE"] as const });
export const InvitationStatus = builder.enumType("InvitationStatus", { values: ["PENDING", "ACCEPTED", "REVOKED"] as const });

export const InvitationRef = builder.objectRef<Invitation.Info>("Invitation").implement({
  fields: (t) => ({
    id: t.exposeID("id"),
    kind: t.field({ type: InvitationKind, resolve: (i) => i.kind }),
    email: t.field({ type: "EmailAddress", resolve: (i) => i.email }),
    role: t.field({ type: Role, nullable: true, resolve: (i) => i.role ?? null }),
    seller: t.boolean({ resolve: (i) => i.seller ?? false }),
    status: t.field({ type: InvitationStatus, resolve: (i) => i.status }),
    invitedBy: t.field({ type: "EmailAddress", resolve: (i) => i.invitedBy }),
    createdAt: t.field({ type: "DateTime", resolve: (i) => i.createdAt }),
    validUntil: t.field({ type: "DateTime", resolve: (i) => i.validUntil }),
    acceptedAt: t.field({ type: "DateTime", nullable: true, resolve: (i) => i.acceptedAt ?? null }),
  }),
});
