/**
 * The commercial rules over HTTP: availability, prepaid terms, assigned licences, partner-staff
 * offers, delegated rights, prices, catalog management and bad order input. Every refusal is a
 * typed error and writes nothing: the operator re-reads the accounts concerned (subscriptions,
 * orders, subscription ledger, audit history, available offers, delegated rights) and the whole
 * catalog before and after.
 *
 *   Platform (operator; a platform viewer is added for the catalog checks)
 *   └── Distributor 1, USD (owner d1, a seller)
 *       ├── Reseller R (owner r, a seller)
 *       ├── Customer C (owner c, user c-user)
 *       ├── Customer N (narrowed to one offer)
 *       └── Customer D (owner d, for delegated rights)
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ERR,
  OPERATOR,
  PLATFORM,
  expectError,
  expectInvalid,
  expectUnchanged,
  isError,
  ok,
  startTestStack,
} from "./harness.js";
import type { GraphQLResponse, Money, Result, Success, TestStack } from "./harness.js";

// ---------------------------------------------------------------- data

const START = "2026-11-02T09:00:00.000Z";
const D1_OWNER = "owner@d1.example";
const R_OWNER = "owner@reseller.example";
const C_OWNER = "owner@customer.example";
const C_USER = "user@customer.example";
const D_OWNER = "owner@delegated.example";
const PLATFORM_VIEWER = "viewer@vendor.example";

/** Seeded Ribbon offers (USD). */
const TRUNK = "RC-DRAAS-TRUNK-SUB";
const PBX = "RC-DRAAS-PBX-SUB";
const TRUNK_TRIAL = "RC-DRAAS-TRK-TRIAL";
/** Seeded, but never made available to Distributor 1. */
const PBX_TRIAL = "RC-DRAAS-PBX-TRIAL";
const RAINBOW_EUR = "3EY95002AA";
/** Created by the operator in this file (USD). */
const STAFF = "RC-STAFF-USER";
const PREPAID = "RC-TRUNK-1Y";
const FAX = "RC-FAX-SUB";
const OLD = "RC-OLD-SUB";
const D1_OFFERS = [TRUNK, PBX, TRUNK_TRIAL, STAFF, PREPAID, FAX, OLD];

const ids = { d1: "", r: "", c: "" };
let t: TestStack;

// ---------------------------------------------------------------- shapes

interface Sub {
  readonly id: string;
  readonly sku: string;
  readonly quantity: number;
  readonly assigned: number;
  readonly status: string;
  readonly version: number;
  readonly unitPrice: Money | null;
  readonly endsAt: string | null;
}
interface OrderLine {
  readonly sku: string;
  readonly quantity: number;
  readonly unitPrice: Money | null;
  readonly amount: Money | null;
}
interface OrderView {
  readonly id: string;
  readonly lines: OrderLine[];
  readonly total: Money | null;
}
interface OfferView {
  readonly sku: string;
  readonly kind: string;
  readonly internalOnly: boolean;
  readonly status: string;
  readonly unitPrice: Money | null;
}
interface AccountView {
  readonly id: string;
  readonly canUpdateSubscriptions: boolean;
  readonly canDecreaseSubscriptions: boolean;
}
interface Line {
  readonly sku: string;
  readonly quantity: number;
}

const SUB = "id sku quantity assigned status version unitPrice { amount currency } endsAt";
const ORDER =
  "id lines { sku quantity unitPrice { amount currency } amount { amount currency } } total { amount currency }";
const OFFER = "sku kind internalOnly status unitPrice { amount currency }";
const ACCOUNT = "id canUpdateSubscriptions canDecreaseSubscriptions";

// ---------------------------------------------------------------- helpers

const usd = (amount: string): Money => ({ amount, currency: "USD" });

let keys = 0;
/** A fresh idempotency key: a reused key would replay (or conflict) instead of being checked. */
const key = (label = "k") => `${label}-${++keys}`;

const createAccount = (as: string, input: Record<string, unknown>) =>
  t.mutate<{ account: { id: string }; order: OrderView | null }>(
    as,
    "createAccount",
    "CreateAccountInput",
    { country: "US", ...input },
    `account { id } order { ${ORDER} }`,
  );
const inviteMember = (as: string, accountId: string, email: string, role: string) =>
  t.mutate<{ member: { email: string } }>(
    as,
    "inviteMember",
    "InviteMemberInput",
    { accountId, email, role },
    "member { email }",
  );
const setAvailable = (as: string, accountId: string, skus: string[]) =>
  t.mutate<{ account: { id: string } }>(
    as,
    "setAvailableOffers",
    "SetAvailableOffersInput",
    { accountId, skus },
    "account { id }",
  );
const setDelegated = (
  as: string,
  accountId: string,
  canUpdateSubscriptions: boolean,
  canDecreaseSubscriptions: boolean,
) =>
  t.mutate<{ account: AccountView }>(
    as,
    "setDelegatedRights",
    "SetDelegatedRightsInput",
    { accountId, canUpdateSubscriptions, canDecreaseSubscriptions },
    `account { ${ACCOUNT} }`,
  );
const place = (as: string, accountId: string, lines: Line[], extra: Record<string, unknown> = {}) =>
  t.mutate<{ order: OrderView }>(
    as,
    "placeOrder",
    "PlaceOrderInput",
    { accountId, lines, idempotencyKey: key("order"), ...extra },
    `order { ${ORDER} }`,
  );
const setQuantity = (as: string, sub: Pick<Sub, "id" | "version">, quantity: number) =>
  t.mutate<{ subscription: Sub }>(
    as,
    "updateSubscriptionQuantity",
    "UpdateSubscriptionQuantityInput",
    { subscriptionId: sub.id, quantity, expectedVersion: sub.version },
    `subscription { ${SUB} }`,
  );
const cancel = (as: string, subscriptionId: string, expectedVersion?: number) =>
  t.mutate<{ subscription: Sub }>(
    as,
    "cancelSubscription",
    "CancelSubscriptionInput",
    { subscriptionId, ...(expectedVersion === undefined ? {} : { expectedVersion }) },
    `subscription { ${SUB} }`,
  );
