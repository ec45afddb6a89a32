/**
 * Request sequences and concurrency in commerce, membership and account lifecycle. Four were
 * defects when this file was written (each comment says "Rule broken" and what happened), fixed since:
 * invitations superseded or withdrawn read REVOKED; a removal conditions on the role it read; an
 * order checks (and counts on) its account, so a move or a deletion racing it reads again.
 * Every test ends by reading the whole state back (GraphQL as the operator, and the table's own
 * counters through the store where GraphQL does not show them: ownerCount, licenceCount, partyId).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OPERATOR, PLATFORM, mutationDocument, startTestStack } from "./harness.js";
import type { GraphQLResponse, Result, Success, TestStack, TypedError } from "./harness.js";

const TRUNK = "RC-DRAAS-TRUNK-SUB";
const PBX = "RC-DRAAS-PBX-SUB";
const TRK_TRIAL = "RC-DRAAS-TRK-TRIAL";
const PBX_TRIAL = "RC-DRAAS-PBX-TRIAL";
const SKUS = [TRUNK, PBX, TRK_TRIAL, PBX_TRIAL];
const D1_OWNER = "owner@rs-d1.example";
const D2_OWNER = "owner@rs-d2.example";
const DAY = 86_400_000;

let t: TestStack;
const ids = { d1: "", d2: "" };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const localId = (globalId: string): string =>
  Buffer.from(globalId, "base64")
    .toString("utf8")
    .replace(/^Account:/, "");

interface Outcome<T> {
  readonly status: number;
  readonly errors: GraphQLResponse["errors"];
  readonly result: Result<T> | undefined;
}
async function call<T>(
  as: string,
  field: string,
  inputType: string,
  input: Record<string, unknown>,
  select = "__typename",
): Promise<Outcome<T>> {
  const r = await t.gql<{ r: Result<T> }>(as, mutationDocument(field, inputType, select), { input });
  return { status: r.status, errors: r.errors, result: r.data?.r };
}
/** Every outcome is a typed result (HTTP 200, no top-level error): its wins and typed losses. */
function typed<T>(outs: readonly Outcome<T>[]) {
  expect(outs.map((o) => ({ status: o.status, errors: o.errors, typed: o.result !== undefined }))).toEqual(
    outs.map(() => ({ status: 200, errors: undefined, typed: true })),
  );
  const results = outs.map((o) => o.result!);
  return {
    wins: results.filter((r): r is Success<T> => "data" in r),
    losses: results.filter((r): r is TypedError => !("data" in r)),
  };
}
const isWin = <T>(o: Outcome<T>): boolean => !!o.result && "data" in o.result;

async function acceptAs(email: string, token: string): Promise<Outcome<unknown>> {
  const r = await t.gql<{ r: Result<unknown> }>(
    email,
    `mutation A($token: String!) { r: acceptInvitation(token: $token) { __typename ... on MutationAcceptInvitationSuccess { data { account { id } } } ... on Error { code message } } }`,
    { token },
  );
  return { status: r.status, errors: r.errors, result: r.data?.r };
}
/** The latest invitation token mailed to `email` that is not `previous`. */
async function freshToken(email: string, previous?: string): Promise<string> {
  for (let waited = 0; ; waited += 50) {
    const token = await t.invitationToken(email);
    if (token !== previous) return token;
    if (waited > 5_000) throw new Error(`no new invitation for ${email}`);
    await sleep(50);
  }
}
async function customer(parentId: string, name: string, owner: string, as: string): Promise<string> {
  return t.createAccount({ parentId, kind: "CUSTOMER", name, owner }, as);
}
const invite = (as: string, accountId: string, email: string, role: string) =>
  call<{ member: { email: string } }>(
    as,
    "inviteMember",
    "InviteMemberInput",
    { accountId, email, role },
    "member { email }",
  );
const order = (as: string, accountId: string, lines: { sku: string; quantity: number }[], idempotencyKey: string) =>
  call<{ order: { id: string } }>(
    as,
    "placeOrder",
    "PlaceOrderInput",
    { accountId, lines, idempotencyKey },
    "order { id }",
  );

