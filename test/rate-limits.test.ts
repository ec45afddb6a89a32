/**
 * Per-account rate limits: invitations sent for an account and activation codes
 * tried on an account's PBXs, per window. The stack runs with small allowances so the limits are
 * reached quickly; the rule is the same with core/limits.ts's defaults. Past a limit: RATE_LIMITED,
 * HTTP 429 with Retry-After, nothing written; the next window allows again; other accounts are not
 * affected.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RATE_LIMITS } from "../core/limits.js";
import { ERR, OPERATOR, PLATFORM, ok, startTestStack } from "./harness.js";
import type { Result, TestStack } from "./harness.js";

let t: TestStack;
const D_OWNER = "owner@limited.example";
const OTHER_OWNER = "owner@unlimited.example";
const ids = { d: "", other: "" };
const LIMITS = { invitation: { max: 3, windowSeconds: 3600 }, activation: { max: 7, windowSeconds: 3600 } };

async function raw(as: string | null, query: string, variables: Record<string, unknown>) {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (as) headers.authorization = `Bearer ${await t.token(as)}`;
  const res = await fetch(`${t.url}/graphql`, { method: "POST", headers, body: JSON.stringify({ query, variables }) });
  return {
    status: res.status,
    retryAfter: res.headers.get("retry-after"),
    body: (await res.json()) as {
      data?: Record<string, Result<unknown>> | null;
      errors?: Array<{ message: string; extensions?: { code?: string; retryAfterSeconds?: number } }>;
    },
  };
}

const MUTATION = (name: string, inputType: string, select: string) =>
  `mutation($input: ${inputType}!) { ${name}(input: $input) { __typename ... on Mutation${name[0]!.toUpperCase()}${name.slice(1)}Success { data { ${select} } } ${ERR} } }`;

async function mutate<T>(
  as: string,
  name: string,
  inputType: string,
  input: Record<string, unknown>,
  select: string,
): Promise<Result<T>> {
  const r = await raw(as, MUTATION(name, inputType, select), { input });
  expect(r.body.errors, JSON.stringify(r.body.errors)).toBeUndefined();
  return r.body.data![name] as Result<T>;
}

const invite = (as: string, accountId: string, email: string) =>
  raw(as, MUTATION("inviteMember", "InviteMemberInput", "member { email }"), {
    input: { accountId, email, role: "VIEWER" },
  });
const members = async (accountId: string) =>
  (
    (
      await t.gql<{ account: { data: { members: { edges: { node: { email: string } }[] } } } }>(
        OPERATOR,
        `query($id: ID!) { account(id: $id) { ... on QueryAccountSuccess { data { members(first: 100) { edges { node { email } } } } } } }`,
        { id: accountId },
      )
    ).data?.account.data.members.edges ?? []
  ).map((e) => e.node.email);

function expectLimited(r: Awaited<ReturnType<typeof raw>>, field: string): void {
  expect(r.status).toBe(429);
  expect(Number(r.retryAfter)).toBeGreaterThan(0);
  expect(r.body.data?.[field] ?? null).toBeNull();
  expect(r.body.errors?.map((e) => e.extensions?.code)).toEqual(["RATE_LIMITED"]);
  expect(r.body.errors?.[0]?.extensions?.retryAfterSeconds).toBe(Number(r.retryAfter));
}

beforeAll(async () => {
  t = await startTestStack({ rateLimits: LIMITS });
  await t.setClock("2026-10-05T10:20:00.000Z");
  const create = async (name: string, owner: string) =>
    ok<{ account: { id: string } }>(
      await mutate(
        OPERATOR,
        "createAccount",
        "CreateAccountInput",
        { parentId: PLATFORM, kind: "DISTRIBUTOR", name, country: "FR", currency: "EUR", owner: { email: owner } },
        "account { id }",
      ),
    ).account.id;
  ids.d = await create("Limited Distribution", D_OWNER);
  ids.other = await create("Unlimited Distribution", OTHER_OWNER);
  for (const owner of [D_OWNER, OTHER_OWNER]) {
    const r = await t.gql<{ acceptInvitation: { __typename: string } }>(
      owner,
      `mutation($token: String!) { acceptInvitation(token: $token) { __typename } }`,
      { token: await t.invitationToken(owner) },
    );
    expect(r.data?.acceptInvitation.__typename).toBe("MutationAcceptInvitationSuccess");
  }
}, 60_000);

afterAll(async () => {
  await t?.stop();
});

describe("invitations per account", () => {
  it("the defaults are an hourly window: 200 invitations, 100 activation attempts", () => {
    expect(RATE_LIMITS).toEqual({
      invitation: { max: 200, windowSeconds: 3600 },
      activation: { max: 100, windowSeconds: 3600 },
    });
  });

  it("past the allowance: RATE_LIMITED with 429 and Retry-After, no member, no invitation, no mail", async () => {
    for (let i = 1; i <= 3; i++)
      expect((await invite(D_OWNER, ids.d, `m${i}@limited.example`)).body.data?.inviteMember?.__typename).toBe(
        "MutationInviteMemberSuccess",
      );
    const mails = t.stack.outbox.list().length;
    const over = await invite(D_OWNER, ids.d, "m4@limited.example");
    expectLimited(over, "inviteMember");
    // 10:20 in an hourly window: 40 minutes left (the stack's clock runs on, so a slow machine may be a minute later).
    expect(Number(over.retryAfter)).toBeLessThanOrEqual(40 * 60);
    expect(Number(over.retryAfter)).toBeGreaterThan(39 * 60);
    expect(await members(ids.d)).not.toContain("m4@limited.example");
    expect(t.stack.outbox.list()).toHaveLength(mails);
  });

  it("creating an account with its owner counts against the creating account", async () => {
    const r = await raw(D_OWNER, MUTATION("createAccount", "CreateAccountInput", "account { id }"), {
      input: {
        parentId: ids.d,
        kind: "CUSTOMER",
        name: "Refused Customer",
        country: "FR",
        owner: { email: "boss@refused.example" },
      },
    });
    expectLimited(r, "createAccount");
    // Without an owner to invite, the creation is not an invitation.
    ok(
      await mutate(
        D_OWNER,
        "createAccount",
        "CreateAccountInput",
        { parentId: ids.d, kind: "CUSTOMER", name: "Silent Customer", country: "FR" },
        "account { id }",
      ),
    );
  });

  it("another account keeps its own allowance", async () => {
    expect((await invite(OTHER_OWNER, ids.other, "x1@unlimited.example")).body.data?.inviteMember?.__typename).toBe(
      "MutationInviteMemberSuccess",
    );
  });

  it("the next window allows again", async () => {
    await t.setClock("2026-10-05T11:00:01.000Z");
    expect((await invite(D_OWNER, ids.d, "m4@limited.example")).body.data?.inviteMember?.__typename).toBe(
      "MutationInviteMemberSuccess",
    );
    expect(await members(ids.d)).toContain("m4@limited.example");
  });
});

describe("activation attempts per account", () => {
  const ACTIVATE = `mutation($d: String!, $c: String!) { r: activateEquipment(deviceId: $d, activationCode: $c) { __typename ... on MutationActivateEquipmentSuccess { data { equipmentId } } ${ERR} } }`;
  const declare = async (name: string) =>
    ok<{ deviceId: string; activationCode: string; equipment: { id: string } }>(
      await mutate(
        D_OWNER,
        "declareEquipment",
        "DeclareEquipmentInput",
        { accountId: ids.d, name, serverType: "OXO_CONNECT", country: "FR", outboundPrefix: "0" },
        "deviceId activationCode equipment { id }",
      ),
    );
  const attempt = async (deviceId: string, code: string) =>
    (await raw(null, ACTIVATE, { d: deviceId, c: code })).body.data?.r?.__typename;
  const wrongFor = (code: string) => (code === "00000000" ? "11111111" : "00000000");

  it("past the account's allowance, even the right code on a fresh PBX is refused, spending nothing; the next window pairs it", async () => {
    await t.setClock("2026-10-05T12:00:00.000Z");
    const a = await declare("PBX A");
    const b = await declare("PBX B");
    // 5 wrong codes lock A (its own limit); 2 wrong ones on B: 7 attempts, the account's allowance.
    for (let i = 0; i < 5; i++) expect(await attempt(a.deviceId, wrongFor(a.activationCode))).toBe("ForbiddenError");
    for (let i = 0; i < 2; i++) expect(await attempt(b.deviceId, wrongFor(b.activationCode))).toBe("ForbiddenError");
    const before = await t.gql<{ account: { data: { history: { edges: unknown[] } } } }>(
      D_OWNER,
      `query($id: ID!) { account(id: $id) { ... on QueryAccountSuccess { data { history(first: 100) { edges { node { action } } } } } } }`,
      { id: ids.d },
    );
    // The 8th attempt, with B's right code: the same refusal as any failure, and no attempt recorded.
    expect(await attempt(b.deviceId, b.activationCode)).toBe("ForbiddenError");
    const after = await t.gql<{ account: { data: { history: { edges: unknown[] } } } }>(
      D_OWNER,
      `query($id: ID!) { account(id: $id) { ... on QueryAccountSuccess { data { history(first: 100) { edges { node { action } } } } } } }`,
      { id: ids.d },
    );
    expect(after.data?.account.data.history.edges).toHaveLength(before.data!.account.data.history.edges.length);
    await t.setClock("2026-10-05T13:00:01.000Z");
    expect(await attempt(b.deviceId, b.activationCode)).toBe("MutationActivateEquipmentSuccess");
  });
});
