/**
 * Rights over HTTP: who sees and who may change which account of the channel tree.
 *
 * One stack and one hierarchy for the whole file (built in beforeAll):
 *
 *   Platform (operator)
 *   └── Distributor 1 (owner d1; non-seller CONTRIBUTOR; VIEWER)
 *       ├── Reseller A (owner ra) ── Customer A1 (owner a1)   created by ra once d1 granted canCreateAccounts
 *       └── Reseller B (owner rb) ── Customer B1              created by d1
 *
 * Every denied call is wrapped in `unchanged(...)`: the operator re-reads the touched accounts
 * (fields, children, members, invitations, history) and the mail outbox before and after.
 * The expiry test moves the clock 8 days ahead and sets it back in `finally`. The account move
 * runs last (it changes the tree). "Pending invitations and later changes" use Reseller A only.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ERR, OPERATOR, PLATFORM, expectError, expectUnchanged, isError, ok, startTestStack } from "./harness.js";
import type { Edges, GraphQLResponse, Result, Success, TestStack } from "./harness.js";

interface AccountInfo {
  readonly id: string;
  readonly name: string;
  readonly kind: string;
  readonly country: string;
  readonly reference: string | null;
  readonly childCount: number;
  readonly canCreateAccounts: boolean;
  readonly canCreateEquipment: boolean;
  readonly updatedAt: string;
}
interface MemberInfo {
  readonly email: string;
  readonly role: string;
  readonly status: string;
  readonly seller: boolean;
}
interface InvitationInfo {
  readonly id: string;
  readonly kind: string;
  readonly status: string;
  readonly email: string;
}

const ACCOUNT = "id name kind country reference childCount canCreateAccounts canCreateEquipment updatedAt";
const MEMBER = "email role status seller";
const INVITATION = "id kind status email";

const EMAIL = {
  d1: "owner.d1@example.com",
  ra: "owner.ra@example.com",
  rb: "owner.rb@example.com",
  a1: "owner.a1@example.com",
  contributor: "contributor.d1@example.com",
  viewer: "viewer.d1@example.com",
  d2: "owner.d2@example.com",
} as const;

const ids = { d1: "", ra: "", rb: "", a1: "", b1: "" };
/** Unknown but well-formed account id. */
const UNKNOWN = Buffer.from("Account:01ZZZZZZZZZZZZZZZZZZZZZZZZ").toString("base64");

let t: TestStack;

// ---------------------------------------------------------------- helpers

const shape = (r: Result<unknown>) => ({
  __typename: r.__typename,
  code: isError(r) ? r.code : undefined,
  message: isError(r) ? r.message : undefined,
});

interface CreateInput {
  readonly parentId: string;
  readonly kind: "DISTRIBUTOR" | "RESELLER" | "CUSTOMER";
  readonly name: string;
  readonly country?: string;
  readonly owner?: { readonly email: string };
  readonly currency?: string;
}
const createAccount = (as: string, input: CreateInput) =>
  t.mutate<{ account: AccountInfo; invitation: InvitationInfo | null }>(
    as,
    "createAccount",
    "CreateAccountInput",
    { country: "GB", ...input },
    `account { ${ACCOUNT} } invitation { ${INVITATION} }`,
  );
const updateAccount = (as: string, input: { id: string; name?: string; country?: string; reference?: string | null }) =>
  t.mutate<{ account: AccountInfo }>(as, "updateAccount", "UpdateAccountInput", input, `account { ${ACCOUNT} }`);
const setResellerRights = (
  as: string,
  input: { id: string; canCreateAccounts?: boolean; canCreateEquipment?: boolean },
) =>
  t.mutate<{ account: AccountInfo }>(
    as,
    "setResellerRights",
    "SetResellerRightsInput",
    input,
    `account { ${ACCOUNT} }`,
  );
const inviteMember = (as: string, input: { accountId: string; email: string; role: string; seller?: boolean }) =>
  t.mutate<{ member: MemberInfo; invitation: InvitationInfo }>(
    as,
    "inviteMember",
    "InviteMemberInput",
    input,
    `member { ${MEMBER} } invitation { ${INVITATION} }`,
  );
const removeMember = (as: string, input: { accountId: string; email: string }) =>
  t.mutate<{ member: MemberInfo }>(as, "removeMember", "MemberRefInput", input, `member { ${MEMBER} }`);
const setMemberRole = (as: string, input: { accountId: string; email: string; role: string }) =>
  t.mutate<{ member: MemberInfo }>(as, "setMemberRole", "SetMemberRoleInput", input, `member { ${MEMBER} }`);
const setMemberSeller = (as: string, input: { accountId: string; email: string; seller: boolean }) =>
  t.mutate<{ member: MemberInfo }>(as, "setMemberSeller", "SetMemberSellerInput", input, `member { ${MEMBER} }`);
const inviteExistingAccount = (as: string, input: { parentId: string; accountId: string }) =>
  t.mutate<{ invitationsSent: number }>(
    as,
    "inviteExistingAccount",
    "InviteExistingAccountInput",
    input,
    "invitationsSent",
  );

const acceptInvitation = (as: string, token: string) =>
  t.acceptInvitation<{ account: AccountInfo; invitation: InvitationInfo }>(
    as,
    token,
    `account { ${ACCOUNT} } invitation { ${INVITATION} }`,
  );
