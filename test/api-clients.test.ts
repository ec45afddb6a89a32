import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ERR, OPERATOR, PLATFORM, expectError, startTestStack } from "./harness.js";
import type { Result, TestStack } from "./harness.js";

/**
 * API clients over HTTP: an OWNER creates a machine identity; it gets 15-minute tokens
 * at POST /oauth/token (RFC 6749 §4.4, Basic or form authentication, §5.2 errors), acts like a
 * member with its role and seller flag, never manages people or clients, is audited as itself,
 * and rotation and revocation bite at the next request.
 */
describe("API clients: credentials, tokens and rights", () => {
  let t: TestStack;
  const D_OWNER = "owner@dist-clients.example";
  const C_OWNER = "owner@cust-clients.example";
  const OTHER_OWNER = "owner@other-clients.example";
  const TRUNK = "RC-DRAAS-TRUNK-SUB";
  const ids = { d: "", c: "", other: "", client: "", clientId: "", secret: "" };

  interface TokenAnswer {
    status: number;
    body: Record<string, unknown>;
    headers: Headers;
  }
  const tokenRequest = async (init: {
    basic?: [string, string];
    form?: Record<string, string>;
    contentType?: string;
  }): Promise<TokenAnswer> => {
    const headers: Record<string, string> = { "content-type": init.contentType ?? "application/x-www-form-urlencoded" };
    if (init.basic)
      headers.authorization = `Basic ${Buffer.from(`${encodeURIComponent(init.basic[0])}:${encodeURIComponent(init.basic[1])}`).toString("base64")}`;
    const res = await fetch(`${t.url}/oauth/token`, {
      method: "POST",
      headers,
      body: new URLSearchParams(init.form ?? {}).toString(),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown>, headers: res.headers };
  };
  const getToken = async (clientId: string, secret: string): Promise<string> => {
    const r = await tokenRequest({ basic: [clientId, secret], form: { grant_type: "client_credentials" } });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    return r.body.access_token as string;
  };
  const PROBE = "query($id: ID!) { node(id: $id) { id } }";
  const PLACE = `mutation($input: PlaceOrderInput!) { placeOrder(input: $input) { __typename ... on MutationPlaceOrderSuccess { data { order { id } } } ${ERR} } }`;
  const INVITE = `mutation($input: InviteMemberInput!) { inviteMember(input: $input) { __typename ${ERR} } }`;
  const CREATE_CLIENT = `mutation($input: CreateApiClientInput!) { createApiClient(input: $input) { __typename ... on MutationCreateApiClientSuccess { data { clientSecret client { id clientId } } } ${ERR} } }`;

  beforeAll(async () => {
    t = await startTestStack();
    await t.setClock("2026-11-02T09:00:00.000Z");
    const d = await t.mutateOk<{ account: { id: string } }>(
      OPERATOR,
      "createAccount",
      "CreateAccountInput",
      {
        parentId: PLATFORM,
        kind: "DISTRIBUTOR",
        name: "Dist Clients",
        country: "US",
        currency: "USD",
        owner: { email: D_OWNER },
      },
      "account { id }",
    );
    ids.d = d.account.id;
    await t.accept(D_OWNER);
    await t.mutateOk(
      OPERATOR,
      "setAvailableOffers",
      "SetAvailableOffersInput",
      { accountId: ids.d, skus: [TRUNK] },
      "account { id }",
    );
    const c = await t.mutateOk<{ account: { id: string } }>(
      D_OWNER,
      "createAccount",
      "CreateAccountInput",
      { parentId: ids.d, kind: "CUSTOMER", name: "Cust Clients", country: "US", owner: { email: C_OWNER } },
      "account { id }",
    );
    ids.c = c.account.id;
    await t.accept(C_OWNER);
    const other = await t.mutateOk<{ account: { id: string } }>(
      OPERATOR,
      "createAccount",
      "CreateAccountInput",
      {
        parentId: PLATFORM,
        kind: "DISTRIBUTOR",
        name: "Other Dist",
        country: "US",
        currency: "USD",
        owner: { email: OTHER_OWNER },
      },
      "account { id }",
    );
    ids.other = other.account.id;
    await t.accept(OTHER_OWNER);
  });
  afterAll(async () => {
    await t?.stop();
  });

  it("an OWNER creates a seller client and sees its secret once; only OWNERs of the account may", async () => {
    const created = await t.mutateOk<{
      clientSecret: string;
      client: { id: string; clientId: string; role: string; seller: boolean; lastUsedAt: string | null };
    }>(
      D_OWNER,
      "createApiClient",
      "CreateApiClientInput",
      { accountId: ids.d, name: "ERP connector", role: "CONTRIBUTOR", seller: true },
      "clientSecret client { id clientId role seller lastUsedAt }",
    );
    expect(created.clientSecret).toMatch(/^cps_[A-Za-z0-9_-]{43}$/);
    expect(created.client).toMatchObject({ role: "CONTRIBUTOR", seller: true, lastUsedAt: null });
    ids.client = created.client.id;
    ids.clientId = created.client.clientId;
    ids.secret = created.clientSecret;
    // The list never shows a secret (there is no field for it) and is for the account's owners.
    const listed = await t.account<{ apiClients: { edges: { node: { clientId: string; status: string } }[] } }>(
      D_OWNER,
      ids.d,
      "apiClients { edges { node { clientId status } } }",
    );
    expect(listed).toMatchObject({
      data: { apiClients: { edges: [{ node: { clientId: ids.clientId, status: "ACTIVE" } }] } },
    });
    // Another distributor's owner does not even learn the account exists; the operator (seller above, not an owner of it) is refused.
    const foreign = await t.read<{ createApiClient: Result<unknown> }>(OTHER_OWNER, CREATE_CLIENT, {
      input: { accountId: ids.d, name: "x", role: "OWNER" },
    });
    expectError(foreign.createApiClient, "NotFoundError");
    const operator = await t.read<{ createApiClient: Result<unknown> }>(OPERATOR, CREATE_CLIENT, {
      input: { accountId: ids.d, name: "x", role: "OWNER" },
    });
    expectError(operator.createApiClient, "ForbiddenError");
    // A seller flag on a customer's client is refused with the field named.
    const bad = await t.read<{ createApiClient: Result<unknown> }>(C_OWNER, CREATE_CLIENT, {
      input: { accountId: ids.c, name: "x", role: "OWNER", seller: true },
    });
    expectError(bad.createApiClient, "ValidationError");
  });

  it("POST /oauth/token: Basic or form authentication give a 15-minute bearer token; errors follow RFC 6749 §5.2", async () => {
    const basic = await tokenRequest({ basic: [ids.clientId, ids.secret], form: { grant_type: "client_credentials" } });
    expect(basic.status).toBe(200);
    expect(basic.body).toMatchObject({ token_type: "Bearer", expires_in: 900 });
    expect(basic.headers.get("cache-control")).toBe("no-store");
    const form = await tokenRequest({
      form: { grant_type: "client_credentials", client_id: ids.clientId, client_secret: ids.secret },
    });
    expect(form.status).toBe(200);

    const wrong = await tokenRequest({
      basic: [ids.clientId, `${ids.secret}x`],
      form: { grant_type: "client_credentials" },
    });
    expect(wrong.status).toBe(401);
    expect(wrong.body.error).toBe("invalid_client");
    expect(wrong.headers.get("www-authenticate")).toMatch(/^Basic/);
    const unknown = await tokenRequest({
      form: {
        grant_type: "client_credentials",
        client_id: `cpc_${ids.d.length ? "NOPE" : ""}_0123456789abcdef01234567`,
        client_secret: ids.secret,
      },
    });
    expect([unknown.status, unknown.body.error]).toEqual([401, "invalid_client"]);
    const grant = await tokenRequest({ basic: [ids.clientId, ids.secret], form: { grant_type: "password" } });
    expect([grant.status, grant.body.error]).toEqual([400, "unsupported_grant_type"]);
    const missing = await tokenRequest({ basic: [ids.clientId, ids.secret] });
    expect([missing.status, missing.body.error]).toEqual([400, "invalid_request"]);
    const both = await tokenRequest({
      basic: [ids.clientId, ids.secret],
      form: { grant_type: "client_credentials", client_id: ids.clientId, client_secret: ids.secret },
    });
    expect([both.status, both.body.error]).toEqual([400, "invalid_request"]);
    const json = await tokenRequest({ contentType: "application/json", form: { grant_type: "client_credentials" } });
    expect([json.status, json.body.error]).toEqual([400, "invalid_request"]);
    // The secret never appears in an answer.
    expect(JSON.stringify([wrong.body, grant.body, missing.body])).not.toContain(ids.secret);
  });

  it("the seller client places an order for a customer below, is audited as itself, and cannot invite a member or create a client", async () => {
    const token = await getToken(ids.clientId, ids.secret);
    const placed = await t.device<{ placeOrder: Result<{ order: { id: string } }> }>(token, PLACE, {
      input: { accountId: ids.c, lines: [{ sku: TRUNK, quantity: 3 }], idempotencyKey: "client-1" },
    });
    expect(placed.errors).toBeUndefined();
    expect(placed.data!.placeOrder.__typename).toBe("MutationPlaceOrderSuccess");

    const history = await t.account<{ history: { edges: { node: { action: string; actor: string } }[] } }>(
      C_OWNER,
      ids.c,
      "history { edges { node { action actor } } }",
    );
    const entry = (
      history as { data: { history: { edges: { node: { action: string; actor: string } }[] } } }
    ).data.history.edges.find((e) => e.node.action === "order.placed");
    expect(entry?.node.actor).toBe(
      `client:ERP connector (${ids.clientId}) of ${ids.d.length ? Buffer.from(ids.d, "base64").toString().split(":")[1] : ""}`,
    );

    const invite = await t.device<{ inviteMember: Result<unknown> }>(token, INVITE, {
      input: { accountId: ids.d, email: "new@dist-clients.example", role: "VIEWER" },
    });
    expectError(invite.data!.inviteMember, "ForbiddenError");
    const invite2 = await t.device<{ inviteMember: Result<unknown> }>(token, INVITE, {
      input: { accountId: ids.c, email: "new@cust-clients.example", role: "VIEWER" },
    });
    expectError(invite2.data!.inviteMember, "ForbiddenError");
    const client = await t.device<{ createApiClient: Result<unknown> }>(token, CREATE_CLIENT, {
      input: { accountId: ids.d, name: "child", role: "VIEWER" },
    });
    expectError(client.data!.createApiClient, "ForbiddenError");
    // Nor may it create an account with an owner invitation (people management).
    const withOwner = await t.device<{ createAccount: Result<unknown> }>(
      token,
      `mutation($input: CreateAccountInput!) { createAccount(input: $input) { __typename ${ERR} } }`,
      {
        input: {
          parentId: ids.d,
          kind: "CUSTOMER",
          name: "By robot",
          country: "US",
          owner: { email: "x@robot.example" },
        },
      },
    );
    expectError(withOwner.data!.createAccount, "ForbiddenError");
    // Another branch is out of its reach: the same answer as an unknown account.
    const foreign = await t.device<{ placeOrder: Result<unknown> }>(token, PLACE, {
      input: { accountId: ids.other, lines: [{ sku: TRUNK, quantity: 1 }], idempotencyKey: "client-x" },
    });
    expectError(foreign.data!.placeOrder, "NotFoundError");
    // lastUsedAt moved.
    const listed = await t.account<{ apiClients: { edges: { node: { lastUsedAt: string | null } }[] } }>(
      D_OWNER,
      ids.d,
      "apiClients { edges { node { lastUsedAt } } }",
    );
    expect(
      (listed as { data: { apiClients: { edges: { node: { lastUsedAt: string | null } }[] } } }).data.apiClients
        .edges[0]!.node.lastUsedAt,
    ).not.toBeNull();
  });

  it("a token is refused after its 15 minutes", async () => {
    const token = await getToken(ids.clientId, ids.secret);
    await t.setClock("2026-11-02T09:16:00.000Z");
    const res = await t.device(token, PROBE, { id: ids.d });
    expect(res.status).toBe(401);
  });

  it("rotation: old and new secrets work together; revoking the previous one ends the old secret's tokens at their next request", async () => {
    const oldToken = await getToken(ids.clientId, ids.secret);
    const rotated = await t.mutateOk<{ clientSecret: string; client: { previousSecretValidUntil: string } }>(
      D_OWNER,
      "rotateApiClientSecret",
      "ApiClientRefInput",
      { clientId: ids.client },
      "clientSecret client { previousSecretValidUntil }",
    );
    expect(rotated.clientSecret).not.toBe(ids.secret);
    expect(
      Date.parse(rotated.client.previousSecretValidUntil) - Date.parse("2026-11-02T09:16:00.000Z"),
    ).toBeGreaterThanOrEqual(24 * 3600 * 1000 - 5000);
    const newToken = await getToken(ids.clientId, rotated.clientSecret);
    await getToken(ids.clientId, ids.secret); // the old secret still works during the overlap
    expect((await t.device(oldToken, PROBE, { id: ids.d })).status).toBe(200);
    await t.mutateOk(
      D_OWNER,
      "revokePreviousApiClientSecret",
      "ApiClientRefInput",
      { clientId: ids.client },
      "client { id }",
    );
    expect((await t.device(oldToken, PROBE, { id: ids.d })).status).toBe(401);
    const old = await tokenRequest({ basic: [ids.clientId, ids.secret], form: { grant_type: "client_credentials" } });
    expect(old.status).toBe(401);
    expect((await t.device(newToken, PROBE, { id: ids.d })).status).toBe(200);
    ids.secret = rotated.clientSecret;
  });

  it("the overlap ends by itself after 24 hours", async () => {
    const rotated = await t.mutateOk<{ clientSecret: string }>(
      D_OWNER,
      "rotateApiClientSecret",
      "ApiClientRefInput",
      { clientId: ids.client },
      "clientSecret",
    );
    await t.setClock("2026-11-03T09:17:00.000Z");
    expect(
      (await tokenRequest({ basic: [ids.clientId, ids.secret], form: { grant_type: "client_credentials" } })).status,
    ).toBe(401);
    ids.secret = rotated.clientSecret;
    await getToken(ids.clientId, ids.secret);
  });

  it("revocation: the client's live token stops working at its next request, and it gets no new token", async () => {
    const token = await getToken(ids.clientId, ids.secret);
    expect((await t.device(token, PROBE, { id: ids.d })).status).toBe(200);
    // Another owner's account cannot revoke it: NotFound, like an unknown id.
    const foreign = await t.mutate(
      OTHER_OWNER,
      "revokeApiClient",
      "ApiClientRefInput",
      { clientId: ids.client },
      "client { id }",
    );
    expectError(foreign, "NotFoundError");
    await t.mutateOk(D_OWNER, "revokeApiClient", "ApiClientRefInput", { clientId: ids.client }, "client { status }");
    expect((await t.device(token, PROBE, { id: ids.d })).status).toBe(401);
    expect(
      (await tokenRequest({ basic: [ids.clientId, ids.secret], form: { grant_type: "client_credentials" } })).status,
    ).toBe(401);
    const history = await t.account<{ history: { edges: { node: { action: string } }[] } }>(
      D_OWNER,
      ids.d,
      "history(first: 50) { edges { node { action } } }",
    );
    const actions = (
      history as { data: { history: { edges: { node: { action: string } }[] } } }
    ).data.history.edges.map((e) => e.node.action);
    expect(actions).toEqual(
      expect.arrayContaining([
        "apiClient.created",
        "apiClient.secretRotated",
        "apiClient.previousSecretRevoked",
        "apiClient.revoked",
      ]),
    );
  });
});

describe("API clients: per-client rate limit", () => {
  let t: TestStack;
  beforeAll(async () => {
    t = await startTestStack({ clientRequestsPerMinute: 5 });
    await t.setClock("2026-11-02T09:00:10.000Z");
  });
  afterAll(async () => {
    await t?.stop();
  });

  it("beyond its allowance a client gets 429 with Retry-After, and the next window lets it in again", async () => {
    const owner = "owner@ratelimited.example";
    const d = await t.mutateOk<{ account: { id: string } }>(
      OPERATOR,
      "createAccount",
      "CreateAccountInput",
      {
        parentId: PLATFORM,
        kind: "DISTRIBUTOR",
        name: "Limited",
        country: "US",
        currency: "USD",
        owner: { email: owner },
      },
      "account { id }",
    );
    await t.accept(owner);
    const created = await t.mutateOk<{ clientSecret: string; client: { clientId: string } }>(
      owner,
      "createApiClient",
      "CreateApiClientInput",
      { accountId: d.account.id, name: "busy", role: "VIEWER" },
      "clientSecret client { clientId }",
    );
    const res = await fetch(`${t.url}/oauth/token`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({
        grant_type: "client_credentials",
        client_id: created.client.clientId,
        client_secret: created.clientSecret,
      }).toString(),
    });
    const token = ((await res.json()) as { access_token: string }).access_token;
    const statuses: number[] = [];
    const probe = () => t.device(token, "query($id: ID!) { node(id: $id) { id } }", { id: d.account.id });
    for (let i = 0; i < 6; i++) statuses.push((await probe()).status);
    // The token request counted as one: four more pass, then 429.
    expect(statuses).toEqual([200, 200, 200, 200, 429, 429]);
    const limited = await fetch(`${t.url}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
      body: JSON.stringify({ query: "{ __typename }" }),
    });
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThan(0);
    await t.setClock("2026-11-02T09:01:10.000Z");
    const again = await probe();
    expect(again.status).toBe(200);
    expect(again.data).toEqual({ node: { id: d.account.id } });
    // Requests that open a window together are each counted in it: the ones that lose the race to
    // open it are not refused (four of an allowance of five).
    await t.setClock("2026-11-02T09:02:10.000Z");
    const burst = await Promise.all(Array.from({ length: 4 }, () => probe()));
    expect(burst.map((r) => r.status)).toEqual([200, 200, 200, 200]);
    expect((await probe()).status).toBe(200);
    expect((await probe()).status).toBe(429);
  });
});
