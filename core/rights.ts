import type { AccountRecord, Membership } from "../infra/store.js";
import type { Actor } from "./actor.js";
import { Forbidden, NotFound } from "./errors.js";
import type { ForbiddenReason } from "./errors.js";

/** The vendor's root account. Its members are the platform operators. */
export const PLATFORM_ID = "PLATFORM";

export type Role = Membership["role"];
type AccountView = Pick<
  AccountRecord,
  "id" | "kind" | "path" | "canCreateAccounts" | "canUpdateSubscriptions" | "canDecreaseSubscriptions"
> &
  Partial<
    Pick<AccountRecord, "canCreateEquipment" | "partnerAdminOptIn" | "partnerAdminOptInUntil" | "partnerAdminGrantees">
  >;

/**
 * How a caller reaches an account: by a membership on it, from above (seller or operator), and/or
 * as a reseller's partner admin on behalf of a customer that opted in (Circuit).
 */
export interface Reach {
  readonly own?: Membership;
  readonly above?: { readonly via: "seller" | "operator" | "system"; readonly role: Role };
  /** The caller's role on the PLATFORM account, kept apart: a seller role above never masks it. */
  readonly operator?: Role;
  readonly onBehalf?: { readonly resellerId: string };
}

const rank: Record<Role, number> = { VIEWER: 0, CONTRIBUTOR: 1, OWNER: 2 };
const writer = (role: Role | undefined) => role === "OWNER" || role === "CONTRIBUTOR";

/**
 * Reach of an actor over an account. Members of a partner with the SELLER flag reach its whole
 * subtree; operators (members of the platform) reach everything (Rainbow seller/admin matrix).
 */
export function reachOf(
  actor: Actor,
  memberships: Readonly<Record<string, Membership>>,
  account: AccountView,
  now?: Date,
): Reach {
  if (actor.type === "system") return { above: { via: "system", role: "OWNER" } };
  if (actor.type !== "user" && actor.type !== "client") return {};
  const own = memberships[account.id];
  let above: Reach["above"];
  let onBehalf: Reach["onBehalf"];
  const operator = memberships[PLATFORM_ID]?.role;
  for (const ancestorId of account.path) {
    const m = memberships[ancestorId];
    if (!m) continue;
    // PARTNER_ADMIN (only ever granted on resellers and distributors with the capability) reaches an
    // opted-in customer below it (a distributor's, only its direct customers), while the opt-in holds;
    // decided at each request, so revocation and expiry bite at once.
    if (
      m.partnerAdmin &&
      now &&
      optedIn(account, now) &&
      grantedTo(account, ancestorId) &&
      mayAdminister(account.path, ancestorId)
    )
      onBehalf = { resellerId: ancestorId };
    const via = ancestorId === PLATFORM_ID ? "operator" : m.seller ? "seller" : undefined;
    if (!via) continue;
    if (!above || rank[m.role] > rank[above.role]) above = { via, role: m.role };
  }
  return {
    ...(own ? { own } : {}),
    ...(above ? { above } : {}),
    ...(operator && account.path.includes(PLATFORM_ID) ? { operator } : {}),
    ...(onBehalf ? { onBehalf } : {}),
  };
}

/**
 * Whether the customer's opt-in was granted to this reseller (one above it when it opted in and
 * still above). Opt-ins recorded before grantees were kept name none: they were given to the
 * resellers above then, which are the ones above now as long as nothing moved (a move records them).
 */
export function grantedTo(account: Pick<AccountView, "partnerAdminGrantees">, resellerId: string): boolean {
  return account.partnerAdminGrantees === undefined || account.partnerAdminGrantees.includes(resellerId);
}

/** Whether partner admins of this account may administer customers (it sells to customers: a reseller or a distributor). */
export function administers(a: Pick<AccountView, "kind">): boolean {
  return a.kind === "RESELLER" || a.kind === "DISTRIBUTOR";
}

/**
 * Whether `partnerId` may be granted a customer's opt-in: a reseller above it, or the distributor
 * it is the direct customer of (a distributor acts as reseller only there). `path` is the
 * customer's (the platform first, its distributor second).
 */
export function mayAdminister(path: readonly string[], partnerId: string): boolean {
  const distributor = path[1];
  return partnerId !== distributor || path.length === 2;
}

