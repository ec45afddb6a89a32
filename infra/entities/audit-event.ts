import { CheckedModelEntity } from "./entity.js";
import type { EntityConfiguration } from "electrodb";

/** Who did what to which account, when: the operations history. Written in the same transaction as the change. */
export function auditEventEntity(config: EntityConfiguration) {
  return new CheckedModelEntity(
    {
      model: { entity: "audit", version: "1", service: "cp" },
      attributes: {
        accountId: { type: "string", required: true, readOnly: true },
        at: { type: "string", required: true, readOnly: true },
        id: { type: "string", required: true, readOnly: true },
        action: { type: "string", required: true },
        /** "user:<email>", "device:<id>" or "system:<job>". */
        actor: { type: "string", required: true },
        /** Set when a partner admin acted on behalf of the customer. */
        onBehalfOf: { type: "string" },
        subjectId: { type: "string" },
        details: { type: "string" },
      },
      indexes: {
        // History of an account in time order; read newest first.
        byAccount: {
          pk: { field: "pk", composite: ["accountId"] },
          sk: { field: "sk", composite: ["at", "id"] },
        },
      },
    },
    config,
  );
}
