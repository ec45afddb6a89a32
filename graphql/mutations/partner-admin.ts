import * as PartnerAdmin from "../../core/partner-admin.js";
import { builder } from "../builder.js";
import { AccountPayload, AccountRef } from "../types/account.js";
import { MemberRef } from "../types/member.js";

builder.mutationField("setPartnerAdminCapability", (t) =>
  t.field({
    type: AccountPayload,
    description:
      "Operators: enable (or disable) PARTNER_ADMIN on a reseller, or on a distributor for its direct customers",
    args: {
      input: t.arg({
        description: "The operation's fields",
        type: builder.inputType("SetPartnerAdminCapabilityInput", {
          description: "A reseller and whether it may have partner admins",
          fields: (f) => ({
            accountId: f.globalID({ for: AccountRef, description: "The account's global id", required: true }),
            enabled: f.boolean({ description: "Whether the reseller may have partner admins", required: true }),
          }),
        }),
        required: true,
      }),
    },
    errors: {},
    resolve: async (_r, { input }, ctx) => ({
      account: await PartnerAdmin.setCapability(ctx.session, {
        accountId: input.accountId.id,
        enabled: input.enabled,
      }),
    }),
  }),
);

builder.mutationField("setMemberPartnerAdmin", (t) =>
  t.field({
    type: builder.objectRef<{ member: PartnerAdmin.MemberInfo }>("SetMemberPartnerAdminPayload").implement({
      description: "The member as the mutation left it",
      fields: (f) => ({
        member: f.field({
          description: "The member as the mutation left it",
          type: MemberRef,
          resolve: (p) => p.member,
        }),
      }),
    }),
    description: "A reseller's (or a distributor's) owners: give (or take) a member's PARTNER_ADMIN flag",
    args: {
      input: t.arg({
        description: "The operation's fields",
        type: builder.inputType("SetMemberPartnerAdminInput", {
          description: "A member and whether it is a partner admin",
          fields: (f) => ({
            accountId: f.globalID({ for: AccountRef, description: "The account's global id", required: true }),
            email: f.field({ description: "The member's e-mail address", type: "EmailAddress", required: true }),
            partnerAdmin: f.boolean({
              description: "Make (true) or unmake (false) the member a partner admin",
              required: true,
            }),
          }),
        }),
        required: true,
      }),
    },
    errors: {},
    resolve: async (_r, { input }, ctx) => ({
      member: await PartnerAdmin.setMemberFlag(ctx.session, {
        accountId: input.accountId.id,
        email: input.email,
        partnerAdmin: input.partnerAdmin,
      }),
    }),
  }),
);

builder.mutationField("setPartnerAdminOptIn", (t) =>
  t.field({
    type: AccountPayload,
    description:
      "A customer's owners: let its resellers' partner admins administer its tenant (optionally until a date), or stop it",
    args: {
      input: t.arg({
        description: "The operation's fields",
        type: builder.inputType("SetPartnerAdminOptInInput", {
          description: "A customer's opt-in to tenant administration by its resellers",
          fields: (f) => ({
            accountId: f.globalID({ for: AccountRef, description: "The account's global id", required: true }),
            optIn: f.boolean({
              description: "Open (true) or close (false) the tenant administration to your resellers' partner admins",
              required: true,
            }),
            until: f.field({
              description: "When the opt-in ends; omitted: until withdrawn",
              type: "DateTime",
              required: false,
            }),
          }),
        }),
        required: true,
      }),
    },
    errors: {},
    resolve: async (_r, { input }, ctx) => ({
      account: await PartnerAdmin.setOptIn(ctx.session, {
        accountId: input.accountId.id,
        optIn: input.optIn,
        ...(input.until ? { until: input.until } : {}),
      }),
    }),
  }),
);

builder.mutationField("setSupportEmail", (t) =>
  t.field({
    type: AccountPayload,
    description: "Where the account's users' support requests go (null clears it)",
    args: {
      input: t.arg({
        description: "The operation's fields",
        type: builder.inputType("SetSupportEmailInput", {
          description: "The address support requests go to",
          fields: (f) => ({
            accountId: f.globalID({ for: AccountRef, description: "The account's global id", required: true }),
            email: f.field({
              description: "Where support requests go; null clears it",
              type: "EmailAddress",
              required: false,
            }),
          }),
        }),
        required: true,
      }),
    },
    errors: {},
    resolve: async (_r, { input }, ctx) => ({
      account: await PartnerAdmin.setSupportEmail(ctx.session, {
        accountId: input.accountId.id,
        email: input.email ?? null,
      }),
    }),
  }),
);