const getAccount = (as: string, id: string) => t.account<AccountInfo>(as, id, ACCOUNT);

/** Runs a query expected to fail as a whole with one GraphQL error; returns its extensions.code. */
const failingCode = async (as: string, query: string, variables: Record<string, unknown> = {}) =>
  (await t.failing(as, query, variables)).extensions?.code;

const CHILDREN = `query C($id: ID!) { account(id: $id) { __typename ... on QueryAccountSuccess { data { children(first: 100) { edges { node { id name } } } } } ${ERR} } }`;
const SEARCH = `query S($q: String!, $within: ID) { searchAccounts(query: $q, within: $within, first: 100) { edges { node { id name } } } }`;

async function childIds(as: string, id: string): Promise<string[]> {
  const res = await t.gql<{ account: Success<{ children: Edges<{ id: string }> }> }>(as, CHILDREN, { id });
  expect(res.errors, JSON.stringify(res.errors)).toBeUndefined();
  return res.data!.account.data.children.edges.map((e) => e.node.id);
}

async function searchNames(as: string, q: string, within?: string): Promise<string[]> {
  const res = await t.gql<{ searchAccounts: Edges<{ name: string }> }>(as, SEARCH, { q, within: within ?? null });
  expect(res.errors, JSON.stringify(res.errors)).toBeUndefined();
  return res.data!.searchAccounts.edges.map((e) => e.node.name).sort();
}

async function members(as: string, id: string): Promise<MemberInfo[]> {
  const res = await t.gql<{ account: Success<{ members: Edges<MemberInfo> }> }>(
    as,
    `query M($id: ID!) { account(id: $id) { ... on QueryAccountSuccess { data { members(first: 100) { edges { node { ${MEMBER} } } } } } } }`,
    { id },
  );
  expect(res.errors, JSON.stringify(res.errors)).toBeUndefined();
  return res.data!.account.data.members.edges.map((e) => e.node);
}

const SNAPSHOT = `query Snap($id: ID!) { account(id: $id) { __typename ... on QueryAccountSuccess { data {
  ${ACCOUNT} parent { id } ancestors { id name kind }
  children(first: 100) { edges { cursor node { id name childCount } } }
  members(first: 100) { edges { node { ${MEMBER} firstName lastName joinedAt } } }
  invitations(first: 100) { edges { node { ${INVITATION} role seller acceptedAt } } }
  history(first: 100) { edges { node { id at action actor subjectId details } } }
} } ${ERR} } }`;

/** Everything an authorised reader (the operator) sees of the accounts, plus the outbox size. */
const snapshot = async (accountIds: readonly string[]) => ({
  accounts: await t.operatorAccounts(SNAPSHOT, accountIds),
  outbox: await t.outboxCount(),
});

/** Runs `fn` (denied calls) and asserts that nothing an authorised reader sees has changed. */
const unchanged = (accountIds: readonly string[], fn: () => Promise<void>) =>
  expectUnchanged(() => snapshot(accountIds), fn);

const all = () => [PLATFORM, ids.d1, ids.ra, ids.rb, ids.a1, ids.b1];

async function createWithOwner(as: string, input: CreateInput & { owner: { email: string } }): Promise<string> {
  const created = ok<{ account: AccountInfo; invitation: InvitationInfo | null }>(await createAccount(as, input));
  expect(created.invitation?.email).toBe(input.owner.email);
  const accepted = ok<{ account: AccountInfo }>(
    await acceptInvitation(input.owner.email, await t.invitationToken(input.owner.email)),
  );
  expect(accepted.account.id).toBe(created.account.id);
  return created.account.id;
}

// ---------------------------------------------------------------- hierarchy

/** Captured while building: Reseller A's owner creating a customer before and after the grant. */
let beforeGrant: { denied: Result<unknown>; before: unknown; after: unknown; rights: Result<{ account: AccountInfo }> };

beforeAll(async () => {
  t = await startTestStack();
  ids.d1 = await createWithOwner(OPERATOR, {
    parentId: PLATFORM,
    kind: "DISTRIBUTOR",
    name: "Distributor 1",
    currency: "GBP",
    owner: { email: EMAIL.d1 },
  });
  ids.ra = await createWithOwner(EMAIL.d1, {
    parentId: ids.d1,
    kind: "RESELLER",
    name: "Reseller A",
    owner: { email: EMAIL.ra },
  });
  ids.rb = await createWithOwner(EMAIL.d1, {
    parentId: ids.d1,
    kind: "RESELLER",
    name: "Reseller B",
    owner: { email: EMAIL.rb },
  });

  // Reseller A's own people may not create accounts until the distributor grants canCreateAccounts.
  const before = await snapshot([ids.ra]);
  const denied = await createAccount(EMAIL.ra, {
    parentId: ids.ra,
    kind: "CUSTOMER",
    name: "Customer A1",
    owner: { email: EMAIL.a1 },
  });
  const after = await snapshot([ids.ra]);
  const rights = await setResellerRights(EMAIL.d1, { id: ids.ra, canCreateAccounts: true });
  beforeGrant = { denied, before, after, rights };
  ids.a1 = await createWithOwner(EMAIL.ra, {
    parentId: ids.ra,
    kind: "CUSTOMER",
    name: "Customer A1",
    owner: { email: EMAIL.a1 },
  });

  ids.b1 = ok<{ account: AccountInfo }>(
    await createAccount(EMAIL.d1, { parentId: ids.rb, kind: "CUSTOMER", name: "Customer B1" }),
  ).account.id;

  for (const [email, role] of [
    [EMAIL.contributor, "CONTRIBUTOR"],
    [EMAIL.viewer, "VIEWER"],
  ] as const) {
    ok(await inviteMember(EMAIL.d1, { accountId: ids.d1, email, role, seller: false }));
    ok(await acceptInvitation(email, await t.invitationToken(email)));
  }
}, 60_000);

