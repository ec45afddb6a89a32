/**
 * The billing rules over HTTP, on one timeline driven by the stack's clock (t.setClock) and the
 * billing run (POST /dev/jobs/run): tax rates, usage recording and its refusals, the month-end
 * quantity of MONTHLY subscriptions read from the ledger, PREPAID orders at their term price,
 * TRIALs never billed, USAGE billed from the month's records, and who sees the invoices.
 *
 *   Platform (operator)
 *   ├── Distributor USD (owner d, contributor d-contrib; billed in USD, VAT 20.5 %)
 *   │   ├── Customer C (every subscription of the October invoice)
 *   │   └── Reseller R (owner r)
 *   └── Distributor Two USD (owner d2) └── Customer C2 (the known-bug checks)
 *
 * Timeline (UTC): 28-29 September set-up, tax rate, September usage; 1 October 00:01 September
 * billed; October orders, quantity changes, usage and refusals; 1 November 00:02 late usage;
 * 1 November 00:05 October billed.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ERR, OPERATOR, PLATFORM, expectError, expectInvalid, ok, startTestStack } from "./harness.js";
import type { GraphQLResponse, Money, Result, Success, TestStack } from "./harness.js";

// ---------------------------------------------------------------- data

const D_OWNER = "owner@usd-distribution.example";
const D_CONTRIB = "contributor@usd-distribution.example";
const R_OWNER = "owner@reseller-r.example";
const D2_OWNER = "owner@distributor-two.example";

/** Seeded Ribbon offers (USD). */
const TRUNK = "RC-DRAAS-TRUNK-SUB";
const PBX = "RC-DRAAS-PBX-SUB";
const TRIAL = "RC-DRAAS-TRK-TRIAL";
/** Seeded Rainbow usage offer, in EUR: no USD account subscribes to it. */
const RAINBOW_USAGE = "3EY95004AA";
/** Created by the operator in this file (USD). */
const FAX = "RC-FAX-SUB";
const PREPAID = "RC-TRUNK-1Y";
const CONF = "RC-CONF-MIN";
const OFFERS = [TRUNK, PBX, TRIAL, FAX, PREPAID, CONF];

const ids = { d: "", c: "", r: "", d2: "", c2: "" };
let t: TestStack;

// ---------------------------------------------------------------- shapes

interface Sub {
  readonly id: string;
  readonly sku: string;
  readonly kind: string;
  readonly quantity: number;
  readonly status: string;
  readonly version: number;
}
interface UsageView {
  readonly sku: string;
  readonly day: string;
  readonly quantity: number;
  readonly idempotencyKey: string;
  readonly recordedAt: string;
}
interface LineView {
  readonly customer: string;
  readonly tier1: string | null;
  readonly kind: string;
  readonly sku: string;
  readonly quantity: number;
  readonly unitPrice: Money;
  readonly amount: Money;
}
interface InvoiceView {
  readonly id: string;
  readonly number: string;
  readonly period: string;
  readonly billedTo: string;
  readonly currency: string;
  readonly taxRatePercent: string;
  readonly net: Money;
  readonly vat: Money;
  readonly total: Money;
  readonly issuedAt: string;
  readonly dueAt: string;
  readonly lineCount: number;
  readonly lines: { readonly edges: readonly { readonly node: LineView }[] };
}
interface UsageInput {
  readonly accountId: string;
  readonly sku: string;
  readonly quantity: number;
  readonly day: string;
  readonly idempotencyKey: string;
}

const SUB = "id sku kind quantity status version";
const USAGE = "sku day quantity idempotencyKey recordedAt";
const MONEY = "{ amount currency }";
const INVOICE = `id number period billedTo currency taxRatePercent net ${MONEY} vat ${MONEY} total ${MONEY} issuedAt dueAt lineCount
  lines(first: 100) { edges { node { customer tier1 kind sku quantity unitPrice ${MONEY} amount ${MONEY} } } }`;

// ---------------------------------------------------------------- helpers

const usd = (amount: string): Money => ({ amount, currency: "USD" });
const accountId = (local: string) => Buffer.from(`Account:${local}`).toString("base64");

let keys = 0;
/** A fresh idempotency key. */
const key = (label: string) => `${label}-${++keys}`;

/** A ValidationError with one or more issues, all on `path`. */
function expectIssuesOn<T>(r: Result<T>, path: string[]): void {
  const e = expectError(r, "ValidationError");
  expect(e.issues?.length, JSON.stringify(e.issues)).toBeGreaterThan(0);
  for (const issue of e.issues!) expect(issue.path).toEqual(path);
}

const createAccount = (as: string, input: Record<string, unknown>) =>
  t.mutate<{ account: { id: string } }>(
    as,
    "createAccount",
    "CreateAccountInput",
    { country: "US", ...input },
    "account { id }",
  );
const createOffer = (input: Record<string, unknown>) =>
  t.mutate<{ offer: { sku: string } }>(
    OPERATOR,
    "createOffer",
    "CreateOfferInput",
    { currency: "USD", ...input },
    "offer { sku }",
  );
