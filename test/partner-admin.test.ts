/**
 * Partner administration on behalf (Circuit; DESIGN 1 "People and rights"), over HTTP. The
 * platform enables PARTNER_ADMIN on a reseller, the reseller's owner flags a member, a customer's
 * OWNER opts in (revocable, optionally until a date); while the opt-in holds, the flagged member
 * administers the customer's tenant (members, licences, support settings) and every such action
 * is recorded for the customer. Commercial work stays with the sellers, opt-in or not. Every
 * refusal is a typed error and writes nothing: the operator re-reads the accounts before and after.
 *
 *   Platform (operator)
 *   └── Distributor 1, USD (owner d1, a seller)
 *       ├── Reseller R1 (owner r1, a seller; PARTNER_ADMIN enabled)
 *       │   ├── members: pa (CONTRIBUTOR, PARTNER_ADMIN flag), staff (CONTRIBUTOR, no flag)
 *       │   ├── Customer "Acme Circuit" = C (owner c, user c-user; 10 trunk licences)
 *       │   ├── Customer "Acme Beta"   (owner, opts in for the listing)
 *       │   └── Customer "Zeta Works"  (owner, opts in for the listing)
 *       ├── Reseller R2 (owner r2; PARTNER_ADMIN enabled; not above C)
 *       │   ├── members: pa2 (CONTRIBUTOR, PARTNER_ADMIN flag)
 *       │   └── Customer "Acme Regional" (owner, opts in)
 *       └── Reseller R3 (owner r3; PARTNER_ADMIN never enabled)
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  CODES,
  ERR,
  OPERATOR,
  PLATFORM,
  expectError,
  expectForbidden,
  expectInvalid,
  expectUnchanged,
  isError,
  ok,
  startTestStack,
} from "./harness.js";
import type { Connection, ErrorName, GraphQLResponse, Result, TestStack } from "./harness.js";

// ---------------------------------------------------------------- data

const START = "2026-11-02T09:00:00.000Z";
const D1_OWNER = "owner@d1.example";
const R1_OWNER = "owner@r1.example";
const R1_STAFF = "staff@r1.example";
const PA = "pa@r1.example";
const R2_OWNER = "owner@r2.example";
const R2_PA = "pa@r2.example";
const R3_OWNER = "owner@r3.example";
const C_OWNER = "owner@acme-circuit.example";
const C_USER = "user@acme-circuit.example";
const C_NEW = "new@acme-circuit.example";
const BETA_OWNER = "owner@acme-beta.example";
const ZETA_OWNER = "owner@zeta.example";
const REGIONAL_OWNER = "owner@acme-regional.example";

/** Seeded Ribbon offers (USD, MONTHLY). */
const TRUNK = "RC-DRAAS-TRUNK-SUB";
const PBX = "RC-DRAAS-PBX-SUB";

const ids = { d1: "", r1: "", r2: "", r3: "", c: "", beta: "", zeta: "", regional: "", trunk: "" };
let t: TestStack;

// ---------------------------------------------------------------- shapes

interface IdOnly {
  readonly id: string;
}
interface AccountView {
  readonly id: string;
  readonly partnerAdminEnabled: boolean;
  readonly partnerAdminOptIn: boolean;
  readonly partnerAdminOptInUntil: string | null;
  readonly supportEmail: string | null;
}
interface MemberView {
  readonly email: string;
  readonly role: string;
  readonly status: string;
  readonly partnerAdmin: boolean;
}
interface PartnerActionView {
  readonly actor: string;
  readonly reseller: string;
  readonly action: string;
  readonly subjectId: string | null;
}
interface AuditView {
  readonly action: string;
  readonly actor: string;
  readonly onBehalfOf: string | null;
  readonly subjectId: string | null;
}
interface AdministeredView {
  readonly id: string;
  readonly accountId: string;
  readonly name: string;
  readonly until: string | null;
  readonly account: { readonly id: string; readonly name: string } | null;
}
interface Sub {
  readonly id: string;
  readonly sku: string;
  readonly quantity: number;
  readonly assigned: number;
  readonly version: number;
}
interface OrderView {
  readonly id: string;
  readonly placedBy: string;
  readonly onBehalfOf: string | null;
  readonly lines: { readonly sku: string; readonly quantity: number }[];
}

const ACCOUNT = "id partnerAdminEnabled partnerAdminOptIn partnerAdminOptInUntil supportEmail";
const MEMBER = "email role status partnerAdmin";
const SUB = "id sku quantity assigned version";
const ORDER = "id placedBy onBehalfOf lines { sku quantity }";

// ---------------------------------------------------------------- helpers

/** The local part of an Account global id (audit entries name accounts by it). */
const localOf = (globalId: string): string => {
  const decoded = Buffer.from(globalId, "base64").toString("utf8");
  expect(decoded.startsWith("Account:"), decoded).toBe(true);
  return decoded.slice("Account:".length);
};

const createAccount = (as: string, input: Record<string, unknown>) =>
  t.mutate<{ account: IdOnly }>(
    as,
    "createAccount",
    "CreateAccountInput",
    { country: "US", ...input },
    "account { id }",
  );
const setAvailable = (as: string, accountId: string, skus: string[]) =>
  t.mutate<{ account: IdOnly }>(
    as,
    "setAvailableOffers",
    "SetAvailableOffersInput",
    { accountId, skus },
    "account { id }",
  );
const setResellerRights = (as: string, id: string) =>
  t.mutate<{ account: IdOnly }>(
    as,
    "setResellerRights",
    "SetResellerRightsInput",
    { id, canCreateAccounts: true },
    "account { id }",
  );
