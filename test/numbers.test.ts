/**
 * The number inventory down the tree (EXPO.e "Adding Numbers", "business profile number"), over
 * HTTP: operators add E.164 numbers or ranges to a partner's pool with their porting state; a
 * partner allocates from its pool to a customer; the customer assigns them to extensions and
 * chooses its main number; releasing returns a number to the parent's pool after a 30-day
 * quarantine; a deleted account's numbers go back the same way. Two allocations of one number:
 * exactly one wins.
 *
 *   Platform (operator)
 *   ├── Distributor D (owner d, seller)
 *   │   └── Reseller R (owner r, seller; VIEWER rv)
 *   │       ├── Customer C1 (owner c1; VIEWER u1) ── its OXO Connect with extensions 201, 202
 *   │       ├── Customer C2 (owner c2)
 *   │       └── Customer C3 (owner c3): deleted at the end
 *   └── Distributor E (owner e): sees nothing of D's tree
 *
 * Every refusal is a typed error and writes nothing (the whole table is compared before and after).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ERR, OPERATOR, PLATFORM, expectError, expectForbidden, expectInvalid, ok, startTestStack } from "./harness.js";
import type { Result, TestStack } from "./harness.js";

// After the platform's creation (the stack's real clock): the daily run reads due days from then on.
const START = "2027-03-01T09:00:00.000Z";
const DAY = 86_400_000;
const D = "owner@numbers-d.example";
const R = "owner@numbers-r.example";
const RV = "viewer@numbers-r.example";
const C1 = "owner@numbers-c1.example";
const U1 = "user@numbers-c1.example";
const C2 = "owner@numbers-c2.example";
const C3 = "owner@numbers-c3.example";
const E = "owner@numbers-e.example";

const ids = { d: "", r: "", c1: "", c2: "", c3: "", e: "", pbx: "" };
let t: TestStack;

/** UK numbers +44 20 7946 0000 … (Ofcom's drama range is not dialable; these are valid London numbers). */
const N = (i: number) => `+44207183${String(4000 + i)}`;

interface NumberView {
  readonly number: string;
  readonly accountId: string;
  readonly state: string;
  readonly portingDate: string | null;
  readonly quarantinedUntil: string | null;
  readonly available: boolean;
}
const NUMBER = "number accountId state portingDate quarantinedUntil available";

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

const add = (as: string, input: Record<string, unknown>) =>
  t.mutate<{ numbers: NumberView[] }>(as, "addNumbers", "AddNumbersInput", input, `numbers { ${NUMBER} }`);
const allocate = (as: string, accountId: string, numbers: string[]) =>
  t.mutate<{ numbers: NumberView[] }>(
    as,
    "allocateNumbers",
    "MoveNumbersInput",
    { accountId, numbers },
    `numbers { ${NUMBER} }`,
  );
const release = (as: string, accountId: string, numbers: string[]) =>
  t.mutate<{ numbers: NumberView[] }>(
    as,
    "releaseNumbers",
    "MoveNumbersInput",
    { accountId, numbers },
    `numbers { ${NUMBER} }`,
  );
const setMain = (as: string, accountId: string, number: string | null) =>
  t.mutate<{ account: { mainNumber: string | null } }>(
    as,
    "setMainNumber",
    "SetMainNumberInput",
    { accountId, number },
    "account { mainNumber }",
  );
const porting = (as: string, input: Record<string, unknown>) =>
  t.mutate<{ numbers: NumberView[] }>(as, "setNumberPorting", "SetNumberPortingInput", input, `numbers { ${NUMBER} }`);
const pool = async (as: string, accountId: string, state?: string) =>
  ok<{ numbers: { edges: { node: NumberView }[] } }>(
    await t.account(
      as,
      accountId,
      `numbers(first: 100${state ? `, state: ${state}` : ""}) { edges { node { ${NUMBER} } } }`,
    ),
  ).numbers.edges.map((e) => e.node);
const assign = (as: string, extension: string, publicNumber: string) =>
  t.mutate(
    as,
    "assignExtension",
    "AssignExtensionInput",
    { accountId: ids.c1, email: C1, equipmentId: ids.pbx, extension, publicNumber },
    "assignment { extension }",
  );