interface SubView {
  id: string;
  sku: string;
  quantity: number;
  assigned: number;
  status: string;
  version: number;
  licences: { edges: { node: { email: string; sku: string } }[] };
}
interface AccountState {
  id: string;
  pendingDeletionAt: string | null;
  parent: { id: string } | null;
  subscriptions: { edges: { node: SubView }[] };
  members: { edges: { node: { email: string; role: string; status: string } }[] };
  invitations: { edges: { node: { id: string; email: string; status: string; kind: string; role: string | null } }[] };
  orders: { edges: { node: { id: string } }[] };
}
/** The account as the operator reads it, or undefined when it is gone (NotFoundError). */
async function state(accountId: string): Promise<AccountState | undefined> {
  const r = await t.read<{ account: { __typename: string; data?: AccountState } }>(
    OPERATOR,
    `query Q($id: ID!) { account(id: $id) { __typename ... on QueryAccountSuccess { data {
      id pendingDeletionAt parent { id }
      subscriptions(first: 100) { edges { node { id sku quantity assigned status version licences(first: 100) { edges { node { email sku } } } } } }
      members(first: 100) { edges { node { email role status } } }
      invitations(first: 100) { edges { node { id email status kind role } } }
      orders(first: 100) { edges { node { id } } }
    } } } }`,
    { id: accountId },
  );
  return r.account.data;
}
const sub = (s: AccountState, sku: string) => s.subscriptions.edges.map((e) => e.node).find((n) => n.sku === sku);

/**
 * The counters agree with what they count: per subscription `assigned` = its licences and
 * `assigned <= quantity`; per member the stored licenceCount = the licences it holds; the stored
 * ownerCount = the active OWNER members, at least one; every active member's person item holds the
 * membership, no removed one does.
 */
async function expectConsistent(accountId: string, formerMembers: readonly string[] = []): Promise<void> {
  const s = (await state(accountId))!;
  const store = t.stack.store;
  const local = localId(accountId);
  const holders = new Map<string, number>();
  for (const { node } of s.subscriptions.edges) {
    expect({ sku: node.sku, assigned: node.assigned }).toEqual({ sku: node.sku, assigned: node.licences.edges.length });
    expect(node.assigned, node.sku).toBeLessThanOrEqual(node.quantity);
    for (const l of node.licences.edges) {
      expect(l.node.sku).toBe(node.sku);
      holders.set(l.node.email, (holders.get(l.node.email) ?? 0) + 1);
    }
  }
  for (const { node: m } of s.members.edges) {
    const record = await store.getMember(local, m.email);
    expect({ email: m.email, licenceCount: record?.licenceCount ?? 0 }).toEqual({
      email: m.email,
      licenceCount: holders.get(m.email) ?? 0,
    });
    const person = await store.getPerson(m.email);
    if (m.status === "ACTIVE") expect(person?.memberships[local], m.email).toMatchObject({ role: m.role });
  }
  for (const email of holders.keys()) expect(s.members.edges.map((e) => e.node.email)).toContain(email);
  for (const email of formerMembers) {
    if (s.members.edges.some((e) => e.node.email === email)) continue;
    expect((await store.getPerson(email))?.memberships[local], email).toBeUndefined();
  }
  const owners = s.members.edges.filter((e) => e.node.status === "ACTIVE" && e.node.role === "OWNER").length;
  expect(owners).toBeGreaterThanOrEqual(1);
  expect({ ownerCount: (await store.getAccount(local))!.ownerCount }).toEqual({ ownerCount: owners });
}

beforeAll(async () => {
  t = await startTestStack();
  await t.setClock("2029-03-01T08:00:00.000Z");
  ids.d1 = await t.createAccount({
    parentId: PLATFORM,
    kind: "DISTRIBUTOR",
    name: "RS Distributor 1",
    owner: D1_OWNER,
  });
  ids.d2 = await t.createAccount({
    parentId: PLATFORM,
    kind: "DISTRIBUTOR",
    name: "RS Distributor 2",
    owner: D2_OWNER,
  });
  await t.offer(ids.d1, SKUS);
  await t.offer(ids.d2, SKUS);
}, 60_000);
afterAll(async () => {
  await t?.stop();
});

