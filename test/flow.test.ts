import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ERR, OPERATOR, PLATFORM, ok, startTestStack } from "./harness.js";
import type { TestStack } from "./harness.js";

/**
 * The seed story (Rainbow / Ribbon onboarding), driven over HTTP against the started local stack.
 */
describe("hierarchy and people: the seed story", () => {
  let t: TestStack;
  const D1_OWNER = "owner@distributor1.example";
  const D1_CONTRIB = "contributor@distributor1.example";
  const PA_OWNER = "owner@partner-a.example";
  const PB_OWNER = "owner@partner-b.example";
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    t = await startTestStack();
  });
  afterAll(async () => {
    await t?.stop();
  });

  const createAccount = async (as: string, input: Record<string, unknown>) => {
    const r = await t.gql<{ createAccount: unknown }>(
      as,
      `mutation($input: CreateAccountInput!) { createAccount(input: $input) { __typename ... on MutationCreateAccountSuccess { data { account { id name kind reference country childCount } invitation { email role status } } } ${ERR} } }`,
      { input },
    );
    return ok<{
      account: { id: string; name: string; kind: string; reference: string | null; country: string };
      invitation: { email: string; role: string; status: string } | null;
    }>(r.data?.createAccount);
  };
  const accept = async (email: string) => {
    const token = await t.invitationToken(email);
    const r = await t.gql<{ acceptInvitation: unknown }>(
      email,
      `mutation($token: String!) { acceptInvitation(token: $token) { __typename ... on MutationAcceptInvitationSuccess { data { account { id name } invitation { status } } } ${ERR} } }`,
      { token },
    );
    return ok<{ account: { id: string; name: string }; invitation: { status: string } }>(r.data?.acceptInvitation);
  };

  it("an operator creates Distributor 1 and invites its owner, who accepts from the mailed token", async () => {
    const created = await createAccount(OPERATOR, {
      parentId: PLATFORM,
      kind: "DISTRIBUTOR",
      name: "Distributor 1",
      country: "GB",
      currency: "USD",
      owner: { email: D1_OWNER, firstName: "Dana" },
    });
    expect(created.account).toMatchObject({ name: "Distributor 1", kind: "DISTRIBUTOR", country: "GB" });
    expect(created.invitation).toEqual({ email: D1_OWNER, role: "OWNER", status: "PENDING" });
    ids.d1 = created.account.id;
    const accepted = await accept(D1_OWNER);
    expect(accepted).toEqual({ account: { id: ids.d1, name: "Distributor 1" }, invitation: { status: "ACCEPTED" } });
    const viewer = await t.gql<{
      viewer: { email: string; memberships: { role: string; seller: boolean; account: { name: string } }[] };
    }>(D1_OWNER, "{ viewer { email memberships { role seller account { name } } } }");
    expect(viewer.data?.viewer).toEqual({
      email: D1_OWNER,
      memberships: [{ role: "OWNER", seller: true, account: { name: "Distributor 1" } }],
    });
  });

  it("the distributor owner invites a contributor, who joins", async () => {
    const r = await t.gql<{ inviteMember: unknown }>(
      D1_OWNER,
      `mutation($input: InviteMemberInput!) { inviteMember(input: $input) { __typename ... on MutationInviteMemberSuccess { data { member { email role status seller } } } ${ERR} } }`,
      { input: { accountId: ids.d1, email: D1_CONTRIB, role: "CONTRIBUTOR" } },
    );
    expect(ok(r.data?.inviteMember)).toEqual({
      member: { email: D1_CONTRIB, role: "CONTRIBUTOR", status: "INVITED", seller: false },
    });
    await accept(D1_CONTRIB);
    const members = await t.gql<{
      account: { data: { members: { edges: { node: { email: string; role: string; status: string } }[] } } };
    }>(
      D1_OWNER,
      `query($id: ID!) { account(id: $id) { ... on QueryAccountSuccess { data { members { edges { node { email role status } } } } } } }`,
      { id: ids.d1 },
    );
    expect(members.data?.account.data.members.edges.map((e) => e.node)).toEqual([
      { email: D1_CONTRIB, role: "CONTRIBUTOR", status: "ACTIVE" },
      { email: D1_OWNER, role: "OWNER", status: "ACTIVE" },
    ]);
  });

  it("the distributor creates Indirect Partner A and B with their owners; A's owner accepts and creates Customer 2 and 3", async () => {
    const a = await createAccount(D1_OWNER, {
      parentId: ids.d1,
      kind: "RESELLER",
      name: "Indirect Partner A",
      country: "GB",
      owner: { email: PA_OWNER },
    });
    const b = await createAccount(D1_OWNER, {
      parentId: ids.d1,
      kind: "RESELLER",
      name: "Indirect Partner B",
      country: "FR",
      owner: { email: PB_OWNER },
    });
    ids.pa = a.account.id;
    ids.pb = b.account.id;
    expect(a.invitation?.email).toBe(PA_OWNER);
    await accept(PA_OWNER);
    // The parent grants the reseller the right to create accounts.
    const rights = await t.gql<{ setResellerRights: unknown }>(
      D1_OWNER,
      `mutation($input: SetResellerRightsInput!) { setResellerRights(input: $input) { __typename ... on MutationSetResellerRightsSuccess { data { account { canCreateAccounts } } } ${ERR} } }`,
      { input: { id: ids.pa, canCreateAccounts: true } },
    );
    expect(ok(rights.data?.setResellerRights)).toEqual({ account: { canCreateAccounts: true } });
    const c2 = await createAccount(PA_OWNER, { parentId: ids.pa, kind: "CUSTOMER", name: "Customer 2", country: "GB" });
    const c3 = await createAccount(PA_OWNER, {
      parentId: ids.pa,
      kind: "CUSTOMER",
      name: "Customer 3",
      reference: "CRM Reference for Customer 3",
      country: "GB",
    });
    ids.c2 = c2.account.id;
    ids.c3 = c3.account.id;
    expect(c3.account).toMatchObject({
      name: "Customer 3",
      reference: "CRM Reference for Customer 3",
      country: "GB",
      kind: "CUSTOMER",
    });
  });

  it("breadcrumbs of Customer 3 read Platform / Distributor 1 / Indirect Partner A", async () => {
    const r = await t.gql<{ account: { data: { ancestors: { name: string; kind: string }[] } } }>(
      PA_OWNER,
      `query($id: ID!) { account(id: $id) { ... on QueryAccountSuccess { data { ancestors { name kind } } } } }`,
      { id: ids.c3 },
    );
    expect(r.data?.account.data.ancestors).toEqual([
      { name: "Platform", kind: "PLATFORM" },
      { name: "Distributor 1", kind: "DISTRIBUTOR" },
      { name: "Indirect Partner A", kind: "RESELLER" },
    ]);
    // Globally unique ids (Relay): a breadcrumb's id is its own, the ancestor's Account id is accountId.
    const ids2 = await t.gql<{
      account: { data: { id: string; parent: { id: string }; ancestors: { id: string; accountId: string }[] } };
    }>(
      PA_OWNER,
      `query($id: ID!) { account(id: $id) { ... on QueryAccountSuccess { data { id parent { id } ancestors { id accountId } } } } }`,
      { id: ids.c3 },
    );
    const crumbs = ids2.data!.account.data.ancestors;
    expect(crumbs.at(-1)!.accountId).toBe(ids2.data!.account.data.parent.id);
    for (const c of crumbs) expect(c.id).not.toBe(c.accountId);
    expect(new Set(crumbs.map((c) => c.id)).size).toBe(3);
  });

  it("the distributor's search finds Customer 3 by name prefix and by reference, anywhere in its subtree", async () => {
    const search = async (query: string, byReference = false) => {
      const r = await t.gql<{ searchAccounts: { edges: { node: { name: string } }[] } }>(
        D1_OWNER,
        `query($q: String!, $r: Boolean) { searchAccounts(query: $q, byReference: $r) { edges { node { name } } } }`,
        { q: query, r: byReference },
      );
      expect(r.errors).toBeUndefined();
      return r.data!.searchAccounts.edges.map((e) => e.node.name);
    };
    expect(await search("cust")).toEqual(["Customer 2", "Customer 3"]);
    expect(await search("Customer 3")).toEqual(["Customer 3"]);
    expect(await search("crm reference")).toEqual([]);
    expect(await search("CRM Reference for", true)).toEqual(["Customer 3"]);
    expect(await search("indirect")).toEqual(["Indirect Partner A", "Indirect Partner B"]);
    // Partner A's search covers only its own subtree.
    const pa = await t.gql<{ searchAccounts: { edges: { node: { name: string } }[] } }>(
      PA_OWNER,
      `{ searchAccounts(query: "") { edges { node { name } } } }`,
    );
    expect(pa.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
    const paAll = await t.gql<{ searchAccounts: { edges: { node: { name: string } }[] } }>(
      PA_OWNER,
      `{ searchAccounts(query: "i") { edges { node { name } } } }`,
    );
    expect(paAll.data?.searchAccounts.edges).toEqual([]);
  });

  it("children pages: sizes, cursors, name and reference search, child counts", async () => {
    for (let i = 1; i <= 5; i++) {
      await createAccount(PA_OWNER, {
        parentId: ids.pa,
        kind: "CUSTOMER",
        name: `Branch ${i}`,
        reference: `REF-${i}`,
        country: "DE",
      });
    }
    const page = async (args: string) => {
      const r = await t.gql<{
        account: {
          data: {
            childCount: number;
            children: {
              edges: { cursor: string; node: { name: string } }[];
              pageInfo: { hasNextPage: boolean; endCursor: string | null };
            };
          };
        };
      }>(
        PA_OWNER,
        `query($id: ID!) { account(id: $id) { ... on QueryAccountSuccess { data { childCount children(${args}) { edges { cursor node { name } } pageInfo { hasNextPage endCursor } } } } } }`,
        { id: ids.pa },
      );
      expect(r.errors).toBeUndefined();
      return r.data!.account.data;
    };
    const p1 = await page("first: 3");
    expect(p1.childCount).toBe(7);
    expect(p1.children.edges.map((e) => e.node.name)).toEqual(["Branch 1", "Branch 2", "Branch 3"]);
    expect(p1.children.pageInfo.hasNextPage).toBe(true);
    const p2 = await page(`first: 3, after: "${p1.children.pageInfo.endCursor}"`);
    expect(p2.children.edges.map((e) => e.node.name)).toEqual(["Branch 4", "Branch 5", "Customer 2"]);
    const p3 = await page(`first: 3, after: "${p2.children.pageInfo.endCursor}"`);
    expect(p3.children.edges.map((e) => e.node.name)).toEqual(["Customer 3"]);
    expect(p3.children.pageInfo.hasNextPage).toBe(false);
    // Resuming from any edge's cursor works too.
    const fromEdge = await page(`first: 2, after: "${p1.children.edges[0]!.cursor}"`);
    expect(fromEdge.children.edges.map((e) => e.node.name)).toEqual(["Branch 2", "Branch 3"]);
    expect((await page(`search: "branch 4"`)).children.edges.map((e) => e.node.name)).toEqual(["Branch 4"]);
    expect((await page(`reference: "ref-"`)).children.edges.map((e) => e.node.name)).toEqual([
      "Branch 1",
      "Branch 2",
      "Branch 3",
      "Branch 4",
      "Branch 5",
    ]);
    expect((await page(`reference: "crm"`)).children.edges.map((e) => e.node.name)).toEqual(["Customer 3"]);
    const d1 = await t.gql<{ account: { data: { childCount: number } } }>(
      D1_OWNER,
      `query($id: ID!) { account(id: $id) { ... on QueryAccountSuccess { data { childCount } } } }`,
      { id: ids.d1 },
    );
    expect(d1.data?.account.data.childCount).toBe(2);
  });

  it("updates an account and records who did what in the history, newest first", async () => {
    const r = await t.gql<{ updateAccount: unknown }>(
      PA_OWNER,
      `mutation($input: UpdateAccountInput!) { updateAccount(input: $input) { __typename ... on MutationUpdateAccountSuccess { data { account { name reference country } } } ${ERR} } }`,
      { input: { id: ids.c2, name: "Customer Two", reference: "CRM-2", country: "ie" } },
    );
    expect(ok(r.data?.updateAccount)).toEqual({ account: { name: "Customer Two", reference: "CRM-2", country: "IE" } });
    const found = await t.gql<{ searchAccounts: { edges: { node: { name: string } }[] } }>(
      D1_OWNER,
      `{ searchAccounts(query: "customer t") { edges { node { name } } } }`,
    );
    expect(found.data?.searchAccounts.edges.map((e) => e.node.name)).toEqual(["Customer Two"]);
    const h = await t.gql<{
      account: { data: { history: { edges: { node: { action: string; actor: string; details: string | null } }[] } } };
    }>(
      PA_OWNER,
      `query($id: ID!) { account(id: $id) { ... on QueryAccountSuccess { data { history(first: 10) { edges { node { action actor details } } } } } } }`,
      { id: ids.c2 },
    );
    const events = h.data!.account.data.history.edges.map((e) => e.node);
    expect(events.map((e) => [e.action, e.actor])).toEqual([
      ["account.updated", `user:${PA_OWNER}`],
      ["account.created", `user:${PA_OWNER}`],
    ]);
    expect(JSON.parse(events[0]!.details!)).toEqual({
      name: { from: "Customer 2", to: "Customer Two" },
      reference: { from: null, to: "CRM-2" },
      country: { from: "GB", to: "IE" },
    });
    const d1History = await t.gql<{ account: { data: { history: { edges: { node: { action: string } }[] } } } }>(
      D1_OWNER,
      `query($id: ID!) { account(id: $id) { ... on QueryAccountSuccess { data { history(first: 100) { edges { node { action } } } } } } }`,
      { id: ids.d1 },
    );
    expect(d1History.data!.account.data.history.edges.map((e) => e.node.action)).toEqual([
      "account.created", // Indirect Partner B
      "account.created", // Indirect Partner A
      "member.joined",
      "member.invited",
      "member.joined",
      "member.invited",
      "account.created",
    ]);
  });

  it("roles: promote the contributor to owner, then the first owner can step down; the last owner stays", async () => {
    const setRole = async (as: string, email: string, role: string) =>
      (
        await t.gql<{ setMemberRole: { __typename: string; code?: string } }>(
          as,
          `mutation($input: SetMemberRoleInput!) { setMemberRole(input: $input) { __typename ... on MutationSetMemberRoleSuccess { data { member { role } } } ${ERR} } }`,
          { input: { accountId: ids.d1, email, role } },
        )
      ).data!.setMemberRole;
    expect((await setRole(D1_OWNER, D1_CONTRIB, "OWNER")).__typename).toBe("MutationSetMemberRoleSuccess");
    expect((await setRole(D1_OWNER, D1_OWNER, "VIEWER")).__typename).toBe("MutationSetMemberRoleSuccess");
    const last = await setRole(D1_CONTRIB, D1_CONTRIB, "CONTRIBUTOR");
    expect(last).toMatchObject({ __typename: "ConflictError", code: "CONFLICT" });
  });
});
