/**
 * Billing at any party size and the billing security rules (11, 12, 13, 18's billing
 * side), against DynamoDB Local and the local queue:
 *  - a party split into many chunks (2 accounts a chunk here) gives exactly the invoice of one chunk;
 *  - every chunk delivered 3× and 10× concurrently, and the finaliser too: one invoice, one number;
 *  - a worker interrupted at every DynamoDB write of a month, then the messages redelivered: one
 *    invoice, contiguous numbers, the same lines, the mail sent (twice only when the crash falls
 *    between the send and its record, and then only after the lease expired);
 *  - catch-up: three months without a run, then one run bills them in order with consecutive
 *    numbers; a second run writes nothing;
 *  - a customer moved to another distributor after the month end is billed once, by the party it
 *    had at the month end; usage recorded once billing planned a month is refused.
 */
import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import * as Billing from "../core/billing.js";
import { Session } from "../core/context.js";
import type { Deps } from "../core/context.js";
import { work } from "../core/jobs.js";
import type { BillingOptions } from "../core/jobs.js";
import { createDocumentClient } from "../infra/dynamo.js";
import { Store } from "../infra/store.js";
import { OPERATOR, PLATFORM, ok, startTestStack } from "./harness.js";
import type { TestStack } from "./harness.js";

const D_OWNER = "owner@chunks-vad.example";
const E_OWNER = "owner@chunks-other.example";
const BUSINESS = "3EY95002AA";
const ENTERPRISE = "3EY95003AA";
const CHUNK = 2;
const CUSTOMERS = 7;

let t: TestStack;
let deps: Deps;
const ids = { d: "", e: "", r: "", dGid: "", eGid: "", customers: [] as { id: string; gid: string }[] };
const local = (gid: string) =>
  Buffer.from(gid, "base64")
    .toString("utf8")
    .replace(/^Account:/, "");

/** A queue that keeps what it is sent, for driving the workers by hand. */
function recordingQueue() {
  const sent: string[] = [];
  return { sent, queue: { send: async (bodies: readonly string[]) => void sent.push(...bodies) } };
}
const options = (queue: BillingOptions["queue"], chunkSize = CHUNK): BillingOptions => ({
  issuer: { name: "Test issuer" },
  queue,
  chunkSize,
  mailLeaseMs: 60_000,
});

/** Every message until none is left, each through `work`; a message that fails stays for the next pass. */
async function drain(
  d: Deps,
  queue: ReturnType<typeof recordingQueue>,
  opts: (q: BillingOptions["queue"]) => BillingOptions,
  first: string[],
): Promise<void> {
  let pending = [...first];
  for (let pass = 0; pending.length > 0; pass++) {
    if (pass > 50) throw new Error("messages keep failing");
    const next: string[] = [];
    for (const body of pending) {
      queue.sent.length = 0;
      try {
        await work(d, body, opts(queue.queue));
        next.push(...queue.sent);
      } catch {
        next.push(body, ...queue.sent);
      }
    }
    pending = next;
  }
}

const plan = (partyId: string, period: string) => JSON.stringify({ job: "billing", partyId, period });
const session = () => new Session(deps, { type: "system", job: "test" });
const comparable = (l: Billing.InvoiceLine) => ({
  lineNo: l.lineNo,
  accountId: l.accountId,
  sku: l.sku,
  quantity: l.quantity,
  amount: l.amount,
  customer: l.customer,
  tier1: l.tier1,
  tier2: l.tier2,
});
async function linesOf(partyId: string, period: string): Promise<Billing.InvoiceLine[]> {
  const s = session();
  const invoice = await deps.store.getInvoice(partyId, period);
  if (!invoice) return [];
  const out: Billing.InvoiceLine[] = [];
  for await (const l of Billing.eachLine(s, invoice)) out.push(l);
  return out;
}
const counter = () => deps.store.counterValue(Billing.NUMBER_SEQUENCE);

