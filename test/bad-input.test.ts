/**
 * Bad input over HTTP: every malformed or rule-breaking input gets a typed error (or, for the
 * GraphQL scalars, a top-level coercion error) and writes nothing.
 *
 * "Writes nothing" is checked by the operator re-reading the accounts concerned before and after
 * (childCount, children, history(first: 100), members, invitations) and by the mail outbox size.
 *
 *   Platform
 *   └── Distributor 1 (owner d1)
 *       ├── Reseller R (owner r) ── R1 ── … (reseller chain built by d1)
 *       └── Customer C
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ERR, OPERATOR, PLATFORM, expectError, expectInvalid, expectUnchanged, ok, startTestStack } from "./harness.js";
import type { Edges, Success, TestStack } from "./harness.js";

interface AccountInfo {
  readonly id: string;
  readonly name: string;
  readonly kind: string;
  readonly country: string;
  readonly reference: string | null;
  readonly childCount: number;
  readonly updatedAt: string;
}

const ACCOUNT = "id name kind country reference childCount updatedAt";
const D1_OWNER = "owner.d1@example.com";
const R_OWNER = "owner.r@example.com";
const ids = { d1: "", r: "", c: "" };

let t: TestStack;

// ---------------------------------------------------------------- helpers

interface CreateInput {
  readonly parentId: string;
  readonly kind: string;
  readonly name: string;
  readonly country?: string;
  readonly reference?: string;
  readonly owner?: { readonly email: string; readonly firstName?: string };
  readonly currency?: string;
}
const createAccount = (as: string, input: CreateInput) =>
  t.mutate<{ account: AccountInfo }>(
    as,
    "createAccount",
    "CreateAccountInput",
    { country: "GB", ...input },
    `account { ${ACCOUNT} }`,
  );
const updateAccount = (as: string, input: { id: string; name?: string; country?: string; reference?: string | null }) =>
  t.mutate<{ account: AccountInfo }>(as, "updateAccount", "UpdateAccountInput", input, `account { ${ACCOUNT} }`);
const inviteMember = (
  as: string,
  input: { accountId: string; email: string; role: string; seller?: boolean; firstName?: string },
) => t.mutate<{ member: { email: string } }>(as, "inviteMember", "InviteMemberInput", input, "member { email }");

const inviteExistingAccount = (as: string, input: { parentId: string; accountId: string }) =>
  t.mutate<{ invitationsSent: number }>(
    as,
    "inviteExistingAccount",
    "InviteExistingAccountInput",
    input,
    "invitationsSent",
  );
const removeMember = (as: string, input: { accountId: string; email: string }) =>
  t.mutate<{ member: { email: string } }>(as, "removeMember", "MemberRefInput", input, "member { email }");
const setMemberRole = (as: string, input: { accountId: string; email: string; role: string }) =>
  t.mutate<{ member: { email: string } }>(as, "setMemberRole", "SetMemberRoleInput", input, "member { email }");
const setResellerRights = (as: string, input: { id: string; canCreateAccounts?: boolean }) =>
  t.mutate<{ account: AccountInfo }>(
    as,
    "setResellerRights",
    "SetResellerRightsInput",
    input,
    `account { ${ACCOUNT} }`,
  );

const acceptInvitation = (as: string, token: string) =>
  t.acceptInvitation<{ account: { id: string } }>(as, token, "account { id }");
const getAccount = (as: string, id: string) => t.account<AccountInfo>(as, id, ACCOUNT);

/** A BAD_USER_INPUT connection error on argument `arg`. */
async function expectInvalidArg(
  as: string,
  query: string,
  variables: Record<string, unknown>,
  arg: string,
): Promise<void> {
  const e = await t.failing(as, query, variables);
  expect(e.extensions?.code).toBe("BAD_USER_INPUT");
  expect(e.extensions?.issues?.map((i) => i.path)).toEqual([[arg]]);
}

const CONNECTIONS = (field: "children" | "members" | "history" | "invitations") =>
  `query C($id: ID!, $first: Int, $after: String) { account(id: $id) { __typename ... on QueryAccountSuccess { data { c: ${field}(first: $first, after: $after) { edges { cursor } } } } ${ERR} } }`;