/** Whether a customer's partner-admin opt-in holds at `now`. */
export function optedIn(account: AccountView, now: Date): boolean {
  return (
    account.kind === "CUSTOMER" &&
    account.partnerAdminOptIn === true &&
    (!account.partnerAdminOptInUntil || new Date(account.partnerAdminOptInUntil) > now)
  );
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
  | "member.setSeller"
  | "catalog.manage"
  | "offers.setAvailable"
  | "order.place"
  | "subscription.increase"
  | "subscription.decrease"
  | "subscription.setDelegatedRights"
  | "licence.assign"
  | "equipment.declare"
  | "equipment.manage"
  | "account.setSupportEmail"
  | "account.setPartnerAdminOptIn"
  | "account.setPartnerAdminCapability"
  | "member.setPartnerAdmin"
  | "apiClient.manage"
  | "webhook.manage"
  | "events.read"
  | "ticket.open"
  | "ticket.handle"
  | "numbers.add"
  | "numbers.allocate"
  | "numbers.manage";

/**
 * What an API client may never do, whatever its role: manage people (members, invitations,
 * seller and partner-admin flags), accept moves or consent on its account's behalf, or manage API
 * clients (no escalation: a client cannot mint another client).
 */
const CLIENT_DENIED: ReadonlySet<Action> = new Set<Action>([
  "member.manage",
  "member.setSeller",
  "member.setPartnerAdmin",
  "account.acceptMove",
  "account.setPartnerAdminOptIn",
  "account.setPartnerAdminCapability",
  "apiClient.manage",
]);

/**
 * An authorised purchaser (OWNER or CONTRIBUTOR) of a partner account buying for the partner's own
 * company: no seller flag needed, which only widens the reach to the subtree (DESIGN 1, "People and rights").
 */
const sellsOwn = (r: Reach, a: AccountView) => a.kind !== "CUSTOMER" && a.kind !== "PLATFORM" && writer(r.own?.role);

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
  // Tenant administration of a customer belongs to its own admins (and operators, and partner
  // admins on behalf when it opted in); a partner's members may be managed by the sellers above it.
  "member.manage": (r, a) =>
    r.own?.role === "OWNER" ||
    !!r.onBehalf ||
    (r.above?.role === "OWNER" && (a.kind !== "CUSTOMER" || r.above.via !== "seller")),
  "member.setSeller": (r, a) => a.kind !== "CUSTOMER" && (r.own?.role === "OWNER" || r.above?.role === "OWNER"),
  // Operators run the catalog (DESIGN 1, "People and rights").
  "catalog.manage": (r, a) => a.kind === "PLATFORM" && (r.own?.role === "OWNER" || r.above?.via === "system"),
  // "Edit Available Services" is done by the sellers above an account, never by the account itself.
  "offers.setAvailable": (r, a) => a.kind !== "PLATFORM" && writer(r.above?.role),
  // Creating subscriptions: sellers, for a partner's own company or any account below (Rainbow 5.4).
  "order.place": (r, a) => a.kind !== "PLATFORM" && (writer(r.above?.role) || sellsOwn(r, a)),
  // Managing quantities: sellers, or the account's own admins when a seller delegated it (Rainbow 5.4 "with rights").
  "subscription.increase": (r, a) =>
    writer(r.above?.role) || sellsOwn(r, a) || (writer(r.own?.role) && a.canUpdateSubscriptions),
  "subscription.decrease": (r, a) =>
    writer(r.above?.role) ||
    sellsOwn(r, a) ||
    (writer(r.own?.role) && a.canUpdateSubscriptions && a.canDecreaseSubscriptions),
  "subscription.setDelegatedRights": (r, a) => a.kind !== "PLATFORM" && writer(r.above?.role),
  // Licence allocation is tenant administration: the account's own admins (and operators), not its sellers.
  "licence.assign": (r) => writer(r.own?.role) || !!r.onBehalf || writer(r.operator) || r.above?.via === "system",
  // Declaring a PBX: the account's own admins (a reseller's only with canCreateEquipment), a seller
  // above a customer (Rainbow: the distributor creates the customer's PBX), operators, partner admins on behalf.
  "equipment.declare": (r, a) => equipment(r, a),
  "equipment.manage": (r, a) => equipment(r, a),
  "account.setSupportEmail": (r) =>
    r.own?.role === "OWNER" || !!r.onBehalf || writer(r.operator) || r.above?.via === "system",
  // Only the customer's own owners open (or close) their tenant to partner admins.
  "account.setPartnerAdminOptIn": (r, a) => a.kind === "CUSTOMER" && r.own?.role === "OWNER",
  // Resellers, and distributors for the customers they sell to directly (Circuit: "tier-1 partners
  // which have direct customers"; a distributor acts as reseller only for those).
  "account.setPartnerAdminCapability": (r, a) =>
    administers(a) && (r.operator === "OWNER" || r.above?.via === "system"),
  "member.setPartnerAdmin": (r, a) => administers(a) && r.own?.role === "OWNER",
  // API clients and webhook endpoints are the account's own settings: its OWNERs.
  "apiClient.manage": (r) => r.own?.role === "OWNER",
  "webhook.manage": (r) => r.own?.role === "OWNER",
  // The event feed: whoever sees the account (what they see of its subtree is decided by eventReach).
  "events.read": () => true,
  // Support tickets: any member of a customer (whatever its role), a partner admin on its behalf, or
  // a writer above it raising one for it; they are handled on the partner they were opened to, by
  // its own writers and the writers above it (Circuit: "Report Issue to Partner").
  "ticket.open": (r, a) => a.kind === "CUSTOMER" && (!!r.own || !!r.onBehalf || writer(r.above?.role)),
  "ticket.handle": (r, a) => a.kind !== "CUSTOMER" && (writer(r.own?.role) || writer(r.above?.role)),
  // The number inventory (EXPO.e "Adding Numbers"): operators add numbers to partners; the writers
  // above an account (sellers, operators) allocate to it from its parent's pool; the account's own
  // writers (a partner admin on behalf, the writers above) release its numbers and choose its main one.
  "numbers.add": (r, a) =>
    (a.kind === "DISTRIBUTOR" || a.kind === "RESELLER") && (writer(r.operator) || r.above?.via === "system"),
  "numbers.allocate": (r, a) => (a.kind === "RESELLER" || a.kind === "CUSTOMER") && writer(r.above?.role),
  "numbers.manage": (r, a) => a.kind !== "PLATFORM" && (writer(r.own?.role) || !!r.onBehalf || writer(r.above?.role)),
};

