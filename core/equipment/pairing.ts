import * as z from "zod";
import { newActivationCode, newDeviceId } from "../../infra/device-keys.js";
import { newId } from "../../infra/ids.js";
import type { EquipmentRecord } from "../../infra/store.js";
import { actorLabel } from "../actor.js";
import * as Audit from "../audit.js";
import type { Session } from "../context.js";
import { Conflict, Invalid, NotFound } from "../errors.js";
import { allowed, authorize } from "../rights.js";
import * as V from "../validation.js";
import {
  CODE_DIGITS,
  CODE_DAYS,
  byServerType,
  present,
  digits,
  equipmentKey,
  declareInput,
  keysOf,
  load,
} from "./common.js";
import { addDays } from "../time.js";
import { audit } from "./common.js";
import * as PartnerAdmin from "../partner-admin.js";
import type { Info, Pairing, Key, DeclareInput } from "./common.js";
import * as Cond from "../../infra/store/conditions.js";

/** Declaring, regenerating, updating and removing a PBX, and its activation with the device id and code (no token). */

// ---------------------------------------------------------------- declare, manage

/**
 * Declares a PBX on an account: a new device id and activation code, shown only in this answer.
 * Multi-tenant servers belong to partners (Rainbow: the partner's shared OTEC-S).
 */
export async function declare(s: Session, raw: DeclareInput): Promise<Pairing> {
  s.principal();
  const input = V.parse(declareInput, raw);
  const { account, reach } = await s.authorized(input.accountId, "equipment.declare");
  const type = byServerType.get(input.serverType)!;
  if (type.multiTenant && account!.kind !== "DISTRIBUTOR" && account!.kind !== "RESELLER") {
    throw Invalid.field(
      "serverType",
      "a multi-tenant server is shared by a partner's customers: declare it on the distributor or reseller account",
    );
  }
  const keys = await keysOf(s.deps);
  const now = s.now.toISOString();
  const code = newActivationCode(CODE_DIGITS);
  const equipmentId = newId();
  // 128 random bits: collisions are not a practical concern, so the id needs no uniqueness item.
  const deviceId = newDeviceId();
  const item: EquipmentRecord = {
    accountId: account!.id,
    equipmentId,
    deviceId,
    name: input.name,
    serverType: type.id,
    multiTenant: type.multiTenant,
    country: input.country,
    ...(input.outboundPrefix ? { outboundPrefix: input.outboundPrefix } : {}),
    status: "PENDING",
    codeDigest: keys.codeDigest(equipmentId, code),
    codeExpiresAt: addDays(s.now, CODE_DAYS).toISOString(),
    failedAttempts: 0,
    credentialVersion: 1,
    tenantCount: 0,
    extensionCount: 0,
    createdAt: now,
    createdBy: actorLabel(s.actor),
    updatedAt: now,
  };
  await s.transact((e) => [
    e.equipment.create(item).commit(),
    Audit.entry(e, {
      accountId: item.accountId,
      action: "equipment.declared",
      actor: s.actor,
      at: s.now,
      subjectId: equipmentId,
      details: { name: item.name, serverType: item.serverType },
      ...audit(reach),
    }).commit(),
    ...PartnerAdmin.behalfOps(e, s, reach, item.accountId, "equipment.declared", equipmentId),
  ]);
  return { equipment: present(item), deviceId, activationCode: code };
}

/**
 * "Manage connection": a new activation code. The old code stops working, failed attempts are
 * reset (unlocking the device), and the credential version moves on so the PBX's current
 * credential is refused at its next call: the PBX pairs again with the new code.
 */
export async function regenerateCode(s: Session, key: Key): Promise<Pairing> {
  s.principal();
  const { equipment: eq, reach } = await load(s, key, "equipment.manage");
  const keys = await keysOf(s.deps);
  const code = newActivationCode(CODE_DIGITS);
  const now = s.now.toISOString();
  const next: EquipmentRecord = {
    ...eq,
    status: "PENDING",
    codeDigest: keys.codeDigest(eq.equipmentId, code),
    codeExpiresAt: addDays(s.now, CODE_DAYS).toISOString(),
    failedAttempts: 0,
    credentialVersion: eq.credentialVersion + 1,
    updatedAt: now,
  };
  delete next.connectedAt;
  delete next.lastSeenAt;
  delete next.disconnectedAt;
  await s.transact(
    (e) => [
      e.equipment
        .patch({ accountId: eq.accountId, equipmentId: eq.equipmentId })
        .set({
          status: "PENDING",
          codeDigest: next.codeDigest!,
          codeExpiresAt: next.codeExpiresAt!,
          failedAttempts: 0,
          credentialVersion: next.credentialVersion,
          updatedAt: now,
        })
        .remove(["connectedAt", "lastSeenAt", "disconnectedAt"])
        .where(Cond.atCredential(eq.credentialVersion))
        .commit(),
      Audit.entry(e, {
        accountId: eq.accountId,
        action: "equipment.activationCodeRegenerated",
        actor: s.actor,
        at: s.now,
        subjectId: eq.equipmentId,
        ...audit(reach),
      }).commit(),
      ...PartnerAdmin.behalfOps(e, s, reach, eq.accountId, "equipment.activationCodeRegenerated", eq.equipmentId),
    ],
    { otherwise: () => new Conflict("The equipment changed meanwhile; reload and try again") },
  );
  return { equipment: present(next), deviceId: eq.deviceId, activationCode: code };
}

