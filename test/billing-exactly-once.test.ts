/**
 * Invoices are issued exactly once although SQS delivers at least once: a message delivered again
 * and again, ten copies racing each other and direct worker calls, a worker crashing in the middle
 * of a batch, and a poison message beside valid ones. Each scenario bills its own month, so the
 * number sequence must grow by exactly one per distributor and never skip or repeat a number.
 */
import { FullBatchFailureError } from "@aws-lambda-powertools/batch";
import { DeleteMessageBatchCommand, GetQueueAttributesCommand, ReceiveMessageCommand } from "@aws-sdk/client-sqs";
import type { SQSRecord } from "aws-lambda";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NUMBER_SEQUENCE } from "../core/billing.js";
import type { Deps } from "../core/context.js";
import { work } from "../core/jobs.js";
import { processSqsBatch } from "../infra/sqs-batch.js";
import { OPERATOR, PLATFORM, ok, startTestStack } from "./harness.js";
import type { TestStack } from "./harness.js";

/** Same issuer name as the local stack's workers. */
const ISSUER = "Channel Partner Platform";
/** MONTHLY, USD 6.00 a user. */
const PBX = "RC-DRAAS-PBX-SUB";
const UNIT_PRICE = 6;
const PARTIES = 6;
/** Ten copies of every message in the concurrent scenario. */
const COPIES = 10;
/** A body that can never succeed: parseMessage throws PoisonMessage. */
const POISON = "not json";

interface Party {
  readonly gid: string;
  /** The local account id, as the scheduler puts it in messages. */
  readonly id: string;
  readonly owner: string;
  readonly quantity: number;
}
interface InvoiceView {
  readonly number: string;
  readonly period: string;
  readonly total: { readonly amount: string };
}
type Handler = (record: SQSRecord) => Promise<unknown>;

let t: TestStack;
let deps: Deps;
const parties: Party[] = [];

/** Months billed by the scenarios, newest first: 2026-10, 2026-09, … (the orders start in 2025-06). */
const months = (() => {
  let next = 0;
  return () => {
    const d = new Date(Date.UTC(2026, 9 - next++, 1));
    return `${d.getUTCFullYear()}-${String(d.getUTCMonth() + 1).padStart(2, "0")}`;
  };
})();

const inv = (n: number) => `INV${String(n).padStart(8, "0")}`;
const body = (partyId: string, period: string) => JSON.stringify({ job: "billing", partyId, period });
const counter = () => t.stack.store.counterValue(NUMBER_SEQUENCE);
const options = () => ({ issuer: { name: ISSUER }, queue: t.stack.jobs.queues.billing });
const honest: Handler = (record) => work(deps, record.body, options());

/** A distributor billed in USD with one MONTHLY subscription of `quantity` users, ordered by its owner. */
async function distributor(n: number): Promise<Party> {
  const owner = `owner@d${n}.example`;
  const gid = ok<{ account: { id: string } }>(
    await t.mutate(
      OPERATOR,
      "createAccount",
      "CreateAccountInput",
      {
        parentId: PLATFORM,
        kind: "DISTRIBUTOR",
        name: `Distributor ${n}`,
        country: "US",
        currency: "USD",
        owner: { email: owner },
      },
      "account { id }",
    ),
  ).account.id;
  const joined = await t.gql<{ acceptInvitation: { __typename: string } }>(
    owner,
    `mutation($token: String!) { acceptInvitation(token: $token) { __typename } }`,
    { token: await t.invitationToken(owner) },
  );
  expect(joined.data?.acceptInvitation.__typename).toBe("MutationAcceptInvitationSuccess");
  ok(
    await t.mutate(
      OPERATOR,
      "setAvailableOffers",
      "SetAvailableOffersInput",
      { accountId: gid, skus: [PBX] },
      "account { id }",
    ),
  );
  ok(
    await t.mutate(
      owner,
      "placeOrder",
      "PlaceOrderInput",
      { accountId: gid, lines: [{ sku: PBX, quantity: n }], idempotencyKey: `d${n}-pbx` },
      "order { id }",
    ),
  );
  const id = Buffer.from(gid, "base64")
    .toString("utf8")
    .replace(/^Account:/, "");
  return { gid, id, owner, quantity: n };
}

