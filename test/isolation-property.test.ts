/**
 * Tenant isolation and the rights rules, as properties over random channel trees (fast-check).
 *
 * Each run builds a world: the PLATFORM root, distributors, resellers (nested up to six reseller
 * levels), customers, random account flags (delegated rights, reseller rights, partner-admin opt-in
 * with an expiry before, at or after `now`), random people with random memberships (any role,
 * seller flag, partner-admin flag on resellers), platform staff among them, plus the system actor,
 * an anonymous caller and a paired device. After the opt-ins are given, random accounts move with
 * their subtrees (security rule 4): core's rule for what a move does to an opt-in is applied, and
 * the oracle keeps its own record of which resellers stayed above each customer since it opted in.
 *
 * The oracle below is written from DESIGN.md section 1 ("People and rights") on its own: it walks
 * up a parent map instead of reading `path`, keeps every source of a right apart (own membership,
 * platform staff, sellers above, partner admin on behalf) and never calls core/rights.ts. Where the
 * design is silent, the portal guides it cites decide (Rainbow 5.4 for subscriptions, Circuit for
 * administration on behalf); each rule names its source in one line.
 *
 * Every (caller, account, action) of a world is compared with `allowed` and `authorize`: NotFound
 * for an account the caller may not know, Forbidden for a visible one it may not touch. A failure
 * lists every disagreement of the (shrunk) world; fast-check prints the seed to replay it.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { Actor } from "../core/actor.js";
import { Forbidden, NotFound } from "../core/errors.js";
import * as Consent from "../core/consent.js";
import { PLATFORM_ID, allowed, authorize, isOperator, seesPrices } from "../core/rights.js";
import { readable } from "../core/events.js";
import type { Action } from "../core/rights.js";
import type { AccountRecord, Membership } from "../infra/store.js";

type Kind = AccountRecord["kind"];
type Role = Membership["role"];

/** Every action core decides; the `satisfies` makes a new action in core fail the type check here. */
const ACTIONS = Object.keys({
  "account.read": true,
  "account.update": true,
  "account.listChildren": true,
  "account.createChild": true,
  "account.setResellerRights": true,
  "account.acceptMove": true,
  "member.manage": true,
  "member.setSeller": true,
  "catalog.manage": true,
  "offers.setAvailable": true,
  "order.place": true,
  "subscription.increase": true,
  "subscription.decrease": true,
  "subscription.setDelegatedRights": true,
  "licence.assign": true,
  "equipment.declare": true,
  "equipment.manage": true,
  "account.setSupportEmail": true,
  "account.setPartnerAdminOptIn": true,
  "account.setPartnerAdminCapability": true,
  "member.setPartnerAdmin": true,
  "apiClient.manage": true,
  "webhook.manage": true,
  "events.read": true,
  "ticket.open": true,
  "ticket.handle": true,
  "numbers.add": true,
  "numbers.allocate": true,
  "numbers.manage": true,
} satisfies Record<Action, true>) as Action[];

const ROLES: readonly Role[] = ["OWNER", "CONTRIBUTOR", "VIEWER"];
const ROOT = "PLATFORM";
const DAY = 86_400_000;

// ---------------------------------------------------------------------------------------------
// Worlds
// ---------------------------------------------------------------------------------------------

interface Acc {
  readonly id: string;
  readonly kind: Kind;
  /** Absent for the root only. */
  readonly parentId?: string;
  readonly canCreateAccounts: boolean;
  readonly canUpdateSubscriptions: boolean;
  readonly canDecreaseSubscriptions: boolean;
  readonly canCreateEquipment: boolean;
  readonly partnerAdminOptIn?: boolean;
  readonly partnerAdminOptInUntil?: string;
  /** The resellers the opt-in is granted to (core keeps it across moves with Consent.afterMove). */
  readonly partnerAdminGrantees?: string[];
}

interface Person {
  readonly name: string;
  readonly memberships: Readonly<Record<string, Membership>>;
}

interface World {
  readonly now: Date;
  readonly accounts: readonly Acc[];
  readonly people: readonly Person[];
  /**
   * The oracle's own record of consent (security rule 4), kept apart from the accounts: for each
   * opted-in customer, the resellers that have been above it without a break since it opted in.
   */
  readonly consent: ReadonlyMap<string, ReadonlySet<string>>;
  /** The moves applied after the world was built ("<account> -> <new parent>"), for failure reports. */
  readonly moves: readonly string[];
}

const parentMaps = new WeakMap<World, ReadonlyMap<string, Acc>>();
/** The accounts of a world by id (its parent map), built once per world. */
function byId(world: World): ReadonlyMap<string, Acc> {
  let index = parentMaps.get(world);
  if (!index) {
    index = new Map(world.accounts.map((a) => [a.id, a]));
    parentMaps.set(world, index);
  }
  return index;
}

