/**
 * Mail survives SES failing (faults). Invitation mails go through the mail queue and its
 * worker; invoice mails are claimed, sent and given back by the billing worker. The local stack's
 * outbox stands in for SES and can refuse sends (`POST /dev/outbox/fail`), as SES does when it
 * throttles or is down. Everything else is the real path: fauxqs, redelivery, dead-letter queue.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { QueuedMailer, UndeliverableMail, parseQueuedMail } from "../infra/mail-queue.js";
import { sqsSafeJson } from "../infra/queue.js";
import { OPERATOR, PLATFORM, ok, startTestStack } from "./harness.js";
import type { TestStack } from "./harness.js";

let t: TestStack;
const D_OWNER = "owner@mailfault.example";
const ids = { d: "" };

async function failNextSends(count: number): Promise<void> {
  const res = await fetch(`${t.url}/dev/outbox/fail`, { method: "POST", body: JSON.stringify({ count }) });
  expect(res.status).toBe(200);
}

const mailsTo = (email: string) => t.stack.outbox.list().filter((m) => m.to === email);

/** Polls until `check` holds (the mail worker retries in the background), or fails after `ms`. */
async function eventually(check: () => boolean, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 50));
  }
}

const invite = (email: string) =>
  t.mutate<{ member: { status: string } }>(
    D_OWNER,
    "inviteMember",
    "InviteMemberInput",
    { accountId: ids.d, email, role: "CONTRIBUTOR" },
    "member { status }",
  );

beforeAll(async () => {
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
        name: "Mail Fault Distribution",
        country: "FR",
        currency: "EUR",
        owner: { email: D_OWNER },
      },
      "account { id }",
    ),
  ).account.id;
  const accepted = await t.gql<{ acceptInvitation: { __typename: string } }>(
    D_OWNER,
    `mutation($token: String!) { acceptInvitation(token: $token) { __typename } }`,
    { token: await t.invitationToken(D_OWNER) },
  );
  expect(accepted.data?.acceptInvitation.__typename).toBe("MutationAcceptInvitationSuccess");
});

afterAll(async () => {
  await t?.stop();
});

describe("invitation mail when SES fails", () => {
  it("an invitation made while SES refuses is saved at once, and its mail is sent when SES recovers", async () => {
    const email = "twice-refused@mailfault.example";
    await failNextSends(2);
    expect(ok(await invite(email))).toEqual({ member: { status: "INVITED" } });
    // The first attempt failed: no mail yet, the message waits in the queue.
    expect(mailsTo(email)).toHaveLength(0);
    // Redelivered after the (local, 1 s) visibility timeout: refused once more, then sent.
    await eventually(() => mailsTo(email).length > 0, 8_000);
    expect(mailsTo(email)).toHaveLength(1);
    expect(t.stack.jobs.deadLetters("mail")).toBe(0);
    // The mailed token is the invitation's: it is accepted.
    const token = await t.invitationToken(email);
    const r = await t.gql<{ acceptInvitation: { __typename: string } }>(
      email,
      `mutation($token: String!) { acceptInvitation(token: $token) { __typename } }`,
      { token },
    );
    expect(r.data?.acceptInvitation.__typename).toBe("MutationAcceptInvitationSuccess");
  });

  it("a mail SES keeps refusing goes to the mail dead-letter queue after five attempts, not lost silently", async () => {
    const email = "always-refused@mailfault.example";
    const before = t.stack.jobs.deadLetters("mail");
    await failNextSends(5);
    expect(ok(await invite(email))).toEqual({ member: { status: "INVITED" } });
    await eventually(() => t.stack.jobs.deadLetters("mail") === before + 1, 15_000);
    expect(mailsTo(email)).toHaveLength(0);
    // SES is back: inviting again (the member is still INVITED) mails a fresh token.
    expect(ok(await invite(email))).toEqual({ member: { status: "INVITED" } });
    expect(mailsTo(email)).toHaveLength(1);
  }, 30_000);
});

