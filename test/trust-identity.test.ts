/**
 * Security rules 1-3 (identity), over HTTP against the local stack: only verified identities act,
 * an address is bound to the IdP identity (iss, sub) of its first verified sign-in, e-mail
 * comparison cannot be aliased by Unicode folding, and the Bearer scheme is case-insensitive.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ERR, OPERATOR, PLATFORM, startTestStack } from "./harness.js";
import type { TestStack } from "./harness.js";

let t: TestStack;

beforeAll(async () => {
  t = await startTestStack();
});
afterAll(async () => {
  await t?.stop();
});

interface ViewerView {
  readonly viewer: {
    readonly email: string;
    readonly emailVerified: boolean;
    readonly memberships: { readonly account: { readonly id: string }; readonly role: string }[];
  };
}
const VIEWER = "{ viewer { email emailVerified memberships { account { id } role } } }";
const ACCOUNT = `query Q($id: ID!) { r: account(id: $id) { __typename ${ERR} } }`;

/** POSTs a GraphQL operation with a raw Authorization header. */
async function post<T>(authorization: string, query: string, variables: Record<string, unknown> = {}) {
  const res = await fetch(`${t.url}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await res.json()) as {
    data?: T | null;
    errors?: { message: string; extensions?: { code?: string } }[];
  };
  return { status: res.status, data: body.data ?? null, errors: body.errors };
}

describe("rule 1: only verified identities act", () => {
  it("an unverified token for the operator's address gets no membership: viewer says unverified, the platform is invisible, nothing is created", async () => {
    const unverified = await t.stack.mint(OPERATOR, { emailVerified: false });
    const v = await post<ViewerView>(`Bearer ${unverified}`, VIEWER);
    expect(v.errors).toBeUndefined();
    expect(v.data?.viewer).toEqual({ email: OPERATOR, emailVerified: false, memberships: [] });

    const a = await post<{ r: { __typename: string; code: string } }>(`Bearer ${unverified}`, ACCOUNT, {
      id: PLATFORM,
    });
    expect(a.data?.r.__typename).toBe("NotFoundError");

    const c = await post<{ r: { __typename: string; code: string } }>(
      `Bearer ${unverified}`,
      `mutation M($input: CreateAccountInput!) { r: createAccount(input: $input) { __typename ${ERR} } }`,
      { input: { parentId: PLATFORM, kind: "DISTRIBUTOR", name: "Sneaky", country: "US", currency: "USD" } },
    );
    expect(c.errors).toBeUndefined();
    expect(c.data?.r.__typename).toBe("NotFoundError");
    const children = await t.read<{ r: { data: { childCount: number } } }>(
      OPERATOR,
      `query Q($id: ID!) { r: account(id: $id) { ... on QueryAccountSuccess { data { childCount } } } }`,
      { id: PLATFORM },
    );
    expect(children.r.data.childCount).toBe(0);
  });

  it("a verified token for the same address keeps its rights (control)", async () => {
    const v = await t.read<ViewerView>(OPERATOR, VIEWER);
    expect(v.viewer.emailVerified).toBe(true);
    expect(v.viewer.memberships.map((m) => [m.account.id, m.role])).toEqual([[PLATFORM, "OWNER"]]);
  });

  it("binds the address to the (iss, sub) of its first verified sign-in and refuses another sub for it", async () => {
    await t.read(OPERATOR, VIEWER); // bound now (if not before) to local|operator@example.com
    const reassigned = await t.stack.mint(OPERATOR, { subject: "local|someone-else" });
    const r = await post<ViewerView>(`Bearer ${reassigned}`, VIEWER);
    expect(r.status).toBe(401);
    expect(r.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
    expect(r.data).toBeNull();
    // The bound identity still acts.
    const again = await post<ViewerView>(`Bearer ${await t.stack.mint(OPERATOR)}`, VIEWER);
    expect(again.data?.viewer.memberships).toHaveLength(1);
  });

  it("binds a new address at its first verified sign-in, not at an unverified one", async () => {
    const email = "fresh@binding.example";
    // An unverified token with some sub binds nothing...
    await post(`Bearer ${await t.stack.mint(email, { emailVerified: false, subject: "idp|squatter" })}`, VIEWER);
    // ...so the first verified identity gets the address, and the squatter's sub is refused from then on.
    const first = await post<ViewerView>(`Bearer ${await t.stack.mint(email, { subject: "idp|owner" })}`, VIEWER);
    expect(first.status).toBe(200);
    const squatter = await post<ViewerView>(`Bearer ${await t.stack.mint(email, { subject: "idp|squatter" })}`, VIEWER);
    expect(squatter.status).toBe(401);
  });
});

describe("rule 2: e-mail comparison cannot be aliased", () => {
  it("refuses a token whose address changes under Unicode folding (Kelvin sign), instead of mapping it onto kim@", async () => {
    const r = await post<ViewerView>(`Bearer ${await t.stack.mint("\u212Aim@example.com")}`, VIEWER);
    expect(r.status).toBe(401);
    expect(r.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
  });

  it("refuses to invite an address that changes under Unicode folding or NFKC; ASCII case still folds", async () => {
    const doc = `mutation M($input: InviteMemberInput!) { r: inviteMember(input: $input) { __typename ... on MutationInviteMemberSuccess { data { member { email } } } ${ERR} } }`;
    const invite = (email: string) =>
      t.gql<{ r: { __typename: string; data?: { member: { email: string } } } }>(OPERATOR, doc, {
        input: { accountId: PLATFORM, email, role: "VIEWER" },
      });
    const before = await t.outboxCount();
    for (const email of [
      "\u212Aim@example.com",
      "stra\u00DFe@example.com",
      "\uFF41dmin@example.com",
      "\u00C9mile@example.com",
    ]) {
      const r = await invite(email);
      // Refused by the EmailAddress scalar (BAD_USER_INPUT) or by core's rule (ValidationError): never mapped.
      const refused =
        r.errors?.[0]?.extensions?.code === "BAD_USER_INPUT" || r.data?.r.__typename === "ValidationError";
      expect(refused, `${email}: ${JSON.stringify(r)}`).toBe(true);
    }
    expect(await t.outboxCount()).toBe(before);
    const ok = await invite("Kim.Ascii@Example.COM");
    expect(ok.data?.r.data?.member.email).toBe("kim.ascii@example.com");
  });
});

describe("rule 3: token hygiene at the edge", () => {
  it("accepts the Bearer scheme in any case (RFC 7235)", async () => {
    const token = await t.stack.mint(OPERATOR);
    for (const scheme of ["bearer", "BEARER", "BeArEr"]) {
      const r = await post<ViewerView>(`${scheme} ${token}`, VIEWER);
      expect(r.status, scheme).toBe(200);
      expect(r.data?.viewer.email).toBe(OPERATOR);
    }
  });

  it("refuses a token living longer than 24 h, accepts one of 24 h", async () => {
    expect((await post(`Bearer ${await t.stack.mint(OPERATOR, { ttlSeconds: 86_400 + 60 })}`, VIEWER)).status).toBe(
      401,
    );
    expect((await post(`Bearer ${await t.stack.mint(OPERATOR, { ttlSeconds: 86_400 })}`, VIEWER)).status).toBe(200);
  });
});