const setAvailable = (as: string, id: string, skus: string[]) =>
  t.mutate<{ account: { id: string } }>(
    as,
    "setAvailableOffers",
    "SetAvailableOffersInput",
    { accountId: id, skus },
    "account { id }",
  );
const inviteMember = (as: string, id: string, email: string, role: string) =>
  t.mutate<{ member: { email: string } }>(
    as,
    "inviteMember",
    "InviteMemberInput",
    { accountId: id, email, role },
    "member { email }",
  );
const place = (as: string, id: string, lines: { sku: string; quantity: number }[]) =>
  t.mutate<{ order: { id: string } }>(
    as,
    "placeOrder",
    "PlaceOrderInput",
    { accountId: id, lines, idempotencyKey: key("order") },
    "order { id }",
  );
const setQuantity = (as: string, sub: Pick<Sub, "id">, quantity: number, expectedVersion: number) =>
  t.mutate<{ subscription: Sub }>(
    as,
    "updateSubscriptionQuantity",
    "UpdateSubscriptionQuantityInput",
    { subscriptionId: sub.id, quantity, expectedVersion },
    `subscription { ${SUB} }`,
  );
const cancel = (as: string, sub: Pick<Sub, "id">, expectedVersion: number) =>
  t.mutate<{ subscription: Sub }>(
    as,
    "cancelSubscription",
    "CancelSubscriptionInput",
    { subscriptionId: sub.id, expectedVersion },
    `subscription { ${SUB} }`,
  );
const setTaxRate = (as: string, id: string, taxRatePercent: string) =>
  t.mutate<{ account: { id: string; taxRatePercent: string | null } }>(
    as,
    "setTaxRate",
    "SetTaxRateInput",
    { accountId: id, taxRatePercent },
    "account { id taxRatePercent }",
  );
const recordUsage = (as: string, input: UsageInput) =>
  t.mutate<{ usage: UsageView }>(as, "recordUsage", "RecordUsageInput", { ...input }, `usage { ${USAGE} }`);

/** The subscription of an account for a sku (any status), as the distributor's owner sees it. */
async function subscription(id: string, sku: string, as = D_OWNER): Promise<Sub> {
  const res = await t.gql<{ account: Success<{ subscriptions: { edges: { node: Sub }[] } }> }>(
    as,
    `query S($id: ID!) { account(id: $id) { __typename ... on QueryAccountSuccess { data { subscriptions(first: 100) { edges { node { ${SUB} } } } } } ${ERR} } }`,
    { id },
  );
  expect(res.errors, JSON.stringify(res.errors)).toBeUndefined();
  const sub = res.data!.account.data.subscriptions.edges.map((e) => e.node).find((s) => s.sku === sku);
  expect(sub, `no ${sku} subscription`).toBeDefined();
  return sub!;
}

/** The tax rate of an account as the operator reads it. */
async function taxRateOf(id: string): Promise<string | null> {
  const res = await t.gql<{ account: Success<{ taxRatePercent: string | null }> }>(
    OPERATOR,
    `query T($id: ID!) { account(id: $id) { __typename ... on QueryAccountSuccess { data { taxRatePercent } } ${ERR} } }`,
    { id },
  );
  expect(res.errors, JSON.stringify(res.errors)).toBeUndefined();
  return res.data!.account.data.taxRatePercent;
}

const INVOICES = `query I($id: ID!) { account(id: $id) { __typename ... on QueryAccountSuccess { data { invoices(first: 100) { edges { node { ${INVOICE} } } } } } ${ERR} } }`;
const INVOICE_BY_ID = `query One($id: ID!) { invoice(id: $id) { __typename ... on QueryInvoiceSuccess { data { ${INVOICE} } } ${ERR} } }`;

/** Invoices of a billed account, newest month first, as `as` sees them (the call must succeed). */
async function invoices(as: string, id: string): Promise<InvoiceView[]> {
  const res = await t.gql<{ account: Result<{ invoices: { edges: { node: InvoiceView }[] } }> }>(as, INVOICES, { id });
  expect(res.errors, JSON.stringify(res.errors)).toBeUndefined();
  return ok<{ invoices: { edges: { node: InvoiceView }[] } }>(res.data!.account).invoices.edges.map((e) => e.node);
}

async function invoiceOf(id: string, period: string): Promise<InvoiceView> {
  const found = (await invoices(OPERATOR, id)).find((i) => i.period === period);
  expect(found, `no ${period} invoice`).toBeDefined();
  return found!;
}

const linesOf = (invoice: InvoiceView) => invoice.lines.edges.map((e) => e.node);

/** An instant of the stack's clock, which runs on after t.setClock: matched to the minute. */
const minute = (iso: string) => expect.stringMatching(new RegExp(`^${iso.slice(0, 16)}:`));