describe("invitations: revoke, re-invite, accept", () => {
  // Rule (was broken): schema enum InvitationStatus.REVOKED = "Withdrawn, or superseded by a newer
  // invitation". Withdrawing an invitation (removeMember of an INVITED member) or re-inviting the
  // person leaves the old invitation reading PENDING in Account.invitations (nothing ever writes
  // REVOKED), although its token is refused.
  it("a withdrawn invitation and a superseded one read REVOKED, not PENDING", async () => {
    const owner = "owner@rs-inv.example";
    const c = await customer(ids.d1, "RS Invitations", owner, D1_OWNER);
    const x = "x@rs-inv.example";
    const y = "y@rs-inv.example";
    expect(isWin(await invite(owner, c, x, "VIEWER"))).toBe(true);
    const first = await freshToken(x);
    expect(isWin(await invite(owner, c, x, "CONTRIBUTOR"))).toBe(true);
    const second = await freshToken(x, first);
    expect(isWin(await invite(owner, c, y, "VIEWER"))).toBe(true);
    const yToken = await freshToken(y);
    expect(isWin(await call(owner, "removeMember", "MemberRefInput", { accountId: c, email: y }))).toBe(true);

    // The tokens behave (control): superseded and withdrawn tokens are refused, the latest one joins.
    expect((await acceptAs(x, first)).result).toMatchObject({ __typename: "ConflictError" });
    expect((await acceptAs(y, yToken)).result).toMatchObject({ __typename: "ConflictError" });
    expect((await acceptAs(x, second)).result).toMatchObject({ __typename: "MutationAcceptInvitationSuccess" });

    const s = (await state(c))!;
    const byEmail = (email: string) =>
      s.invitations.edges
        .map((e) => e.node)
        .filter((i) => i.email === email)
        .map((i) => [i.role, i.status]);
    expect(byEmail(x)).toEqual([
      ["VIEWER", "REVOKED"],
      ["CONTRIBUTOR", "ACCEPTED"],
    ]);
    expect(byEmail(y)).toEqual([["VIEWER", "REVOKED"]]);
    // node(id) answers the same status as the list.
    const yId = s.invitations.edges.find((e) => e.node.email === y)!.node.id;
    const byNode = await t.read<{ node: { status: string } | null }>(
      owner,
      "query($id: ID!) { node(id: $id) { ... on Invitation { status } } }",
      { id: yId },
    );
    expect(byNode.node?.status).toBe("REVOKED");
    await expectConsistent(c, [y]);
  });

  it("the same OWNER invitation accepted twice at once: one joins, the other is a ConflictError; ownerCount counts it once", async () => {
    const owner = "owner@rs-twice.example";
    const c = await customer(ids.d1, "RS Twice", owner, D1_OWNER);
    const z = "z@rs-twice.example";
    expect(isWin(await invite(owner, c, z, "OWNER"))).toBe(true);
    const token = await freshToken(z);
    const all3 = await Promise.all([acceptAs(z, token), acceptAs(z, token), acceptAs(z, token)]);
    const { wins, losses } = typed(all3);
    expect(wins).toHaveLength(1);
    expect(losses.map((l) => l.__typename)).toEqual(["ConflictError", "ConflictError"]);
    await expectConsistent(c);
    expect((await t.stack.store.getAccount(localId(c)))!.ownerCount).toBe(2);
  });

  it("acceptance racing its withdrawal: exactly one happens, and members, people and counters agree", async () => {
    const owner = "owner@rs-race.example";
    const c = await customer(ids.d1, "RS Accept Race", owner, D1_OWNER);
    const people: string[] = [];
    for (let i = 0; i < 6; i++) {
      const w = `w${i}@rs-race.example`;
      people.push(w);
      expect(isWin(await invite(owner, c, w, i % 2 ? "OWNER" : "CONTRIBUTOR"))).toBe(true);
      const token = await freshToken(w);
      const [accepted, removed] = await Promise.all([
        acceptAs(w, token),
        sleep(i * 4).then(() => call(owner, "removeMember", "MemberRefInput", { accountId: c, email: w })),
      ]);
      typed([accepted, removed]);
      // Both may succeed only in that order: joined, then removed as an active member.
      if (!isWin(accepted)) expect(isWin(removed)).toBe(true);
    }
    await expectConsistent(c, people);
  });
});

