/**
 * Security rules 11, 12 and 18 over HTTP, on the stack's clock:
 *  11. a customer-month is billed exactly once across parties: a customer moved to another
 *      distributor after October ended but before October's run is billed for October to the
 *      distributor it had at the end of October, for November to the new one, never to both;
 *  12. usage is never lost: a customer whose deletion falls due before its month is billed is kept
 *      until the invoice carries its usage, then deleted;
 *  18. jobs never skip: a trial whose end passed during an outage of six weeks expires at the next run.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OPERATOR, PLATFORM, ok, startTestStack } from "./harness.js";
import type { TestStack } from "./harness.js";

const TRUNK = "RC-DRAAS-TRUNK-SUB";
const TRIAL = "RC-DRAAS-TRK-TRIAL";
const MINUTES = "TRUST-BILL-MIN";
const P = {
  d1: "owner@tb-d1.example",
  d2: "owner@tb-d2.example",
  c: "owner@tb-c.example",
  c2: "owner@tb-c2.example",
  u: "owner@tb-u.example",
  tr: "owner@tb-trial.example",
};

let t: TestStack;
const id = { d1: "", d2: "", c: "", c2: "", u: "", tr: "" };

interface Line {
  readonly sku: string;
  readonly quantity: number;
  readonly customer: string;
}
const invoiceLines = async (owner: string, accountId: string, period: string): Promise<Line[] | undefined> => {
  const r = await t.read<{
    a: { data: { invoices: { edges: { node: { period: string; lines: { edges: { node: Line }[] } } }[] } } };
  }>(
    owner,
    `query I($id: ID!) { a: account(id: $id) { ... on QueryAccountSuccess { data { invoices(first: 10) { edges { node { period lines(first: 100) { edges { node { sku quantity customer } } } } } } } } } }`,
    { id: accountId },
  );
  return r.a.data.invoices.edges.find((e) => e.node.period === period)?.node.lines.edges.map((e) => e.node);
};
const accountAs = async (as: string, accountId: string) =>
  (
    await t.read<{ a: { __typename: string; data?: { pendingDeletionAt: string | null } } }>(
      as,
      `query A($id: ID!) { a: account(id: $id) { __typename ... on QueryAccountSuccess { data { pendingDeletionAt } } } }`,
      { id: accountId },
    )
  ).a;
const subscriptionOf = async (as: string, accountId: string, sku: string) =>
  (
    await t.read<{
      a: { data: { subscriptions: { edges: { node: { id: string; sku: string; status: string } }[] } } };
    }>(
      as,
      `query S($id: ID!) { a: account(id: $id) { ... on QueryAccountSuccess { data { subscriptions(first: 10) { edges { node { id sku status } } } } } } }`,
      { id: accountId },
    )
  ).a.data.subscriptions.edges.find((e) => e.node.sku === sku)?.node;
const distributor = async (name: string, owner: string) => {
  const d = ok<{ account: { id: string } }>(
    await t.mutate(
      OPERATOR,
      "createAccount",
      "CreateAccountInput",
      { parentId: PLATFORM, kind: "DISTRIBUTOR", name, country: "US", currency: "USD", owner: { email: owner } },
      "account { id }",
    ),
  ).account.id;
  await t.accept(owner);
  ok(
    await t.mutate(
      OPERATOR,
      "setAvailableOffers",
      "SetAvailableOffersInput",
      { accountId: d, skus: [TRUNK, TRIAL, MINUTES] },
      "account { id }",
    ),
  );
  return d;
};
const customer = async (
  as: string,
  parentId: string,
  name: string,
  owner: string,
  lines: { sku: string; quantity: number }[],
) => {
  const c = ok<{ account: { id: string } }>(
    await t.mutate(
      as,
      "createAccount",
      "CreateAccountInput",
      {
        parentId,
        kind: "CUSTOMER",
        name,
        country: "US",
        owner: { email: owner },
        order: { lines, idempotencyKey: name.replace(/\W+/g, "-") },
      },
      "account { id }",
    ),
  ).account.id;
  await t.accept(owner);
  return c;
};

beforeAll(async () => {
  t = await startTestStack();
  await t.setClock("2026-10-05T09:00:00.000Z");
  // The deployment's daily run has run before (its watermark: today); the stack's clock is set back
  // before the platform was bootstrapped, so without it the first run would start from that day.
  await t.runJob("lifecycle");
  ok(
    await t.mutate(
      OPERATOR,
      "createOffer",
      "CreateOfferInput",
      {
        sku: MINUTES,
        name: "Trust billing minutes",
        kind: "USAGE",
        unit: "minute",
        unitPrice: "0.10",
        currency: "USD",
      },
      "offer { sku }",
    ),
  );
  id.d1 = await distributor("TB Distribution One", P.d1);
  id.d2 = await distributor("TB Distribution Two", P.d2);
  id.c = await customer(P.d1, id.d1, "TB Moving Customer", P.c, [{ sku: TRUNK, quantity: 3 }]);
  id.c2 = await customer(P.d2, id.d2, "TB Staying Customer", P.c2, [{ sku: TRUNK, quantity: 1 }]);
  id.u = await customer(P.d1, id.d1, "TB Usage Customer", P.u, [{ sku: MINUTES, quantity: 1 }]);
  id.tr = await customer(P.d1, id.d1, "TB Trial Customer", P.tr, [{ sku: TRIAL, quantity: 2 }]);
  await t.setClock("2026-10-06T18:00:00.000Z");
  ok(
    await t.mutate(
      OPERATOR,
      "recordUsage",
      "RecordUsageInput",
      { accountId: id.u, sku: MINUTES, quantity: 10, day: "2026-10-06", idempotencyKey: "tb-u-1" },
      "usage { quantity }",
    ),
  );
}, 90_000);

afterAll(async () => {
  await t?.stop();
});

describe("rule 12: usage is never lost", () => {
  it("a customer whose deletion falls due before its month is billed is kept (its October usage unbilled)", async () => {
    await t.setClock("2026-10-07T09:00:00.000Z");
    const usageSub = await subscriptionOf(P.d1, id.u, MINUTES);
    ok(
      await t.mutate(
        P.d1,
        "cancelSubscription",
        "CancelSubscriptionInput",
        { subscriptionId: usageSub!.id },
        "subscription { id }",
      ),
    );
    // Due on 21 October (14 days later); the runs of 21 to 31 October keep it: October is not invoiced yet.
    await t.setClock("2026-10-22T12:00:00.000Z");
    await t.runJob("lifecycle");
    await t.setClock("2026-10-31T12:00:00.000Z");
    await t.runJob("lifecycle");
    expect((await accountAs(P.d1, id.u)).__typename).toBe("QueryAccountSuccess");
  });
});

describe("rule 11: a customer-month is billed exactly once across parties", () => {
  it("moved to another distributor after October ended, before October's run: October is billed to the first distributor only", async () => {
    await t.setClock("2026-11-01T00:01:00.000Z");
    ok(
      await t.mutate(
        P.d2,
        "inviteExistingAccount",
        "InviteExistingAccountInput",
        { accountId: id.c, parentId: id.d2 },
        "invitationsSent",
      ),
    );
    ok(await t.acceptInvitation(P.c, await t.invitationToken(P.c), "account { id }"));
    await t.setClock("2026-11-01T00:05:00.000Z");
    expect(await t.runJob("billing", "2026-10")).toMatchObject({ deadLettered: 0 });
    const one = await invoiceLines(P.d1, id.d1, "2026-10");
    const two = await invoiceLines(P.d2, id.d2, "2026-10");
    expect(one?.filter((l) => l.sku === TRUNK)).toEqual([{ sku: TRUNK, quantity: 3, customer: "TB Moving Customer" }]);
    expect(two?.filter((l) => l.sku === TRUNK)).toEqual([{ sku: TRUNK, quantity: 1, customer: "TB Staying Customer" }]);
  });

  it("...and its usage reached October's invoice; the customer is deleted at the next run", async () => {
    expect((await invoiceLines(P.d1, id.d1, "2026-10"))?.filter((l) => l.sku === MINUTES)).toEqual([
      { sku: MINUTES, quantity: 10, customer: "TB Usage Customer" },
    ]);
    await t.setClock("2026-11-02T12:00:00.000Z");
    await t.runJob("lifecycle");
    expect((await accountAs(P.d1, id.u)).__typename).toBe("NotFoundError");
  });

  it("November is billed to the new distributor only", async () => {
    await t.setClock("2026-12-01T00:05:00.000Z");
    expect(await t.runJob("billing", "2026-11")).toMatchObject({ deadLettered: 0 });
    const one = (await invoiceLines(P.d1, id.d1, "2026-11")) ?? [];
    const two = await invoiceLines(P.d2, id.d2, "2026-11");
    expect(one.filter((l) => l.customer === "TB Moving Customer")).toEqual([]);
    expect(two?.filter((l) => l.sku === TRUNK).sort((a, b) => a.customer.localeCompare(b.customer))).toEqual([
      { sku: TRUNK, quantity: 3, customer: "TB Moving Customer" },
      { sku: TRUNK, quantity: 1, customer: "TB Staying Customer" },
    ]);
    // A run again changes nothing: still one invoice per party and month.
    expect(await t.runJob("billing", "2026-11")).toMatchObject({ deadLettered: 0 });
    expect((await invoiceLines(P.d2, id.d2, "2026-11"))?.filter((l) => l.sku === TRUNK)).toHaveLength(2);
  });
});

describe("rule 18: jobs never skip", () => {
  it("a trial whose end (4 November) passed during six weeks without any lifecycle run expires at the next run", async () => {
    // The trial customer's last run was on 2 November; the next one is on 20 December.
    expect((await subscriptionOf(P.d1, id.tr, TRIAL))?.status).toBe("ACTIVE");
    await t.setClock("2026-12-20T12:00:00.000Z");
    expect(await t.runJob("lifecycle")).toMatchObject({ deadLettered: 0 });
    expect((await subscriptionOf(P.d1, id.tr, TRIAL))?.status).toBe("EXPIRED");
  });
});