const SEARCH = `query S($q: String!, $within: ID, $first: Int, $after: String) { searchAccounts(query: $q, within: $within, first: $first, after: $after) { edges { cursor node { id name } } } }`;

async function cursors(
  as: string,
  field: "children" | "members" | "history" | "invitations",
  id: string,
  first = 100,
): Promise<string[]> {
  const res = await t.gql<{ account: Success<{ c: Edges<unknown> }> }>(as, CONNECTIONS(field), { id, first });
  expect(res.errors, JSON.stringify(res.errors)).toBeUndefined();
  return res.data!.account.data.c.edges.map((e) => e.cursor);
}

const SNAPSHOT = `query Snap($id: ID!) { account(id: $id) { __typename ... on QueryAccountSuccess { data {
  ${ACCOUNT} canCreateAccounts canCreateEquipment
  children(first: 100) { edges { cursor node { id name childCount } } }
  members(first: 100) { edges { node { email role status seller firstName joinedAt } } }
  invitations(first: 100) { edges { node { id status email role } } }
  history(first: 100) { edges { node { id at action actor subjectId details } } }
} } ${ERR} } }`;

/** Everything an authorised reader (the operator) sees of the accounts, plus the outbox size. */
const snapshot = async (accountIds: readonly string[]) => ({
  accounts: await t.operatorAccounts(SNAPSHOT, accountIds),
  outbox: await t.outboxCount(),
});

/** Runs `fn` (bad calls) and asserts that nothing an authorised reader sees has changed. */
const unchanged = (accountIds: readonly string[], fn: () => Promise<void>) =>
  expectUnchanged(() => snapshot(accountIds), fn);

const base = () => [PLATFORM, ids.d1, ids.r, ids.c];

// ---------------------------------------------------------------- setup

beforeAll(async () => {
  t = await startTestStack();
  const d1 = ok<{ account: AccountInfo }>(
    await createAccount(OPERATOR, {
      parentId: PLATFORM,
      kind: "DISTRIBUTOR",
      name: "Distributor 1",
      currency: "GBP",
      owner: { email: D1_OWNER },
    }),
  );
  ids.d1 = d1.account.id;
  ok(await acceptInvitation(D1_OWNER, await t.invitationToken(D1_OWNER)));
  ids.r = ok<{ account: AccountInfo }>(
    await createAccount(D1_OWNER, {
      parentId: ids.d1,
      kind: "RESELLER",
      name: "Reseller R",
      owner: { email: R_OWNER },
    }),
  ).account.id;
  ok(await acceptInvitation(R_OWNER, await t.invitationToken(R_OWNER)));
  ids.c = ok<{ account: AccountInfo }>(
    await createAccount(D1_OWNER, { parentId: ids.d1, kind: "CUSTOMER", name: "Customer C", reference: "CRM-C" }),
  ).account.id;
}, 60_000);

afterAll(async () => {
  await t?.stop();
});

// ---------------------------------------------------------------- tests

describe("country", () => {
  it("an unknown or malformed country is a ValidationError on country, on create and on update", async () => {
    await unchanged(base(), async () => {
      for (const country of ["XX", "ZZ", "GBR", "G", "", "  ", "1A", "g b", "UK"]) {
        expectInvalid(
          await createAccount(D1_OWNER, { parentId: ids.d1, kind: "CUSTOMER", name: "Bad country", country }),
          ["country"],
          "must be an ISO 3166-1 alpha-2 country code",
        );
        expectInvalid(
          await updateAccount(D1_OWNER, { id: ids.c, country }),
          ["country"],
          "must be an ISO 3166-1 alpha-2 country code",
        );
      }
    });
  });

  it("lower case and surrounding spaces are normalised: 'gb' and ' fr ' are stored 'GB' and 'FR'", async () => {
    const lower = ok<{ account: AccountInfo }>(
      await createAccount(D1_OWNER, { parentId: ids.d1, kind: "CUSTOMER", name: "Lower country", country: "gb" }),
    ).account;
    expect(lower.country).toBe("GB");
    expect(ok<AccountInfo>(await getAccount(OPERATOR, lower.id)).country).toBe("GB");
    const spaced = ok<{ account: AccountInfo }>(
      await createAccount(D1_OWNER, { parentId: ids.d1, kind: "CUSTOMER", name: "Spaced country", country: " fr " }),
    ).account;
    expect(ok<AccountInfo>(await getAccount(OPERATOR, spaced.id)).country).toBe("FR");
    expect(
      ok<{ account: AccountInfo }>(await updateAccount(D1_OWNER, { id: spaced.id, country: "de" })).account.country,
    ).toBe("DE");
    expect(ok<AccountInfo>(await getAccount(OPERATOR, spaced.id)).country).toBe("DE");
  });
});