function equipment(r: Reach, a: AccountView): boolean {
  if (writer(r.operator) || r.above?.via === "system" || r.onBehalf) return true;
  if (a.kind === "CUSTOMER") return writer(r.own?.role) || (r.above?.via === "seller" && writer(r.above.role));
  if (a.kind === "RESELLER") return writer(r.own?.role) && a.canCreateEquipment === true;
  return a.kind === "DISTRIBUTOR" && writer(r.own?.role);
}

/**
 * A writing seller above a customer may invite the customer's owner while it has none (first setup,
 * or the owner's invitation lapsed); the caller checks `ownerCount` in its transaction.
 */
export function setsUpOwner(r: Reach, a: AccountView): boolean {
  return a.kind === "CUSTOMER" && r.above?.via === "seller" && writer(r.above.role);
}

/** True when the actor can see the account at all. */
export function isVisible(reach: Reach): boolean {
  return !!reach.own || !!reach.above || !!reach.onBehalf;
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
  /** Needed for partner admins on behalf (the opt-in may expire); without it they are not considered. */
  now?: Date,
): Reach {
  if (!account) throw new NotFound("Account");
  const reach = reachOf(actor, memberships, account, now);
  if (!isVisible(reach)) throw new NotFound("Account");
  if (actor.type === "client" && CLIENT_DENIED.has(action))
    throw new Forbidden("API clients do not manage people or clients", "ROLE");
  if (!rules[action](reach, account)) throw new Forbidden(undefined, denialReason(action, reach, account));
  return reach;
}

/** Actions that are tenant administration of a customer (its own admins, or partner admins with its opt-in). */
const tenantActions: ReadonlySet<Action> = new Set<Action>([
  "member.manage",
  "licence.assign",
  "equipment.declare",
  "equipment.manage",
  "account.setSupportEmail",
]);
/** Commercial work that reaches below an account only with the seller flag. */
const sellerActions: ReadonlySet<Action> = new Set<Action>([
  "account.listChildren",
  "account.createChild",
  "account.setResellerRights",
  "offers.setAvailable",
  "order.place",
  "subscription.increase",
  "subscription.decrease",
  "subscription.setDelegatedRights",
]);

