/**
 * The monthly billing, exactly: scenarios whose invoices are computed BY HAND from the
 * rules (DESIGN 1 "Billing", README "Catalog, orders and licences", "Subscription changes and trials",
 * "Scheduled runs", the Rainbow guide 5.5), on one timeline from January 2027 to March 2028 driven by the
 * stack's clock, the daily lifecycle run (00:15) and the monthly billing run (1st, 00:05).
 *
 *   Platform (operator)
 *   ├── RV Dist A, USD, VAT 20 %  — the whole subtree on one invoice
 *   │   ├── (own company: MON2)
 *   │   ├── RV Cust C1   (MON: ordered on the last day, changes around month ends, cancel, re-order, leap Feb)
 *   │   ├── RV Cust CU   (USAGE)
 *   │   └── RV Res R1 (own: MON2)
 *   │       ├── RV Cust C2 (MON, cancelled mid-March)
 *   │       └── RV Res R2 ── RV Cust C3 (MON2: tier1 R1, tier2 R2)
 *   ├── RV Dist B, USD, VAT 0     — prepaid 1Y / 3Y, increases, renewals, leap day
 *   ├── RV Dist C, USD  ── RV Cust CM (moves to D on 10 March), RV Cust CN
 *   ├── RV Dist D, USD, VAT 10 %  — receives CM mid-month; nothing to bill in Jan/Feb
 *   ├── RV Dist E, USD            — trials only (nothing to bill), a trial converted on its last day
 *   └── RV Dist J, JPY, VAT 10 %  — a currency without minor units
 *
 * Offers (created here, USD unless said): MON 3.00/month, MON2 0.07/month, P1 30.00 per licence per 12
 * months, P1ODD 10.00 per 12 months, P3 84.00 per 36 months, USE 0.05 per minute, TRI (30-day trial →
 * MON); JMON ¥1200/month, JP1 ¥1000 per 12 months.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OPERATOR, PLATFORM, ok, startTestStack } from "./harness.js";
import type { Money, TestStack } from "./harness.js";

const MON = "RV-MON";
const MON2 = "RV-MON2";
const P1 = "RV-P1Y";
const P1ODD = "RV-P1Y-ODD";
const P3 = "RV-P3Y";
const USE = "RV-CONF";
const TRI = "RV-TRIAL";
const JMON = "RV-JPY-MON";
const JP1 = "RV-JPY-P1Y";
const USD_OFFERS = [MON, MON2, P1, P1ODD, P3, USE, TRI];

const OWNER = {
  a: "owner@rv-a.example",
  b: "owner@rv-b.example",
  c: "owner@rv-c.example",
  d: "owner@rv-d.example",
  e: "owner@rv-e.example",
  j: "owner@rv-j.example",
  cm: "owner@rv-cm.example",
};

let t: TestStack;
/** Account ids, set as the timeline creates them. */
const id = {
  a: "",
  b: "",
  c: "",
  c1: "",
  c2: "",
  c3: "",
  cj: "",
  cm: "",
  cn: "",
  cp1: "",
  cp2: "",
  cp3: "",
  ct1: "",
  ct2: "",
  cu: "",
  d: "",
  e: "",
  e1: "",
  j: "",
  r1: "",
  r2: "",
};

// ---------------------------------------------------------------- helpers

interface LineView {
  readonly customer: string;
  readonly tier1: string | null;
  readonly tier2: string | null;
  readonly kind: string;
  readonly sku: string;
  readonly description: string;
  readonly quantity: number;
  readonly unitPrice: Money;
  readonly amount: Money;
}
interface InvoiceView {
  readonly id: string;
  readonly number: string;
  readonly period: string;
  readonly currency: string;
  readonly net: Money;
  readonly vat: Money;
  readonly total: Money;
  readonly lineCount: number;
  readonly csvPath: string;
  readonly lines: { readonly edges: readonly { readonly node: LineView }[] };
}
interface Sub {
  readonly id: string;
  readonly sku: string;
  readonly quantity: number;
  readonly status: string;
  readonly version: number;
}

const M = "{ amount currency }";
const INVOICES = `query I($id: ID!) { a: account(id: $id) { __typename ... on QueryAccountSuccess { data { invoices(first: 100) { edges { node {
  id number period currency net ${M} vat ${M} total ${M} lineCount csvPath
  lines(first: 100) { edges { node { customer tier1 tier2 kind sku description quantity unitPrice ${M} amount ${M} } } } } } } } } } }`;