const inviteMember = (as: string, accountId: string, email: string, role: string) =>
  t.mutate<{ member: MemberView }>(
    as,
    "inviteMember",
    "InviteMemberInput",
    { accountId, email, role },
    `member { ${MEMBER} }`,
  );
const removeMember = (as: string, accountId: string, email: string) =>
  t.mutate<{ member: MemberView }>(as, "removeMember", "MemberRefInput", { accountId, email }, `member { ${MEMBER} }`);
const setMemberRole = (as: string, accountId: string, email: string, role: string) =>
  t.mutate<{ member: MemberView }>(
    as,
    "setMemberRole",
    "SetMemberRoleInput",
    { accountId, email, role },
    `member { ${MEMBER} }`,
  );
const assignLicence = (as: string, subscriptionId: string, email: string) =>
  t.mutate<{ licence: { email: string; sku: string; assignedBy: string }; subscription: Sub }>(
    as,
    "assignLicence",
    "LicenceInput",
    { subscriptionId, email },
    `licence { email sku assignedBy } subscription { ${SUB} }`,
  );
const setSupportEmail = (as: string, accountId: string, email: string | null) =>
  t.mutate<{ account: AccountView }>(
    as,
    "setSupportEmail",
    "SetSupportEmailInput",
    { accountId, email },
    `account { ${ACCOUNT} }`,
  );
const setOptIn = (as: string, accountId: string, optIn: boolean, until?: string) =>
  t.mutate<{ account: AccountView }>(
    as,
    "setPartnerAdminOptIn",
    "SetPartnerAdminOptInInput",
    { accountId, optIn, ...(until ? { until } : {}) },
    `account { ${ACCOUNT} }`,
  );
const setCapability = (as: string, accountId: string, enabled: boolean) =>
  t.mutate<{ account: AccountView }>(
    as,
    "setPartnerAdminCapability",
    "SetPartnerAdminCapabilityInput",
    { accountId, enabled },
    `account { ${ACCOUNT} }`,
  );
const setFlag = (as: string, accountId: string, email: string, partnerAdmin: boolean) =>
  t.mutate<{ member: MemberView }>(
    as,
    "setMemberPartnerAdmin",
    "SetMemberPartnerAdminInput",
    { accountId, email, partnerAdmin },
    `member { ${MEMBER} }`,
  );

let keys = 0;
const place = (as: string, accountId: string, sku: string, quantity: number) =>
  t.mutate<{ order: OrderView }>(
    as,
    "placeOrder",
    "PlaceOrderInput",
    { accountId, lines: [{ sku, quantity }], idempotencyKey: `pa-order-${++keys}` },
    `order { ${ORDER} }`,
  );
const setQuantity = (as: string, sub: Pick<Sub, "id" | "version">, quantity: number) =>
  t.mutate<{ subscription: Sub }>(
    as,
    "updateSubscriptionQuantity",
    "UpdateSubscriptionQuantityInput",
    { subscriptionId: sub.id, quantity, expectedVersion: sub.version },
    `subscription { ${SUB} }`,
  );

/** `account(id)` as `as` sees it: the typed result. */
const account = (as: string, id: string) => t.account<AccountView>(as, id, ACCOUNT);

/** Reads a connection field of an account as `as` (who must see it). */
async function accountConnection<T>(as: string, id: string, field: string, select: string): Promise<T[]> {
  const res = await t.read<{ account: Result<Record<string, Connection<T>>> }>(
    as,
    `query C($id: ID!) { account(id: $id) { __typename ... on QueryAccountSuccess { data { c: ${field}(first: 100) { edges { cursor node { ${select} } } pageInfo { hasNextPage } } } } ${ERR} } }`,
    { id },
  );
  return ok<Record<string, Connection<T>>>(res.account).c!.edges.map((e) => e.node);
}
const partnerActions = (as: string, id: string) =>
  accountConnection<PartnerActionView>(as, id, "partnerActions", "actor reseller action subjectId");
const history = (as: string, id: string) =>
  accountConnection<AuditView>(as, id, "history", "action actor onBehalfOf subjectId");
const members = (as: string, id: string) => accountConnection<MemberView>(as, id, "members", MEMBER);
const subscriptions = async (as: string, id: string) =>
  Object.fromEntries((await accountConnection<Sub>(as, id, "subscriptions", SUB)).map((s) => [s.sku, s]));

const ADMINISTERED = `query Adm($search: String, $descending: Boolean, $first: Int, $after: String, $resellerId: ID) {
  administeredCustomers(search: $search, descending: $descending, first: $first, after: $after, resellerId: $resellerId) {
    edges { cursor node { id accountId name until account { id name } } } pageInfo { hasNextPage }
  } }`;
async function administered(as: string, args: Record<string, unknown> = {}): Promise<Connection<AdministeredView>> {
  return (await t.read<{ administeredCustomers: Connection<AdministeredView> }>(as, ADMINISTERED, args))
    .administeredCustomers;
}
const administeredNames = async (as: string, args: Record<string, unknown> = {}) =>
  (await administered(as, args)).edges.map((e) => e.node.name);

interface MembershipView {
  readonly account: IdOnly;
  readonly role: string;
  readonly seller: boolean;
  readonly partnerAdmin: boolean;
}
async function memberships(as: string): Promise<MembershipView[]> {
  return (
    await t.read<{ viewer: { memberships: MembershipView[] } }>(
      as,
      "query { viewer { memberships { account { id } role seller partnerAdmin } } }",
    )
  ).viewer.memberships;
}