/** DESIGN 1 "Account hierarchy": allowed parent -> child kinds. */
const CHILD_KINDS: Record<Kind, readonly Kind[]> = {
  PLATFORM: ["DISTRIBUTOR"],
  DISTRIBUTOR: ["RESELLER", "CUSTOMER"],
  RESELLER: ["RESELLER", "CUSTOMER"],
  CUSTOMER: [],
};
/** DESIGN 1 "Account hierarchy": sub-resellers nest up to depth 6. */
const MAX_RESELLER_LEVELS = 6;

/** Strict ancestors, nearest first, by following parent ids (never `path`). */
function ancestors(parents: ReadonlyMap<string, Acc>, acc: Acc): Acc[] {
  const out: Acc[] = [];
  for (let id = acc.parentId; id !== undefined; ) {
    const up = parents.get(id);
    if (!up) throw new Error(`dangling parent ${id}`);
    out.push(up);
    id = up.parentId;
  }
  return out;
}

const flagsArb = fc.record({
  canCreateAccounts: fc.boolean(),
  canUpdateSubscriptions: fc.boolean(),
  canDecreaseSubscriptions: fc.boolean(),
  canCreateEquipment: fc.boolean(),
  partnerAdminOptIn: fc.option(fc.boolean(), { nil: undefined }),
  /** Expiry relative to `now`: past, the very instant, or future. */
  optInUntil: fc.option(fc.constantFrom(-DAY, -1, 0, 1, DAY), { nil: undefined }),
});

const accountSpecArb = fc.record({
  /** -1: under the newest account that may have children (builds deep reseller chains). */
  parentPick: fc.oneof(fc.constant(-1), fc.nat()),
  kindPick: fc.nat(),
  flags: flagsArb,
});

const membershipSpecArb = fc.record({
  at: fc.nat(),
  role: fc.constantFrom(...ROLES),
  seller: fc.boolean(),
  partnerAdmin: fc.boolean(),
});

const personSpecArb = fc.record({
  memberships: fc.array(membershipSpecArb, { maxLength: 4 }),
  /** Platform staff, more often than a random pick of the root would give. */
  platform: fc.option(fc.constantFrom(...ROLES), { nil: undefined, freq: 2 }),
});