async function invoices(accountId: string): Promise<InvoiceView[]> {
  const r = await t.read<{ a: { __typename: string; data: { invoices: { edges: { node: InvoiceView }[] } } } }>(
    OPERATOR,
    INVOICES,
    { id: accountId },
  );
  expect(r.a.__typename).toBe("QueryAccountSuccess");
  return r.a.data.invoices.edges.map((e) => e.node);
}
async function invoice(accountId: string, period: string): Promise<InvoiceView | undefined> {
  return (await invoices(accountId)).find((i) => i.period === period);
}
/** Lines without their names (for compact comparisons): sorted by customer, kind, sku, amount. */
const lines = (inv: InvoiceView | undefined) =>
  (inv?.lines.edges.map((e) => e.node) ?? [])
    .map((l) => ({
      customer: l.customer,
      tier1: l.tier1,
      tier2: l.tier2,
      kind: l.kind,
      sku: l.sku,
      quantity: l.quantity,
      unitPrice: l.unitPrice.amount,
      amount: l.amount.amount,
    }))
    .sort(
      (x, y) =>
        x.customer.localeCompare(y.customer) ||
        x.kind.localeCompare(y.kind) ||
        x.sku.localeCompare(y.sku) ||
        Number(x.amount) - Number(y.amount),
    );
const totals = (inv: InvoiceView | undefined) =>
  inv && { currency: inv.currency, net: inv.net.amount, vat: inv.vat.amount, total: inv.total.amount };

const line = (
  customer: string,
  kind: string,
  sku: string,
  quantity: number,
  unitPrice: string,
  amount: string,
  tier1: string | null = null,
  tier2: string | null = null,
) => ({ customer, tier1, tier2, kind, sku, quantity, unitPrice, amount });

let keys = 0;
const key = (label: string) => `${label}-${++keys}`;

async function createOffer(input: Record<string, unknown>): Promise<void> {
  ok(await t.mutate(OPERATOR, "createOffer", "CreateOfferInput", { currency: "USD", ...input }, "offer { sku }"));
}
async function distributor(name: string, owner: string, currency: string, skus: string[], vat?: string) {
  const d = await t.createAccount({ parentId: PLATFORM, kind: "DISTRIBUTOR", name, currency, owner });
  await t.offer(d, skus);
  if (vat)
    ok(
      await t.mutate(
        OPERATOR,
        "setTaxRate",
        "SetTaxRateInput",
        { accountId: d, taxRatePercent: vat },
        "account { id }",
      ),
    );
  return d;
}
async function account(parentId: string, kind: "RESELLER" | "CUSTOMER", name: string, owner?: string) {
  return t.createAccount({ parentId, kind, name, ...(owner ? { owner } : {}) });
}
async function order(accountId: string, sku: string, quantity: number): Promise<void> {
  ok(
    await t.mutate(
      OPERATOR,
      "placeOrder",
      "PlaceOrderInput",
      { accountId, lines: [{ sku, quantity }], idempotencyKey: key("order") },
      "order { id }",
    ),
  );
}
async function sub(accountId: string, sku: string): Promise<Sub> {
  const r = await t.read<{ a: { data: { subscriptions: { edges: { node: Sub }[] } } } }>(
    OPERATOR,
    `query S($id: ID!) { a: account(id: $id) { ... on QueryAccountSuccess { data { subscriptions(first: 100) { edges { node { id sku quantity status version } } } } } } }`,
    { id: accountId },
  );
  const s = r.a.data.subscriptions.edges.map((e) => e.node).find((x) => x.sku === sku);
  expect(s, `no ${sku} subscription`).toBeDefined();
  return s!;
}
async function setQuantity(accountId: string, sku: string, quantity: number): Promise<Sub> {
  const s = await sub(accountId, sku);
  return ok<{ subscription: Sub }>(
    await t.mutate(
      OPERATOR,
      "updateSubscriptionQuantity",
      "UpdateSubscriptionQuantityInput",
      { subscriptionId: s.id, quantity, expectedVersion: s.version },
      "subscription { id sku quantity status version }",
    ),
  ).subscription;
}
async function cancel(accountId: string, sku: string): Promise<void> {
  const s = await sub(accountId, sku);
  ok(
    await t.mutate(
      OPERATOR,
      "cancelSubscription",
      "CancelSubscriptionInput",
      { subscriptionId: s.id, expectedVersion: s.version },
      "subscription { id }",
    ),
  );
}
async function usage(accountId: string, quantity: number, day: string): Promise<void> {
  ok(
    await t.mutate(
      OPERATOR,
      "recordUsage",
      "RecordUsageInput",
      { accountId, sku: USE, quantity, day, idempotencyKey: key("use") },
      "usage { quantity }",
    ),
  );
}
async function billing(period?: string): Promise<void> {
  expect(await t.runJob("billing", period)).toMatchObject({ deadLettered: 0 });
}
async function lifecycle(): Promise<void> {
  expect(await t.runJob("lifecycle")).toMatchObject({ deadLettered: 0 });
}
async function csv(inv: InvoiceView, as: string): Promise<Record<string, string>[]> {
  const res = await fetch(`${t.url}${inv.csvPath}`, { headers: { authorization: `Bearer ${await t.token(as)}` } });
  expect(res.status).toBe(200);
  const [head, ...rows] = (await res.text()).trim().split(/\r?\n/);
  const cols = head!.split(",");
  // Names in this file hold no commas or quotes.
  return rows.map((r) => Object.fromEntries(r.split(",").map((v, i) => [cols[i]!, v])));
}

