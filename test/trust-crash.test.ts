/**
 * Security rules 11 to 13 under crashes: the billing run and the deletion of an account cut at
 * every one of their writes (test/fault-injection.ts answers the n-th write with a non-retryable
 * error: the function stops there), then redelivered by SQS as in AWS.
 *
 *  - Billing (rules 11 and 13): a month is billed with its k-th write cut, for every k a clean run
 *    makes. Each month a customer has moved between the two distributors before the run: it is
 *    billed to the one it had at the month's end, usage included (rule 12), exactly once; invoice
 *    numbers stay contiguous; every invoice is mailed.
 *  - Deletion (rule 12): a customer whose usage is billed is deleted by runs each cut one write
 *    later than the previous: it ends deleted with nothing of it left.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FaultInjectingHandler, isWrite } from "./fault-injection.js";
import { OPERATOR, PLATFORM, ok, startTestStack } from "./harness.js";
import type { TestStack } from "./harness.js";

const TRUNK = "RC-DRAAS-TRUNK-SUB";
const MINUTES = "CRASH-MIN";
const P = {
  d1: "owner@crash-d1.example",
  d2: "owner@crash-d2.example",
  c: "owner@crash-c.example",
  u: "owner@crash-u.example",
};

const faults = new FaultInjectingHandler();
let t: TestStack;
const id = { d1: "", d2: "", c: "", u: "" };
/** Where the moving customer is now. */
let under: "d1" | "d2" = "d1";

interface Line {
  readonly sku: string;
  readonly quantity: number;
  readonly customer: string;
}
interface Invoice {
  readonly number: string;
  readonly period: string;
  readonly lines: Line[];
}
async function invoices(owner: string, accountId: string): Promise<Invoice[]> {
  const r = await t.read<{
    a: {
      data: { invoices: { edges: { node: { number: string; period: string; lines: { edges: { node: Line }[] } } }[] } };
    };
  }>(
    owner,
    `query I($id: ID!) { a: account(id: $id) { ... on QueryAccountSuccess { data { invoices(first: 50) { edges { node { number period lines(first: 100) { edges { node { sku quantity customer } } } } } } } } } }`,
    { id: accountId },
  );
  return r.a.data.invoices.edges.map((e) => ({
    number: e.node.number,
    period: e.node.period,
    lines: e.node.lines.edges.map((l) => l.node),
  }));
}
const month = (i: number) => {
  const d = new Date(Date.UTC(2026, 9 + i, 1));
  return { period: d.toISOString().slice(0, 7), first: d, next: new Date(Date.UTC(2026, 10 + i, 1)) };
};
const iso = (d: Date, ms = 0) => new Date(d.getTime() + ms).toISOString();
const HOUR = 3_600_000;

/** The moving customer goes under the other distributor (its owner accepts the new parent's invitation). */
async function moveC(): Promise<void> {
  const to = under === "d1" ? "d2" : "d1";
  const inviter = to === "d1" ? P.d1 : P.d2;
  ok(
    await t.mutate(
      inviter,
      "inviteExistingAccount",
      "InviteExistingAccountInput",
      { accountId: id.c, parentId: id[to] },
      "invitationsSent",
    ),
  );
  ok(await t.acceptInvitation(P.c, await t.invitationToken(P.c), "account { id }"));
  under = to;
}
async function recordUsage(day: string, key: string): Promise<void> {
  ok(
    await t.mutate(
      OPERATOR,
      "recordUsage",
      "RecordUsageInput",
      { accountId: id.u, sku: MINUTES, quantity: 5, day, idempotencyKey: key },
      "usage { quantity }",
    ),
  );
}
const invoiceMails = async () =>
  (
    (await (await fetch(`${t.url}/dev/outbox`)).json()) as { messages: { to: string; subject: string }[] }
  ).messages.filter((m) => /invoice/i.test(m.subject));

beforeAll(async () => {
  t = await startTestStack({ dynamoRequestHandler: faults, mailLeaseMs: 200 });
  await t.setClock(iso(month(0).first, 9 * HOUR));
  await t.runJob("lifecycle");
  ok(
    await t.mutate(
      OPERATOR,
      "createOffer",
      "CreateOfferInput",
      { sku: MINUTES, name: "Crash minutes", kind: "USAGE", unit: "minute", unitPrice: "0.10", currency: "USD" },
      "offer { sku }",
    ),
  );
  for (const [k, owner, name] of [
    ["d1", P.d1, "Crash D1"],
    ["d2", P.d2, "Crash D2"],
  ] as const) {
    id[k] = ok<{ account: { id: string } }>(
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
        { accountId: id[k], skus: [TRUNK, MINUTES] },
        "account { id }",
      ),
    );
  }
  for (const [k, owner, name, sku, q] of [
    ["c", P.c, "Crash Mover", TRUNK, 3],
    ["u", P.u, "Crash Usage", MINUTES, 1],
  ] as const) {
    id[k] = ok<{ account: { id: string } }>(
      await t.mutate(
        P.d1,
        "createAccount",
        "CreateAccountInput",
        {
          parentId: id.d1,
          kind: "CUSTOMER",
          name,
          country: "US",
          owner: { email: owner },
          order: { lines: [{ sku, quantity: q }], idempotencyKey: name.replace(/\W+/g, "-") },
        },
        "account { id }",
      ),
    ).account.id;
    await t.accept(owner);
  }
}, 90_000);

afterAll(async () => {
  await t?.stop();
});

