/**
 * Security rules 8 (platform VIEWERs see no prices), 9 (inviteExistingAccount discloses nothing), 10 (key namespaces) and 15 (names), over HTTP.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ERR, OPERATOR, PLATFORM, expectError, expectInvalid, ok, startTestStack } from "./harness.js";
import type { TestStack } from "./harness.js";

const VIEWER = "viewer@platform.example";
let t: TestStack;

beforeAll(async () => {
  t = await startTestStack();
  ok(
    await t.mutate(
      OPERATOR,
      "inviteMember",
      "InviteMemberInput",
      { accountId: PLATFORM, email: VIEWER, role: "VIEWER" },
      "member { email }",
    ),
  );
  await t.accept(VIEWER);
}, 120_000);
afterAll(async () => {
  await t?.stop();
});

interface OfferView {
  readonly sku: string;
  readonly unitPrice: { readonly amount: string } | null;
}
const OFFERS = `query Q($id: ID!) { r: offers(accountId: $id) { __typename ... on QueryOffersSuccess { data { sku unitPrice { amount } } } ${ERR} } }`;
const HISTORY = `query Q($id: ID!) { r: account(id: $id) { ... on QueryAccountSuccess { data { history(first: 100) { edges { node { action details } } } } } } }`;

describe("rule 8: platform VIEWERs see no prices", () => {
  it("offers of the PLATFORM: prices for operators (control), none for a platform VIEWER", async () => {
    const asOperator = await t.read<{ r: { data: OfferView[] } }>(OPERATOR, OFFERS, { id: PLATFORM });
    expect(asOperator.r.data.length).toBeGreaterThan(0);
    expect(asOperator.r.data.every((o) => o.unitPrice !== null)).toBe(true);
    const asViewer = await t.read<{ r: { data: OfferView[] } }>(VIEWER, OFFERS, { id: PLATFORM });
    expect(asViewer.r.data.map((o) => o.sku)).toEqual(asOperator.r.data.map((o) => o.sku));
    expect(asViewer.r.data.filter((o) => o.unitPrice !== null)).toEqual([]);
  });

  it("catalog audit entries on the PLATFORM keep their price details from a VIEWER", async () => {
    type H = { r: { data: { history: { edges: { node: { action: string; details: string | null } }[] } } } };
    const priced = (h: H) => h.r.data.history.edges.map((e) => e.node).filter((n) => n.action === "offer.created");
    const op = priced(await t.read<H>(OPERATOR, HISTORY, { id: PLATFORM }));
    expect(op.length).toBeGreaterThan(0);
    expect(op.every((n) => n.details?.includes("price"))).toBe(true);
    const viewer = priced(await t.read<H>(VIEWER, HISTORY, { id: PLATFORM }));
    expect(viewer).toHaveLength(op.length);
    expect(viewer.every((n) => n.details === null)).toBe(true);
  });
});

describe("rule 15: names", () => {
  const create = (name: string, reference?: string) =>
    t.mutate<{ account: { id: string; name: string } }>(
      OPERATOR,
      "createAccount",
      "CreateAccountInput",
      {
        parentId: PLATFORM,
        kind: "DISTRIBUTOR",
        name,
        country: "GB",
        currency: "EUR",
        ...(reference !== undefined ? { reference } : {}),
      },
      "account { id name }",
    );

  it("refuses bidi overrides and isolates, zero-width characters, C0/C1 controls and U+2028/2029; writes nothing", async () => {
    const before = await t.read<{ r: { data: { childCount: number } } }>(
      OPERATOR,
      `query Q($id: ID!) { r: account(id: $id) { ... on QueryAccountSuccess { data { childCount } } } }`,
      { id: PLATFORM },
    );
    for (const bad of [
      "Acme\u202Egnp.exe",
      "Acme\u2066x\u2069",
      "Ac\u200Bme",
      "Ac\u200Dme",
      "\uFEFFAcme",
      "Acme\u0085",
      "Acme\u009B",
      "Acme\u2028Two",
      "Acme\u2029",
      "Acme\u0007",
    ]) {
      expectInvalid(await create(bad), ["name"]);
    }
    expectInvalid(await create("Acme", "ref\u202E1"), ["reference"]);
    const after = await t.read<typeof before>(
      OPERATOR,
      `query Q($id: ID!) { r: account(id: $id) { ... on QueryAccountSuccess { data { childCount } } } }`,
      { id: PLATFORM },
    );
    expect(after).toEqual(before);
  });

  it("stores names NFC-normalised", async () => {
    const created = ok<{ account: { id: string; name: string } }>(await create("Cafe\u0301 Telecom"));
    expect(created.account.name).toBe("Caf\u00E9 Telecom");
  });
});

describe("rule 10: idempotency key namespaces are disjoint", () => {
  it("an order keyed like the system's usage key does not take the usage record's place", async () => {
    const sku = "TRUST-CONF-MIN";
    ok(
      await t.mutate(
        OPERATOR,
        "createOffer",
        "CreateOfferInput",
        { sku, name: "Trust minutes", kind: "USAGE", unit: "minute", unitPrice: "0.05", currency: "EUR" },
        "offer { sku }",
      ),
    );
    const d = ok<{ account: { id: string } }>(
      await t.mutate(
        OPERATOR,
        "createAccount",
        "CreateAccountInput",
        { parentId: PLATFORM, kind: "DISTRIBUTOR", name: "Keys Distributor", country: "GB", currency: "EUR" },
        "account { id }",
      ),
    ).account.id;
    ok(
      await t.mutate(
        OPERATOR,
        "setAvailableOffers",
        "SetAvailableOffersInput",
        { accountId: d, skus: [sku] },
        "account { id }",
      ),
    );
    // The client picks the very string the system uses for usage keys.
    ok(
      await t.mutate(
        OPERATOR,
        "placeOrder",
        "PlaceOrderInput",
        { accountId: d, lines: [{ sku, quantity: 1 }], idempotencyKey: `usage:${sku}:k1` },
        "order { id }",
      ),
    );
    const day = new Date().toISOString().slice(0, 10);
    const usage = await t.mutate<{ usage: { quantity: number } }>(
      OPERATOR,
      "recordUsage",
      "RecordUsageInput",
      { accountId: d, sku, quantity: 7, day, idempotencyKey: "k1" },
      "usage { quantity }",
    );
    expect(ok<{ usage: { quantity: number } }>(usage).usage.quantity).toBe(7);
  });
});

describe("rule 9: inviteExistingAccount tells nothing about an account the caller cannot see", () => {
  const P = {
    d1: "owner@rule9-d1.example",
    d2: "owner@rule9-d2.example",
    c: "owner@rule9-c.example",
    c2: "second@rule9-c.example",
    e: "owner@rule9-e.example",
  };
  const ids = { d1: "", d2: "", d3: "", r2: "", c: "", orphan: "", eur: "" };
  const invite = (as: string, accountId: string, parentId: string) =>
    t.mutate<{ invitationsSent: number }>(
      as,
      "inviteExistingAccount",
      "InviteExistingAccountInput",
      { accountId, parentId },
      "invitationsSent",
    );
  const unknown = Buffer.from("Account:01ZZZZZZZZZZZZZZZZZZZZZZZZ").toString("base64");
  const createAs = async (as: string, input: Record<string, unknown>) =>
    ok<{ account: { id: string } }>(await t.mutate(as, "createAccount", "CreateAccountInput", input, "account { id }"))
      .account.id;

  beforeAll(async () => {
    ids.d1 = await createAs(OPERATOR, {
      parentId: PLATFORM,
      kind: "DISTRIBUTOR",
      name: "Rule9 D1",
      country: "US",
      currency: "USD",
      owner: { email: P.d1 },
    });
    await t.accept(P.d1);
    ids.d2 = await createAs(OPERATOR, {
      parentId: PLATFORM,
      kind: "DISTRIBUTOR",
      name: "Rule9 D2",
      country: "US",
      currency: "USD",
      owner: { email: P.d2 },
    });
    await t.accept(P.d2);
    ids.d3 = await createAs(OPERATOR, {
      parentId: PLATFORM,
      kind: "DISTRIBUTOR",
      name: "Rule9 D3",
      country: "GB",
      currency: "EUR",
      owner: { email: P.e },
    });
    await t.accept(P.e);
    ids.r2 = await createAs(P.d2, { parentId: ids.d2, kind: "RESELLER", name: "Rule9 R2", country: "US" });
    // In branch 1: a customer with two owners, one without any owner; in a EUR branch, a customer.
    ids.c = await createAs(P.d1, {
      parentId: ids.d1,
      kind: "CUSTOMER",
      name: "Rule9 C",
      country: "US",
      owner: { email: P.c },
    });
    await t.accept(P.c);
    ok(
      await t.mutate(
        P.c,
        "inviteMember",
        "InviteMemberInput",
        { accountId: ids.c, email: P.c2, role: "OWNER" },
        "member { email }",
      ),
    );
    await t.accept(P.c2);
    ids.orphan = await createAs(P.d1, { parentId: ids.d1, kind: "CUSTOMER", name: "Rule9 Orphan", country: "US" });
    ids.eur = await createAs(P.e, {
      parentId: ids.d3,
      kind: "CUSTOMER",
      name: "Rule9 EUR",
      country: "GB",
      owner: { email: "owner@rule9-eur.example" },
    });
    await t.accept("owner@rule9-eur.example");
  });

  it("a kind that cannot go there, no active owner, another currency: each answered exactly like an unknown id, nobody mailed", async () => {
    const mails = await t.outboxCount();
    const asUnknown = await invite(P.d2, unknown, ids.d2);
    expectError(asUnknown, "NotFoundError");
    for (const [accountId, parentId] of [
      [ids.d1, ids.r2], // a distributor under a reseller
      [ids.orphan, ids.d2], // no active owner
      [ids.eur, ids.d2], // billed in EUR, USD here
    ] as const) {
      const r = await invite(P.d2, accountId, parentId);
      expect(r).toEqual(asUnknown);
    }
    expect(await t.outboxCount()).toBe(mails);
  });

  it("a valid invitation of an account the caller cannot see does not tell how many owners it has", async () => {
    const r = ok<{ invitationsSent: number }>(await invite(P.d2, ids.c, ids.d2));
    expect(r.invitationsSent).toBe(1);
    // Both owners were mailed (one of them accepts).
    expect(await t.invitationToken(P.c)).toBeTruthy();
    expect(await t.invitationToken(P.c2)).toBeTruthy();
  });

  it("control: for an account the caller sees, the reason is given", async () => {
    expectInvalid(await invite(P.d1, ids.orphan, ids.d1), ["parentId"], "the account is already under this parent");
  });
});