// ---------------------------------------------------------------- setup (5 January 2027)

beforeAll(async () => {
  t = await startTestStack();
  await t.setClock("2027-01-05T09:00:00.000Z");
  // The deployment's daily run has run before: its watermark is today.
  await lifecycle();
  await createOffer({ sku: MON, name: "RV monthly user", kind: "MONTHLY", unitPrice: "3.00" });
  await createOffer({ sku: MON2, name: "RV monthly light user", kind: "MONTHLY", unitPrice: "0.07" });
  await createOffer({ sku: P1, name: "RV user 1Y prepaid", kind: "PREPAID", termMonths: 12, unitPrice: "30.00" });
  await createOffer({ sku: P1ODD, name: "RV odd 1Y prepaid", kind: "PREPAID", termMonths: 12, unitPrice: "10.00" });
  await createOffer({ sku: P3, name: "RV user 3Y prepaid", kind: "PREPAID", termMonths: 36, unitPrice: "84.00" });
  await createOffer({ sku: USE, name: "RV conference minutes", kind: "USAGE", unit: "minute", unitPrice: "0.05" });
  await createOffer({ sku: TRI, name: "RV trial", kind: "TRIAL", trialDays: 30, convertsTo: MON, unitPrice: "0.00" });
  await createOffer({ sku: JMON, name: "RV yen user", kind: "MONTHLY", unitPrice: "1200", currency: "JPY" });
  await createOffer({
    sku: JP1,
    name: "RV yen 1Y prepaid",
    kind: "PREPAID",
    termMonths: 12,
    unitPrice: "1000",
    currency: "JPY",
  });
  id.a = await distributor("RV Dist A", OWNER.a, "USD", USD_OFFERS, "20");
  id.b = await distributor("RV Dist B", OWNER.b, "USD", USD_OFFERS);
  id.c = await distributor("RV Dist C", OWNER.c, "USD", USD_OFFERS);
  id.d = await distributor("RV Dist D", OWNER.d, "USD", USD_OFFERS, "10");
  id.e = await distributor("RV Dist E", OWNER.e, "USD", USD_OFFERS);
  id.j = await distributor("RV Dist J", OWNER.j, "JPY", [JMON, JP1], "10");
  // Dist C's two customers, 4 and 1 monthly users from 5 January.
  id.cm = await account(id.c, "CUSTOMER", "RV Cust CM", OWNER.cm);
  await order(id.cm, MON, 4);
  id.cn = await account(id.c, "CUSTOMER", "RV Cust CN");
  await order(id.cn, MON, 1);
}, 120_000);

afterAll(async () => {
  await t?.stop();
});

// ---------------------------------------------------------------- January 2027 (31 days)

