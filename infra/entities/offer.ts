import { CheckedModelEntity } from "./entity.js";
import type { EntityConfiguration } from "electrodb";

export const offerKinds = ["MONTHLY", "TRIAL", "PREPAID", "USAGE"] as const;
export const offerStatuses = ["ACTIVE", "RETIRED"] as const;

/** A catalog offer: what can be ordered, at which price (integer minor units of `currency`). */
export function offerEntity(config: EntityConfiguration) {
  return new CheckedModelEntity(
    {
      model: { entity: "offer", version: "1", service: "cp" },
      attributes: {
        sku: { type: "string", required: true, readOnly: true },
        name: { type: "string", required: true },
        kind: { type: offerKinds, required: true, readOnly: true },
        /** Licences of one family are interchangeable: a member holds at most one per family. */
        family: { type: "string", required: true, readOnly: true },
        /** Price for future orders; subscriptions keep the price they were created at. */
        unitPrice: { type: "number", required: true },
        currency: { type: "string", required: true, readOnly: true },
        termMonths: { type: "number" },
        trialDays: { type: "number" },
        convertsTo: { type: "string" },
        /** Unit of a USAGE offer (e.g. minute). */
        unit: { type: "string" },
        internalOnly: { type: "boolean", required: true, default: false },
        status: { type: offerStatuses, required: true, default: "ACTIVE" },
        /** Constant: the one partition of the operators' catalog list (small, operator-only). */
        catalog: { type: "string", required: true, default: "catalog", readOnly: true },
        createdAt: { type: "string", required: true, readOnly: true },
        updatedAt: { type: "string", required: true },
        version: { type: "number", required: true, default: 1 },
      },
      indexes: {
        // Orders read offers by sku (BatchGetItem): spread over one partition per offer.
        bySku: {
          pk: { field: "pk", composite: ["sku"] },
          sk: { field: "sk", composite: [] },
        },
        // The operators' catalog page, by sku. A single partition is fine: tens of items, read by operators only.
        catalog: {
          index: "gsi1",
          pk: { field: "gsi1pk", composite: ["catalog"] },
          sk: { field: "gsi1sk", composite: ["sku"] },
        },
      },
    },
    config,
  );
}