afterAll(async () => {
  await t?.stop();
});

// ---------------------------------------------------------------- tests

describe("hierarchy", () => {
  it("is built as described, and each role sees what it should of its own account", async () => {
    expect(await childIds(OPERATOR, ids.d1)).toEqual([ids.ra, ids.rb]);
    expect(await childIds(EMAIL.d1, ids.ra)).toEqual([ids.a1]);
    expect(await childIds(EMAIL.ra, ids.ra)).toEqual([ids.a1]);
    expect(await childIds(EMAIL.rb, ids.rb)).toEqual([ids.b1]);
    const d1 = await members(EMAIL.viewer, ids.d1);
    expect(d1.map((m) => [m.email, m.role, m.status, m.seller]).sort()).toEqual(
      [
        [EMAIL.contributor, "CONTRIBUTOR", "ACTIVE", false],
        [EMAIL.d1, "OWNER", "ACTIVE", true],
        [EMAIL.viewer, "VIEWER", "ACTIVE", false],
      ].sort(),
    );
    expect((await members(EMAIL.a1, ids.a1)).map((m) => [m.email, m.role, m.seller])).toEqual([
      [EMAIL.a1, "OWNER", false],
    ]);
  });
});

describe("a reseller owner", () => {
  it("sees nothing of a sibling reseller or of its subtree", async () => {
    await unchanged(all(), async () => {
      for (const id of [ids.rb, ids.b1]) {
        expectError(await getAccount(EMAIL.ra, id), "NotFoundError", "Account not found");
      }
      // The nested connections are never reached through a NotFound result.
      const nested = await t.gql<{ account: Result<unknown> }>(
        EMAIL.ra,
        `query Q($id: ID!) { account(id: $id) { __typename ... on QueryAccountSuccess { data { children { edges { node { id } } } members { edges { node { email } } } history { edges { node { id } } } } } ${ERR} } }`,
        { id: ids.rb },
      );
      expect(nested.errors).toBeUndefined();
      expectError(nested.data!.account, "NotFoundError", "Account not found");
      // Relay node: null, not an error that would confirm existence.
      const node = await t.gql<{ node: unknown }>(EMAIL.ra, `query N($id: ID!) { node(id: $id) { id } }`, {
        id: ids.rb,
      });
      expect(node.errors).toBeUndefined();
      expect(node.data).toEqual({ node: null });
      // Children of the sibling through search: NOT_FOUND.
      expect(await failingCode(EMAIL.ra, SEARCH, { q: "Customer", within: ids.rb })).toBe("NOT_FOUND");
      // Its own hierarchy search only finds its own subtree.
      expect(await searchNames(EMAIL.ra, "Customer")).toEqual(["Customer A1"]);
      expect(await searchNames(EMAIL.ra, "Reseller")).toEqual([]);

      // Mutations on the sibling: NotFound, like an unknown id.
      expectError(await updateAccount(EMAIL.ra, { id: ids.rb, name: "Hijacked" }), "NotFoundError");
      expectError(await setResellerRights(EMAIL.ra, { id: ids.rb, canCreateAccounts: true }), "NotFoundError");
      expectError(
        await createAccount(EMAIL.ra, { parentId: ids.rb, kind: "CUSTOMER", name: "Planted" }),
        "NotFoundError",
      );
      expectError(
        await inviteMember(EMAIL.ra, { accountId: ids.rb, email: "spy@example.com", role: "OWNER" }),
        "NotFoundError",
      );
      expectError(await removeMember(EMAIL.ra, { accountId: ids.rb, email: EMAIL.rb }), "NotFoundError");
      expectError(
        await setMemberRole(EMAIL.ra, { accountId: ids.rb, email: EMAIL.rb, role: "VIEWER" }),
        "NotFoundError",
      );
      expectError(
        await setMemberSeller(EMAIL.ra, { accountId: ids.rb, email: EMAIL.rb, seller: false }),
        "NotFoundError",
      );
      expectError(await updateAccount(EMAIL.ra, { id: ids.b1, name: "Hijacked" }), "NotFoundError");
    });
  });

  it("has no reach over its parent distributor", async () => {
    await unchanged(all(), async () => {
      expectError(await getAccount(EMAIL.ra, ids.d1), "NotFoundError", "Account not found");
      expectError(await getAccount(EMAIL.ra, PLATFORM), "NotFoundError", "Account not found");
      expect(await failingCode(EMAIL.ra, SEARCH, { q: "Reseller", within: ids.d1 })).toBe("NOT_FOUND");
      // Its own account: the parent is hidden, the breadcrumbs give names and kinds only.
      const own = await t.gql<{
        account: Success<{ parent: unknown; ancestors: { id: string; name: string; kind: string }[] }>;
      }>(
        EMAIL.ra,
        `query Q($id: ID!) { account(id: $id) { ... on QueryAccountSuccess { data { parent { id } ancestors { id: accountId name kind } } } } }`,
        { id: ids.ra },
      );
      expect(own.errors).toBeUndefined();
      expect(own.data!.account.data.parent).toBeNull();
      expect(own.data!.account.data.ancestors).toEqual([
        { id: PLATFORM, name: "Platform", kind: "PLATFORM" },
        { id: ids.d1, name: "Distributor 1", kind: "DISTRIBUTOR" },
      ]);
      expectError(await updateAccount(EMAIL.ra, { id: ids.d1, name: "Hijacked" }), "NotFoundError");
      expectError(
        await inviteMember(EMAIL.ra, { accountId: ids.d1, email: "spy@example.com", role: "VIEWER" }),
        "NotFoundError",
      );
      expectError(await removeMember(EMAIL.ra, { accountId: ids.d1, email: EMAIL.d1 }), "NotFoundError");
      expectError(
        await createAccount(EMAIL.ra, { parentId: ids.d1, kind: "RESELLER", name: "Planted" }),
        "NotFoundError",
      );
    });
  });

  it("needs canCreateAccounts from its parent to create accounts (denied before the grant, allowed after)", async () => {
    expectError(beforeGrant.denied, "ForbiddenError", "You are not allowed to do this");
    expect(beforeGrant.after).toEqual(beforeGrant.before);
    const granted = ok<{ account: AccountInfo }>(beforeGrant.rights).account;
    expect({
      id: granted.id,
      canCreateAccounts: granted.canCreateAccounts,
      canCreateEquipment: granted.canCreateEquipment,
    }).toEqual({
      id: ids.ra,
      canCreateAccounts: true,
      canCreateEquipment: false,
    });
    const ra = ok<AccountInfo>(await getAccount(EMAIL.ra, ids.ra));
    expect(ra.canCreateAccounts).toBe(true);
    expect(ra.childCount).toBe(1);
    expect(await childIds(EMAIL.ra, ids.ra)).toEqual([ids.a1]);
    // Reseller B never got the right: its owner is still refused, and nothing is written.
    await unchanged(all(), async () => {
      expectError(
        await createAccount(EMAIL.rb, { parentId: ids.rb, kind: "CUSTOMER", name: "Customer B2" }),
        "ForbiddenError",
      );
      expectError(
        await createAccount(EMAIL.rb, { parentId: ids.rb, kind: "RESELLER", name: "Sub B" }),
        "ForbiddenError",
      );
    });
  });

  it("cannot set its own reseller rights", async () => {
    await unchanged(all(), async () => {
      expectError(
        await setResellerRights(EMAIL.ra, { id: ids.ra, canCreateEquipment: true }),
        "ForbiddenError",
        "You are not allowed to do this",
      );
      expectError(await setResellerRights(EMAIL.rb, { id: ids.rb, canCreateAccounts: true }), "ForbiddenError");
    });
  });
});