describe("January 2027", () => {
  it("orders of the month, the last ones on 31 January; a change at 00:00:30 on 1 February", async () => {
    await t.setClock("2027-01-20T09:00:00.000Z");
    id.cj = await account(id.j, "CUSTOMER", "RV Cust CJ");
    await order(id.cj, JMON, 3);
    await order(id.cj, JP1, 1);
    id.e1 = await account(id.e, "CUSTOMER", "RV Cust E1");
    await order(id.e1, TRI, 3);
    await t.setClock("2027-01-31T10:00:00.000Z");
    id.cp1 = await account(id.b, "CUSTOMER", "RV Cust CP1");
    await order(id.cp1, P1, 3);
    await t.setClock("2027-01-31T23:30:00.000Z");
    id.r1 = await account(id.a, "RESELLER", "RV Res R1");
    id.c2 = await account(id.r1, "CUSTOMER", "RV Cust C2");
    await order(id.c2, MON, 5);
    await t.setClock("2027-01-31T23:59:00.000Z");
    id.c1 = await account(id.a, "CUSTOMER", "RV Cust C1");
    await order(id.c1, MON, 10);
    await t.setClock("2027-02-01T00:00:30.000Z");
    expect((await setQuantity(id.c1, MON, 14)).quantity).toBe(14);
    await t.setClock("2027-02-01T00:05:00.000Z");
    await billing();
  });

  it("Dist A: C1 ordered at 23:59 on the 31st is billed in full for January at its month-end quantity 10 (raised to 14 after midnight); C2 under R1", async () => {
    // C1: 10 × 3.00 = 30.00 (no pro-rata; the 14 of 1 February is February's). C2: 5 × 3.00 = 15.00, tier1 R1.
    // net 45.00; VAT 20 % = 9.00; total 54.00.
    const inv = await invoice(id.a, "2027-01");
    expect(lines(inv)).toEqual([
      line("RV Cust C1", "MONTHLY", MON, 10, "3.00", "30.00"),
      line("RV Cust C2", "MONTHLY", MON, 5, "3.00", "15.00", "RV Res R1"),
    ]);
    expect(totals(inv)).toEqual({ currency: "USD", net: "45.00", vat: "9.00", total: "54.00" });
  });

  it("Dist B: a 1-year prepaid ordered on 31 January is charged for the whole term on January's invoice", async () => {
    // 3 × 30.00 = 90.00; VAT 0 → total 90.00.
    const inv = await invoice(id.b, "2027-01");
    expect(lines(inv)).toEqual([line("RV Cust CP1", "PREPAID", P1, 3, "30.00", "90.00")]);
    expect(totals(inv)).toEqual({ currency: "USD", net: "90.00", vat: "0.00", total: "90.00" });
  });

  it("Dist J (JPY, no minor units): ¥1200 × 3 + ¥1000 × 1 = ¥4600, VAT 10 % ¥460, total ¥5060", async () => {
    const inv = await invoice(id.j, "2027-01");
    expect(lines(inv)).toEqual([
      line("RV Cust CJ", "MONTHLY", JMON, 3, "1200", "3600"),
      line("RV Cust CJ", "PREPAID", JP1, 1, "1000", "1000"),
    ]);
    expect(totals(inv)).toEqual({ currency: "JPY", net: "4600", vat: "460", total: "5060" });
  });

  it("Dist C: 4 + 1 users → 15.00; Dist D (no customer yet) and Dist E (a trial only) have nothing to bill: no invoice", async () => {
    expect(totals(await invoice(id.c, "2027-01"))).toEqual({
      currency: "USD",
      net: "15.00",
      vat: "0.00",
      total: "15.00",
    });
    expect(await invoices(id.d)).toEqual([]);
    expect(await invoices(id.e)).toEqual([]);
  });

  it("running January's billing again (by period, then the schedule) changes nothing: same numbers, no second invoice", async () => {
    const before = await Promise.all([id.a, id.b, id.c, id.j].map((x) => invoices(x)));
    await billing("2027-01");
    await billing();
    const after = await Promise.all([id.a, id.b, id.c, id.j].map((x) => invoices(x)));
    expect(after).toEqual(before);
    expect(after.map((l) => l.length)).toEqual([1, 1, 1, 1]);
  });
});

// ---------------------------------------------------------------- February 2027 (28 days)

describe("February 2027", () => {
  it("the subtree's own companies and a sub-reseller's customer order; usage on the last day; changes around midnight", async () => {
    await t.setClock("2027-02-01T00:10:00.000Z");
    await order(id.a, MON2, 3);
    await order(id.r1, MON2, 7);
    id.r2 = await account(id.r1, "RESELLER", "RV Res R2");
    id.c3 = await account(id.r2, "CUSTOMER", "RV Cust C3");
    await order(id.c3, MON2, 11);
    id.cu = await account(id.a, "CUSTOMER", "RV Cust CU");
    await order(id.cu, USE, 1);
    await t.setClock("2027-02-20T00:15:00.000Z");
    await lifecycle(); // E1's trial (ended 19 February 09:00) expires
    await t.setClock("2027-02-28T12:00:00.000Z");
    await usage(id.cu, 100, "2027-02-28");
    await t.setClock("2027-02-28T23:59:00.000Z");
    expect((await setQuantity(id.c1, MON, 12)).quantity).toBe(12);
    await t.setClock("2027-03-01T00:00:30.000Z");
    await cancel(id.c1, MON);
    await t.setClock("2027-03-01T00:01:00.000Z");
    await usage(id.cu, 33, "2027-02-28");
    await usage(id.cu, 50, "2027-03-01");
    await t.setClock("2027-03-01T00:05:00.000Z");
    await billing();
  });

  it("Dist A bills its whole subtree: own company, reseller, sub-reseller's customer (tier1/tier2), usage; 0.07 lines add up exactly", async () => {
    // C1: 14 → 12 at 23:59 on the 28th, cancelled at 00:00:30 on 1 March: 12 × 3.00 = 36.00
    // C2: 5 × 3.00 = 15.00 (tier1 R1)
    // RV Dist A (own): 3 × 0.07 = 0.21; R1 (own): 7 × 0.07 = 0.49 (tier1 R1); C3: 11 × 0.07 = 0.77 (R1 / R2)
    // CU: 100 + 33 minutes of 28 February = 133 × 0.05 = 6.65 (not the 50 of 1 March)
    // net = 36.00 + 15.00 + 0.21 + 0.49 + 0.77 + 6.65 = 59.12; VAT 20 % = 11.824 → 11.82; total 70.94
    const inv = await invoice(id.a, "2027-02");
    expect(lines(inv)).toEqual([
      line("RV Cust C1", "MONTHLY", MON, 12, "3.00", "36.00"),
      line("RV Cust C2", "MONTHLY", MON, 5, "3.00", "15.00", "RV Res R1"),
      line("RV Cust C3", "MONTHLY", MON2, 11, "0.07", "0.77", "RV Res R1", "RV Res R2"),
      line("RV Cust CU", "USAGE", USE, 133, "0.05", "6.65"),
      line("RV Dist A", "MONTHLY", MON2, 3, "0.07", "0.21"),
      line("RV Res R1", "MONTHLY", MON2, 7, "0.07", "0.49", "RV Res R1"),
    ]);
    expect(totals(inv)).toEqual({ currency: "USD", net: "59.12", vat: "11.82", total: "70.94" });
  });

  it("nothing to bill in February for Dist B (prepaid paid in January), Dist D and Dist E (expired trial): no invoice", async () => {
    expect(await invoice(id.b, "2027-02")).toBeUndefined();
    expect(await invoices(id.d)).toEqual([]);
    expect(await invoices(id.e)).toEqual([]);
    // Dist J: 3 × 1200 = 3600, VAT 360, total 3960 (the prepaid is not billed again).
    expect(totals(await invoice(id.j, "2027-02"))).toEqual({ currency: "JPY", net: "3600", vat: "360", total: "3960" });
  });
});