const worldArb: fc.Arbitrary<World> = fc
  .record({
    now: fc.date({ min: new Date("2025-01-01T00:00:00Z"), max: new Date("2030-01-01T00:00:00Z"), noInvalidDate: true }),
    rootFlags: flagsArb,
    /** First a distributor, then a chain of resellers below it: deep trees, and the six-level limit. */
    spine: fc.array(flagsArb, { maxLength: 8 }),
    specs: fc.array(accountSpecArb, { maxLength: 10 }),
    people: fc.array(personSpecArb, { minLength: 1, maxLength: 5 }),
    /** Accounts moved (with their subtrees) under other parents after the opt-ins were given. */
    moveSpecs: fc.array(fc.record({ who: fc.nat(), to: fc.nat() }), { maxLength: 4 }),
  })
  .map(({ now, rootFlags, spine, specs, people, moveSpecs }) => {
    const flagsOf = (f: typeof rootFlags) => ({
      canCreateAccounts: f.canCreateAccounts,
      canUpdateSubscriptions: f.canUpdateSubscriptions,
      canDecreaseSubscriptions: f.canDecreaseSubscriptions,
      canCreateEquipment: f.canCreateEquipment,
      ...(f.partnerAdminOptIn !== undefined ? { partnerAdminOptIn: f.partnerAdminOptIn } : {}),
      ...(f.optInUntil !== undefined
        ? { partnerAdminOptInUntil: new Date(now.getTime() + f.optInUntil).toISOString() }
        : {}),
    });
    const accounts: Acc[] = [{ id: ROOT, kind: "PLATFORM", ...flagsOf(rootFlags) }];
    const index = new Map<string, Acc>([[ROOT, accounts[0] as Acc]]);
    const resellerLevel = (a: Acc) => [a, ...ancestors(index, a)].filter((x) => x.kind === "RESELLER").length;
    const childKinds = (p: Acc) =>
      CHILD_KINDS[p.kind].filter((k) => k !== "RESELLER" || resellerLevel(p) + 1 <= MAX_RESELLER_LEVELS);
    const spineSpecs = spine.map((flags, i) => ({ parentPick: -1, kindPick: i === 0 ? 0 : -1, flags }));
    for (const spec of [...spineSpecs, ...specs]) {
      const parents = accounts.filter((a) => childKinds(a).length > 0);
      const parent = spec.parentPick === -1 ? parents[parents.length - 1] : parents[spec.parentPick % parents.length];
      if (!parent) continue;
      const kinds = childKinds(parent);
      // kindPick -1 (the spine): a reseller where one may sit, else the first kind allowed.
      const kind = (
        spec.kindPick === -1
          ? kinds.includes("RESELLER")
            ? "RESELLER"
            : kinds[0]
          : kinds[spec.kindPick % kinds.length]
      ) as Kind;
      const acc: Acc = { id: `${kind[0]}${accounts.length}`, kind, parentId: parent.id, ...flagsOf(spec.flags) };
      accounts.push(acc);
      index.set(acc.id, acc);
    }
    const persons: Person[] = people.map((p, i) => {
      const memberships: Record<string, Membership> = {};
      if (p.platform) memberships[ROOT] = { role: p.platform, seller: false, partnerAdmin: false };
      for (const m of p.memberships) {
        const acc = accounts[m.at % accounts.length] as Acc;
        // DESIGN 1 / Circuit: the PARTNER_ADMIN flag exists on resellers' and distributors' members only.
        memberships[acc.id] = {
          role: m.role,
          seller: m.seller,
          partnerAdmin: m.partnerAdmin && (acc.kind === "RESELLER" || acc.kind === "DISTRIBUTOR"),
        };
      }
      return { name: `p${i}`, memberships };
    });
    // Opt-ins are given to the resellers above the customer at that moment, and to its distributor
    // when the customer is a direct one (Circuit: a distributor acts as reseller only there).
    const consent = new Map<string, Set<string>>();
    const resellersAbove = (a: Acc) =>
      ancestors(index, a)
        .filter((x) => x.kind === "RESELLER" || (x.kind === "DISTRIBUTOR" && x.id === a.parentId))
        .map((x) => x.id);
    for (const [i, a] of accounts.entries()) {
      if (a.kind !== "CUSTOMER" || a.partnerAdminOptIn !== true) continue;
      const grantees = resellersAbove(a);
      consent.set(a.id, new Set(grantees));
      accounts[i] = { ...a, partnerAdminGrantees: grantees };
      index.set(a.id, accounts[i] as Acc);
    }
    // Then accounts move, each with its subtree, wherever DESIGN 1 lets them.
    const moves: string[] = [];
    const subtreeOf = (a: Acc) =>
      accounts.filter((x) => x.id === a.id || ancestors(index, x).some((up) => up.id === a.id));
    for (const m of moveSpecs) {
      const who = accounts[1 + (m.who % Math.max(1, accounts.length - 1))];
      const to = accounts[m.to % accounts.length];
      if (!who || !to || who.kind === "PLATFORM" || to.id === who.parentId || !CHILD_KINDS[to.kind].includes(who.kind))
        continue;
      const moving = subtreeOf(who);
      if (moving.some((x) => x.id === to.id)) continue;
      // Reseller levels after the move: those above the new parent, plus those within the moved subtree.
      const above = [to, ...ancestors(index, to)].filter((x) => x.kind === "RESELLER").length;
      const within = (x: Acc) =>
        [x, ...ancestors(index, x)]
          .slice(0, [x, ...ancestors(index, x)].findIndex((y) => y.id === who.id) + 1)
          .filter((y) => y.kind === "RESELLER").length;
      if (moving.some((x) => above + within(x) > MAX_RESELLER_LEVELS)) continue;
      const moved = { ...who, parentId: to.id };
      accounts[accounts.indexOf(who)] = moved;
      index.set(moved.id, moved);
      moves.push(`${who.id} -> ${to.id}`);
      for (const x of subtreeOf(moved)) {
        const now = ancestors(index, x).map((up) => up.id);
        const held = consent.get(x.id);
        // A grantee no longer above loses the consent; a distributor, once the customer is no longer its direct one.
        const directParent = x.parentId;
        const isDistributor = (id: string) => index.get(id)?.kind === "DISTRIBUTOR";
        if (held)
          for (const r of [...held]) if (!now.includes(r) || (isDistributor(r) && r !== directParent)) held.delete(r);
        if (x.partnerAdminOptIn !== true || !x.partnerAdminGrantees) continue;
        // core's rule for what a move does to an opt-in
        const { kept } = Consent.afterMove(x.partnerAdminGrantees, [...now].reverse()); // a path: the root first
        const { partnerAdminGrantees: _g, partnerAdminOptInUntil: _u, ...rest } = x;
        const next: Acc =
          kept.length > 0 ? { ...x, partnerAdminGrantees: kept } : { ...rest, partnerAdminOptIn: false };
        accounts[accounts.indexOf(x)] = next;
        index.set(next.id, next);
      }
    }
    return { now, accounts, people: persons, consent, moves };
  });

/** What core reads of an account: its fields and the root-to-parent path, rebuilt from the parent map. */
function view(world: World, acc: Acc) {
  return {
    ...acc,
    path: ancestors(byId(world), acc)
      .map((a) => a.id)
      .reverse(),
  };
}

interface Caller {
  readonly label: string;
  readonly actor: Actor;
  readonly memberships: Readonly<Record<string, Membership>>;
}

