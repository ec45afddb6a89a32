import * as Equipment from "../../core/equipment.js";
import { builder } from "../builder.js";
import { AccountRef } from "../types/account.js";
import { globalId, scoped } from "../ids.js";
import type { GlobalIdArg } from "../ids.js";
import { EquipmentRef, EquipmentStatus, ExtensionAssignmentRef, equipmentGlobalId } from "../types/equipment.js";

/** An Equipment global id as the core's key (NotFound when malformed or of another type). */
const equipmentKey = (id: GlobalIdArg): Equipment.Key => {
  const { accountId, key } = scoped(id);
  return { accountId, equipmentId: key };
};

const PairingPayload = builder.objectRef<Equipment.Pairing>("EquipmentPairingPayload").implement({
  description:
    "What the admin enters in the PBX. The activation code is shown only here: it is stored as a keyed digest",
  fields: (t) => ({
    equipment: t.field({ description: "The equipment", type: EquipmentRef, resolve: (p) => p.equipment }),
    deviceId: t.exposeString("deviceId", { description: "What the PBX activates with, with its activation code" }),
    activationCode: t.exposeString("activationCode", { description: "8 digits, single use, valid 7 days, 5 attempts" }),
  }),
});

const EquipmentPayload = builder.objectRef<{ equipment: Equipment.Info }>("EquipmentPayload").implement({
  description: "The equipment as the mutation left it",
  fields: (t) => ({
    equipment: t.field({
      description: "The equipment as the mutation left it",
      type: EquipmentRef,
      resolve: (p) => p.equipment,
    }),
  }),
});

const EquipmentRefInput = builder.inputType("EquipmentRefInput", {
  description: "An equipment",
  fields: (t) => ({
    equipmentId: t.globalID({ for: EquipmentRef, description: "The Equipment's global id", required: true }),
  }),
});

builder.mutationField("declareEquipment", (t) =>
  t.field({
    type: PairingPayload,
    description: "Declare a PBX on an account: returns its device id and activation code",
    args: {
      input: t.arg({
        description: "The operation's fields",
        type: builder.inputType("DeclareEquipmentInput", {
          description: "The PBX to declare",
          fields: (f) => ({
            accountId: f.globalID({ for: AccountRef, description: "The account's global id", required: true }),
            name: f.string({ description: "A name for the PBX", required: true }),
            serverType: f.string({
              required: true,
              description: "A ServerType id (Query.serverTypes), e.g. OXO_CONNECT",
            }),
            country: f.string({ required: true, description: "ISO 3166-1 alpha-2" }),
            outboundPrefix: f.string({
              required: false,
              description: "Digits dialled for an outside line (1 to 4), e.g. 0",
            }),
          }),
        }),
        required: true,
      }),
    },
    errors: {},
    resolve: (_r, { input }, ctx) =>
      Equipment.declare(ctx.session, {
        accountId: input.accountId.id,
        name: input.name,
        serverType: input.serverType,
        country: input.country,
        outboundPrefix: input.outboundPrefix ?? null,
      }),
  }),
);

builder.mutationField("regenerateActivationCode", (t) =>
  t.field({
    type: PairingPayload,
    description: "Manage connection: a new activation code; the old code and the PBX's current credential stop working",
    args: { input: t.arg({ type: EquipmentRefInput, required: true, description: "The operation's fields" }) },
    errors: {},
    resolve: (_r, { input }, ctx) => Equipment.regenerateCode(ctx.session, equipmentKey(input.equipmentId)),
  }),
);

builder.mutationField("removeEquipment", (t) =>
  t.field({
    type: EquipmentPayload,
    description: "Remove a PBX with its extension associations and tenants",
    args: { input: t.arg({ type: EquipmentRefInput, required: true, description: "The operation's fields" }) },
    errors: {},
    resolve: async (_r, { input }, ctx) => ({
      equipment: await Equipment.remove(ctx.session, equipmentKey(input.equipmentId)),
    }),
  }),
);

