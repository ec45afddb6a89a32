import * as z from "zod";
import type { DeviceKeys } from "../../infra/device-keys.js";
import type { EquipmentRecord, EquipmentTenantRecord, ExtensionAssignmentRecord } from "../../infra/store.js";
import type { Deps, Session } from "../context.js";
import { NotFound } from "../errors.js";
import * as PartnerAdmin from "../partner-admin.js";
import { authorize } from "../rights.js";
import type { Reach } from "../rights.js";
import * as V from "../validation.js";
import type * as NumberingPlans from "./numbering-plans.js";
import { MAX_ATTEMPTS } from "./codes.js";

/** What the equipment use cases share: limits, shapes, input rules, loading a PBX with the caller's rights. */

// ---------------------------------------------------------------- constants

export { CODE_DIGITS, MAX_ATTEMPTS } from "./codes.js";
/** An unused code expires after 7 days (like invitations); the admin regenerates it. */
export const CODE_DAYS = 7;
import { HEARTBEAT_TIMEOUT_MS } from "./liveness.js";
export { HEARTBEAT_TIMEOUT_MS };
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
export const byServerType = new Map(serverTypes.map((t) => [t.id, t]));

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

export function present(e: EquipmentRecord, tenant?: TenantView): Info {
  const { codeDigest: _digest, ...rest } = e;
  return tenant ? { ...rest, tenant } : rest;
}

/** The connection state at `now`: a paired PBX that missed heartbeats for 10 minutes is DISCONNECTED. */
export function statusOf(e: Pick<EquipmentRecord, "status" | "lastSeenAt">, now: Date): Status {
  if (e.status === "PENDING") return "PENDING";
  return e.lastSeenAt && now.getTime() - new Date(e.lastSeenAt).getTime() <= HEARTBEAT_TIMEOUT_MS
    ? "CONNECTED"
    : "DISCONNECTED";
}

/** Locked: five codes were tried on the current one; only a regenerated code unlocks. */
export function isLocked(e: Pick<EquipmentRecord, "status" | "failedAttempts">): boolean {
  return e.status === "PENDING" && e.failedAttempts >= MAX_ATTEMPTS;
}

// ---------------------------------------------------------------- validation

export const digits = (min: number, max: number, what: string) =>
  z
    .string()
    .trim()
    .regex(new RegExp(`^[0-9]{${min},${max}}$`), `must be ${min === max ? min : `${min} to ${max}`} digits${what}`);

const serverTypeId = z
  .string()
  .trim()
  .refine((v) => byServerType.has(v), `must be one of ${serverTypes.map((t) => t.id).join(", ")}`);

/** An extension number as PBXs report them: 2 to 8 digits. */
export const extension = digits(2, 8, "");
/** OTEC-S company prefixes ("8210 - Greentree"). */
export const companyPrefix = digits(1, 8, "");

/**
 * The numbering plans (libphonenumber-js with its "max" metadata, about 190 KB of the API's bundle):
 * loaded when the first number is checked, so a cold start that checks none does not pay for them.
 */
let numberingPlans: Promise<typeof NumberingPlans> | undefined;
const loadNumberingPlans = () => (numberingPlans ??= import("./numbering-plans.js"));

/**
 * A public number (DDI) in E.164, checked against the numbering plans. An asynchronous rule (the
 * plans load on first use): schemas holding it are parsed with `V.parseAsync`.
 */
export const publicNumber = z
  .string()
  .trim()
  .max(20, "must be an E.164 number such as +447848311690")
  .transform(async (v, ctx) => {
    const valid = /^\+[1-9][0-9]{6,14}$/.test(v) ? (await loadNumberingPlans()).validE164(v) : undefined;
    if (valid) return valid;
    ctx.addIssue({ code: "custom", message: "must be a valid E.164 number such as +447848311690" });
    return z.NEVER;
  });

export const equipmentKey = z.object({ accountId: z.string().min(1), equipmentId: z.string().min(1) });
export type Key = z.input<typeof equipmentKey>;

export const declareInput = z.object({
  accountId: z.string().min(1),
  name: V.name,
  serverType: serverTypeId,
  country: V.country,
  /** The digits dialled to reach the public network (Rainbow "outbound prefix"); none when absent. */
  outboundPrefix: digits(1, 4, "").nullish(),
});
export type DeclareInput = z.input<typeof declareInput>;

// ---------------------------------------------------------------- helpers

export async function keysOf(deps: Deps): Promise<DeviceKeys> {
  const keys = typeof deps.deviceKeys === "function" ? await deps.deviceKeys() : deps.deviceKeys;
  if (!keys) throw new Error("no device signing key is configured (DEVICE_SIGNING_KEY)");
  return keys;
}

/** An equipment the caller may act on with `action` on its owner account (same NotFound for unknown and invisible). */
export async function load(s: Session, key: Key, action: "equipment.manage" | "account.read") {
  const ref = V.parse(equipmentKey, key);
  const [ms, account, equipment] = await Promise.all([
    s.memberships(),
    s.account(ref.accountId),
    s.deps.store.getEquipment(ref.accountId, ref.equipmentId),
  ]);
  const reach = authorize(s.actor, ms, account, action, s.now);
  if (!equipment || equipment.removing) throw new NotFound("Equipment");
  return { account: account!, equipment, reach, ms };
}

export const audit = (reach: Reach) => PartnerAdmin.onBehalfOf(reach);