// ---------------------------------------------------------------- March 2027 (31 days)

describe("March 2027", () => {
  it("trials started, a prepaid bought mid-month, CM moved from Dist C to Dist D on the 10th, re-order, cancellation, a trial converted on its last day", async () => {
    await t.setClock("2027-03-01T12:00:00.000Z");
    id.ct1 = await account(id.e, "CUSTOMER", "RV Cust CT1");
    await order(id.ct1, TRI, 3); // ends 31 March 12:00
    id.ct2 = await account(id.e, "CUSTOMER", "RV Cust CT2");
    await order(id.ct2, TRI, 3); // ends 31 March 12:00, never converted
    await t.setClock("2027-03-10T09:00:00.000Z");
    id.cp2 = await account(id.b, "CUSTOMER", "RV Cust CP2");
    await order(id.cp2, P1ODD, 1); // term 10 March 2027 09:00 → 10 March 2028 09:00
    await t.setClock("2027-03-10T12:00:00.000Z");
    ok(
      await t.mutate(
        OWNER.d,
        "inviteExistingAccount",
        "InviteExistingAccountInput",
        { accountId: id.cm, parentId: id.d },
        "invitationsSent",
      ),
    );
    ok(await t.acceptInvitation(OWNER.cm, await t.invitationToken(OWNER.cm), "account { id }"));
    await t.setClock("2027-03-15T09:00:00.000Z");
    await order(id.c1, MON, 2); // cancelled on 1 March, subscribed again
    await t.setClock("2027-03-20T09:00:00.000Z");
    await cancel(id.c2, MON);
    await t.setClock("2027-03-31T11:00:00.000Z");
    const trial = await sub(id.ct1, TRI);
    ok(
      await t.mutate(
        OPERATOR,
        "convertTrial",
        "ConvertTrialInput",
        { subscriptionId: trial.id, quantity: 3, idempotencyKey: key("convert") },
        "order { id }",
      ),
    );
    await t.setClock("2027-04-01T00:05:00.000Z");
    await billing();
    await t.setClock("2027-04-01T00:15:00.000Z");
    await lifecycle(); // CT2's trial expires
    expect((await sub(id.ct2, TRI)).status).toBe("EXPIRED");
  });

  it("Dist A: C1 re-subscribed with 2 after its cancellation; C2 cancelled on the 20th is not billed; usage of 1 March", async () => {
    // C1: 2 × 3.00 = 6.00; own 0.21, R1 0.49, C3 0.77; CU: 50 × 0.05 = 2.50
    // net = 6.00 + 0.21 + 0.49 + 0.77 + 2.50 = 9.97; VAT 20 % = 1.994 → 1.99; total 11.96
    const inv = await invoice(id.a, "2027-03");
    expect(lines(inv)).toEqual([
      line("RV Cust C1", "MONTHLY", MON, 2, "3.00", "6.00"),
      line("RV Cust C3", "MONTHLY", MON2, 11, "0.07", "0.77", "RV Res R1", "RV Res R2"),
      line("RV Cust CU", "USAGE", USE, 50, "0.05", "2.50"),
      line("RV Dist A", "MONTHLY", MON2, 3, "0.07", "0.21"),
      line("RV Res R1", "MONTHLY", MON2, 7, "0.07", "0.49", "RV Res R1"),
    ]);
    expect(totals(inv)).toEqual({ currency: "USD", net: "9.97", vat: "1.99", total: "11.96" });
  });

  it("moved on 10 March: March is billed once, to Dist D (the party at the month's end); Dist C bills only CN", async () => {
    // Dist C: CN 1 × 3.00 = 3.00. Dist D: CM 4 × 3.00 = 12.00; VAT 10 % 1.20; total 13.20.
    expect(lines(await invoice(id.c, "2027-03"))).toEqual([line("RV Cust CN", "MONTHLY", MON, 1, "3.00", "3.00")]);
    const d = await invoice(id.d, "2027-03");
    expect(lines(d)).toEqual([line("RV Cust CM", "MONTHLY", MON, 4, "3.00", "12.00")]);
    expect(totals(d)).toEqual({ currency: "USD", net: "12.00", vat: "1.20", total: "13.20" });
    // January and February stay Dist C's: Dist D's first invoice is March's.
    expect((await invoices(id.d)).map((i) => i.period)).toEqual(["2027-03"]);
    expect(lines(await invoice(id.c, "2027-02")).map((l) => l.customer)).toEqual(["RV Cust CM", "RV Cust CN"]);
  });

  it("Dist E: the trial converted on its last day is billed for March at 3 × 3.00 = 9.00 (no pro-rata); the expired one never", async () => {
    const inv = await invoice(id.e, "2027-03");
    expect(lines(inv)).toEqual([line("RV Cust CT1", "MONTHLY", MON, 3, "3.00", "9.00")]);
    expect(totals(inv)).toEqual({ currency: "USD", net: "9.00", vat: "0.00", total: "9.00" });
  });

  it("Dist B: the prepaid bought on 10 March is charged for the whole term: 1 × 10.00", async () => {
    expect(lines(await invoice(id.b, "2027-03"))).toEqual([line("RV Cust CP2", "PREPAID", P1ODD, 1, "10.00", "10.00")]);
  });
});