beforeAll(async () => {
  t = await startTestStack();
  await t.setClock(START);
  ids.d = await mk(OPERATOR, {
    parentId: PLATFORM,
    kind: "DISTRIBUTOR",
    name: "Numbers D",
    currency: "USD",
    owner: { email: D },
  });
  ids.e = await mk(OPERATOR, {
    parentId: PLATFORM,
    kind: "DISTRIBUTOR",
    name: "Numbers E",
    currency: "USD",
    owner: { email: E },
  });
  await t.accept(D);
  await t.accept(E);
  ids.r = await mk(D, {
    parentId: ids.d,
    kind: "RESELLER",
    name: "Numbers R",
    owner: { email: R },
    canCreateAccounts: true,
  });
  await t.accept(R);
  await t.mutateOk(
    R,
    "inviteMember",
    "InviteMemberInput",
    { accountId: ids.r, email: RV, role: "VIEWER" },
    "member { email }",
  );
  await t.accept(RV);
  ids.c1 = await mk(R, { parentId: ids.r, kind: "CUSTOMER", name: "Numbers C1", owner: { email: C1 } });
  await t.accept(C1);
  await t.mutateOk(
    C1,
    "inviteMember",
    "InviteMemberInput",
    { accountId: ids.c1, email: U1, role: "VIEWER" },
    "member { email }",
  );
  await t.accept(U1);
  ids.c2 = await mk(R, { parentId: ids.r, kind: "CUSTOMER", name: "Numbers C2", owner: { email: C2 } });
  await t.accept(C2);
  ids.c3 = await mk(R, { parentId: ids.r, kind: "CUSTOMER", name: "Numbers C3", owner: { email: C3 } });
  await t.accept(C3);
  const paired = await t.pairEquipment(C1, {
    accountId: ids.c1,
    name: "Numbers OXO",
    country: "GB",
    serverType: "OXO_CONNECT",
  });
  ids.pbx = paired.equipmentId;
  const reported = await t.device<{ r: { __typename: string } }>(
    paired.credential,
    `mutation R($n: [String!]!) { r: reportExtensions(numbers: $n) { __typename ${ERR} } }`,
    { n: ["201", "202"] },
  );
  expect(reported.errors).toBeUndefined();
}, 60_000);

afterAll(async () => {
  await t?.stop();
});