const SNAPSHOT = `query Snap($id: ID!) { account(id: $id) { __typename ... on QueryAccountSuccess { data {
  id updatedAt name ${ACCOUNT}
  members(first: 100) { edges { node { ${MEMBER} } } }
  invitations(first: 100) { edges { node { id email status role } } }
  subscriptions(first: 100) { edges { node { ${SUB} } } }
  orders(first: 100) { edges { node { id } } }
  history(first: 100) { edges { node { id action actor onBehalfOf } } }
  partnerActions(first: 100) { edges { node { at action actor } } }
} } ${ERR} } }`;

/** Runs `fn` (refused calls) and asserts that nothing the operator can read on those accounts changed. */
const unchanged = (accountIds: readonly string[], fn: () => Promise<void>) =>
  expectUnchanged(() => t.operatorAccounts(SNAPSHOT, accountIds), fn);

/**
 * The tenant actions on Customer C that the suite tries as various callers: each would change
 * something if it were allowed. Returns "<__typename>/<code>" (or the success typename) per action.
 */
async function tenantActions(as: string): Promise<Record<string, string>> {
  const actions: Record<string, () => Promise<Result<unknown>>> = {
    inviteMember: () => inviteMember(as, ids.c, C_NEW, "OWNER"),
    removeMember: () => removeMember(as, ids.c, C_USER),
    setMemberRole: () => setMemberRole(as, ids.c, C_USER, "OWNER"),
    assignLicence: () => assignLicence(as, ids.trunk, C_OWNER),
    setSupportEmail: () => setSupportEmail(as, ids.c, "hijack@elsewhere.example"),
  };
  const out: Record<string, string> = {};
  for (const [name, run] of Object.entries(actions)) {
    const r = await run();
    out[name] = isError(r) ? `${r.__typename}/${r.code}` : r.__typename;
  }
  return out;
}
const allDenied = (typename: ErrorName) =>
  Object.fromEntries(
    ["inviteMember", "removeMember", "setMemberRole", "assignLicence", "setSupportEmail"].map((n) => [
      n,
      `${typename}/${CODES[typename]}`,
    ]),
  );

// ---------------------------------------------------------------- setup

beforeAll(async () => {
  t = await startTestStack();
  await t.setClock(START);

  // The distributor, billed in USD, with the Ribbon monthly offers.
  ids.d1 = ok<{ account: IdOnly }>(
    await createAccount(OPERATOR, {
      parentId: PLATFORM,
      kind: "DISTRIBUTOR",
      name: "Distributor 1",
      currency: "USD",
      owner: { email: D1_OWNER },
    }),
  ).account.id;
  await t.accept(D1_OWNER);
  ok(await setAvailable(OPERATOR, ids.d1, [TRUNK, PBX]));

  // Three resellers; R1 and R2 may create customers.
  for (const [key, name, owner] of [
    ["r1", "Reseller R1", R1_OWNER],
    ["r2", "Reseller R2", R2_OWNER],
    ["r3", "Reseller R3", R3_OWNER],
  ] as const) {
    ids[key] = ok<{ account: IdOnly }>(
      await createAccount(D1_OWNER, { parentId: ids.d1, kind: "RESELLER", name, owner: { email: owner } }),
    ).account.id;
    await t.accept(owner);
  }
  for (const r of [ids.r1, ids.r2]) {
    ok(await setResellerRights(D1_OWNER, r));
    ok(await setAvailable(D1_OWNER, r, [TRUNK, PBX]));
  }

  // R1's customers (C, and two more for the listing) and R2's one.
  for (const [key, parent, name, owner] of [
    ["c", "r1", "Acme Circuit", C_OWNER],
    ["beta", "r1", "Acme Beta", BETA_OWNER],
    ["zeta", "r1", "Zeta Works", ZETA_OWNER],
    ["regional", "r2", "Acme Regional", REGIONAL_OWNER],
  ] as const) {
    const parentOwner = parent === "r1" ? R1_OWNER : R2_OWNER;
    ids[key] = ok<{ account: IdOnly }>(
      await createAccount(parentOwner, { parentId: ids[parent], kind: "CUSTOMER", name, owner: { email: owner } }),
    ).account.id;
    await t.accept(owner);
  }

  // C has 10 trunk licences (ordered by the distributor's owner) and a second user.
  ok(await place(D1_OWNER, ids.c, TRUNK, 10));
  ids.trunk = (await subscriptions(C_OWNER, ids.c))[TRUNK]!.id;
  ok(await inviteMember(C_OWNER, ids.c, C_USER, "CONTRIBUTOR"));
  await t.accept(C_USER);

  // PARTNER_ADMIN on R1 and R2; one flagged member each, and an unflagged member of R1.
  ok(await setCapability(OPERATOR, ids.r1, true));
  ok(await setCapability(OPERATOR, ids.r2, true));
  for (const [reseller, owner, email] of [
    ["r1", R1_OWNER, PA],
    ["r1", R1_OWNER, R1_STAFF],
    ["r2", R2_OWNER, R2_PA],
  ] as const) {
    ok(await inviteMember(owner, ids[reseller], email, "CONTRIBUTOR"));
    await t.accept(email);
  }
  expect(ok<{ member: MemberView }>(await setFlag(R1_OWNER, ids.r1, PA, true)).member).toEqual({
    email: PA,
    role: "CONTRIBUTOR",
    status: "ACTIVE",
    partnerAdmin: true,
  });
  ok(await setFlag(R2_OWNER, ids.r2, R2_PA, true));
}, 120_000);

afterAll(async () => {
  await t?.stop();
});

// ---------------------------------------------------------------- tests