// ---------------------------------------------------------------- August 2027: prepaid increases

describe("August 2027: prepaid licences added mid-term (whole months left, original price, rounded once per line)", () => {
  it("increases on 15 and 20 August; April to August billed on 1 September", async () => {
    await t.setClock("2027-08-15T12:00:00.000Z");
    expect((await setQuantity(id.cp1, P1, 5)).quantity).toBe(5);
    await t.setClock("2027-08-20T10:00:00.000Z");
    expect((await setQuantity(id.cp2, P1ODD, 3)).quantity).toBe(3);
    expect((await setQuantity(id.cj, JP1, 2)).quantity).toBe(2);
    await t.setClock("2027-09-01T00:05:00.000Z");
    await billing();
  });

  it("Dist B: 2 × 30.00 × 6/12 = 30.00 (15 Aug → 31 Jan: 5 months + 16 days = 6 started months); 2 × 10.00 × 7/12 = 11.666… → 11.67 (not 2 × 5.83)", async () => {
    // CP1: term ends 2028-01-31 10:00; from 2027-08-15 12:00: +5 months = 2028-01-15 < end, +6 = 2028-02-15 ≥ end → 6.
    // CP2: term ends 2028-03-10 09:00; from 2027-08-20 10:00: +6 = 2028-02-20 < end, +7 = 2028-03-20 ≥ end → 7.
    // net 41.67, VAT 0.
    const inv = await invoice(id.b, "2027-08");
    expect(lines(inv)).toEqual([
      line("RV Cust CP1", "PREPAID", P1, 2, "30.00", "30.00"),
      line("RV Cust CP2", "PREPAID", P1ODD, 2, "10.00", "11.67"),
    ]);
    expect(totals(inv)).toEqual({ currency: "USD", net: "41.67", vat: "0.00", total: "41.67" });
    // Nothing prepaid in April to July.
    expect((await invoices(id.b)).map((i) => i.period).sort()).toEqual(["2027-01", "2027-03", "2027-08"]);
  });

  it("Dist J: ¥1000 × 5/12 = ¥416.67 → ¥417 (20 Aug 10:00 → 20 Jan 09:00: 5 months); net ¥4017, VAT ¥401.7 → ¥402, total ¥4419", async () => {
    const inv = await invoice(id.j, "2027-08");
    expect(lines(inv)).toEqual([
      line("RV Cust CJ", "MONTHLY", JMON, 3, "1200", "3600"),
      line("RV Cust CJ", "PREPAID", JP1, 1, "1000", "417"),
    ]);
    expect(totals(inv)).toEqual({ currency: "JPY", net: "4017", vat: "402", total: "4419" });
  });

  it("Dist A is billed every month April to August at the same figures as March without usage: 7.47 + VAT 1.49 = 8.96", async () => {
    // C1 2 × 3.00 + 0.21 + 0.49 + 0.77 = 7.47; VAT 1.494 → 1.49; total 8.96.
    for (const period of ["2027-04", "2027-05", "2027-06", "2027-07", "2027-08"])
      expect(totals(await invoice(id.a, period)), period).toEqual({
        currency: "USD",
        net: "7.47",
        vat: "1.49",
        total: "8.96",
      });
  });
});