describe("name and reference", () => {
  const bad: [string, string, string][] = [
    ["empty", "", "must not be empty"],
    ["whitespace only", "   \t  ", "must not be empty"],
    ["10 kB", "N".repeat(10_240), "must be at most 120 characters"],
    ["121 characters", "x".repeat(121), "must be at most 120 characters"],
    ["a control character", "Acme\u0000Ltd", "must not contain control characters"],
    ["a newline", "Acme\nLtd", "must not contain control characters"],
  ];

  it.each(bad)("a name that is %s is a ValidationError on name (create and update)", async (_label, name, message) => {
    await unchanged(base(), async () => {
      expectInvalid(await createAccount(D1_OWNER, { parentId: ids.d1, kind: "CUSTOMER", name }), ["name"], message);
      expectInvalid(
        await createAccount(OPERATOR, {
          parentId: PLATFORM,
          kind: "DISTRIBUTOR",
          name,
          currency: "GBP",
          owner: { email: "never.mailed@example.com" },
        }),
        ["name"],
        message,
      );
      expectInvalid(await updateAccount(D1_OWNER, { id: ids.c, name }), ["name"], message);
    });
  });

  it("a 120-character name is accepted and stored trimmed", async () => {
    const name = "y".repeat(120);
    const created = ok<{ account: AccountInfo }>(
      await createAccount(D1_OWNER, { parentId: ids.d1, kind: "CUSTOMER", name: `  ${name}  ` }),
    ).account;
    expect(ok<AccountInfo>(await getAccount(OPERATOR, created.id)).name).toBe(name);
  });

  it("a reference over 100 characters or with control characters is a ValidationError on reference", async () => {
    await unchanged(base(), async () => {
      expectInvalid(
        await createAccount(D1_OWNER, {
          parentId: ids.d1,
          kind: "CUSTOMER",
          name: "Bad reference",
          reference: "r".repeat(101),
        }),
        ["reference"],
        "must be at most 100 characters",
      );
      expectInvalid(
        await updateAccount(D1_OWNER, { id: ids.c, reference: "r".repeat(101) }),
        ["reference"],
        "must be at most 100 characters",
      );
      expectInvalid(
        await updateAccount(D1_OWNER, { id: ids.c, reference: "CRM\u0007" }),
        ["reference"],
        "must not contain control characters",
      );
    });
  });

  it("several bad fields give one ValidationError naming each field", async () => {
    await unchanged(base(), async () => {
      const e = expectError(
        await createAccount(D1_OWNER, { parentId: ids.d1, kind: "CUSTOMER", name: " ", country: "XX" }),
        "ValidationError",
      );
      expect(e.issues?.map((i) => i.path).sort()).toEqual([["country"], ["name"]]);
    });
  });
});

