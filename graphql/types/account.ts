import { accountKinds } from "../../infra/entities/account.js";
import { valuesOf } from "../enums.js";
import { DEFAULT_PAGE, MAX_PAGE } from "../../core/paging.js";
import * as Account from "../../core/account.js";
import * as AccountReads from "../../core/account-reads.js";
import * as Audit from "../../core/audit.js";
import * as Member from "../../core/member.js";
import { builder } from "../builder.js";
import { forward, toConnection } from "../connection.js";
import { prefetchAccountPage } from "../prefetch.js";
import { AuditEventRef } from "./audit-event.js";
import { InvitationRef, MemberRef } from "./member.js";

export const AccountKind = builder.enumType("AccountKind", {
  description:
    "Where an account sits in the hierarchy: the platform, then distributors (tier 1), resellers (tier 2) and customers",
  values: valuesOf(accountKinds, {
    PLATFORM: "The vendor's root account; its members are the operators",
    DISTRIBUTOR: "A tier-1 partner, billed by the vendor",
    RESELLER: "A tier-2 partner below a distributor (or below another reseller)",
    CUSTOMER: "An end customer, whose members hold licences",
  }),
});

export const AccountRef = builder.objectRef<Account.Info>("Account");

/** A breadcrumb: an ancestor's name and kind, without access to the ancestor itself. */
const BreadcrumbRef = builder.objectRef<Pick<Account.Info, "id" | "name" | "kind">>("Breadcrumb").implement({
  description:
    "An ancestor as shown in a breadcrumb trail: its name and kind, without access to the ancestor itself. A value, not an entity: it is part of the account it was read from",
  fields: (t) => ({
    id: t.globalID({
      description: "Unique id of this breadcrumb (not the ancestor's Account id: see accountId)",
      resolve: (a) => ({ type: "Breadcrumb", id: a.id }),
    }),
    accountId: t.globalID({
      description: "The ancestor's Account id; `account(id:)` answers NotFoundError when you may not see it",
      resolve: (a) => ({ type: "Account", id: a.id }),
    }),
    name: t.exposeString("name", { description: "The ancestor's name" }),
    kind: t.field({ type: AccountKind, description: "The ancestor's kind", resolve: (a) => a.kind }),
  }),
});

builder.node(AccountRef, {
  description: "A platform, distributor, reseller or customer account: a node of the partner hierarchy",
  id: { resolve: (a) => a.id },
  // Relay `node(id)`: null when unknown or not visible to the caller.
  loadWithoutCache: (id, ctx) => Account.find(ctx.session, id),
  fields: (t) => ({
    kind: t.field({
      type: AccountKind,
      description: "Where the account sits in the hierarchy",
      resolve: (a) => a.kind,
    }),
    name: t.exposeString("name", { description: "The company's name" }),
    reference: t.exposeString("reference", {
      nullable: true,
      description: "The parent's own reference for this account (e.g. its customer number)",
    }),
    country: t.field({
      type: "CountryCode",
      description: "ISO 3166-1 alpha-2 country of the company",
      resolve: (a) => a.country,
    }),
    status: t.exposeString("status", { description: "ACTIVE, or the state of an account being closed" }),
    createdAt: t.field({ type: "DateTime", description: "When the account was created", resolve: (a) => a.createdAt }),
    updatedAt: t.field({ type: "DateTime", description: "When the account last changed", resolve: (a) => a.updatedAt }),
    canCreateAccounts: t.exposeBoolean("canCreateAccounts", { description: "Reseller right, set by the parent" }),
    canCreateEquipment: t.exposeBoolean("canCreateEquipment", { description: "Reseller right, set by the parent" }),
    childCount: t.exposeInt("childCount", { description: "Accounts directly below this one" }),
    parent: t.field({
      type: AccountRef,
      nullable: true,
      description: "The parent account, when the caller may see it",
      resolve: (a, _args, ctx) => (a.path.length > 0 ? Account.find(ctx.session, a.parentId) : null),
    }),
    ancestors: t.field({
      type: [BreadcrumbRef],
      description: "Breadcrumbs: the ancestors from the root to the parent",
      resolve: (a, _args, ctx) => AccountReads.ancestors(ctx.session, a),
    }),
    children: t.connection({
      type: AccountRef,
      description: "Accounts directly below this one, by name",
      args: {
        search: t.arg.string({ required: false, description: "Name prefix, case-insensitive" }),
        reference: t.arg.string({ required: false, description: "Reference prefix, case-insensitive" }),
      },
      resolve: async (a, args, ctx) =>
        toConnection(
          await AccountReads.children(ctx.session, a.id, {
            ...forward(args),
            search: args.search,
            reference: args.reference,
          }),
        ),
    }),
    members: t.connection({
      type: MemberRef,
      description: "People on this account, by e-mail",
      resolve: async (a, args, ctx) => toConnection(await Member.list(ctx.session, a.id, forward(args))),
    }),
    invitations: t.connection({
      type: InvitationRef,
      description: "Invitations sent from this account (members, and accounts invited to move below it), newest first",
      resolve: async (a, args, ctx) => toConnection(await Member.invitations(ctx.session, a.id, forward(args))),
    }),
    history: t.connection({
      type: AuditEventRef,
      description: "Operations history, newest first",
      resolve: async (a, args, ctx) => toConnection(await Audit.history(ctx.session, a.id, forward(args))),
    }),
  }),
});

builder.queryFields((t) => ({
  account: t.field({
    type: AccountRef,
    description: "An account you may see; NotFoundError for an unknown id and for one outside your reach alike",
    args: { id: t.arg.globalID({ for: AccountRef, required: true, description: "The account's global id" }) },
    errors: {},
    resolve: (_root, args, ctx, info) => {
      // The lists the request asks of this account are read beside the rights check, not after it.
      prefetchAccountPage(ctx, args.id.id, info);
      return Account.get(ctx.session, args.id.id);
    },
  }),
  searchAccounts: t.connection({
    type: AccountRef,
    description: "Search Hierarchy: accounts anywhere below the account you sell from",
    // The subtree index page, then the accounts found (batched): a few requests per page, and what is selected on each.
    complexity: (args) => ({ field: 3, multiplier: Math.min(args.first ?? DEFAULT_PAGE, MAX_PAGE) }),
    args: {
      query: t.arg.string({ required: true, description: "Name prefix (or reference prefix with byReference)" }),
      byReference: t.arg.boolean({ required: false, description: "Match `query` against references instead of names" }),
      within: t.arg.globalID({
        for: AccountRef,
        required: false,
        description: "Root of the search when you belong to several accounts",
      }),
    },
    resolve: async (_root, args, ctx) =>
      toConnection(
        await AccountReads.search(ctx.session, {
          ...forward(args),
          query: args.query,
          byReference: args.byReference,
          within: args.within != null ? args.within.id : null,
        }),
      ),
  }),
}));

/** The payload of mutations that change an account. */
export const AccountPayload = builder.objectRef<{ account: Account.Info }>("AccountPayload").implement({
  description: "The account as the mutation left it",
  fields: (t) => ({
    account: t.field({ type: AccountRef, description: "The changed account", resolve: (p) => p.account }),
  }),
});
