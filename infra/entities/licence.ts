import { CheckedModelEntity } from "./entity.js";
import type { EntityConfiguration } from "electrodb";

/**
 * A licence of a subscription held by a member. Keyed by (account, member, offer family):
 * a member holds at most one licence per family, and the key enforces it.
 */
export function licenceEntity(config: EntityConfiguration) {
  return new CheckedModelEntity(
    {
      model: { entity: "licence", version: "1", service: "cp" },
      attributes: {
        accountId: { type: "string", required: true, readOnly: true },
        email: { type: "string", required: true, readOnly: true },
        family: { type: "string", required: true, readOnly: true },
        /** Changes only when a trial converts: its licences become licences of the paid offer (same family). */
        sku: { type: "string", required: true },
        assignedAt: { type: "string", required: true, readOnly: true },
        assignedBy: { type: "string", required: true, readOnly: true },
      },
      indexes: {
        // Licences of a member (released with the member).
        byMember: {
          pk: { field: "pk", composite: ["accountId"] },
          sk: { field: "sk", composite: ["email", "family"] },
        },
        // Holders of a subscription's licences, by e-mail.
        bySubscription: {
          index: "gsi1",
          pk: { field: "gsi1pk", composite: ["accountId", "sku"] },
          sk: { field: "gsi1sk", composite: ["email"] },
        },
      },
    },
    config,
  );
}