/** The people as signed-in users, and the callers that are not people (given someone's memberships, which they must ignore). */
function callers(world: World): Caller[] {
  const someone = world.people[0]?.memberships ?? {};
  const lastAccount = world.accounts[world.accounts.length - 1] as Acc;
  return [
    ...world.people.map((p) => ({
      label: p.name,
      actor: { type: "user", subject: p.name, email: `${p.name}@example.com`, emailVerified: true } as const,
      memberships: p.memberships,
    })),
    // An API client holds one seat (its role and seller flag) on its own account; the most
    // powerful one (an OWNER seller) on every account of the world.
    ...world.accounts.map((a) => ({
      label: `client of ${a.id}`,
      actor: {
        type: "client",
        clientId: `C-${a.id}`,
        accountId: a.id,
        name: "robot",
        role: "OWNER",
        seller: true,
      } as const,
      memberships: { [a.id]: { role: "OWNER", seller: true, partnerAdmin: false } } as Record<string, Membership>,
    })),
    { label: "system", actor: { type: "system", job: "property" }, memberships: someone },
    { label: "public", actor: { type: "public" }, memberships: someone },
    {
      label: "device",
      actor: { type: "device", accountId: lastAccount.id, equipmentId: "E1", version: 1 },
      memberships: someone,
    },
  ];
}

// ---------------------------------------------------------------------------------------------
// The oracle (DESIGN.md section 1, independent of core/rights.ts)
// ---------------------------------------------------------------------------------------------

type Verdict = "allowed" | "forbidden" | "notFound";

/** Where a caller stands towards one account; each source of a right is kept on its own. */
interface Standing {
  /** The scheduled jobs (DESIGN 2 "Jobs") act as the platform's owners over every account. */
  readonly system: boolean;
  /** The caller's membership on the account itself. */
  readonly own?: Membership;
  /** The caller's role on the PLATFORM when the account lies below it: platform staff see everything. */
  readonly staff?: Role;
  /** Roles of the caller's SELLER memberships on partner accounts above this one. */
  readonly sellerAbove: readonly Role[];
  /** A reseller above holds the caller as PARTNER_ADMIN and this customer's opt-in holds now. */
  readonly partnerAdmin: boolean;
}

const NOBODY: Standing = { system: false, sellerAbove: [], partnerAdmin: false };

/** Circuit: the customer's opt-in holds until its expiry instant (the request at or after it is refused). */
function optInHolds(acc: Acc, now: Date): boolean {
  if (acc.kind !== "CUSTOMER" || acc.partnerAdminOptIn !== true) return false;
  return acc.partnerAdminOptInUntil === undefined || now.getTime() < Date.parse(acc.partnerAdminOptInUntil);
}

function standing(world: World, caller: Caller, acc: Acc): Standing {
  // DESIGN 2 "Jobs": the scheduled runs act with full rights; devices and anonymous callers hold no account rights.
  if (caller.actor.type === "system") return { ...NOBODY, system: true };
  if (caller.actor.type !== "user" && caller.actor.type !== "client") return NOBODY;
  const ms = caller.memberships;
  let staff: Role | undefined;
  const sellerAbove: Role[] = [];
  let partnerAdmin = false;
  for (const up of ancestors(byId(world), acc)) {
    const m = ms[up.id];
    if (!m) continue;
    // DESIGN 1 "operators ... see everything": every PLATFORM member reaches the tree, with its own role.
    if (up.kind === "PLATFORM") staff = m.role;
    // DESIGN 1 "Reach": a partner member with the SELLER flag acts on the partner's whole subtree.
    else if (m.seller) sellerAbove.push(m.role);
    // DESIGN 1 / Circuit: a reseller's PARTNER_ADMIN reaches the customers below it while they opted in,
    // if the opt-in was given to that reseller and it has stayed above since (security rule 4); a
    // distributor's, its direct customers only.
    const sellsDirectly = up.kind === "RESELLER" || (up.kind === "DISTRIBUTOR" && up.id === acc.parentId);
    if (sellsDirectly && m.partnerAdmin && optInHolds(acc, world.now) && world.consent.get(acc.id)?.has(up.id))
      partnerAdmin = true;
  }
  const own = ms[acc.id];
  return { system: false, sellerAbove, partnerAdmin, ...(own ? { own } : {}), ...(staff ? { staff } : {}) };
}

const canWrite = (r: Role) => r === "OWNER" || r === "CONTRIBUTOR";
const isOwner = (r: Role) => r === "OWNER";
const anyRole = () => true;

/** The account's own member, with a role passing `test`. */
const ownAs = (s: Standing, test: (r: Role) => boolean) => s.own !== undefined && test(s.own.role);
/** The platform itself (its staff or its jobs), with a role passing `test`. */
const operatorAs = (s: Standing, test: (r: Role) => boolean) => s.system || (s.staff !== undefined && test(s.staff));
/** Anyone acting from above: operators, jobs, or a seller of a partner above. */
const aboveAs = (s: Standing, test: (r: Role) => boolean) => operatorAs(s, test) || s.sellerAbove.some(test);
/** A writing seller of this very partner account, working for its own company (Rainbow 5.4 "BP company"). */
const sellsForOwnCompany = (s: Standing, acc: Acc) =>
  (acc.kind === "DISTRIBUTOR" || acc.kind === "RESELLER") &&
  s.own !== undefined &&
  s.own.seller &&
  canWrite(s.own.role);