/**
 * Removes a PBX with its extension associations and tenants. The PBX is flagged first, so that
 * no tenant or association is added while they are deleted; a removal cut short is finished by
 * calling it again.
 */
export async function remove(s: Session, key: Key): Promise<Info> {
  s.principal();
  const ref = V.parse(equipmentKey, key);
  const [ms, account, eq] = await Promise.all([
    s.memberships(),
    s.account(ref.accountId),
    s.deps.store.getEquipment(ref.accountId, ref.equipmentId),
  ]);
  const reach = authorize(s.actor, ms, account, "equipment.manage", s.now);
  if (!eq) throw new NotFound("Equipment");
  const k = { accountId: eq.accountId, equipmentId: eq.equipmentId };
  if (!eq.removing) {
    await s.transact((e) => [e.equipment.patch(k).set({ removing: true, updatedAt: s.now.toISOString() }).commit()], {
      otherwise: () => new NotFound("Equipment"),
    });
  }
  const { tenants, assignments } = await s.deps.store.deleteEquipmentChildren(eq.accountId, eq.equipmentId);
  await s.transact(
    (e) => [
      e.equipment.delete(k).where(Cond.beingRemoved()).commit(),
      e.equipmentExtensions.delete(k).commit(),
      Audit.entry(e, {
        accountId: eq.accountId,
        action: "equipment.removed",
        actor: s.actor,
        at: s.now,
        subjectId: eq.equipmentId,
        details: { name: eq.name, tenants: tenants.length, extensionAssignments: assignments },
        ...audit(reach),
      }).commit(),
      ...PartnerAdmin.behalfOps(e, s, reach, eq.accountId, "equipment.removed", eq.equipmentId),
    ],
    // Another removal of the same PBX finished first.
    { otherwise: () => new NotFound("Equipment") },
  );
  return present({ ...eq, removing: true, tenantCount: 0 });
}

const updateInput = z
  .object({
    equipment: equipmentKey,
    name: V.absentIfNull(V.name),
    country: V.absentIfNull(V.country),
    /** null: the PBX dials out without a prefix. */
    outboundPrefix: digits(1, 4, "").nullable().optional(),
  })
  .refine((v) => v.name !== undefined || v.country !== undefined || v.outboundPrefix !== undefined, {
    path: ["name"],
    message: "give a name, country or outboundPrefix to change",
  });
export type UpdateInput = z.input<typeof updateInput>;

/** Renames a PBX or corrects its country or outbound prefix (Rainbow "Equipment information"); its pairing is untouched. */
export async function update(s: Session, raw: UpdateInput): Promise<Info> {
  s.principal();
  const input = V.parse(updateInput, raw);
  const { equipment: eq, reach } = await load(s, input.equipment, "equipment.manage");
  const set: { name?: string; country?: string; outboundPrefix?: string } = {};
  if (input.name !== undefined && input.name !== eq.name) set.name = input.name;
  if (input.country !== undefined && input.country !== eq.country) set.country = input.country;
  if (input.outboundPrefix && input.outboundPrefix !== eq.outboundPrefix) set.outboundPrefix = input.outboundPrefix;
  const clearPrefix = input.outboundPrefix === null && eq.outboundPrefix !== undefined;
  if (Object.keys(set).length === 0 && !clearPrefix) return present(eq);
  const now = s.now.toISOString();
  const k = { accountId: eq.accountId, equipmentId: eq.equipmentId };
  const details = { ...set, ...(clearPrefix ? { outboundPrefix: null } : {}) };
  await s.transact(
    (e) => {
      const patch = e.equipment.patch(k).set({ ...set, updatedAt: now });
      return [
        (clearPrefix ? patch.remove(["outboundPrefix"]) : patch).where(Cond.notRemoving()).commit(),
        Audit.entry(e, {
          accountId: eq.accountId,
          action: "equipment.updated",
          actor: s.actor,
          at: s.now,
          subjectId: eq.equipmentId,
          details,
          ...audit(reach),
        }).commit(),
        ...PartnerAdmin.behalfOps(e, s, reach, eq.accountId, "equipment.updated", eq.equipmentId),
      ];
    },
    { otherwise: () => new NotFound("Equipment") },
  );
  const next: EquipmentRecord = { ...eq, ...set, updatedAt: now };
  if (clearPrefix) delete next.outboundPrefix;
  return present(next);
}

/** Why activations fail, as admins see it (the PBX always gets the same refusal). */

/**
 * The last failed activation of a PBX, for those who manage it (its admins, partner admins on
 * behalf, operators); null for everyone else, and in a tenant's view of a shared PBX.
 */
export async function lastActivationFailure(
  s: Session,
  eq: Info,
): Promise<{ reason: ActivationFailure; at: string } | null> {
  if (eq.tenant || !eq.lastActivationFailure || !eq.lastActivationFailureAt) return null;
  const [ms, account] = await Promise.all([s.memberships(), s.account(eq.accountId)]);
  if (!account || !allowed(s.actor, ms, account, "equipment.manage", s.now)) return null;
  return { reason: eq.lastActivationFailure, at: eq.lastActivationFailureAt };
}

// ---------------------------------------------------------------- activation (the PBX, no token)

export { activate } from "./activation.js";
export type { Activation, ActivationFailure } from "./activation.js";
import type { ActivationFailure } from "./activation.js";