describe("with the customer's opt-in off (the default)", () => {
  it("the customer is not opted in, and its resellers' partner admins do not see it", async () => {
    // Prepare: done in beforeAll.
    // Act
    const asOwner = ok<AccountView>(await account(C_OWNER, ids.c));
    const asPa = await account(PA, ids.c);
    // Assess
    expect(asOwner).toMatchObject({ partnerAdminOptIn: false, partnerAdminOptInUntil: null });
    expectError(asPa, "NotFoundError");
    expect(await administeredNames(PA)).toEqual([]);
  });

  it("every tenant action by R1's partner admin on C is a NotFoundError and writes nothing", async () => {
    await unchanged([ids.c, ids.r1], async () => {
      // Act
      const results = await tenantActions(PA);
      // Assess: PA is no seller, so without the opt-in C is invisible to it.
      expect(results).toEqual(allDenied("NotFoundError"));
    });
  });
});

describe("with the opt-in on", () => {
  it("C's owner opts in: the account says so, with no end", async () => {
    // Act
    const r = ok<{ account: AccountView }>(await setOptIn(C_OWNER, ids.c, true));
    // Assess
    expect(r.account).toEqual({
      id: ids.c,
      partnerAdminEnabled: false,
      partnerAdminOptIn: true,
      partnerAdminOptInUntil: null,
      supportEmail: null,
    });
    expect(ok<AccountView>(await account(PA, ids.c)).partnerAdminOptIn).toBe(true);
  });

  it("R1's partner admin invites, changes a role, assigns a licence, sets the support e-mail and removes a member of C", async () => {
    // Act
    const invited = ok<{ member: MemberView }>(await inviteMember(PA, ids.c, C_NEW, "VIEWER"));
    const role = ok<{ member: MemberView }>(await setMemberRole(PA, ids.c, C_USER, "VIEWER"));
    const licence = ok<{ licence: { email: string; sku: string; assignedBy: string }; subscription: Sub }>(
      await assignLicence(PA, ids.trunk, C_USER),
    );
    const support = ok<{ account: AccountView }>(await setSupportEmail(PA, ids.c, "help@r1.example"));
    const removed = ok<{ member: MemberView }>(await removeMember(PA, ids.c, C_NEW));

    // Assess: each answered as for the customer's own admin…
    expect(invited.member).toEqual({ email: C_NEW, role: "VIEWER", status: "INVITED", partnerAdmin: false });
    expect(role.member).toMatchObject({ email: C_USER, role: "VIEWER" });
    expect(licence.licence).toEqual({ email: C_USER, sku: TRUNK, assignedBy: `user:${PA}` });
    expect(licence.subscription).toMatchObject({ quantity: 10, assigned: 1 });
    expect(support.account.supportEmail).toBe("help@r1.example");
    expect(removed.member.email).toBe(C_NEW);
    // …and C's owner sees the result.
    expect(await members(C_OWNER, ids.c)).toEqual([
      { email: C_OWNER, role: "OWNER", status: "ACTIVE", partnerAdmin: false },
      { email: C_USER, role: "VIEWER", status: "ACTIVE", partnerAdmin: false },
    ]);
    expect(ok<AccountView>(await account(C_OWNER, ids.c)).supportEmail).toBe("help@r1.example");
    // The invitation the partner admin withdrew grants nothing.
    const late = await t.gql<{ r: Result<unknown> }>(
      C_NEW,
      `mutation A($token: String!) { r: acceptInvitation(token: $token) { __typename ${ERR} } }`,
      { token: await t.invitationToken(C_NEW) },
    );
    expectError(late.data!.r, "ConflictError");
  });

  it("C's partnerActions list each action, newest first, with the person and R1", async () => {
    // Act
    const actions = await partnerActions(C_OWNER, ids.c);
    // Assess
    const by = (action: string, subjectId: string): PartnerActionView => ({
      actor: `user:${PA}`,
      reseller: ids.r1,
      action,
      subjectId,
    });
    expect(actions).toEqual([
      by("member.removed", C_NEW),
      by("account.supportEmailChanged", localOf(ids.c)),
      by("licence.assigned", C_USER),
      by("member.roleChanged", C_USER),
      by("member.invited", C_NEW),
    ]);
    // The operator reads the same list.
    expect(await partnerActions(OPERATOR, ids.c)).toEqual(actions);
  });

  it("C's history names R1 as onBehalfOf on every entry of the partner admin's actions", async () => {
    // Act
    const entries = (await history(C_OWNER, ids.c)).filter((e) => e.actor === `user:${PA}`);
    // Assess
    const onBehalfOf = `reseller:${localOf(ids.r1)}`;
    expect(entries.map((e) => [e.action, e.subjectId, e.onBehalfOf])).toEqual([
      ["member.removed", C_NEW, onBehalfOf],
      ["account.supportEmailChanged", localOf(ids.c), onBehalfOf],
      ["licence.assigned", C_USER, onBehalfOf],
      ["member.roleChanged", C_USER, onBehalfOf],
      ["member.invited", C_NEW, onBehalfOf],
    ]);
  });

  it("the customer's own admin's and the operator's tenant actions are not recorded as done on behalf", async () => {
    // Prepare
    const before = await partnerActions(C_OWNER, ids.c);
    // Act
    ok(await setSupportEmail(OPERATOR, ids.c, "ops@vendor.example"));
    ok(await setSupportEmail(C_OWNER, ids.c, "help@r1.example"));
    // Assess
    expect(await partnerActions(C_OWNER, ids.c)).toEqual(before);
    const latest = (await history(C_OWNER, ids.c)).slice(0, 2);
    expect(latest).toEqual([
      { action: "account.supportEmailChanged", actor: `user:${C_OWNER}`, onBehalfOf: null, subjectId: localOf(ids.c) },
      { action: "account.supportEmailChanged", actor: `user:${OPERATOR}`, onBehalfOf: null, subjectId: localOf(ids.c) },
    ]);
  });
});