describe("a non-seller member of the distributor", () => {
  it("(CONTRIBUTOR) sees the distributor but cannot list or touch its child accounts", async () => {
    await unchanged(all(), async () => {
      expect(ok<AccountInfo>(await getAccount(EMAIL.contributor, ids.d1)).name).toBe("Distributor 1");
      expect(await failingCode(EMAIL.contributor, CHILDREN, { id: ids.d1 })).toBe("FORBIDDEN");
      expect(await failingCode(EMAIL.contributor, SEARCH, { q: "Reseller", within: ids.d1 })).toBe("FORBIDDEN");
      // Without `within`, a non-seller has no search root: nothing is found.
      expect(await searchNames(EMAIL.contributor, "Reseller")).toEqual([]);
      expectError(
        await createAccount(EMAIL.contributor, { parentId: ids.d1, kind: "CUSTOMER", name: "Planted" }),
        "ForbiddenError",
      );
      expectError(
        await inviteExistingAccount(EMAIL.contributor, { parentId: ids.d1, accountId: ids.a1 }),
        "ForbiddenError",
      );
      for (const id of [ids.ra, ids.rb, ids.a1, ids.b1]) {
        expectError(await getAccount(EMAIL.contributor, id), "NotFoundError");
        expectError(await updateAccount(EMAIL.contributor, { id, name: "Hijacked" }), "NotFoundError");
      }
      expectError(
        await setResellerRights(EMAIL.contributor, { id: ids.ra, canCreateAccounts: false }),
        "NotFoundError",
      );
      expectError(
        await inviteMember(EMAIL.contributor, { accountId: ids.ra, email: "spy@example.com", role: "OWNER" }),
        "NotFoundError",
      );
    });
  });

  it("(VIEWER) can read its account and history but cannot change anything", async () => {
    await unchanged(all(), async () => {
      expect(ok<AccountInfo>(await getAccount(EMAIL.viewer, ids.d1)).id).toBe(ids.d1);
      const history = await t.gql<{ account: Success<{ history: Edges<{ action: string }> }> }>(
        EMAIL.viewer,
        `query H($id: ID!) { account(id: $id) { ... on QueryAccountSuccess { data { history(first: 100) { edges { node { action } } } } } } }`,
        { id: ids.d1 },
      );
      expect(history.errors).toBeUndefined();
      expect(history.data!.account.data.history.edges.map((e) => e.node.action)).toContain("account.created");
      expect(await failingCode(EMAIL.viewer, CHILDREN, { id: ids.d1 })).toBe("FORBIDDEN");
      expectError(
        await updateAccount(EMAIL.viewer, { id: ids.d1, name: "Renamed by viewer" }),
        "ForbiddenError",
        "You are not allowed to do this",
      );
      expectError(await updateAccount(EMAIL.viewer, { id: ids.d1, country: "FR" }), "ForbiddenError");
      expectError(
        await inviteMember(EMAIL.viewer, { accountId: ids.d1, email: "friend@example.com", role: "VIEWER" }),
        "ForbiddenError",
      );
      expectError(
        await createAccount(EMAIL.viewer, { parentId: ids.d1, kind: "CUSTOMER", name: "Planted" }),
        "ForbiddenError",
      );
      expectError(await removeMember(EMAIL.viewer, { accountId: ids.d1, email: EMAIL.contributor }), "ForbiddenError");
      expectError(
        await setMemberRole(EMAIL.viewer, { accountId: ids.d1, email: EMAIL.viewer, role: "OWNER" }),
        "ForbiddenError",
      );
      expectError(
        await setMemberSeller(EMAIL.viewer, { accountId: ids.d1, email: EMAIL.viewer, seller: true }),
        "ForbiddenError",
      );
    });
  });
});

