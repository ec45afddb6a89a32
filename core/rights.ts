import type { AccountRecord, Membership } from "../infra/store.js";
import type { Actor } from "./actor.js";
import { Forbidden, NotFound } from "./errors.js";

/** The vendor's root account. Its members are the platform operators. */
export const PLATFORM_ID = "PLATFORM";

export type Role = Membership["role"];
type AccountView = Pick<AccountRecord, "id" | "kind" | "path" | "canCreateAccounts">;

/** How a caller reaches an account: by a membership on it, and/or from above (seller or operator). */
export interface Reach {
  readonly own?: Membership;
  readonly above?: { readonly via: "seller" | "operator" | "system"; readonly role: Role };
}

const rank: Record<Role, number> = { VIEWER: 0, CONTRIBUTOR: 1, OWNER: 2 };
const writer = (role: Role | undefined) => role === "OWNER" || role === "CONTRIBUTOR";

/**
 * Reach of an actor over an account. Members of a partner with the SELLER flag reach its whole
 * subtree; operators (members of the platform) reach everything (Rainbow seller/admin matrix).
 */
export function reachOf(actor: Actor, memberships: Readonly<Record<string, Membership>>, account: AccountView): Reach {
  if (actor.type === "system") return { above: { via: "system", role: "OWNER" } };
  if (actor.type !== "user") return {};
  const own = memberships[account.id];
  let above: Reach["above"];
  for (const ancestorId of account.path) {
    const m = memberships[ancestorId];
    if (!m) continue;
    const via = ancestorId === PLATFORM_ID ? "operator" : m.seller ? "seller" : undefined;
    if (!via) continue;
    if (!above || rank[m.role] > rank[above.role]) above = { via, role: m.role };
  }
  return { ...(own ? { own } : {}), ...(above ? { above } : {}) };
}

/** The actions on an account that rights are decided for. */
export type Action =
  | "account.read"
  | "account.update"
  | "account.listChildren"
  | "account.createChild"
  | "account.setResellerRights"
  | "account.acceptMove"
  | "member.manage"
  | "member.setSeller";

/** Whether the account's own members reach its subtree (seller flag, or the platform's people). */
const ownReachesBelow = (r: Reach, a: AccountView) => !!r.own && (r.own.seller || a.id === PLATFORM_ID);

const rules: Record<Action, (r: Reach, a: AccountView) => boolean> = {
  "account.read": () => true,
  "account.update": (r) => r.own?.role === "OWNER" || writer(r.above?.role),
  "account.listChildren": (r, a) => ownReachesBelow(r, a) || !!r.above,
  "account.createChild": (r, a) => {
    // Distributors are created by platform operators (owners) only.
    if (a.kind === "PLATFORM") return r.own?.role === "OWNER" || r.above?.via === "system";
    if (a.kind === "CUSTOMER") return false;
    if (writer(r.above?.role)) return true;
    // A reseller's own people create accounts only when the parent granted canCreateAccounts.
    return ownReachesBelow(r, a) && writer(r.own?.role) && (a.kind !== "RESELLER" || a.canCreateAccounts);
  },
  "account.setResellerRights": (r, a) => a.kind === "RESELLER" && writer(r.above?.role),
  "account.acceptMove": (r) => r.own?.role === "OWNER",
  // Tenant administration of a customer belongs to its own admins (and operators);
  // a partner's members may be managed by the sellers above it.
  "member.manage": (r, a) =>
    r.own?.role === "OWNER" ||
    (r.above?.role === "OWNER" && (a.kind !== "CUSTOMER" || r.above.via !== "seller")),
  "member.setSeller": (r, a) =>
    a.kind !== "CUSTOMER" && (r.own?.role === "OWNER" || r.above?.role === "OWNER"),
};

/** True when the actor can see the account at all. */
export function isVisible(reach: Reach): boolean {
  return !!reach.own || !!reach.above;
}

/**
 * Decides one action. An account the actor cannot see gives the same NotFound as an unknown id;
 * a visible account gives Forbidden.
 */
export function authorize(
  actor: Actor,
  memberships: Readonly<Record<string, Membership>>,
  account: AccountView | undefined,
  action: Action,
): Reach {
  if (!account) throw new NotFound("Account");
  const reach = reachOf(actor, memberships, account);
  if (!isVisible(reach)) throw new NotFound("Account");
  if (!rules[action](reach, account)) throw new Forbidden();
  return reach;
}

/** Same decision without throwing. */
export function allowed(
  actor: Actor,
  memberships: Readonly<Record<string, Membership>>,
  account: AccountView,
  action: Action,
): boolean {
  const reach = reachOf(actor, memberships, account);
  return isVisible(reach) && rules[action](reach, account);
}
