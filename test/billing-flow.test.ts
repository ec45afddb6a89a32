/**
 * Monthly billing through the real queue and workers (fauxqs + the SQS worker), driven by the
 * stack's clock and POST /dev/jobs/run: the Rainbow invoice example, its PDF and CSV, its mail,
 * and a second run of the same month that changes nothing.
 */
import { pageTexts } from "./pdf-text.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OPERATOR, PLATFORM, ok, startTestStack } from "./harness.js";
import type { Money, TestStack } from "./harness.js";

const D_OWNER = "owner@vad.example";
const R_OWNER = "owner@integrator.example";
const BUSINESS = "3EY95002AA";
const ENTERPRISE = "3EY95003AA";
const ids = { d: "", r: "", invoice: "" };
let t: TestStack;

interface InvoiceView {
  id: string;
  number: string;
  period: string;
  net: Money;
  vat: Money;
  total: Money;
  pdfPath: string;
  csvPath: string;
  lines: {
    edges: { node: { customer: string; tier1: string | null; sku: string; quantity: number; amount: Money } }[];
  };
}
const INVOICE =
  "id number period net { amount currency } vat { amount currency } total { amount currency } pdfPath csvPath lines(first: 100) { edges { node { customer tier1 sku quantity amount { amount currency } } } }";
const invoices = async (as: string) =>
  (
    await t.gql<{ account: { __typename: string; data?: { invoices: { edges: { node: InvoiceView }[] } } } }>(
      as,
      `query($id: ID!) { account(id: $id) { __typename ... on QueryAccountSuccess { data { invoices { edges { node { ${INVOICE} } } } } } } }`,
      { id: ids.d },
    )
  ).data!.account;

beforeAll(async () => {
  // Prepare: Rainbow's example in October 2026 — a distributor billed in EUR at 20 % VAT and its reseller.
  t = await startTestStack();
  await t.setClock("2026-10-05T10:00:00.000Z");
  ids.d = ok<{ account: { id: string } }>(
    await t.mutate(
      OPERATOR,
      "createAccount",
      "CreateAccountInput",
      {
        parentId: PLATFORM,
        kind: "DISTRIBUTOR",
        name: "Value Added Distribution",
        country: "FR",
        currency: "EUR",
        owner: { email: D_OWNER },
      },
      "account { id }",
    ),
  ).account.id;
  await t.accept(D_OWNER);
  ok(
    await t.mutate(
      OPERATOR,
      "setTaxRate",
      "SetTaxRateInput",
      { accountId: ids.d, taxRatePercent: "20" },
      "account { id }",
    ),
  );
  ok(
    await t.mutate(
      OPERATOR,
      "setAvailableOffers",
      "SetAvailableOffersInput",
      { accountId: ids.d, skus: [BUSINESS, ENTERPRISE] },
      "account { id }",
    ),
  );
  ids.r = ok<{ account: { id: string } }>(
    await t.mutate(
      D_OWNER,
      "createAccount",
      "CreateAccountInput",
      { parentId: ids.d, kind: "RESELLER", name: "Integrator Red Baron", country: "FR", owner: { email: R_OWNER } },
      "account { id }",
    ),
  ).account.id;
  await t.accept(R_OWNER);
  const order = (accountId: string, lines: { sku: string; quantity: number }[], key: string) =>
    t.mutate(D_OWNER, "placeOrder", "PlaceOrderInput", { accountId, lines, idempotencyKey: key }, "order { id }");
  ok(
    await order(
      ids.d,
      [
        { sku: ENTERPRISE, quantity: 15 },
        { sku: BUSINESS, quantity: 12 },
      ],
      "own",
    ),
  );
  ok(
    await order(
      ids.r,
      [
        { sku: ENTERPRISE, quantity: 20 },
        { sku: BUSINESS, quantity: 10 },
      ],
      "reseller",
    ),
  );
}, 60_000);
afterAll(async () => {
  await t?.stop();
});

