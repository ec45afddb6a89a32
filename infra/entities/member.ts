import { CheckedModelEntity } from "./entity.js";
import type { EntityConfiguration } from "electrodb";

export const roles = ["OWNER", "CONTRIBUTOR", "VIEWER"] as const;
export const memberStatuses = ["INVITED", "ACTIVE"] as const;

/** A person on an account, as the account's member list shows it. */
export function memberEntity(config: EntityConfiguration) {
  return new CheckedModelEntity(
    {
      model: { entity: "member", version: "1", service: "cp" },
      attributes: {
        accountId: { type: "string", required: true, readOnly: true },
        email: { type: "string", required: true, readOnly: true },
        firstName: { type: "string" },
        lastName: { type: "string" },
        role: { type: roles, required: true },
        seller: { type: "boolean", required: true, default: false },
        partnerAdmin: { type: "boolean", required: true, default: false },
        status: { type: memberStatuses, required: true },
        invitedAt: { type: "string", required: true },
        joinedAt: { type: "string" },
        /** Licences the member holds here: removing the member is conditioned on it, so no licence is left behind. */
        licenceCount: { type: "number", required: true, default: 0 },
        /** A partner's selling owner asked for the weekly mail of the trials ending within 7 days in its reach. */
        trialDigest: { type: "boolean" },
        /** The one invitation that may activate this member: re-inviting or withdrawing voids older tokens. */
        invitationId: { type: "string" },
      },
      indexes: {
        // Members of an account, by e-mail.
        byAccount: {
          pk: { field: "pk", composite: ["accountId"] },
          sk: { field: "sk", composite: ["email"] },
        },
      },
    },
    config,
  );
}
