import { CheckedModelEntity } from "./entity.js";
import type { EntityConfiguration } from "electrodb";

/** Where a number stands with the carrier (EXPO.e "Adding Numbers"): new, being ported in (with its date), or live. */
export const portingStates = ["NEW", "PORTING", "ACTIVE"] as const;

/**
 * A public phone number (E.164) of the inventory. Keyed by the number alone: a number is in one
 * account's pool at a time, whoever asks. Operators add numbers to a partner; a partner allocates
 * them down to a customer or sub-reseller; released (or left by a deleted account), a number goes
 * back up, quarantined for a while before anyone may take it again.
 */
export function phoneNumberEntity(config: EntityConfiguration) {
  return new CheckedModelEntity(
    {
      model: { entity: "phoneNumber", version: "1", service: "cp" },
      attributes: {
        number: { type: "string", required: true, readOnly: true },
        /** The account whose pool holds it (PLATFORM once a distributor gave it back). */
        holderId: { type: "string", required: true },
        /** The pool it was allocated from (PLATFORM for numbers the operators added): where it returns when its holder is deleted. */
        fromId: { type: "string", required: true },
        state: { type: portingStates, required: true },
        /** The porting date, while PORTING. */
        portingDate: { type: "string" },
        /** Released: nobody takes it from its pool before then. */
        quarantinedUntil: { type: "string" },
        addedAt: { type: "string", required: true },
        addedBy: { type: "string", required: true },
        /** The batch of addNumbers that wrote it (undone as a whole if a later part of the batch fails). */
        batch: { type: "string", required: true },
        allocatedAt: { type: "string" },
        /** Moves with every change, and with every extension association that uses it (a release conditions on it). */
        version: { type: "number", required: true, default: 1 },
        updatedAt: { type: "string", required: true },
      },
      indexes: {
        byNumber: {
          pk: { field: "pk", composite: ["number"] },
          sk: { field: "sk", composite: [] },
        },
        // An account's pool, in number order.
        byHolder: {
          index: "gsi1",
          pk: { field: "gsi1pk", composite: ["holderId"] },
          sk: { field: "gsi1sk", composite: ["number"] },
        },
      },
    },
    config,
  );
}