describe("a customer owner", () => {
  it("cannot create children, and no one can create children under a customer", async () => {
    await unchanged(all(), async () => {
      expectError(
        await createAccount(EMAIL.a1, { parentId: ids.a1, kind: "CUSTOMER", name: "Sub customer" }),
        "ForbiddenError",
      );
      // Rights answer first: even the sellers above and the operator get Forbidden (customers have no children).
      expectError(
        await createAccount(EMAIL.ra, { parentId: ids.a1, kind: "CUSTOMER", name: "Sub customer" }),
        "ForbiddenError",
      );
      expectError(
        await createAccount(OPERATOR, { parentId: ids.a1, kind: "CUSTOMER", name: "Sub customer" }),
        "ForbiddenError",
      );
      expectError(await setResellerRights(EMAIL.a1, { id: ids.a1, canCreateAccounts: true }), "ForbiddenError");
      // Upwards: its reseller is invisible.
      expectError(await getAccount(EMAIL.a1, ids.ra), "NotFoundError");
      // Tenant administration of a customer belongs to its own owners, not to the sellers above.
      expectError(await removeMember(EMAIL.ra, { accountId: ids.a1, email: EMAIL.a1 }), "ForbiddenError");
      expectError(
        await inviteMember(EMAIL.ra, { accountId: ids.a1, email: "spy@example.com", role: "OWNER" }),
        "ForbiddenError",
      );
    });
  });
});

describe("error shapes", () => {
  it("a denied call on an invisible account looks exactly like an unknown id; on a visible one it is Forbidden", async () => {
    await unchanged(all(), async () => {
      const malformed = "not-a-global-id";
      // Query
      const qHidden = await getAccount(EMAIL.ra, ids.rb);
      expect(shape(qHidden)).toEqual({ __typename: "NotFoundError", code: "NOT_FOUND", message: "Account not found" });
      expect(shape(await getAccount(EMAIL.ra, UNKNOWN))).toEqual(shape(qHidden));
      expect(shape(await getAccount(EMAIL.ra, malformed))).toEqual(shape(qHidden));
      // Mutations
      const uHidden = await updateAccount(EMAIL.ra, { id: ids.rb, name: "X" });
      expect(shape(uHidden)).toEqual({ __typename: "NotFoundError", code: "NOT_FOUND", message: "Account not found" });
      expect(shape(await updateAccount(EMAIL.ra, { id: UNKNOWN, name: "X" }))).toEqual(shape(uHidden));
      expect(shape(await updateAccount(EMAIL.ra, { id: malformed, name: "X" }))).toEqual(shape(uHidden));
      const cHidden = await createAccount(EMAIL.ra, { parentId: ids.rb, kind: "CUSTOMER", name: "X" });
      expect(shape(await createAccount(EMAIL.ra, { parentId: UNKNOWN, kind: "CUSTOMER", name: "X" }))).toEqual(
        shape(cHidden),
      );
      expect(shape(cHidden)).toEqual(shape(uHidden));
      const iHidden = await inviteMember(EMAIL.ra, { accountId: ids.rb, email: "x@example.com", role: "VIEWER" });
      expect(
        shape(await inviteMember(EMAIL.ra, { accountId: UNKNOWN, email: "x@example.com", role: "VIEWER" })),
      ).toEqual(shape(iHidden));
      expect(shape(iHidden)).toEqual(shape(uHidden));
      // Connections: same code for hidden and unknown.
      expect(await failingCode(EMAIL.ra, SEARCH, { q: "C", within: ids.rb })).toBe("NOT_FOUND");
      expect(await failingCode(EMAIL.ra, SEARCH, { q: "C", within: UNKNOWN })).toBe("NOT_FOUND");
      // Visible account, action not allowed: Forbidden.
      expect(shape(await setResellerRights(EMAIL.ra, { id: ids.ra, canCreateAccounts: false }))).toEqual({
        __typename: "ForbiddenError",
        code: "FORBIDDEN",
        message: "You are not allowed to do this",
      });
    });
  });

  it("an anonymous mutation gets HTTP 401 UNAUTHENTICATED and writes nothing", async () => {
    await unchanged(all(), async () => {
      const calls: [string, Record<string, unknown>][] = [
        [
          `mutation M($input: CreateAccountInput!) { createAccount(input: $input) { __typename } }`,
          { input: { parentId: PLATFORM, kind: "DISTRIBUTOR", name: "Anon", country: "GB" } },
        ],
        [
          `mutation M($input: UpdateAccountInput!) { updateAccount(input: $input) { __typename } }`,
          { input: { id: ids.d1, name: "Anon" } },
        ],
        [
          `mutation M($input: InviteMemberInput!) { inviteMember(input: $input) { __typename } }`,
          { input: { accountId: ids.d1, email: "anon@example.com", role: "OWNER" } },
        ],
        [`mutation M($token: String!) { acceptInvitation(token: $token) { __typename } }`, { token: "x".repeat(43) }],
      ];
      for (const [query, variables] of calls) {
        const res: GraphQLResponse = await t.gql(null, query, variables);
        expect(res.status).toBe(401);
        expect(res.data).toBeNull();
        expect(res.errors?.map((e) => e.extensions?.code)).toEqual(["UNAUTHENTICATED"]);
      }
      // A bearer token that does not verify is refused the same way.
      const res = await fetch(`${t.url}/graphql`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: "Bearer not.a.jwt" },
        body: JSON.stringify({
          query: `mutation M($input: UpdateAccountInput!) { updateAccount(input: $input) { __typename } }`,
          variables: { input: { id: ids.d1, name: "Forged" } },
        }),
      });
      expect(res.status).toBe(401);
      const body = (await res.json()) as { errors?: { extensions?: { code?: string } }[] };
      expect(body.errors?.map((e) => e.extensions?.code)).toEqual(["UNAUTHENTICATED"]);
    });
  });
});