const assignLicence = (as: string, subscriptionId: string, email: string) =>
  t.mutate<{ subscription: Sub }>(
    as,
    "assignLicence",
    "LicenceInput",
    { subscriptionId, email },
    `subscription { ${SUB} }`,
  );
const createOffer = (as: string, input: Record<string, unknown>) =>
  t.mutate<{ offer: OfferView }>(
    as,
    "createOffer",
    "CreateOfferInput",
    { name: "Test offer", kind: "MONTHLY", currency: "USD", unitPrice: "1.00", ...input },
    `offer { ${OFFER} }`,
  );
const updatePrice = (as: string, sku: string, unitPrice: string) =>
  t.mutate<{ offer: OfferView }>(
    as,
    "updateOfferPrice",
    "UpdateOfferPriceInput",
    { sku, unitPrice },
    `offer { ${OFFER} }`,
  );

async function retire(as: string, sku: string): Promise<Result<{ offer: OfferView }>> {
  const res = await t.gql<{ r: Result<{ offer: OfferView }> }>(
    as,
    `mutation R($sku: String!) { r: retireOffer(sku: $sku) { __typename ... on MutationRetireOfferSuccess { data { offer { ${OFFER} } } } ${ERR} } }`,
    { sku },
  );
  expect(res.errors, JSON.stringify(res.errors)).toBeUndefined();
  return res.data!.r;
}

/** Subscriptions of an account (every status), by sku, as `as` sees them. */
async function subscriptions(as: string, accountId: string): Promise<Record<string, Sub>> {
  const res = await t.gql<{ account: Success<{ subscriptions: { edges: { node: Sub }[] } }> }>(
    as,
    `query S($id: ID!) { account(id: $id) { __typename ... on QueryAccountSuccess { data { subscriptions(first: 100) { edges { node { ${SUB} } } } } } ${ERR} } }`,
    { id: accountId },
  );
  expect(res.errors, JSON.stringify(res.errors)).toBeUndefined();
  expect(res.data!.account.__typename).toBe("QueryAccountSuccess");
  return Object.fromEntries(res.data!.account.data.subscriptions.edges.map((e) => [e.node.sku, e.node]));
}

async function subscription(as: string, accountId: string, sku: string): Promise<Sub> {
  const sub = (await subscriptions(as, accountId))[sku];
  expect(sub, `no ${sku} subscription`).toBeDefined();
  return sub!;
}

/** `offers(accountId)` as `as` sees it. */
async function offers(as: string, accountId: string): Promise<OfferView[]> {
  const res = await t.gql<{ offers: Result<OfferView[]> }>(
    as,
    `query O($id: ID!) { offers(accountId: $id) { __typename ... on QueryOffersSuccess { data { ${OFFER} } } ${ERR} } }`,
    { id: accountId },
  );
  expect(res.errors, JSON.stringify(res.errors)).toBeUndefined();
  return ok<OfferView[]>(res.data!.offers);
}
const skusOf = async (as: string, accountId: string) => (await offers(as, accountId)).map((o) => o.sku);

async function order(as: string, orderId: string): Promise<OrderView> {
  const res = await t.gql<{ node: OrderView }>(
    as,
    `query N($id: ID!) { node(id: $id) { ... on Order { ${ORDER} } } }`,
    { id: orderId },
  );
  expect(res.errors, JSON.stringify(res.errors)).toBeUndefined();
  return res.data!.node;
}

const SNAPSHOT = `query Snap($id: ID!) { account(id: $id) { __typename ... on QueryAccountSuccess { data {
  id updatedAt childCount canUpdateSubscriptions canDecreaseSubscriptions
  availableOffers { sku }
  subscriptions(first: 100) { edges { node { ${SUB} assigned updatedAt } } }
  orders(first: 100) { edges { node { id idempotencyKey placedAt lines { sku quantity } total { amount currency } } } }
  subscriptionHistory(first: 100) { edges { node { sku version kind from to actor at } } }
  history(first: 100) { edges { node { id action at } } }
} } ${ERR} } }`;
const CATALOG = `query { catalog(first: 100, includeRetired: true) { edges { node { ${OFFER} } } } }`;

/** The operator's reads of the accounts (SNAPSHOT) and of the whole catalog. */
const snapshot = async (accountIds: readonly string[]) => ({
  accounts: await t.operatorAccounts(SNAPSHOT, accountIds),
  catalog: await t.read(OPERATOR, CATALOG),
});

/** Runs `fn` (refused calls) and asserts that nothing the operator can read has changed. */
const unchanged = (accountIds: readonly string[], fn: () => Promise<void>) =>
  expectUnchanged(() => snapshot(accountIds), fn);

/** An operation that GraphQL itself refuses (variable coercion): no data, at least one error. */
async function refusedByGraphQL(
  as: string,
  query: string,
  variables: Record<string, unknown>,
): Promise<GraphQLResponse> {
  const res = await t.gql(as, query, variables);
  expect(res.data).toBeNull();
  expect(res.errors?.length).toBeGreaterThanOrEqual(1);
  return res;
}
const PLACE_ORDER = `mutation P($input: PlaceOrderInput!) { placeOrder(input: $input) { __typename ${ERR} } }`;

// ---------------------------------------------------------------- setup

beforeAll(async () => {
  t = await startTestStack();
  await t.setClock(START);
  // The operator's own USD offers: partner staff licences, a one-year prepaid trunk, and two
  // monthly offers for the price-change and retirement checks.
  ok(
    await createOffer(OPERATOR, {
      sku: STAFF,
      name: "Partner staff user",
      kind: "MONTHLY",
      internalOnly: true,
      unitPrice: "1.00",
    }),
  );
  ok(
    await createOffer(OPERATOR, {
      sku: PREPAID,
      name: "Trunk user, 1 year prepaid",
      kind: "PREPAID",
      termMonths: 12,
      unitPrice: "30.00",
    }),
  );
  ok(await createOffer(OPERATOR, { sku: FAX, name: "Fax user", unitPrice: "2.00" }));
  ok(await createOffer(OPERATOR, { sku: OLD, name: "Legacy user", unitPrice: "1.50" }));

  ids.d1 = ok<{ account: { id: string } }>(
    await createAccount(OPERATOR, {
      parentId: PLATFORM,
      kind: "DISTRIBUTOR",
      name: "Distributor 1",
      currency: "USD",
      owner: { email: D1_OWNER },
    }),
  ).account.id;
  await t.accept(D1_OWNER);
  ok(await setAvailable(OPERATOR, ids.d1, D1_OFFERS));

  ids.r = ok<{ account: { id: string } }>(
    await createAccount(D1_OWNER, {
      parentId: ids.d1,
      kind: "RESELLER",
      name: "Reseller R",
      owner: { email: R_OWNER },
    }),
  ).account.id;
  await t.accept(R_OWNER);
  ids.c = ok<{ account: { id: string } }>(
    await createAccount(D1_OWNER, {
      parentId: ids.d1,
      kind: "CUSTOMER",
      name: "Customer C",
      owner: { email: C_OWNER },
    }),
  ).account.id;
  await t.accept(C_OWNER);
}, 60_000);

