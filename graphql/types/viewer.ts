import * as Viewer from "../../core/viewer.js";
import { builder } from "../builder.js";
import { AccountRef } from "./account.js";
import { Role } from "./member.js";

const MembershipRef = builder.objectRef<Viewer.MembershipInfo>("Membership").implement({
  fields: (t) => ({
    account: t.field({ type: AccountRef, resolve: (m) => m.account }),
    role: t.field({ type: Role, resolve: (m) => m.role }),
    seller: t.exposeBoolean("seller"),
    partnerAdmin: t.exposeBoolean("partnerAdmin"),
  }),
});

const ViewerRef = builder.objectRef<Viewer.Info>("Viewer").implement({
  description: "The signed-in caller",
  fields: (t) => ({
    email: t.field({ type: "EmailAddress", resolve: (v) => v.email }),
    emailVerified: t.exposeBoolean("emailVerified"),
    memberships: t.field({ type: [MembershipRef], resolve: (v) => v.memberships }),
  }),
});

builder.queryField("viewer", (t) => t.field({ type: ViewerRef, resolve: (_r, _a, ctx) => Viewer.get(ctx.session) }));