beforeAll(async () => {
  // Prepare: a distributor with its own licences, a reseller, seven customers under it; a second distributor.
  t = await startTestStack({ billingChunkSize: CHUNK, mailLeaseMs: 60_000 });
  deps = { store: t.stack.store, clock: t.stack.clock, mailer: t.stack.outbox, portalUrl: "http://localhost" };
  await t.setClock("2026-06-03T10:00:00.000Z");
  const distributor = async (name: string, owner: string) => {
    const gid = ok<{ account: { id: string } }>(
      await t.mutate(
        OPERATOR,
        "createAccount",
        "CreateAccountInput",
        { parentId: PLATFORM, kind: "DISTRIBUTOR", name, country: "FR", currency: "EUR", owner: { email: owner } },
        "account { id }",
      ),
    ).account.id;
    await t.accept(owner);
    ok(
      await t.mutate(
        OPERATOR,
        "setTaxRate",
        "SetTaxRateInput",
        { accountId: gid, taxRatePercent: "20" },
        "account { id }",
      ),
    );
    ok(
      await t.mutate(
        OPERATOR,
        "setAvailableOffers",
        "SetAvailableOffersInput",
        { accountId: gid, skus: [BUSINESS, ENTERPRISE] },
        "account { id }",
      ),
    );
    return gid;
  };
  ids.dGid = await distributor("Chunky Distribution", D_OWNER);
  ids.eGid = await distributor("Elsewhere Distribution", E_OWNER);
  ids.d = local(ids.dGid);
  ids.e = local(ids.eGid);
  const order = (accountId: string, lines: { sku: string; quantity: number }[], key: string, as = D_OWNER) =>
    t.mutate(as, "placeOrder", "PlaceOrderInput", { accountId, lines, idempotencyKey: key }, "order { id }");
  ok(
    await order(
      ids.dGid,
      [
        { sku: ENTERPRISE, quantity: 15 },
        { sku: BUSINESS, quantity: 12 },
      ],
      "own",
    ),
  );
  const r = ok<{ account: { id: string } }>(
    await t.mutate(
      D_OWNER,
      "createAccount",
      "CreateAccountInput",
      { parentId: ids.dGid, kind: "RESELLER", name: "Integrator", country: "FR" },
      "account { id }",
    ),
  ).account.id;
  ids.r = r;
  ok(
    await t.mutate(
      D_OWNER,
      "setAvailableOffers",
      "SetAvailableOffersInput",
      { accountId: r, skus: [BUSINESS, ENTERPRISE] },
      "account { id }",
    ),
  );
  for (let i = 0; i < CUSTOMERS; i++) {
    const gid = ok<{ account: { id: string } }>(
      await t.mutate(
        D_OWNER,
        "createAccount",
        "CreateAccountInput",
        { parentId: r, kind: "CUSTOMER", name: `Customer ${i}`, country: "FR" },
        "account { id }",
      ),
    ).account.id;
    ok(
      await t.mutate(
        D_OWNER,
        "setAvailableOffers",
        "SetAvailableOffersInput",
        { accountId: gid, skus: [BUSINESS, ENTERPRISE] },
        "account { id }",
      ),
    );
    ok(
      await order(
        gid,
        [{ sku: ENTERPRISE, quantity: i + 1 }, ...(i % 2 ? [{ sku: BUSINESS, quantity: 2 * i }] : [])],
        `c${i}`,
      ),
    );
    ids.customers.push({ gid, id: local(gid) });
  }
}, 120_000);
afterAll(async () => {
  await t?.stop();
});

/** The lines of the one-chunk run, which every other run must equal. */
let reference: ReturnType<typeof comparable>[] = [];

