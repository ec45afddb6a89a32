/**
 * What the partner guides ask for: rights the guides give, over HTTP:
 *  - a partner's CONTRIBUTOR without the seller flag buys for its own company (DESIGN 1: authorised purchaser);
 *  - the seller above a customer invites its OWNER while the customer has no active owner (Ribbon "Account"
 *    screen after setup, EXPO.e "+ add a new administrator"), and no longer once it has one;
 *  - reseller rights given in createAccount (default false);
 *  - ForbiddenError.reason for visible accounts, NotFound for invisible ones.
 *
 *   Platform (operator)
 *   ├── Distributor D (owner d, seller; CONTRIBUTOR dc without the seller flag; VIEWER dv)
 *   │   ├── Customer C (created by d without an owner)
 *   │   └── Reseller R (created by d with canCreateEquipment)
 *   └── Distributor E (owner e)  — sees nothing of D's tree
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ERR,
  OPERATOR,
  PLATFORM,
  expectError,
  expectForbidden,
  expectInvalid,
  expectUnchanged,
  ok,
  startTestStack,
} from "./harness.js";
import type { Result, TestStack } from "./harness.js";

const D = "owner@d.example";
const DC = "buyer@d.example";
const DV = "viewer@d.example";
const E = "owner@e.example";
const C_OWNER = "owner@c.example";
const C_OWNER2 = "second@c.example";
const TRUNK = "RC-DRAAS-TRUNK-SUB";
const ids = { d: "", e: "", c: "", r: "" };
let t: TestStack;

const invite = (as: string, accountId: string, email: string, role: string) =>
  t.mutate<{ member: { email: string; role: string; status: string } }>(
    as,
    "inviteMember",
    "InviteMemberInput",
    { accountId, email, role },
    "member { email role status }",
  );
const placeOrder = (as: string, accountId: string, key: string) =>
  t.mutate<{ order: { placedBy: string; lines: { sku: string; quantity: number }[] } }>(
    as,
    "placeOrder",
    "PlaceOrderInput",
    { accountId, lines: [{ sku: TRUNK, quantity: 2 }], idempotencyKey: key },
    "order { placedBy lines { sku quantity } }",
  );
const previewOrder = async (as: string, accountId: string) =>
  (
    await t.read<{ r: Result<{ lines: { sku: string; quantity: number }[] }> }>(
      as,
      `query P($input: PreviewOrderInput!) { r: previewOrder(input: $input) { __typename ... on QueryPreviewOrderSuccess { data { lines { sku quantity } } } ${ERR} } }`,
      { input: { accountId, lines: [{ sku: TRUNK, quantity: 2 }] } },
    )
  ).r;
const members = async (accountId: string) =>
  ok<{ members: { edges: { node: { email: string; role: string; status: string } }[] } }>(
    await t.account(OPERATOR, accountId, "members { edges { node { email role status } } }"),
  ).members.edges.map((e) => e.node);
const history = async (accountId: string) =>
  ok<{ history: { edges: { node: { action: string; actor: string; subjectId: string } }[] } }>(
    await t.account(OPERATOR, accountId, "history { edges { node { action actor subjectId } } }"),
  ).history.edges.map((e) => e.node);
const orders = async (accountId: string) =>
  ok<{ orders: { edges: unknown[] } }>(await t.account(OPERATOR, accountId, "orders { edges { cursor } }")).orders.edges
    .length;

beforeAll(async () => {
  t = await startTestStack();
  const mk = async (as: string, input: Record<string, unknown>) =>
    (
      await t.mutateOk<{ account: { id: string } }>(
        as,
        "createAccount",
        "CreateAccountInput",
        { country: "GB", ...input },
        "account { id }",
      )
    ).account.id;
  ids.d = await mk(OPERATOR, {
    parentId: PLATFORM,
    kind: "DISTRIBUTOR",
    name: "D",
    currency: "USD",
    owner: { email: D },
  });
  ids.e = await mk(OPERATOR, {
    parentId: PLATFORM,
    kind: "DISTRIBUTOR",
    name: "E",
    currency: "USD",
    owner: { email: E },
  });
  await t.accept(D);
  await t.accept(E);
  for (const [email, role] of [
    [DC, "CONTRIBUTOR"],
    [DV, "VIEWER"],
  ] as const) {
    ok(await invite(D, ids.d, email, role));
    await t.accept(email);
  }
  await t.mutateOk(
    OPERATOR,
    "setAvailableOffers",
    "SetAvailableOffersInput",
    { accountId: ids.d, skus: [TRUNK] },
    "account { id }",
  );
  ids.c = await mk(D, { parentId: ids.d, kind: "CUSTOMER", name: "C" });
});
afterAll(async () => {
  await t?.stop();
});

describe("a partner's CONTRIBUTOR buys for its own company", () => {
  it("previews and places an order for Distributor D without the seller flag; the order names the contributor", async () => {
    expect(ok(await previewOrder(DC, ids.d))).toEqual({ lines: [{ sku: TRUNK, quantity: 2 }] });
    const r = ok<{ order: { placedBy: string } }>(await placeOrder(DC, ids.d, "dc-own-1"));
    expect(r.order).toMatchObject({ placedBy: `user:${DC}`, lines: [{ sku: TRUNK, quantity: 2 }] });
  });

  it("but not below it: for Customer C the contributor (no seller flag) cannot even see it; the viewer is refused with ROLE", async () => {
    await expectUnchanged(
      () => orders(ids.c),
      async () => {
        expectError(await placeOrder(DC, ids.c, "dc-c-1"), "NotFoundError");
        expectError(await previewOrder(DC, ids.c), "NotFoundError");
      },
    );
    await expectUnchanged(
      () => orders(ids.d),
      async () => {
        expectForbidden(await placeOrder(DV, ids.d, "dv-1"), "ROLE");
        expectForbidden(await previewOrder(DV, ids.d), "ROLE");
        // Another distributor's owner: NotFound, never a reason.
        expectError(await placeOrder(E, ids.d, "e-1"), "NotFoundError");
      },
    );
  });

  it("listing D's customers needs the seller flag: NOT_SELLER for the contributor", async () => {
    const res = await t.gql<{ account: { data: { children: unknown } } }>(
      DC,
      `query($id: ID!) { account(id: $id) { ... on QueryAccountSuccess { data { children { edges { node { id } } } } } } }`,
      { id: ids.d },
    );
    expect(res.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
  });
});

describe("the seller above a customer invites its first owner after setup", () => {
  it("a non-seller contributor and another distributor cannot see C: NotFound, nothing written", async () => {
    await expectUnchanged(
      () => members(ids.c),
      async () => {
        expectError(await invite(DC, ids.c, C_OWNER, "OWNER"), "NotFoundError");
        expectError(await invite(E, ids.c, C_OWNER, "OWNER"), "NotFoundError");
      },
    );
  });

  it("the seller may not invite a customer's ordinary member: tenant administration (NO_OPT_IN)", async () => {
    await expectUnchanged(
      () => members(ids.c),
      async () => {
        expectForbidden(await invite(D, ids.c, "user@c.example", "CONTRIBUTOR"), "NO_OPT_IN");
      },
    );
  });

  it("while C has no active owner, D's seller invites one; the invitation is audited as done by the seller", async () => {
    const r = ok<{ member: { role: string; status: string } }>(await invite(D, ids.c, C_OWNER, "OWNER"));
    expect(r.member).toEqual({ email: C_OWNER, role: "OWNER", status: "INVITED" });
    // The invitation lapsed or was lost: the seller sends it again (still no active owner).
    ok(await invite(D, ids.c, C_OWNER, "OWNER"));
    expect((await history(ids.c)).filter((h) => h.action === "member.invited")).toEqual([
      { action: "member.invited", actor: `user:${D}`, subjectId: C_OWNER },
      { action: "member.invited", actor: `user:${D}`, subjectId: C_OWNER },
    ]);
    await t.accept(C_OWNER);
    expect(await members(ids.c)).toEqual([{ email: C_OWNER, role: "OWNER", status: "ACTIVE" }]);
  });

  it("once C has an active owner, further owners are C's business: NO_OPT_IN, nothing written", async () => {
    await expectUnchanged(
      () => members(ids.c),
      async () => {
        expectForbidden(await invite(D, ids.c, C_OWNER2, "OWNER"), "NO_OPT_IN");
      },
    );
    // C's own owner still invites.
    ok(await invite(C_OWNER, ids.c, C_OWNER2, "OWNER"));
  });

  it("two sellers inviting different first owners at once on a fresh customer: both are invitations (no owner yet), the first to accept ends the setup right", async () => {
    const fresh = (
      await t.mutateOk<{ account: { id: string } }>(
        D,
        "createAccount",
        "CreateAccountInput",
        { parentId: ids.d, kind: "CUSTOMER", name: "C2", country: "GB" },
        "account { id }",
      )
    ).account.id;
    const [a, b] = await Promise.all([
      invite(D, fresh, "a@c2.example", "OWNER"),
      invite(D, fresh, "b@c2.example", "OWNER"),
    ]);
    ok(a);
    ok(b);
    await t.accept("a@c2.example");
    expectForbidden(await invite(D, fresh, "c@c2.example", "OWNER"), "NO_OPT_IN");
  });
});

describe("reseller rights in createAccount", () => {
  const create = (as: string, input: Record<string, unknown>) =>
    t.mutate<{ account: { id: string; canCreateAccounts: boolean; canCreateEquipment: boolean } }>(
      as,
      "createAccount",
      "CreateAccountInput",
      { country: "GB", ...input },
      "account { id canCreateAccounts canCreateEquipment }",
    );

  it("a seller creates a reseller with canCreateEquipment; unset rights default to false", async () => {
    const r = ok<{ account: { id: string; canCreateAccounts: boolean; canCreateEquipment: boolean } }>(
      await create(D, { parentId: ids.d, kind: "RESELLER", name: "R", canCreateEquipment: true }),
    );
    ids.r = r.account.id;
    expect(r.account).toMatchObject({ canCreateAccounts: false, canCreateEquipment: true });
    const plain = ok<{ account: { canCreateAccounts: boolean; canCreateEquipment: boolean } }>(
      await create(D, { parentId: ids.d, kind: "RESELLER", name: "R plain" }),
    );
    expect(plain.account).toMatchObject({ canCreateAccounts: false, canCreateEquipment: false });
  });

  it("rights on a customer are a ValidationError; nothing is created", async () => {
    await expectUnchanged(
      () => t.account(OPERATOR, ids.d, "childCount"),
      async () => {
        expectInvalid(await create(D, { parentId: ids.d, kind: "CUSTOMER", name: "Bad", canCreateAccounts: true }), [
          "canCreateAccounts",
        ]);
        expectInvalid(await create(D, { parentId: ids.d, kind: "CUSTOMER", name: "Bad", canCreateEquipment: false }), [
          "canCreateEquipment",
        ]);
      },
    );
  });
});