/** An authorised purchaser (OWNER or CONTRIBUTOR) of this very partner account, seller flag or not (DESIGN 1). */
const buysForOwnCompany = (s: Standing, acc: Acc) =>
  (acc.kind === "DISTRIBUTOR" || acc.kind === "RESELLER") && s.own !== undefined && canWrite(s.own.role);

function visible(s: Standing): boolean {
  return s.system || s.own !== undefined || s.staff !== undefined || s.sellerAbove.length > 0 || s.partnerAdmin;
}

/** The decision on a visible account. */
function permits(s: Standing, acc: Acc, action: Action): boolean {
  switch (action) {
    // DESIGN 1: whoever reaches an account may read it (VIEWER is read only).
    case "account.read":
      return true;
    // DESIGN 1: OWNERs manage settings; sellers above do commercial work on accounts (writers only).
    case "account.update":
      return ownAs(s, isOwner) || aboveAs(s, canWrite);
    // DESIGN 1 "Reach": listing below needs reach over the subtree (own SELLER flag, platform people, anyone above).
    case "account.listChildren":
      return aboveAs(s, anyRole) || (s.own !== undefined && (s.own.seller || acc.kind === "PLATFORM"));
    case "account.createChild":
      // DESIGN 1: operators (PLATFORM OWNERs) create distributors.
      if (acc.kind === "PLATFORM") return ownAs(s, isOwner) || s.system;
      // DESIGN 1: a customer has no children.
      if (acc.kind === "CUSTOMER") return false;
      // DESIGN 1: writers above create; a partner's own writing sellers too, a reseller's only with canCreateAccounts from its parent.
      return aboveAs(s, canWrite) || (sellsForOwnCompany(s, acc) && (acc.kind !== "RESELLER" || acc.canCreateAccounts));
    // DESIGN 1: reseller rights are set by the parent side (writers above), never by the reseller.
    case "account.setResellerRights":
      return acc.kind === "RESELLER" && aboveAs(s, canWrite);
    // DESIGN 1 (Rainbow invite): the target account's owner accepts a move.
    case "account.acceptMove":
      return ownAs(s, isOwner);
    // DESIGN 1: OWNERs manage members; a customer's members are tenant administration (own owners, partner
    // admins on behalf, operators), a partner's members may also be managed by owner-sellers above.
    case "member.manage":
      return (
        ownAs(s, isOwner) ||
        s.partnerAdmin ||
        operatorAs(s, isOwner) ||
        (acc.kind !== "CUSTOMER" && s.sellerAbove.some(isOwner))
      );
    // DESIGN 1: owners grant or remove the SELLER flag, which exists on partner accounts only.
    case "member.setSeller":
      return acc.kind !== "CUSTOMER" && (ownAs(s, isOwner) || aboveAs(s, isOwner));
    // DESIGN 1: operators (PLATFORM OWNERs) run the catalog.
    case "catalog.manage":
      return acc.kind === "PLATFORM" && (ownAs(s, isOwner) || s.system);
    // DESIGN 1 "Edit Available Services": an account orders what the side above made available to it.
    case "offers.setAvailable":
      return acc.kind !== "PLATFORM" && aboveAs(s, canWrite);
    // Rainbow 5.4 "Create subscriptions": sellers below; a partner's authorised purchasers for their own company; never a customer's admins.
    case "order.place":
      return acc.kind !== "PLATFORM" && (aboveAs(s, canWrite) || buysForOwnCompany(s, acc));
    // Rainbow 5.4 "Manage subscriptions": sellers; the account's admins only when a seller delegated it.
    case "subscription.increase":
      return aboveAs(s, canWrite) || buysForOwnCompany(s, acc) || (ownAs(s, canWrite) && acc.canUpdateSubscriptions);
    // Rainbow 5.4: decreasing takes the second box on top of the first.
    case "subscription.decrease":
      return (
        aboveAs(s, canWrite) ||
        buysForOwnCompany(s, acc) ||
        (ownAs(s, canWrite) && acc.canUpdateSubscriptions && acc.canDecreaseSubscriptions)
      );
    // DESIGN 1 "Delegated subscription rights": granted from above to a child account.
    case "subscription.setDelegatedRights":
      return acc.kind !== "PLATFORM" && aboveAs(s, canWrite);
    // DESIGN 1 (Circuit): licence assignment is tenant administration: own writers, partner admins on behalf, operators.
    case "licence.assign":
      return ownAs(s, canWrite) || s.partnerAdmin || operatorAs(s, canWrite);
    case "equipment.declare":
    case "equipment.manage":
      return equipmentRight(s, acc);
    // DESIGN 1 (Circuit): support settings are tenant administration; settings are the OWNER's; operators may write.
    case "account.setSupportEmail":
      return ownAs(s, isOwner) || s.partnerAdmin || operatorAs(s, canWrite);
    // DESIGN 1: the opt-in is set by the customer's OWNER.
    case "account.setPartnerAdminOptIn":
      return acc.kind === "CUSTOMER" && ownAs(s, isOwner);
    // DESIGN 1: the platform (operators = PLATFORM OWNERs) enables PARTNER_ADMIN per reseller; Circuit:
    // also for "tier-1 partners which have direct customers" (a distributor, for those customers).
    case "account.setPartnerAdminCapability":
      return (acc.kind === "RESELLER" || acc.kind === "DISTRIBUTOR") && operatorAs(s, isOwner);
    // DESIGN 1 / Circuit: a reseller's (or distributor's) owners flag its own members as partner admins.
    case "member.setPartnerAdmin":
      return (acc.kind === "RESELLER" || acc.kind === "DISTRIBUTOR") && ownAs(s, isOwner);
    // API clients and webhook endpoints are the account's own settings, managed by its OWNERs.
    case "apiClient.manage":
    case "webhook.manage":
      return ownAs(s, isOwner);
    // Whoever sees an account reads its event feed.
    case "events.read":
      return true;
    // Circuit "Report Issue to Partner": any member of a customer, a partner admin on its behalf, a writer above it.
    case "ticket.open":
      return acc.kind === "CUSTOMER" && (s.own !== undefined || s.partnerAdmin || aboveAs(s, canWrite));
    // The partner a ticket was opened to handles it: its own writers and the writers above it.
    case "ticket.handle":
      return acc.kind !== "CUSTOMER" && (ownAs(s, canWrite) || aboveAs(s, canWrite));
    // EXPO.e "Adding Numbers": the vendor's operators stock the partners' pools.
    case "numbers.add":
      return (acc.kind === "DISTRIBUTOR" || acc.kind === "RESELLER") && operatorAs(s, canWrite);
    // A partner hands numbers down to a customer or sub-reseller: writers above the receiving account.
    case "numbers.allocate":
      return (acc.kind === "RESELLER" || acc.kind === "CUSTOMER") && aboveAs(s, canWrite);
    // The holder's writers (tenant administration, so partner admins on behalf too) and the writers above.
    case "numbers.manage":
      return acc.kind !== "PLATFORM" && (ownAs(s, canWrite) || s.partnerAdmin || aboveAs(s, canWrite));
  }
}