const ActivationPayload = builder.objectRef<Equipment.Activation>("EquipmentActivationPayload").implement({
  description: "The PBX's credential and state after activation",
  fields: (t) => ({
    equipmentId: t.id({ description: "The activated PBX's Equipment id", resolve: (a) => equipmentGlobalId(a) }),
    credential: t.exposeString("credential", {
      description: "Bearer token for the PBX's later calls (reportExtensions, equipmentHeartbeat); shown only here",
    }),
    connectedAt: t.field({ description: "When it activated", type: "DateTime", resolve: (a) => a.connectedAt }),
  }),
});

builder.mutationField("activateEquipment", (t) =>
  t.field({
    type: ActivationPayload,
    description:
      "Called by the PBX, without a user token: pairs it with its device id and activation code. Every failure is the same ForbiddenError",
    args: {
      deviceId: t.arg.string({ required: true, description: "The id printed on the PBX" }),
      activationCode: t.arg.string({ required: true, description: "The one-time activation code shown to the owner" }),
    },
    errors: {},
    resolve: (_r, args, ctx) =>
      Equipment.activate(ctx.session, { deviceId: args.deviceId, activationCode: args.activationCode }),
  }),
);

const ReportExtensionsPayload = builder
  .objectRef<{ count: number; reportedAt: string }>("ReportExtensionsPayload")
  .implement({
    description: "The PBX's extension report as recorded",
    fields: (f) => ({
      count: f.exposeInt("count", { description: "Distinct extensions now on record" }),
      reportedAt: f.field({
        description: "When the report was recorded",
        type: "DateTime",
        resolve: (p) => p.reportedAt,
      }),
    }),
  });

builder.mutationField("reportExtensionChanges", (t) =>
  t.field({
    type: ReportExtensionsPayload,
    description:
      "The PBX (device credential only): extensions added and removed since its last report, so a large PBX can send them in pieces; a ConflictError asks to send the change again when another report came in meanwhile",
    args: {
      added: t.arg.stringList({
        required: true,
        description: "Extensions now configured that were not reported (2 to 8 digits each)",
      }),
      removed: t.arg.stringList({ required: true, description: "Extensions no longer configured" }),
    },
    errors: {},
    resolve: (_r, args, ctx) => Equipment.reportExtensionChanges(ctx.session, args.added, args.removed),
  }),
);

builder.mutationField("reportExtensions", (t) =>
  t.field({
    type: ReportExtensionsPayload,
    description: "The PBX (device credential only): its extensions, 2 to 8 digits each; replaces the previous report",
    args: { numbers: t.arg.stringList({ required: true, description: "Every extension configured on the PBX" }) },
    errors: {},
    resolve: (_r, args, ctx) => Equipment.reportExtensions(ctx.session, args.numbers),
  }),
);

builder.mutationField("equipmentHeartbeat", (t) =>
  t.field({
    type: builder.objectRef<{ lastSeenAt: string; status: Equipment.Status }>("EquipmentHeartbeatPayload").implement({
      description: "The PBX's liveness after its heartbeat",
      fields: (f) => ({
        lastSeenAt: f.field({
          description: "When this heartbeat was recorded",
          type: "DateTime",
          resolve: (p) => p.lastSeenAt,
        }),
        status: f.field({
          description: "The PBX's state after the heartbeat",
          type: EquipmentStatus,
          resolve: (p) => p.status,
        }),
      }),
    }),
    description: "The PBX (device credential only): it is alive",
    errors: {},
    resolve: (_r, _a, ctx) => Equipment.heartbeat(ctx.session),
  }),
);