describe("owners under races", () => {
  // Rule (was broken): "the last OWNER" is kept by `ownerCount` (Cond.notLastOwner). removeMember
  // conditions its delete on the member's status and licence count, not on its role: a promotion
  // to OWNER that commits between removeMember's read and its write leaves ownerCount one above
  // the real number of owners, after which the last real owner can demote or remove themselves.
  it("setMemberRole(OWNER) racing removeMember of the same member keeps ownerCount = active owners", async () => {
    const owner = "owner@rs-owners.example";
    const c = await customer(ids.d1, "RS Owners", owner, D1_OWNER);
    const former: string[] = [];
    for (let i = 0; i < 16; i++) {
      const m = `m${i}@rs-owners.example`;
      former.push(m);
      expect(isWin(await invite(owner, c, m, "CONTRIBUTOR"))).toBe(true);
      await t.accept(m);
      const outs = await Promise.all([
        call(owner, "setMemberRole", "SetMemberRoleInput", { accountId: c, email: m, role: "OWNER" }),
        sleep(i % 8).then(() => call(owner, "removeMember", "MemberRefInput", { accountId: c, email: m })),
      ]);
      typed(outs);
      const local = localId(c);
      const members = await t.stack.store.allMembers(local);
      const owners = members.filter((x) => x.status === "ACTIVE" && x.role === "OWNER").length;
      const count = (await t.stack.store.getAccount(local))!.ownerCount;
      if (count !== owners) {
        // The consequence: the only real owner steps down, and the account has no owner left.
        const demoted = await call(owner, "setMemberRole", "SetMemberRoleInput", {
          accountId: c,
          email: owner,
          role: "VIEWER",
        });
        expect(
          { round: i, ownerCount: count, owners, lastOwnerDemoted: isWin(demoted) },
          "ownerCount drifted from the active owners",
        ).toEqual({ round: i, ownerCount: owners, owners, lastOwnerDemoted: false });
      }
      // Leave one owner only for the next round.
      const now = await t.stack.store.getMember(local, m);
      if (now)
        expect(isWin(await call(owner, "removeMember", "MemberRefInput", { accountId: c, email: m }))).toBe(true);
    }
    await expectConsistent(c, former);
  }, 120_000);

  it("two owners each removing themselves at once: one leaves, the other stays the last owner", async () => {
    const a = "a@rs-self.example";
    const c = await customer(ids.d1, "RS Self Removal", a, D1_OWNER);
    const b = "b@rs-self.example";
    expect(isWin(await invite(a, c, b, "OWNER"))).toBe(true);
    await t.accept(b);
    const outs = await Promise.all([
      call(a, "removeMember", "MemberRefInput", { accountId: c, email: a }),
      call(b, "removeMember", "MemberRefInput", { accountId: c, email: b }),
    ]);
    const { wins, losses } = typed(outs);
    expect(wins).toHaveLength(1);
    expect(losses).toMatchObject([{ __typename: "ConflictError", message: "An account keeps at least one owner" }]);
    await expectConsistent(c, [a, b]);
  });
});

describe("licences: counters under mixed concurrency", () => {
  it("assign, unassign, a quantity decrease and member removals at once: assigned = licences <= quantity, licenceCount per member exact", async () => {
    const owner = "owner@rs-lic.example";
    const c = await customer(ids.d1, "RS Licences", owner, D1_OWNER);
    expect(isWin(await order(D1_OWNER, c, [{ sku: TRUNK, quantity: 6 }], "lic-6"))).toBe(true);
    const members = Array.from({ length: 8 }, (_, i) => `l${i}@rs-lic.example`);
    for (const m of members) {
      expect(isWin(await invite(owner, c, m, "VIEWER"))).toBe(true);
      await t.accept(m);
    }
    const trunk = sub((await state(c))!, TRUNK)!;
    const lic = (field: string, email: string) =>
      call(owner, field, "LicenceInput", { subscriptionId: trunk.id, email });
    for (const m of members.slice(0, 4)) expect(isWin(await lic("assignLicence", m))).toBe(true);

    const outs = await Promise.all([
      lic("assignLicence", members[4]!),
      lic("assignLicence", members[5]!),
      lic("assignLicence", members[6]!),
      lic("assignLicence", members[7]!),
      lic("unassignLicence", members[0]!),
      lic("unassignLicence", members[0]!),
      call(D1_OWNER, "updateSubscriptionQuantity", "UpdateSubscriptionQuantityInput", {
        subscriptionId: trunk.id,
        quantity: 4,
        expectedVersion: trunk.version,
      }),
      call(owner, "removeMember", "MemberRefInput", { accountId: c, email: members[1]! }),
      call(owner, "removeMember", "MemberRefInput", { accountId: c, email: members[4]! }),
      lic("assignLicence", members[1]!),
    ]);
    typed(outs);
    // Unassigning the same licence twice: never two successes.
    expect([outs[4], outs[5]].filter(isWin).length).toBeLessThanOrEqual(1);
    await expectConsistent(c, members);
  }, 60_000);
});

