/**
 * The table's shared write path under DynamoDB's partial answers, for every store of the table:
 * batches whose items come back unprocessed are sent again until done (or fail loudly, never return
 * part of the answer as the whole), transactions cancelled only by a conflict with another
 * transaction are tried again, and a failure while paging with a cursor is the failure itself,
 * not a bad cursor. The faults are answered by a handler in front of the SDK's real one
 * (test/fault-injection.ts); everything else reaches DynamoDB Local.
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from "vitest";
import { Throttled, createDocumentClient, ensureTable } from "../infra/dynamo.js";
import { claimDeliveries } from "../infra/delivery-batch.js";
import { IntegrationStore } from "../infra/integrations.js";
import type { EventFeedRecord, EventRecord, WebhookEndpointRecord } from "../infra/integrations.js";
import { BadCursor, ConditionFailed, Store } from "../infra/store.js";
import { FaultInjectingHandler } from "./fault-injection.js";

const faults = new FaultInjectingHandler();
const client = createDocumentClient({ region: "local", endpoint: inject("dynamoEndpoint"), requestHandler: faults });
const table = `t-${randomUUID()}`;
const integrations = new IntegrationStore(client, table);
const store = new Store(client, table);
const expiresAt = Math.floor(Date.now() / 1000) + 86_400;

beforeAll(async () => {
  await ensureTable(client, table);
});
beforeEach(() => faults.disarm());
afterAll(() => faults.destroy());

function endpoint(accountId: string, n: number): WebhookEndpointRecord {
  return {
    accountId,
    endpointId: `ep-${n}`,
    url: `https://hooks.example.com/${n}`,
    eventTypes: [],
    status: "ENABLED",
    secretSealed: "sealed",
    creator: "user:owner@example.com",
    createdAt: "2026-12-01T00:00:00.000Z",
    version: 1,
  };
}

async function putEndpoints(records: readonly WebhookEndpointRecord[]): Promise<void> {
  await integrations.transact((e) => records.map((r) => e.webhookEndpoint.put(r).commit()));
}

/** Operations sent from now on, and the faults answered. */
function watch() {
  const mark = faults.log.length;
  const injected = faults.injected.length;
  return {
    ops: () => faults.since(mark),
    injected: () => faults.injected.slice(injected).map((f) => f.fault),
  };
}

