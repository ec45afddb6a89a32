import { claimsDeviceAudience } from "../../infra/device-keys.js";
import type { Page, TxEntities } from "../../infra/store.js";
import type { Actor } from "../actor.js";
import * as Audit from "../audit.js";
import type { Deps, Session } from "../context.js";
import { Conflict, Forbidden, Invalid, Unauthenticated } from "../errors.js";
import { paged } from "../paging.js";
import type { PageArgs } from "../paging.js";
import { guard } from "../tx.js";
import { MAX_EXTENSIONS, keysOf } from "./common.js";
import { alive } from "./liveness.js";
import type { Status, Assignment } from "./common.js";
import * as Cond from "../../infra/store/conditions.js";

/** The PBX's own calls with its device credential: heartbeats, extension reports, its associations. */

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

/**
 * What every extension report writes on the PBX: its count and instant, and a heartbeat (the PBX is
 * alive: a disconnection mark goes); only for the current credential of a paired PBX.
 */
function reportedOp(
  e: TxEntities,
  d: { accountId: string; equipmentId: string; version: number },
  count: number,
  at: string,
) {
  return e.equipment
    .patch({ accountId: d.accountId, equipmentId: d.equipmentId })
    .set({ extensionCount: count, extensionsReportedAt: at, lastSeenAt: at, ...alive(d.equipmentId), updatedAt: at })
    .remove(["disconnectedAt"])
    .where(Cond.connectedAs(d.version))
    .commit();
}

/** The PBX is alive: `lastSeenAt` moves (only for the current credential of a paired PBX). */
export async function heartbeat(s: Session): Promise<{ lastSeenAt: string; status: Status }> {
  const d = device(s);
  const at = s.now.toISOString();
  if (!(await s.deps.store.touchEquipment(d.accountId, d.equipmentId, d.version, at, alive(d.equipmentId))))
    throw revoked();
  return { lastSeenAt: at, status: "CONNECTED" };
}

/**
 * The PBX reports its extensions (Rainbow: provisioned "after the first connection"); the set
 * replaces the previous one. Associations of extensions no longer reported are kept (a PBX may
 * report a partial list during maintenance); admins remove them with the equipment.
 */
export async function reportExtensions(
  s: Session,
  numbers: readonly string[],
): Promise<{ count: number; reportedAt: string }> {
  const d = device(s);
  checkExtensions("numbers", numbers);
  const set = [...new Set(numbers)].sort((a, b) => a.length - b.length || (a < b ? -1 : a > b ? 1 : 0));
  const at = s.now.toISOString();
  const k = { accountId: d.accountId, equipmentId: d.equipmentId };
  await s.transact(
    (e) => [
      reportedOp(e, d, set.length, at),
      e.equipmentExtensions.put({ ...k, numbers: set, reportedAt: at }).commit(),
      Audit.entry(e, {
        accountId: d.accountId,
        action: "equipment.extensionsReported",
        actor: s.actor,
        at: s.now,
        subjectId: d.equipmentId,
        details: { count: set.length },
      }).commit(),
    ],
    { otherwise: () => revoked() },
  );
  return { count: set.length, reportedAt: at };
}

/** Extensions: 2 to 8 digits each (a report or a change of one). */
function checkExtensions(field: string, numbers: readonly string[]): void {
  if (!Array.isArray(numbers)) throw Invalid.field(field, "must be a list of extension numbers");
  if (numbers.length > MAX_EXTENSIONS) throw Invalid.field(field, `must hold at most ${MAX_EXTENSIONS} extensions`);
  const issues = numbers.flatMap((n, i) =>
    typeof n === "string" && /^[0-9]{2,8}$/.test(n)
      ? []
      : [{ path: [field, String(i)], message: "must be 2 to 8 digits" }],
  );
  if (issues.length) throw new Invalid(issues.slice(0, 20));
}

/**
 * The PBX (its credential only) reports what changed since its last report, beside the full
 * replacement of `reportExtensions`: so a large PBX can send its extensions in pieces. Conditioned on
 * the report it read: two changes at once never lose one another (the second is told to send again).
 */
export async function reportExtensionChanges(
  s: Session,
  added: readonly string[],
  removed: readonly string[],
): Promise<{ count: number; reportedAt: string }> {
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
          ? e.equipmentExtensions
              .put({ ...k, numbers: set, reportedAt: at })
              .where(Cond.reportedAt(current.reportedAt))
              .commit()
          : e.equipmentExtensions.create({ ...k, numbers: set, reportedAt: at }).commit(),
        () => new Conflict("The extensions were reported meanwhile; send the change again"),
      ),
      reportedOp(e, d, set.length, at),
      Audit.entry(e, {
        accountId: d.accountId,
        action: "equipment.extensionsChanged",
        actor: s.actor,
        at: s.now,
        subjectId: d.equipmentId,
        details: { added: added.length, removed: removed.length, count: set.length },
      }).commit(),
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
  return paged(args, (limit, cursor) =>
    s.deps.store.listEquipmentAssignments(d.accountId, d.equipmentId, limit, cursor),
  );
}
