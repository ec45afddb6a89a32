import { CheckedModelEntity } from "./entity.js";
import type { EntityConfiguration } from "electrodb";

/**
 * A person, keyed by verified e-mail, with their active memberships inline: one GetItem tells
 * everything the rights check needs about the caller (batched with the target account).
 */
export function personEntity(config: EntityConfiguration) {
  return new CheckedModelEntity(
    {
      model: { entity: "person", version: "1", service: "cp" },
      attributes: {
        email: { type: "string", required: true, readOnly: true },
        /** accountId -> { role, seller, partnerAdmin }; validated by infra/store on read. */
        memberships: { type: "any", required: true },
        version: { type: "number", required: true },
        createdAt: { type: "string", required: true, readOnly: true },
        updatedAt: { type: "string", required: true },
      },
      indexes: {
        byEmail: {
          pk: { field: "pk", composite: ["email"] },
          sk: { field: "sk", composite: [] },
        },
      },
    },
    config,
  );
}