describe("customers I administer", () => {
  beforeAll(async () => {
    ok(await setOptIn(BETA_OWNER, ids.beta, true));
    ok(await setOptIn(ZETA_OWNER, ids.zeta, true));
    ok(await setOptIn(REGIONAL_OWNER, ids.regional, true));
  });

  it("R1's partner admin lists R1's opted-in customers by name, ascending, with each account", async () => {
    // Act
    const all = await administered(PA);
    // Assess
    expect(all.edges.map(({ node: { id: _id, ...n } }) => n)).toEqual([
      { accountId: ids.beta, name: "Acme Beta", until: null, account: { id: ids.beta, name: "Acme Beta" } },
      { accountId: ids.c, name: "Acme Circuit", until: null, account: { id: ids.c, name: "Acme Circuit" } },
      { accountId: ids.zeta, name: "Zeta Works", until: null, account: { id: ids.zeta, name: "Zeta Works" } },
    ]);
    // Each entry's own id: unique, and never an Account id.
    const own = all.edges.map((e) => e.node.id);
    expect(new Set([...own, ids.beta, ids.c, ids.zeta]).size).toBe(6);
    expect(all.pageInfo.hasNextPage).toBe(false);
  });

  it("searches by name prefix (case and spaces ignored) and sorts descending", async () => {
    // Act / Assess
    expect(await administeredNames(PA, { search: "acme" })).toEqual(["Acme Beta", "Acme Circuit"]);
    expect(await administeredNames(PA, { search: "acme", descending: true })).toEqual(["Acme Circuit", "Acme Beta"]);
    expect(await administeredNames(PA, { search: "  ACME   c" })).toEqual(["Acme Circuit"]);
    expect(await administeredNames(PA, { search: "circuit" })).toEqual([]);
    expect(await administeredNames(PA, { descending: true })).toEqual(["Zeta Works", "Acme Circuit", "Acme Beta"]);
  });

  it("pages with first/after", async () => {
    // Act
    const first = await administered(PA, { search: "acme", descending: true, first: 1 });
    const second = await administered(PA, {
      search: "acme",
      descending: true,
      first: 1,
      after: first.edges[0]!.cursor,
    });
    // Assess
    expect(first.edges.map((e) => e.node.name)).toEqual(["Acme Circuit"]);
    expect(first.pageInfo.hasNextPage).toBe(true);
    expect(second.edges.map((e) => e.node.name)).toEqual(["Acme Beta"]);
    expect(second.pageInfo.hasNextPage).toBe(false);
  });

  it("is empty for R1's members without the flag (its owner included) and for D1's owner; R2's partner admin sees only R2's customer", async () => {
    // Act / Assess
    expect(await administeredNames(R1_STAFF)).toEqual([]);
    expect(await administeredNames(R1_OWNER)).toEqual([]);
    expect(await administeredNames(D1_OWNER)).toEqual([]);
    expect(await administeredNames(R2_PA)).toEqual(["Acme Regional"]);
    expect(await administeredNames(R2_PA, { search: "acme c" })).toEqual([]);
  });

  it("R2's partner admin cannot ask for R1's list: NOT_FOUND", async () => {
    // Act
    const res = await t.gql(R2_PA, ADMINISTERED, { resellerId: ids.r1 });
    // Assess
    expect(res.errors?.map((e) => e.extensions?.code)).toEqual(["NOT_FOUND"]);
    expect(res.data).toEqual({ administeredCustomers: null });
  });
});

describe("who else is denied (opt-in on)", () => {
  it("R2's partner admin (R2 is not above C) and R1's member without the flag: NotFoundError, nothing written", async () => {
    await unchanged([ids.c], async () => {
      // Act / Assess
      expect(await tenantActions(R2_PA)).toEqual(allDenied("NotFoundError"));
      expect(await tenantActions(R1_STAFF)).toEqual(allDenied("NotFoundError"));
      expectError(await account(R2_PA, ids.c), "NotFoundError");
      expectError(await account(R1_STAFF, ids.c), "NotFoundError");
    });
  });

  it("the sellers above C (R1's owner, D1's owner) see C but may not administer its tenant: ForbiddenError, nothing written", async () => {
    await unchanged([ids.c], async () => {
      // Act / Assess: "member.manage" excludes sellers above a customer; so do licences and support settings.
      expect(await tenantActions(R1_OWNER)).toEqual(allDenied("ForbiddenError"));
      expect(await tenantActions(D1_OWNER)).toEqual(allDenied("ForbiddenError"));
      expect(ok<AccountView>(await account(D1_OWNER, ids.c)).id).toBe(ids.c);
    });
  });

  it("the sellers above C may not read its partner actions (FORBIDDEN)", async () => {
    // Act
    const res = await t.gql(
      R1_OWNER,
      `query($id: ID!) { account(id: $id) { ... on QueryAccountSuccess { data { partnerActions { edges { node { action } } } } } } }`,
      { id: ids.c },
    );
    // Assess
    expect(res.errors?.map((e) => e.extensions?.code)).toEqual(["FORBIDDEN"]);
  });

  it("only C's OWNER sets the opt-in: the partner admin, the sellers above, the operator and C's own user get ForbiddenError; R2's partner admin NotFoundError", async () => {
    await unchanged([ids.c], async () => {
      // Act / Assess
      for (const as of [PA, R1_OWNER, D1_OWNER, OPERATOR, C_USER]) {
        expectError(await setOptIn(as, ids.c, false), "ForbiddenError");
        expectError(await setOptIn(as, ids.c, true, "2026-12-01T00:00:00.000Z"), "ForbiddenError");
      }
      expectError(await setOptIn(R2_PA, ids.c, false), "NotFoundError");
    });
  });

  it("an opt-in on a reseller is refused (customers only)", async () => {
    await unchanged([ids.r1], async () => {
      // Act / Assess
      expectError(await setOptIn(R1_OWNER, ids.r1, true), "ForbiddenError");
    });
  });
});