describe("trials: conversion racing other changes", () => {
  it("convertTrial racing cancelSubscription of the same trial: exactly one wins; an order exists only for a conversion", async () => {
    const owner = "owner@rs-trial.example";
    const c = await customer(ids.d1, "RS Trial Race", owner, D1_OWNER);
    expect(isWin(await order(D1_OWNER, c, [{ sku: PBX_TRIAL, quantity: 5 }], "trial-5"))).toBe(true);
    const before = (await state(c))!;
    const trial = sub(before, PBX_TRIAL)!;
    const outs = await Promise.all([
      call(D1_OWNER, "convertTrial", "ConvertTrialInput", {
        subscriptionId: trial.id,
        quantity: 3,
        idempotencyKey: "conv-1",
      }),
      call(D1_OWNER, "cancelSubscription", "CancelSubscriptionInput", {
        subscriptionId: trial.id,
        expectedVersion: trial.version,
      }),
    ]);
    const { wins } = typed(outs);
    expect(wins).toHaveLength(1);
    const after = (await state(c))!;
    const converted = isWin(outs[0]!);
    expect(sub(after, PBX_TRIAL)!.status).toBe(converted ? "CONVERTED" : "CANCELLED");
    expect(sub(after, PBX)?.quantity ?? 0).toBe(converted ? 3 : 0);
    expect(after.orders.edges.length).toBe(before.orders.edges.length + (converted ? 1 : 0));
    await expectConsistent(c);
  });

  it("convertTrial racing assignments and unassignments on the trial: every trial licence ends on the paid subscription", async () => {
    const owner = "owner@rs-trial2.example";
    const c = await customer(ids.d1, "RS Trial Licences", owner, D1_OWNER);
    expect(isWin(await order(D1_OWNER, c, [{ sku: TRK_TRIAL, quantity: 6 }], "trial-6"))).toBe(true);
    const members = Array.from({ length: 5 }, (_, i) => `t${i}@rs-trial2.example`);
    for (const m of members) {
      expect(isWin(await invite(owner, c, m, "VIEWER"))).toBe(true);
      await t.accept(m);
    }
    const trial = sub((await state(c))!, TRK_TRIAL)!;
    const lic = (field: string, email: string) =>
      call(owner, field, "LicenceInput", { subscriptionId: trial.id, email });
    for (const m of members.slice(0, 2)) expect(isWin(await lic("assignLicence", m))).toBe(true);
    const outs = await Promise.all([
      call(D1_OWNER, "convertTrial", "ConvertTrialInput", {
        subscriptionId: trial.id,
        quantity: 5,
        idempotencyKey: "conv-2",
      }),
      lic("assignLicence", members[2]!),
      lic("assignLicence", members[3]!),
      lic("unassignLicence", members[0]!),
      call(owner, "removeMember", "MemberRefInput", { accountId: c, email: members[1]! }),
    ]);
    typed(outs);
    expect(isWin(outs[0]!)).toBe(true);
    const after = (await state(c))!;
    expect(sub(after, TRK_TRIAL)).toMatchObject({ status: "CONVERTED", assigned: 0, quantity: 0 });
    expect(sub(after, TRUNK)!.quantity).toBe(5);
    await expectConsistent(c, members);
  });
});