describe("batches left partly unprocessed are sent again", () => {
  it("events and their feed entries (the stream consumer's BatchWriteItem): every item written", async () => {
    const accountId = `acc-${randomUUID()}`;
    const events: EventRecord[] = Array.from({ length: 30 }, (_, i) => ({
      eventId: `evt-${accountId}-${i}`,
      occurredAt: `2026-12-01T00:00:${String(i).padStart(2, "0")}.000Z`,
      type: "order.placed",
      accountId,
      path: [accountId],
      resourceType: "Order",
      resourceId: `order-${i}`,
      expiresAt,
    }));
    const feed: EventFeedRecord[] = events.map((e) => ({
      feedAccountId: accountId,
      occurredAt: e.occurredAt,
      eventId: e.eventId,
      type: e.type,
      accountId,
      depth: 0,
      resourceType: e.resourceType,
      resourceId: e.resourceId,
      expiresAt,
    }));
    const w = watch();
    faults.leaveUnprocessedNext(3, /^BatchWriteItem$/);
    await integrations.putEvents(events, feed);
    expect(w.injected()).toEqual(["unprocessed", "unprocessed", "unprocessed"]);
    // 60 items in requests of 25: 3 batches, then the 3 halves left unprocessed.
    expect(
      w.ops().filter((op) => op === "BatchWriteItem"),
      w.ops().join(),
    ).toHaveLength(6);
    for (const e of events) expect((await integrations.getEvent(e.eventId))?.resourceId).toBe(e.resourceId);
    const page = await integrations.listFeed(accountId, { since: "2026-01-01", ownOnly: false, limit: 100 });
    expect(page.items.map((i) => i.node.eventId).sort()).toEqual(events.map((e) => e.eventId).sort());
  });

  it("an event named twice in one batch (a replayed stream record) is written once, not refused with the batch", async () => {
    const accountId = `acc-${randomUUID()}`;
    const event: EventRecord = {
      eventId: `evt-${accountId}`,
      occurredAt: "2026-12-01T00:00:00.000Z",
      type: "order.placed",
      accountId,
      path: [accountId],
      resourceType: "Order",
      resourceId: "order-1",
      expiresAt,
    };
    await integrations.putEvents([event, { ...event, resourceId: "order-1-again" }], []);
    expect((await integrations.getEvent(event.eventId))?.resourceId).toBe("order-1-again");
  });

  it("webhook endpoints and delivery states (the delivery worker's BatchGetItem): every key answered", async () => {
    const accountId = `acc-${randomUUID()}`;
    const records = [1, 2, 3, 4].map((n) => endpoint(accountId, n));
    await putEndpoints(records);
    const w = watch();
    faults.leaveUnprocessedNext(1, /^BatchGetItem$/);
    const found = await integrations.getEndpoints([
      ...records.map((r) => ({ accountId, endpointId: r.endpointId })),
      { accountId, endpointId: "ep-absent" },
    ]);
    expect(w.injected()).toEqual(["unprocessed"]);
    expect(found.map((r) => r.endpointId).sort()).toEqual(["ep-1", "ep-2", "ep-3", "ep-4"]);

    const now = new Date().toISOString();
    const until = new Date(Date.now() + 60_000).toISOString();
    for (const r of records) {
      expect(await integrations.claimDelivery(r.endpointId, `evt-${accountId}`, "lease", now, until, expiresAt)).toBe(
        "claimed",
      );
    }
    faults.leaveUnprocessedNext(1, /^BatchGetItem$/);
    const states = await integrations.getDeliveryStates(
      records.map((r) => ({ endpointId: r.endpointId, eventId: `evt-${accountId}` })),
    );
    expect(states.map((s) => s.leaseToken)).toEqual(["lease", "lease", "lease", "lease"]);
  });

  it("the accounts store's loader (BatchGetItem): every key answered, in the order asked", async () => {
    const ids = [1, 2, 3].map((n) => `acct-${n}-${randomUUID()}`);
    await store.transact((e) =>
      ids.map((id, i) =>
        e.account
          .put({
            id,
            kind: "CUSTOMER",
            name: `Customer ${i}`,
            nameKey: `customer ${i}`,
            country: "FR",
            parentId: "PLATFORM",
            path: ["PLATFORM", id],
            createdAt: "2026-12-01T00:00:00.000Z",
            updatedAt: "2026-12-01T00:00:00.000Z",
          })
          .commit(),
      ),
    );
    faults.leaveUnprocessedNext(1, /^BatchGetItem$/);
    const w = watch();
    const loaded = await store.batchGet(ids.map((id) => ({ type: "account" as const, id })));
    expect(w.injected()).toEqual(["unprocessed"]);
    expect(loaded.map((a) => (a && "id" in a ? a.id : undefined))).toEqual(ids);
  });

  it("billing line blocks and watermarks (the billing worker's batches): every item written, every key answered", async () => {
    const partyId = `party-${randomUUID()}`;
    const blocks = Array.from({ length: 30 }, (_, blockNo) => ({
      partyId,
      period: "2026-11",
      chunkNo: 0,
      blockNo,
      lines: `[${blockNo}]`,
    }));
    faults.leaveUnprocessedNext(2, /^BatchWriteItem$/);
    const w = watch();
    await store.putLineBlocks(blocks);
    expect(w.injected()).toEqual(["unprocessed", "unprocessed"]);
    expect((await store.lineBlocks(partyId, "2026-11", 0, 0, 100)).map((b) => b.lines)).toEqual(
      blocks.map((b) => b.lines),
    );

    const parties = [1, 2, 3].map((n) => `${partyId}-${n}`);
    for (const p of parties)
      expect(await store.advanceWatermark(p, "2026-11", null, new Date().toISOString())).toBe(true);
    faults.leaveUnprocessedNext(1, /^BatchGetItem$/);
    const states = await store.billingStates(parties);
    expect([...states.keys()].sort()).toEqual(parties);
    expect([...states.values()].map((s) => s.billedThrough)).toEqual(["2026-11", "2026-11", "2026-11"]);
  });

  it("a batch DynamoDB keeps answering partly fails as throttled (503, retry later), never returning part of the answer as the whole", async () => {
    const accountId = `acc-${randomUUID()}`;
    const records = [1, 2].map((n) => endpoint(accountId, n));
    await putEndpoints(records);
    faults.leaveUnprocessedNext(100, /^BatchGetItem$/);
    await expect(
      integrations.getEndpoints(records.map((r) => ({ accountId, endpointId: r.endpointId }))),
    ).rejects.toBeInstanceOf(Throttled);
  });
});

