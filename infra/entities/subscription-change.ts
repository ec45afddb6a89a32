import { CheckedModelEntity } from "./entity.js";
import type { EntityConfiguration } from "electrodb";

export const changeKinds = [
  "CREATED",
  "INCREASED",
  "DECREASED",
  "CANCELLED",
  "CONVERTED",
  "EXPIRED",
  "RENEWED",
] as const;

/**
 * The subscription ledger: one entry per quantity change, written in the same transaction as
 * the change. Billing reads a subscription's quantity at a past instant from it, so it is keyed
 * by the subscription's version: complete (no gap can commit) and totally ordered.
 */
export function subscriptionChangeEntity(config: EntityConfiguration) {
  return new CheckedModelEntity(
    {
      model: { entity: "subchange", version: "1", service: "cp" },
      attributes: {
        accountId: { type: "string", required: true, readOnly: true },
        sku: { type: "string", required: true, readOnly: true },
        version: { type: "number", required: true, readOnly: true, padding: { length: 10, char: "0" } },
        kind: { type: changeKinds, required: true, readOnly: true },
        at: { type: "string", required: true, readOnly: true },
        /** "user:<email>", "system:<job>". */
        actor: { type: "string", required: true, readOnly: true },
        onBehalfOf: { type: "string", readOnly: true },
        from: { type: "number", required: true, readOnly: true },
        to: { type: "number", required: true, readOnly: true },
        reason: { type: "string", readOnly: true },
        orderId: { type: "string", readOnly: true },
      },
      indexes: {
        // History of one subscription, in version order (read newest first).
        bySubscription: {
          pk: { field: "pk", composite: ["accountId", "sku"] },
          sk: { field: "sk", composite: ["version"] },
        },
        // History of an account's subscriptions in time order (Rainbow "Operations history").
        byAccount: {
          index: "gsi1",
          pk: { field: "gsi1pk", composite: ["accountId"] },
          sk: { field: "gsi1sk", composite: ["at", "sku", "version"] },
        },
      },
    },
    config,
  );
}