/** recordUsage with a raw variables object (GraphQL coercion is what is being tested). */
const RECORD_USAGE = `mutation U($input: RecordUsageInput!) { recordUsage(input: $input) { __typename ${ERR} } }`;

// ---------------------------------------------------------------- setup

beforeAll(async () => {
  t = await startTestStack();
  await t.setClock("2026-09-28T09:00:00.000Z");
  // The operator's own USD offers: a third monthly offer, a one-year prepaid and conference minutes.
  ok(await createOffer({ sku: FAX, name: "Fax user", kind: "MONTHLY", unitPrice: "2.50" }));
  ok(
    await createOffer({
      sku: PREPAID,
      name: "Trunk user, 1 year prepaid",
      kind: "PREPAID",
      termMonths: 12,
      unitPrice: "30.00",
    }),
  );
  ok(await createOffer({ sku: CONF, name: "Conference minutes", kind: "USAGE", unit: "minute", unitPrice: "0.05" }));

  ids.d = ok<{ account: { id: string } }>(
    await createAccount(OPERATOR, {
      parentId: PLATFORM,
      kind: "DISTRIBUTOR",
      name: "Distributor USD",
      currency: "USD",
      owner: { email: D_OWNER },
    }),
  ).account.id;
  await t.accept(D_OWNER);
  ok(await setAvailable(OPERATOR, ids.d, OFFERS));
  ok(await inviteMember(D_OWNER, ids.d, D_CONTRIB, "CONTRIBUTOR"));
  await t.accept(D_CONTRIB);
  ids.c = ok<{ account: { id: string } }>(
    await createAccount(D_OWNER, { parentId: ids.d, kind: "CUSTOMER", name: "Customer C" }),
  ).account.id;
  ids.r = ok<{ account: { id: string } }>(
    await createAccount(D_OWNER, { parentId: ids.d, kind: "RESELLER", name: "Reseller R", owner: { email: R_OWNER } }),
  ).account.id;
  await t.accept(R_OWNER);
  // Customer C subscribes to conference minutes in September (billed only from recorded usage).
  ok(await place(D_OWNER, ids.c, [{ sku: CONF, quantity: 1 }]));

  ids.d2 = ok<{ account: { id: string } }>(
    await createAccount(OPERATOR, {
      parentId: PLATFORM,
      kind: "DISTRIBUTOR",
      name: "Distributor Two",
      currency: "USD",
      owner: { email: D2_OWNER },
    }),
  ).account.id;
  await t.accept(D2_OWNER);
  ok(await setAvailable(OPERATOR, ids.d2, [TRUNK, PREPAID, CONF]));
  ids.c2 = ok<{ account: { id: string } }>(
    await createAccount(D2_OWNER, { parentId: ids.d2, kind: "CUSTOMER", name: "Customer C2" }),
  ).account.id;
  ok(await place(D2_OWNER, ids.c2, [{ sku: CONF, quantity: 1 }]));
}, 60_000);

afterAll(async () => {
  await t?.stop();
});

// ---------------------------------------------------------------- tests

describe("setTaxRate (28 September)", () => {
  it("is for operators only: the distributor's owner and contributor get ForbiddenError, the rate stays 0", async () => {
    // Prepare
    expect(await taxRateOf(ids.d)).toBe("0");
    // Act
    const byOwner = await setTaxRate(D_OWNER, ids.d, "20");
    const byContributor = await setTaxRate(D_CONTRIB, ids.d, "20");
    // Assess
    expectError(byOwner, "ForbiddenError");
    expectError(byContributor, "ForbiddenError");
    expect(await taxRateOf(ids.d)).toBe("0");
  });

  it("applies to billed accounts only: a customer or a reseller is a ValidationError on accountId; an unknown account is NotFoundError", async () => {
    // Act
    const customer = await setTaxRate(OPERATOR, ids.c, "20");
    const reseller = await setTaxRate(OPERATOR, ids.r, "20");
    const unknown = await setTaxRate(OPERATOR, accountId("NO-SUCH-ACCOUNT"), "20");
    // Assess
    expectInvalid(customer, ["accountId"], "only billed accounts (distributors) have a tax rate");
    expectInvalid(reseller, ["accountId"], "only billed accounts (distributors) have a tax rate");
    expectError(unknown, "NotFoundError");
    expect(await taxRateOf(ids.c)).toBeNull();
    expect(await taxRateOf(ids.r)).toBeNull();
  });

  it.each(["abc", "101", "20.555", "100.01", "-1", "", " ", "20,5", "1e1"])(
    "refuses %j with a ValidationError on taxRatePercent and keeps the rate",
    async (value) => {
      // Act
      const r = await setTaxRate(OPERATOR, ids.d, value);
      // Assess
      expectInvalid(r, ["taxRatePercent"]);
      expect(await taxRateOf(ids.d)).toBe("0");
    },
  );

  it("the operator sets 20.5 % (used by every invoice issued from now on)", async () => {
    // Act
    const r = ok<{ account: { id: string; taxRatePercent: string | null } }>(await setTaxRate(OPERATOR, ids.d, "20.5"));
    // Assess
    expect(r.account).toEqual({ id: ids.d, taxRatePercent: "20.5" });
    expect(await taxRateOf(ids.d)).toBe("20.5");
    expect(await taxRateOf(ids.d2)).toBe("0");
  });
});