// ---------------------------------------------------------------- January / February 2028: renewals, leap February

describe("January and February 2028: renewals at term end, leap February", () => {
  it("daily lifecycle runs on 21 and 31 January, billing on 1 February 00:05, lifecycle 00:15; February orders on the 29th", async () => {
    await t.setClock("2028-01-21T00:15:00.000Z");
    await lifecycle(); // JP1's term (ended 20 January 2028 ~09:00) renews
    await t.setClock("2028-01-31T00:15:00.000Z");
    await lifecycle(); // CP1's term ends today at 10:00: not yet
    await t.setClock("2028-02-01T00:05:00.000Z");
    await billing();
    await t.setClock("2028-02-01T00:15:00.000Z");
    await lifecycle(); // the first run after CP1's term end: it renews
    await t.setClock("2028-02-29T12:00:00.000Z");
    id.cp3 = await account(id.b, "CUSTOMER", "RV Cust CP3");
    await order(id.cp3, P3, 2); // term 29 February 2028 → 28 February 2031 (clamped)
    await t.setClock("2028-02-29T23:58:00.000Z");
    expect((await setQuantity(id.c1, MON, 6)).quantity).toBe(6);
    await t.setClock("2028-03-01T00:00:30.000Z");
    expect((await setQuantity(id.c1, MON, 1)).quantity).toBe(1);
    await t.setClock("2028-03-01T00:05:00.000Z");
    await billing();
  });

  it("Dist J: a term ended mid-month (20 January) renews in January: ¥1200 × 3 + renewal 2 × ¥1000 = ¥5600, VAT ¥560, total ¥6160", async () => {
    const inv = await invoice(id.j, "2028-01");
    expect(lines(inv)).toEqual([
      line("RV Cust CJ", "MONTHLY", JMON, 3, "1200", "3600"),
      line("RV Cust CJ", "PREPAID", JP1, 2, "1000", "2000"),
    ]);
    expect(totals(inv)).toEqual({ currency: "JPY", net: "5600", vat: "560", total: "6160" });
  });

  // DEFECT. Rule (DESIGN 1, Rainbow 5.5): PREPAID is "charged for the whole term when ordered or renewed
  // (on the next invoice)", and a term "auto-renews for 12 months at term end". CP1's term (bought
  // 31 January 2027 10:00, raised to 5) ends and renews on 31 January 2028, so the next invoice, January
  // 2028's (issued 1 February), carries 5 × 30.00 × 12/12 = 150.00.
  // Actual: the renewal order is dated when the daily lifecycle run (00:15) first sees the ended term,
  // 1 February 00:15, after January's run at 00:05: January has nothing to bill (no invoice at all) and the
  // 150.00 lands on February's invoice. Any term ending on the last day of a month after 00:15 (and any
  // renewal caught up after a gap without lifecycle runs) is charged a month (or more) late.
  it("Dist B: a term ending on the last day of January (31 Jan 2028 10:00) renews in January: 5 × 30.00 = 150.00 on January's invoice", async () => {
    const inv = await invoice(id.b, "2028-01");
    expect(lines(inv)).toEqual([line("RV Cust CP1", "PREPAID", P1, 5, "30.00", "150.00")]);
    expect(totals(inv)).toEqual({ currency: "USD", net: "150.00", vat: "0.00", total: "150.00" });
  });

  it("the renewal of CP1 is charged exactly once over January and February 2028", async () => {
    const renewals = [...lines(await invoice(id.b, "2028-01")), ...lines(await invoice(id.b, "2028-02"))].filter(
      (l) => l.sku === P1,
    );
    expect(renewals).toEqual([line("RV Cust CP1", "PREPAID", P1, 5, "30.00", "150.00")]);
  });

  it("Dist B, leap day: a 3-year prepaid bought on 29 February 2028 is charged 2 × 84.00 = 168.00 on February's invoice", async () => {
    expect(lines(await invoice(id.b, "2028-02"))).toContainEqual(
      line("RV Cust CP3", "PREPAID", P3, 2, "84.00", "168.00"),
    );
  });

  it("Dist A, leap February: C1 raised to 6 at 23:58 on the 29th (lowered to 1 after midnight) is billed 6; 19.47 + VAT 3.89 = 23.36", async () => {
    // C1 6 × 3.00 = 18.00; own 0.21, R1 0.49, C3 0.77; no usage. net 19.47; VAT 3.894 → 3.89; total 23.36.
    const inv = await invoice(id.a, "2028-02");
    expect(lines(inv)).toEqual([
      line("RV Cust C1", "MONTHLY", MON, 6, "3.00", "18.00"),
      line("RV Cust C3", "MONTHLY", MON2, 11, "0.07", "0.77", "RV Res R1", "RV Res R2"),
      line("RV Dist A", "MONTHLY", MON2, 3, "0.07", "0.21"),
      line("RV Res R1", "MONTHLY", MON2, 7, "0.07", "0.49", "RV Res R1"),
    ]);
    expect(totals(inv)).toEqual({ currency: "USD", net: "19.47", vat: "3.89", total: "23.36" });
  });
});

