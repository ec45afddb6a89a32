import { CheckedModelEntity } from "./entity.js";
import type { EntityConfiguration } from "electrodb";

/**
 * A customer that opened its tenant to a reseller's partner admins, listed under that reseller
 * ("customers I administer"): written and removed with the customer's opt-in.
 */
export function administeredEntity(config: EntityConfiguration) {
  return new CheckedModelEntity(
    {
      model: { entity: "administered", version: "1", service: "cp" },
      attributes: {
        resellerId: { type: "string", required: true, readOnly: true },
        customerId: { type: "string", required: true, readOnly: true },
        nameKey: { type: "string", required: true },
        name: { type: "string", required: true },
        until: { type: "string" },
        since: { type: "string", required: true },
      },
      indexes: {
        byCustomer: {
          pk: { field: "pk", composite: ["resellerId"] },
          sk: { field: "sk", composite: ["customerId"] },
        },
        // By name: the list's search (name prefix) and sort.
        byName: {
          index: "gsi1",
          pk: { field: "gsi1pk", composite: ["resellerId"] },
          sk: { field: "gsi1sk", composite: ["nameKey", "customerId"] },
        },
      },
    },
    config,
  );
}

/** An action a partner admin did on behalf of a customer, listed for the customer. */
export function behalfEntity(config: EntityConfiguration) {
  return new CheckedModelEntity(
    {
      model: { entity: "behalf", version: "1", service: "cp" },
      attributes: {
        customerId: { type: "string", required: true, readOnly: true },
        at: { type: "string", required: true, readOnly: true },
        id: { type: "string", required: true, readOnly: true },
        actor: { type: "string", required: true, readOnly: true },
        resellerId: { type: "string", required: true, readOnly: true },
        action: { type: "string", required: true, readOnly: true },
        subjectId: { type: "string", readOnly: true },
      },
      indexes: {
        // In the customer's own partition: deleted with it.
        byCustomer: {
          pk: { field: "pk", composite: ["customerId"] },
          sk: { field: "sk", composite: ["at", "id"] },
        },
      },
    },
    config,
  );
}