describe("September (usage of another month)", () => {
  it("the operator records 40 minutes used on 29 September", async () => {
    // Prepare
    await t.setClock("2026-09-29T12:00:00.000Z");
    // Act
    const r = await recordUsage(OPERATOR, {
      accountId: ids.c,
      sku: CONF,
      quantity: 40,
      day: "2026-09-29",
      idempotencyKey: "sep-29",
    });
    // Assess
    expect(ok<{ usage: UsageView }>(r).usage).toEqual({
      sku: CONF,
      day: "2026-09-29",
      quantity: 40,
      idempotencyKey: "sep-29",
      recordedAt: minute("2026-09-29T12:00"),
    });
  });

  it("September is billed on 1 October (a run started by hand at 00:01): 40 × 0.05 = 2.00, VAT 20.5 % 0.41, total 2.41; Distributor Two has nothing to bill", async () => {
    // Prepare: a month can be billed as soon as it has ended.
    await t.setClock("2026-10-01T00:01:00.000Z");
    // Act
    const report = await t.runJob("billing");
    // Assess
    expect(report).toMatchObject({ scheduled: 2, processed: 2, deadLettered: 0 });
    const [september, ...others] = await invoices(OPERATOR, ids.d);
    expect(others).toEqual([]);
    expect(september).toMatchObject({
      number: "INV00000001",
      period: "2026-09",
      currency: "USD",
      taxRatePercent: "20.5",
      net: usd("2.00"),
      vat: usd("0.41"),
      total: usd("2.41"),
      lineCount: 1,
    });
    expect(linesOf(september!)).toEqual([
      {
        customer: "Customer C",
        tier1: null,
        kind: "USAGE",
        sku: CONF,
        quantity: 40,
        unitPrice: usd("0.05"),
        amount: usd("2.00"),
      },
    ]);
    expect(await invoices(OPERATOR, ids.d2)).toEqual([]);
  });

  it("usage of 30 September recorded at 00:03 on 1 October, after September's invoice was issued at 00:01, is refused: the month is closed", async () => {
    // Prepare
    await t.setClock("2026-10-01T00:03:00.000Z");
    // Act
    const r = await recordUsage(OPERATOR, {
      accountId: ids.c,
      sku: CONF,
      quantity: 9,
      day: "2026-09-30",
      idempotencyKey: "sep-30-after-run",
    });
    // Assess: the month has been billed, so it is closed (core/usage.ts: "months already billed are refused").
    expectInvalid(r, ["day"]);
  });
});