afterAll(async () => {
  await t?.stop();
});

// ---------------------------------------------------------------- tests

describe("availability", () => {
  it("children inherit the distributor's offers except the internal-only one", async () => {
    // Prepare / Act: done in beforeAll.
    // Assess
    expect(await skusOf(OPERATOR, ids.d1)).toEqual([...D1_OFFERS].sort());
    const inherited = D1_OFFERS.filter((s) => s !== STAFF).sort();
    expect(await skusOf(OPERATOR, ids.r)).toEqual(inherited);
    expect(await skusOf(OPERATOR, ids.c)).toEqual(inherited);
  });

  it("an offer the account's list no longer has, or its parent never had, is a ValidationError on lines.N.sku and writes nothing", async () => {
    // Prepare: a customer narrowed to the trunk offer.
    const n = ok<{ account: { id: string } }>(
      await createAccount(D1_OWNER, { parentId: ids.d1, kind: "CUSTOMER", name: "Customer N" }),
    ).account.id;
    ok(await setAvailable(D1_OWNER, n, [TRUNK]));
    expect(await skusOf(D1_OWNER, n)).toEqual([TRUNK]);

    await unchanged([ids.d1, n], async () => {
      // Act / Assess: narrowed away, never on the distributor, and in another currency.
      expectInvalid(
        await place(D1_OWNER, n, [{ sku: PBX, quantity: 1 }]),
        ["lines", "0", "sku"],
        `${PBX} is not available to this account`,
      );
      expectInvalid(
        await place(OPERATOR, n, [{ sku: PBX, quantity: 1 }]),
        ["lines", "0", "sku"],
        `${PBX} is not available to this account`,
      );
      expectInvalid(
        await place(D1_OWNER, n, [{ sku: PBX_TRIAL, quantity: 1 }]),
        ["lines", "0", "sku"],
        `${PBX_TRIAL} is not available to this account`,
      );
      expectInvalid(
        await place(D1_OWNER, n, [{ sku: RAINBOW_EUR, quantity: 1 }]),
        ["lines", "0", "sku"],
        `${RAINBOW_EUR} is not available to this account`,
      );
      // One bad line refuses the whole order: the good trunk line is not written either.
      expectInvalid(
        await place(D1_OWNER, n, [
          { sku: TRUNK, quantity: 1 },
          { sku: PBX, quantity: 1 },
        ]),
        ["lines", "1", "sku"],
        `${PBX} is not available to this account`,
      );
      // Nor can the list be widened beyond the parent's.
      expectInvalid(
        await setAvailable(D1_OWNER, n, [TRUNK, PBX_TRIAL]),
        ["skus", "1"],
        `${PBX_TRIAL} is not available to the parent account`,
      );
      expectInvalid(
        await setAvailable(OPERATOR, ids.d1, [...D1_OFFERS, RAINBOW_EUR]),
        ["skus", String(D1_OFFERS.length)],
        `${RAINBOW_EUR} is in EUR; this account is billed in USD`,
      );
    });

    // Assess: what is still available can be ordered.
    const placed = ok<{ order: OrderView }>(await place(D1_OWNER, n, [{ sku: TRUNK, quantity: 1 }]));
    expect(placed.order.lines.map((l) => [l.sku, l.quantity])).toEqual([[TRUNK, 1]]);
  });
});

describe("prepaid subscriptions", () => {
  it("a decrease (or a cancel) is a ValidationError on quantity; increases keep the term end and the unit price", async () => {
    // Prepare: 5 prepaid licences for Customer C at USD 30.00 for 12 months.
    ok(await place(D1_OWNER, ids.c, [{ sku: PREPAID, quantity: 5 }]));
    const sub = await subscription(D1_OWNER, ids.c, PREPAID);
    expect(sub).toMatchObject({ quantity: 5, version: 1, status: "ACTIVE", unitPrice: usd("30.00") });
    expect(sub.endsAt!.slice(0, 13)).toBe("2027-11-02T09");

    // Act / Assess: no decrease, by anyone, in any form.
    await unchanged([ids.c], async () => {
      // Act / Assess
      expectInvalid(await setQuantity(D1_OWNER, sub, 4), ["quantity"], "a prepaid subscription may only increase");
      expectInvalid(await setQuantity(OPERATOR, sub, 1), ["quantity"], "a prepaid subscription may only increase");
      expectInvalid(await cancel(D1_OWNER, sub.id), ["quantity"], "a prepaid subscription may only increase");
      expectInvalid(
        await cancel(OPERATOR, sub.id, sub.version),
        ["quantity"],
        "a prepaid subscription may only increase",
      );
    });

    // Prepare: three weeks later the offer costs more.
    await t.setClock("2026-11-23T09:00:00.000Z");
    expect(ok<{ offer: OfferView }>(await updatePrice(OPERATOR, PREPAID, "33.00")).offer.unitPrice).toEqual(
      usd("33.00"),
    );

    // Act: increase by quantity update, then by order.
    const up = ok<{ subscription: Sub }>(await setQuantity(D1_OWNER, sub, 8)).subscription;
    const more = ok<{ order: OrderView }>(await place(D1_OWNER, ids.c, [{ sku: PREPAID, quantity: 2 }])).order;

    // Assess: same term end, same price, for the increase as for the subscription.
    expect(up).toMatchObject({ quantity: 8, version: 2, endsAt: sub.endsAt, unitPrice: usd("30.00") });
    expect(more.lines).toEqual([{ sku: PREPAID, quantity: 2, unitPrice: usd("30.00"), amount: usd("60.00") }]);
    expect(await subscription(D1_OWNER, ids.c, PREPAID)).toMatchObject({
      quantity: 10,
      version: 3,
      endsAt: sub.endsAt,
      unitPrice: usd("30.00"),
    });
    // A new prepaid subscription starts its own term at the new price.
    ok(await place(D1_OWNER, ids.r, [{ sku: PREPAID, quantity: 1 }]));
    const fresh = await subscription(D1_OWNER, ids.r, PREPAID);
    expect(fresh.unitPrice).toEqual(usd("33.00"));
    expect(fresh.endsAt!.slice(0, 10)).toBe("2027-11-23");
  });
});