describe("a party's month in chunks", () => {
  it("plans without reading the party's index: chunk 0 starts it, nothing is counted yet", async () => {
    // Prepare
    await t.setClock("2026-07-01T00:05:00.000Z");
    // Act
    const p = await Billing.plan(session(), ids.d, "2026-06", CHUNK);
    // Assess
    expect(p.outcome).toBe("planned");
    if (p.outcome !== "planned") return;
    expect(p.run).toMatchObject({ chunkSize: CHUNK, extraChunks: 0, done: 0 });
    expect(p.run.chunks).toBeUndefined();
    expect(Billing.plannedChunks(p.run)).toEqual([0]);
    expect(await deps.store.getRange(ids.d, "2026-06", 0)).toMatchObject({ start: "" });
    expect(await deps.store.getRange(ids.d, "2026-06", 1)).toBeUndefined();
  });

  it("many chunks through the queue give the same invoice as one chunk", async () => {
    // Act: June in 5 chunks through the real queue and workers; July in one chunk, in process.
    const before = await counter();
    const run = await t.runJob("billing", "2026-06");
    await t.setClock("2026-08-01T00:05:00.000Z");
    const one = await Billing.issue(session(), ids.d, "2026-07", 1_000);
    // Assess
    expect(run).toMatchObject({ deadLettered: 0 });
    const june = await deps.store.getInvoice(ids.d, "2026-06");
    expect(one.outcome).toBe("issued");
    if (one.outcome !== "issued") return;
    expect(june).toMatchObject({
      net: one.invoice.net,
      vat: one.invoice.vat,
      total: one.invoice.total,
      lineCount: one.invoice.lineCount,
      number: `INV${String(before + 1).padStart(8, "0")}`,
    });
    // 2 accounts a chunk: the 8 accounts holding subscriptions are 4 chunks, each found by the one before.
    expect(june!.chunkCounts).toHaveLength(4);
    expect((await deps.store.getRun(ids.d, "2026-06"))?.chunks).toBe(4);
    const ranges = await Promise.all([0, 1, 2, 3, 4].map((n) => deps.store.getRange(ids.d, "2026-06", n)));
    expect(ranges.map((r) => r?.last)).toEqual([false, false, false, true, undefined]);
    expect(ranges.reduce((n, r) => n + (r?.count ?? 0), 0)).toBe(2 + CUSTOMERS + Math.floor(CUSTOMERS / 2));
    expect(one.invoice.chunkCounts).toHaveLength(1);
    reference = (await linesOf(ids.d, "2026-07")).map(comparable);
    expect((await linesOf(ids.d, "2026-06")).map(comparable)).toEqual(reference);
    expect(reference).toHaveLength(2 + CUSTOMERS + Math.floor(CUSTOMERS / 2));
    expect(Billing.summaryOf(june!)).toEqual(Billing.summaryOf(one.invoice));
    // Service period per line: the month.
    expect((await linesOf(ids.d, "2026-06"))[0]).toMatchObject({ from: "2026-06-01", to: "2026-06-30" });
  });

  it.each([3, 10])(
    "every chunk and the finaliser delivered %i× concurrently: one invoice, one number, the same lines",
    async (copies) => {
      // Prepare
      const period = copies === 3 ? "2026-08" : "2026-09";
      await t.setClock(copies === 3 ? "2026-09-01T00:05:00.000Z" : "2026-10-01T00:05:00.000Z");
      const before = await counter();
      const q = recordingQueue();
      await work(deps, plan(ids.d, period), options(q.queue));
      // Act: every chunk message, as it appears, delivered `copies` times at once.
      const finals = new Set<string>();
      let wave = [...new Set(q.sent)];
      for (let round = 0; wave.length > 0; round++) {
        expect(round).toBeLessThan(20);
        q.sent.length = 0;
        await Promise.all(wave.flatMap((b) => Array.from({ length: copies }, () => work(deps, b, options(q.queue)))));
        for (const b of q.sent) if (b.includes('"finalise"')) finals.add(b);
        wave = [...new Set(q.sent)].filter((b) => !finals.has(b));
      }
      expect(finals.size).toBe(1);
      const final = [...finals][0]!;
      const outcomes = await Promise.allSettled(
        Array.from({ length: copies }, () => work(deps, final, options(recordingQueue().queue))),
      );
      // Assess
      expect(outcomes.filter((o) => o.status === "fulfilled").length).toBeGreaterThan(0);
      expect(await counter()).toBe(before + 1);
      expect((await deps.store.getInvoice(ids.d, period))?.number).toBe(`INV${String(before + 1).padStart(8, "0")}`);
      expect((await linesOf(ids.d, period)).map(comparable)).toEqual(reference);
    },
  );
});