/**
 * Why a visible account refuses `action` to this reach (ForbiddenError.reason): the first rule the
 * caller would have to change to be allowed, in the order a partner would look for it.
 */
function denialReason(action: Action, r: Reach, a: AccountView): ForbiddenReason {
  if (action === "catalog.manage") return a.kind === "PLATFORM" ? "OPERATOR_ONLY" : "NOT_APPLICABLE";
  if (action === "account.setPartnerAdminCapability") return administers(a) ? "OPERATOR_ONLY" : "NOT_APPLICABLE";
  if (action === "account.setPartnerAdminOptIn") return a.kind === "CUSTOMER" ? "ROLE" : "NOT_APPLICABLE";
  if (action === "member.setPartnerAdmin") return administers(a) ? "ROLE" : "NOT_APPLICABLE";
  if (action === "account.setResellerRights") return a.kind === "RESELLER" ? "ROLE" : "NOT_APPLICABLE";
  if (action === "member.setSeller" && a.kind === "CUSTOMER") return "NOT_APPLICABLE";
  if ((action === "ticket.open" && a.kind !== "CUSTOMER") || (action === "ticket.handle" && a.kind === "CUSTOMER"))
    return "NOT_APPLICABLE";
  if (action === "numbers.add")
    return a.kind === "DISTRIBUTOR" || a.kind === "RESELLER" ? "OPERATOR_ONLY" : "NOT_APPLICABLE";
  if (action === "numbers.allocate" && a.kind !== "RESELLER" && a.kind !== "CUSTOMER") return "NOT_APPLICABLE";
  if (
    (action === "account.createChild" && a.kind === "CUSTOMER") ||
    ((action === "order.place" || action === "offers.setAvailable") && a.kind === "PLATFORM")
  )
    return "NOT_APPLICABLE";
  if (
    action === "account.createChild" &&
    a.kind === "RESELLER" &&
    ownReachesBelow(r, a) &&
    writer(r.own?.role) &&
    !a.canCreateAccounts
  )
    return "RESELLER_RIGHTS";
  if ((action === "equipment.declare" || action === "equipment.manage") && a.kind === "RESELLER" && writer(r.own?.role))
    return "RESELLER_RIGHTS";
  if (tenantActions.has(action) && a.kind === "CUSTOMER" && !r.own && r.above?.via === "seller") return "NO_OPT_IN";
  if ((action === "subscription.increase" || action === "subscription.decrease") && writer(r.own?.role) && !r.above)
    return "NOT_DELEGATED";
  if (sellerActions.has(action) && r.own && !r.own.seller && writer(r.own.role) && !r.above && a.kind !== "CUSTOMER")
    return "NOT_SELLER";
  return "ROLE";
}

/** Same decision without throwing. */
export function allowed(
  actor: Actor,
  memberships: Readonly<Record<string, Membership>>,
  account: AccountView,
  action: Action,
  now?: Date,
): boolean {
  const reach = reachOf(actor, memberships, account, now);
  return isVisible(reach) && !(actor.type === "client" && CLIENT_DENIED.has(action)) && rules[action](reach, account);
}

/**
 * Unit prices and totals are the vendor's prices to the billed party: only its OWNERs and the
 * operators see them (DESIGN 1, "Prices"; Ribbon shows them to the Universal Partner's owner only).
 */
export function seesPrices(
  actor: Actor,
  memberships: Readonly<Record<string, Membership>>,
  billedPartyId: string | undefined,
): boolean {
  if (isOperator(actor, memberships)) return true;
  if (actor.type !== "user" && actor.type !== "client") return false;
  return billedPartyId !== undefined && memberships[billedPartyId]?.role === "OWNER";
}

/** Platform operators: the OWNERs of the PLATFORM account (DESIGN 1), and the system's own jobs. */
export function isOperator(actor: Actor, memberships: Readonly<Record<string, Membership>>): boolean {
  return (
    actor.type === "system" ||
    ((actor.type === "user" || actor.type === "client") && memberships[PLATFORM_ID]?.role === "OWNER")
  );
}