describe("operators stock a partner's pool", () => {
  it("adds a list and a range with their porting state; the pool lists them in number order", async () => {
    const added = ok<{ numbers: NumberView[] }>(
      await add(OPERATOR, { accountId: ids.r, numbers: [N(0)], ranges: [{ first: N(1), last: N(19) }] }),
    ).numbers;
    expect(added).toHaveLength(20);
    expect(added[0]).toEqual({
      number: N(0),
      accountId: ids.r,
      state: "NEW",
      portingDate: null,
      quarantinedUntil: null,
      available: true,
    });
    const ported = ok<{ numbers: NumberView[] }>(
      await add(OPERATOR, {
        accountId: ids.r,
        numbers: [N(50)],
        state: "PORTING",
        portingDate: "2027-03-15T00:00:00.000Z",
      }),
    ).numbers;
    expect(ported[0]).toMatchObject({ state: "PORTING", portingDate: "2027-03-15T00:00:00.000Z" });
    const listed = await pool(R, ids.r);
    expect(listed.map((n) => n.number)).toEqual([...Array.from({ length: 20 }, (_v, i) => N(i)), N(50)]);
    expect((await pool(RV, ids.r, "PORTING")).map((n) => n.number)).toEqual([N(50)]);
    // The distributor above sees its reseller's pool; another distributor does not see the reseller at all.
    expect(await pool(D, ids.r)).toHaveLength(21);
    expectError(await t.account(E, ids.r, "numbers(first: 1) { edges { cursor } }"), "NotFoundError");
  });

  it("refuses a number already in the inventory, bad numbers and ranges, and non-operators, writing nothing", async () => {
    await t.nothingWritten(async () => {
      // All or nothing: N(60) is new, N(5) is R's already.
      const dup = expectError(await add(OPERATOR, { accountId: ids.d, numbers: [N(60), N(5)] }), "ConflictError");
      expect(dup.message).toContain(N(5));
      expectInvalid(await add(OPERATOR, { accountId: ids.r, numbers: ["020 7183 4000"] }), ["numbers", "0"]);
      expectInvalid(await add(OPERATOR, { accountId: ids.r, numbers: [N(61), N(61)] }), ["numbers", "1"]);
      expectInvalid(await add(OPERATOR, { accountId: ids.r, ranges: [{ first: N(70), last: N(69) }] }), [
        "ranges",
        "0",
      ]);
      expectInvalid(
        await add(OPERATOR, { accountId: ids.r, ranges: [{ first: "+442071830000", last: "+442071831000" }] }),
        ["ranges", "0"],
        "must hold at most 1000 numbers",
      );
      expectInvalid(await add(OPERATOR, { accountId: ids.r }), ["numbers"]);
      expectInvalid(await add(OPERATOR, { accountId: ids.r, numbers: [N(62)], state: "PORTING" }), ["portingDate"]);
      expectForbidden(await add(OPERATOR, { accountId: ids.c1, numbers: [N(63)] }), "NOT_APPLICABLE");
      expectForbidden(await add(D, { accountId: ids.r, numbers: [N(63)] }), "OPERATOR_ONLY");
      expectError(await add(E, { accountId: ids.r, numbers: [N(63)] }), "NotFoundError");
    });
  });

  it("records porting: NEW → PORTING with its date → ACTIVE; an ACTIVE number stays ACTIVE; operators only", async () => {
    const ported = ok<{ numbers: NumberView[] }>(
      await porting(OPERATOR, { numbers: [N(50)], state: "ACTIVE" }),
    ).numbers;
    expect(ported[0]).toMatchObject({ state: "ACTIVE", portingDate: null });
    await t.nothingWritten(async () => {
      expectInvalid(await porting(OPERATOR, { numbers: [N(50)], state: "PORTING", portingDate: START }), ["state"]);
      expectInvalid(await porting(OPERATOR, { numbers: [N(1)], state: "PORTING" }), ["portingDate"]);
      expectInvalid(await porting(OPERATOR, { numbers: [N(99)], state: "ACTIVE" }), ["numbers"]);
      expectForbidden(await porting(R, { numbers: [N(1)], state: "ACTIVE" }), "OPERATOR_ONLY");
    });
  });
});

