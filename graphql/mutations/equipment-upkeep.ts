import * as Equipment from "../../core/equipment.js";
import { builder } from "../builder.js";
import { AccountRef } from "../types/account.js";
import { globalId, scoped } from "../ids.js";
import type { GlobalIdArg } from "../ids.js";
import { EquipmentRef } from "../types/equipment.js";

/** An Equipment global id as the core's key (NotFound when malformed or of another type). */
const equipmentKey = (id: GlobalIdArg): Equipment.Key => {
  const { accountId, key } = scoped(id);
  return { accountId, equipmentId: key };
};

const UpdateEquipmentInput = builder.inputType("UpdateEquipmentInput", {
  description: "What to change on a PBX (at least one field); its pairing is untouched",
  fields: (t) => ({
    equipmentId: t.globalID({ for: EquipmentRef, required: true, description: "The Equipment's global id" }),
    name: t.string({ required: false, description: "A new name" }),
    country: t.string({ required: false, description: "ISO 3166-1 alpha-2: where the PBX is installed" }),
    outboundPrefix: t.string({
      required: false,
      description: "Digits dialled for an outside line (1 to 4); null removes it",
    }),
  }),
});

builder.mutationField("updateEquipment", (t) =>
  t.field({
    type: builder.objectRef<{ equipment: Equipment.Info }>("UpdateEquipmentPayload").implement({
      description: "The equipment as the change left it",
      fields: (f) => ({
        equipment: f.field({ type: EquipmentRef, description: "The equipment", resolve: (p) => p.equipment }),
      }),
    }),
    description: "Equipment information: rename a PBX, or correct its country or outbound prefix",
    args: { input: t.arg({ type: UpdateEquipmentInput, required: true, description: "The operation's fields" }) },
    errors: {},
    resolve: async (_r, { input }, ctx) => ({
      equipment: await Equipment.update(ctx.session, {
        equipment: equipmentKey(input.equipmentId),
        name: input.name,
        country: input.country,
        // Given as null: removed; left out: unchanged.
        ...(input.outboundPrefix !== undefined ? { outboundPrefix: input.outboundPrefix } : {}),
      }),
    }),
  }),
);

const DetachEquipmentTenantInput = builder.inputType("DetachEquipmentTenantInput", {
  description: "A shared PBX and the customer to remove from it",
  fields: (t) => ({
    equipmentId: t.globalID({
      for: EquipmentRef,
      required: true,
      description: "The Equipment's global id (a multi-tenant PBX)",
    }),
    customerId: t.globalID({ for: AccountRef, required: true, description: "The attached customer's Account id" }),
  }),
});

builder.mutationField("detachEquipmentTenant", (t) =>
  t.field({
    type: builder.objectRef<Equipment.Detachment>("DetachEquipmentTenantPayload").implement({
      description: "The shared PBX after the customer left it",
      fields: (f) => ({
        equipment: f.field({ type: EquipmentRef, description: "The shared PBX", resolve: (p) => p.equipment }),
        customerId: f.id({
          description: "The detached customer's Account id",
          resolve: (p) => globalId("Account", p.tenant.customerId),
        }),
        companyPrefix: f.string({
          description: "The company prefix freed on the PBX",
          resolve: (p) => p.tenant.companyPrefix,
        }),
        extensionAssignmentsRemoved: f.int({
          description: "The customer's extension associations removed from the PBX",
          resolve: (p) => p.extensionAssignments,
        }),
      }),
    }),
    description:
      "Remove one customer from a shared (multi-tenant) PBX: its extension associations there are removed and its company prefix is freed",
    args: { input: t.arg({ type: DetachEquipmentTenantInput, required: true, description: "The operation's fields" }) },
    errors: {},
    resolve: (_r, { input }, ctx) =>
      Equipment.detachTenant(ctx.session, {
        equipment: equipmentKey(input.equipmentId),
        customerId: input.customerId.id,
      }),
  }),
);
