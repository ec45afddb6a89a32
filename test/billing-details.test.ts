/**
 * The billed party's details on its invoices. A distributor's owners (and the
 * operators) keep its postal address, VAT id and purchase-order number (setBillingDetails); the
 * next invoice carries them. Rights, bad input (nothing written) and clearing.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OPERATOR, PLATFORM, expectError, expectForbidden, expectInvalid, ok, startTestStack } from "./harness.js";
import type { TestStack } from "./harness.js";

const TRUNK = "RC-DRAAS-TRUNK-SUB";
const P = {
  d: "owner@details-d.example",
  contributor: "staff@details-d.example",
  other: "owner@details-other.example",
  r: "owner@details-r.example",
};
let t: TestStack;
const id = { d: "", other: "", r: "" };

interface Details {
  readonly address: string | null;
  readonly vatId: string | null;
  readonly purchaseOrder: string | null;
}
const set = (as: string, input: Record<string, unknown>) =>
  t.mutate<{ account: { id: string } }>(as, "setBillingDetails", "SetBillingDetailsInput", input, "account { id }");
const details = async (as: string, accountId: string) =>
  (
    await t.read<{ a: { data?: { billingDetails: Details | null } } }>(
      as,
      `query D($id: ID!) { a: account(id: $id) { ... on QueryAccountSuccess { data { billingDetails { address vatId purchaseOrder } } } } }`,
      { id: accountId },
    )
  ).a.data?.billingDetails;

beforeAll(async () => {
  t = await startTestStack();
  await t.setClock("2026-10-05T09:00:00.000Z");
  for (const [k, owner, name] of [
    ["d", P.d, "Details Distribution"],
    ["other", P.other, "Other Distribution"],
  ] as const) {
    id[k] = ok<{ account: { id: string } }>(
      await t.mutate(
        OPERATOR,
        "createAccount",
        "CreateAccountInput",
        { parentId: PLATFORM, kind: "DISTRIBUTOR", name, country: "GB", currency: "USD", owner: { email: owner } },
        "account { id }",
      ),
    ).account.id;
    await t.accept(owner);
  }
  ok(
    await t.mutate(
      OPERATOR,
      "setAvailableOffers",
      "SetAvailableOffersInput",
      { accountId: id.d, skus: [TRUNK] },
      "account { id }",
    ),
  );
  ok(
    await t.mutate(
      P.d,
      "inviteMember",
      "InviteMemberInput",
      { accountId: id.d, email: P.contributor, role: "CONTRIBUTOR" },
      "member { email }",
    ),
  );
  await t.accept(P.contributor);
  id.r = ok<{ account: { id: string } }>(
    await t.mutate(
      P.d,
      "createAccount",
      "CreateAccountInput",
      { parentId: id.d, kind: "RESELLER", name: "Details Reseller", country: "GB", owner: { email: P.r } },
      "account { id }",
    ),
  ).account.id;
  await t.accept(P.r);
  ok(
    await t.mutate(
      P.d,
      "placeOrder",
      "PlaceOrderInput",
      { accountId: id.d, lines: [{ sku: TRUNK, quantity: 2 }], idempotencyKey: "details-own" },
      "order { id }",
    ),
  );
}, 60_000);

afterAll(async () => {
  await t?.stop();
});

describe("setBillingDetails", () => {
  it("the distributor's owner sets them (VAT id normalised); owners and operators read them, a contributor does not", async () => {
    ok(
      await set(P.d, {
        accountId: id.d,
        address: "12 Harbour Street\nBristol BS1 4QA",
        vatId: "gb 987.654.321",
        purchaseOrder: "PO-2026-118",
      }),
    );
    const expected = {
      address: "12 Harbour Street\nBristol BS1 4QA",
      vatId: "GB987654321",
      purchaseOrder: "PO-2026-118",
    };
    expect(await details(P.d, id.d)).toEqual(expected);
    expect(await details(OPERATOR, id.d)).toEqual(expected);
    expect(await details(P.contributor, id.d)).toBeNull();
  });

  it("who may not: a contributor (ROLE), another distributor (unknown id), a reseller's own account (not billed)", async () => {
    expectForbidden(await set(P.contributor, { accountId: id.d, purchaseOrder: "PO-X" }), "ROLE");
    expectError(await set(P.other, { accountId: id.d, purchaseOrder: "PO-X" }), "NotFoundError");
    expectInvalid(await set(P.r, { accountId: id.r, purchaseOrder: "PO-X" }), ["accountId"]);
    expect((await details(P.d, id.d))?.purchaseOrder).toBe("PO-2026-118");
  });

  it("bad input is a ValidationError on its field and changes nothing", async () => {
    expectInvalid(await set(P.d, { accountId: id.d, vatId: "not a vat number!" }), ["vatId"]);
    expectInvalid(await set(P.d, { accountId: id.d, address: "1\n2\n3\n4\n5\n6\n7" }), ["address"]);
    expectInvalid(await set(P.d, { accountId: id.d, purchaseOrder: "PO\u202E1" }), ["purchaseOrder"]);
    expect(await details(P.d, id.d)).toEqual({
      address: "12 Harbour Street\nBristol BS1 4QA",
      vatId: "GB987654321",
      purchaseOrder: "PO-2026-118",
    });
  });

  it("the next invoice carries them; a field cleared with null is gone, the others stay", async () => {
    await t.setClock("2026-11-01T00:05:00.000Z");
    expect(await t.runJob("billing", "2026-10")).toMatchObject({ deadLettered: 0 });
    const raw = Buffer.from(id.d, "base64").toString("utf8").split(":")[1]!;
    expect(await t.stack.store.getInvoice(raw, "2026-10")).toMatchObject({
      billToAddress: "12 Harbour Street\nBristol BS1 4QA",
      billToVatId: "GB987654321",
      purchaseOrder: "PO-2026-118",
    });
    // The consumption report downloads as .xlsx, and as CSV with a byte order mark when asked.
    const inv = await t.read<{ a: { data: { invoices: { edges: { node: { id: string } }[] } } } }>(
      P.d,
      `query I($id: ID!) { a: account(id: $id) { ... on QueryAccountSuccess { data { invoices(first: 1) { edges { node { id } } } } } } }`,
      { id: id.d },
    );
    const invoiceId = inv.a.data.invoices.edges[0]!.node.id;
    const get = async (file: string, as: string) =>
      fetch(`${t.url}/invoices/${invoiceId}.${file}`, { headers: { authorization: `Bearer ${await t.token(as)}` } });
    const xlsx = await get("xlsx", P.d);
    expect(xlsx.status).toBe(200);
    expect(xlsx.headers.get("content-type")).toContain("spreadsheetml");
    expect(
      Buffer.from(await xlsx.arrayBuffer())
        .subarray(0, 2)
        .toString("latin1"),
    ).toBe("PK");
    const bom = Buffer.from(await (await get("csv?bom=1", P.d)).arrayBuffer());
    expect(bom.subarray(0, 3)).toEqual(Buffer.from([0xef, 0xbb, 0xbf]));
    const plain = Buffer.from(await (await get("csv", P.d)).arrayBuffer());
    expect(plain.subarray(0, 14).toString("utf8")).toBe("invoice_number");
    expect((await get("xlsx", P.contributor)).status).not.toBe(200);
    // The same Authorization parser as /graphql: no header, a malformed one, a bad token: 401, nothing served.
    const raw401 = async (headers: Record<string, string>) => {
      const res = await fetch(`${t.url}/invoices/${invoiceId}.csv`, { headers });
      return {
        status: res.status,
        challenge: res.headers.get("www-authenticate"),
        body: (await res.json()) as { error: string },
      };
    };
    expect(await raw401({})).toEqual({ status: 401, challenge: "Bearer", body: { error: "Sign in first" } });
    expect(await raw401({ authorization: "Basic abc" })).toEqual({
      status: 401,
      challenge: "Bearer",
      body: { error: "Malformed Authorization header" },
    });
    expect(await raw401({ authorization: "Bearer not.a.token" })).toEqual({
      status: 401,
      challenge: "Bearer",
      body: { error: "Invalid or expired token" },
    });
    ok(await set(P.d, { accountId: id.d, purchaseOrder: null }));
    expect(await details(P.d, id.d)).toEqual({
      address: "12 Harbour Street\nBristol BS1 4QA",
      vatId: "GB987654321",
      purchaseOrder: null,
    });
  });
});
