import * as z from "zod";
import { newActivationCode, newDeviceId, sameCodeDigest } from "../../infra/device-keys.js";
import { newId } from "../../infra/ids.js";
import type { EquipmentRecord } from "../../infra/store.js";
import type { Actor } from "../actor.js";
import { actorLabel } from "../actor.js";
import * as Audit from "../audit.js";
import * as Limits from "../limits.js";
import type { Session } from "../context.js";
import { Conflict, Forbidden, Invalid, NotFound } from "../errors.js";
import { allowed, authorize } from "../rights.js";
import { guard } from "../tx.js";
import * as V from "../validation.js";
import {
  CODE_DIGITS,
  MAX_ATTEMPTS,
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
import { alive } from "./liveness.js";
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
export type ActivationFailure = NonNullable<EquipmentRecord["lastActivationFailure"]>;

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

const DEVICE_ID = /^PBX[0-9a-f]{4}(?:-[0-9a-f]{4}){7}$/i;
const CODE = new RegExp(`^[0-9]{${CODE_DIGITS}}$`);

/**
 * The one answer to every failed activation (unknown device, wrong, expired, used or locked
 * code): the caller learns nothing about which it was, not even whether the device exists.
 */
const rejected = () => new Forbidden("Unknown device id or invalid activation code", "IDENTITY");

export interface Activation {
  readonly equipmentId: string;
  readonly accountId: string;
  /** The device credential (JWT): shown only in this answer. */
  readonly credential: string;
  readonly connectedAt: string;
}

/**
 * The PBX pairs itself. An attempt is reserved by a conditional increment (fewer than 5 so far,
 * code pending and not expired) BEFORE the code is evaluated, so no number of parallel or
 * sequential requests evaluates more than 5 codes per issued code. Unknown ids cost the same
 * round trips (a reservation that cannot match) and the same digest, and answer the same bytes.
 */
export async function activate(s: Session, raw: { deviceId: string; activationCode: string }): Promise<Activation> {
  const keys = await keysOf(s.deps);
  const deviceId = typeof raw.deviceId === "string" ? raw.deviceId.trim() : "";
  // Spaces and dashes are how people type codes (security rule 16): stripped. What is then not
  // 8 digits cannot be a code: refused with the same answer before anything is read or written,
  // so it never counts toward the 5 attempts (and says nothing about the device).
  const code =
    typeof raw.activationCode === "string" && raw.activationCode.length <= 64
      ? raw.activationCode.replace(/[\s-]/g, "")
      : "";
  if (!CODE.test(code)) throw rejected();
  const found = DEVICE_ID.test(deviceId) ? await s.deps.store.findEquipmentByDevice(deviceId) : undefined;
  const candidate =
    found && found.status === "PENDING" && found.codeDigest && found.codeExpiresAt && !found.removing
      ? found
      : undefined;
  const reserved = await reserveAttempt(s, candidate);
  // Evaluated in every case, after the reservation, so that refusals cost alike.
  const digest = keys.codeDigest(candidate?.equipmentId ?? "-", code);
  const match = reserved === "reserved" && CODE.test(code) && sameCodeDigest(digest, candidate!.codeDigest!);
  if (!match) {
    // Every refusal writes once more (the reason for the admins, or nothing for an unknown id): alike again.
    const reason = reserved === "reserved" ? "WRONG_CODE" : failureOf(found, reserved, s.now);
    await recordFailure(s, reason && found && !found.removing ? found : undefined, reason ?? "WRONG_CODE");
    throw rejected();
  }
  const eq = candidate!;
  const device: Actor = {
    type: "device",
    accountId: eq.accountId,
    equipmentId: eq.equipmentId,
    version: eq.credentialVersion,
  };
  const now = s.now.toISOString();
  await s.transact(
    (e) => [
      e.equipment
        .patch({ accountId: eq.accountId, equipmentId: eq.equipmentId })
        .set({
          status: "CONNECTED",
          connectedAt: now,
          lastSeenAt: now,
          ...alive(eq.equipmentId),
          failedAttempts: 0,
          updatedAt: now,
        })
        .remove(["codeDigest", "codeExpiresAt", "lastActivationFailure", "lastActivationFailureAt", "disconnectedAt"])
        // Single use: the code is gone after this write, and a regeneration meanwhile wins.
        .where(Cond.pendingWithCode(eq.codeDigest!, eq.credentialVersion))
        .commit(),
      Audit.entry(e, {
        accountId: eq.accountId,
        action: "equipment.activated",
        actor: device,
        at: s.now,
        subjectId: eq.equipmentId,
      }).commit(),
    ],
    { otherwise: () => rejected() },
  );
  const credential = await keys.credential(
    { accountId: eq.accountId, equipmentId: eq.equipmentId, version: eq.credentialVersion },
    s.now,
  );
  return { equipmentId: eq.equipmentId, accountId: eq.accountId, credential, connectedAt: now };
}

/**
 * Reserves one evaluation of the current code: +1 attempt, only while fewer than 5 were made,
 * the code is the one read and not expired. Without a candidate, the same kind of write is sent
 * for a key that cannot exist (it fails its condition and writes nothing).
 */
async function reserveAttempt(
  s: Session,
  eq: EquipmentRecord | undefined,
): Promise<"reserved" | "refused" | "allowance" | "none"> {
  const now = s.now.toISOString();
  try {
    const reserved = await s.transact(
      (e) => {
        if (!eq) return [e.equipment.patch({ accountId: "-", equipmentId: "-" }).add({ failedAttempts: 1 }).commit()];
        return [
          guard(
            e.equipment
              .patch({ accountId: eq.accountId, equipmentId: eq.equipmentId })
              .add({ failedAttempts: 1 })
              .where(Cond.attemptAllowed(MAX_ATTEMPTS, eq.codeDigest!, now))
              .commit(),
            () => new AttemptRefused("refused"),
          ),
          // Admins see every attempt on their PBX (at most 5 per issued code); never the code tried.
          Audit.entry(e, {
            accountId: eq.accountId,
            action: "equipment.activationAttempted",
            actor: s.actor,
            at: s.now,
            subjectId: eq.equipmentId,
          }).commit(),
          // And the account's allowance over all its PBXs: past it, every attempt is the same refusal, and spends nothing.
          guard(Limits.hitOp(e, s.deps, "activation", eq.accountId, s.now).op, () => new AttemptRefused("allowance")),
        ];
      },
      { otherwise: "skip" },
    );
    return reserved && eq ? "reserved" : "none";
  } catch (err) {
    // The code's own refusal first; the allowance's is told apart for the admins only.
    if (err instanceof AttemptRefused) return err.outcome;
    throw err;
  }
}

/** An attempt that reserved nothing, and why (internal to `reserveAttempt`). */
class AttemptRefused extends Error {
  constructor(readonly outcome: "refused" | "allowance") {
    super(outcome);
  }
}

/**
 * Why an attempt that reserved nothing failed, from what was read (the admins' view of it); none for
 * an unknown PBX or one with no pending code (paired already): nothing is noted on a paired PBX.
 */
function failureOf(
  found: EquipmentRecord | undefined,
  reserved: "refused" | "allowance" | "none",
  now: Date,
): ActivationFailure | undefined {
  if (found?.status !== "PENDING" || !found.codeDigest) return undefined;
  if (reserved === "allowance") return "ALLOWANCE";
  if (found.failedAttempts >= MAX_ATTEMPTS) return "LOCKED";
  if (!found.codeExpiresAt || new Date(found.codeExpiresAt) <= now) return "EXPIRED";
  // The code changed meanwhile (regenerated): the one tried is not the current one.
  return "WRONG_CODE";
}

/**
 * Notes the reason of a failed activation on the PBX for its admins (Equipment.lastActivationFailure).
 * Without a PBX the same kind of write is sent for a key that cannot exist (it fails and writes nothing).
 */
async function recordFailure(s: Session, eq: EquipmentRecord | undefined, reason: ActivationFailure): Promise<void> {
  const k = eq ? { accountId: eq.accountId, equipmentId: eq.equipmentId } : { accountId: "-", equipmentId: "-" };
  await s.transact(
    (e) => [
      e.equipment
        .patch(k)
        .set({ lastActivationFailure: reason, lastActivationFailureAt: s.now.toISOString() })
        .commit(),
    ],
    { otherwise: "skip" },
  );
}
