import * as PartnerAdmin from "../../core/partner-admin.js";
import { builder } from "../builder.js";
import { localId } from "../ids.js";
import { AccountPayload } from "../types/account.js";
import { MemberRef } from "../types/member.js";

builder.mutationField("setPartnerAdminCapability", (t) =>
  t.field({
    type: AccountPayload,
    description: "Operators: enable (or disable) PARTNER_ADMIN on a reseller",
    args: { input: t.arg({ type: builder.inputType("SetPartnerAdminCapabilityInput", { fields: (f) => ({ accountId: f.id({ required: true }), enabled: f.boolean({ required: true }) }) }), required: true }) },
    errors: {},
    resolve: async (_r, { input }, ctx) => ({ account: await PartnerAdmin.setCapability(ctx.session, { accountId: localId(String(input.accountId), "Account"), enabled: input.enabled }) }),
  }),
);

builder.mutationField("setMemberPartnerAdmin", (t) =>
  t.field({
    type: builder.objectRef<{ member: PartnerAdmin.MemberInfo }>("SetMemberPartnerAdminPayload").implement({ fields: (f) => ({ member: f.field({ type: MemberRef, resolve: (p) => p.member }) }) }),
    description: "A reseller's owners: give (or take) a member's PARTNER_ADMIN flag",
    args: {
      input: t.arg({
        type: builder.inputType("SetMemberPartnerAdminInput", { fields: (f) => ({ accountId: f.id({ required: true }), email: f.field({ type: "EmailAddress", required: true }), partnerAdmin: f.boolean({ required: true }) }) }),
        required: true,
      }),
    },
    errors: {},
    resolve: async (_r, { input }, ctx) => ({
      member: await PartnerAdmin.setMemberFlag(ctx.session, { accountId: localId(String(input.accountId), "Account"), email: input.email, partnerAdmin: input.partnerAdmin }),
    }),
  }),
);

builder.mutationField("setPartnerAdminOptIn", (t) =>
  t.field({
    type: AccountPayload,
    description: "A customer's owners: let its resellers' partner admins administer its tenant (optionally until a date), or stop it",
    args: {
      input: t.arg({
        type: builder.inputType("SetPartnerAdminOptInInput", { fields: (f) => ({ accountId: f.id({ required: true }), optIn: f.boolean({ required: true }), until: f.field({ type: "DateTime", required: false }) }) }),
        required: true,
      }),
    },
    errors: {},
    resolve: async (_r, { input }, ctx) => ({
      account: await PartnerAdmin.setOptIn(ctx.session, { accountId: localId(String(input.accountId), "Account"), optIn: input.optIn, ...(input.until ? { until: input.until } : {}) }),
    }),
  }),
);

builder.mutationField("setSupportEmail", (t) =>
  t.field({
    type: AccountPayload,
    description: "Where the account's users' support requests go (null clears it)",
    args: {
      input: t.arg({
        type: builder.inputType("SetSupportEmailInput", { fields: (f) => ({ accountId: f.id({ required: true }), email: f.field({ type: "EmailAddress", required: false }) }) }),
        required: true,
      }),
    },
    errors: {},
    resolve: async (_r, { input }, ctx) => ({ account: await PartnerAdmin.setSupportEmail(ctx.session, { accountId: localId(String(input.accountId), "Account"), email: input.email ?? null }) }),
  }),
);