describe("owners", () => {
  it("the last owner can be neither removed nor demoted; with two owners one may go", async () => {
    await unchanged(all(), async () => {
      for (const as of [EMAIL.d1, OPERATOR]) {
        expectError(
          await removeMember(as, { accountId: ids.d1, email: EMAIL.d1 }),
          "ConflictError",
          "An account keeps at least one owner",
        );
        for (const role of ["CONTRIBUTOR", "VIEWER"]) {
          expectError(
            await setMemberRole(as, { accountId: ids.d1, email: EMAIL.d1, role }),
            "ConflictError",
            "An account keeps at least one owner",
          );
        }
      }
      expectError(await removeMember(EMAIL.a1, { accountId: ids.a1, email: EMAIL.a1 }), "ConflictError");
      expectError(
        await setMemberRole(EMAIL.a1, { accountId: ids.a1, email: EMAIL.a1, role: "VIEWER" }),
        "ConflictError",
      );
    });

    // A second owner joins Reseller B; then either may be demoted/removed, down to one again.
    const second = "second.owner.rb@example.com";
    ok(await inviteMember(EMAIL.rb, { accountId: ids.rb, email: second, role: "OWNER", seller: true }));
    ok(await acceptInvitation(second, await t.invitationToken(second)));
    expect(
      ok<{ member: MemberInfo }>(
        await setMemberRole(EMAIL.rb, { accountId: ids.rb, email: second, role: "CONTRIBUTOR" }),
      ).member.role,
    ).toBe("CONTRIBUTOR");
    expectError(await setMemberRole(second, { accountId: ids.rb, email: EMAIL.rb, role: "VIEWER" }), "ForbiddenError");
    expectError(await removeMember(EMAIL.rb, { accountId: ids.rb, email: EMAIL.rb }), "ConflictError");
    expect(
      ok<{ member: MemberInfo }>(await setMemberRole(EMAIL.rb, { accountId: ids.rb, email: second, role: "OWNER" }))
        .member.role,
    ).toBe("OWNER");
    expect(
      ok<{ member: MemberInfo }>(await removeMember(second, { accountId: ids.rb, email: second })).member.email,
    ).toBe(second);
    await unchanged(all(), async () => {
      expectError(
        await removeMember(EMAIL.rb, { accountId: ids.rb, email: EMAIL.rb }),
        "ConflictError",
        "An account keeps at least one owner",
      );
      expectError(
        await setMemberRole(EMAIL.rb, { accountId: ids.rb, email: EMAIL.rb, role: "VIEWER" }),
        "ConflictError",
      );
    });
    expect((await members(EMAIL.rb, ids.rb)).map((m) => [m.email, m.role, m.status])).toEqual([
      [EMAIL.rb, "OWNER", "ACTIVE"],
    ]);
    // The removed owner lost its reach.
    expectError(await getAccount(second, ids.rb), "NotFoundError");
  });
});

