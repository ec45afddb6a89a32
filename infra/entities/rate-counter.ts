import { CheckedModelEntity } from "./entity.js";
import type { EntityConfiguration } from "electrodb";

/**
 * Per-account rate counters (invitations sent, activation attempts): one item per account, limit
 * and fixed window, in the account's own partition (deleted with it), expiring after the window.
 * Incremented in the same transaction as the action it counts, conditioned on staying under the limit.
 */
export function rateCounterEntity(config: EntityConfiguration) {
  return new CheckedModelEntity(
    {
      model: { entity: "rateCounter", version: "1", service: "cp" },
      attributes: {
        accountId: { type: "string", required: true, readOnly: true },
        limit: { type: "string", required: true, readOnly: true },
        window: { type: "string", required: true, readOnly: true },
        count: { type: "number" },
        expiresAt: { type: "number" },
      },
      indexes: {
        byWindow: {
          pk: { field: "pk", composite: ["accountId"] },
          sk: { field: "sk", composite: ["limit", "window"] },
        },
      },
    },
    config,
  );
}
