import { CheckedModelEntity } from "./entity.js";
import type { EntityConfiguration } from "electrodb";
import { offerKinds } from "./offer.js";

/** CONVERTED: a trial moved to its paid offer (its licences went with it). */
export const subscriptionStatuses = ["ACTIVE", "CANCELLED", "EXPIRED", "CONVERTED"] as const;

/**
 * The licences an account holds of one offer. One item per (account, sku): ordering an offer
 * the account already has increases it, so orders know every key they touch before writing.
 */
export function subscriptionEntity(config: EntityConfiguration) {
  return new CheckedModelEntity(
    {
      model: { entity: "subscription", version: "1", service: "cp" },
      attributes: {
        accountId: { type: "string", required: true, readOnly: true },
        sku: { type: "string", required: true, readOnly: true },
        kind: { type: offerKinds, required: true, readOnly: true },
        family: { type: "string", required: true, readOnly: true },
        status: { type: subscriptionStatuses, required: true },
        quantity: { type: "number", required: true },
        /** Licences assigned to members; `assigned <= quantity` is a condition of every write. */
        assigned: { type: "number", required: true, default: 0 },
        /** Price when the subscription was created or subscribed again (increases keep it). */
        unitPrice: { type: "number", required: true },
        currency: { type: "string", required: true, readOnly: true },
        startedAt: { type: "string", required: true },
        /** Trial end, or the prepaid term end. */
        endsAt: { type: "string" },
        /** Bumped by every change; the ledger entry of a change carries the new version. */
        version: { type: "number", required: true },
        updatedAt: { type: "string", required: true },
        /** The account's billed party (its distributor; "-" for none): kept current by orders and moves. */
        partyId: { type: "string", required: true },
      },
      indexes: {
        // Subscriptions of an account, by sku.
        byAccount: {
          pk: { field: "pk", composite: ["accountId"] },
          sk: { field: "sk", composite: ["sku"] },
        },
        // A billed party's subscriptions, account by account: a month is read in pages, not per customer.
        byParty: {
          index: "gsi1",
          pk: { field: "gsi1pk", composite: ["partyId"] },
          sk: { field: "gsi1sk", composite: ["accountId", "sku"] },
        },
      },
    },
    config,
  );
}