describe("idempotency keys", () => {
  it("one key, two different bodies at once: one order, the other a ConflictError; the same key on another account is that account's own", async () => {
    const c1 = await customer(ids.d1, "RS Keys 1", "owner@rs-keys1.example", D1_OWNER);
    const c2 = await customer(ids.d1, "RS Keys 2", "owner@rs-keys2.example", D1_OWNER);
    const outs = await Promise.all([
      order(D1_OWNER, c1, [{ sku: TRUNK, quantity: 2 }], "shared-key"),
      order(D1_OWNER, c1, [{ sku: TRUNK, quantity: 3 }], "shared-key"),
      order(D1_OWNER, c1, [{ sku: PBX, quantity: 1 }], "shared-key"),
    ]);
    const { wins, losses } = typed(outs);
    expect(wins).toHaveLength(1);
    expect(losses.map((l) => l.message)).toEqual([
      "This idempotency key was used for a different order",
      "This idempotency key was used for a different order",
    ]);
    const s1 = (await state(c1))!;
    expect(s1.orders.edges).toHaveLength(1);
    expect(s1.subscriptions.edges.map((e) => [e.node.sku, e.node.quantity])).toHaveLength(1);
    // Another account, same key and same body: its own order (keys are per account).
    const other = await order(D1_OWNER, c2, [{ sku: TRUNK, quantity: 2 }], "shared-key");
    expect(isWin(other)).toBe(true);
    expect((await state(c2))!.orders.edges).toHaveLength(1);
  });

  it("bad numbers and keys are typed refusals or coercion errors, never a 500, and write nothing", async () => {
    const c = await customer(ids.d1, "RS Bad Input", "owner@rs-bad.example", D1_OWNER);
    expect(isWin(await order(D1_OWNER, c, [{ sku: TRUNK, quantity: 1 }], "bad-base"))).toBe(true);
    const trunk = sub((await state(c))!, TRUNK)!;
    await t.nothingWritten(async () => {
      for (const [field, type, input] of [
        [
          "placeOrder",
          "PlaceOrderInput",
          { accountId: c, lines: [{ sku: TRUNK, quantity: 2 ** 31 }], idempotencyKey: "k1" },
        ],
        [
          "placeOrder",
          "PlaceOrderInput",
          { accountId: c, lines: [{ sku: TRUNK, quantity: "NaN" }], idempotencyKey: "k2" },
        ],
        [
          "placeOrder",
          "PlaceOrderInput",
          { accountId: c, lines: [{ sku: TRUNK, quantity: -1 }], idempotencyKey: "k3" },
        ],
        [
          "placeOrder",
          "PlaceOrderInput",
          { accountId: c, lines: [{ sku: TRUNK, quantity: 1 }], idempotencyKey: "ключ" },
        ],
        [
          "placeOrder",
          "PlaceOrderInput",
          { accountId: c, lines: [{ sku: TRUNK, quantity: 1 }], idempotencyKey: "k\u200b" },
        ],
        [
          "placeOrder",
          "PlaceOrderInput",
          { accountId: c, lines: [{ sku: "RC-DRAAS-TRUNK-SUB\u0301", quantity: 1 }], idempotencyKey: "k5" },
        ],
        [
          "placeOrder",
          "PlaceOrderInput",
          { accountId: c, lines: [{ sku: TRUNK, quantity: 1 }], idempotencyKey: "k6", reference: "\u202eevil" },
        ],
        [
          "updateSubscriptionQuantity",
          "UpdateSubscriptionQuantityInput",
          { subscriptionId: trunk.id, quantity: 100_001, expectedVersion: trunk.version },
        ],
        [
          "updateSubscriptionQuantity",
          "UpdateSubscriptionQuantityInput",
          { subscriptionId: trunk.id, quantity: 1, expectedVersion: -2_147_483_648 },
        ],
        [
          "updateSubscriptionQuantity",
          "UpdateSubscriptionQuantityInput",
          { subscriptionId: trunk.id, quantity: 1.5, expectedVersion: trunk.version },
        ],
        ["convertTrial", "ConvertTrialInput", { subscriptionId: trunk.id, quantity: 0, idempotencyKey: "k7" }],
        [
          "convertTrial",
          "ConvertTrialInput",
          { subscriptionId: `${trunk.id}\u0000`, quantity: 1, idempotencyKey: "k8" },
        ],
        ["assignLicence", "LicenceInput", { subscriptionId: trunk.id, email: "owner@rs-bad.example\u0000" }],
      ] as const) {
        const r = await t.gql<{ r: Result<unknown> }>(D1_OWNER, mutationDocument(field, type, "__typename"), {
          input,
        });
        expect(r.status, JSON.stringify(r)).not.toBe(500);
        if (r.errors) {
          for (const e of r.errors) expect(e.extensions?.code, JSON.stringify(r)).not.toBe("INTERNAL_SERVER_ERROR");
        } else {
          expect(r.data?.r.__typename, JSON.stringify({ field, input })).toMatch(/Error$/);
        }
      }
    });
  });
});