/** A party's invoices as its owner reads them through GraphQL. */
async function invoicesOf(p: Party): Promise<InvoiceView[]> {
  const r = await t.gql<{ account: { __typename: string; data?: { invoices: { edges: { node: InvoiceView }[] } } } }>(
    p.owner,
    `query($id: ID!) { account(id: $id) { __typename ... on QueryAccountSuccess { data { invoices(first: 100) { edges { node { number period total { amount } } } } } } } }`,
    { id: p.gid },
  );
  expect(r.errors).toBeUndefined();
  return r.data!.account.data!.invoices.edges.map((e) => e.node);
}

/**
 * The guarantees, for one month billed from counter value `before`: one invoice per party with
 * the right total, the month's numbers are exactly before+1..before+N, the counter moved by N,
 * and over all months every number up to the counter is used exactly once. Answers the month's
 * invoices by party.
 */
async function assertBilledOnce(period: string, before: number): Promise<Map<string, InvoiceView>> {
  const all = await Promise.all(parties.map(invoicesOf));
  const month = new Map<string, InvoiceView>();
  parties.forEach((p, i) => {
    const mine = all[i]!.filter((v) => v.period === period);
    expect(mine, `${p.owner} ${period}`).toHaveLength(1);
    expect(mine[0]!.total.amount).toBe((UNIT_PRICE * p.quantity).toFixed(2));
    month.set(p.id, mine[0]!);
  });
  const numbers = [...month.values()].map((v) => v.number).sort();
  expect(numbers).toEqual(Array.from({ length: PARTIES }, (_, i) => inv(before + i + 1)));
  const value = await counter();
  expect(value).toBe(before + PARTIES);
  const everyNumber = all
    .flat()
    .map((v) => v.number)
    .sort();
  expect(everyNumber).toEqual(Array.from({ length: value }, (_, i) => inv(i + 1)));
  // The store agrees with the API.
  for (const p of parties) expect((await t.stack.store.getInvoice(p.id, period))?.number).toBe(month.get(p.id)!.number);
  return month;
}

/** Each invoice of the month mailed exactly once, to its party's owner (compared as mail counts by recipient and subject). */
function assertMailedOnce(period: string, month: Map<string, InvoiceView>): void {
  const sent: Record<string, number> = {};
  for (const m of t.stack.outbox.list().filter((x) => x.subject.endsWith(` for ${period}`)))
    sent[`${m.to}: ${m.subject}`] = (sent[`${m.to}: ${m.subject}`] ?? 0) + 1;
  const expected = Object.fromEntries(
    parties.map((p) => [`${p.owner}: Invoice ${month.get(p.id)!.number} for ${period}`, 1]),
  );
  expect(sent).toEqual(expected);
}

/** An SQS record as the billing worker's event source mapping hands it over. */
function record(messageId: string, receiptHandle: string, messageBody: string): SQSRecord {
  return {
    messageId,
    receiptHandle,
    body: messageBody,
    attributes: {
      ApproximateReceiveCount: "1",
      SentTimestamp: "0",
      SenderId: "test",
      ApproximateFirstReceiveTimestamp: "0",
    },
    messageAttributes: {},
    md5OfBody: "",
    eventSource: "aws:sqs",
    eventSourceARN: "arn:aws:sqs:us-east-1:000000000000:billing",
    awsRegion: "us-east-1",
  };
}

/** One record per party for `period`. */
const batchOf = (period: string): SQSRecord[] =>
  parties.map((p, i) => record(`${period}-${i}`, `rh-${period}-${i}`, body(p.id, period)));

/**
 * One Lambda invocation over `records`, answering the ids SQS keeps (to deliver again). Powertools
 * throws when every record failed; Lambda then returns the whole batch to the queue.
 */
async function invoke(records: SQSRecord[], handle: Handler): Promise<string[]> {
  try {
    return (await processSqsBatch({ Records: records }, handle)).batchItemFailures.map((f) => f.itemIdentifier);
  } catch (err) {
    if (err instanceof FullBatchFailureError) return records.map((r) => r.messageId);
    throw err;
  }
}

beforeAll(async () => {
  // Prepare: six USD distributors, each with a MONTHLY subscription of n users since June 2025, so every later month bills n users.
  t = await startTestStack();
  deps = { store: t.stack.store, clock: t.stack.clock, mailer: t.stack.outbox, portalUrl: "http://localhost:3000" };
  await t.setClock("2025-06-05T10:00:00Z");
  parties.push(...(await Promise.all(Array.from({ length: PARTIES }, (_, i) => distributor(i + 1)))));
  await t.setClock("2026-11-01T00:10:00Z");
}, 60_000);
afterAll(async () => {
  await t?.stop();
});