describe("invitations", () => {
  it("accepted by another signed-in e-mail is Forbidden and stays usable by the right one; a reused token is a Conflict", async () => {
    const invitee = "late.viewer@example.com";
    ok(await inviteMember(EMAIL.d1, { accountId: ids.d1, email: invitee, role: "VIEWER" }));
    const token = await t.invitationToken(invitee);

    await unchanged(all(), async () => {
      for (const intruder of ["intruder@example.com", EMAIL.ra, EMAIL.d1]) {
        expectError(
          await acceptInvitation(intruder, token),
          "ForbiddenError",
          "This invitation was sent to another e-mail address",
        );
      }
      // The right address, but not verified by the identity provider: also Forbidden.
      const unverified = await t.stack.mint(invitee, { emailVerified: false });
      const res = await fetch(`${t.url}/graphql`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${unverified}` },
        body: JSON.stringify({
          query: `mutation A($token: String!) { r: acceptInvitation(token: $token) { __typename ${ERR} } }`,
          variables: { token },
        }),
      });
      const body = (await res.json()) as { data: { r: Result<unknown> } };
      expectError(body.data.r, "ForbiddenError");
    });
    expect((await members(EMAIL.d1, ids.d1)).find((m) => m.email === invitee)?.status).toBe("INVITED");

    const accepted = ok<{ account: AccountInfo; invitation: InvitationInfo }>(await acceptInvitation(invitee, token));
    expect(accepted.account.id).toBe(ids.d1);
    expect(accepted.invitation.status).toBe("ACCEPTED");
    expect((await members(EMAIL.d1, ids.d1)).find((m) => m.email === invitee)).toEqual({
      email: invitee,
      role: "VIEWER",
      status: "ACTIVE",
      seller: false,
    });

    await unchanged(all(), async () => {
      expectError(await acceptInvitation(invitee, token), "ConflictError", "This invitation has already been used");
      expectError(await acceptInvitation("intruder@example.com", token), "ConflictError");
    });
  });

  it("an expired invitation is a ValidationError on token", async () => {
    const invitee = "slow.viewer@example.com";
    ok(await inviteMember(EMAIL.d1, { accountId: ids.d1, email: invitee, role: "VIEWER" }));
    const token = await t.invitationToken(invitee);
    const snap = all();
    const before = await snapshot(snap);
    try {
      await t.setClock(new Date(Date.now() + 8 * 86_400_000));
      const expired = expectError(await acceptInvitation(invitee, token), "ValidationError");
      expect(expired.issues).toEqual([{ path: ["token"], message: "this invitation has expired" }]);
    } finally {
      await t.setClock(new Date());
    }
    expect(await snapshot(snap)).toEqual(before);
    expect((await members(EMAIL.d1, ids.d1)).find((m) => m.email === invitee)?.status).toBe("INVITED");
  });
});

describe("pending invitations and later changes", () => {
  /** Role and seller flag of `email` on `accountId`, as the account's owner sees them. */
  const memberOf = async (owner: string, accountId: string, email: string) =>
    (await members(owner, accountId)).find((m) => m.email === email);

  it("a role lowered while the invitation is pending holds at acceptance", async () => {
    const p = "pending.role@example.com";
    ok(await inviteMember(EMAIL.ra, { accountId: ids.ra, email: p, role: "OWNER" }));
    const token = await t.invitationToken(p);
    expect(
      ok<{ member: MemberInfo }>(await setMemberRole(EMAIL.ra, { accountId: ids.ra, email: p, role: "VIEWER" })).member,
    ).toMatchObject({ role: "VIEWER", status: "INVITED" });
    ok(await acceptInvitation(p, token));
    expect(await memberOf(EMAIL.ra, ids.ra, p)).toEqual({ email: p, role: "VIEWER", status: "ACTIVE", seller: false });
    expectError(await updateAccount(p, { id: ids.ra, name: "Renamed by a viewer" }), "ForbiddenError");
  });

  it("a seller flag removed while the invitation is pending holds at acceptance", async () => {
    const p = "pending.seller@example.com";
    ok(await inviteMember(EMAIL.ra, { accountId: ids.ra, email: p, role: "CONTRIBUTOR", seller: true }));
    const token = await t.invitationToken(p);
    expect(
      ok<{ member: MemberInfo }>(await setMemberSeller(EMAIL.ra, { accountId: ids.ra, email: p, seller: false }))
        .member,
    ).toMatchObject({ seller: false, status: "INVITED" });
    ok(await acceptInvitation(p, token));
    expect(await memberOf(EMAIL.ra, ids.ra, p)).toEqual({
      email: p,
      role: "CONTRIBUTOR",
      status: "ACTIVE",
      seller: false,
    });
    expectError(await getAccount(p, ids.a1), "NotFoundError");
  });

  it("a withdrawn invitation stays unusable, also after the person is invited again", async () => {
    const p = "withdrawn@example.com";
    ok(await inviteMember(EMAIL.ra, { accountId: ids.ra, email: p, role: "OWNER", seller: true }));
    const withdrawn = await t.invitationToken(p);
    ok(await removeMember(EMAIL.ra, { accountId: ids.ra, email: p }));
    await unchanged(all(), async () => {
      expectError(await acceptInvitation(p, withdrawn), "ConflictError");
    });
    ok(await inviteMember(EMAIL.ra, { accountId: ids.ra, email: p, role: "VIEWER" }));
    const current = await t.invitationToken(p);
    expect(current).not.toBe(withdrawn);
    // The withdrawn token was for OWNER + seller: it must not come back to life with the new invitation.
    const revived = await acceptInvitation(p, withdrawn);
    expect
      .soft({ __typename: revived.__typename, code: shape(revived).code })
      .toEqual({ __typename: "ConflictError", code: "CONFLICT" });
    expect(await memberOf(EMAIL.ra, ids.ra, p)).toEqual({ email: p, role: "VIEWER", status: "INVITED", seller: false });
    ok(await acceptInvitation(p, current));
    expect(await memberOf(EMAIL.ra, ids.ra, p)).toEqual({ email: p, role: "VIEWER", status: "ACTIVE", seller: false });
  });

  it("a superseded invitation (re-invited with a lower role) does not grant the old role", async () => {
    const p = "reinvited@example.com";
    ok(await inviteMember(EMAIL.ra, { accountId: ids.ra, email: p, role: "OWNER", seller: true }));
    const first = await t.invitationToken(p);
    ok(await inviteMember(EMAIL.ra, { accountId: ids.ra, email: p, role: "VIEWER" }));
    expect(await memberOf(EMAIL.ra, ids.ra, p)).toEqual({ email: p, role: "VIEWER", status: "INVITED", seller: false });
    // The first token (OWNER + seller) was superseded by the VIEWER invitation.
    const stale = await acceptInvitation(p, first);
    expect
      .soft({ __typename: stale.__typename, code: shape(stale).code })
      .toEqual({ __typename: "ConflictError", code: "CONFLICT" });
    expect(await memberOf(EMAIL.ra, ids.ra, p)).toEqual({ email: p, role: "VIEWER", status: "INVITED", seller: false });
    ok(await acceptInvitation(p, await t.invitationToken(p)));
    expect(await memberOf(EMAIL.ra, ids.ra, p)).toEqual({ email: p, role: "VIEWER", status: "ACTIVE", seller: false });
  });
});

describe("moving an account (runs last: it changes the tree)", () => {
  it("inviteExistingAccount + acceptance moves Reseller B with its subtree under Distributor 2", async () => {
    const d2 = await createWithOwner(OPERATOR, {
      parentId: PLATFORM,
      kind: "DISTRIBUTOR",
      name: "Distributor 2",
      currency: "GBP",
      owner: { email: EMAIL.d2 },
    });
    const d1Before = ok<AccountInfo>(await getAccount(EMAIL.d1, ids.d1)).childCount;
    const d2Before = ok<AccountInfo>(await getAccount(EMAIL.d2, d2)).childCount;
    expect([d1Before, d2Before]).toEqual([2, 0]);

    // Only the owners of the target can accept; the inviter does not see it meanwhile.
    expect(
      ok<{ invitationsSent: number }>(await inviteExistingAccount(EMAIL.d2, { parentId: d2, accountId: ids.rb }))
        .invitationsSent,
    ).toBe(1);
    expectError(await getAccount(EMAIL.d2, ids.rb), "NotFoundError");
    const token = await t.invitationToken(EMAIL.rb);
    await unchanged([...all(), d2], async () => {
      expectError(await acceptInvitation(EMAIL.d2, token), "ForbiddenError");
      expectError(await acceptInvitation(EMAIL.d1, token), "ForbiddenError");
    });

    const moved = ok<{ account: AccountInfo; invitation: InvitationInfo }>(await acceptInvitation(EMAIL.rb, token));
    expect(moved.account.id).toBe(ids.rb);
    expect(moved.invitation).toMatchObject({ kind: "ACCOUNT_MOVE", status: "ACCEPTED" });

    const crumbs = await t.gql<{ account: Success<{ ancestors: { id: string; name: string }[] }> }>(
      EMAIL.rb,
      `query Q($id: ID!) { account(id: $id) { ... on QueryAccountSuccess { data { ancestors { id: accountId name } } } } }`,
      { id: ids.b1 },
    );
    expect(crumbs.errors).toBeUndefined();
    expect(crumbs.data!.account.data.ancestors).toEqual([
      { id: PLATFORM, name: "Platform" },
      { id: d2, name: "Distributor 2" },
      { id: ids.rb, name: "Reseller B" },
    ]);
    expect(ok<AccountInfo>(await getAccount(EMAIL.d1, ids.d1)).childCount).toBe(d1Before - 1);
    expect(ok<AccountInfo>(await getAccount(EMAIL.d2, d2)).childCount).toBe(d2Before + 1);
    expect(await childIds(EMAIL.d1, ids.d1)).toEqual([ids.ra]);
    expect(await childIds(EMAIL.d2, d2)).toEqual([ids.rb]);

    // Distributor 1's people lost the branch; Distributor 2's owner gained it.
    for (const id of [ids.rb, ids.b1]) expectError(await getAccount(EMAIL.d1, id), "NotFoundError");
    expect(await searchNames(EMAIL.d1, "Customer")).toEqual(["Customer A1"]);
    expect(await searchNames(EMAIL.d1, "Reseller")).toEqual(["Reseller A"]);
    expect(await searchNames(EMAIL.d2, "Customer")).toEqual(["Customer B1"]);
    expect(await searchNames(EMAIL.d2, "Reseller")).toEqual(["Reseller B"]);
    expect(ok<AccountInfo>(await getAccount(EMAIL.d2, ids.b1)).name).toBe("Customer B1");
    // Reseller B's owner still sees its own subtree.
    expect(await childIds(EMAIL.rb, ids.rb)).toEqual([ids.b1]);

    // The move token is single use.
    await unchanged([...all(), d2], async () => {
      expectError(await acceptInvitation(EMAIL.rb, token), "ConflictError");
    });
  });
});
