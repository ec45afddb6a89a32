/**
 * Rules of the partner-portal guides that no other file checks, each test naming its guide: partner
 * staff licences are amended through the vendor; partner administration for a distributor's direct
 * customers; trial top-ups and re-orders; retention after an expired trial; three-year prepaid terms.
 *
 *   Platform (operator)
 *   └── Distributor D, USD (owner d, a seller)
 *       ├── Reseller R (owner r, a seller)
 *       │   └── Customer RC (owner rc): a customer of the reseller
 *       ├── Customer C (owner c): a direct customer of the distributor
 *       ├── Customer T (owner t): a trial that is left to expire
 *       ├── Customer U (owner u): a trial that is topped up, then cancelled
 *       └── Customer P (owner p): a three-year prepaid term
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ERR, OPERATOR, PLATFORM, expectError, expectForbidden, expectInvalid, ok, startTestStack } from "./harness.js";
import type { Success, TestStack } from "./harness.js";

// After the stack's bootstrap (the real date): the lifecycle run reads the days since then only.
const START = "2027-03-01T09:00:00.000Z";
const DAY = 86_400_000;
const D_OWNER = "owner@d.review.example";
const R_OWNER = "owner@r.review.example";
const RC_OWNER = "owner@rc.review.example";
const C_OWNER = "owner@c.review.example";
const C_NEW = "new@c.review.example";
const T_OWNER = "owner@t.review.example";
const U_OWNER = "owner@u.review.example";
const P_OWNER = "owner@p.review.example";

const TRUNK = "RC-DRAAS-TRUNK-SUB";
const TRIAL = "RC-DRAAS-TRK-TRIAL";
const STAFF = "RV-STAFF-USER";
const P3Y = "RV-TRUNK-3Y";

const ids = { d: "", r: "", rc: "", c: "", t: "", u: "", p: "" };
let t: TestStack;

interface Sub {
  readonly id: string;
  readonly sku: string;
  readonly quantity: number;
  readonly status: string;
  readonly version: number;
  readonly endsAt: string | null;
}
const SUB = "id sku quantity status version endsAt";

let keys = 0;
const key = () => `review-${++keys}`;

const place = (as: string, accountId: string, lines: { sku: string; quantity: number }[]) =>
  t.mutate<{ order: { id: string } }>(
    as,
    "placeOrder",
    "PlaceOrderInput",
    { accountId, lines, idempotencyKey: key() },
    "order { id }",
  );
const setQuantity = (as: string, sub: Pick<Sub, "id" | "version">, quantity: number) =>
  t.mutate<{ subscription: Sub }>(
    as,
    "updateSubscriptionQuantity",
    "UpdateSubscriptionQuantityInput",
    { subscriptionId: sub.id, quantity, expectedVersion: sub.version },
    `subscription { ${SUB} }`,
  );
const cancel = (as: string, sub: Pick<Sub, "id" | "version">) =>
  t.mutate<{ subscription: Sub }>(
    as,
    "cancelSubscription",
    "CancelSubscriptionInput",
    { subscriptionId: sub.id, expectedVersion: sub.version },
    `subscription { ${SUB} }`,
  );

async function subscriptions(accountId: string): Promise<Record<string, Sub>> {
  const res = await t.gql<{ account: Success<{ subscriptions: { edges: { node: Sub }[] } }> }>(
    OPERATOR,
    `query S($id: ID!) { account(id: $id) { __typename ... on QueryAccountSuccess { data { subscriptions(first: 100) { edges { node { ${SUB} } } } } } ${ERR} } }`,
    { id: accountId },
  );
  expect(res.errors, JSON.stringify(res.errors)).toBeUndefined();
  return Object.fromEntries(res.data!.account.data.subscriptions.edges.map((e) => [e.node.sku, e.node]));
}
async function subscription(accountId: string, sku: string): Promise<Sub> {
  const sub = (await subscriptions(accountId))[sku];
  expect(sub, `no ${sku} subscription`).toBeDefined();
  return sub!;
}
const pendingDeletionAt = async (accountId: string) =>
  ok<{ pendingDeletionAt: string | null }>(await t.account(OPERATOR, accountId, "pendingDeletionAt")).pendingDeletionAt;

async function lifecycle(): Promise<void> {
  expect(await t.runJob("lifecycle")).toMatchObject({ deadLettered: 0 });
}

const customer = (name: string, owner: string) =>
  t.createAccount({ parentId: ids.d, kind: "CUSTOMER", name, owner }, D_OWNER);

beforeAll(async () => {
  t = await startTestStack();
  await t.setClock(START);
  ok(
    await t.mutate(
      OPERATOR,
      "createOffer",
      "CreateOfferInput",
      {
        sku: STAFF,
        name: "Partner staff user",
        kind: "MONTHLY",
        internalOnly: true,
        unitPrice: "1.00",
        currency: "USD",
      },
      "offer { sku }",
    ),
  );
  ok(
    await t.mutate(
      OPERATOR,
      "createOffer",
      "CreateOfferInput",
      { sku: P3Y, name: "Trunk user, 3 years", kind: "PREPAID", termMonths: 36, unitPrice: "90.00", currency: "USD" },
      "offer { sku }",
    ),
  );
  ids.d = await t.createAccount({
    parentId: PLATFORM,
    kind: "DISTRIBUTOR",
    name: "Review Distribution",
    owner: D_OWNER,
  });
  await t.offer(ids.d, [TRUNK, TRIAL, STAFF, P3Y]);
  ids.r = await t.createAccount(
    { parentId: ids.d, kind: "RESELLER", name: "Review Reseller", owner: R_OWNER },
    D_OWNER,
  );
  ids.rc = await t.createAccount(
    { parentId: ids.r, kind: "CUSTOMER", name: "Review Reseller's Customer", owner: RC_OWNER },
    D_OWNER,
  );
  ids.c = await customer("Review Direct Customer", C_OWNER);
  ids.t = await customer("Review Trial Expires", T_OWNER);
  ids.u = await customer("Review Trial Topped Up", U_OWNER);
  ids.p = await customer("Review Three Years", P_OWNER);
  // Its three-year term starts now (an account without an active subscription would be deleted meanwhile).
  ok(await place(D_OWNER, ids.p, [{ sku: P3Y, quantity: 2 }]));
}, 120_000);

afterAll(async () => {
  await t?.stop();
});

describe("internal-use (partner staff) subscriptions", () => {
  // Rule (call2teams-partner-subscriptions.txt, "Internal Use Subscriptions"): internal-user licences are
  // for the partner's own staff and are ordered AND amended only through a service-desk request (the vendor).
  // Increases are refused to the partner (commerce-rules covers that); decreases and cancellation too.
  it("a partner may not lower or cancel its own staff licences: amendments go through the vendor (operator)", async () => {
    await t.offer(ids.r, [TRUNK, TRIAL, STAFF]);
    ok(await place(OPERATOR, ids.r, [{ sku: STAFF, quantity: 5 }]));
    const staff = await subscription(ids.r, STAFF);

    expect
      .soft((await setQuantity(R_OWNER, staff, 3)).__typename, "reseller's owner lowers 5 → 3")
      .toBe("ForbiddenError");
    expect
      .soft((await setQuantity(D_OWNER, await subscription(ids.r, STAFF), 2)).__typename, "distributor's seller lowers")
      .toBe("ForbiddenError");
    expect
      .soft((await cancel(R_OWNER, await subscription(ids.r, STAFF))).__typename, "reseller's owner cancels")
      .toBe("ForbiddenError");
    // The service desk (operator) amends them.
    expect.soft((await subscription(ids.r, STAFF)).quantity).toBe(5);
    expect(
      ok<{ subscription: Sub }>(await setQuantity(OPERATOR, await subscription(ids.r, STAFF), 4)).subscription.quantity,
    ).toBe(4);
  });
});

describe("partner administration on behalf (Circuit)", () => {
  // Rule (circuit-partner-admin-on-behalf.txt, hint under "How to get as Reseller the Administration 'on
  // behalf'"): distributors may use partner administration for the customers where they act as the
  // reseller themselves (their direct customers); the feature is for "Resellers (or tier-1 partner which
  // have direct customers)".
  it("a distributor with a direct customer can be enabled, flag a member, and administer the opted-in customer", async () => {
    const enabled = await t.mutate<{ account: { id: string } }>(
      OPERATOR,
      "setPartnerAdminCapability",
      "SetPartnerAdminCapabilityInput",
      { accountId: ids.d, enabled: true },
      "account { id }",
    );
    expect(enabled.__typename, JSON.stringify(enabled)).toBe("MutationSetPartnerAdminCapabilitySuccess");
    ok(
      await t.mutate(
        D_OWNER,
        "setMemberPartnerAdmin",
        "SetMemberPartnerAdminInput",
        { accountId: ids.d, email: D_OWNER, partnerAdmin: true },
        "member { email }",
      ),
    );
    const optIn = (as: string, accountId: string) =>
      t.mutate(as, "setPartnerAdminOptIn", "SetPartnerAdminOptInInput", { accountId, optIn: true }, "account { id }");
    const invite = (accountId: string, email: string) =>
      t.mutate(D_OWNER, "inviteMember", "InviteMemberInput", { accountId, email, role: "VIEWER" }, "member { email }");
    // Before the customer opts in, the distributor's seller may not administer its tenant.
    expectForbidden(await invite(ids.c, C_NEW), "NO_OPT_IN");
    ok(await optIn(C_OWNER, ids.c));
    ok(await invite(ids.c, C_NEW));
    // Recorded as done on behalf of the customer by the distributor's partner admin.
    const history = ok<{
      history: { edges: { node: { action: string; actor: string; onBehalfOf: string | null } }[] };
    }>(
      await t.account(C_OWNER, ids.c, "history(first: 5) { edges { node { action actor onBehalfOf } } }"),
    ).history.edges.map((e) => e.node);
    expect(history.find((h) => h.action === "member.invited")).toMatchObject({
      actor: `user:${D_OWNER}`,
      onBehalfOf: expect.stringMatching(/^reseller:/),
    });
    // A customer of its reseller that opted in did so for the reseller, not for the distributor above it.
    ok(await optIn(RC_OWNER, ids.rc));
    expectError(await invite(ids.rc, "new@rc.review.example"), "ForbiddenError");
  });

  // Rule (circuit-partner-admin-on-behalf.txt, "Requirements and Setup": the capability is enabled per reseller by
  // the vendor's ops team). An operator asking it for an account where it does not apply must be told so
  // (ForbiddenReason NOT_APPLICABLE, as setMemberPartnerAdmin and setPartnerAdminOptIn answer), not
  // OPERATOR_ONLY ("only the vendor's platform operators do this"), which is false for an operator.
  it("an operator enabling the capability on a customer is told NOT_APPLICABLE, not OPERATOR_ONLY", async () => {
    const r = await t.mutate<{ account: { id: string } }>(
      OPERATOR,
      "setPartnerAdminCapability",
      "SetPartnerAdminCapabilityInput",
      { accountId: ids.t, enabled: true },
      "account { id }",
    );
    expectForbidden(r, "NOT_APPLICABLE");
  });
});

describe("trials (30 days, once)", () => {
  // Rule (call2teams-partner-subscriptions.txt, offers table; ribbon-connect-partner-portal.txt,
  // "Trunk User Trial | Active, expiring in 25 days"): a trial expires 30 days after it starts; licences
  // added later do not extend it, and a trial that ended (cancelled or expired) is not started again.
  it("licences added to a running trial keep its end; a cancelled trial cannot be ordered again", async () => {
    ok(await place(D_OWNER, ids.u, [{ sku: TRIAL, quantity: 2 }]));
    const first = await subscription(ids.u, TRIAL);
    expect(Date.parse(first.endsAt!) - Date.parse(START)).toBeGreaterThanOrEqual(30 * DAY - 60_000);
    await t.setClock(new Date(Date.parse(START) + 10 * DAY).toISOString());
    ok(await place(D_OWNER, ids.u, [{ sku: TRIAL, quantity: 3 }]));
    const topped = await subscription(ids.u, TRIAL);
    expect(topped).toMatchObject({ quantity: 5, status: "ACTIVE", endsAt: first.endsAt });

    ok(await cancel(D_OWNER, topped));
    expectInvalid(await place(D_OWNER, ids.u, [{ sku: TRIAL, quantity: 1 }]), ["lines", "0", "sku"]);
  });
});

describe("retention after a trial (Ribbon)", () => {
  // Rule (ribbon-connect-partner-portal.txt, last note): a customer is removed with its data 14 days after
  // it has no active subscription. A customer whose only subscription was a trial that expired is removed
  // 14 days after the trial's end; until then it shows when.
  it("a customer whose only trial expired shows pendingDeletionAt = end + 14 days and is deleted after it", async () => {
    await t.setClock(START);
    ok(await place(D_OWNER, ids.t, [{ sku: TRIAL, quantity: 2 }]));
    const trial = await subscription(ids.t, TRIAL);
    const end = Date.parse(trial.endsAt!);

    await t.setClock(new Date(end + DAY).toISOString());
    await lifecycle();
    expect(await subscription(ids.t, TRIAL)).toMatchObject({ status: "EXPIRED", quantity: 0 });
    // (The retention marker the expiry writes is read by the next daily run, not the one that expired the trial.)
    await t.setClock(new Date(end + 2 * DAY).toISOString());
    await lifecycle();
    const pending = await pendingDeletionAt(ids.t);
    expect(pending).not.toBeNull();
    expect(Math.abs(Date.parse(pending!) - (end + 14 * DAY))).toBeLessThan(60_000);
    // The expired trial is not started again either.
    expectInvalid(await place(D_OWNER, ids.t, [{ sku: TRIAL, quantity: 1 }]), ["lines", "0", "sku"]);

    await t.setClock(new Date(end + 13 * DAY).toISOString());
    await lifecycle();
    expect((await t.account(OPERATOR, ids.t, "id")).__typename).toBe("QueryAccountSuccess");

    await t.setClock(new Date(end + 15 * DAY).toISOString());
    await lifecycle();
    expectError(await t.account(D_OWNER, ids.t, "id"), "NotFoundError");
  });
});

describe("three-year prepaid terms (Rainbow 5.5)", () => {
  // Rule (rainbow-distributor-admin.txt, "How the Multi-year subscriptions are billed"): one- and
  // three-year prepaid terms; at the end of either, an automatic renewal for ONE year (even after the
  // three-year initial term). Runs last: it moves the clock years ahead.
  it("a 36-month term ends after 36 months and renews for 12 months, then again for 12", async () => {
    const day0 = new Date(START);
    const sub = await subscription(ids.p, P3Y);
    const end = new Date(sub.endsAt!);
    expect(end.getUTCFullYear() - day0.getUTCFullYear()).toBe(3);
    expect(end.toISOString().slice(4, 10)).toBe(day0.toISOString().slice(4, 10));

    // The day before the end: nothing renews.
    await t.setClock(new Date(end.getTime() - DAY).toISOString());
    await lifecycle();
    expect(await subscription(ids.p, P3Y)).toMatchObject({ endsAt: sub.endsAt, version: sub.version });

    await t.setClock(new Date(end.getTime() + 3_600_000).toISOString());
    await lifecycle();
    const renewed = await subscription(ids.p, P3Y);
    expect(renewed).toMatchObject({ status: "ACTIVE", quantity: 2 });
    expect(renewed.endsAt).toBe(`${end.getUTCFullYear() + 1}${sub.endsAt!.slice(4)}`);

    const end2 = new Date(renewed.endsAt!);
    await t.setClock(new Date(end2.getTime() + 3_600_000).toISOString());
    await lifecycle();
    expect((await subscription(ids.p, P3Y)).endsAt).toBe(`${end.getUTCFullYear() + 2}${sub.endsAt!.slice(4)}`);
  }, 120_000);
});