/** An API client never manages people or clients, nor consents or accepts moves for its account. */
const CLIENT_NEVER: ReadonlySet<Action> = new Set<Action>([
  "member.manage",
  "member.setSeller",
  "member.setPartnerAdmin",
  "account.acceptMove",
  "account.setPartnerAdminOptIn",
  "account.setPartnerAdminCapability",
  "apiClient.manage",
]);

function equipmentRight(s: Standing, acc: Acc): boolean {
  // Operators and jobs administer any tenant's equipment (writers only).
  if (operatorAs(s, canWrite)) return true;
  switch (acc.kind) {
    // DESIGN 1 (Circuit): a customer's equipment is tenant administration: its own writers, or partner
    // admins on behalf, and a writing seller above (Rainbow: the distributor creates the customer's PBX).
    case "CUSTOMER":
      return ownAs(s, canWrite) || s.partnerAdmin || s.sellerAbove.some(canWrite);
    // DESIGN 1 + Rainbow "the reseller's equipment is only managed by itself": own writers, with canCreateEquipment.
    case "RESELLER":
      return ownAs(s, canWrite) && acc.canCreateEquipment;
    // Rainbow table "Create Equipments, BP company": the distributor's own admins.
    case "DISTRIBUTOR":
      return ownAs(s, canWrite);
    // The platform account holds no equipment.
    case "PLATFORM":
      return false;
  }
}

function oracle(s: Standing, acc: Acc, action: Action, client = false): Verdict {
  if (!visible(s)) return "notFound";
  if (client && CLIENT_NEVER.has(action)) return "forbidden";
  return permits(s, acc, action) ? "allowed" : "forbidden";
}

/**
 * Issue 14: an endpoint of account A receives an event of account E (E is A or below it) only if its
 * creator could read it in A's feed: A's own events for whoever reaches A as a member or from above
 * (a partner admin's consent gives no feed), and A's subtree for those who reach below A (DESIGN 1
 * "Reach": the SELLER flag, the platform's people, anyone above).
 */
function oracleReceives(world: World, caller: Caller, endpointAccount: Acc, eventAccount: Acc): boolean {
  const s = standing(world, caller, endpointAccount);
  const reaches = s.system || s.own !== undefined || s.staff !== undefined || s.sellerAbove.length > 0;
  if (!reaches) return false;
  if (eventAccount.id === endpointAccount.id) return true;
  const below = ancestors(byId(world), eventAccount).some((a) => a.id === endpointAccount.id);
  const subtree = aboveAs(s, anyRole) || (s.own !== undefined && (s.own.seller || endpointAccount.kind === "PLATFORM"));
  return below && subtree;
}