describe("invoices are issued exactly once", () => {
  it("a message delivered three times in a row: INV00000001..INV00000006, counter 6, one mail each", async () => {
    // Prepare
    const period = months();
    expect(await counter()).toBe(0);
    // Act
    const drains: { processed: number; failedAttempts: number }[] = [];
    for (let round = 0; round < 3; round++) {
      await t.stack.jobs.queues.billing.send(parties.map((p) => body(p.id, period)));
      drains.push(await t.stack.jobs.drain("billing"));
    }
    // Assess
    expect(drains).toEqual(Array.from({ length: 3 }, () => ({ processed: PARTIES, failedAttempts: 0 })));
    const month = await assertBilledOnce(period, 0);
    expect(await counter()).toBe(PARTIES);
    assertMailedOnce(period, month);
    const res = await fetch(`${t.url}/dev/outbox`);
    const { messages } = (await res.json()) as { messages: { subject: string }[] };
    expect(messages.filter((m) => m.subject.endsWith(` for ${period}`))).toHaveLength(PARTIES);
  });

  describe("ten copies racing through the queue, and ten direct worker calls per party, all at once", () => {
    let period = "";
    let before = 0;
    let month = new Map<string, InvoiceView>();

    it("one invoice per party, numbers contiguous, counter + 6", async () => {
      // Prepare
      period = months();
      before = await counter();
      const bodies = Array.from({ length: COPIES }, () => parties.map((p) => body(p.id, period))).flat();
      // Act: the copies sent at once (SendMessageBatch takes 10), then the queue drained while the worker is also called directly.
      await Promise.all(
        Array.from({ length: Math.ceil(bodies.length / 10) }, (_, i) =>
          t.stack.jobs.queues.billing.send(bodies.slice(i * 10, i * 10 + 10)),
        ),
      );
      // A copy that finds another worker holding the invoice's mail lease fails, to be retried after it (security rule 13).
      const leased = (err: unknown) => expect(String(err)).toMatch(/being sent by another worker/);
      const [drained] = await Promise.all([
        t.stack.jobs.drain("billing"),
        ...bodies.map((b) => work(deps, b, options()).catch(leased)),
      ]);
      // Assess: every queued copy done in the end, the lease conflicts redelivered.
      expect(drained.processed).toBe(PARTIES * COPIES);
      month = await assertBilledOnce(period, before);
    }, 120_000);

    it("each invoice mailed once", () => {
      // Prepare: the month billed above
      expect(month.size).toBe(PARTIES);
      // Act / Assess
      assertMailedOnce(period, month);
    });
  });

  const crashes = [
    ...Array.from({ length: PARTIES + 1 }, (_, k) => ({ k, at: `before record ${k}`, mode: "before" as const })),
    ...Array.from({ length: PARTIES }, (_, k) => ({ k, at: `after the work of record ${k}`, mode: "after" as const })),
  ];
  it.each(crashes)(
    "a worker crashing $at of a batch of 6, then redelivery: one invoice each, no gap",
    async ({ k, mode }) => {
      // Prepare
      const period = months();
      const before = await counter();
      const records = batchOf(period);
      const index = new Map(records.map((r, i) => [r.messageId, i]));
      const crashing: Handler = async (record) => {
        const i = index.get(record.messageId)!;
        if (i < k) return work(deps, record.body, options());
        if (i === k && mode === "after") await work(deps, record.body, options());
        throw new Error(`worker crashed before acknowledging record ${i}`);
      };
      // Act: the crashing invocation; the failed records delivered again; then the whole batch again (acknowledgements lost).
      const failed = await invoke(records, crashing);
      const failedAgain = await invoke(
        records.filter((r) => failed.includes(r.messageId)),
        honest,
      );
      const replayed = await invoke(records, honest);
      // Assess
      expect(failed.sort()).toEqual(
        records
          .slice(k)
          .map((r) => r.messageId)
          .sort(),
      );
      expect(failedAgain).toEqual([]);
      expect(replayed).toEqual([]);
      const month = await assertBilledOnce(period, before);
      assertMailedOnce(period, month);
    },
  );

  describe("a poison message (not JSON) in the same batch as valid ones", () => {
    let period = "";
    let before = 0;
    let deadBefore = 0;
    /** Times SQS handed the poison to a worker. */
    let poisonReceives = 0;

    /** One receive of up to 10 messages, processed by the billing worker; successes deleted as the event source mapping does. */
    async function deliverOnce(): Promise<{ bodies: string[]; kept: string[] }> {
      const { sqs, urls } = t.stack.jobs;
      const received =
        (
          await sqs.send(
            new ReceiveMessageCommand({ QueueUrl: urls.billing, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
          )
        ).Messages ?? [];
      if (received.length === 0) return { bodies: [], kept: [] };
      const failed = new Set(
        await invoke(
          received.map((m) => record(m.MessageId!, m.ReceiptHandle!, m.Body ?? "")),
          honest,
        ),
      );
      const done = received.filter((m) => !failed.has(m.MessageId!));
      if (done.length)
        await sqs.send(
          new DeleteMessageBatchCommand({
            QueueUrl: urls.billing,
            Entries: done.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })),
          }),
        );
      const kept = received.filter((m) => failed.has(m.MessageId!)).map((m) => m.Body ?? "");
      poisonReceives += received.filter((m) => m.Body === POISON).length;
      return { bodies: received.map((m) => m.Body ?? ""), kept };
    }

    it("first pass: the valid ones are invoiced and acknowledged, only the poison is kept", async () => {
      // Prepare
      period = months();
      before = await counter();
      deadBefore = t.stack.jobs.deadLetters("billing");
      const valid = parties.map((p) => body(p.id, period));
      await t.stack.jobs.queues.billing.send([...valid, POISON]);
      // Act
      const first = await deliverOnce();
      // Assess
      expect(first.bodies.sort()).toEqual([...valid, POISON].sort());
      expect(first.kept).toEqual([POISON]);
      expect(
        await Promise.all(parties.map((p) => t.stack.store.getInvoice(p.id, period).then((i) => i?.number))),
      ).not.toContain(undefined);
      const month = await assertBilledOnce(period, before);
      assertMailedOnce(period, month);
    });

    it("redelivered until its fifth receive, then the poison alone is in the dead-letter queue; nothing else changes", async () => {
      // Prepare: the poison left by the first pass, invisible for 1 s
      expect(poisonReceives).toBe(1);
      // Act: the event source mapping keeps polling (a batch where every record failed returns whole to the queue)
      const deadline = Date.now() + 20_000;
      while (t.stack.jobs.deadLetters("billing") === deadBefore && Date.now() < deadline) {
        const { bodies } = await deliverOnce();
        if (bodies.length === 0) await new Promise((r) => setTimeout(r, 100));
      }
      // Assess
      expect(t.stack.jobs.deadLetters("billing")).toBe(deadBefore + 1);
      expect(poisonReceives).toBe(5);
      const attrs = await t.stack.jobs.sqs.send(
        new GetQueueAttributesCommand({
          QueueUrl: t.stack.jobs.urls.billing,
          AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        }),
      );
      expect(attrs.Attributes).toMatchObject({
        ApproximateNumberOfMessages: "0",
        ApproximateNumberOfMessagesNotVisible: "0",
      });
      const dlq = await t.stack.jobs.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: t.stack.jobs.urls["billing-dlq"],
          MaxNumberOfMessages: 10,
          VisibilityTimeout: 0,
        }),
      );
      expect((dlq.Messages ?? []).map((m) => m.Body)).toEqual([POISON]);
      await assertBilledOnce(period, before);
    });

    it("LocalJobs.drain (POST /dev/jobs/run) does the same: resolves, the valid ones processed, the poison dead-lettered", async () => {
      // Prepare: a second poison beside redelivered (already invoiced) valid messages of the same month
      const dead = t.stack.jobs.deadLetters("billing");
      const mails = t.stack.outbox.list().length;
      await t.stack.jobs.queues.billing.send([...parties.map((p) => body(p.id, period)), POISON]);
      // Act
      const drained = await t.stack.jobs.drain("billing");
      // Assess
      expect(drained).toEqual({ processed: PARTIES, failedAttempts: 5 });
      expect(t.stack.jobs.deadLetters("billing")).toBe(dead + 1);
      expect(t.stack.outbox.list()).toHaveLength(mails);
      await assertBilledOnce(period, before);
    });
  });
});
