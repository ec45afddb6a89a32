import { CheckedModelEntity } from "./entity.js";
import type { EntityConfiguration } from "electrodb";

/** Stored connection states; DISCONNECTED is not stored: it is CONNECTED without a recent heartbeat. */
export const equipmentStatuses = ["PENDING", "CONNECTED"] as const;

/**
 * A PBX declared on an account (Rainbow "Declare a new device"). It lives in the account's own
 * partition, so deleting the account deletes it. The activation code is stored only as a keyed
 * digest (`codeDigest`), and removed once used.
 */
export function equipmentEntity(config: EntityConfiguration) {
  return new CheckedModelEntity(
    {
      model: { entity: "equipment", version: "1", service: "cp" },
      attributes: {
        accountId: { type: "string", required: true, readOnly: true },
        equipmentId: { type: "string", required: true, readOnly: true },
        /** `PBX` + 128 random bits in hex, grouped by four: what the admin types into the PBX. */
        deviceId: { type: "string", required: true, readOnly: true },
        name: { type: "string", required: true },
        serverType: { type: "string", required: true, readOnly: true },
        multiTenant: { type: "boolean", required: true, readOnly: true },
        country: { type: "string", required: true },
        outboundPrefix: { type: "string" },
        status: { type: equipmentStatuses, required: true },
        /** Keyed digest of the pending activation code; absent once used (single use). */
        codeDigest: { type: "string" },
        codeExpiresAt: { type: "string" },
        /** Activation attempts reserved on the current code; 5 locks the device until a new code. */
        failedAttempts: { type: "number", required: true, default: 0 },
        /** The `ver` claim device credentials must carry; bumped when the code is regenerated. */
        credentialVersion: { type: "number", required: true, default: 1 },
        /** Why the last activation attempt on this PBX failed, and when (admins see it; the PBX gets the uniform answer). */
        lastActivationFailure: { type: ["WRONG_CODE", "EXPIRED", "LOCKED", "ALLOWANCE"] as const },
        lastActivationFailureAt: { type: "string" },
        connectedAt: { type: "string" },
        lastSeenAt: { type: "string" },
        /** Written with every `lastSeenAt`: the shard of the liveness index (core/equipment/liveness.ts). */
        livenessShard: { type: "string" },
        /** Set by the liveness sweep when the heartbeats stopped (lastSeenAt + 10 minutes); removed by the next one. */
        disconnectedAt: { type: "string" },
        /** Customers attached to a multi-tenant PBX. */
        tenantCount: { type: "number", required: true, default: 0 },
        extensionCount: { type: "number", required: true, default: 0 },
        extensionsReportedAt: { type: "string" },
        /** Set while removeEquipment clears its tenants and extensions: nothing new attaches meanwhile. */
        removing: { type: "boolean" },
        createdAt: { type: "string", required: true, readOnly: true },
        createdBy: { type: "string", required: true, readOnly: true },
        updatedAt: { type: "string", required: true },
      },
      indexes: {
        // Equipment of an account (the "Equipments" tab), in the account's partition.
        byAccount: {
          pk: { field: "pk", composite: ["accountId"] },
          sk: { field: "sk", composite: ["equipmentId"] },
        },
        // Paired PBXs by their last heartbeat, in a few shards: the sweep finds those whose heartbeats
        // stopped since its last run with one Query per shard (sparse: only items with lastSeenAt).
        byLiveness: {
          index: "gsi3",
          pk: { field: "gsi3pk", composite: ["livenessShard"] },
          sk: { field: "gsi3sk", composite: ["lastSeenAt"] },
        },
        // The PBX activates with its device id only (no token, no account): one lookup by it.
        byDevice: {
          index: "gsi2",
          pk: { field: "gsi2pk", composite: ["deviceId"] },
          sk: { field: "gsi2sk", composite: [] },
        },
      },
    },
    config,
  );
}

/**
 * The extensions a PBX last reported, one item per equipment (kept off the equipment item so
 * that lists of equipment stay small). Replaced as a whole on each report.
 */
export function equipmentExtensionsEntity(config: EntityConfiguration) {
  return new CheckedModelEntity(
    {
      model: { entity: "equipmentExtensions", version: "1", service: "cp" },
      attributes: {
        accountId: { type: "string", required: true, readOnly: true },
        equipmentId: { type: "string", required: true, readOnly: true },
        numbers: { type: "list", items: { type: "string" }, required: true },
        reportedAt: { type: "string", required: true },
      },
      indexes: {
        byEquipment: {
          pk: { field: "pk", composite: ["accountId"] },
          sk: { field: "sk", composite: ["equipmentId"] },
        },
      },
    },
    config,
  );
}