describe("October on the subscription ledger", () => {
  it("2 October: Customer C orders 10 trunk users, 4 PBX users and a 5-licence trial", async () => {
    // Prepare
    await t.setClock("2026-10-02T09:00:00.000Z");
    // Act
    ok(
      await place(D_OWNER, ids.c, [
        { sku: TRUNK, quantity: 10 },
        { sku: PBX, quantity: 4 },
        { sku: TRIAL, quantity: 5 },
      ]),
    );
    // Assess
    expect(await subscription(ids.c, TRUNK)).toMatchObject({
      kind: "MONTHLY",
      quantity: 10,
      status: "ACTIVE",
      version: 1,
    });
    expect(await subscription(ids.c, PBX)).toMatchObject({
      kind: "MONTHLY",
      quantity: 4,
      status: "ACTIVE",
      version: 1,
    });
    expect(await subscription(ids.c, TRIAL)).toMatchObject({
      kind: "TRIAL",
      quantity: 5,
      status: "ACTIVE",
      version: 1,
    });
  });

  it("2 October: Distributor Two's Customer C2 orders 4 trunk users", async () => {
    // Act
    ok(await place(D2_OWNER, ids.c2, [{ sku: TRUNK, quantity: 4 }]));
    // Assess
    expect(await subscription(ids.c2, TRUNK, D2_OWNER)).toMatchObject({ quantity: 4, version: 1 });
  });

  it("5 October: Customer C orders 3 one-year prepaid licences", async () => {
    // Prepare
    await t.setClock("2026-10-05T09:00:00.000Z");
    // Act
    ok(await place(D_OWNER, ids.c, [{ sku: PREPAID, quantity: 3 }]));
    // Assess
    expect(await subscription(ids.c, PREPAID)).toMatchObject({
      kind: "PREPAID",
      quantity: 3,
      status: "ACTIVE",
      version: 1,
    });
  });

  it("10 October: trunk users raised from 10 to 15 at version 1; the same stale version again is a ConflictError", async () => {
    // Prepare
    await t.setClock("2026-10-10T09:00:00.000Z");
    const trunk = await subscription(ids.c, TRUNK);
    // Act
    const raised = await setQuantity(D_OWNER, trunk, 15, 1);
    const stale = await setQuantity(D_OWNER, trunk, 11, 1);
    // Assess
    expect(ok<{ subscription: Sub }>(raised).subscription).toMatchObject({
      quantity: 15,
      version: 2,
      status: "ACTIVE",
    });
    expectError(stale, "ConflictError");
    expect(await subscription(ids.c, TRUNK)).toMatchObject({ quantity: 15, version: 2 });
  });

  describe("recordUsage refusals (15 October): each a typed error, nothing written", () => {
    const good = (over: Partial<UsageInput> = {}): UsageInput => ({
      accountId: ids.c,
      sku: CONF,
      quantity: 30,
      day: "2026-10-15",
      idempotencyKey: key("oct"),
      ...over,
    });

    beforeAll(async () => {
      await t.setClock("2026-10-15T12:00:00.000Z");
    });

    it("an unknown or malformed account is a NotFoundError", async () => {
      // Act
      const unknown = await recordUsage(OPERATOR, good({ accountId: accountId("NO-SUCH-ACCOUNT"), quantity: 1001 }));
      const malformed = await recordUsage(OPERATOR, good({ accountId: "not-an-id", quantity: 1002 }));
      const subscriptionId = await recordUsage(
        OPERATOR,
        good({ accountId: (await subscription(ids.c, CONF)).id, quantity: 1003 }),
      );
      // Assess
      expectError(unknown, "NotFoundError");
      expectError(malformed, "NotFoundError");
      expectError(subscriptionId, "NotFoundError");
    });

    it("an offer that is not USAGE, or one the account does not subscribe to, is a ValidationError on sku", async () => {
      // Act
      const monthly = await recordUsage(OPERATOR, good({ sku: TRUNK, quantity: 1011 }));
      const prepaid = await recordUsage(OPERATOR, good({ sku: PREPAID, quantity: 1012 }));
      const trial = await recordUsage(OPERATOR, good({ sku: TRIAL, quantity: 1013 }));
      const notSubscribed = await recordUsage(OPERATOR, good({ sku: RAINBOW_USAGE, quantity: 1014 }));
      const notASku = await recordUsage(OPERATOR, good({ sku: "no such sku!", quantity: 1015 }));
      // Assess
      expectInvalid(monthly, ["sku"], `${TRUNK} is not a usage offer`);
      expectInvalid(prepaid, ["sku"], `${PREPAID} is not a usage offer`);
      expectInvalid(trial, ["sku"], `${TRIAL} is not a usage offer`);
      expectInvalid(notSubscribed, ["sku"], `the account has no ${RAINBOW_USAGE} subscription`);
      expectInvalid(notASku, ["sku"]);
    });

    it("a zero or negative quantity is a ValidationError on quantity", async () => {
      // Act
      const zero = await recordUsage(OPERATOR, good({ quantity: 0 }));
      const negative = await recordUsage(OPERATOR, good({ quantity: -1021 }));
      // Assess
      expectInvalid(zero, ["quantity"], "must be at least 1");
      expectInvalid(negative, ["quantity"], "must be at least 1");
    });

    it("a fractional quantity is refused by GraphQL Int coercion: HTTP 400, BAD_USER_INPUT, no data", async () => {
      // Act
      const res: GraphQLResponse = await t.gql(OPERATOR, RECORD_USAGE, { input: good({ quantity: 10.5 }) });
      // Assess
      expect({ status: res.status, data: res.data, code: res.errors?.[0]?.extensions?.code }).toEqual({
        status: 400,
        data: null,
        code: "BAD_USER_INPUT",
      });
      expect(res.errors![0]!.message).toContain("Int cannot represent non-integer value: 10.5");
    });

    it("a day in the future, or not a day, is a ValidationError on day", async () => {
      // Act
      const tomorrow = await recordUsage(OPERATOR, good({ day: "2026-10-16", quantity: 1031 }));
      const nextYear = await recordUsage(OPERATOR, good({ day: "2027-10-15", quantity: 1032 }));
      const garbled = await recordUsage(OPERATOR, good({ day: "15/10/2026", quantity: 1033 }));
      const noSuchDay = await recordUsage(OPERATOR, good({ day: "2026-10-32", quantity: 1034 }));
      // Assess
      expectInvalid(tomorrow, ["day"], "must not be in the future");
      expectInvalid(nextYear, ["day"], "must not be in the future");
      expectIssuesOn(garbled, ["day"]);
      expectIssuesOn(noSuchDay, ["day"]);
    });

    it("a day in a month already closed (September, closed since 1 October 00:05) is a ValidationError on day", async () => {
      // Act
      const closed = await recordUsage(OPERATOR, good({ day: "2026-09-30", quantity: 1041 }));
      // Assess
      expectInvalid(closed, ["day"], "2026-09 is closed: it has been billed");
    });

    it("a caller who is not an operator gets ForbiddenError; the same call by the operator with a fresh key is recorded", async () => {
      // Prepare
      const input = good({ day: "2026-10-14", quantity: 25 });
      // Act
      const byOwner = await recordUsage(D_OWNER, input);
      const byContributor = await recordUsage(D_CONTRIB, { ...input, idempotencyKey: key("oct") });
      const byReseller = await recordUsage(R_OWNER, { ...input, idempotencyKey: key("oct") });
      const byOperator = await recordUsage(OPERATOR, { ...input, idempotencyKey: key("oct") });
      // Assess
      expectError(byOwner, "ForbiddenError");
      expectError(byContributor, "ForbiddenError");
      expectError(byReseller, "ForbiddenError");
      expect(ok<{ usage: UsageView }>(byOperator).usage).toMatchObject({ day: "2026-10-14", quantity: 25 });
    });

    it("an idempotency key sent again: same quantity returns the first record, another quantity or day is a ConflictError", async () => {
      // Prepare: 30 minutes on 15 October.
      const first = ok<{ usage: UsageView }>(
        await recordUsage(OPERATOR, good({ idempotencyKey: "oct-15-conf" })),
      ).usage;
      await t.setClock("2026-10-15T13:00:00.000Z");
      // Act
      const otherQuantity = await recordUsage(OPERATOR, good({ idempotencyKey: "oct-15-conf", quantity: 31 }));
      const otherDay = await recordUsage(OPERATOR, good({ idempotencyKey: "oct-15-conf", day: "2026-10-13" }));
      const replay = await recordUsage(OPERATOR, good({ idempotencyKey: "oct-15-conf" }));
      // Assess
      expect(first).toEqual({
        sku: CONF,
        day: "2026-10-15",
        quantity: 30,
        idempotencyKey: "oct-15-conf",
        recordedAt: minute("2026-10-15T12:00"),
      });
      expectError(otherQuantity, "ConflictError");
      expectError(otherDay, "ConflictError");
      expect(ok<{ usage: UsageView }>(replay).usage).toEqual(first);
    });
  });

  it("15 October: a day that does not exist (2026-09-31) is a ValidationError", async () => {
    // Act
    const r = await recordUsage(OPERATOR, {
      accountId: ids.c2,
      sku: CONF,
      quantity: 31,
      day: "2026-09-31",
      idempotencyKey: "no-such-day",
    });
    // Assess: "must be a real day".
    expectIssuesOn(r, ["day"]);
  });

  it("15 October: C2 orders 2 prepaid licences, then raises them to 3 by updateSubscriptionQuantity", async () => {
    // Prepare
    ok(await place(D2_OWNER, ids.c2, [{ sku: PREPAID, quantity: 2 }]));
    // Act
    const r = await setQuantity(D2_OWNER, await subscription(ids.c2, PREPAID, D2_OWNER), 3, 1);
    // Assess
    expect(ok<{ subscription: Sub }>(r).subscription).toMatchObject({ quantity: 3, version: 2 });
  });

  it("20 October: PBX users cancelled at version 1", async () => {
    // Prepare
    await t.setClock("2026-10-20T09:00:00.000Z");
    const pbx = await subscription(ids.c, PBX);
    // Act
    const r = await cancel(D_OWNER, pbx, 1);
    // Assess
    expect(ok<{ subscription: Sub }>(r).subscription).toMatchObject({ quantity: 0, status: "CANCELLED", version: 2 });
  });

  it("31 October 22:00: 7 fax users created; 23:00: trunk users lowered from 15 to 12 at version 2", async () => {
    // Prepare
    await t.setClock("2026-10-31T22:00:00.000Z");
    // Act
    ok(await place(D_OWNER, ids.c, [{ sku: FAX, quantity: 7 }]));
    await t.setClock("2026-10-31T23:00:00.000Z");
    const lowered = await setQuantity(D_OWNER, await subscription(ids.c, TRUNK), 12, 2);
    // Assess
    expect(await subscription(ids.c, FAX)).toMatchObject({ quantity: 7, version: 1, status: "ACTIVE" });
    expect(ok<{ subscription: Sub }>(lowered).subscription).toMatchObject({ quantity: 12, version: 3 });
  });

  it("1 November 00:02, before the run: usage of 31 October is still accepted, November's too; fax users raised to 9 after the month end", async () => {
    // Prepare
    await t.setClock("2026-11-01T00:02:00.000Z");
    // Act
    const late = await recordUsage(OPERATOR, {
      accountId: ids.c,
      sku: CONF,
      quantity: 55,
      day: "2026-10-31",
      idempotencyKey: "oct-31-conf",
    });
    const november = await recordUsage(OPERATOR, {
      accountId: ids.c,
      sku: CONF,
      quantity: 77,
      day: "2026-11-01",
      idempotencyKey: "nov-01-conf",
    });
    const raised = await setQuantity(D_OWNER, await subscription(ids.c, FAX), 9, 1);
    // Assess
    expect(ok<{ usage: UsageView }>(late).usage).toMatchObject({ day: "2026-10-31", quantity: 55 });
    expect(ok<{ usage: UsageView }>(november).usage).toMatchObject({ day: "2026-11-01", quantity: 77 });
    expect(ok<{ subscription: Sub }>(raised).subscription).toMatchObject({ quantity: 9, version: 2 });
  });

  it("1 November 00:03 and 00:04, before the run: C2 cancels its 4 trunk users, then orders 2 again", async () => {
    // Prepare
    await t.setClock("2026-11-01T00:03:00.000Z");
    // Act
    const cancelled = await cancel(D2_OWNER, await subscription(ids.c2, TRUNK, D2_OWNER), 1);
    await t.setClock("2026-11-01T00:04:00.000Z");
    const again = await place(D2_OWNER, ids.c2, [{ sku: TRUNK, quantity: 2 }]);
    // Assess
    expect(ok<{ subscription: Sub }>(cancelled).subscription).toMatchObject({ quantity: 0, status: "CANCELLED" });
    ok(again);
  });
});