describe("transactions cancelled by a conflict with another transaction", () => {
  it("are tried again and applied once (integration store)", async () => {
    const accountId = `acc-${randomUUID()}`;
    const w = watch();
    faults.conflictNext(2);
    await putEndpoints([endpoint(accountId, 1)]);
    expect(w.injected()).toEqual(["conflict", "conflict"]);
    expect(w.ops().filter((op) => op === "TransactWriteItems").length).toBe(3);
    expect((await integrations.getEndpoint(accountId, "ep-1"))?.version).toBe(1);
  });

  it("fail with the reasons once the attempts are spent, having applied nothing", async () => {
    const accountId = `acc-${randomUUID()}`;
    faults.conflictNext(100);
    const err = await putEndpoints([endpoint(accountId, 1)]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConditionFailed);
    expect((err as ConditionFailed).reasons).toEqual(["TransactionConflict"]);
    faults.disarm();
    expect(await integrations.getEndpoint(accountId, "ep-1")).toBeUndefined();
  });

  it("a delivery batch's leases under conflicts that outlast the attempts: the batch fails after them, not round after round", async () => {
    const w = watch();
    faults.conflictNext(100);
    const claims = [1, 2, 3].map((n) => ({ endpointId: `ep-${n}`, eventId: `ev-${randomUUID()}`, token: `tok-${n}` }));
    const err = await claimDeliveries(
      integrations,
      claims,
      "2026-12-01T00:00:00.000Z",
      "2026-12-01T00:01:00.000Z",
      expiresAt,
    ).catch((e: unknown) => e);
    expect((err as ConditionFailed).reasons).toEqual(["TransactionConflict", "None", "None"]);
    // One transaction's own attempts (infra/store/base.ts), once: no round repeats them.
    expect(w.ops().filter((op) => op === "TransactWriteItems").length).toBe(6);
  });

  it("a failed condition is an answer, not tried again", async () => {
    const accountId = `acc-${randomUUID()}`;
    await putEndpoints([endpoint(accountId, 1)]);
    const w = watch();
    const err = await integrations
      .transact((e) => [e.webhookEndpoint.create(endpoint(accountId, 1)).commit()])
      .catch((e: unknown) => e);
    expect((err as ConditionFailed).reasons).toEqual(["ConditionalCheckFailed"]);
    expect(w.ops()).toEqual(["TransactWriteItems"]);
  });
});

describe("paging with a cursor", () => {
  it("throttling that outlasts the SDK's retries is Throttled, not a bad cursor", async () => {
    const accountId = `acc-${randomUUID()}`;
    await putEndpoints([1, 2, 3].map((n) => endpoint(accountId, n)));
    const first = await integrations.listEndpoints(accountId, 1);
    const cursor = first.items[0]!.cursor;
    faults.throttleNext(100, /^Query$/);
    const err = await integrations.listEndpoints(accountId, 1, cursor).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Throttled);
    faults.disarm();
    const next = await integrations.listEndpoints(accountId, 1, cursor);
    expect(next.items.map((i) => i.node.endpointId)).toEqual(["ep-2"]);
  });

  it("a cursor DynamoDB refuses is a bad cursor", async () => {
    const accountId = `acc-${randomUUID()}`;
    await putEndpoints([endpoint(accountId, 1)]);
    const err = await integrations.listEndpoints(accountId, 1, "not-a-cursor").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BadCursor);
  });
});