describe("the billing run cut at each of its writes", () => {
  /** Writes of one clean run, counted on the first month. */
  let writes = 0;
  const billed: { period: string; party: "d1" | "d2" }[] = [];
  /** The cut points that fired (a run's write count varies by a few: conflict retries, the mail lease). */
  const cut: number[] = [];

  /** Bills month i with its k-th write cut (none for k = 0); the customer moved after the month ended, before the run. */
  async function billMonth(i: number, k: number): Promise<void> {
    const m = month(i);
    await t.setClock(iso(m.first, 10 * HOUR));
    await recordUsage(`${m.period}-01`, `u-${m.period}`);
    const partyAtEnd = under;
    await t.setClock(iso(m.next, 60_000));
    await moveC();
    await t.setClock(iso(m.next, 5 * 60_000));
    const mark = faults.log.length;
    if (k > 0) faults.interruptWrite(k);
    const run = await t.runJob("billing", m.period);
    const fired = !faults.armed;
    faults.disarm();
    expect(run.deadLettered, `${m.period} cut at write ${k}`).toBe(0);
    if (k === 0) {
      writes = faults.since(mark).filter(isWrite).length;
      console.info(
        `a clean billing run of one month: ${writes} write requests (${faults.since(mark).filter(isWrite).join(", ")})`,
      );
    } else if (fired) cut.push(k);
    billed.push({ period: m.period, party: partyAtEnd });
  }

  it("a clean month first (it counts the run's writes), then one month per cut point", async () => {
    await billMonth(0, 0);
    expect(writes).toBeGreaterThan(2);
    for (let k = 1; k <= writes; k++) await billMonth(k, k);
    // Every write of the first ones was cut; only the last cut points may find a run that wrote less.
    expect(cut.slice(0, writes - 3)).toEqual(Array.from({ length: writes - 3 }, (_v, i) => i + 1));
  }, 300_000);

  it("every month is billed once, to the party the customer had at the month's end, with its usage", async () => {
    const one = await invoices(P.d1, id.d1);
    const two = await invoices(P.d2, id.d2);
    for (const { period, party } of billed) {
      const mine = (party === "d1" ? one : two).filter((i) => i.period === period);
      const other = (party === "d1" ? two : one).filter((i) => i.period === period);
      expect(mine, period).toHaveLength(1);
      expect(
        mine[0]!.lines.filter((l) => l.customer === "Crash Mover"),
        period,
      ).toEqual([{ sku: TRUNK, quantity: 3, customer: "Crash Mover" }]);
      expect(
        other.flatMap((i) => i.lines).filter((l) => l.customer === "Crash Mover"),
        period,
      ).toEqual([]);
      // The usage customer stays under the first distributor: its month's usage is on that invoice.
      const d1 = one.filter((i) => i.period === period);
      expect(
        d1.flatMap((i) => i.lines).filter((l) => l.sku === MINUTES),
        period,
      ).toEqual([{ sku: MINUTES, quantity: 5, customer: "Crash Usage" }]);
    }
  });

  it("invoice numbers are contiguous, none repeated; each invoice was mailed", async () => {
    const all = [...(await invoices(P.d1, id.d1)), ...(await invoices(P.d2, id.d2))];
    const numbers = all.map((i) => Number(i.number.replace(/\D/g, ""))).sort((a, b) => a - b);
    expect(new Set(numbers).size).toBe(numbers.length);
    expect(numbers.at(-1)! - numbers[0]! + 1).toBe(numbers.length);
    const mails = await invoiceMails();
    for (const i of all)
      expect(
        mails.some((m) => m.subject.includes(i.number)),
        `mail of ${i.number}`,
      ).toBe(true);
  });
});

describe("a deletion cut at each of its writes", () => {
  it("runs cut one write later each time end with the customer deleted and nothing of it left", async () => {
    const last = month(30);
    await t.setClock(iso(last.first, 9 * HOUR));
    const subs = await t.read<{ a: { data: { subscriptions: { edges: { node: { id: string } }[] } } } }>(
      P.d1,
      `query S($id: ID!) { a: account(id: $id) { ... on QueryAccountSuccess { data { subscriptions(first: 5) { edges { node { id } } } } } } }`,
      { id: id.u },
    );
    ok(
      await t.mutate(
        P.d1,
        "cancelSubscription",
        "CancelSubscriptionInput",
        { subscriptionId: subs.a.data.subscriptions.edges[0]!.node.id },
        "subscription { id }",
      ),
    );
    // The month of the cancellation is billed (nothing left unbilled), then the deletion falls due.
    await t.setClock(iso(last.next, 5 * 60_000));
    expect(await t.runJob("billing")).toMatchObject({ deadLettered: 0 });
    await t.setClock(iso(last.next, 20 * 86_400_000));
    const raw = Buffer.from(id.u, "base64").toString("utf8").split(":")[1]!;
    let runs = 0;
    for (
      let k = 1;
      (await t.stack.store.getAccount(raw)) !== undefined || (await t.stack.store.allMembers(raw)).length > 0;
      k++
    ) {
      expect(k, "the deletion never finished").toBeLessThan(40);
      faults.interruptWrite(k);
      // The scheduler itself may be the one cut (its watermark): that run is lost, the next one reads the same days.
      await fetch(`${t.url}/dev/jobs/run`, { method: "POST", body: JSON.stringify({ job: "lifecycle" }) });
      faults.disarm();
      runs += 1;
    }
    expect(runs).toBeGreaterThan(1);
    // A clean run finishes whatever is left (the purge is idempotent), and nothing of the customer remains.
    await t.runJob("lifecycle");
    const store = t.stack.store;
    expect(await store.getAccount(raw)).toBeUndefined();
    expect(await store.allMembers(raw)).toEqual([]);
    expect(await store.allSubscriptions(raw)).toEqual([]);
    expect(await store.allInvitations(raw)).toEqual([]);
    expect((await store.getPerson(P.u))?.memberships[raw]).toBeUndefined();
  }, 120_000);
});