describe("account moves racing orders", () => {
  // Rule (was broken): security rule 11 (a customer-month is billed to the party of the hierarchy at the
  // month's end) and the Trials-view rule (entries "rewritten by moves"). placeOrder neither reads
  // the account under a condition nor bumps its version, so an order that read the account before
  // a move and commits after the move read the account's subscriptions creates its subscription
  // with the OLD billed party (partyId) and writes its trial's Trials-view entries under the OLD
  // ancestors: billed to the distributor the customer left, and listed in its Trials view.
  it("customers moving from D1 to D2 while the operator orders for them: every subscription is billed to D2, no trial stays in D1's view", async () => {
    const N = 8;
    const customers: { id: string; owner: string; token: string }[] = [];
    for (let i = 0; i < N; i++) {
      const owner = `owner${i}@rs-move.example`;
      const id = await customer(ids.d1, `RS Mover ${i}`, owner, D1_OWNER);
      expect(isWin(await order(D1_OWNER, id, [{ sku: TRUNK, quantity: 1 }], `mv-${i}`))).toBe(true);
      const before = await t.invitationToken(owner);
      expect(
        isWin(
          await call(D2_OWNER, "inviteExistingAccount", "InviteExistingAccountInput", {
            accountId: id,
            parentId: ids.d2,
          }),
        ),
      ).toBe(true);
      customers.push({ id, owner, token: await freshToken(owner, before) });
    }
    const outs = await Promise.all(
      customers.map((c, i) =>
        Promise.all([
          acceptAs(c.owner, c.token),
          sleep((i % 4) * 6).then(() =>
            order(
              OPERATOR,
              c.id,
              [
                { sku: PBX, quantity: 2 },
                { sku: PBX_TRIAL, quantity: 2 },
              ],
              `mv-race-${i}`,
            ),
          ),
        ]),
      ),
    );
    for (const pair of outs) typed(pair);
    const store = t.stack.store;
    const stale: string[] = [];
    for (const [i, c] of customers.entries()) {
      const s = (await state(c.id))!;
      const moved = isWin(outs[i]![0]);
      expect(s.parent?.id).toBe(moved ? ids.d2 : ids.d1);
      const party = localId(moved ? ids.d2 : ids.d1);
      for (const { node } of s.subscriptions.edges) {
        const record = await store.getSubscription(localId(c.id), node.sku);
        if (record?.partyId !== party) stale.push(`${i}:${node.sku} billed to ${record?.partyId}, parent ${party}`);
      }
    }
    // D1's Trials view (its owner is a seller): the trials of the customers that left must be gone from it.
    const d1Trials = await t.gql<{ trials: { edges: { node: { id: string; sku: string; quantity: number } }[] } }>(
      D1_OWNER,
      `query Q($id: ID!) { trials(accountId: $id, first: 100) { edges { node { id sku quantity } } } }`,
      { id: ids.d1 },
    );
    expect(d1Trials.errors).toBeUndefined();
    const leaked = d1Trials
      .data!.trials.edges.map((e) => Buffer.from(e.node.id, "base64").toString("utf8"))
      .filter((id) => customers.some((c, i) => id.includes(localId(c.id)) && isWin(outs[i]![0])));
    expect({ stale, leakedIntoD1TrialsView: leaked }).toEqual({ stale: [], leakedIntoD1TrialsView: [] });
  }, 120_000);
});