describe("partners allocate down the tree; customers use their pool", () => {
  it("the reseller allocates to a customer; the customer cannot take from above; strangers get NotFound", async () => {
    const moved = ok<{ numbers: NumberView[] }>(await allocate(R, ids.c1, [N(1), N(2), N(3), N(4)])).numbers;
    expect(moved.map((n) => n.accountId)).toEqual([ids.c1, ids.c1, ids.c1, ids.c1]);
    expect((await pool(U1, ids.c1)).map((n) => n.number)).toEqual([N(1), N(2), N(3), N(4)]);
    expect((await pool(R, ids.r)).map((n) => n.number)).not.toContain(N(1));
    await t.nothingWritten(async () => {
      expectForbidden(await allocate(C1, ids.c1, [N(5)]), "ROLE");
      expectError(await allocate(RV, ids.c1, [N(5)]), "NotFoundError");
      expectError(await allocate(E, ids.c1, [N(5)]), "NotFoundError");
      // Not in R's pool (C1 holds it, or nobody does).
      expectInvalid(await allocate(R, ids.c2, [N(1)]), ["numbers"]);
      expectInvalid(await allocate(R, ids.c2, [N(98)]), ["numbers"]);
      expectInvalid(
        await allocate(
          R,
          ids.c2,
          Array.from({ length: 91 }, (_v, i) => N(100 + i)),
        ),
        ["numbers"],
      );
    });
  });

  it("two allocations of the same numbers at once: exactly one wins, the other is a typed error", async () => {
    const both = await Promise.all([allocate(R, ids.c1, [N(6), N(7)]), allocate(R, ids.c2, [N(7), N(6)])]);
    const won = both.filter((r) => "data" in r);
    expect(won).toHaveLength(1);
    const lost = both.find((r) => !("data" in r)) as Result<unknown>;
    expect(["ConflictError", "ValidationError"]).toContain(lost.__typename);
    const winner = ok<{ numbers: NumberView[] }>(won[0]).numbers[0]!.accountId;
    const held = [...(await pool(C1, ids.c1)), ...(await pool(C2, ids.c2))].filter((n) =>
      [N(6), N(7)].includes(n.number),
    );
    expect(held.map((n) => n.accountId)).toEqual([winner, winner]);
  });

  it("assignExtension takes only numbers of the account's pool", async () => {
    await t.nothingWritten(async () => {
      expectInvalid(await assign(C1, "201", N(10)), ["publicNumber"], "is not in the account's number pool");
      expectInvalid(await assign(C1, "201", "+447848311690"), ["publicNumber"], "is not in the account's number pool");
    });
    ok(await assign(C1, "201", N(1)));
  });

  it("the main number is one of the pool; the account's VIEWER may not choose it", async () => {
    const set = ok<{ account: { mainNumber: string | null } }>(await setMain(C1, ids.c1, N(2)));
    expect(set.account.mainNumber).toBe(N(2));
    await t.nothingWritten(async () => {
      expectInvalid(await setMain(C1, ids.c1, N(10)), ["number"]);
      expectInvalid(await setMain(C1, ids.c1, "12"), ["number"]);
      expectForbidden(await setMain(U1, ids.c1, N(3)), "ROLE");
      expectError(await setMain(E, ids.c1, N(3)), "NotFoundError");
    });
  });

  it("releasing: refused for a number on an extension or the main number; otherwise back to the parent, quarantined 30 days", async () => {
    await t.nothingWritten(async () => {
      expectInvalid(await release(C1, ids.c1, [N(1)]), ["numbers"]);
      expectInvalid(await release(C1, ids.c1, [N(2)]), ["numbers"]);
      expectInvalid(await release(C1, ids.c1, [N(10)]), ["numbers"]);
      expectForbidden(await release(U1, ids.c1, [N(3)]), "ROLE");
    });
    const back = ok<{ numbers: NumberView[] }>(await release(C1, ids.c1, [N(3)])).numbers[0]!;
    expect(back).toMatchObject({ accountId: ids.r, available: false });
    const until = Date.parse(back.quarantinedUntil!) - Date.parse(START);
    expect(until).toBeGreaterThanOrEqual(30 * DAY);
    expect(until).toBeLessThan(30 * DAY + 60_000);
    // Quarantined: nobody takes it, not even for the main number; 31 days later it is available again.
    await t.nothingWritten(async () => {
      expectInvalid(await allocate(R, ids.c2, [N(3)]), ["numbers"]);
    });
    await t.setClock(new Date(Date.parse(START) + 31 * DAY).toISOString());
    expect(ok<{ numbers: NumberView[] }>(await allocate(R, ids.c2, [N(3)])).numbers[0]).toMatchObject({
      accountId: ids.c2,
      quarantinedUntil: null,
      available: true,
    });
    // Unassigned, the extension's number may go.
    ok(
      await t.mutate(
        C1,
        "unassignExtension",
        "UnassignExtensionInput",
        { accountId: ids.c1, equipmentId: ids.pbx, extension: "201" },
        "assignment { extension }",
      ),
    );
    expect(ok<{ numbers: NumberView[] }>(await release(C1, ids.c1, [N(1)])).numbers[0]!.accountId).toBe(ids.r);
  });
});

describe("a deleted account's numbers go back where they came from", () => {
  it("after the idle customer is deleted, its numbers are in the reseller's pool, quarantined", async () => {
    ok(await allocate(R, ids.c3, [N(11), N(12)]));
    // 14 days without an active subscription: the daily run deletes C3 (and the others, which have none either).
    const now = Date.parse(START) + 31 * DAY;
    await t.setClock(new Date(now + DAY).toISOString());
    await t.runJob("lifecycle");
    await t.setClock(new Date(now + 20 * DAY).toISOString());
    expect(await t.runJob("lifecycle")).toMatchObject({ deadLettered: 0 });
    const back = (await pool(R, ids.r)).filter((n) => [N(11), N(12)].includes(n.number));
    expect(back.map((n) => [n.number, n.accountId, n.available])).toEqual([
      [N(11), ids.r, false],
      [N(12), ids.r, false],
    ]);
  });
});
