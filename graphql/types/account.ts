import * as Account from "../../core/account.js";
import * as Audit from "../../core/audit.js";
import * as Member from "../../core/member.js";
import { builder } from "../builder.js";
import { forward, toConnection } from "../connection.js";
import { localId } from "../ids.js";
import { AuditEventRef } from "./audit-event.js";
import { InvitationRef, MemberRef } from "./member.js";

export const AccountKind = builder.enumType("AccountKind", {
  values: ["PLATFORM", "DISTRIBUTOR", "RESELLER", "CUSTOMER"] as const,
});

export const AccountRef = builder.objectRef<Account.Info>("Account");

/** A breadcrumb: an ancestor's name and kind, without access to the ancestor itself. */
const BreadcrumbRef = builder.objectRef<Pick<Account.Info, "id" | "name" | "kind">>("Breadcrumb").implement({
  fields: (t) => ({
    id: t.globalID({ resolve: (a) => ({ type: "Account", id: a.id }) }),
    name: t.exposeString("name"),
    kind: t.field({ type: AccountKind, resolve: (a) => a.kind }),
  }),
});

builder.node(AccountRef, {
  id: { resolve: (a) => a.id },
  // Relay `node(id)`: null when unknown or not visible to the caller.
  loadOne: (id, ctx) => Account.find(ctx.session, id),
  fields: (t) => ({
    kind: t.field({ type: AccountKind, resolve: (a) => a.kind }),
    name: t.exposeString("name"),
    reference: t.exposeString("reference", { nullable: true }),
    country: t.field({ type: "CountryCode", resolve: (a) => a.country }),
    status: t.exposeString("status"),
    createdAt: t.field({ type: "DateTime", resolve: (a) => a.createdAt }),
    updatedAt: t.field({ type: "DateTime", resolve: (a) => a.updatedAt }),
    canCreateAccounts: t.exposeBoolean("canCreateAccounts", { description: "Reseller right, set by the parent" }),
    canCreateEquipment: t.exposeBoolean("canCreateEquipment", { description: "Reseller right, set by the parent" }),
    childCount: t.exposeInt("childCount"),
    parent: t.field({
      type: AccountRef,
      nullable: true,
      description: "The parent account, when the caller may see it",
      resolve: (a, _args, ctx) => (a.path.length > 0 ? Account.find(ctx.session, a.parentId) : null),
    }),
    ancestors: t.field({
      type: [BreadcrumbRef],
      description: "Breadcrumbs: the ancestors from the root to the parent",
      resolve: (a, _args, ctx) => Account.ancestors(ctx.session, a),
    }),
    children: t.connection({
      type: AccountRef,
      args: {
        search: t.arg.string({ required: false, description: "Name prefix, case-insensitive" }),
        reference: t.arg.string({ required: false, description: "Reference prefix, case-insensitive" }),
      },
      resolve: async (a, args, ctx) =>
        toConnection(await Account.children(ctx.session, a.id, { ...forward(args), search: args.search, reference: args.reference })),
    }),
    members: t.connection({
      type: MemberRef,
      resolve: async (a, args, ctx) => toConnection(await Member.list(ctx.session, a.id, forward(args))),
    }),
    invitations: t.connection({
      type: InvitationRef,
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
    args: { id: t.arg.id({ required: true }) },
    errors: {},
    resolve: (_root, args, ctx) => Account.get(ctx.session, localId(String(args.id), "Account")),
  }),
  searchAccounts: t.connection({
    type: AccountRef,
    description: "Search Hierarchy: accounts anywhere below the account you sell from",
    args: {
      query: t.arg.string({ required: true, description: "Name prefix (or reference prefix with byReference)" }),
      byReference: t.arg.boolean({ required: false }),
      within: t.arg.id({ required: false, description: "Root of the search when you belong to several accounts" }),
    },
    resolve: async (_root, args, ctx) =>
      toConnection(
        await Account.search(ctx.session, {
          ...forward(args),
          query: args.query,
          byReference: args.byReference,
          within: args.within != null ? localId(String(args.within), "Account") : null,
        }),
      ),
  }),
}));

/** The payload of mutations that change an account. */
export const AccountPayload = builder.objectRef<{ account: Account.Info }>("AccountPayload").implement({
  fields: (t) => ({ account: t.field({ type: AccountRef, resolve: (p) => p.account }) }),
});