/** DESIGN 1 "Prices": the billed party's OWNERs and the operators (PLATFORM OWNERs; the billing jobs). */
function oracleSeesPrices(caller: Caller, billedPartyId: string | undefined): boolean {
  if (oracleIsOperator(caller)) return true;
  return (
    (caller.actor.type === "user" || caller.actor.type === "client") &&
    billedPartyId !== undefined &&
    caller.memberships[billedPartyId]?.role === "OWNER"
  );
}

/** DESIGN 1: platform operators are the OWNERs of the PLATFORM account; the system's jobs act as one. */
function oracleIsOperator(caller: Caller): boolean {
  return (
    caller.actor.type === "system" ||
    ((caller.actor.type === "user" || caller.actor.type === "client") && caller.memberships[ROOT]?.role === "OWNER")
  );
}

// ---------------------------------------------------------------------------------------------
// Comparing with core
// ---------------------------------------------------------------------------------------------

type View = ReturnType<typeof view>;

function coreVerdict(world: World, caller: Caller, acc: Acc, v: View, action: Action): Verdict {
  let thrown: Verdict = "allowed";
  try {
    authorize(caller.actor, caller.memberships, v, action, world.now);
  } catch (e) {
    if (e instanceof NotFound) thrown = "notFound";
    else if (e instanceof Forbidden) thrown = "forbidden";
    else throw e;
  }
  const yes = allowed(caller.actor, caller.memberships, v, action, world.now);
  if (yes !== (thrown === "allowed"))
    throw new Error(`allowed() says ${yes} but authorize() gives ${thrown} (${caller.label}, ${acc.id}, ${action})`);
  return thrown;
}

function describeWorld(world: World): string {
  const acc = (a: Acc) => {
    const flags = [
      a.canCreateAccounts && "canCreateAccounts",
      a.canUpdateSubscriptions && "canUpdateSubscriptions",
      a.canDecreaseSubscriptions && "canDecreaseSubscriptions",
      a.canCreateEquipment && "canCreateEquipment",
      a.partnerAdminOptIn !== undefined && `optIn=${a.partnerAdminOptIn}`,
      a.partnerAdminOptInUntil !== undefined && `until=${a.partnerAdminOptInUntil}`,
      a.partnerAdminGrantees !== undefined && `grantees=${a.partnerAdminGrantees.join("/")}`,
    ].filter(Boolean);
    return `  ${a.id} ${a.kind}${a.parentId ? ` under ${a.parentId}` : ""}${flags.length ? ` [${flags.join(", ")}]` : ""}`;
  };
  const person = (p: Person) =>
    `  ${p.name}: ${
      Object.entries(p.memberships)
        .map(([id, m]) => `${id} ${m.role}${m.seller ? "+seller" : ""}${m.partnerAdmin ? "+partnerAdmin" : ""}`)
        .join("; ") || "(no memberships)"
    }`;
  return [
    `now ${world.now.toISOString()}`,
    "accounts:",
    ...world.accounts.map(acc),
    `moves: ${world.moves.join(", ") || "none"}`,
    "people:",
    ...world.people.map(person),
  ].join("\n");
}

/**
 * Runs `check` without stack traces: most calls of `authorize` throw, and capturing a stack costs
 * more than the whole decision (the failures this file reports carry their own description).
 */
function cheapThrows<T>(check: () => T): T {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return check();
  } finally {
    Error.stackTraceLimit = limit;
  }
}

/** Every disagreement between core and the oracle in one world. */
function disagreements(world: World): string[] {
  const out: string[] = [];
  const views = new Map(world.accounts.map((a) => [a.id, view(world, a)]));
  for (const caller of callers(world)) {
    for (const acc of world.accounts) {
      const s = standing(world, caller, acc);
      const v = views.get(acc.id) as View;
      for (const action of ACTIONS) {
        const expected = oracle(s, acc, action, caller.actor.type === "client");
        const got = coreVerdict(world, caller, acc, v, action);
        if (got !== expected)
          out.push(`${caller.label} on ${acc.id} (${acc.kind}) ${action}: core ${got}, oracle ${expected}`);
      }
    }
  }
  return out;
}

function failWith(world: World, problems: readonly string[]): never {
  throw new Error(
    `${problems.length} disagreement(s):\n${problems.slice(0, 40).join("\n")}\nin the world:\n${describeWorld(world)}`,
  );
}