describe("owner e-mail", () => {
  const CREATE = `mutation M($input: CreateAccountInput!) { createAccount(input: $input) { __typename ${ERR} } }`;

  it.each(["not-an-email", "a@", "@example.com", "two@@example.com", "spaces in@example.com", ""])(
    "a malformed owner e-mail (%j) is refused by EmailAddress coercion with a top-level error and writes nothing",
    async (email) => {
      await unchanged(base(), async () => {
        const res = await t.gql(D1_OWNER, CREATE, {
          input: { parentId: ids.d1, kind: "CUSTOMER", name: "Bad owner", country: "GB", owner: { email } },
        });
        expect(res.data).toBeNull();
        expect(res.errors).toHaveLength(1);
        expect(res.errors![0]!.message).toContain('at "input.owner.email"; Value is not a valid email address');
        // The same value written inline is a validation error of the document.
        const inline = await t.gql(
          D1_OWNER,
          `mutation { createAccount(input: { parentId: ${JSON.stringify(ids.d1)}, kind: CUSTOMER, name: "Bad owner", country: "GB", owner: { email: ${JSON.stringify(email)} } }) { __typename } }`,
        );
        expect(inline.data).toBeNull();
        expect(inline.errors?.length).toBeGreaterThanOrEqual(1);
        // inviteMember uses the same scalar.
        const invite = await t.gql(
          D1_OWNER,
          `mutation M($input: InviteMemberInput!) { inviteMember(input: $input) { __typename } }`,
          { input: { accountId: ids.d1, email, role: "VIEWER" } },
        );
        expect(invite.data).toBeNull();
        expect(invite.errors).toHaveLength(1);
        expect(invite.errors![0]!.message).toContain('at "input.email"; Value is not a valid email address');
      });
    },
  );

  it("an e-mail the scalar accepts but the domain rules refuse is a ValidationError on owner.email", async () => {
    await unchanged(base(), async () => {
      expectInvalid(
        await createAccount(D1_OWNER, {
          parentId: ids.d1,
          kind: "CUSTOMER",
          name: "Bad owner",
          owner: { email: "someone@localhost" },
        }),
        ["owner", "email"],
        "must be an e-mail address",
      );
      expectInvalid(
        await inviteMember(D1_OWNER, { accountId: ids.d1, email: "someone@localhost", role: "VIEWER" }),
        ["email"],
        "must be an e-mail address",
      );
    });
  });

  it("an owner first name over 80 characters is a ValidationError on owner.firstName", async () => {
    await unchanged(base(), async () => {
      expectInvalid(
        await createAccount(D1_OWNER, {
          parentId: ids.d1,
          kind: "CUSTOMER",
          name: "Long first name",
          owner: { email: "long.name@example.com", firstName: "F".repeat(81) },
        }),
        ["owner", "firstName"],
        "must be at most 80 characters",
      );
    });
  });
});