describe("the October invoice (1 November 00:05)", () => {
  let october: InvoiceView;

  it("bills the month-end quantities, the prepaid order at its term price and October's usage; no trial, no cancelled subscription", async () => {
    // Prepare
    await t.setClock("2026-11-01T00:05:00.000Z");
    // Act
    const report = await t.runJob("billing");
    // Assess
    expect(report).toMatchObject({ scheduled: 2, processed: 2, deadLettered: 0 });
    october = await invoiceOf(ids.d, "2026-10");
    expect(linesOf(october)).toEqual([
      // 10, raised to 15 on the 10th, lowered to 12 on the 31st at 23:00: 12.
      {
        customer: "Customer C",
        tier1: null,
        kind: "MONTHLY",
        sku: TRUNK,
        quantity: 12,
        unitPrice: usd("3.00"),
        amount: usd("36.00"),
      },
      // Created on the 31st at 22:00 with 7; raised to 9 on 1 November: 7.
      {
        customer: "Customer C",
        tier1: null,
        kind: "MONTHLY",
        sku: FAX,
        quantity: 7,
        unitPrice: usd("2.50"),
        amount: usd("17.50"),
      },
      // Ordered on 5 October: the whole term.
      {
        customer: "Customer C",
        tier1: null,
        kind: "PREPAID",
        sku: PREPAID,
        quantity: 3,
        unitPrice: usd("30.00"),
        amount: usd("90.00"),
      },
      // 25 (14th) + 30 (15th, replayed once) + 55 (31st, recorded at 00:02 on the 1st); not September's 40 nor November's 77.
      {
        customer: "Customer C",
        tier1: null,
        kind: "USAGE",
        sku: CONF,
        quantity: 110,
        unitPrice: usd("0.05"),
        amount: usd("5.50"),
      },
    ]);
  });

  it("totals: net 149.00, VAT 20.5 % = 30.545 rounded half up to 30.55, total USD 179.55, due in 30 days", async () => {
    // Act
    const again = await invoiceOf(ids.d, "2026-10");
    // Assess
    expect(again).toMatchObject({
      period: "2026-10",
      billedTo: "Distributor USD",
      currency: "USD",
      taxRatePercent: "20.5",
      net: usd("149.00"),
      vat: usd("30.55"),
      total: usd("179.55"),
      lineCount: 4,
      issuedAt: minute("2026-11-01T00:05"),
    });
    expect(again.number).toMatch(/^INV0000000[23]$/);
    expect(new Date(again.dueAt).getTime() - new Date(again.issuedAt).getTime()).toBe(30 * 86_400_000);
    expect(again).toEqual(october);
  });

  it("usage of October is refused once the month is closed; the same usage on a November day is recorded", async () => {
    // Prepare
    await t.setClock("2026-11-01T00:06:00.000Z");
    // Act
    const closed = await recordUsage(OPERATOR, {
      accountId: ids.c,
      sku: CONF,
      quantity: 12,
      day: "2026-10-31",
      idempotencyKey: key("late"),
    });
    const open = await recordUsage(OPERATOR, {
      accountId: ids.c,
      sku: CONF,
      quantity: 12,
      day: "2026-11-01",
      idempotencyKey: key("late"),
    });
    // Assess
    expectInvalid(closed, ["day"], "2026-10 is closed: it has been billed");
    expect(ok<{ usage: UsageView }>(open).usage).toMatchObject({ day: "2026-11-01", quantity: 12 });
    expect(await invoiceOf(ids.d, "2026-10")).toEqual(october);
  });
});

