import * as Account from "../../core/account.js";
import * as Equipment from "../../core/equipment.js";
import { builder } from "../builder.js";
import { forward, toConnection } from "../connection.js";
import { compositeId, compositeParts, globalId, splitScoped } from "../ids.js";
import { AccountRef } from "./account.js";

export const ServerTypeRef = builder.objectRef<Equipment.ServerType>("ServerType").implement({
  description:
    "A kind of PBX the cloud pairs with. A value of the product list, not an entity: its id is a product code",
  fields: (t) => ({
    id: t.exposeString("id", { description: "Pass as serverType when declaring equipment, e.g. OXO_CONNECT" }),
    name: t.exposeString("name", { description: "Product name" }),
    multiTenant: t.exposeBoolean("multiTenant", {
      description: "Shared by several customers of a partner, each with a company prefix",
    }),
  }),
});

export const EquipmentStatus = builder.enumType("EquipmentStatus", {
  description:
    "PENDING until the PBX activates; CONNECTED while it sends heartbeats; DISCONNECTED after 10 minutes without one",
  values: {
    PENDING: { description: "Declared; waits for the PBX to activate with its code" },
    CONNECTED: { description: "Activated, and a heartbeat came in the last 10 minutes" },
    DISCONNECTED: { description: "Activated, but silent for more than 10 minutes" },
  } as const,
});

export const EquipmentRef = builder.objectRef<Equipment.Info>("Equipment");

/** The global id of an equipment: "<owner account id>:<equipment id>". */
export const equipmentGlobalId = (e: Pick<Equipment.Info, "accountId" | "equipmentId">) =>
  globalId("Equipment", `${e.accountId}:${e.equipmentId}`);

const EquipmentTenantRef = builder.objectRef<Equipment.Tenant>("EquipmentTenant");

builder.node(EquipmentTenantRef, {
  description: "A customer attached to a multi-tenant PBX (the PBX owner's view)",
  id: { resolve: (x) => compositeId(x.accountId, x.equipmentId, x.customerId) },
  loadWithoutCache: (id, ctx) => {
    const p = compositeParts(id, 3);
    return p ? Equipment.findTenant(ctx.session, { accountId: p[0]!, equipmentId: p[1]! }, p[2]!) : undefined;
  },
  fields: (t) => ({
    customer: t.field({
      type: AccountRef,
      nullable: true,
      description: "Null when you do not see the customer",
      resolve: (x, _a, ctx) => Account.find(ctx.session, x.customerId),
    }),
    customerId: t.id({ description: "The customer's Account id", resolve: (x) => globalId("Account", x.customerId) }),
    companyPrefix: t.exposeString("companyPrefix", { description: "The customer's company prefix on the shared PBX" }),
    attachedAt: t.field({
      type: "DateTime",
      description: "When the customer was attached",
      resolve: (x) => x.attachedAt,
    }),
  }),
});

export const ExtensionAssignmentRef = builder.objectRef<Equipment.Assignment>("ExtensionAssignment");

builder.node(ExtensionAssignmentRef, {
  description: "A member associated with a PBX extension and a public number",
  id: { resolve: (a) => compositeId(a.accountId, a.equipmentId, a.extension) },
  loadWithoutCache: (id, ctx) => {
    const p = compositeParts(id, 3);
    return p ? Equipment.findAssignment(ctx.session, { accountId: p[0]!, equipmentId: p[1]! }, p[2]!) : undefined;
  },
  fields: (t) => ({
    equipmentId: t.id({ description: "The PBX's Equipment id", resolve: (a) => equipmentGlobalId(a) }),
    extension: t.exposeString("extension", { description: "The PBX extension" }),
    accountId: t.id({ description: "The member's account", resolve: (a) => globalId("Account", a.customerId) }),
    email: t.field({ type: "EmailAddress", description: "The member", resolve: (a) => a.email }),
    publicNumber: t.exposeString("publicNumber", { description: "E.164 (DDI)" }),
    assignedAt: t.field({
      type: "DateTime",
      description: "When the association was made",
      resolve: (a) => a.assignedAt,
    }),
    assignedBy: t.exposeString("assignedBy", { description: "Who made it: user:<email>" }),
  }),
});

