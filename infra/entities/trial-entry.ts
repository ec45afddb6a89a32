import { CheckedModelEntity } from "./entity.js";
import type { EntityConfiguration } from "electrodb";

/**
 * One item per (account in reach, active trial): the Trials view of an account lists its own
 * trials and, for its sellers, those of its whole subtree, soonest end first, with one Query and
 * no scan (Ribbon's Trials tab). Written with the trial (the order that starts it), deleted with
 * its end (expiry, conversion, cancellation), rewritten when its account moves. A trial's end
 * never changes, so it can be part of the key.
 */
export function trialEntryEntity(config: EntityConfiguration) {
  return new CheckedModelEntity(
    {
      model: { entity: "trialEntry", version: "1", service: "cp" },
      attributes: {
        /** The account whose view lists the trial: the trial's account or one of its ancestors. */
        reachId: { type: "string", required: true, readOnly: true },
        endsAt: { type: "string", required: true, readOnly: true },
        accountId: { type: "string", required: true, readOnly: true },
        sku: { type: "string", required: true, readOnly: true },
      },
      indexes: {
        // The trials in an account's reach, soonest end first (a range on endsAt: the weekly digest).
        byReach: {
          pk: { field: "pk", composite: ["reachId"] },
          sk: { field: "sk", composite: ["endsAt", "accountId", "sku"] },
        },
      },
    },
    config,
  );
}