describe("mail about names in any script", () => {
  it("an account named with an emoji and accents: its owner's invitation goes through the queue to the outbox, as written", async () => {
    const email = "owner@pizza.example";
    const name = "Pizzéria 🍕 Ünïcode";
    const deadBefore = t.stack.jobs.deadLetters("mail");
    const created = await t.mutate(
      D_OWNER,
      "createAccount",
      "CreateAccountInput",
      { parentId: ids.d, kind: "CUSTOMER", name, country: "FR", owner: { email } },
      "account { name }",
    );
    expect(ok<{ account: { name: string } }>(created).account.name).toBe(name);
    await eventually(() => mailsTo(email).length > 0, 8_000);
    expect(mailsTo(email).map((m) => m.subject)).toEqual([`You are invited to ${name}`]);
    expect(t.stack.jobs.deadLetters("mail")).toBe(deadBefore);
  });

  it("queue bodies hold only what SQS and fauxqs take, and JSON.parse reads them back the same", () => {
    const value = { n: "🍕 \uffff \ufffe \ud800 é 東京 \u2028 \u0000", q: 'a"b\\c' };
    const body = sqsSafeJson(JSON.stringify(value));
    // SQS: #x9 | #xA | #xD | #x20-#xD7FF | #xE000-#xFFFD | #x10000-#x10FFFF; fauxqs: none above U+FFFF.
    expect(body).toMatch(/^[\t\n\r\x20-\ud7ff\ue000-\ufffd]*$/);
    expect(JSON.parse(body)).toEqual(value);
    // Accents and CJK stay as they are (an escape is six bytes).
    expect(body).toContain("é 東京");
  });
});

describe("invoice mail when SES fails", () => {
  it("the billing worker gives the mail claim back on a refused send; the redelivered message mails the invoice once", async () => {
    ok(
      await t.mutate(
        OPERATOR,
        "setAvailableOffers",
        "SetAvailableOffersInput",
        { accountId: ids.d, skus: ["3EY95002AA"] },
        "account { id }",
      ),
    );
    const order = await t.mutate<{ order: { id: string } }>(
      D_OWNER,
      "placeOrder",
      "PlaceOrderInput",
      { accountId: ids.d, lines: [{ sku: "3EY95002AA", quantity: 2 }], idempotencyKey: "mail-fault-1" },
      "order { id }",
    );
    ok(order);
    await t.setClock("2026-11-01T06:00:00.000Z");
    await failNextSends(2);
    const run = await t.runJob("billing", "2026-10");
    expect(run).toMatchObject({ scheduled: 1, processed: 1, deadLettered: 0 });
    expect(run.failedAttempts).toBe(2);
    const invoiceMails = mailsTo(D_OWNER).filter((m) => m.subject.endsWith("for 2026-10"));
    expect(invoiceMails).toHaveLength(1);
    expect(invoiceMails[0]!.attachments).toEqual([expect.objectContaining({ contentType: "application/pdf" })]);
  }, 30_000);
});

describe("the local SES switch", () => {
  it("refuses a count that is not an integer from 0 to 100, and changes nothing", async () => {
    for (const count of [-1, 101, 1.5, "2", null]) {
      const res = await fetch(`${t.url}/dev/outbox/fail`, { method: "POST", body: JSON.stringify({ count }) });
      expect(res.status, String(count)).toBe(400);
    }
    // Still sending: an invitation is mailed at once.
    const email = "after-bad-switch@mailfault.example";
    ok(await invite(email));
    expect(mailsTo(email)).toHaveLength(1);
  });
});

describe("the mail queue's messages", () => {
  it("refuses anything that is not a mail (it would only ever fail: straight to the dead-letter queue)", () => {
    for (const body of [
      "",
      "not json",
      "null",
      "{}",
      '{"mail":{"to":"x","subject":"s","text":"t"}}',
      '{"mail":{"to":"a@b.example","subject":1,"text":"t"}}',
      JSON.stringify({ mail: { to: "a@b.example", subject: "s", text: "x".repeat(200_001) } }),
    ]) {
      expect(() => parseQueuedMail(body), body.slice(0, 40)).toThrow(UndeliverableMail);
    }
    expect(parseQueuedMail(JSON.stringify({ mail: { to: "a@b.example", subject: "Hello", text: "Body" } }))).toEqual({
      to: "a@b.example",
      subject: "Hello",
      text: "Body",
    });
  });

  it("does not queue attachments (SQS messages are limited to 256 KB; invoices are sent by the billing worker)", async () => {
    const sent: string[][] = [];
    const mailer = new QueuedMailer({ send: async (bodies) => void sent.push([...bodies]) });
    await expect(
      mailer.send({
        to: "a@b.example",
        subject: "s",
        text: "t",
        attachments: [{ filename: "f.pdf", contentType: "application/pdf", content: new Uint8Array(1) }],
      }),
    ).rejects.toThrow(/attachments/);
    await mailer.send({ to: "a@b.example", subject: "s", text: "t" });
    expect(sent).toEqual([[JSON.stringify({ mail: { to: "a@b.example", subject: "s", text: "t" } })]]);
  });
});