describe("rights as properties of random channel trees", () => {
  it("the worlds move accounts after their opt-ins: resellers come above customers that never consented to them", () => {
    const worlds = fc.sample(worldArb, { numRuns: 400, seed: 20261202 });
    expect(worlds.filter((w) => w.moves.length > 0).length).toBeGreaterThan(100);
    // A partner admin's reseller above an opted-in customer without its consent: what rule 4 is about.
    const unconsented = worlds.filter((w) =>
      w.accounts.some(
        (a) =>
          a.partnerAdminOptIn === true &&
          ancestors(byId(w), a).some((up) => up.kind === "RESELLER" && !w.consent.get(a.id)?.has(up.id)),
      ),
    );
    expect(unconsented.length).toBeGreaterThan(10);
  });

  it("the oracle's root is core's platform account", () => {
    expect(PLATFORM_ID).toBe(ROOT);
  });

  it("core decides visibility (NotFound) and every action (Forbidden) as the design's rules do", () => {
    fc.assert(
      fc.property(worldArb, (world) => {
        const problems = cheapThrows(() => disagreements(world));
        if (problems.length > 0) failWith(world, problems);
      }),
      { numRuns: 1000 },
    );
  });

  it("a person with no membership on an account or any of its ancestors never learns it exists, whatever the flags", () => {
    fc.assert(
      fc.property(worldArb, fc.boolean(), (world, maxed) => {
        // Maxed: every account grants everything (opt-in without expiry) and every membership carries every flag.
        const w: World = maxed
          ? (() => {
              const accounts = world.accounts.map(
                (a): Acc => ({
                  ...a,
                  canCreateAccounts: true,
                  canUpdateSubscriptions: true,
                  canDecreaseSubscriptions: true,
                  canCreateEquipment: true,
                  partnerAdminOptIn: true,
                  partnerAdminOptInUntil: undefined,
                }),
              );
              const people = world.people.map((p) => ({
                name: p.name,
                memberships: Object.fromEntries(
                  Object.entries(p.memberships).map(([id, m]) => [id, { ...m, seller: true, partnerAdmin: true }]),
                ),
              }));
              return { now: world.now, accounts, people, consent: world.consent, moves: world.moves };
            })()
          : world;
        const problems: string[] = [];
        cheapThrows(() => {
          for (const caller of callers(w).filter((c) => c.actor.type === "user")) {
            for (const acc of w.accounts) {
              const related = [acc, ...ancestors(byId(w), acc)].some((a) => caller.memberships[a.id] !== undefined);
              if (related) continue;
              const v = view(w, acc);
              for (const action of ACTIONS) {
                const got = coreVerdict(w, caller, acc, v, action);
                if (got !== "notFound")
                  problems.push(`${caller.label} on ${acc.id} ${action}: core ${got}, expected notFound`);
              }
            }
          }
        });
        if (problems.length > 0) failWith(w, problems);
      }),
      { numRuns: 500 },
    );
  });

  it("devices and anonymous callers see nothing; an unknown account is NotFound for everyone", () => {
    fc.assert(
      fc.property(worldArb, (world) => {
        for (const caller of callers(world)) {
          expect(() => authorize(caller.actor, caller.memberships, undefined, "account.read", world.now)).toThrow(
            NotFound,
          );
          if (caller.actor.type !== "public" && caller.actor.type !== "device") continue;
          for (const acc of world.accounts)
            expect(allowed(caller.actor, caller.memberships, view(world, acc), "account.read", world.now)).toBe(false);
        }
      }),
      { numRuns: 200 },
    );
  });

  it("a webhook endpoint receives only the events its creator could read in its account's feed", () => {
    fc.assert(
      fc.property(worldArb, (world) => {
        const problems: string[] = [];
        for (const caller of callers(world)) {
          for (const endpointAccount of world.accounts) {
            for (const eventAccount of world.accounts) {
              const path = [...view(world, eventAccount).path, eventAccount.id];
              // Delivery only considers endpoints of accounts on the event's path.
              if (!path.includes(endpointAccount.id)) continue;
              const core = readable(caller.actor, caller.memberships, view(world, endpointAccount), path, world.now);
              if (core !== oracleReceives(world, caller, endpointAccount, eventAccount))
                problems.push(
                  `${caller.label}: endpoint of ${endpointAccount.id}, event of ${eventAccount.id}: core ${core}`,
                );
            }
          }
        }
        if (problems.length > 0) failWith(world, problems);
      }),
      { numRuns: 300 },
    );
  });

  it("prices and operator status follow the design", () => {
    fc.assert(
      fc.property(worldArb, (world) => {
        const problems: string[] = [];
        for (const caller of callers(world)) {
          const operator = isOperator(caller.actor, caller.memberships);
          if (operator !== oracleIsOperator(caller)) problems.push(`${caller.label}: isOperator ${operator}`);
          for (const billed of [undefined, ...world.accounts.map((a) => a.id)]) {
            const sees = seesPrices(caller.actor, caller.memberships, billed);
            if (sees !== oracleSeesPrices(caller, billed))
              problems.push(`${caller.label}: seesPrices(${billed ?? "no billed party"}) ${sees}`);
          }
        }
        if (problems.length > 0) failWith(world, problems);
      }),
      { numRuns: 500 },
    );
  });
});