describe("lifecycle: deletion of idle accounts under sequences", () => {
  it("a move invitation whose inviting account was deleted as idle meanwhile is refused as a ConflictError; the account stays", async () => {
    const D0 = Date.parse("2029-03-02T09:00:00.000Z");
    await t.setClock(new Date(D0).toISOString());
    const D3_OWNER = "owner@rs-d3.example";
    const d3 = await t.createAccount({
      parentId: PLATFORM,
      kind: "DISTRIBUTOR",
      name: "RS Idle Distributor",
      owner: D3_OWNER,
    });
    await t.offer(d3, SKUS);
    const owner = "owner@rs-movegone.example";
    const c = await customer(ids.d1, "RS Move Target", owner, D1_OWNER);
    expect(isWin(await order(D1_OWNER, c, [{ sku: TRUNK, quantity: 1 }], "target-1"))).toBe(true);
    // Day 1: the run finds D3 empty (deletion due 14 days later).
    await t.setClock(new Date(D0 + DAY).toISOString());
    await t.runJob("lifecycle");
    // Day 14: D3 invites the customer; day 15: the run deletes D3.
    await t.setClock(new Date(D0 + 14 * DAY).toISOString());
    const before = await t.invitationToken(owner);
    expect(
      isWin(
        await call(D3_OWNER, "inviteExistingAccount", "InviteExistingAccountInput", { accountId: c, parentId: d3 }),
      ),
    ).toBe(true);
    const token = await freshToken(owner, before);
    await t.setClock(new Date(D0 + 15 * DAY + 3_600_000).toISOString());
    await t.runJob("lifecycle");
    expect(await state(d3)).toBeUndefined();
    const r = await acceptAs(owner, token);
    typed([r]);
    expect(r.result).toMatchObject({ __typename: "ConflictError", message: "The inviting account no longer exists" });
    expect((await state(c))?.parent?.id).toBe(ids.d1);
    await expectConsistent(c);
  }, 120_000);

  /** N customers of D1, each ordered and cancelled now: idle. */
  async function idleCustomers(tag: string, n: number): Promise<string[]> {
    const out: string[] = [];
    for (let i = 0; i < n; i++) {
      const c = await customer(ids.d1, `RS Idle ${tag} ${i}`, `owner${i}@rs-idle-${tag}.example`, D1_OWNER);
      expect(isWin(await order(D1_OWNER, c, [{ sku: TRUNK, quantity: 1 }], `idle-${tag}-${i}`))).toBe(true);
      const s = sub((await state(c))!, TRUNK)!;
      expect(
        isWin(await call(D1_OWNER, "cancelSubscription", "CancelSubscriptionInput", { subscriptionId: s.id })),
      ).toBe(true);
      out.push(c);
    }
    return out;
  }
  /** The lifecycle run and an order for each customer, staggered through the run: an order that succeeded keeps its account. */
  async function raceDeletion(tag: string, customers: readonly string[]) {
    const [, ...orders] = await Promise.all([
      t.runJob("lifecycle"),
      ...customers.map((c, i) =>
        sleep(i * 25).then(() => order(D1_OWNER, c, [{ sku: TRUNK, quantity: 2 }], `again-${tag}-${i}`)),
      ),
    ]);
    typed(orders);
    const outcome: string[] = [];
    for (const [i, c] of customers.entries()) {
      const s = await state(c);
      const record = await t.stack.store.getSubscription(localId(c), TRUNK);
      if (isWin(orders[i]!)) {
        outcome.push(
          s && sub(s, TRUNK)?.status === "ACTIVE" && s.pendingDeletionAt === null
            ? "ordered, kept"
            : `ordered (success answered) but account ${s ? "pending" : "DELETED"}; subscription item ${record ? record.status : "gone"}`,
        );
      } else {
        outcome.push(
          s ? `order refused (${orders[i]!.result!.__typename}) but account kept` : "deleted, order refused",
        );
        if (!s) expect(record, "nothing of a deleted account is left").toBeUndefined();
      }
    }
    return outcome;
  }

  it("deletion due (flagged by an earlier run) racing an order: either the order wins and the account stays, or it is refused", async () => {
    const D0 = Date.parse("2029-04-01T09:00:00.000Z");
    await t.setClock(new Date(D0).toISOString());
    await t.runJob("lifecycle");
    const customers = await idleCustomers("a", 10);
    await t.setClock(new Date(D0 + DAY).toISOString());
    await t.runJob("lifecycle");
    for (const c of customers) expect((await state(c))!.pendingDeletionAt).not.toBeNull();
    await t.setClock(new Date(D0 + 15 * DAY + 3 * 3_600_000).toISOString());
    const outcome = await raceDeletion("a", customers);
    expect(outcome.filter((o) => o !== "ordered, kept" && o !== "deleted, order refused")).toEqual([]);
  }, 120_000);

  // Rule (was broken): an account is deleted only when it "has had no active subscription for 14 days";
  // lifecycle.ts remove() says an order placed meanwhile either commits first (and calls the
  // deletion off) or fails. That holds only when the order read pendingDeletionAt: when the run
  // sets pendingDeletionAt and deletes in the same pass (a run after days without runs, rule 18),
  // an order that read the account before the flag commits without clearing it, and the deletion
  // then removes an account whose order was just answered as placed.
  it("deletion caught up after days without runs racing an order: an order answered as placed keeps its account", async () => {
    const D0 = Date.parse("2029-05-01T09:00:00.000Z");
    await t.setClock(new Date(D0).toISOString());
    await t.runJob("lifecycle");
    const customers = await idleCustomers("b", 10);
    // No run for 15 days.
    await t.setClock(new Date(D0 + 15 * DAY + 3 * 3_600_000).toISOString());
    const outcome = await raceDeletion("b", customers);
    expect(outcome.filter((o) => o !== "ordered, kept" && o !== "deleted, order refused")).toEqual([]);
  }, 120_000);
});