describe("found in review, now fixed", () => {
  it("Distributor Two's October invoice bills C2's prepaid order of 2 at its term price", async () => {
    // Act
    const lines = linesOf(await invoiceOf(ids.d2, "2026-10"));
    // Assess
    expect(lines).toContainEqual({
      customer: "Customer C2",
      tier1: null,
      kind: "PREPAID",
      sku: PREPAID,
      quantity: 2,
      unitPrice: usd("30.00"),
      amount: usd("60.00"),
    });
  });

  it("a prepaid increase made with updateSubscriptionQuantity (2 → 3 on 15 October) is charged on the next invoice", async () => {
    // Act
    const lines = linesOf(await invoiceOf(ids.d2, "2026-10"));
    // Assess: DESIGN 1 — increases are charged on the next invoice for the remaining term (12 started months of 12) at the original price.
    expect(lines).toContainEqual({
      customer: "Customer C2",
      tier1: null,
      kind: "PREPAID",
      sku: PREPAID,
      quantity: 1,
      unitPrice: usd("30.00"),
      amount: usd("30.00"),
    });
  });

  it("4 trunk users held all October are billed even when cancelled and ordered again after the month end, before the run", async () => {
    // Act
    const lines = linesOf(await invoiceOf(ids.d2, "2026-10"));
    // Assess: the quantity at the end of October was 4.
    expect(lines).toContainEqual({
      customer: "Customer C2",
      tier1: null,
      kind: "MONTHLY",
      sku: TRUNK,
      quantity: 4,
      unitPrice: usd("3.00"),
      amount: usd("12.00"),
    });
  });

  it("the key of 15 October sent again with another quantity and a November day is a ConflictError", async () => {
    // Act
    const r = await recordUsage(OPERATOR, {
      accountId: ids.c,
      sku: CONF,
      quantity: 31,
      day: "2026-11-01",
      idempotencyKey: "oct-15-conf",
    });
    // Assess
    expectError(r, "ConflictError");
  });
});

