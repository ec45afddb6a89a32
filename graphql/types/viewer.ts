import * as Viewer from "../../core/viewer.js";
import { builder } from "../builder.js";
import { AccountRef } from "./account.js";
import { Role } from "./member.js";

const MembershipRef = builder.objectRef<Viewer.MembershipInfo>("Membership").implement({
  description: "An account the caller belongs to, and as what. A value, not an entity: the account is the entity",
  fields: (t) => ({
    account: t.field({ type: AccountRef, description: "The account", resolve: (m) => m.account }),
    role: t.field({ type: Role, description: "The caller's role on it", resolve: (m) => m.role }),
    seller: t.exposeBoolean("seller", {
      description: "The caller sells from it: reaches its whole subtree for commercial work",
    }),
    partnerAdmin: t.exposeBoolean("partnerAdmin", {
      description: "The caller administers tenants of its opted-in customers",
    }),
  }),
});

const ViewerRef = builder.objectRef<Viewer.Info>("Viewer").implement({
  description: "The signed-in caller. Not an entity: it is whoever sends the token",
  fields: (t) => ({
    email: t.field({
      type: "EmailAddress",
      description: "The caller's e-mail (from the token)",
      resolve: (v) => v.email,
    }),
    emailVerified: t.exposeBoolean("emailVerified", { description: "The identity provider verified the address" }),
    memberships: t.field({
      type: [MembershipRef],
      description: "The accounts the caller belongs to",
      resolve: (v) => v.memberships,
    }),
  }),
});

builder.queryField("viewer", (t) =>
  t.field({
    type: ViewerRef,
    description: "Who you are and which accounts you belong to",
    resolve: (_r, _a, ctx) => Viewer.get(ctx.session),
  }),
);
