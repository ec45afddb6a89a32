import { parsePhoneNumberFromString } from "libphonenumber-js/max";
import * as z from "zod";
import { claimsDeviceAudience, newActivationCode, newDeviceId, sameCodeDigest } from "../infra/device-keys.js";
import type { DeviceKeys } from "../infra/device-keys.js";
import { newId } from "../infra/ids.js";
import type { AccountRecord, EquipmentRecord, EquipmentTenantRecord, ExtensionAssignmentRecord, Page, SharedEquipmentRecord } from "../infra/store.js";
import { BadCursor } from "../infra/store.js";
import type { Actor } from "./actor.js";
import { actorLabel } from "./actor.js";
import * as Audit from "./audit.js";
import * as Limits from "./limits.js";
import type { Deps, Session } from "./context.js";
import { Conflict, Forbidden, Invalid, NotFound, Unauthenticated, unlessHidden } from "./errors.js";
import * as PartnerAdmin from "./partner-admin.js";
import { paged, pageSize } from "./paging.js";
import type { PageArgs } from "./paging.js";
import { allowed, authorize } from "./rights.js";
import type { Reach } from "./rights.js";
import { guard } from "./tx.js";
import * as V from "./validation.js";

/**
 * Equipment pairing (DESIGN 1; Rainbow "Declare a new device", "Manage connection", multi-tenant
 * equipment, extensions). An admin declares a PBX and gets a device id and an activation code;
 * the PBX activates with both (no user token) and receives a device credential for its later
 * calls (extensions, heartbeats).
 */

// ---------------------------------------------------------------- constants

/**
 * Activation codes have 8 digits. A device allows MAX_ATTEMPTS = 5 evaluated codes per issued
 * code, so a guesser's chance per device and code is 5 / 10^8 = 1 in 20,000,000 (the bar is
 * 1 in a million, which 7 digits would just meet at 1 in 2,000,000; the eighth digit buys a
 * margin of 10 for one more keystroke on the PBX console). The device id (128 random bits)
 * must be known too, and only an admin's regeneration grants 5 more attempts.
 */
export const CODE_DIGITS = 8;
export const MAX_ATTEMPTS = 5;
/** An unused code expires after 7 days (like invitations); the admin regenerates it. */
export const CODE_DAYS = 7;
/** CONNECTED becomes DISCONNECTED when no heartbeat came for 10 minutes (decided at read time). */
export const HEARTBEAT_TIMEOUT_MS = 10 * 60_000;
/** Extensions one report may carry (a large PBX; keeps the reported set well under an item's 400 KB). */
export const MAX_EXTENSIONS = 10_000;

export type Status = "PENDING" | "CONNECTED" | "DISCONNECTED";

/** A kind of PBX the cloud pairs with (the demo catalog's server types). */
export interface ServerType {
  readonly id: string;
  readonly name: string;
  /** Shared by several customers of a partner, each with a company prefix (OTEC-S). */
  readonly multiTenant: boolean;
}

/** The server types (same ids, names and multiTenant as local/seed/demo-catalog.json). */
export const serverTypes: readonly ServerType[] = [
  { id: "OXO_CONNECT", name: "OXO Connect", multiTenant: false },
  { id: "OMNIPCX_OFFICE", name: "OmniPCX Office", multiTenant: false },
  { id: "OMNIPCX_ENTERPRISE", name: "OmniPCX Enterprise", multiTenant: false },
  { id: "OTEC_S", name: "OTEC-S", multiTenant: true },
];
const byServerType = new Map(serverTypes.map((t) => [t.id, t]));

export function serverType(id: string): ServerType | undefined {
  return byServerType.get(id);
}

// ---------------------------------------------------------------- shapes

/** How a customer attached to a partner's shared PBX sees it. */
export interface TenantView {
  readonly customerId: string;
  readonly companyPrefix: string;
}

/** An equipment as the API shows it: never its code digest; `tenant` when seen by an attached customer. */
export type Info = Omit<EquipmentRecord, "codeDigest"> & { readonly tenant?: TenantView };
export type Tenant = EquipmentTenantRecord;
export type Assignment = ExtensionAssignmentRecord;

/** The answer of declare and regenerate: the only times the code is ever shown. */
export interface Pairing {
  readonly equipment: Info;
  readonly deviceId: string;
  readonly activationCode: string;
}

function present(e: EquipmentRecord, tenant?: TenantView): Info {
  const { codeDigest: _digest, ...rest } = e;
  return tenant ? { ...rest, tenant } : rest;
}

/** The connection state at `now`: a paired PBX that missed heartbeats for 10 minutes is DISCONNECTED. */
export function statusOf(e: Pick<EquipmentRecord, "status" | "lastSeenAt">, now: Date): Status {
  if (e.status === "PENDING") return "PENDING";
  return e.lastSeenAt && now.getTime() - new Date(e.lastSeenAt).getTime() <= HEARTBEAT_TIMEOUT_MS ? "CONNECTED" : "DISCONNECTED";
}

/** Locked: five codes were tried on the current one; only a regenerated code unlocks. */
export function isLocked(e: Pick<EquipmentRecord, "status" | "failedAttempts">): boolean {
  return e.status === "PENDING" && e.failedAttempts >= MAX_ATTEMPTS;
}

// ---------------------------------------------------------------- validation

const digits = (min: number, max: number, what: string) =>
  z
    .string()
    .trim()
    .regex(new RegExp(`^[0-9]{${min},${max}}$`), `must be ${min === max ? min : `${min} to ${max}`} digits${what}`);