describe("commercial work is the sellers', opt-in or not", () => {
  it("with the opt-in off, R1's owner orders and changes quantities for C; the partner admin cannot even see C", async () => {
    // Prepare
    ok(await setOptIn(C_OWNER, ids.c, false));
    const actionsBefore = await partnerActions(C_OWNER, ids.c);
    const trunk = (await subscriptions(R1_OWNER, ids.c))[TRUNK]!;

    // Act
    const order = ok<{ order: OrderView }>(await place(R1_OWNER, ids.c, PBX, 2)).order;
    const up = ok<{ subscription: Sub }>(await setQuantity(R1_OWNER, trunk, 12)).subscription;
    const paOrder = await place(PA, ids.c, PBX, 1);

    // Assess
    expect(order).toMatchObject({ placedBy: `user:${R1_OWNER}`, onBehalfOf: null, lines: [{ sku: PBX, quantity: 2 }] });
    expect(up).toMatchObject({ quantity: 12, version: trunk.version + 1 });
    expectError(paOrder, "NotFoundError");
    expect(await partnerActions(C_OWNER, ids.c)).toEqual(actionsBefore);
  });

  it("with the opt-in on, R1's owner still orders and changes quantities; the partner admin gets no commercial rights", async () => {
    // Prepare
    ok(await setOptIn(C_OWNER, ids.c, true));
    const actionsBefore = await partnerActions(C_OWNER, ids.c);
    const subs = await subscriptions(R1_OWNER, ids.c);

    // Act
    const order = ok<{ order: OrderView }>(await place(R1_OWNER, ids.c, PBX, 1)).order;
    const down = ok<{ subscription: Sub }>(await setQuantity(R1_OWNER, subs[TRUNK]!, 11)).subscription;

    // Assess
    expect(order).toMatchObject({ placedBy: `user:${R1_OWNER}`, onBehalfOf: null, lines: [{ sku: PBX, quantity: 1 }] });
    expect(down).toMatchObject({ quantity: 11, version: subs[TRUNK]!.version + 1 });
    expect(await subscriptions(C_OWNER, ids.c)).toMatchObject({
      [PBX]: { quantity: 3 },
      [TRUNK]: { quantity: 11, assigned: 1 },
    });
    expect(await partnerActions(C_OWNER, ids.c)).toEqual(actionsBefore);

    await unchanged([ids.c], async () => {
      // Act / Assess: the partner admin reaches C for tenant work only.
      expectError(await place(PA, ids.c, PBX, 1), "ForbiddenError");
      expectError(await setQuantity(PA, (await subscriptions(PA, ids.c))[TRUNK]!, 20), "ForbiddenError");
    });
  });
});

describe("support e-mail", () => {
  it("C's owner sets it (stored lower-case) and clears it; everyone who sees C reads it", async () => {
    // Act
    const set = ok<{ account: AccountView }>(await setSupportEmail(C_OWNER, ids.c, "Support@Acme-Circuit.example"));
    // Assess
    expect(set.account.supportEmail).toBe("support@acme-circuit.example");
    for (const as of [C_OWNER, C_USER, R1_OWNER, PA])
      expect(ok<AccountView>(await account(as, ids.c)).supportEmail).toBe("support@acme-circuit.example");

    // Act
    const cleared = ok<{ account: AccountView }>(await setSupportEmail(C_OWNER, ids.c, null));
    // Assess
    expect(cleared.account.supportEmail).toBeNull();
    expect(ok<AccountView>(await account(C_OWNER, ids.c)).supportEmail).toBeNull();
    expect((await history(C_OWNER, ids.c)).slice(0, 2).map((e) => [e.action, e.actor, e.onBehalfOf])).toEqual([
      ["account.supportEmailChanged", `user:${C_OWNER}`, null],
      ["account.supportEmailChanged", `user:${C_OWNER}`, null],
    ]);
  });

  it("C's own user (VIEWER) may not set it: ForbiddenError, nothing written", async () => {
    await unchanged([ids.c], async () => {
      // Act / Assess
      expectError(await setSupportEmail(C_USER, ids.c, "me@acme-circuit.example"), "ForbiddenError");
    });
  });

  it("a malformed e-mail is refused by the EmailAddress scalar before any resolver: BAD_USER_INPUT (variables) or GRAPHQL_VALIDATION_FAILED (inline)", async () => {
    await unchanged([ids.c], async () => {
      // Act
      const viaVariables: GraphQLResponse = await t.gql(
        C_OWNER,
        `mutation($input: SetSupportEmailInput!) { setSupportEmail(input: $input) { __typename } }`,
        {
          input: { accountId: ids.c, email: "not-an-email" },
        },
      );
      const inline: GraphQLResponse = await t.gql(
        C_OWNER,
        `mutation { setSupportEmail(input: { accountId: ${JSON.stringify(ids.c)}, email: "not-an-email" }) { __typename } }`,
      );
      // Assess
      expect({
        status: viaVariables.status,
        data: viaVariables.data,
        codes: viaVariables.errors?.map((e) => e.extensions?.code),
      }).toEqual({ status: 400, data: null, codes: ["BAD_USER_INPUT"] });
      expect(viaVariables.errors![0]!.message).toContain("input.email");
      expect({ data: inline.data, codes: inline.errors?.map((e) => e.extensions?.code) }).toEqual({
        data: null,
        codes: ["GRAPHQL_VALIDATION_FAILED"],
      });
    });
  });
});

