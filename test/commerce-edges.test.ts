/**
 * Edges of the commercial core found in review: case-sensitive idempotency keys, an account
 * created with its first order sent twice, malformed and oversized node ids, a move that would
 * change the billing currency, prepaid licences added mid-term, and who counts as an operator.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OPERATOR, PLATFORM, ok, startTestStack } from "./harness.js";
import type { Money, TestStack, TypedError } from "./harness.js";

const D1_OWNER = "owner@d1.example";
const D2_OWNER = "owner@d2.example";
const VENDOR_VIEWER = "viewer@vendor.example";
const TRUNK = "RC-DRAAS-TRUNK-SUB";
const PREPAID = "RC-EDGE-1Y";
const ids = { d1: "", d2: "", c: "" };
let t: TestStack;

interface Line {
  readonly sku: string;
  readonly quantity: number;
  readonly unitPrice: Money | null;
  readonly amount: Money | null;
}
interface OrderView {
  readonly id: string;
  readonly lines: Line[];
  readonly total: Money | null;
}
const ORDER =
  "id lines { sku quantity unitPrice { amount currency } amount { amount currency } } total { amount currency }";

const place = (as: string, accountId: string, lines: { sku: string; quantity: number }[], idempotencyKey: string) =>
  t.mutate<{ order: OrderView }>(
    as,
    "placeOrder",
    "PlaceOrderInput",
    { accountId, lines, idempotencyKey },
    `order { ${ORDER} }`,
  );
const quantity = async (accountId: string, sku: string): Promise<number | undefined> => {
  const r = await t.gql<{
    account: { data: { subscriptions: { edges: { node: { sku: string; quantity: number } }[] } } };
  }>(
    OPERATOR,
    `query($id: ID!) { account(id: $id) { ... on QueryAccountSuccess { data { subscriptions { edges { node { sku quantity } } } } } } }`,
    { id: accountId },
  );
  return r.data!.account.data.subscriptions.edges.find((e) => e.node.sku === sku)?.node.quantity;
};

beforeAll(async () => {
  // Prepare: D1 (USD) with the trunk offer and a prepaid one; D2 (EUR); a customer under D1.
  t = await startTestStack();
  await t.setClock("2027-01-01T10:00:00.000Z");
  ok(
    await t.mutate(
      OPERATOR,
      "createOffer",
      "CreateOfferInput",
      {
        sku: PREPAID,
        name: "Trunk user, 1 year",
        kind: "PREPAID",
        termMonths: 12,
        unitPrice: "30.00",
        currency: "USD",
      },
      "offer { sku }",
    ),
  );
  ids.d1 = ok<{ account: { id: string } }>(
    await t.mutate(
      OPERATOR,
      "createAccount",
      "CreateAccountInput",
      {
        parentId: PLATFORM,
        kind: "DISTRIBUTOR",
        name: "Distributor 1",
        country: "US",
        currency: "USD",
        owner: { email: D1_OWNER },
      },
      "account { id }",
    ),
  ).account.id;
  ids.d2 = ok<{ account: { id: string } }>(
    await t.mutate(
      OPERATOR,
      "createAccount",
      "CreateAccountInput",
      {
        parentId: PLATFORM,
        kind: "DISTRIBUTOR",
        name: "Distributor 2",
        country: "FR",
        currency: "EUR",
        owner: { email: D2_OWNER },
      },
      "account { id }",
    ),
  ).account.id;
  await t.accept(D1_OWNER);
  await t.accept(D2_OWNER);
  ok(
    await t.mutate(
      OPERATOR,
      "setAvailableOffers",
      "SetAvailableOffersInput",
      { accountId: ids.d1, skus: [TRUNK, PREPAID] },
      "account { id }",
    ),
  );
  ids.c = ok<{ account: { id: string } }>(
    await t.mutate(
      D1_OWNER,
      "createAccount",
      "CreateAccountInput",
      { parentId: ids.d1, kind: "CUSTOMER", name: "Customer C", country: "US" },
      "account { id }",
    ),
  ).account.id;
  ok(
    await t.mutate(
      OPERATOR,
      "inviteMember",
      "InviteMemberInput",
      { accountId: PLATFORM, email: VENDOR_VIEWER, role: "VIEWER" },
      "member { email }",
    ),
  );
  await t.accept(VENDOR_VIEWER);
}, 60_000);
afterAll(async () => {
  await t?.stop();
});

describe("idempotency keys", () => {
  it("are case-sensitive: keys differing only in case place two orders", async () => {
    // Act
    const a = ok<{ order: OrderView }>(await place(D1_OWNER, ids.c, [{ sku: TRUNK, quantity: 1 }], "Key-aB"));
    const b = ok<{ order: OrderView }>(await place(D1_OWNER, ids.c, [{ sku: TRUNK, quantity: 1 }], "Key-Ab"));
    // Assess
    expect(a.order.id).not.toBe(b.order.id);
    expect(await quantity(ids.c, TRUNK)).toBe(2);
  });

  it("make an account created with its first order idempotent: the same creation sent twice creates one account and one order", async () => {
    // Prepare
    const input = {
      parentId: ids.d1,
      kind: "CUSTOMER",
      name: "Customer Retry",
      country: "US",
      order: { lines: [{ sku: TRUNK, quantity: 3 }], idempotencyKey: "retry-1" },
    };
    const childCount = async () =>
      (
        await t.gql<{ account: { data: { childCount: number } } }>(
          OPERATOR,
          `query($id: ID!) { account(id: $id) { ... on QueryAccountSuccess { data { childCount } } } }`,
          { id: ids.d1 },
        )
      ).data!.account.data.childCount;
    const before = await childCount();
    // Act
    const first = ok<{ account: { id: string }; order: { id: string } }>(
      await t.mutate(D1_OWNER, "createAccount", "CreateAccountInput", input, "account { id } order { id }"),
    );
    const again = ok<{ account: { id: string }; order: { id: string } }>(
      await t.mutate(D1_OWNER, "createAccount", "CreateAccountInput", input, "account { id } order { id }"),
    );
    const other = await t.mutate(
      D1_OWNER,
      "createAccount",
      "CreateAccountInput",
      { ...input, name: "Customer Other" },
      "account { id }",
    );
    // Assess
    expect(again).toEqual(first);
    expect(await childCount()).toBe(before + 1);
    expect(await quantity(first.account.id, TRUNK)).toBe(3);
    expect(other).toMatchObject({
      __typename: "ConflictError",
      message: "This idempotency key was used to create a different account",
    });
    expect(await childCount()).toBe(before + 1);
  });
});

describe("node ids", () => {
  it("oversized, malformed or case-variant ids answer null, never an internal error", async () => {
    // Prepare
    const encode = (s: string) => Buffer.from(s).toString("base64");
    const customer = Buffer.from(ids.c, "base64").toString().split(":")[1]!;
    const sub = encode(`LicenceSubscription:${customer}:${TRUNK}`);
    const variant = encode(`LicenceSubscription:${customer.toLowerCase()}:${TRUNK.toLowerCase()}`);
    const ids2 = [
      encode(`LicenceSubscription:${"x".repeat(3000)}:RC`),
      encode(`Order:${customer}:${"y".repeat(3000)}`),
      encode(`Account:${"z".repeat(3000)}`),
      encode("Order:nocolon"),
      "%%%",
    ];
    // Act
    const r = await t.gql<Record<string, { __typename?: string } | null>>(
      OPERATOR,
      `query($a: ID!, $b: ID!, $c: ID!, $d: ID!, $e: ID!, $s: ID!, $v: ID!) { a: node(id: $a) { __typename } b: node(id: $b) { __typename } c: node(id: $c) { __typename } d: node(id: $d) { __typename } e: node(id: $e) { __typename } s: node(id: $s) { __typename } v: node(id: $v) { __typename } }`,
      { a: ids2[0], b: ids2[1], c: ids2[2], d: ids2[3], e: ids2[4], s: sub, v: variant },
    );
    // Assess
    expect(r.errors).toBeUndefined();
    expect(r.data).toMatchObject({
      a: null,
      b: null,
      c: null,
      d: null,
      e: null,
      s: { __typename: "LicenceSubscription" },
      v: { __typename: "LicenceSubscription" },
    });
  });
});

describe("moves", () => {
  it("an account cannot move to a parent that bills in another currency", async () => {
    // Act: the operators see both accounts, so they are told why.
    const r = await t.mutate(
      OPERATOR,
      "inviteExistingAccount",
      "InviteExistingAccountInput",
      { parentId: ids.d2, accountId: ids.c },
      "invitationsSent",
    );
    // Assess
    expect(r).toMatchObject({ __typename: "ValidationError" });
    expect((r as TypedError).issues).toEqual([
      { path: ["parentId"], message: "the account is billed in USD; under this parent it would be billed in EUR" },
    ]);
    // The other distributor's owner, who cannot see the account, learns nothing about it (security rule 9).
    const blind = await t.mutate(
      D2_OWNER,
      "inviteExistingAccount",
      "InviteExistingAccountInput",
      { parentId: ids.d2, accountId: ids.c },
      "invitationsSent",
    );
    expect(blind).toMatchObject({ __typename: "NotFoundError" });
  });
});

describe("prepaid licences added mid-term", () => {
  it("are charged for the whole months left in the term, at the original price", async () => {
    // Prepare: 2 licences for a year from 1 January.
    const first = ok<{ order: OrderView }>(await place(D1_OWNER, ids.c, [{ sku: PREPAID, quantity: 2 }], "prepaid-1"));
    expect(first.order.total).toEqual({ amount: "60.00", currency: "USD" });
    await t.setClock("2027-04-02T10:00:00.000Z");
    // Act: 2 more on 2 April: nine months are left (a started month counts).
    const more = ok<{ order: OrderView }>(await place(D1_OWNER, ids.c, [{ sku: PREPAID, quantity: 2 }], "prepaid-2"));
    // Assess
    expect(more.order.lines).toEqual([
      {
        sku: PREPAID,
        quantity: 2,
        unitPrice: { amount: "30.00", currency: "USD" },
        amount: { amount: "45.00", currency: "USD" },
      },
    ]);
    expect(await quantity(ids.c, PREPAID)).toBe(4);
  });
});

describe("operators", () => {
  it("are the platform's owners: a platform viewer does not see prices", async () => {
    // Act
    const seen = async (as: string) =>
      (
        await t.gql<{ offers: { data: { sku: string; unitPrice: Money | null }[] } }>(
          as,
          `query($id: ID!) { offers(accountId: $id) { ... on QueryOffersSuccess { data { sku unitPrice { amount currency } } } } }`,
          { id: ids.c },
        )
      ).data!.offers.data;
    // Assess
    expect((await seen(OPERATOR)).find((o) => o.sku === TRUNK)?.unitPrice).toEqual({ amount: "3.00", currency: "USD" });
    expect((await seen(VENDOR_VIEWER)).every((o) => o.unitPrice === null)).toBe(true);
  });
});
