import { CheckedModelEntity } from "./entity.js";
import type { EntityConfiguration } from "electrodb";
import { roles } from "./member.js";

export const invitationKinds = ["MEMBER", "ACCOUNT_MOVE"] as const;
export const invitationStatuses = ["PENDING", "ACCEPTED", "REVOKED"] as const;

/**
 * An invitation, keyed by the SHA-256 of its token (the token itself is only in the e-mail).
 * MEMBER invites a person onto an account; ACCOUNT_MOVE asks an account's owners to move it,
 * with its subtree, under a new parent.
 */
export function invitationEntity(config: EntityConfiguration) {
  return new CheckedModelEntity(
    {
      model: { entity: "invitation", version: "1", service: "cp" },
      attributes: {
        tokenHash: { type: "string", required: true, readOnly: true },
        id: { type: "string", required: true, readOnly: true },
        kind: { type: invitationKinds, required: true, readOnly: true },
        accountId: { type: "string", required: true, readOnly: true },
        email: { type: "string", required: true, readOnly: true },
        role: { type: roles },
        seller: { type: "boolean" },
        newParentId: { type: "string" },
        status: { type: invitationStatuses, required: true },
        invitedBy: { type: "string", required: true },
        createdAt: { type: "string", required: true, readOnly: true },
        validUntil: { type: "string", required: true },
        acceptedAt: { type: "string" },
        /** The reseller whose partner admin sent it on the customer's behalf: it lapses with that opt-in (security rule 7). */
        sentOnBehalfOf: { type: "string", readOnly: true },
        /** TTL (epoch seconds): DynamoDB removes stale invitations some time after this. */
        expiresAt: { type: "number", required: true },
      },
      indexes: {
        byToken: {
          pk: { field: "pk", composite: ["tokenHash"] },
          sk: { field: "sk", composite: [] },
        },
        // Invitations of an account, oldest first (the "Invitations" tab).
        byAccount: {
          index: "gsi3",
          pk: { field: "gsi3pk", composite: ["accountId"] },
          sk: { field: "gsi3sk", composite: ["createdAt", "id"] },
        },
      },
    },
    config,
  );
}