const serverTypeId = z
  .string()
  .trim()
  .refine((v) => byServerType.has(v), `must be one of ${serverTypes.map((t) => t.id).join(", ")}`);

/** An extension number as PBXs report them: 2 to 8 digits. */
const extension = digits(2, 8, "");
/** OTEC-S company prefixes ("8210 - Greentree"). */
const companyPrefix = digits(1, 8, "");

/** A public number (DDI) in E.164, checked against the numbering plans (libphonenumber "max" metadata). */
const publicNumber = z
  .string()
  .trim()
  .max(20, "must be an E.164 number such as +447848311690")
  .transform((v, ctx) => {
    const parsed = /^\+[1-9][0-9]{6,14}$/.test(v) ? parsePhoneNumberFromString(v) : undefined;
    if (parsed?.isValid() && parsed.number === v) return parsed.number;
    ctx.addIssue({ code: "custom", message: "must be a valid E.164 number such as +447848311690" });
    return z.NEVER;
  });

const equipmentKey = z.object({ accountId: z.string().min(1), equipmentId: z.string().min(1) });
export type Key = z.input<typeof equipmentKey>;

const declareInput = z.object({
  accountId: z.string().min(1),
  name: V.name,
  serverType: serverTypeId,
  country: V.country,
  /** The digits dialled to reach the public network (Rainbow "outbound prefix"); none when absent. */
  outboundPrefix: digits(1, 4, "").nullish(),
});
export type DeclareInput = z.input<typeof declareInput>;

// ---------------------------------------------------------------- helpers

async function keysOf(deps: Deps): Promise<DeviceKeys> {
  const keys = typeof deps.deviceKeys === "function" ? await deps.deviceKeys() : deps.deviceKeys;
  if (!keys) throw new Error("no device signing key is configured (DEVICE_SIGNING_KEY)");
  return keys;
}

const addDays = (at: Date, days: number) => new Date(at.getTime() + days * 86_400_000);

/** An equipment the caller may act on with `action` on its owner account (same NotFound for unknown and invisible). */
async function load(s: Session, key: Key, action: "equipment.manage" | "account.read") {
  const ref = V.parse(equipmentKey, key);
  const [ms, account, equipment] = await Promise.all([s.memberships(), s.account(ref.accountId), s.deps.store.getEquipment(ref.accountId, ref.equipmentId)]);
  const reach = authorize(s.actor, ms, account, action, s.now);
  if (!equipment || equipment.removing) throw new NotFound("Equipment");
  return { account: account!, equipment, reach, ms };
}

const audit = (reach: Reach) => PartnerAdmin.onBehalfOf(reach);

// ---------------------------------------------------------------- declare, manage

/**
 * Declares a PBX on an account: a new device id and activation code, shown only in this answer.
 * Multi-tenant servers belong to partners (Rainbow: the partner's shared OTEC-S).
 */
