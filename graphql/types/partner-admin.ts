import * as Account from "../../core/account.js";
import * as PartnerAdmin from "../../core/partner-admin.js";
import { optedIn } from "../../core/rights.js";
import type { AdministeredCustomer, PartnerAction } from "../../core/partner-admin.js";
import { builder } from "../builder.js";
import { forward, toConnection } from "../connection.js";
import { compositeId, compositeParts, globalId } from "../ids.js";
import { AccountRef } from "./account.js";

const AdministeredRef = builder.objectRef<AdministeredCustomer>("AdministeredCustomer");

builder.node(AdministeredRef, {
  description:
    "A customer that opened its tenant administration to your reseller. Its id is this opt-in's (of a customer to a reseller), not the customer's Account id: see accountId",
  id: { resolve: (c) => compositeId(c.resellerId, c.customerId) },
  loadWithoutCache: (id, ctx) => {
    const p = compositeParts(id, 2);
    return p ? PartnerAdmin.findAdministered(ctx.session, p[0]!, p[1]!) : undefined;
  },
  fields: (t) => ({
    accountId: t.id({ description: "The customer's Account id", resolve: (c) => globalId("Account", c.customerId) }),
    name: t.exposeString("name", { description: "The customer's name" }),
    since: t.field({ type: "DateTime", description: "When the customer opted in", resolve: (c) => c.since }),
    until: t.field({
      type: "DateTime",
      nullable: true,
      description: "When the opt-in ends; null: until withdrawn",
      resolve: (c) => c.until ?? null,
    }),
    account: t.field({
      type: AccountRef,
      nullable: true,
      description: "The customer's account, when you may see it",
      resolve: (c, _a, ctx) => Account.find(ctx.session, c.customerId),
    }),
  }),
});

const PartnerActionRef = builder.objectRef<PartnerAction>("PartnerAction");

builder.node(PartnerActionRef, {
  description: "Done by a reseller's partner admin on behalf of this customer",
  id: { resolve: (a) => compositeId(a.customerId, a.at, a.id) },
  loadWithoutCache: (id, ctx) => {
    const p = compositeParts(id, 3);
    return p ? PartnerAdmin.findAction(ctx.session, p[0]!, p[1]!, p[2]!) : undefined;
  },
  fields: (t) => ({
    at: t.field({ type: "DateTime", description: "When it was done", resolve: (a) => a.at }),
    actor: t.exposeString("actor", { description: "user:<email>" }),
    reseller: t.id({ description: "The reseller's Account id", resolve: (a) => globalId("Account", a.resellerId) }),
    action: t.exposeString("action", { description: "noun.pastVerb, e.g. member.invited" }),
    subjectId: t.exposeString("subjectId", {
      nullable: true,
      description: "What it was done to, when not the account itself",
    }),
  }),
});

builder.queryField("administeredCustomers", (t) =>
  t.connection({
    type: AdministeredRef,
    description: "Customers I administer on behalf (partner admins): opted-in customers of your reseller, by name",
    args: {
      search: t.arg.string({ required: false, description: "Name prefix" }),
      descending: t.arg.boolean({ required: false, description: "Sort by name Z→A" }),
      resellerId: t.arg.globalID({
        for: AccountRef,
        required: false,
        description: "When you are a partner admin of several resellers",
      }),
    },
    resolve: async (_r, args, ctx) =>
      toConnection(
        await PartnerAdmin.administered(ctx.session, {
          ...forward(args),
          search: args.search ?? null,
          descending: args.descending ?? null,
          resellerId: args.resellerId != null ? args.resellerId.id : null,
        }),
      ),
  }),
);

builder.objectFields(AccountRef, (t) => ({
  partnerAdminEnabled: t.boolean({
    description: "Resellers and distributors (for their direct customers): the platform enabled PARTNER_ADMIN",
    resolve: (a) => a.partnerAdminEnabled === true,
  }),
  partnerAdminOptIn: t.boolean({
    description: "Customers: partner admins of its resellers may administer its tenant (now)",
    resolve: (a, _args, ctx) => optedIn(a, ctx.session.now),
  }),
  partnerAdminOptInUntil: t.field({
    type: "DateTime",
    nullable: true,
    description: "Customers: when the opt-in ends; null: until withdrawn",
    resolve: (a) => a.partnerAdminOptInUntil ?? null,
  }),
  supportEmail: t.field({
    type: "EmailAddress",
    nullable: true,
    description: "Support requests of the account's users go here",
    resolve: (a) => a.supportEmail ?? null,
  }),
  partnerActions: t.connection({
    type: PartnerActionRef,
    description: "What partner admins did on behalf of this customer, newest first",
    resolve: async (a, args, ctx) => toConnection(await PartnerAdmin.actions(ctx.session, a.id, forward(args))),
  }),
}));