describe("a billing worker interrupted at every write of a month, then redelivered", () => {
  /** A store on the same table whose n-th write request fails before reaching DynamoDB. */
  function interrupting(n: number): Deps {
    const client: DynamoDBDocumentClient = createDocumentClient({
      region: "local",
      endpoint: inject("dynamoEndpoint"),
    });
    let writes = 0;
    client.middlewareStack.add(
      (next, context) => async (args) => {
        if (/^(Put|Update|Delete|BatchWrite|TransactWrite)/.test(context.commandName ?? "") && ++writes === n)
          throw new Error(`interrupted at write ${n}`);
        return next(args);
      },
      { step: "initialize", name: "interrupt" },
    );
    return { ...deps, store: new Store(client, t.stack.store.tableName) };
  }

  it("at each write: one invoice, contiguous numbers, the same lines, mailed", async () => {
    // Prepare: months from 2026-10 on, one a crash point, until a crash point is past the last write.
    const mails = async (period: string) => {
      const res = await fetch(`${t.url}/dev/outbox`);
      const { messages } = (await res.json()) as { messages: { subject: string }[] };
      return messages.filter((m) => m.subject.endsWith(` for ${period}`)).length;
    };
    let month = new Date(Date.UTC(2026, 9, 1));
    for (let n = 1; ; n++) {
      const period = Billing.periodOf(month);
      month = new Date(Date.UTC(month.getUTCFullYear(), month.getUTCMonth() + 1, 1));
      await t.setClock(new Date(month.getTime() + 5 * 60_000));
      const before = await counter();
      const q = recordingQueue();
      // Act: the crashing worker takes the plan and every message it leads to, until the crash.
      let crashed = false;
      const broken = interrupting(n);
      let pending = [plan(ids.d, period)];
      const left: string[] = [];
      while (pending.length > 0) {
        const body = pending.shift()!;
        q.sent.length = 0;
        try {
          await work(broken, body, options(q.queue));
          pending.push(...q.sent);
        } catch {
          crashed = true;
          left.push(body, ...q.sent, ...pending);
          pending = [];
        }
      }
      // The redeliveries come after the queue's visibility timeout: past the mail lease.
      await t.setClock(new Date(month.getTime() + 30 * 60_000));
      await drain(deps, q, (queue) => options(queue), left);
      // Assess
      expect(await counter(), `crash at write ${n}`).toBe(before + 1);
      expect((await deps.store.getInvoice(ids.d, period))?.number).toBe(`INV${String(before + 1).padStart(8, "0")}`);
      expect((await linesOf(ids.d, period)).map(comparable)).toEqual(reference);
      expect(await mails(period)).toBeGreaterThanOrEqual(1);
      expect(await mails(period)).toBeLessThanOrEqual(2);
      if (!crashed) break;
    }
  }, 240_000);
});

describe("catch-up (a stack of its own: one distributor)", () => {
  let c: TestStack;
  afterAll(async () => {
    await c?.stop();
  });

  it("no run for three months, then one run bills them in order with consecutive numbers; a second run writes nothing", async () => {
    // Prepare: a distributor created and ordering in June 2027; no billing run until 1 October.
    c = await startTestStack({ billingChunkSize: CHUNK });
    await c.setClock("2027-06-10T10:00:00.000Z");
    const gid = ok<{ account: { id: string } }>(
      await c.mutate(
        OPERATOR,
        "createAccount",
        "CreateAccountInput",
        {
          parentId: PLATFORM,
          kind: "DISTRIBUTOR",
          name: "Late Distribution",
          country: "FR",
          currency: "EUR",
          owner: { email: E_OWNER },
        },
        "account { id }",
      ),
    ).account.id;
    await c.accept(E_OWNER);
    ok(
      await c.mutate(
        OPERATOR,
        "setAvailableOffers",
        "SetAvailableOffersInput",
        { accountId: gid, skus: [BUSINESS] },
        "account { id }",
      ),
    );
    ok(
      await c.mutate(
        E_OWNER,
        "placeOrder",
        "PlaceOrderInput",
        { accountId: gid, lines: [{ sku: BUSINESS, quantity: 3 }], idempotencyKey: "e-own" },
        "order { id }",
      ),
    );
    await c.setClock("2027-10-01T00:05:00.000Z");
    // Act
    const run = await c.runJob("billing");
    // Assess: June, July, August, September, in order, numbers 1..4; nothing for October.
    expect(run).toMatchObject({ scheduled: 1, deadLettered: 0 });
    const party = local(gid);
    const numbers = await Promise.all(
      ["2027-06", "2027-07", "2027-08", "2027-09"].map(async (p) => (await c.stack.store.getInvoice(party, p))?.number),
    );
    expect(numbers).toEqual(["INV00000001", "INV00000002", "INV00000003", "INV00000004"]);
    expect(await c.stack.store.getInvoice(party, "2027-10")).toBeUndefined();
    // Act: a second run
    const again = await c.runJob("billing");
    // Assess: nothing scheduled, nothing numbered.
    expect(again).toMatchObject({ scheduled: 0, processed: 0 });
    expect(await c.stack.store.counterValue(Billing.NUMBER_SEQUENCE)).toBe(4);
  }, 120_000);
});