describe("assigned licences", () => {
  it("the quantity never goes below the licences assigned, and such a subscription cannot be cancelled", async () => {
    // Prepare: 3 trunk licences for Customer C, 2 of them assigned by C's own owner.
    ok(await place(D1_OWNER, ids.c, [{ sku: TRUNK, quantity: 3 }]));
    ok(await inviteMember(C_OWNER, ids.c, C_USER, "VIEWER"));
    await t.accept(C_USER);
    const trunk = await subscription(C_OWNER, ids.c, TRUNK);
    ok(await assignLicence(C_OWNER, trunk.id, C_OWNER));
    expect(ok<{ subscription: Sub }>(await assignLicence(C_OWNER, trunk.id, C_USER)).subscription).toMatchObject({
      quantity: 3,
      assigned: 2,
    });
    const sub = await subscription(D1_OWNER, ids.c, TRUNK);

    // Act / Assess
    await unchanged([ids.c], async () => {
      // Act / Assess
      expectInvalid(await setQuantity(D1_OWNER, sub, 1), ["quantity"], "2 licences are assigned; unassign some first");
      expectInvalid(await setQuantity(OPERATOR, sub, 0), ["quantity"], "2 licences are assigned; unassign some first");
      expectInvalid(await cancel(D1_OWNER, sub.id), ["quantity"], "2 licences are assigned; unassign some first");
      expectInvalid(
        await cancel(OPERATOR, sub.id, sub.version),
        ["quantity"],
        "2 licences are assigned; unassign some first",
      );
    });

    // Assess: down to exactly the licences assigned is fine.
    expect(ok<{ subscription: Sub }>(await setQuantity(D1_OWNER, sub, 2)).subscription).toMatchObject({
      quantity: 2,
      assigned: 2,
      status: "ACTIVE",
      version: sub.version + 1,
    });
  });
});

describe("internal-only offers", () => {
  it("are never available to a customer, nor orderable for one", async () => {
    // Prepare
    const current = await skusOf(OPERATOR, ids.c);
    expect(current).not.toContain(STAFF);

    await unchanged([ids.d1, ids.c], async () => {
      // Act / Assess
      for (const as of [D1_OWNER, OPERATOR]) {
        expectInvalid(
          await setAvailable(as, ids.c, [...current, STAFF]),
          ["skus", String(current.length)],
          `${STAFF} is for partners' own staff only`,
        );
        // Never in the customer's list, the offer is refused as unavailable before the internal-only rule is reached.
        expectInvalid(
          await place(as, ids.c, [{ sku: STAFF, quantity: 1 }]),
          ["lines", "0", "sku"],
          `${STAFF} is not available to this account`,
        );
      }
      // Nor as the first order of a new customer (the issue's path prefix is checked in "bad input on createAccount").
      const e = expectError(
        await createAccount(OPERATOR, {
          parentId: ids.d1,
          kind: "CUSTOMER",
          name: "Staff customer",
          order: { lines: [{ sku: STAFF, quantity: 1 }], idempotencyKey: key() },
        }),
        "ValidationError",
      );
      expect(e.issues?.map((i) => [i.path.slice(-3), i.message])).toEqual([
        [["lines", "0", "sku"], `${STAFF} is not available to this account`],
      ]);
    });
  });

  it("an operator may order them for a reseller's own account once available there; the sellers may not (ForbiddenError)", async () => {
    // Prepare: the operator makes the staff offer available to Reseller R.
    const current = await skusOf(OPERATOR, ids.r);
    ok(await setAvailable(OPERATOR, ids.r, [...current, STAFF]));
    expect((await offers(R_OWNER, ids.r)).find((o) => o.sku === STAFF)).toMatchObject({
      internalOnly: true,
      status: "ACTIVE",
    });

    // Act / Assess: the reseller's own seller, and the distributor's seller above it, are refused.
    await unchanged([ids.d1, ids.r], async () => {
      // Act / Assess
      expectError(await place(R_OWNER, ids.r, [{ sku: STAFF, quantity: 2 }]), "ForbiddenError");
      expectError(await place(D1_OWNER, ids.r, [{ sku: STAFF, quantity: 2 }]), "ForbiddenError");
    });

    // Act / Assess: the operator orders them.
    const placed = ok<{ order: OrderView }>(await place(OPERATOR, ids.r, [{ sku: STAFF, quantity: 2 }]));
    expect(placed.order.lines).toEqual([{ sku: STAFF, quantity: 2, unitPrice: usd("1.00"), amount: usd("2.00") }]);
    const staff = await subscription(OPERATOR, ids.r, STAFF);
    expect(staff).toMatchObject({ quantity: 2, status: "ACTIVE" });

    // Act / Assess: more staff licences go through the service desk too, whichever way they are asked for.
    await unchanged([ids.d1, ids.r], async () => {
      // Act / Assess
      expect.soft((await place(R_OWNER, ids.r, [{ sku: STAFF, quantity: 1 }])).__typename).toBe("ForbiddenError");
      expect
        .soft(
          (await setQuantity(R_OWNER, await subscription(OPERATOR, ids.r, STAFF), 50)).__typename,
          "the reseller's seller raising staff licences",
        )
        .toBe("ForbiddenError");
      expect
        .soft(
          (await setQuantity(D1_OWNER, await subscription(OPERATOR, ids.r, STAFF), 60)).__typename,
          "the distributor's seller raising staff licences",
        )
        .toBe("ForbiddenError");
    });
    expect(ok<{ subscription: Sub }>(await setQuantity(OPERATOR, staff, 3)).subscription).toMatchObject({
      quantity: 3,
      version: staff.version + 1,
    });
  });
});