describe("the monthly billing run", () => {
  it("refuses a month that has not ended", async () => {
    // Act
    const res = await fetch(`${t.url}/dev/jobs/run`, {
      method: "POST",
      body: JSON.stringify({ job: "billing", period: "2026-10" }),
    });
    // Assess
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toContain("has not ended");
  });

  it("bills October on 1 November: net 124.40, VAT 24.88, total EUR 149.28, four lines naming the companies", async () => {
    // Act
    await t.setClock("2026-11-01T00:05:00.000Z");
    const report = await t.runJob("billing");
    // Assess
    expect(report).toMatchObject({ scheduled: 1, processed: 1, deadLettered: 0 });
    const account = await invoices(D_OWNER);
    const [invoice] = account.data!.invoices.edges.map((e) => e.node);
    expect(invoice).toMatchObject({
      number: "INV00000001",
      period: "2026-10",
      net: { amount: "124.40", currency: "EUR" },
      vat: { amount: "24.88", currency: "EUR" },
      total: { amount: "149.28", currency: "EUR" },
    });
    expect(invoice!.lines.edges.map((e) => e.node)).toEqual(
      [
        {
          customer: "Value Added Distribution",
          tier1: null,
          sku: ENTERPRISE,
          quantity: 15,
          amount: { amount: "42.00", currency: "EUR" },
        },
        {
          customer: "Value Added Distribution",
          tier1: null,
          sku: BUSINESS,
          quantity: 12,
          amount: { amount: "14.40", currency: "EUR" },
        },
        {
          customer: "Integrator Red Baron",
          tier1: "Integrator Red Baron",
          sku: ENTERPRISE,
          quantity: 20,
          amount: { amount: "56.00", currency: "EUR" },
        },
        {
          customer: "Integrator Red Baron",
          tier1: "Integrator Red Baron",
          sku: BUSINESS,
          quantity: 10,
          amount: { amount: "12.00", currency: "EUR" },
        },
      ].sort((x, y) => (x.tier1 ?? "").localeCompare(y.tier1 ?? "") || x.sku.localeCompare(y.sku)),
    );
    ids.invoice = invoice!.id;
  });

  it("serves the PDF and the CSV to the distributor's owner, with the figures; not to the reseller", async () => {
    // Prepare
    const { data } = await invoices(D_OWNER);
    const invoice = data!.invoices.edges[0]!.node;
    const get = async (as: string, path: string) =>
      fetch(`${t.url}${path}`, { headers: { authorization: `Bearer ${await t.token(as)}` } });
    // Act
    const pdf = await get(D_OWNER, invoice.pdfPath);
    const csv = await get(D_OWNER, invoice.csvPath);
    const denied = await get(R_OWNER, invoice.pdfPath);
    const anonymous = await fetch(`${t.url}${invoice.csvPath}`);
    // Assess
    expect(pdf.status).toBe(200);
    expect(pdf.headers.get("content-type")).toBe("application/pdf");
    const bytes = Buffer.from(await pdf.arrayBuffer());
    expect(bytes.subarray(0, 5).toString()).toBe("%PDF-");
    expect((await pageTexts(bytes)).flat().join(" ")).toEqual(expect.stringContaining("149.28"));
    const text = await csv.text();
    expect(csv.status).toBe(200);
    for (const figure of ["42.00", "14.40", "56.00", "12.00", "Integrator Red Baron", "INV00000001"])
      expect(text).toContain(figure);
    expect(denied.status).toBe(404);
    expect(anonymous.status).toBe(401);
  });

  it("mails the invoice with its PDF to the distributor's owners", async () => {
    // Act
    const res = await fetch(`${t.url}/dev/outbox`);
    const { messages } = (await res.json()) as {
      messages: { to: string; subject: string; attachments?: { filename: string; contentType: string }[] }[];
    };
    // Assess
    const mails = messages.filter((m) => m.subject.startsWith("Invoice INV00000001"));
    expect(mails.map((m) => m.to)).toEqual([D_OWNER]);
    expect(mails[0]!.attachments).toEqual([
      expect.objectContaining({ filename: "INV00000001.pdf", contentType: "application/pdf" }),
    ]);
  });

  it("a second run of the same month writes nothing and mails nothing", async () => {
    // Prepare
    const before = await invoices(D_OWNER);
    const mailsBefore = ((await (await fetch(`${t.url}/dev/outbox`)).json()) as { messages: unknown[] }).messages
      .length;
    // Act
    const report = await t.runJob("billing", "2026-10");
    // Assess
    expect(report).toMatchObject({ scheduled: 1, processed: 1, deadLettered: 0 });
    expect(await invoices(D_OWNER)).toEqual(before);
    expect(((await (await fetch(`${t.url}/dev/outbox`)).json()) as { messages: unknown[] }).messages.length).toBe(
      mailsBefore,
    );
  });
});