describe("expiry and revocation", () => {
  const T0 = "2026-11-10T09:00:00.000Z";
  const UNTIL = "2026-11-10T09:05:00.000Z";
  const AFTER = "2026-11-10T09:06:00.000Z";

  it("an opt-in until a date lets the partner admin act until then; the very next action after it is denied and C leaves the list", async () => {
    // Prepare
    await t.setClock(T0);
    const opted = ok<{ account: AccountView }>(await setOptIn(C_OWNER, ids.c, true, UNTIL)).account;
    expect({ optIn: opted.partnerAdminOptIn, until: Date.parse(opted.partnerAdminOptInUntil!) }).toEqual({
      optIn: true,
      until: Date.parse(UNTIL),
    });
    ok(await setMemberRole(PA, ids.c, C_USER, "CONTRIBUTOR"));
    const listed = (await administered(PA, { search: "acme circuit" })).edges.map((e) => e.node);
    expect(listed.map((n) => [n.accountId, Date.parse(n.until!)])).toEqual([[ids.c, Date.parse(UNTIL)]]);
    // Its own id, not the customer's Account id (ids are unique across types).
    expect(listed[0]!.id).not.toBe(ids.c);

    // Act: past the end (the harness mints tokens again).
    await t.setClock(AFTER);
    await unchanged([ids.c], async () => {
      const next = await setMemberRole(PA, ids.c, C_USER, "VIEWER");
      // Assess
      expectError(next, "NotFoundError");
      expectError(await account(PA, ids.c), "NotFoundError");
    });
    expect(await administeredNames(PA)).toEqual(["Acme Beta", "Zeta Works"]);
    const seen = ok<AccountView>(await account(C_OWNER, ids.c));
    expect({ optIn: seen.partnerAdminOptIn, until: Date.parse(seen.partnerAdminOptInUntil!) }).toEqual({
      optIn: false,
      until: Date.parse(UNTIL),
    });
  });

  it("an end in the past, or an end on an opt-out, is a ValidationError on until", async () => {
    await unchanged([ids.c], async () => {
      // Act / Assess
      expectInvalid(await setOptIn(C_OWNER, ids.c, true, UNTIL), ["until"], "must be in the future");
      expectInvalid(
        await setOptIn(C_OWNER, ids.c, false, "2027-01-01T00:00:00.000Z"),
        ["until"],
        "only an opt-in has an end",
      );
    });
  });

  it("a revocation denies the partner admin's next request and removes C from the list", async () => {
    // Prepare: an open-ended opt-in clears the old end.
    const reopened = ok<{ account: AccountView }>(await setOptIn(C_OWNER, ids.c, true)).account;
    expect(reopened).toMatchObject({ partnerAdminOptIn: true, partnerAdminOptInUntil: null });
    ok(await setSupportEmail(PA, ids.c, "help@r1.example"));
    expect(await administeredNames(PA, { search: "acme" })).toEqual(["Acme Beta", "Acme Circuit"]);

    // Act
    ok(await setOptIn(C_OWNER, ids.c, false));

    // Assess
    await unchanged([ids.c], async () => {
      expectError(await setSupportEmail(PA, ids.c, "other@r1.example"), "NotFoundError");
      expect(await tenantActions(PA)).toEqual(allDenied("NotFoundError"));
    });
    expect(await administeredNames(PA)).toEqual(["Acme Beta", "Zeta Works"]);
    expect(ok<AccountView>(await account(C_OWNER, ids.c))).toMatchObject({
      partnerAdminOptIn: false,
      partnerAdminOptInUntil: null,
      supportEmail: "help@r1.example",
    });
    expect((await history(C_OWNER, ids.c)).slice(0, 3).map((e) => [e.action, e.actor, e.onBehalfOf])).toEqual([
      ["account.partnerAdminOptedOut", `user:${C_OWNER}`, null],
      ["account.supportEmailChanged", `user:${PA}`, `reseller:${localOf(ids.r1)}`],
      ["account.partnerAdminOptedIn", `user:${C_OWNER}`, null],
    ]);
  });
});