describe("delegated rights", () => {
  let d = "";
  let sub: Sub;

  beforeAll(async () => {
    d = ok<{ account: { id: string } }>(
      await createAccount(D1_OWNER, {
        parentId: ids.d1,
        kind: "CUSTOMER",
        name: "Customer D",
        owner: { email: D_OWNER },
      }),
    ).account.id;
    await t.accept(D_OWNER);
    ok(await place(D1_OWNER, d, [{ sku: TRUNK, quantity: 10 }]));
  });

  it("without delegation the customer's own owner cannot change quantities, nor delegate to itself; decrease without update is invalid", async () => {
    // Prepare
    sub = await subscription(D_OWNER, d, TRUNK);
    expect(sub.quantity).toBe(10);

    await unchanged([ids.d1, d], async () => {
      // Act / Assess
      expectError(await setQuantity(D_OWNER, sub, 11), "ForbiddenError");
      expectError(await setQuantity(D_OWNER, sub, 9), "ForbiddenError");
      expectError(await cancel(D_OWNER, sub.id), "ForbiddenError");
      expectError(await place(D_OWNER, d, [{ sku: TRUNK, quantity: 1 }]), "ForbiddenError");
      expectError(await setDelegated(D_OWNER, d, true, true), "ForbiddenError");
      expectError(await setDelegated(D_OWNER, d, true, false), "ForbiddenError");
      expectInvalid(
        await setDelegated(D1_OWNER, d, false, true),
        ["canDecreaseSubscriptions"],
        "decreasing is part of updating: grant canUpdateSubscriptions too",
      );
    });
  });

  it("with canUpdateSubscriptions only, the owner may increase but not decrease; with canDecreaseSubscriptions too, it may decrease", async () => {
    // Prepare
    sub = await subscription(D_OWNER, d, TRUNK);
    const granted = ok<{ account: AccountView }>(await setDelegated(D1_OWNER, d, true, false)).account;
    expect(granted).toEqual({ id: d, canUpdateSubscriptions: true, canDecreaseSubscriptions: false });

    // Act / Assess: increase allowed.
    const up = ok<{ subscription: Sub }>(await setQuantity(D_OWNER, sub, 12)).subscription;
    expect(up).toMatchObject({ quantity: 12, version: sub.version + 1 });
    // Decrease still refused, writing nothing.
    await unchanged([d], async () => {
      // Act / Assess
      expectError(await setQuantity(D_OWNER, up, 11), "ForbiddenError");
      expectError(await cancel(D_OWNER, up.id), "ForbiddenError");
    });

    // Prepare: decreasing delegated too.
    expect(ok<{ account: AccountView }>(await setDelegated(D1_OWNER, d, true, true)).account).toMatchObject({
      canUpdateSubscriptions: true,
      canDecreaseSubscriptions: true,
    });
    // Act
    const down = ok<{ subscription: Sub }>(await setQuantity(D_OWNER, up, 11)).subscription;
    // Assess
    expect(down).toMatchObject({ quantity: 11, version: up.version + 1, status: "ACTIVE" });
    const history = await t.gql<{
      node: { history: { edges: { node: { kind: string; delta: number; actor: string } }[] } };
    }>(
      D_OWNER,
      `query H($id: ID!) { node(id: $id) { ... on LicenceSubscription { history(first: 2) { edges { node { kind delta actor } } } } } }`,
      { id: sub.id },
    );
    expect(history.data!.node.history.edges.map((e) => e.node)).toEqual([
      { kind: "DECREASED", delta: -1, actor: `user:${D_OWNER}` },
      { kind: "INCREASED", delta: 2, actor: `user:${D_OWNER}` },
    ]);
  });
});

describe("prices", () => {
  it("a reseller's owner sees no unit prices or totals; the distributor's owner does (offers and an order)", async () => {
    // Prepare / Act: Reseller R's owner orders for its own company.
    const byReseller = ok<{ order: OrderView }>(await place(R_OWNER, ids.r, [{ sku: PBX, quantity: 2 }])).order;

    // Assess: offers
    const hidden = await offers(R_OWNER, ids.r);
    expect(hidden.length).toBeGreaterThan(0);
    expect(hidden.every((o) => o.unitPrice === null)).toBe(true);
    const shown = await offers(D1_OWNER, ids.r);
    expect(shown.find((o) => o.sku === TRUNK)?.unitPrice).toEqual(usd("3.00"));
    expect(shown.every((o) => o.unitPrice?.currency === "USD")).toBe(true);

    // Assess: the order and its subscription
    expect(byReseller).toMatchObject({
      lines: [{ sku: PBX, quantity: 2, unitPrice: null, amount: null }],
      total: null,
    });
    expect(await order(R_OWNER, byReseller.id)).toMatchObject({
      lines: [{ unitPrice: null, amount: null }],
      total: null,
    });
    expect(await order(D1_OWNER, byReseller.id)).toMatchObject({
      lines: [{ sku: PBX, quantity: 2, unitPrice: usd("6.00"), amount: usd("12.00") }],
      total: usd("12.00"),
    });
    expect((await subscription(R_OWNER, ids.r, PBX)).unitPrice).toBeNull();
    expect((await subscription(D1_OWNER, ids.r, PBX)).unitPrice).toEqual(usd("6.00"));
  });
});