describe("kind and parent", () => {
  it.each([
    ["CUSTOMER under PLATFORM", "PLATFORM", "CUSTOMER"],
    ["RESELLER under PLATFORM", "PLATFORM", "RESELLER"],
    ["DISTRIBUTOR under DISTRIBUTOR", "d1", "DISTRIBUTOR"],
    ["PLATFORM under DISTRIBUTOR", "d1", "PLATFORM"],
    ["DISTRIBUTOR under RESELLER", "r", "DISTRIBUTOR"],
  ] as const)("%s is a ValidationError on kind", async (_label, parent, kind) => {
    const parentId = parent === "PLATFORM" ? PLATFORM : ids[parent];
    const parentKind = parent === "PLATFORM" ? "PLATFORM" : parent === "d1" ? "DISTRIBUTOR" : "RESELLER";
    await unchanged(base(), async () => {
      expectInvalid(
        await createAccount(OPERATOR, { parentId, kind, name: "Wrong kind" }),
        ["kind"],
        `a ${parentKind} account cannot have a ${kind} child`,
      );
    });
  });

  it("RESELLER (or anything) under CUSTOMER is refused: customers have no children (ForbiddenError, even for the operator)", async () => {
    await unchanged(base(), async () => {
      for (const as of [OPERATOR, D1_OWNER]) {
        for (const kind of ["RESELLER", "CUSTOMER"]) {
          expectError(await createAccount(as, { parentId: ids.c, kind, name: "Under a customer" }), "ForbiddenError");
        }
      }
    });
  });

  it("an unknown kind is refused by enum coercion", async () => {
    await unchanged(base(), async () => {
      const res = await t.gql(
        D1_OWNER,
        `mutation M($input: CreateAccountInput!) { createAccount(input: $input) { __typename } }`,
        {
          input: { parentId: ids.d1, kind: "PARTNER", name: "Unknown kind", country: "GB" },
        },
      );
      expect(res.data).toBeNull();
      expect(res.errors).toHaveLength(1);
      expect(res.errors![0]!.message).toMatch(/AccountKind/);
    });
  });

  it("resellers nest six levels deep; a seventh (created or moved in) is a ValidationError on parentId", async () => {
    let parentId = ids.d1;
    const chain: string[] = [];
    for (let level = 1; level <= 6; level++) {
      const created = ok<{ account: AccountInfo }>(
        await createAccount(D1_OWNER, { parentId, kind: "RESELLER", name: `Level ${level}` }),
      ).account;
      chain.push(created.id);
      parentId = created.id;
    }
    const deepest = chain.at(-1)!;
    await unchanged([...base(), ...chain], async () => {
      for (const as of [D1_OWNER, OPERATOR]) {
        expectInvalid(
          await createAccount(as, { parentId: deepest, kind: "RESELLER", name: "Level 7" }),
          ["parentId"],
          "resellers nest at most 6 levels deep",
        );
      }
    });
    // Moves obey the same depth and shape rules; a refused move invitation mails nobody.
    const [level1, , level3] = chain as [string, string, string];
    await unchanged([...base(), ...chain], async () => {
      // Reseller R (level 1) under level 6 would be level 7.
      expectInvalid(
        await inviteExistingAccount(D1_OWNER, { parentId: deepest, accountId: ids.r }),
        ["parentId"],
        "resellers nest at most 6 levels deep",
      );
      // The whole chain under Reseller R: its sixth level would become the seventh.
      expectInvalid(
        await inviteExistingAccount(D1_OWNER, { parentId: ids.r, accountId: level1 }),
        ["parentId"],
        "resellers nest at most 6 levels deep",
      );
      expectInvalid(
        await inviteExistingAccount(D1_OWNER, { parentId: level3, accountId: level1 }),
        ["parentId"],
        "an account cannot move under its own subtree",
      );
      expectInvalid(
        await inviteExistingAccount(D1_OWNER, { parentId: level1, accountId: level1 }),
        ["parentId"],
        "an account cannot move under its own subtree",
      );
      expectInvalid(
        await inviteExistingAccount(D1_OWNER, { parentId: ids.d1, accountId: ids.c }),
        ["parentId"],
        "the account is already under this parent",
      );
      expectInvalid(
        await inviteExistingAccount(OPERATOR, { parentId: PLATFORM, accountId: ids.c }),
        ["parentId"],
        "a PLATFORM account cannot have a CUSTOMER child",
      );
      expectInvalid(
        await inviteExistingAccount(OPERATOR, { parentId: ids.d1, accountId: PLATFORM }),
        ["accountId"],
        "the platform cannot move",
      );
      expectError(await inviteExistingAccount(D1_OWNER, { parentId: ids.d1, accountId: "garbage" }), "NotFoundError");
    });
    // A customer may still sit under the sixth level.
    expect(
      ok<{ account: AccountInfo }>(
        await createAccount(D1_OWNER, { parentId: deepest, kind: "CUSTOMER", name: "Deep customer" }),
      ).account.kind,
    ).toBe("CUSTOMER");
  });
});