export async function declare(s: Session, raw: DeclareInput): Promise<Pairing> {
  s.principal();
  const input = V.parse(declareInput, raw);
  const [ms, account] = await Promise.all([s.memberships(), s.account(input.accountId)]);
  const reach = authorize(s.actor, ms, account, "equipment.declare", s.now);
  const type = byServerType.get(input.serverType)!;
  if (type.multiTenant && account!.kind !== "DISTRIBUTOR" && account!.kind !== "RESELLER") {
    throw Invalid.field("serverType", "a multi-tenant server is shared by a partner's customers: declare it on the distributor or reseller account");
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
    Audit.entry(e, { accountId: item.accountId, action: "equipment.declared", actor: s.actor, at: s.now, subjectId: equipmentId, details: { name: item.name, serverType: item.serverType }, ...audit(reach) }).commit(),
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
  await s.transact(
    (e) => [
      e.equipment
        .patch({ accountId: eq.accountId, equipmentId: eq.equipmentId })
        .set({ status: "PENDING", codeDigest: next.codeDigest!, codeExpiresAt: next.codeExpiresAt!, failedAttempts: 0, credentialVersion: next.credentialVersion, updatedAt: now })
        .remove(["connectedAt", "lastSeenAt"])
        .where((x, op) => `${op.eq(x.credentialVersion, eq.credentialVersion)} AND ${op.notExists(x.removing)}`)
        .commit(),
      Audit.entry(e, { accountId: eq.accountId, action: "equipment.activationCodeRegenerated", actor: s.actor, at: s.now, subjectId: eq.equipmentId, ...audit(reach) }).commit(),
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
  const [ms, account, eq] = await Promise.all([s.memberships(), s.account(ref.accountId), s.deps.store.getEquipment(ref.accountId, ref.equipmentId)]);
  const reach = authorize(s.actor, ms, account, "equipment.manage", s.now);
  if (!eq) throw new NotFound("Equipment");
  const k = { accountId: eq.accountId, equipmentId: eq.equipmentId };
  if (!eq.removing) {
    await s.transact((e) => [e.equipment.patch(k).set({ removing: true, updatedAt: s.now.toISOString() }).commit()], { otherwise: () => new NotFound("Equipment") });
  }
  const { tenants, assignments } = await s.deps.store.deleteEquipmentChildren(eq.accountId, eq.equipmentId);
  await s.transact(
    (e) => [
      e.equipment.delete(k).where((x, op) => op.eq(x.removing, true)).commit(),
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
    name: V.name.optional(),
    country: V.country.optional(),
    /** null: the PBX dials out without a prefix. */
    outboundPrefix: digits(1, 4, "").nullable().optional(),
  })
  .refine((v) => v.name !== undefined || v.country !== undefined || v.outboundPrefix !== undefined, { path: ["name"], message: "give a name, country or outboundPrefix to change" });
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
        (clearPrefix ? patch.remove(["outboundPrefix"]) : patch).where((x, op) => op.notExists(x.removing)).commit(),
        Audit.entry(e, { accountId: eq.accountId, action: "equipment.updated", actor: s.actor, at: s.now, subjectId: eq.equipmentId, details, ...audit(reach) }).commit(),
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
export async function lastActivationFailure(s: Session, eq: Info): Promise<{ reason: ActivationFailure; at: string } | null> {
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
  // Spaces and dashes are how people type codes (issue 12, rule 16): stripped. What is then not
  // 8 digits cannot be a code: refused with the same answer before anything is read or written,
  // so it never counts toward the 5 attempts (and says nothing about the device).
  const code = typeof raw.activationCode === "string" && raw.activationCode.length <= 64 ? raw.activationCode.replace(/[\s-]/g, "") : "";
  if (!CODE.test(code)) throw rejected();
  const found = DEVICE_ID.test(deviceId) ? await s.deps.store.findEquipmentByDevice(deviceId) : undefined;
  const candidate = found && found.status === "PENDING" && found.codeDigest && found.codeExpiresAt && !found.removing ? found : undefined;
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
  const device: Actor = { type: "device", accountId: eq.accountId, equipmentId: eq.equipmentId, version: eq.credentialVersion };
  const now = s.now.toISOString();
  await s.transact(
    (e) => [
      e.equipment
        .patch({ accountId: eq.accountId, equipmentId: eq.equipmentId })
        .set({ status: "CONNECTED", connectedAt: now, lastSeenAt: now, failedAttempts: 0, updatedAt: now })
        .remove(["codeDigest", "codeExpiresAt", "lastActivationFailure", "lastActivationFailureAt"])
        // Single use: the code is gone after this write, and a regeneration meanwhile wins.
        .where((x, op) => `${op.eq(x.status, "PENDING")} AND ${op.eq(x.codeDigest, eq.codeDigest!)} AND ${op.eq(x.credentialVersion, eq.credentialVersion)}`)
        .commit(),
      Audit.entry(e, { accountId: eq.accountId, action: "equipment.activated", actor: device, at: s.now, subjectId: eq.equipmentId }).commit(),
    ],
    { otherwise: () => rejected() },
  );
  const credential = await keys.credential({ accountId: eq.accountId, equipmentId: eq.equipmentId, version: eq.credentialVersion }, s.now);
  return { equipmentId: eq.equipmentId, accountId: eq.accountId, credential, connectedAt: now };
}

/**
 * Reserves one evaluation of the current code: +1 attempt, only while fewer than 5 were made,
 * the code is the one read and not expired. Without a candidate, the same kind of write is sent
 * for a key that cannot exist (it fails its condition and writes nothing).
 */
async function reserveAttempt(s: Session, eq: EquipmentRecord | undefined): Promise<"reserved" | "refused" | "allowance" | "none"> {
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
              .where(
                (x, op) =>
                  `${op.lt(x.failedAttempts, MAX_ATTEMPTS)} AND ${op.eq(x.status, "PENDING")} AND ${op.eq(x.codeDigest, eq.codeDigest!)} AND ${op.gt(x.codeExpiresAt, now)} AND ${op.notExists(x.removing)}`,
              )
              .commit(),
            () => new AttemptRefused("refused"),
          ),
          // Admins see every attempt on their PBX (at most 5 per issued code); never the code tried.
          Audit.entry(e, { accountId: eq.accountId, action: "equipment.activationAttempted", actor: s.actor, at: s.now, subjectId: eq.equipmentId }).commit(),
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
function failureOf(found: EquipmentRecord | undefined, reserved: "refused" | "allowance" | "none", now: Date): ActivationFailure | undefined {
  if (!found || found.status !== "PENDING" || !found.codeDigest) return undefined;
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
  await s.transact((e) => [e.equipment.patch(k).set({ lastActivationFailure: reason, lastActivationFailureAt: s.now.toISOString() }).commit()], { otherwise: "skip" });
}

// ---------------------------------------------------------------- device calls

/** Whether a bearer token claims to be a device credential (it is verified by `authenticate`). */
export function isDeviceCredential(token: string): boolean {
  return claimsDeviceAudience(token);
}

/** The device actor of a credential; throws when the signature, issuer or audience is wrong. */
export async function authenticate(deps: Deps, token: string): Promise<Actor> {
  const claims = await (await keysOf(deps)).verify(token);
  return { type: "device", ...claims };
}

type DeviceActor = Extract<Actor, { type: "device" }>;

function device(s: Session): DeviceActor {
  if (s.actor.type === "device") return s.actor;
  if (s.actor.type === "public") throw new Unauthenticated("A device credential is required");
  throw new Forbidden("Only the equipment itself reports to the cloud", "IDENTITY");
}

const revoked = () => new Unauthenticated("The device credential is no longer valid");

/** The PBX is alive: `lastSeenAt` moves (only for the current credential of a paired PBX). */
export async function heartbeat(s: Session): Promise<{ lastSeenAt: string; status: Status }> {
  const d = device(s);
  const at = s.now.toISOString();
  if (!(await s.deps.store.touchEquipment(d.accountId, d.equipmentId, d.version, at))) throw revoked();
  return { lastSeenAt: at, status: "CONNECTED" };
}

/**
 * The PBX reports its extensions (Rainbow: provisioned "after the first connection"); the set
 * replaces the previous one. Associations of extensions no longer reported are kept (a PBX may
 * report a partial list during maintenance); admins remove them with the equipment.
 */
export async function reportExtensions(s: Session, numbers: readonly string[]): Promise<{ count: number; reportedAt: string }> {
  const d = device(s);
  checkExtensions("numbers", numbers);
  const set = [...new Set(numbers)].sort((a, b) => a.length - b.length || (a < b ? -1 : a > b ? 1 : 0));
  const at = s.now.toISOString();
  const k = { accountId: d.accountId, equipmentId: d.equipmentId };
  await s.transact(
    (e) => [
      e.equipment
        .patch(k)
        .set({ extensionCount: set.length, extensionsReportedAt: at, lastSeenAt: at, updatedAt: at })
        .where((x, op) => `${op.eq(x.credentialVersion, d.version)} AND ${op.eq(x.status, "CONNECTED")} AND ${op.notExists(x.removing)}`)
        .commit(),
      e.equipmentExtensions.put({ ...k, numbers: set, reportedAt: at }).commit(),
      Audit.entry(e, { accountId: d.accountId, action: "equipment.extensionsReported", actor: s.actor, at: s.now, subjectId: d.equipmentId, details: { count: set.length } }).commit(),
    ],
    { otherwise: () => revoked() },
  );
  return { count: set.length, reportedAt: at };
}

/** Extensions: 2 to 8 digits each (a report or a change of one). */
function checkExtensions(field: string, numbers: readonly string[]): void {
  if (!Array.isArray(numbers)) throw Invalid.field(field, "must be a list of extension numbers");
  if (numbers.length > MAX_EXTENSIONS) throw Invalid.field(field, `must hold at most ${MAX_EXTENSIONS} extensions`);
  const issues = numbers.flatMap((n, i) => (typeof n === "string" && /^[0-9]{2,8}$/.test(n) ? [] : [{ path: [field, String(i)], message: "must be 2 to 8 digits" }]));
  if (issues.length) throw new Invalid(issues.slice(0, 20));
}

/**
 * The PBX (its credential only) reports what changed since its last report, beside the full
 * replacement of `reportExtensions`: so a large PBX can send its extensions in pieces. Conditioned on
 * the report it read: two changes at once never lose one another (the second is told to send again).
 */
export async function reportExtensionChanges(s: Session, added: readonly string[], removed: readonly string[]): Promise<{ count: number; reportedAt: string }> {
  const d = device(s);
  checkExtensions("added", added);
  checkExtensions("removed", removed);
  const k = { accountId: d.accountId, equipmentId: d.equipmentId };
  const current = await s.deps.store.reportedExtensionsItem(d.accountId, d.equipmentId);
  const gone = new Set(removed);
  const next = new Set([...(current?.numbers ?? []).filter((n) => !gone.has(n)), ...added]);
  if (next.size > MAX_EXTENSIONS) throw Invalid.field("added", `a PBX reports at most ${MAX_EXTENSIONS} extensions`);
  const set = [...next].sort((a, b) => a.length - b.length || (a < b ? -1 : a > b ? 1 : 0));
  const at = s.now.toISOString();
  await s.transact(
    (e) => [
      guard(
        current
          ? e.equipmentExtensions.put({ ...k, numbers: set, reportedAt: at }).where((x, op) => op.eq(x.reportedAt, current.reportedAt)).commit()
          : e.equipmentExtensions.create({ ...k, numbers: set, reportedAt: at }).commit(),
        () => new Conflict("The extensions were reported meanwhile; send the change again"),
      ),
      e.equipment
        .patch(k)
        .set({ extensionCount: set.length, extensionsReportedAt: at, lastSeenAt: at, updatedAt: at })
        .where((x, op) => `${op.eq(x.credentialVersion, d.version)} AND ${op.eq(x.status, "CONNECTED")} AND ${op.notExists(x.removing)}`)
        .commit(),
      Audit.entry(e, { accountId: d.accountId, action: "equipment.extensionsChanged", actor: s.actor, at: s.now, subjectId: d.equipmentId, details: { added: added.length, removed: removed.length, count: set.length } }).commit(),
    ],
    { otherwise: revoked },
  );
  return { count: set.length, reportedAt: at };
}

/** The PBX (its credential only) reads its extension associations, to provision its phones: member and public number, by extension. */
export async function ownAssignments(s: Session, args: PageArgs): Promise<Page<Assignment>> {
  const d = device(s);
  const eq = await s.deps.store.getEquipment(d.accountId, d.equipmentId);
  if (!eq || eq.removing || eq.credentialVersion !== d.version || eq.status !== "CONNECTED") throw revoked();
  return paged(args, (limit, cursor) => s.deps.store.listEquipmentAssignments(d.accountId, d.equipmentId, limit, cursor));
}

// ---------------------------------------------------------------- multi-tenant

const attachInput = z.object({ equipment: equipmentKey, customerId: z.string().min(1), companyPrefix });

/** Attaches under contention retry on a fresh read (the tenant count orders attaches on one PBX). */
const ATTACH_ATTEMPTS = 5;

/**
 * Attaches a customer to a partner's multi-tenant PBX with a company prefix (Rainbow "Management
 * of the Multi tenant equipment"): the PBX must have connected, the customer must sit below the
 * PBX's account, and the prefix must be free on that PBX (its own key item) and must not overlap
 * another tenant's (a prefix of it, or it of another: extension ranges would collide).
 */
export async function attachTenant(s: Session, raw: z.input<typeof attachInput>): Promise<{ equipment: Info; tenant: Tenant }> {
  s.principal();
  const input = V.parse(attachInput, raw);
  // Another attach (or a regeneration, or a removal) went first: decide again on fresh state.
  return s.optimistic({ attempts: ATTACH_ATTEMPTS, gaveUp: equipmentBusy }, async () => {
    const { equipment: eq, reach, ms } = await load(s, input.equipment, "equipment.manage");
    const customer = await s.account(input.customerId);
    authorize(s.actor, ms, customer, "account.read", s.now);
    const c = customer!;
    if (!eq.multiTenant) throw Invalid.field("equipmentId", "is not a multi-tenant server");
    if (c.kind !== "CUSTOMER") throw Invalid.field("customerId", "must be a customer account");
    if (!c.path.includes(eq.accountId)) throw Invalid.field("customerId", "must be a customer below the equipment's account");
    if (eq.status !== "CONNECTED") throw new Conflict("The equipment must have connected before customers are attached");
    const tenants = await s.deps.store.allEquipmentTenants(eq.accountId, eq.equipmentId);
    if (tenants.some((t) => t.customerId === c.id)) throw alreadyAttached();
    const clash = tenants.find((t) => t.companyPrefix.startsWith(input.companyPrefix) || input.companyPrefix.startsWith(t.companyPrefix));
    if (clash) throw new Conflict(clash.companyPrefix === input.companyPrefix ? `Company prefix ${input.companyPrefix} is already used on this equipment` : `Company prefix ${input.companyPrefix} overlaps prefix ${clash.companyPrefix} on this equipment`);
    const now = s.now.toISOString();
    const tenant: Tenant = { accountId: eq.accountId, equipmentId: eq.equipmentId, customerId: c.id, companyPrefix: input.companyPrefix, attachedAt: now, attachedBy: actorLabel(s.actor) };
    const shared: SharedEquipmentRecord = { customerId: c.id, equipmentId: eq.equipmentId, ownerId: eq.accountId, companyPrefix: input.companyPrefix, attachedAt: now };
    const details = { equipmentId: eq.equipmentId, customerId: c.id, companyPrefix: input.companyPrefix };
    await s.transact(
      (e) => [
        e.equipment
          .patch({ accountId: eq.accountId, equipmentId: eq.equipmentId })
          .add({ tenantCount: 1 })
          .set({ updatedAt: now })
          .where((x, op) => `${op.eq(x.tenantCount, eq.tenantCount)} AND ${op.eq(x.status, "CONNECTED")} AND ${op.notExists(x.removing)}`)
          .commit(),
        guard(e.equipmentPrefix.create({ accountId: eq.accountId, equipmentId: eq.equipmentId, companyPrefix: input.companyPrefix, customerId: c.id }).commit(), () => new Conflict(`Company prefix ${input.companyPrefix} is already used on this equipment`)),
        guard(e.equipmentTenant.create(tenant).commit(), alreadyAttached),
        guard(e.sharedEquipment.create(shared).commit(), alreadyAttached),
        Audit.entry(e, { accountId: eq.accountId, action: "equipment.tenantAttached", actor: s.actor, at: s.now, subjectId: eq.equipmentId, details, ...audit(reach) }).commit(),
        Audit.entry(e, { accountId: c.id, action: "equipment.attached", actor: s.actor, at: s.now, subjectId: eq.equipmentId, details }).commit(),
        ...PartnerAdmin.behalfOps(e, s, reach, eq.accountId, "equipment.tenantAttached", eq.equipmentId),
      ],
      { otherwise: "retry" },
    );
    return { equipment: present({ ...eq, tenantCount: eq.tenantCount + 1, updatedAt: now }), tenant };
  });
}

const alreadyAttached = () => new Conflict("The customer is already attached to this equipment");
const equipmentBusy = () => new Conflict("The equipment is busy; try again");

/** Customers attached to a multi-tenant PBX (the partner's view; "Companies" column). */
export async function tenants(s: Session, key: Key, args: PageArgs): Promise<Page<Tenant>> {
  const { equipment: eq } = await load(s, key, "account.read");
  return paged(args, (limit, cursor) => s.deps.store.listEquipmentTenants(eq.accountId, eq.equipmentId, limit, cursor));
}

const detachInput = z.object({ equipment: equipmentKey, customerId: z.string().min(1) });

/** Extension associations a detach removes in its own transaction; more go first in batches, the tenancy flagged `detaching`. */
export const DETACH_IN_ONE = 80;

/** What a detach did: the PBX after it, the tenancy removed, the associations removed with it. */
export interface Detachment {
  readonly equipment: Info;
  readonly tenant: Tenant;
  readonly extensionAssignments: number;
}

/**
 * Removes one customer from a partner's shared PBX (OTEC-S upkeep): its members' extension
 * associations there go, its company prefix is freed, the PBX no longer shows in its equipment.
 * One transaction when its associations fit in it; otherwise the tenancy is flagged first (no
 * association is added meanwhile), the associations are deleted in batches, then the tenancy: a
 * detach cut short is finished by calling it again.
 */
export async function detachTenant(s: Session, raw: z.input<typeof detachInput>): Promise<Detachment> {
  s.principal();
  const input = V.parse(detachInput, raw);
  // An association made or freed meanwhile, another detach or the PBX's removal went first: decide again.
  return s.optimistic({ attempts: ATTACH_ATTEMPTS, gaveUp: equipmentBusy }, async () => {
    const { equipment: eq, reach, ms } = await load(s, input.equipment, "equipment.manage");
    const customer = await s.account(input.customerId);
    authorize(s.actor, ms, customer, "account.read", s.now);
    const c = customer!;
    const k = { accountId: eq.accountId, equipmentId: eq.equipmentId };
    // The tenancy first, then its associations (consistent): an association made after this read moves `lastAssignmentAt`.
    const tenant = await s.deps.store.getEquipmentTenant(eq.accountId, eq.equipmentId, c.id);
    if (!tenant) throw Invalid.field("customerId", "is not attached to this equipment");
    let held = await s.deps.store.tenantAssignments(eq.accountId, eq.equipmentId, c.id);
    let removed = 0;
    if (tenant.detaching || held.length > DETACH_IN_ONE) {
      if (!tenant.detaching) {
        await s.transact((e) => [e.equipmentTenant.patch({ ...k, customerId: c.id }).set({ detaching: true }).commit()]);
        // What was added between the read and the flag is read again below.
        held = await s.deps.store.tenantAssignments(eq.accountId, eq.equipmentId, c.id);
      }
      await s.deps.store.deleteExtensionAssignments(eq.accountId, eq.equipmentId, held.map((a) => a.extension));
      removed = held.length;
      held = [];
    }
    const now = s.now.toISOString();
    const details = { equipmentId: eq.equipmentId, customerId: c.id, companyPrefix: tenant.companyPrefix, extensionAssignments: removed + held.length };
    await s.transact(
      (e) => [
        e.equipmentTenant
          .delete({ ...k, customerId: c.id })
          .where((x, op) => (tenant.detaching || removed > 0 ? op.eq(x.detaching, true) : tenant.lastAssignmentAt ? op.eq(x.lastAssignmentAt, tenant.lastAssignmentAt) : `${op.exists(x.customerId)} AND ${op.notExists(x.lastAssignmentAt)}`))
          .commit(),
        ...held.map((a) => e.extensionAssignment.delete({ ...k, extension: a.extension }).where((x, op) => op.eq(x.customerId, c.id)).commit()),
        e.equipmentPrefix.delete({ ...k, companyPrefix: tenant.companyPrefix }).commit(),
        e.sharedEquipment.delete({ customerId: c.id, equipmentId: eq.equipmentId }).commit(),
        e.equipment.patch(k).add({ tenantCount: -1 }).set({ updatedAt: now }).where((x, op) => op.notExists(x.removing)).commit(),
        Audit.entry(e, { accountId: eq.accountId, action: "equipment.tenantDetached", actor: s.actor, at: s.now, subjectId: eq.equipmentId, details, ...audit(reach) }).commit(),
        Audit.entry(e, { accountId: c.id, action: "equipment.detached", actor: s.actor, at: s.now, subjectId: eq.equipmentId, details }).commit(),
        ...PartnerAdmin.behalfOps(e, s, reach, eq.accountId, "equipment.tenantDetached", eq.equipmentId),
      ],
      { otherwise: "retry" },
    );
    return { equipment: present({ ...eq, tenantCount: eq.tenantCount - 1, updatedAt: now }), tenant, extensionAssignments: details.extensionAssignments };
  });
}

// ---------------------------------------------------------------- extensions

const assignInput = z.object({
  accountId: z.string().min(1),
  equipment: equipmentKey.nullish(),
  extension,
  email: V.email,
  publicNumber,
});
export type AssignInput = z.input<typeof assignInput>;

/**
 * Associates a member with a PBX extension and a public number (Rainbow "Phone" tab), by the
 * account's tenant admins. The extension must have been reported by the PBX; one member per
 * extension (the association is keyed by PBX and extension). A customer with exactly one PBX
 * (own or shared) gets it preselected; on a shared PBX, only extensions in its company prefix.
 */
export async function assignExtension(s: Session, raw: AssignInput): Promise<Assignment> {
  s.principal();
  const input = V.parse(assignInput, raw);
  const [ms, account] = await Promise.all([s.memberships(), s.account(input.accountId)]);
  const reach = authorize(s.actor, ms, account, "equipment.manage", s.now);
  const { equipment: eq, tenant } = input.equipment ? await usable(s, input.accountId, input.equipment) : await preselected(s, input.accountId);
  if (tenant && !input.extension.startsWith(tenant.companyPrefix)) {
    throw Invalid.field("extension", `must be in the account's company prefix ${tenant.companyPrefix} on this equipment`);
  }
  const [reported, member] = await Promise.all([s.deps.store.reportedExtensions(eq.accountId, eq.equipmentId), s.deps.store.getMember(input.accountId, input.email)]);
  if (!reported.includes(input.extension)) throw Invalid.field("extension", "is not an extension reported by the equipment");
  if (!member) throw new NotFound("Member");
  if (member.status !== "ACTIVE") throw Invalid.field("email", "the member has not accepted the invitation yet");
  const assignment: Assignment = {
    accountId: eq.accountId,
    equipmentId: eq.equipmentId,
    extension: input.extension,
    customerId: input.accountId,
    email: member.email,
    publicNumber: input.publicNumber,
    assignedAt: s.now.toISOString(),
    assignedBy: actorLabel(s.actor),
  };
  const equipmentGone = () => new NotFound("Equipment");
  await s.transact(
    (e) => [
      guard(
        e.extensionAssignment
          .put(assignment)
          // One member per extension: a free extension, or the same member's (a new public number).
          .where((a, op) => `${op.notExists(a.email)} OR (${op.eq(a.email, member.email)} AND ${op.eq(a.customerId, input.accountId)})`)
          .commit(),
        () => new Conflict(`Extension ${input.extension} is already associated with another member`),
      ),
      guard(
        e.equipment
          .check({ accountId: eq.accountId, equipmentId: eq.equipmentId })
          .where((x, op) => `${op.exists(x.status)} AND ${op.notExists(x.removing)}`)
          .commit(),
        equipmentGone,
      ),
      guard(
        e.member
          .check({ accountId: input.accountId, email: member.email })
          .where((m, op) => op.eq(m.status, "ACTIVE"))
          .commit(),
        () => new NotFound("Member"),
      ),
      // On a shared PBX, the tenancy must hold (not being detached); the mark makes a detach that read before this retry.
      ...(tenant
        ? [
            guard(
              e.equipmentTenant
                .patch({ accountId: eq.accountId, equipmentId: eq.equipmentId, customerId: input.accountId })
                .set({ lastAssignmentAt: `${s.now.toISOString()}#${newId()}` })
                .where((x, op) => op.notExists(x.detaching))
                .commit(),
              equipmentGone,
            ),
          ]
        : []),
      Audit.entry(e, {
        accountId: input.accountId,
        action: "equipment.extensionAssigned",
        actor: s.actor,
        at: s.now,
        subjectId: member.email,
        details: { equipmentId: eq.equipmentId, extension: input.extension, publicNumber: input.publicNumber },
        ...audit(reach),
      }).commit(),
      ...PartnerAdmin.behalfOps(e, s, reach, input.accountId, "equipment.extensionAssigned", member.email),
    ],
    { otherwise: equipmentBusy },
  );
  return assignment;
}

const unassignInput = z.object({ accountId: z.string().min(1), equipment: equipmentKey, extension });

/** Frees an extension of the account's members (a member left, or gets another number). */
export async function unassignExtension(s: Session, raw: z.input<typeof unassignInput>): Promise<Assignment> {
  s.principal();
  const input = V.parse(unassignInput, raw);
  const [ms, account, held] = await Promise.all([
    s.memberships(),
    s.account(input.accountId),
    s.deps.store.getExtensionAssignment(input.equipment.accountId, input.equipment.equipmentId, input.extension),
  ]);
  const reach = authorize(s.actor, ms, account, "equipment.manage", s.now);
  // Another tenant's extension on a shared PBX is none of this account's business: same as none.
  if (!held || held.customerId !== input.accountId) throw Invalid.field("extension", "is not associated with a member of this account");
  await s.transact(
    (e) => [
      e.extensionAssignment
        .delete({ accountId: held.accountId, equipmentId: held.equipmentId, extension: held.extension })
        .where((a, op) => `${op.eq(a.customerId, held.customerId)} AND ${op.eq(a.email, held.email)}`)
        .commit(),
      Audit.entry(e, {
        accountId: input.accountId,
        action: "equipment.extensionUnassigned",
        actor: s.actor,
        at: s.now,
        subjectId: held.email,
        details: { equipmentId: held.equipmentId, extension: held.extension },
        ...audit(reach),
      }).commit(),
      ...PartnerAdmin.behalfOps(e, s, reach, input.accountId, "equipment.extensionUnassigned", held.email),
    ],
    { otherwise: () => new Conflict("The association changed meanwhile; reload and try again") },
  );
  return held;
}

/** A PBX the account's members may be associated with: its own, or a partner's it is attached to. */
async function usable(s: Session, accountId: string, key: Key): Promise<{ equipment: EquipmentRecord; tenant?: TenantView }> {
  const ref = V.parse(equipmentKey, key, ["equipmentId"]);
  const [eq, shared] = await Promise.all([
    s.deps.store.getEquipment(ref.accountId, ref.equipmentId),
    ref.accountId === accountId ? undefined : s.deps.store.getSharedEquipment(accountId, ref.equipmentId),
  ]);
  if (!eq || eq.removing) throw new NotFound("Equipment");
  if (eq.accountId === accountId) return { equipment: eq };
  if (shared && shared.ownerId === eq.accountId) return { equipment: eq, tenant: { customerId: accountId, companyPrefix: shared.companyPrefix } };
  throw new NotFound("Equipment");
}

/** Rainbow: "The 'Device' field is automatically filled if only one system exists on this company". */
async function preselected(s: Session, accountId: string): Promise<{ equipment: EquipmentRecord; tenant?: TenantView }> {
  const [own, shared] = await Promise.all([
    s.deps.store.listEquipment(accountId, { connectedSince: s.now.toISOString(), limit: 2 }),
    s.deps.store.allSharedEquipment(accountId),
  ]);
  const count = own.items.length + shared.length;
  if (count === 0) throw Invalid.field("equipmentId", "the account has no equipment");
  if (count > 1 || own.hasNextPage) throw Invalid.field("equipmentId", "the account has several equipment: say which one");
  if (own.items[0]) return { equipment: own.items[0].node };
  return usable(s, accountId, { accountId: shared[0]!.ownerId, equipmentId: shared[0]!.equipmentId });
}

/** Extension associations of an account's members (own and shared PBXs), by PBX and extension. */
export async function assignments(s: Session, accountId: string, args: PageArgs): Promise<Page<Assignment>> {
  const [ms, account] = await Promise.all([s.memberships(), s.account(accountId)]);
  authorize(s.actor, ms, account, "account.read", s.now);
  return paged(args, (limit, cursor) => s.deps.store.listCustomerAssignments(accountId, { limit, cursor }));
}

/** Extension associations on a PBX: all of them for its owner's view, the customer's own in a tenant's view. */
export async function assignmentsOf(s: Session, eq: Info, args: PageArgs): Promise<Page<Assignment>> {
  if (eq.tenant) {
    const customerId = eq.tenant.customerId;
    const [ms, account] = await Promise.all([s.memberships(), s.account(customerId)]);
    authorize(s.actor, ms, account, "account.read", s.now);
    return paged(args, (limit, cursor) => s.deps.store.listCustomerAssignments(customerId, { equipmentId: eq.equipmentId, limit, cursor }));
  }
  await load(s, eq, "account.read");
  return paged(args, (limit, cursor) => s.deps.store.listEquipmentAssignments(eq.accountId, eq.equipmentId, limit, cursor));
}

/** The extensions the PBX reported (a tenant sees those in its company prefix): what admins pick from. */
export async function reportedExtensions(s: Session, eq: Info): Promise<string[]> {
  const numbers = await s.deps.store.reportedExtensions(eq.accountId, eq.equipmentId);
  return eq.tenant ? numbers.filter((n) => n.startsWith(eq.tenant!.companyPrefix)) : numbers;
}

// ---------------------------------------------------------------- reads

/** One equipment the caller may see (its owner account's readers), or NotFound. */
export async function get(s: Session, key: Key): Promise<Info> {
  return present((await load(s, key, "account.read")).equipment);
}

/** Like `get`, but undefined instead of NotFound (Relay `node`). */
export async function find(s: Session, key: Key): Promise<Info | undefined> {
  try {
    return await get(s, key);
  } catch (err) {
    if (err instanceof NotFound || err instanceof Forbidden || err instanceof Invalid) return undefined;
    throw err;
  }
}

export interface ListArgs extends PageArgs {
  readonly status?: Status | null;
}

/**
 * Equipment of an account, by id: its own, then the partners' shared PBXs it is attached to
 * (seen with its company prefix). DISCONNECTED and CONNECTED are decided by the clock now.
 * Cursors are "o<own cursor>" or "s<equipment id>" so one list pages through both.
 */
export async function list(s: Session, accountId: string, args: ListArgs): Promise<Page<Info>> {
  const [ms, account] = await Promise.all([s.memberships(), s.account(accountId)]);
  authorize(s.actor, ms, account, "account.read", s.now);
  const limit = pageSize(args);
  const after = args.after ?? null;
  if (after !== null && !/^[os][A-Za-z0-9+/=_-]{1,2048}$/.test(after)) throw Invalid.field("after", "is not a cursor of this list");
  const connectedSince = new Date(s.now.getTime() - HEARTBEAT_TIMEOUT_MS).toISOString();
  const items: { node: Info; cursor: string }[] = [];
  if (after === null || after.startsWith("o")) {
    let own: Page<EquipmentRecord>;
    try {
      own = await s.deps.store.listEquipment(accountId, { status: args.status ?? null, connectedSince, limit, cursor: after ? after.slice(1) : null });
    } catch (err) {
      if (err instanceof BadCursor) throw Invalid.field("after", "is not a cursor of this list");
      throw err;
    }
    items.push(...own.items.map((i) => ({ node: present(i.node), cursor: `o${i.cursor}` })));
    if (own.hasNextPage) return { items, hasNextPage: true };
  }
  const shared = await sharedOf(s, account!);
  const from = after?.startsWith("s") ? after.slice(1) : "";
  const rest = shared.filter((e) => e.equipmentId > from && (!args.status || statusOf(e, s.now) === args.status));
  const room = limit - items.length;
  items.push(...rest.slice(0, room).map((node) => ({ node, cursor: `s${node.equipmentId}` })));
  return { items, hasNextPage: rest.length > room };
}

/** The shared PBXs a customer is attached to, as it sees them, by equipment id. */
async function sharedOf(s: Session, account: AccountRecord): Promise<Info[]> {
  if (account.kind !== "CUSTOMER") return [];
  const links = await s.deps.store.allSharedEquipment(account.id);
  if (links.length === 0) return [];
  const items = await s.deps.store.getEquipments(links.map((l) => ({ accountId: l.ownerId, equipmentId: l.equipmentId })));
  return links
    .flatMap((l, i) => {
      const e = items[i];
      return e && !e.removing ? [present(e, { customerId: account.id, companyPrefix: l.companyPrefix })] : [];
    })
    .sort((a, b) => (a.equipmentId < b.equipmentId ? -1 : 1));
}

/** One customer attached to a multi-tenant PBX, in its owner's view (node lookups); undefined otherwise. */
export function findTenant(s: Session, key: Key, customerId: string): Promise<Tenant | undefined> {
  return unlessHidden(async () => {
    const { equipment: eq } = await load(s, key, "account.read");
    return s.deps.store.getEquipmentTenant(eq.accountId, eq.equipmentId, customerId);
  });
}

/**
 * One extension association (node lookups): the PBX owner's readers see all of them, a tenant
 * customer's readers those of its own members, as the lists show them; undefined otherwise.
 */
export function findAssignment(s: Session, key: Key, extension: string): Promise<Assignment | undefined> {
  return unlessHidden(async () => {
    const ref = V.parse(equipmentKey, key);
    const assignment = await s.deps.store.getExtensionAssignment(ref.accountId, ref.equipmentId, extension);
    if (!assignment) return undefined;
    const [ms, owner, customer] = await Promise.all([s.memberships(), s.account(ref.accountId), s.account(assignment.customerId)]);
    const reads = (a: typeof owner) => a !== undefined && allowed(s.actor, ms, a, "account.read", s.now);
    return reads(owner) || reads(customer) ? assignment : undefined;
  });
}