describe("catalog management", () => {
  it("only operators manage the catalog: everyone else (partners, a platform viewer) gets ForbiddenError", async () => {
    // Prepare: a platform member who is not an owner.
    ok(await inviteMember(OPERATOR, PLATFORM, PLATFORM_VIEWER, "VIEWER"));
    await t.accept(PLATFORM_VIEWER);

    await unchanged([PLATFORM, ids.d1], async () => {
      // Act / Assess
      for (const as of [D1_OWNER, R_OWNER, C_OWNER]) {
        expectError(await createOffer(as, { sku: "RC-ROGUE-SUB" }), "ForbiddenError");
        expectError(await updatePrice(as, TRUNK, "0.01"), "ForbiddenError");
        expectError(await retire(as, TRUNK), "ForbiddenError");
      }
      expectError(await createOffer(PLATFORM_VIEWER, { sku: "RC-ROGUE-SUB" }), "ForbiddenError");
      expectError(await updatePrice(PLATFORM_VIEWER, TRUNK, "0.01"), "ForbiddenError");
      expectError(await retire(PLATFORM_VIEWER, TRUNK), "ForbiddenError");
      // An operator changing an offer that does not exist.
      expectError(await updatePrice(OPERATOR, "RC-NO-SUCH-SUB", "1.00"), "NotFoundError");
      expectError(await retire(OPERATOR, "RC-NO-SUCH-SUB"), "NotFoundError");
    });
  });

  it("updateOfferPrice prices later orders; the existing subscription keeps its unit price", async () => {
    // Prepare: Customer C subscribes to the fax offer at USD 2.00.
    const first = ok<{ order: OrderView }>(await place(D1_OWNER, ids.c, [{ sku: FAX, quantity: 1 }])).order;
    expect(first.lines[0]!.unitPrice).toEqual(usd("2.00"));

    // Act
    const changed = ok<{ offer: OfferView }>(await updatePrice(OPERATOR, FAX, "2.50")).offer;

    // Assess
    expect(changed).toMatchObject({ sku: FAX, unitPrice: usd("2.50"), status: "ACTIVE" });
    expect((await offers(D1_OWNER, ids.c)).find((o) => o.sku === FAX)?.unitPrice).toEqual(usd("2.50"));
    expect((await subscription(D1_OWNER, ids.c, FAX)).unitPrice).toEqual(usd("2.00"));
    // A later order for a new subscription is at the new price…
    const later = ok<{ order: OrderView }>(await place(D1_OWNER, ids.r, [{ sku: FAX, quantity: 2 }])).order;
    expect(later).toMatchObject({
      lines: [{ sku: FAX, quantity: 2, unitPrice: usd("2.50"), amount: usd("5.00") }],
      total: usd("5.00"),
    });
    expect((await subscription(D1_OWNER, ids.r, FAX)).unitPrice).toEqual(usd("2.50"));
    // …and the first order's record is not repriced.
    expect(await order(D1_OWNER, first.id)).toMatchObject({
      lines: [{ unitPrice: usd("2.00"), amount: usd("2.00") }],
      total: usd("2.00"),
    });
  });

  it("a retired offer cannot be ordered (ValidationError) nor made available; its existing subscriptions continue", async () => {
    // Prepare
    ok(await place(D1_OWNER, ids.c, [{ sku: OLD, quantity: 2 }]));
    const d1Offers = await skusOf(OPERATOR, ids.d1);

    // Act
    expect(ok<{ offer: OfferView }>(await retire(OPERATOR, OLD)).offer).toMatchObject({ sku: OLD, status: "RETIRED" });

    // Assess
    await unchanged([ids.d1, ids.r, ids.c], async () => {
      // Act / Assess
      expectInvalid(
        await place(D1_OWNER, ids.c, [{ sku: OLD, quantity: 1 }]),
        ["lines", "0", "sku"],
        `${OLD} is retired`,
      );
      expectInvalid(
        await place(OPERATOR, ids.r, [{ sku: OLD, quantity: 1 }]),
        ["lines", "0", "sku"],
        `${OLD} is retired`,
      );
      expectInvalid(
        await setAvailable(OPERATOR, ids.d1, d1Offers),
        ["skus", String(d1Offers.indexOf(OLD))],
        `${OLD} is retired`,
      );
      expectError(await updatePrice(OPERATOR, OLD, "1.75"), "ConflictError");
    });
    expect(await skusOf(OPERATOR, ids.c)).not.toContain(OLD);
    expect(await subscription(D1_OWNER, ids.c, OLD)).toMatchObject({
      quantity: 2,
      status: "ACTIVE",
      unitPrice: usd("1.50"),
    });
  });

  it("creating an offer with an existing sku is a ConflictError", async () => {
    await unchanged([PLATFORM], async () => {
      // Act / Assess
      expectError(await createOffer(OPERATOR, { sku: TRUNK, name: "Trunk again", unitPrice: "9.00" }), "ConflictError");
      expectError(await createOffer(OPERATOR, { sku: FAX.toLowerCase(), name: "Fax again" }), "ConflictError");
      expectError(
        await createOffer(OPERATOR, { sku: ` ${STAFF} `, name: "Staff again", internalOnly: true }),
        "ConflictError",
      );
    });
  });
});

