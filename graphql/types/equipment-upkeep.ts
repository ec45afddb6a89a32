import * as Equipment from "../../core/equipment.js";
import { builder } from "../builder.js";
import { EquipmentRef } from "./equipment.js";

const ActivationFailureReason = builder.enumType("ActivationFailureReason", {
  description: "Why an activation of the PBX failed (the PBX itself always gets the same refusal)",
  values: {
    WRONG_CODE: { description: "A code was tried that is not the current one (one of the 5 attempts spent)" },
    EXPIRED: { description: "The current code had expired (7 days): regenerate it" },
    LOCKED: { description: "Five wrong codes locked the device: regenerate the code" },
    ALLOWANCE: { description: "The account's hourly allowance of activation attempts was used up" },
  } as const,
});

const ActivationFailureRef = builder
  .objectRef<{ reason: Equipment.ActivationFailure; at: string }>("EquipmentActivationFailure")
  .implement({
    description: "The last failed activation of a PBX. A value, not an entity: part of its equipment",
    fields: (t) => ({
      reason: t.field({ type: ActivationFailureReason, description: "Why it failed", resolve: (f) => f.reason }),
      at: t.field({ type: "DateTime", description: "When", resolve: (f) => f.at }),
    }),
  });

builder.objectFields(EquipmentRef, (t) => ({
  lastActivationFailure: t.field({
    type: ActivationFailureRef,
    nullable: true,
    description:
      "Why the PBX last failed to pair, for those who manage it (null for others, in a tenant's view, and once it paired: attempts on a paired PBX note nothing)",
    resolve: (e, _a, ctx) => Equipment.lastActivationFailure(ctx.session, e),
  }),
}));