builder.node(EquipmentRef, {
  description: "A customer's or a partner's PBX, paired with the cloud",
  id: { resolve: (e) => `${e.accountId}:${e.equipmentId}` },
  loadWithoutCache: (id, ctx) => {
    const parts = splitScoped(id);
    return parts ? Equipment.find(ctx.session, { accountId: parts.accountId, equipmentId: parts.key }) : undefined;
  },
  fields: (t) => ({
    name: t.exposeString("name", { description: "The name the owner gave it" }),
    serverType: t.field({
      type: ServerTypeRef,
      description: "The kind of PBX",
      resolve: (e) =>
        Equipment.serverType(e.serverType) ?? { id: e.serverType, name: e.serverType, multiTenant: e.multiTenant },
    }),
    country: t.field({ type: "CountryCode", description: "Where the PBX is installed", resolve: (e) => e.country }),
    outboundPrefix: t.exposeString("outboundPrefix", {
      nullable: true,
      description: "Digit dialled before external numbers, when the PBX uses one",
    }),
    deviceId: t.string({
      nullable: true,
      description:
        "What the PBX activates with (with the activation code); null in a tenant customer's view of a shared PBX",
      resolve: (e) => (e.tenant ? null : e.deviceId),
    }),
    status: t.field({
      type: EquipmentStatus,
      description: "Pairing and liveness",
      resolve: (e, _a, ctx) => Equipment.statusOf(e, ctx.session.now),
    }),
    locked: t.boolean({
      description: "Five wrong activation codes: locked until the code is regenerated",
      resolve: (e) => Equipment.isLocked(e),
    }),
    activationCodeExpiresAt: t.field({
      type: "DateTime",
      nullable: true,
      description: "While PENDING: when the current activation code stops working",
      resolve: (e) => (e.tenant ? null : (e.codeExpiresAt ?? null)),
    }),
    connectedAt: t.field({
      type: "DateTime",
      nullable: true,
      description: "When the PBX activated",
      resolve: (e) => e.connectedAt ?? null,
    }),
    lastSeenAt: t.field({
      type: "DateTime",
      nullable: true,
      description: "Last heartbeat",
      resolve: (e) => e.lastSeenAt ?? null,
    }),
    createdAt: t.field({ type: "DateTime", description: "When it was declared", resolve: (e) => e.createdAt }),
    updatedAt: t.field({ type: "DateTime", description: "When it last changed", resolve: (e) => e.updatedAt }),
    account: t.field({
      type: AccountRef,
      nullable: true,
      description: "The owner account, when you may see it",
      resolve: (e, _a, ctx) => Account.find(ctx.session, e.accountId),
    }),
    shared: t.boolean({
      description: "A partner's multi-tenant PBX this account is attached to",
      resolve: (e) => !!e.tenant,
    }),
    companyPrefix: t.string({
      nullable: true,
      description: "This account's company prefix on a shared PBX",
      resolve: (e) => e.tenant?.companyPrefix ?? null,
    }),
    tenantCount: t.int({
      description: "Customers attached to this multi-tenant PBX",
      resolve: (e) => (e.tenant ? 0 : e.tenantCount),
    }),
    tenants: t.connection({
      type: EquipmentTenantRef,
      description: "Customers attached to this multi-tenant PBX (the owner's view)",
      resolve: async (e, args, ctx) => {
        if (e.tenant) return toConnection<Equipment.Tenant>({ items: [], hasNextPage: false });
        return toConnection(await Equipment.tenants(ctx.session, e, forward(args)));
      },
    }),
    extensionCount: t.int({
      description:
        "Extensions in the PBX's last report (in a tenant's view of a shared PBX, those in its company prefix)",
      resolve: async (e, _a, ctx) =>
        e.tenant ? (await Equipment.reportedExtensions(ctx.session, e)).length : e.extensionCount,
    }),
    extensionsReportedAt: t.field({
      type: "DateTime",
      nullable: true,
      description: "When the PBX last reported its extensions",
      resolve: (e) => e.extensionsReportedAt ?? null,
    }),
    reportedExtensions: t.stringList({
      description: "The extensions the PBX reported (in a tenant's view, those in its company prefix)",
      resolve: (e, _a, ctx) => Equipment.reportedExtensions(ctx.session, e),
    }),
    extensionAssignments: t.connection({
      type: ExtensionAssignmentRef,
      description: "Members associated with this PBX's extensions (in a tenant's view, its own members)",
      resolve: async (e, args, ctx) => toConnection(await Equipment.assignmentsOf(ctx.session, e, forward(args))),
    }),
  }),
});

builder.objectFields(AccountRef, (t) => ({
  equipment: t.connection({
    type: EquipmentRef,
    description: "PBXs of this account, then the partners' shared PBXs it is attached to",
    args: { status: t.arg({ type: EquipmentStatus, required: false, description: "Only PBXs in this state" }) },
    resolve: async (a, args, ctx) =>
      toConnection(await Equipment.list(ctx.session, a.id, { ...forward(args), status: args.status ?? null })),
  }),
  extensionAssignments: t.connection({
    type: ExtensionAssignmentRef,
    description: "Extensions and public numbers of this account's members",
    resolve: async (a, args, ctx) => toConnection(await Equipment.assignments(ctx.session, a.id, forward(args))),
  }),
}));

builder.queryField("equipmentExtensionAssignments", (t) =>
  t.connection({
    type: ExtensionAssignmentRef,
    description:
      "The PBX itself (device credential only): its extensions' members and public numbers, by extension, to provision its phones",
    resolve: async (_r, args, ctx) => toConnection(await Equipment.ownAssignments(ctx.session, forward(args))),
  }),
);

builder.queryField("serverTypes", (t) =>
  t.field({
    type: [ServerTypeRef],
    description: "The kinds of PBX that can be declared",
    resolve: () => [...Equipment.serverTypes],
  }),
);