describe("invoice visibility", () => {
  it("the distributor's owner and the operator see both invoices, newest first, and open one by id", async () => {
    // Act
    const byOwner = await invoices(D_OWNER, ids.d);
    const byOperator = await invoices(OPERATOR, ids.d);
    const october = byOwner[0]!;
    const one = await t.gql<{ invoice: Result<InvoiceView> }>(D_OWNER, INVOICE_BY_ID, { id: october.id });
    const oneByOperator = await t.gql<{ invoice: Result<InvoiceView> }>(OPERATOR, INVOICE_BY_ID, { id: october.id });
    // Assess
    expect(byOwner.map((i) => i.period)).toEqual(["2026-10", "2026-09"]);
    expect(byOperator).toEqual(byOwner);
    expect(ok<InvoiceView>(one.data!.invoice)).toEqual(october);
    expect(ok<InvoiceView>(oneByOperator.data!.invoice)).toEqual(october);
  });

  it("the distributor's contributor gets FORBIDDEN on account.invoices and NotFoundError on invoice(id), and no document", async () => {
    // Prepare
    const [october] = await invoices(OPERATOR, ids.d);
    // Act
    const list = await t.gql(D_CONTRIB, INVOICES, { id: ids.d });
    const one = await t.gql<{ invoice: Result<InvoiceView> }>(D_CONTRIB, INVOICE_BY_ID, { id: october!.id });
    const node = await t.gql<{ node: { id: string } | null }>(D_CONTRIB, `query N($id: ID!) { node(id: $id) { id } }`, {
      id: october!.id,
    });
    const pdf = await fetch(`${t.url}/invoices/${october!.id}.pdf`, {
      headers: { authorization: `Bearer ${await t.token(D_CONTRIB)}` },
    });
    // Assess
    expect(list.errors?.map((e) => e.extensions?.code)).toEqual(["FORBIDDEN"]);
    // The field is nullable: the rest of the account still answers.
    expect(JSON.stringify(list.data)).toContain('"invoices":null');
    expectError(one.data!.invoice, "NotFoundError");
    expect(node.data).toEqual({ node: null });
    expect(pdf.status).toBe(404);
  });

  it("a reseller's owner does not see the distributor: NotFoundError on account(id) and on invoice(id); its own account has no invoices", async () => {
    // Prepare
    const [october] = await invoices(OPERATOR, ids.d);
    // Act
    const list = await t.gql<{ account: Result<unknown> }>(R_OWNER, INVOICES, { id: ids.d });
    const one = await t.gql<{ invoice: Result<InvoiceView> }>(R_OWNER, INVOICE_BY_ID, { id: october!.id });
    const own = await invoices(R_OWNER, ids.r);
    // Assess
    expect(list.errors).toBeUndefined();
    expectError(list.data!.account, "NotFoundError");
    expectError(one.data!.invoice, "NotFoundError");
    expect(own).toEqual([]);
  });

  it("another distributor's owner does not see this distributor's invoices", async () => {
    // Prepare
    const [october] = await invoices(OPERATOR, ids.d);
    // Act
    const list = await t.gql<{ account: Result<unknown> }>(D2_OWNER, INVOICES, { id: ids.d });
    const one = await t.gql<{ invoice: Result<InvoiceView> }>(D2_OWNER, INVOICE_BY_ID, { id: october!.id });
    // Assess
    expectError(list.data!.account, "NotFoundError");
    expectError(one.data!.invoice, "NotFoundError");
  });
});
