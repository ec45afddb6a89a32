import { sameCodeDigest } from "../../infra/device-keys.js";
import type { EquipmentRecord } from "../../infra/store.js";
import type { Actor } from "../actor.js";
import * as Audit from "../audit.js";
import * as Limits from "../limits.js";
import type { Session } from "../context.js";
import { Forbidden } from "../errors.js";
import { guard } from "../tx.js";
import { CODE_DIGITS, MAX_ATTEMPTS, keysOf } from "./common.js";
import { alive } from "./liveness.js";
import * as Cond from "../../infra/store/conditions.js";

/** A PBX pairs itself: its device id and activation code, with no user token (Rainbow "Activate the device"). */

export type ActivationFailure = NonNullable<EquipmentRecord["lastActivationFailure"]>;

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
          // Admins see every attempt on their PBX (at most 5 per issued code); never the code tried,
          // nor who tried: the PBX calls without a token, and a token sent anyway may be a person of
          // another tenant, whose address the PBX's account must not learn.
          Audit.entry(e, {
            accountId: eq.accountId,
            action: "equipment.activationAttempted",
            actor: { type: "public" },
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