describe("bad input on placeOrder", () => {
  it("an unknown or malformed sku is a ValidationError on lines.0.sku", async () => {
    await unchanged([ids.c], async () => {
      // Act / Assess
      expectInvalid(
        await place(D1_OWNER, ids.c, [{ sku: "RC-NO-SUCH-SUB", quantity: 1 }]),
        ["lines", "0", "sku"],
        "no offer RC-NO-SUCH-SUB",
      );
      expectInvalid(
        await place(D1_OWNER, ids.c, [{ sku: "not a sku!", quantity: 1 }]),
        ["lines", "0", "sku"],
        "must be 1 to 40 letters, digits, '.', '_' or '-'",
      );
      expectInvalid(await place(D1_OWNER, ids.c, [{ sku: "", quantity: 1 }]), ["lines", "0", "sku"]);
    });
  });

  it.each([
    ["0", 0, "must be at least 1"],
    ["negative", -3, /must not be negative|must be at least 1/],
    ["above 100,000", 100_001, "must be at most 100000"],
  ] as const)("a quantity that is %s is a ValidationError on lines.0.quantity", async (_label, quantity, message) => {
    await unchanged([ids.c], async () => {
      // Act / Assess
      const r = await place(D1_OWNER, ids.c, [{ sku: TRUNK, quantity }]);
      const e = expectError(r, "ValidationError");
      expect(e.issues!.length).toBeGreaterThanOrEqual(1);
      for (const issue of e.issues!) {
        expect(issue.path).toEqual(["lines", "0", "quantity"]);
        expect(issue.message).toMatch(message);
      }
    });
  });

  it("an order that would take a subscription above 100,000 licences is a ValidationError on lines.0.quantity", async () => {
    // Prepare
    const held = (await subscription(D1_OWNER, ids.c, TRUNK)).quantity;
    await unchanged([ids.c], async () => {
      // Act / Assess
      expectInvalid(
        await place(D1_OWNER, ids.c, [{ sku: TRUNK, quantity: 100_001 - held }]),
        ["lines", "0", "quantity"],
        "the subscription would hold 100001 licences; at most 100000",
      );
    });
  });

  it("a non-integer quantity (2.5) is refused by GraphQL Int coercion, before any resolver", async () => {
    await unchanged([ids.c], async () => {
      // Act / Assess
      const res = await refusedByGraphQL(D1_OWNER, PLACE_ORDER, {
        input: { accountId: ids.c, lines: [{ sku: TRUNK, quantity: 2.5 }], idempotencyKey: key() },
      });
      expect(res.errors).toHaveLength(1);
      expect(res.errors![0]!.message).toContain(
        'at "input.lines[0].quantity"; Int cannot represent non-integer value: 2.5',
      );
      // A GraphQL request error: HTTP 400, code BAD_USER_INPUT, no typed result.
      expect({ status: res.status, code: res.errors![0]!.extensions?.code }).toEqual({
        status: 400,
        code: "BAD_USER_INPUT",
      });
      // Written inline, it is a validation error of the document.
      const inline = await refusedByGraphQL(
        D1_OWNER,
        `mutation { placeOrder(input: { accountId: ${JSON.stringify(ids.c)}, lines: [{ sku: "${TRUNK}", quantity: 2.5 }], idempotencyKey: "${key()}" }) { __typename } }`,
        {},
      );
      expect(inline.errors![0]!.message).toBe("Int cannot represent non-integer value: 2.5");
      // …answered with HTTP 200 and code GRAPHQL_VALIDATION_FAILED (Yoga's answer to an invalid document).
      expect({ status: inline.status, code: inline.errors![0]!.extensions?.code }).toEqual({
        status: 200,
        code: "GRAPHQL_VALIDATION_FAILED",
      });
      // Beyond 32 bits, too.
      const big = await refusedByGraphQL(D1_OWNER, PLACE_ORDER, {
        input: { accountId: ids.c, lines: [{ sku: TRUNK, quantity: 2 ** 31 }], idempotencyKey: key() },
      });
      expect(big.status).toBe(400);
      expect(big.errors![0]!.extensions?.code).toBe("BAD_USER_INPUT");
      expect(big.errors![0]!.message).toContain("Int cannot represent non 32-bit signed integer value: 2147483648");
    });
  });

  it("the same sku on two lines is a ValidationError on the second line", async () => {
    await unchanged([ids.c], async () => {
      // Act / Assess
      expectInvalid(
        await place(D1_OWNER, ids.c, [
          { sku: TRUNK, quantity: 1 },
          { sku: PBX, quantity: 1 },
          { sku: TRUNK, quantity: 2 },
        ]),
        ["lines", "2", "sku"],
        `${TRUNK} is ordered twice; use one line with the total quantity`,
      );
      // Case and spaces do not make another sku.
      expectInvalid(
        await place(D1_OWNER, ids.c, [
          { sku: TRUNK, quantity: 1 },
          { sku: ` ${TRUNK.toLowerCase()} `, quantity: 1 },
        ]),
        ["lines", "1", "sku"],
        /is ordered twice/,
      );
    });
  });

  it("more than 25 lines (26, 101), or none, is a ValidationError on lines", async () => {
    // Prepare: distinct (unknown) skus, so the only issue is the count.
    const many = (n: number): Line[] => Array.from({ length: n }, (_v, i) => ({ sku: `RC-LINE-${i}`, quantity: 1 }));
    await unchanged([ids.c], async () => {
      // Act / Assess
      expectInvalid(await place(D1_OWNER, ids.c, many(26)), ["lines"], "an order has at most 25 lines");
      expectInvalid(await place(D1_OWNER, ids.c, many(101)), ["lines"], "an order has at most 25 lines");
      expectInvalid(await place(D1_OWNER, ids.c, []), ["lines"], "an order has at least one line");
    });
  });

  it("a currency other than the offers' is a ValidationError on currency", async () => {
    await unchanged([ids.c], async () => {
      // Act / Assess
      expectInvalid(
        await place(D1_OWNER, ids.c, [{ sku: TRUNK, quantity: 1 }], { currency: "EUR" }),
        ["currency"],
        "these offers are priced in USD",
      );
      expectInvalid(
        await place(D1_OWNER, ids.c, [{ sku: TRUNK, quantity: 1 }], { currency: "XYZ" }),
        ["currency"],
        "must be an ISO 4217 currency code such as USD",
      );
      expectInvalid(await place(D1_OWNER, ids.c, [{ sku: TRUNK, quantity: 1 }], { currency: "" }), ["currency"]);
    });
    // The right one is accepted.
    ok(await place(D1_OWNER, ids.c, [{ sku: TRUNK, quantity: 1 }], { currency: "USD" }));
  });

  it("a missing, blank or malformed idempotencyKey is refused", async () => {
    await unchanged([ids.c], async () => {
      // Missing: a required GraphQL field.
      const missing = await refusedByGraphQL(D1_OWNER, PLACE_ORDER, {
        input: { accountId: ids.c, lines: [{ sku: TRUNK, quantity: 1 }] },
      });
      expect(missing.status).toBe(400);
      expect(missing.errors![0]!.message).toContain(
        'Field "idempotencyKey" of required type "String!" was not provided.',
      );
      for (const idempotencyKey of ["", "   "]) {
        // Zod reports the empty key twice (empty, and not printable ASCII): both on idempotencyKey.
        const e = expectError(
          await place(D1_OWNER, ids.c, [{ sku: TRUNK, quantity: 1 }], { idempotencyKey }),
          "ValidationError",
        );
        expect(e.issues!.every((i) => i.path.join(".") === "idempotencyKey")).toBe(true);
        expect(e.issues!.map((i) => i.message)).toContain("must not be empty");
      }
      expectInvalid(
        await place(D1_OWNER, ids.c, [{ sku: TRUNK, quantity: 1 }], { idempotencyKey: "two words" }),
        ["idempotencyKey"],
        "must be printable ASCII without spaces",
      );
      expectInvalid(
        await place(D1_OWNER, ids.c, [{ sku: TRUNK, quantity: 1 }], { idempotencyKey: "k".repeat(101) }),
        ["idempotencyKey"],
        "must be at most 100 characters",
      );
    });
  });

  it("a replayed idempotencyKey returns the first order and writes nothing; with another request it is a ConflictError", async () => {
    // Prepare
    const idempotencyKey = key("replay");
    const first = ok<{ order: OrderView }>(
      await place(D1_OWNER, ids.c, [{ sku: PBX, quantity: 1 }], { idempotencyKey }),
    ).order;
    await unchanged([ids.c], async () => {
      // Act / Assess
      expect(
        ok<{ order: OrderView }>(await place(D1_OWNER, ids.c, [{ sku: PBX, quantity: 1 }], { idempotencyKey })).order,
      ).toEqual(first);
      expectError(await place(D1_OWNER, ids.c, [{ sku: PBX, quantity: 2 }], { idempotencyKey }), "ConflictError");
    });
  });

  it("an unknown account is a NotFoundError", async () => {
    await unchanged([ids.c], async () => {
      // Act / Assess
      expectError(await place(D1_OWNER, "garbage", [{ sku: TRUNK, quantity: 1 }]), "NotFoundError");
      expectError(
        await place(D1_OWNER, Buffer.from("Account:01ZZZZZZZZZZZZZZZZZZZZZZZZ").toString("base64"), [
          { sku: TRUNK, quantity: 1 },
        ]),
        "NotFoundError",
      );
      // The reseller's owner does not see a sibling customer.
      expectError(await place(R_OWNER, ids.c, [{ sku: TRUNK, quantity: 1 }]), "NotFoundError");
    });
  });
});