// ---------------------------------------------------------------- March 2028: increase just before a renewal

describe("March 2028: an increase in the last month of a term, the renewal, a 3-year increase", () => {
  it("CP2 +1 on 1 March (term ends 10 March 09:00), renewed by the run of 11 March; CP3 +1 on 31 March", async () => {
    await t.setClock("2028-03-01T09:00:00.000Z");
    expect((await setQuantity(id.cp2, P1ODD, 4)).quantity).toBe(4);
    await t.setClock("2028-03-11T00:15:00.000Z");
    await lifecycle();
    await t.setClock("2028-03-31T12:30:00.000Z");
    expect((await setQuantity(id.cp3, P3, 3)).quantity).toBe(3);
    await t.setClock("2028-04-01T00:05:00.000Z");
    await billing();
  });

  it("Dist B: 1 × 10.00 × 1/12 = 0.83; renewal 4 × 10.00 = 40.00; 1 × 84.00 × 35/36 = 81.67; net 122.50", async () => {
    // CP2 increase: 2028-03-01 09:00 → end 2028-03-10 09:00: 1 started month → 10.00 / 12 = 0.833 → 0.83.
    // CP2 renewal (12 months, 4 licences at the original 10.00): 40.00.
    // CP3: term ends 2031-02-28 12:00; from 2028-03-31 12:30: +34 = 2031-01-31 < end, +35 = 2031-02-28 12:30 ≥ end → 35;
    //      84.00 × 35 / 36 = 81.666… → 81.67.
    const inv = await invoice(id.b, "2028-03");
    expect(lines(inv)).toEqual([
      line("RV Cust CP2", "PREPAID", P1ODD, 1, "10.00", "0.83"),
      line("RV Cust CP2", "PREPAID", P1ODD, 4, "10.00", "40.00"),
      line("RV Cust CP3", "PREPAID", P3, 1, "84.00", "81.67"),
    ]);
    expect(totals(inv)).toEqual({ currency: "USD", net: "122.50", vat: "0.00", total: "122.50" });
  });

  // DEFECT (service period printed in the CSV report, `service_from` / `service_to`). The licence added on
  // 1 March 2028 is charged for the term it joins, which ends 10 March 2028: its line's period is
  // 2028-03-01 … 2028-03-09. Actual: every prepaid line takes the subscription's end *at billing time*,
  // so once the term renewed (11 March) the 0.83 charge reads 2028-03-01 … 2029-03-09, a year it was not
  // charged for. The renewal line's period starts on the day the run renewed it (2028-03-11) instead of
  // the start of the new term (2028-03-10).
  it("CSV: the March 2028 increase covers 2028-03-01 … 2028-03-09; the renewal 2028-03-10 … 2029-03-09", async () => {
    const inv = (await invoice(id.b, "2028-03"))!;
    const rows = await csv(inv, OWNER.b);
    const cp2 = rows.filter((r) => r.sku === P1ODD).map((r) => [r.amount, r.service_from, r.service_to]);
    expect.soft(cp2).toContainEqual(["0.83", "2028-03-01", "2028-03-09"]);
    expect.soft(cp2).toContainEqual(["40.00", "2028-03-10", "2029-03-09"]);
  });
});

// ---------------------------------------------------------------- across the whole timeline

describe("across the timeline", () => {
  it("invoice numbers are one gap-free sequence INV00000001… over every party and month", async () => {
    const all = (await Promise.all([id.a, id.b, id.c, id.d, id.e, id.j].map((x) => invoices(x)))).flat();
    const numbers = all.map((i) => Number(i.number.slice(3))).sort((x, y) => x - y);
    expect(numbers).toEqual(numbers.map((_n, i) => i + 1));
  });

  it("every invoice's net is the sum of its lines and total = net + VAT (exact minor units)", async () => {
    const all = (await Promise.all([id.a, id.b, id.c, id.d, id.e, id.j].map((x) => invoices(x)))).flat();
    for (const inv of all) {
      const digits = inv.currency === "JPY" ? 0 : 2;
      const minor = (m: Money) => Math.round(Number(m.amount) * 10 ** digits);
      const sum = inv.lines.edges.reduce((n, e) => n + minor(e.node.amount), 0);
      expect(sum, inv.number).toBe(minor(inv.net));
      expect(minor(inv.net) + minor(inv.vat), inv.number).toBe(minor(inv.total));
      expect(inv.lineCount).toBe(inv.lines.edges.length);
    }
  });
});
