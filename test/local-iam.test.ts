/**
 * The local stack's IAM (local/iam.ts): work run as a function may make only the DynamoDB requests
 * that function's deployed role allows (stacks/grants.ts); anything else is refused before it is
 * sent, as AccessDenied, and changes nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SCHEDULED_THROUGH } from "../core/due.js";
import { counterPartitionKey } from "../infra/entities/billing.js";
import { AccessDenied, allows, asFunction, authorisationsOf, enforceMail, takeRefusals } from "../local/iam.js";
import { GRANTS } from "../stacks/grants.js";
import { startTestStack } from "./harness.js";
import type { TestStack } from "./harness.js";

describe("authorisations a request needs", () => {
  it("a transaction needs each item's action on its partition; a batch, its batch action; an index query, Query on the index", () => {
    expect(
      authorisationsOf("TransactWriteCommand", {
        TransactItems: [
          { Put: { Item: { pk: "a", sk: "1" } } },
          { Update: { Key: { pk: "b", sk: "1" } } },
          { Delete: { Key: { pk: "c", sk: "1" } } },
          { ConditionCheck: { Key: { pk: "d", sk: "1" } } },
        ],
      }),
    ).toEqual([
      { action: "dynamodb:PutItem", pk: "a" },
      { action: "dynamodb:UpdateItem", pk: "b" },
      { action: "dynamodb:DeleteItem", pk: "c" },
      { action: "dynamodb:ConditionCheckItem", pk: "d" },
    ]);
    expect(authorisationsOf("BatchWriteCommand", {})).toEqual([{ action: "dynamodb:BatchWriteItem" }]);
    expect(authorisationsOf("BatchGetItemCommand", {})).toEqual([{ action: "dynamodb:BatchGetItem" }]);
    expect(authorisationsOf("QueryCommand", { IndexName: "gsi1" })).toEqual([
      { action: "dynamodb:Query", index: "gsi1" },
    ]);
    expect(authorisationsOf("ScanCommand", {})).toEqual([{ action: "dynamodb:Scan" }]);
    expect(authorisationsOf("GetItemCommand", { Key: { pk: { S: "x" } } })).toEqual([
      { action: "dynamodb:GetItem", pk: "x" },
    ]);
  });

  it("grants as the policies read: the scheduler writes its watermark's partition only; no role scans; the consumer queries no index", () => {
    const watermark = counterPartitionKey(SCHEDULED_THROUGH);
    expect(allows(GRANTS.scheduler, { action: "dynamodb:UpdateItem", pk: watermark })).toBe(true);
    expect(allows(GRANTS.scheduler, { action: "dynamodb:UpdateItem", pk: "$cp#id_acc1" })).toBe(false);
    expect(allows(GRANTS.scheduler, { action: "dynamodb:DeleteItem", pk: watermark })).toBe(false);
    expect(allows(GRANTS.graphql, { action: "dynamodb:BatchWriteItem" })).toBe(true);
    expect(allows(GRANTS.documents, { action: "dynamodb:PutItem", pk: "x" })).toBe(false);
    expect(allows(GRANTS.streamConsumer, { action: "dynamodb:Query", index: "gsi1" })).toBe(false);
    for (const grant of Object.values(GRANTS)) expect(allows(grant, { action: "dynamodb:Scan" })).toBe(false);
  });
});

describe("the local SES", () => {
  it("sends only for the functions whose role may send through SES (the workers); the others are refused", async () => {
    // Prepare
    const sent: string[] = [];
    const ses = enforceMail({ send: async (m) => void sent.push(m.subject) });
    const message = { to: "someone@example.com", subject: "Invoice", text: "attached" };
    // Act and assess
    await expect(asFunction("graphql", () => ses.send(message))).rejects.toThrow(AccessDenied);
    await expect(asFunction("webhookWorker", () => ses.send(message))).rejects.toThrow(AccessDenied);
    await asFunction("billingWorker", () => ses.send(message));
    await asFunction("mailWorker", () => ses.send(message));
    expect(sent).toEqual(["Invoice", "Invoice"]);
    expect(takeRefusals()).toEqual([
      "the graphql role may not perform ses:SendEmail",
      "the webhookWorker role may not perform ses:SendEmail",
    ]);
  });
});

describe("the local stack's clients", () => {
  let t: TestStack;
  beforeAll(async () => {
    t = await startTestStack();
  });
  afterAll(async () => {
    await t?.stop();
  });

  it("refuse what the running function may not do, before sending: nothing is written", async () => {
    // Act: the documents function writing, the mail worker reading (it has no table access at all).
    const write = asFunction("documents", () =>
      t.stack.store.transact((e) => [e.counter.create({ name: SCHEDULED_THROUGH, value: 123 }).commit()]),
    );
    const read = asFunction("mailWorker", () => t.stack.store.counterValue(SCHEDULED_THROUGH));
    // Assess
    await expect(write).rejects.toThrow(AccessDenied);
    await expect(read).rejects.toThrow(/mailWorker role may not perform dynamodb:GetItem/);
    expect(await t.stack.store.counterValue(SCHEDULED_THROUGH)).toBe(0);
    // Recorded, for the harness to fail a file on any; these two were meant.
    expect(takeRefusals()).toEqual([
      "the documents role may not perform dynamodb:PutItem",
      "the mailWorker role may not perform dynamodb:GetItem",
    ]);
  });

  it("refuse a message to a queue the running function may not send to: nothing is queued", async () => {
    // Act: the stream consumer (deliveries only) and the documents function (no queue) mailing.
    const fromConsumer = asFunction("streamConsumer", () => t.stack.jobs.mailQueue.send(["{}"]));
    const fromDocuments = asFunction("documents", () => t.stack.jobs.mailQueue.send(["{}"]));
    // Assess
    await expect(fromConsumer).rejects.toThrow(AccessDenied);
    await expect(fromDocuments).rejects.toThrow(AccessDenied);
    expect(takeRefusals()).toEqual([
      "the streamConsumer role may not perform sqs:SendMessage on the mail queue",
      "the documents role may not perform sqs:SendMessage on the mail queue",
    ]);
    expect(t.stack.jobs.inspect("mail")).toMatchObject({ ready: 0 });
  });

  it("let through what it may, and anything outside a function (setup, tools)", async () => {
    expect(await asFunction("scheduler", () => t.stack.store.counterValue(SCHEDULED_THROUGH))).toBe(0);
    expect(await t.stack.store.counterValue(SCHEDULED_THROUGH)).toBe(0);
  });
});