describe("bad input on quantity changes", () => {
  it("a stale expectedVersion is a ConflictError; a bad quantity or version a ValidationError; an unknown subscription a NotFoundError", async () => {
    // Prepare: Customer C's PBX subscription has moved on at least once.
    ok(await place(D1_OWNER, ids.c, [{ sku: PBX, quantity: 1 }]));
    const before = await subscription(D1_OWNER, ids.c, PBX);
    const sub = ok<{ subscription: Sub }>(await setQuantity(D1_OWNER, before, before.quantity + 1)).subscription;
    expect(sub.version).toBeGreaterThan(1);

    await unchanged([ids.c], async () => {
      // Act / Assess
      for (const version of [sub.version - 1, sub.version + 1]) {
        const e = expectError(await setQuantity(D1_OWNER, { id: sub.id, version }, sub.quantity + 1), "ConflictError");
        expect(e.message).toBe(`Stale version: the subscription is at version ${sub.version}; reload and try again`);
        expectError(await cancel(D1_OWNER, sub.id, version), "ConflictError");
      }
      expectInvalid(await setQuantity(D1_OWNER, sub, -1), ["quantity"], "must not be negative");
      expectInvalid(await setQuantity(D1_OWNER, sub, 100_001), ["quantity"], "must be at most 100000");
      expectInvalid(
        await setQuantity(D1_OWNER, { id: sub.id, version: 0 }, sub.quantity + 1),
        ["expectedVersion"],
        "must be a version the subscription had",
      );
      expectError(
        await setQuantity(
          D1_OWNER,
          { id: Buffer.from(`Subscription:${ids.c}:RC-NO-SUCH-SUB`).toString("base64"), version: 1 },
          1,
        ),
        "NotFoundError",
      );
      expectError(await setQuantity(D1_OWNER, { id: "garbage", version: 1 }, 1), "NotFoundError");
      await refusedByGraphQL(
        D1_OWNER,
        `mutation U($input: UpdateSubscriptionQuantityInput!) { updateSubscriptionQuantity(input: $input) { __typename } }`,
        { input: { subscriptionId: sub.id, quantity: 2.5, expectedVersion: sub.version } },
      );
    });
  });
});

describe("bad input on createAccount", () => {
  it("a distributor without a currency, or with an unknown one, is a ValidationError on currency; so is a currency on a reseller", async () => {
    await unchanged([PLATFORM, ids.d1], async () => {
      // Act / Assess
      expectInvalid(
        await createAccount(OPERATOR, {
          parentId: PLATFORM,
          kind: "DISTRIBUTOR",
          name: "No currency",
          owner: { email: "nobody@d2.example" },
        }),
        ["currency"],
        "a distributor needs its billing currency (ISO 4217)",
      );
      expectInvalid(
        await createAccount(OPERATOR, {
          parentId: PLATFORM,
          kind: "DISTRIBUTOR",
          name: "Bad currency",
          currency: "XYZ",
        }),
        ["currency"],
        "must be an ISO 4217 currency code such as USD",
      );
      expectInvalid(
        await createAccount(D1_OWNER, { parentId: ids.d1, kind: "RESELLER", name: "Own currency", currency: "USD" }),
        ["currency"],
        "only distributors have a billing currency; this account is billed above",
      );
    });
  });

  it("a first order is checked like placeOrder, its issues under order", async () => {
    const create = (order: Record<string, unknown>) =>
      createAccount(D1_OWNER, {
        parentId: ids.d1,
        kind: "CUSTOMER",
        name: "Bad first order",
        order: { idempotencyKey: key(), ...order },
      });
    await unchanged([ids.d1], async () => {
      // Act
      const results = [
        await create({ lines: [{ sku: TRUNK, quantity: 0 }] }),
        await create({ lines: [{ sku: "RC-NO-SUCH-SUB", quantity: 1 }] }),
        await create({ lines: [{ sku: TRUNK, quantity: 1 }], currency: "EUR" }),
      ];
      // Assess: every issue names its field within CreateAccountInput (a bare ["currency"] would be the account's billing currency).
      expect(
        results.map((r) =>
          isError(r)
            ? { __typename: r.__typename, issues: r.issues?.map((i) => [i.path.join("."), i.message]) }
            : r.__typename,
        ),
      ).toEqual([
        { __typename: "ValidationError", issues: [["order.lines.0.quantity", "must be at least 1"]] },
        { __typename: "ValidationError", issues: [["order.lines.0.sku", "no offer RC-NO-SUCH-SUB"]] },
        { __typename: "ValidationError", issues: [["order.currency", "these offers are priced in USD"]] },
      ]);
    });
  });
});
