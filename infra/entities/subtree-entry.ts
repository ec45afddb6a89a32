import { CheckedModelEntity } from "./entity.js";
import type { EntityConfiguration } from "electrodb";
import { accountKinds } from "./account.js";

/**
 * One item per (ancestor, descendant) pair: "Search Hierarchy" over a whole subtree without a
 * scan. Written with the account in one transaction; rewritten when an account moves or is renamed.
 */
export function subtreeEntryEntity(config: EntityConfiguration) {
  return new CheckedModelEntity(
    {
      model: { entity: "subtree", version: "1", service: "cp" },
      attributes: {
        ancestorId: { type: "string", required: true, readOnly: true },
        accountId: { type: "string", required: true, readOnly: true },
        /** Levels between the ancestor and the account (1 = child). */
        distance: { type: "number", required: true },
        kind: { type: accountKinds, required: true },
        nameKey: { type: "string", required: true },
        /** "" when the account has no reference. */
        referenceKey: { type: "string", required: true, default: "" },
      },
      indexes: {
        byAncestor: {
          pk: { field: "pk", composite: ["ancestorId"] },
          sk: { field: "sk", composite: ["accountId"] },
        },
        // Subtree search by name prefix, ordered by name.
        byAncestorName: {
          index: "gsi1",
          pk: { field: "gsi1pk", composite: ["ancestorId"] },
          sk: { field: "gsi1sk", composite: ["nameKey", "accountId"] },
        },
        // Subtree search by reference prefix.
        byAncestorReference: {
          index: "gsi2",
          pk: { field: "gsi2pk", composite: ["ancestorId"] },
          sk: { field: "gsi2sk", composite: ["referenceKey", "accountId"] },
        },
      },
    },
    config,
  );
}