describe("paging arguments", () => {
  it('`after: "garbage"` and other non-cursors are INVALID on after', async () => {
    await unchanged(base(), async () => {
      for (const after of ["garbage", "!!!", "x".repeat(3000), "eyJmb28iOiJiYXIifQ"]) {
        for (const field of ["children", "members", "history", "invitations"] as const) {
          await expectInvalidArg(OPERATOR, CONNECTIONS(field), { id: ids.d1, after }, "after");
        }
        await expectInvalidArg(OPERATOR, SEARCH, { q: "R", after }, "after");
      }
    });
  });

  it("cursors are opaque (no table keys inside) and a tampered one is INVALID on after", async () => {
    const [first, second] = await cursors(OPERATOR, "children", ids.d1, 2);
    expect(first).toBeDefined();
    // Before sealing a cursor was base64 JSON of the DynamoDB keys: nothing of it shows now.
    const d1Local = Buffer.from(ids.d1, "base64").toString().split(":")[1]!;
    for (const c of [first!, second!]) {
      const decoded = Buffer.from(c, "base64url").toString("latin1");
      expect(() => JSON.parse(Buffer.from(c, "base64").toString())).toThrow();
      expect(decoded).not.toMatch(/"(pk|sk|parentid|namekey)"/i);
      expect(decoded.toLowerCase()).not.toContain(d1Local.toLowerCase());
    }
    // It works as is...
    const next = await t.gql<{ account: Success<{ c: Edges<unknown> }> }>(OPERATOR, CONNECTIONS("children"), {
      id: ids.d1,
      first: 1,
      after: first,
    });
    expect(next.errors).toBeUndefined();
    expect(next.data!.account.data.c.edges.map((e) => e.cursor)).toEqual([second]);
    // ...and not with one character changed anywhere, nor cut short.
    await unchanged(base(), async () => {
      for (const at of [0, Math.floor(first!.length / 2), first!.length - 1]) {
        const flipped = first!.slice(0, at) + (first![at] === "A" ? "B" : "A") + first!.slice(at + 1);
        await expectInvalidArg(OPERATOR, CONNECTIONS("children"), { id: ids.d1, after: flipped }, "after");
      }
      await expectInvalidArg(OPERATOR, CONNECTIONS("children"), { id: ids.d1, after: first!.slice(0, -4) }, "after");
    });
  });

  it("a cursor taken from another account's children list (or from another list) is INVALID on after", async () => {
    // Distributor 1 has several children; Reseller R one (created here, by the operator).
    ok(await createAccount(OPERATOR, { parentId: ids.r, kind: "CUSTOMER", name: "Customer of R" }));
    const d1Children = await cursors(OPERATOR, "children", ids.d1, 1);
    const d1History = await cursors(OPERATOR, "history", ids.d1, 1);
    const rMembers = await cursors(OPERATOR, "members", ids.r, 1);
    expect([d1Children.length, d1History.length, rMembers.length]).toEqual([1, 1, 1]);
    await unchanged(base(), async () => {
      await expectInvalidArg(OPERATOR, CONNECTIONS("children"), { id: ids.r, after: d1Children[0] }, "after");
      await expectInvalidArg(OPERATOR, CONNECTIONS("children"), { id: ids.d1, after: d1History[0] }, "after");
      await expectInvalidArg(OPERATOR, CONNECTIONS("history"), { id: ids.r, after: d1History[0] }, "after");
      await expectInvalidArg(OPERATOR, CONNECTIONS("members"), { id: ids.d1, after: rMembers[0] }, "after");
    });
  });

  it("first: 100000 nulls that list only, with BAD_USER_INPUT and its path; the sibling fields answer", async () => {
    const r = await t.gql<{
      account: Success<{ name: string; c: unknown; members: Edges<unknown> }>;
      viewer: { email: string };
    }>(
      OPERATOR,
      `query($id: ID!) { viewer { email } account(id: $id) { ... on QueryAccountSuccess { data { name c: children(first: 100000) { edges { cursor } } members(first: 1) { edges { cursor } } } } } }`,
      { id: ids.d1 },
    );
    expect(r.data?.viewer.email).toBe(OPERATOR);
    expect(r.data?.account.data.name).toBeTruthy();
    expect(r.data?.account.data.c).toBeNull();
    expect(r.data?.account.data.members.edges).toHaveLength(1);
    expect(r.errors?.map((e) => ({ code: e.extensions?.code, path: e.path, issues: e.extensions?.issues }))).toEqual([
      {
        code: "BAD_USER_INPUT",
        path: ["account", "data", "c"],
        issues: [{ path: ["first"], message: "must be between 1 and 100" }],
      },
    ]);
  });

  it("first: 0, first: 101, first: -1 are BAD_USER_INPUT on first; backward paging is not offered", async () => {
    await unchanged(base(), async () => {
      for (const first of [0, 101, -1]) {
        for (const field of ["children", "members", "history", "invitations"] as const) {
          await expectInvalidArg(OPERATOR, CONNECTIONS(field), { id: ids.d1, first }, "first");
        }
        await expectInvalidArg(OPERATOR, SEARCH, { q: "R", first }, "first");
      }
      // Connections take first/after only: last/before are refused at validation, before anything runs.
      for (const arg of ["last: 1", 'before: "x"']) {
        const r = await t.gql(
          OPERATOR,
          `query C($id: ID!) { account(id: $id) { ... on QueryAccountSuccess { data { children(${arg}) { edges { cursor } } } } } }`,
          { id: ids.d1 },
        );
        expect(r.data ?? null).toBeNull();
        expect(r.errors?.[0]?.message).toMatch(/^Unknown argument "(last|before)" on field "Account\.children"/);
      }
      // The edges are fine: 1 and 100.
      expect((await cursors(OPERATOR, "children", ids.d1, 1)).length).toBe(1);
      expect((await cursors(OPERATOR, "history", ids.d1, 100)).length).toBeGreaterThan(1);
    });
  });

  it("an empty or 121-character search query is INVALID on query", async () => {
    await unchanged(base(), async () => {
      for (const q of ["", "   ", "q".repeat(121)]) await expectInvalidArg(OPERATOR, SEARCH, { q }, "query");
    });
  });

  it("children filters: name and reference together, or too long, are INVALID", async () => {
    const FILTERED = `query C($id: ID!, $search: String, $reference: String) { account(id: $id) { ... on QueryAccountSuccess { data { children(search: $search, reference: $reference) { edges { cursor } } } } } }`;
    await unchanged(base(), async () => {
      await expectInvalidArg(OPERATOR, FILTERED, { id: ids.d1, search: "C", reference: "CRM" }, "reference");
      await expectInvalidArg(OPERATOR, FILTERED, { id: ids.d1, search: "s".repeat(121) }, "search");
      await expectInvalidArg(OPERATOR, FILTERED, { id: ids.d1, reference: "r".repeat(101) }, "reference");
    });
  });
});