builder.mutationField("attachEquipmentTenant", (t) =>
  t.field({
    type: builder
      .objectRef<{ equipment: Equipment.Info; tenant: Equipment.Tenant }>("AttachEquipmentTenantPayload")
      .implement({
        description: "The shared PBX and the customer attached to it",
        fields: (f) => ({
          equipment: f.field({ description: "The shared PBX", type: EquipmentRef, resolve: (p) => p.equipment }),
          companyPrefix: f.string({
            description: "The prefix given to the customer on the PBX",
            resolve: (p) => p.tenant.companyPrefix,
          }),
          customerId: f.id({
            description: "The attached customer's Account id",
            resolve: (p) => globalId("Account", p.tenant.customerId),
          }),
        }),
      }),
    description:
      "Attach a customer below the partner to its connected multi-tenant PBX, with a company prefix unique on that PBX",
    args: {
      input: t.arg({
        description: "The operation's fields",
        type: builder.inputType("AttachEquipmentTenantInput", {
          description: "A multi-tenant PBX and the customer to attach",
          fields: (f) => ({
            equipmentId: f.globalID({ for: EquipmentRef, description: "The Equipment's global id", required: true }),
            customerId: f.globalID({ for: AccountRef, description: "The customer's Account id", required: true }),
            companyPrefix: f.string({ required: true, description: "1 to 8 digits, e.g. 8210" }),
          }),
        }),
        required: true,
      }),
    },
    errors: {},
    resolve: (_r, { input }, ctx) =>
      Equipment.attachTenant(ctx.session, {
        equipment: equipmentKey(input.equipmentId),
        customerId: input.customerId.id,
        companyPrefix: input.companyPrefix,
      }),
  }),
);

builder.mutationField("unassignExtension", (t) =>
  t.field({
    type: builder.objectRef<{ assignment: Equipment.Assignment }>("UnassignExtensionPayload").implement({
      description: "The association removed",
      fields: (f) => ({
        assignment: f.field({
          type: ExtensionAssignmentRef,
          description: "The association as it was",
          resolve: (p) => p.assignment,
        }),
      }),
    }),
    description: "Free an extension associated with a member of the account",
    args: {
      input: t.arg({
        description: "The operation's fields",
        type: builder.inputType("UnassignExtensionInput", {
          description: "The extension to free",
          fields: (f) => ({
            accountId: f.globalID({ for: AccountRef, required: true, description: "The member's account" }),
            equipmentId: f.globalID({ for: EquipmentRef, description: "The Equipment's global id", required: true }),
            extension: f.string({ description: "The PBX extension", required: true }),
          }),
        }),
        required: true,
      }),
    },
    errors: {},
    resolve: async (_r, { input }, ctx) => ({
      assignment: await Equipment.unassignExtension(ctx.session, {
        accountId: input.accountId.id,
        equipment: equipmentKey(input.equipmentId),
        extension: input.extension,
      }),
    }),
  }),
);

builder.mutationField("assignExtension", (t) =>
  t.field({
    type: builder.objectRef<{ assignment: Equipment.Assignment }>("AssignExtensionPayload").implement({
      description: "The association made",
      fields: (f) => ({
        assignment: f.field({
          description: "The new association",
          type: ExtensionAssignmentRef,
          resolve: (p) => p.assignment,
        }),
      }),
    }),
    description: "Associate a member with an extension the PBX reported and a public number (E.164)",
    args: {
      input: t.arg({
        description: "The operation's fields",
        type: builder.inputType("AssignExtensionInput", {
          description: "An extension of a PBX and the member to associate",
          fields: (f) => ({
            accountId: f.globalID({ for: AccountRef, required: true, description: "The member's account" }),
            equipmentId: f.globalID({
              for: EquipmentRef,
              required: false,
              description: "Optional when the account has exactly one PBX (own or shared)",
            }),
            extension: f.string({ description: "The PBX extension", required: true }),
            email: f.field({
              description: "The member to associate with the extension",
              type: "EmailAddress",
              required: true,
            }),
            publicNumber: f.string({ required: true, description: "E.164, e.g. +447848311690" }),
          }),
        }),
        required: true,
      }),
    },
    errors: {},
    resolve: async (_r, { input }, ctx) => ({
      assignment: await Equipment.assignExtension(ctx.session, {
        accountId: input.accountId.id,
        equipment: input.equipmentId != null ? equipmentKey(input.equipmentId) : null,
        extension: input.extension,
        email: input.email,
        publicNumber: input.publicNumber,
      }),
    }),
  }),
);