/**
 * A company prefix taken on a multi-tenant PBX. Its key is the uniqueness: created with a
 * not-exists condition, so two customers never share a prefix on one PBX.
 */
export function equipmentPrefixEntity(config: EntityConfiguration) {
  return new CheckedModelEntity(
    {
      model: { entity: "equipmentPrefix", version: "1", service: "cp" },
      attributes: {
        accountId: { type: "string", required: true, readOnly: true },
        equipmentId: { type: "string", required: true, readOnly: true },
        companyPrefix: { type: "string", required: true, readOnly: true },
        customerId: { type: "string", required: true, readOnly: true },
      },
      indexes: {
        byPrefix: {
          pk: { field: "pk", composite: ["accountId"] },
          sk: { field: "sk", composite: ["equipmentId", "companyPrefix"] },
        },
      },
    },
    config,
  );
}

/** A customer attached to a partner's multi-tenant PBX, in the partner's partition (one per customer and PBX). */
export function equipmentTenantEntity(config: EntityConfiguration) {
  return new CheckedModelEntity(
    {
      model: { entity: "equipmentTenant", version: "1", service: "cp" },
      attributes: {
        accountId: { type: "string", required: true, readOnly: true },
        equipmentId: { type: "string", required: true, readOnly: true },
        customerId: { type: "string", required: true, readOnly: true },
        companyPrefix: { type: "string", required: true, readOnly: true },
        attachedAt: { type: "string", required: true, readOnly: true },
        attachedBy: { type: "string", required: true, readOnly: true },
        /** Moved by every extension association of the tenant: a detach conditions on the value it read. */
        lastAssignmentAt: { type: "string" },
        /** Set while detachEquipmentTenant removes more associations than one transaction holds: none is added meanwhile. */
        detaching: { type: "boolean" },
      },
      indexes: {
        // Tenants of a PBX, by customer id.
        byEquipment: {
          pk: { field: "pk", composite: ["accountId"] },
          sk: { field: "sk", composite: ["equipmentId", "customerId"] },
        },
      },
    },
    config,
  );
}

/**
 * The customer's side of a tenancy: a pointer to the partner's PBX in the customer's own
 * partition, so the customer lists the shared PBX with its own equipment.
 */
export function sharedEquipmentEntity(config: EntityConfiguration) {
  return new CheckedModelEntity(
    {
      model: { entity: "sharedEquipment", version: "1", service: "cp" },
      attributes: {
        customerId: { type: "string", required: true, readOnly: true },
        equipmentId: { type: "string", required: true, readOnly: true },
        ownerId: { type: "string", required: true, readOnly: true },
        companyPrefix: { type: "string", required: true, readOnly: true },
        attachedAt: { type: "string", required: true, readOnly: true },
      },
      indexes: {
        byCustomer: {
          pk: { field: "pk", composite: ["customerId"] },
          sk: { field: "sk", composite: ["equipmentId"] },
        },
      },
    },
    config,
  );
}

/**
 * A member associated with a PBX extension and a public number (Rainbow "Phone" tab). Keyed by
 * (PBX, extension) in the PBX owner's partition: one member per extension, whoever asks.
 */
export function extensionAssignmentEntity(config: EntityConfiguration) {
  return new CheckedModelEntity(
    {
      model: { entity: "extensionAssignment", version: "1", service: "cp" },
      attributes: {
        accountId: { type: "string", required: true, readOnly: true },
        equipmentId: { type: "string", required: true, readOnly: true },
        extension: { type: "string", required: true, readOnly: true },
        /** The member's account: the PBX owner, or a tenant customer of a shared PBX. */
        customerId: { type: "string", required: true },
        email: { type: "string", required: true },
        publicNumber: { type: "string", required: true },
        assignedAt: { type: "string", required: true },
        assignedBy: { type: "string", required: true },
      },
      indexes: {
        // Extensions of a PBX (removed with it).
        byEquipment: {
          pk: { field: "pk", composite: ["accountId"] },
          sk: { field: "sk", composite: ["equipmentId", "extension"] },
        },
        // The phone numbers of an account's members, across its own and shared PBXs.
        byCustomer: {
          index: "gsi1",
          pk: { field: "gsi1pk", composite: ["customerId"] },
          sk: { field: "gsi1sk", composite: ["equipmentId", "extension"] },
        },
      },
    },
    config,
  );
}