describe("global ids", () => {
  const malformed = [
    "garbage",
    "",
    "%%%",
    Buffer.from("Member:someone@example.com").toString("base64"),
    Buffer.from("Account:").toString("base64"),
    Buffer.from("Account").toString("base64"),
    Buffer.from(`Account:${"x".repeat(65)}`).toString("base64"),
    Buffer.from("Account:01ZZZZZZZZZZZZZZZZZZZZZZZZ").toString("base64"),
  ];

  it("malformed, foreign-type or unknown ids are NotFoundError everywhere", async () => {
    await unchanged(base(), async () => {
      for (const id of malformed) {
        const e = expectError(await getAccount(OPERATOR, id), "NotFoundError");
        expect(e.message).toBe("Account not found");
        expectError(await createAccount(OPERATOR, { parentId: id, kind: "CUSTOMER", name: "Orphan" }), "NotFoundError");
        expectError(await updateAccount(OPERATOR, { id, name: "Renamed" }), "NotFoundError");
        expectError(
          await inviteMember(OPERATOR, { accountId: id, email: "nobody@example.com", role: "VIEWER" }),
          "NotFoundError",
        );
        const node = await t.gql<{ node: unknown }>(OPERATOR, `query N($id: ID!) { node(id: $id) { id } }`, { id });
        expect(node.data).toEqual({ node: null });
        if (id !== "") {
          const search = await t.failing(OPERATOR, SEARCH, { q: "R", within: id });
          expect(search.extensions?.code).toBe("NOT_FOUND");
        }
      }
    });
  });

  it("an id of another type, or a malformed local part, is the expected type's NotFoundError (decoded by Pothos, one mapping)", async () => {
    await unchanged(base(), async () => {
      const scopedMalformed = (type: string) => Buffer.from(`${type}:no-colon-here`).toString("base64");
      for (const [id, message] of [
        [ids.d1, "Subscription not found"],
        [scopedMalformed("LicenceSubscription"), "Subscription not found"],
        ["garbage", "Subscription not found"],
      ] as const) {
        const e = expectError(
          await t.mutate(
            OPERATOR,
            "cancelSubscription",
            "CancelSubscriptionInput",
            { subscriptionId: id },
            "subscription { id }",
          ),
          "NotFoundError",
        );
        expect(e.message).toBe(message);
      }
      for (const id of [ids.d1, "garbage"]) {
        const e = expectError(
          await t.mutate(OPERATOR, "revokeApiClient", "ApiClientRefInput", { clientId: id }, "client { id }"),
          "NotFoundError",
        );
        expect(e.message).toBe("ApiClient not found");
      }
    });
  });

  it('searchAccounts(within: "") is NOT_FOUND like any other malformed id (not silently the default root)', async () => {
    const search = await t.failing(OPERATOR, SEARCH, { q: "R", within: "" });
    expect(search.extensions?.code).toBe("NOT_FOUND");
  });
});

