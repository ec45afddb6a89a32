import { CheckedModelEntity } from "./entity.js";
import type { EntityConfiguration } from "electrodb";
import { offerKinds } from "./offer.js";

/** A placed order, with the lines and the prices it was placed at. Immutable. */
export function orderEntity(config: EntityConfiguration) {
  return new CheckedModelEntity(
    {
      model: { entity: "order", version: "1", service: "cp" },
      attributes: {
        accountId: { type: "string", required: true, readOnly: true },
        id: { type: "string", required: true, readOnly: true },
        lines: {
          type: "list",
          required: true,
          readOnly: true,
          items: {
            type: "map",
            properties: {
              sku: { type: "string", required: true },
              name: { type: "string", required: true },
              kind: { type: offerKinds, required: true },
              quantity: { type: "number", required: true },
              unitPrice: { type: "number", required: true },
              amount: { type: "number", required: true },
              // A prepaid line: the end of the term it pays for (its service period on the invoice).
              termEndsAt: { type: "string" },
            },
          },
        },
        currency: { type: "string", required: true, readOnly: true },
        total: { type: "number", required: true, readOnly: true },
        reference: { type: "string", readOnly: true },
        idempotencyKey: { type: "string", required: true, readOnly: true },
        placedBy: { type: "string", required: true, readOnly: true },
        onBehalfOf: { type: "string", readOnly: true },
        placedAt: { type: "string", required: true, readOnly: true },
      },
      indexes: {
        // Orders of an account; ids are ULIDs, so the sort key is time order (read newest first).
        byAccount: {
          pk: { field: "pk", composite: ["accountId"] },
          sk: { field: "sk", composite: ["id"] },
        },
      },
    },
    config,
  );
}

/**
 * The idempotency key of an order, created in the order's transaction with a
 * not-exists condition: a replay finds it and answers with the first order.
 */
export function orderKeyEntity(config: EntityConfiguration) {
  return new CheckedModelEntity(
    {
      model: { entity: "orderkey", version: "1", service: "cp" },
      attributes: {
        accountId: { type: "string", required: true, readOnly: true },
        key: { type: "string", required: true, readOnly: true },
        /** SHA-256 of the normalised request: the same key with other input is refused. */
        requestHash: { type: "string", required: true, readOnly: true },
        orderId: { type: "string", required: true, readOnly: true },
        /** Set when the order came with the creation of this account (key scoped to the parent). */
        childId: { type: "string", readOnly: true },
      },
      indexes: {
        // In the account's partition (deleted with it); case-sensitive: "Key-aB" and "Key-Ab" are two orders.
        byKey: {
          pk: { field: "pk", composite: ["accountId"] },
          sk: { field: "sk", composite: ["key"], casing: "none" },
        },
      },
    },
    config,
  );
}