describe("the PARTNER_ADMIN capability and flag", () => {
  it("only operators set the capability, on resellers and distributors only (a customer: NOT_APPLICABLE)", async () => {
    await unchanged([ids.r1, ids.c, ids.d1], async () => {
      // Act / Assess
      for (const as of [D1_OWNER, R1_OWNER, PA])
        expectForbidden(await setCapability(as, ids.r1, false), "OPERATOR_ONLY");
      expectForbidden(await setCapability(D1_OWNER, ids.d1, true), "OPERATOR_ONLY");
      expectError(await setCapability(C_OWNER, ids.r1, false), "NotFoundError");
      expectForbidden(await setCapability(OPERATOR, ids.c, true), "NOT_APPLICABLE");
    });
  });

  it("a reseller's owner cannot flag a member before the platform enabled the capability: ForbiddenError CAPABILITY_OFF", async () => {
    // Prepare
    expect(ok<AccountView>(await account(R3_OWNER, ids.r3)).partnerAdminEnabled).toBe(false);
    await unchanged([ids.r3], async () => {
      // Act / Assess
      expectForbidden(await setFlag(R3_OWNER, ids.r3, R3_OWNER, true), "CAPABILITY_OFF");
    });
  });

  it("only the reseller's own owners set the flag, on members that exist", async () => {
    await unchanged([ids.r1, ids.c], async () => {
      // Act / Assess
      for (const as of [PA, R1_STAFF, D1_OWNER, OPERATOR])
        expectError(await setFlag(as, ids.r1, R1_STAFF, true), "ForbiddenError");
      expectError(await setFlag(R1_OWNER, ids.r1, "nobody@r1.example", true), "NotFoundError");
      expectError(await setFlag(C_OWNER, ids.c, C_USER, true), "ForbiddenError");
    });
  });

  it("disabling the capability clears the flags at once: the partner admin is denied although C is opted in; enabling again does not restore them", async () => {
    // Prepare
    ok(await setOptIn(C_OWNER, ids.c, true));
    ok(await setMemberRole(PA, ids.c, C_USER, "VIEWER"));

    // Act
    const disabled = ok<{ account: AccountView }>(await setCapability(OPERATOR, ids.r1, false)).account;

    // Assess
    expect(disabled.partnerAdminEnabled).toBe(false);
    expect((await members(R1_OWNER, ids.r1)).find((m) => m.email === PA)).toMatchObject({ partnerAdmin: false });
    expect((await memberships(PA)).find((m) => m.account.id === ids.r1)).toEqual({
      account: { id: ids.r1 },
      role: "CONTRIBUTOR",
      seller: false,
      partnerAdmin: false,
    });
    await unchanged([ids.c], async () => {
      expect(await tenantActions(PA)).toEqual(allDenied("NotFoundError"));
    });
    expect(await administeredNames(PA)).toEqual([]);
    // The capability goes first (a racing grant then fails), then the flags: newest first.
    expect((await history(OPERATOR, ids.r1)).slice(0, 2).map((e) => [e.action, e.actor, e.subjectId])).toEqual([
      ["member.partnerAdminRemoved", `user:${OPERATOR}`, PA],
      ["account.partnerAdminDisabled", `user:${OPERATOR}`, localOf(ids.r1)],
    ]);
    // R2 is untouched.
    expect(await administeredNames(R2_PA)).toEqual(["Acme Regional"]);
    await unchanged([ids.r1], async () => {
      expectForbidden(await setFlag(R1_OWNER, ids.r1, PA, true), "CAPABILITY_OFF");
    });

    // Act: the platform enables it again.
    ok(await setCapability(OPERATOR, ids.r1, true));
    // Assess: the flag stays off until R1's owner gives it again.
    expect((await memberships(PA)).find((m) => m.account.id === ids.r1)?.partnerAdmin).toBe(false);
    expectError(await setMemberRole(PA, ids.c, C_USER, "CONTRIBUTOR"), "NotFoundError");
    ok(await setFlag(R1_OWNER, ids.r1, PA, true));
    expect(ok<{ member: MemberView }>(await setMemberRole(PA, ids.c, C_USER, "CONTRIBUTOR")).member.role).toBe(
      "CONTRIBUTOR",
    );
    expect(await administeredNames(PA)).toEqual(["Acme Beta", "Acme Circuit", "Zeta Works"]);
  });
});

describe("the limits of acting on behalf", () => {
  it("a partner admin neither makes nor unmakes owners, nor invites itself (the opt-in stays revocable)", async () => {
    // Act
    const owner = await inviteMember(PA, ids.c, "second.owner@acme-circuit.example", "OWNER");
    const self = await inviteMember(PA, ids.c, PA, "CONTRIBUTOR");
    const demote = await setMemberRole(PA, ids.c, C_OWNER, "VIEWER");
    const remove = await removeMember(PA, ids.c, C_OWNER);
    // Assess
    for (const r of [owner, self, demote, remove]) expectError(r, "ForbiddenError");
  });

  it("a seat of its own below OWNER does not lift those limits: no self-promotion", async () => {
    // Prepare: the customer's owner gives the partner admin a VIEWER seat.
    ok(await inviteMember(C_OWNER, ids.c, PA, "VIEWER"));
    const r = await t.gql<{ acceptInvitation: { __typename: string } }>(
      PA,
      `mutation($token: String!) { acceptInvitation(token: $token) { __typename } }`,
      { token: await t.invitationToken(PA) },
    );
    expect(r.data?.acceptInvitation.__typename).toBe("MutationAcceptInvitationSuccess");
    // Act
    const promote = await setMemberRole(PA, ids.c, PA, "OWNER");
    const owner = await inviteMember(PA, ids.c, "friend@r1.example", "OWNER");
    // Assess
    expectError(promote, "ForbiddenError");
    expectError(owner, "ForbiddenError");
  });

  it("a renamed customer is renamed in its partner admins' list", async () => {
    // Act
    const renamed = await t.mutate<{ account: { name: string } }>(
      ZETA_OWNER,
      "updateAccount",
      "UpdateAccountInput",
      { id: ids.zeta, name: "Omega Works" },
      "account { name }",
    );
    // Assess
    expect(ok<{ account: { name: string } }>(renamed).account.name).toBe("Omega Works");
    expect(await administeredNames(PA)).toEqual(["Acme Beta", "Acme Circuit", "Omega Works"]);
    expect(await administeredNames(PA, { search: "zeta" })).toEqual([]);
  });
});