describe("members", () => {
  it("inviting an active member is a ConflictError and mails nobody", async () => {
    await unchanged(base(), async () => {
      expectError(
        await inviteMember(OPERATOR, { accountId: ids.d1, email: D1_OWNER, role: "VIEWER" }),
        "ConflictError",
      );
      expectError(
        await inviteMember(D1_OWNER, { accountId: ids.d1, email: D1_OWNER.toUpperCase(), role: "VIEWER" }),
        "ConflictError",
      );
    });
  });

  it("changing or removing someone who is not a member is a NotFoundError", async () => {
    await unchanged(base(), async () => {
      expectError(await removeMember(D1_OWNER, { accountId: ids.d1, email: "stranger@example.com" }), "NotFoundError");
      expectError(
        await setMemberRole(D1_OWNER, { accountId: ids.d1, email: "stranger@example.com", role: "OWNER" }),
        "NotFoundError",
      );
      // A member of another account is not a member here either.
      expectError(await removeMember(D1_OWNER, { accountId: ids.d1, email: R_OWNER }), "NotFoundError");
    });
  });

  it("reseller rights on an account that is not a reseller are Forbidden", async () => {
    await unchanged(base(), async () => {
      expectError(await setResellerRights(OPERATOR, { id: ids.d1, canCreateAccounts: true }), "ForbiddenError");
      expectError(await setResellerRights(D1_OWNER, { id: ids.c, canCreateAccounts: true }), "ForbiddenError");
    });
  });
});

describe("invitation tokens", () => {
  it("a malformed token is a ValidationError on token; an unknown one a NotFoundError", async () => {
    await unchanged(base(), async () => {
      for (const token of ["", "short", "x".repeat(201)]) {
        expectInvalid(await acceptInvitation(R_OWNER, token), ["token"], "is not an invitation token");
      }
      expectError(await acceptInvitation(R_OWNER, "u".repeat(43)), "NotFoundError");
    });
  });

  it("a reused token is a ConflictError; an expired one a ValidationError on token", async () => {
    const reused = "reused@example.com";
    ok(await inviteMember(D1_OWNER, { accountId: ids.d1, email: reused, role: "VIEWER" }));
    const token = await t.invitationToken(reused);
    ok(await acceptInvitation(reused, token));
    await unchanged(base(), async () => {
      expectError(await acceptInvitation(reused, token), "ConflictError");
    });

    const late = "late@example.com";
    ok(await inviteMember(D1_OWNER, { accountId: ids.d1, email: late, role: "CONTRIBUTOR" }));
    const lateToken = await t.invitationToken(late);
    const before = await snapshot(base());
    try {
      await t.setClock(new Date(Date.now() + 8 * 86_400_000));
      expectInvalid(await acceptInvitation(late, lateToken), ["token"], "this invitation has expired");
      // Expired and reused: the reuse is what is reported.
      expectError(await acceptInvitation(reused, token), "ConflictError");
    } finally {
      await t.setClock(new Date());
    }
    expect(await snapshot(base())).toEqual(before);
  });
});
