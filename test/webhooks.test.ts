import { spawn } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { IncomingHttpHeaders, Server } from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { Webhook } from "standardwebhooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { derive } from "../core/events.js";
import { globalId } from "../graphql/ids.js";
import { SqsWorkQueue } from "../infra/queue.js";
import { ERR, OPERATOR, PLATFORM, expectError, expectInvalid, expectUnchanged, ok, startTestStack } from "./harness.js";
import type { Result, TestStack } from "./harness.js";

/**
 * Webhooks over HTTP against the local stack: OWNERs register endpoints; the stream
 * consumer fans each committed event out through the delivery queue (fauxqs) to its worker, which
 * POSTs Standard Webhooks deliveries to real receivers (node:http on 127.0.0.1) that verify each one
 * with the `standardwebhooks` package. Retries run on a short schedule and timeout here (the stack's
 * options), so a retry test takes seconds.
 */

// ---------------------------------------------------------------- a receiver

interface Received {
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
  /** What the receiver did: answered (status) or dropped the connection. */
  readonly answered: number | "dropped";
}
interface Payload {
  type: string;
  timestamp: string;
  data: { id: string; eventId: string; accountId: string; resourceType: string; resourceId: string; version?: number };
}

/** How the receiver answers its n-th request (1-based): a status, after a delay, or a dropped connection. */
type Behaviour = (n: number) => { status: number; delayMs?: number; body?: string } | "drop";

class Receiver {
  readonly requests: Received[] = [];
  behaviour: Behaviour = () => ({ status: 200 });
  #server: Server | undefined;
  url = "";

  async start(): Promise<this> {
    this.#server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const n = this.requests.length + 1;
        const b = this.behaviour(n);
        const body = Buffer.concat(chunks).toString("utf8");
        if (b === "drop") {
          this.requests.push({ headers: req.headers, body, answered: "dropped" });
          req.socket.destroy();
          return;
        }
        this.requests.push({ headers: req.headers, body, answered: b.status });
        setTimeout(() => {
          if (!res.destroyed) res.writeHead(b.status, { "content-type": "text/plain" }).end(b.body ?? "ok");
        }, b.delayMs ?? 0);
      });
    });
    await new Promise<void>((r) => this.#server!.listen(0, "127.0.0.1", r));
    this.url = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}/hooks`;
    return this;
  }

  /** Requests answered 2xx, verified with the endpoint's secret(s) by the standardwebhooks library (any one must verify). */
  delivered(...secrets: string[]): Payload[] {
    return this.requests
      .filter((r) => typeof r.answered === "number" && r.answered >= 200 && r.answered < 300)
      .map((r) => {
        const headers = {
          "webhook-id": String(r.headers["webhook-id"]),
          "webhook-timestamp": String(r.headers["webhook-timestamp"]),
          "webhook-signature": String(r.headers["webhook-signature"]),
        };
        const errors: unknown[] = [];
        for (const secret of secrets) {
          try {
            const payload = new Webhook(secret).verify(r.body, headers) as Payload;
            expect(headers["webhook-id"]).toBe(payload.data.eventId);
            return payload;
          } catch (err) {
            errors.push(err);
          }
        }
        throw new Error(`a delivery did not verify: ${String(errors[0])}`);
      });
  }

  async stop(): Promise<void> {
    this.#server?.closeAllConnections();
    await new Promise<void>((r) => (this.#server ? this.#server.close(() => r()) : r()));
  }
}

/** Polls `check` until it holds (or fails the test with its last value). */
async function until<T>(what: string, read: () => Promise<T> | T, check: (v: T) => boolean, ms = 15_000): Promise<T> {
  const end = Date.now() + ms;
  let v = await read();
  while (!check(v)) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(v).slice(0, 600)}`);
    await new Promise((r) => setTimeout(r, 50));
    v = await read();
  }
  return v;
}

// ---------------------------------------------------------------- the stack and its accounts

const TIMEOUT_MS = 400;
const D_OWNER = "owner@dist-hooks.example";
const D_VIEWER = "viewer@dist-hooks.example";
const C_OWNER = "owner@cust-hooks.example";
const O_OWNER = "owner@other-hooks.example";
const TRUNK = "RC-DRAAS-TRUNK-SUB";
const TRIAL = "RC-DRAAS-TRK-TRIAL";

const ENDPOINT =
  "id accountId url eventTypes description status disabledReason failingSince version previousSecretValidUntil";
interface Endpoint {
  id: string;
  accountId: string;
  url: string;
  eventTypes: string[];
  status: string;
  disabledReason: string | null;
  failingSince: string | null;
  version: number;
  previousSecretValidUntil: string | null;
}
interface Delivery {
  id: string;
  webhookId: string;
  eventType: string;
  attempt: number;
  succeeded: boolean;
  statusCode: number | null;
  latencyMs: number;
  error: string | null;
  responseBody: string | null;
}

let t: TestStack;
const ids = { d: "", c: "", o: "", order: "", trunkSub: "" };
const receivers = { d: new Receiver(), c: new Receiver(), o: new Receiver() };
const endpoints = { d: { id: "", secret: "", previous: "" }, c: { id: "", secret: "" }, o: { id: "", secret: "" } };

const drain = async () => {
  const res = await fetch(`${t.url}/dev/events/drain`, { method: "POST", headers: { "content-length": "0" } });
  expect(res.status).toBe(200);
};
const createEndpoint = async (as: string, accountId: string, url: string, eventTypes?: string[]) =>
  t.mutateOk<{ secret: string; endpoint: Endpoint }>(
    as,
    "createWebhookEndpoint",
    "CreateWebhookEndpointInput",
    { accountId, url, ...(eventTypes ? { eventTypes } : {}) },
    `secret endpoint { ${ENDPOINT} }`,
  );
const endpoint = async (
  as: string,
  id: string,
): Promise<Endpoint & { deliveries: { edges: { node: Delivery }[] } }> => {
  const r = await t.read<{ node: (Endpoint & { deliveries: { edges: { node: Delivery }[] } }) | null }>(
    as,
    `query($id: ID!) { node(id: $id) { ... on WebhookEndpoint { ${ENDPOINT} deliveries(first: 50) { edges { node { id webhookId eventType attempt succeeded statusCode latencyMs error responseBody } } } } } }`,
    { id },
  );
  expect(r.node, `endpoint ${id} as ${as}`).not.toBeNull();
  return r.node!;
};
const sendTest = (as: string, endpointId: string) =>
  t.mutateOk<{ webhookId: string }>(as, "sendTestEvent", "WebhookEndpointRefInput", { endpointId }, "webhookId");

beforeAll(async () => {
  t = await startTestStack({ webhookTimeoutMs: TIMEOUT_MS, webhookRetrySchedule: [0, 1, 1, 1, 1, 1, 1, 1] });
  await Promise.all(Object.values(receivers).map((r) => r.start()));
  await t.setClock("2026-10-05T09:00:00.000Z");
  ids.d = (
    await t.mutateOk<{ account: { id: string } }>(
      OPERATOR,
      "createAccount",
      "CreateAccountInput",
      {
        parentId: PLATFORM,
        kind: "DISTRIBUTOR",
        name: "Dist Hooks",
        country: "US",
        currency: "USD",
        owner: { email: D_OWNER },
      },
      "account { id }",
    )
  ).account.id;
  await t.accept(D_OWNER);
  await t.mutateOk(
    D_OWNER,
    "inviteMember",
    "InviteMemberInput",
    { accountId: ids.d, email: D_VIEWER, role: "VIEWER" },
    "member { email }",
  );
  await t.accept(D_VIEWER);
  await t.mutateOk(
    OPERATOR,
    "setAvailableOffers",
    "SetAvailableOffersInput",
    { accountId: ids.d, skus: [TRUNK, TRIAL] },
    "account { id }",
  );
  ids.c = (
    await t.mutateOk<{ account: { id: string } }>(
      D_OWNER,
      "createAccount",
      "CreateAccountInput",
      { parentId: ids.d, kind: "CUSTOMER", name: "Cust Hooks", country: "US", owner: { email: C_OWNER } },
      "account { id }",
    )
  ).account.id;
  await t.accept(C_OWNER);
  ids.o = (
    await t.mutateOk<{ account: { id: string } }>(
      OPERATOR,
      "createAccount",
      "CreateAccountInput",
      {
        parentId: PLATFORM,
        kind: "DISTRIBUTOR",
        name: "Other Hooks",
        country: "US",
        currency: "USD",
        owner: { email: O_OWNER },
      },
      "account { id }",
    )
  ).account.id;
  await t.accept(O_OWNER);
  await drain();
}, 60_000);

afterAll(async () => {
  await t?.stop();
  await Promise.all(Object.values(receivers).map((r) => r.stop()));
});

// ---------------------------------------------------------------- the story

describe("webhooks: events reach the endpoints of the accounts that may read them, signed", () => {
  it("OWNERs create endpoints and see the whsec_ secret once; the list never shows it", async () => {
    const d = await createEndpoint(D_OWNER, ids.d, receivers.d.url);
    expect(d.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(d.endpoint).toMatchObject({
      accountId: ids.d,
      url: receivers.d.url,
      eventTypes: [],
      status: "ENABLED",
      version: 1,
    });
    endpoints.d = { id: d.endpoint.id, secret: d.secret, previous: "" };
    // The customer's owner takes only order.placed.
    const c = await createEndpoint(C_OWNER, ids.c, receivers.c.url, ["order.placed"]);
    endpoints.c = { id: c.endpoint.id, secret: c.secret };
    const o = await createEndpoint(O_OWNER, ids.o, receivers.o.url);
    endpoints.o = { id: o.endpoint.id, secret: o.secret };
    const listed = await t.account<{ webhookEndpoints: { edges: { node: { id: string; url: string } }[] } }>(
      D_OWNER,
      ids.d,
      "webhookEndpoints { edges { node { id url } } }",
    );
    expect(
      ok<{ webhookEndpoints: { edges: { node: { id: string } }[] } }>(listed).webhookEndpoints.edges.map(
        (e) => e.node.id,
      ),
    ).toEqual([endpoints.d.id]);
  });

  it("order.placed, subscription.changed, equipment.connected, trial.expiring and invoice.issued reach the distributor's receiver, each verified; the customer's gets order.placed only; the other branch none", async () => {
    // An order with a trunk and a 30-day trial (ends 4 November), then one more trunk licence.
    const placed = await t.mutateOk<{
      order: { id: string };
      account: { subscriptions: { edges: { node: { id: string; sku: string; version: number } }[] } };
    }>(
      D_OWNER,
      "placeOrder",
      "PlaceOrderInput",
      {
        accountId: ids.c,
        lines: [
          { sku: TRUNK, quantity: 4 },
          { sku: TRIAL, quantity: 3 },
        ],
        idempotencyKey: "hooks-1",
      },
      "order { id }",
    );
    ids.order = placed.order.id;
    const subs = await t.account<{
      subscriptions: { edges: { node: { id: string; sku: string; version: number } }[] };
    }>(D_OWNER, ids.c, "subscriptions(first: 10) { edges { node { id sku version } } }");
    const trunk = ok<{ subscriptions: { edges: { node: { id: string; sku: string; version: number } }[] } }>(
      subs,
    ).subscriptions.edges.find((e) => e.node.sku === TRUNK)!.node;
    ids.trunkSub = trunk.id;
    await t.mutateOk(
      D_OWNER,
      "updateSubscriptionQuantity",
      "UpdateSubscriptionQuantityInput",
      { subscriptionId: trunk.id, quantity: 5, expectedVersion: trunk.version },
      "subscription { id }",
    );
    // A PBX of the customer pairs itself.
    const pbx = await t.mutateOk<{ deviceId: string; activationCode: string; equipment: { id: string } }>(
      C_OWNER,
      "declareEquipment",
      "DeclareEquipmentInput",
      { accountId: ids.c, name: "Hooks OXO", country: "US", serverType: "OXO_CONNECT", outboundPrefix: "0" },
      "deviceId activationCode equipment { id }",
    );
    const act = await t.device<{ r: Result<unknown> }>(
      null,
      `mutation($d: String!, $c: String!) { r: activateEquipment(deviceId: $d, activationCode: $c) { __typename ${ERR} } }`,
      { d: pbx.deviceId, c: pbx.activationCode },
    );
    expect(act.data?.r).toMatchObject({ __typename: "MutationActivateEquipmentSuccess" });
    // Seven days before the trial ends, the lifecycle run reminds; on the 1st, October is billed.
    await t.setClock("2026-10-28T12:00:00.000Z");
    await t.runJob("lifecycle");
    await t.setClock("2026-11-01T00:05:00.000Z");
    await t.runJob("billing", "2026-10");
    await drain();

    const d = receivers.d.delivered(endpoints.d.secret);
    const byType = (type: string) => d.filter((p) => p.type === type);
    const cGid = ids.c;
    expect(byType("order.placed").map((p) => p.data)).toEqual([
      expect.objectContaining({ accountId: cGid, resourceType: "Order", resourceId: ids.order }),
    ]);
    expect(byType("subscription.changed").map((p) => p.data)).toEqual([
      expect.objectContaining({
        accountId: cGid,
        resourceType: "LicenceSubscription",
        resourceId: trunk.id,
        version: trunk.version + 1,
      }),
    ]);
    expect(byType("equipment.connected").map((p) => p.data)).toEqual([
      expect.objectContaining({ accountId: cGid, resourceType: "Equipment", resourceId: pbx.equipment.id }),
    ]);
    expect(byType("trial.expiring").map((p) => p.data)).toEqual([
      expect.objectContaining({ accountId: cGid, resourceType: "LicenceSubscription" }),
    ]);
    expect(byType("invoice.issued").map((p) => p.data)).toEqual([
      expect.objectContaining({ accountId: ids.d, resourceType: "Invoice" }),
    ]);
    // Each event once (webhook-id = eventId), its global id that of the Event node; thin: no e-mail, no price.
    expect(new Set(d.map((p) => p.data.eventId)).size).toBe(d.length);
    for (const p of d) expect(p.data.id).toBe(globalId("Event", p.data.eventId));
    expect(JSON.stringify(d)).not.toMatch(/@|amount|price/i);
    // The feed and the deliveries agree: the distributor's feed has every delivered event.
    const feed = await t.read<{ events: { edges: { node: { eventId: string } }[] } }>(
      D_OWNER,
      `query($id: ID!) { events(accountId: $id, first: 100) { edges { node { eventId } } } }`,
      { id: ids.d },
    );
    expect(feed.events.edges.map((e) => e.node.eventId)).toEqual(expect.arrayContaining(d.map((p) => p.data.eventId)));

    // The customer's endpoint takes order.placed only.
    expect(receivers.c.delivered(endpoints.c.secret).map((p) => p.type)).toEqual(["order.placed"]);
    // The other distributor's endpoint: nothing of this branch (only its own endpoint's creation).
    const other = receivers.o.delivered(endpoints.o.secret);
    expect(other.map((p) => p.type)).toEqual(["webhookEndpoint.created"]);
    expect(other.every((p) => p.data.accountId === ids.o)).toBe(true);
    // Every request any receiver got verified (none was answered other than 200).
    expect(
      [...receivers.d.requests, ...receivers.c.requests, ...receivers.o.requests].every((r) => r.answered === 200),
    ).toBe(true);
  });

  it("WebhookEndpoint.deliveries lists each attempt: time, status, latency, the body's first 1,024 characters", async () => {
    receivers.d.behaviour = () => ({ status: 200, body: "x".repeat(3000) });
    const sent = await sendTest(D_OWNER, endpoints.d.id);
    await drain();
    receivers.d.behaviour = () => ({ status: 200 });
    const ep = await endpoint(D_OWNER, endpoints.d.id);
    const test = ep.deliveries.edges.map((e) => e.node).find((n) => n.webhookId === sent.webhookId);
    expect(test).toMatchObject({
      eventType: "webhook.test",
      attempt: 1,
      succeeded: true,
      statusCode: 200,
      error: null,
    });
    expect(test!.responseBody).toHaveLength(1024);
    expect(test!.latencyMs).toBeGreaterThanOrEqual(0);
    expect(ep.deliveries.edges.length).toBeGreaterThanOrEqual(6);
  });
});

describe("webhooks: rotation and redelivery", () => {
  it("after a rotation, deliveries carry two signatures for 24 hours: the previous secret and the new one each verify", async () => {
    const rotated = await t.mutateOk<{ secret: string; endpoint: Endpoint }>(
      D_OWNER,
      "rotateWebhookSecret",
      "WebhookEndpointRefInput",
      { endpointId: endpoints.d.id },
      `secret endpoint { ${ENDPOINT} }`,
    );
    expect(rotated.secret).not.toBe(endpoints.d.secret);
    expect(rotated.endpoint.previousSecretValidUntil).not.toBeNull();
    const before = receivers.d.requests.length;
    const sent = await sendTest(D_OWNER, endpoints.d.id);
    await drain();
    const request = receivers.d.requests.slice(before).find((r) => r.headers["webhook-id"] === sent.webhookId)!;
    expect(String(request.headers["webhook-signature"]).split(" ")).toHaveLength(2);
    const headers = {
      "webhook-id": sent.webhookId,
      "webhook-timestamp": String(request.headers["webhook-timestamp"]),
      "webhook-signature": String(request.headers["webhook-signature"]),
    };
    expect(new Webhook(endpoints.d.secret).verify(request.body, headers)).toMatchObject({ type: "webhook.test" });
    expect(new Webhook(rotated.secret).verify(request.body, headers)).toMatchObject({ type: "webhook.test" });
    expect(() =>
      new Webhook(`whsec_${Buffer.alloc(32, 7).toString("base64")}`).verify(request.body, headers),
    ).toThrow();
    endpoints.d = { ...endpoints.d, secret: rotated.secret, previous: endpoints.d.secret };
  });

  it("redeliverEvent sends an event again with the same webhook-id; an event of another branch is NOT_FOUND", async () => {
    const all = receivers.d.delivered(endpoints.d.secret, endpoints.d.previous);
    const placed = all.find((p) => p.type === "order.placed")!;
    const before = receivers.d.requests.length;
    const again = await t.mutateOk<{ webhookId: string }>(
      D_OWNER,
      "redeliverEvent",
      "RedeliverEventInput",
      { endpointId: endpoints.d.id, eventId: placed.data.id },
      "webhookId",
    );
    expect(again.webhookId).toBe(placed.data.eventId);
    await drain();
    const redelivered = receivers.d.requests
      .slice(before)
      .filter((r) => r.headers["webhook-id"] === placed.data.eventId);
    expect(redelivered).toHaveLength(1);
    // By its webhook-id too, as a receiver has it.
    await t.mutateOk(
      D_OWNER,
      "redeliverEvent",
      "RedeliverEventInput",
      { endpointId: endpoints.d.id, eventId: placed.data.eventId },
      "webhookId",
    );
    // The other branch's event (its endpoint's creation) is unknown to the distributor's endpoint, like a made-up id.
    const foreign = receivers.o.delivered(endpoints.o.secret)[0]!;
    const r = await t.mutate(
      D_OWNER,
      "redeliverEvent",
      "RedeliverEventInput",
      { endpointId: endpoints.d.id, eventId: foreign.data.id },
      "webhookId",
    );
    const unknown = await t.mutate(
      D_OWNER,
      "redeliverEvent",
      "RedeliverEventInput",
      { endpointId: endpoints.d.id, eventId: globalId("Event", "evt_00000000000000000000000000000000") },
      "webhookId",
    );
    expectError(r, "NotFoundError", "Event not found");
    expectError(unknown, "NotFoundError", "Event not found");
    // The customer's endpoint does not take subscription.changed.
    const changed = all.find((p) => p.type === "subscription.changed")!;
    expectError(
      await t.mutate(
        C_OWNER,
        "redeliverEvent",
        "RedeliverEventInput",
        { endpointId: endpoints.c.id, eventId: changed.data.id },
        "webhookId",
      ),
      "ConflictError",
    );
    await drain();
  });
});

describe("webhooks: retries, timeouts, disabling", () => {
  /** An endpoint of the distributor for test events only (it takes no event type that happens here). */
  const quietEndpoint = async (receiver: Receiver) => {
    const created = await createEndpoint(D_OWNER, ids.d, receiver.url, ["usage.recorded"]);
    return { id: created.endpoint.id, secret: created.secret };
  };

  it("a receiver down for 3 attempts, then up: delivered once, every attempt with the same webhook-id", async () => {
    const r = await new Receiver().start();
    try {
      r.behaviour = (n) => (n <= 3 ? "drop" : { status: 200 });
      const { id, secret } = await quietEndpoint(r);
      const sent = await sendTest(D_OWNER, id);
      await until(
        "the fourth attempt",
        () => r.requests.length,
        (n) => n >= 4,
        20_000,
      );
      await drain();
      expect(r.requests.map((q) => q.answered)).toEqual(["dropped", "dropped", "dropped", 200]);
      expect(new Set(r.requests.map((q) => q.headers["webhook-id"]))).toEqual(new Set([sent.webhookId]));
      expect(r.delivered(secret)).toHaveLength(1);
      const attempts = (await endpoint(D_OWNER, id)).deliveries.edges.map((e) => e.node).reverse();
      expect(attempts.map((a) => [a.attempt, a.succeeded, a.statusCode])).toEqual([
        [1, false, null],
        [2, false, null],
        [3, false, null],
        [4, true, 200],
      ]);
      expect(attempts.slice(0, 3).every((a) => a.error !== null)).toBe(true);
      // A success ends the run of failures.
      expect((await endpoint(D_OWNER, id)).failingSince).toBeNull();
    } finally {
      await r.stop();
    }
  });

  it(`an answer slower than the timeout (${TIMEOUT_MS} ms here, 10 s deployed) is a failed attempt, retried`, async () => {
    const r = await new Receiver().start();
    try {
      r.behaviour = (n) => (n === 1 ? { status: 200, delayMs: TIMEOUT_MS * 4 } : { status: 200 });
      const { id } = await quietEndpoint(r);
      await sendTest(D_OWNER, id);
      await until(
        "the second attempt",
        () => r.requests.length,
        (n) => n >= 2,
      );
      await drain();
      const attempts = (await endpoint(D_OWNER, id)).deliveries.edges.map((e) => e.node).reverse();
      expect(attempts.map((a) => [a.attempt, a.succeeded])).toEqual([
        [1, false],
        [2, true],
      ]);
      expect(attempts[0]!.error).toBe(`timed out after ${TIMEOUT_MS} ms`);
      expect(attempts[0]!.latencyMs).toBeGreaterThanOrEqual(TIMEOUT_MS - 5);
    } finally {
      await r.stop();
    }
  });

  it("410 Gone disables the endpoint at once and mails the account's owners; nothing more is sent to it", async () => {
    const r = await new Receiver().start();
    try {
      r.behaviour = () => ({ status: 410 });
      const { id } = await quietEndpoint(r);
      const mails = async () =>
        (
          (await (await fetch(`${t.url}/dev/outbox`)).json()) as {
            messages: { to: string; subject: string; text: string }[];
          }
        ).messages;
      const before = (await mails()).length;
      await sendTest(D_OWNER, id);
      await until(
        "the endpoint disabled",
        () => endpoint(D_OWNER, id),
        (e) => e.status === "DISABLED",
      );
      await drain();
      const ep = await endpoint(D_OWNER, id);
      expect(ep).toMatchObject({ status: "DISABLED", disabledReason: "the endpoint answered 410 Gone" });
      expect(r.requests).toHaveLength(1);
      const sent = (await mails()).slice(before).filter((m) => m.subject === "A webhook endpoint was disabled");
      expect(sent.map((m) => m.to)).toEqual([D_OWNER]);
      expect(sent[0]!.text).toContain(r.url);
      // The change is an event too, in the distributor's feed.
      const feed = await t.read<{ events: { edges: { node: { resourceId: string } }[] } }>(
        D_OWNER,
        `query($id: ID!) { events(accountId: $id, types: ["webhookEndpoint.disabled"], first: 10) { edges { node { resourceId } } } }`,
        { id: ids.d },
      );
      expect(feed.events.edges.map((e) => e.node.resourceId)).toContain(id);
      // A disabled endpoint takes no test; enabled again, it does.
      expectError(
        await t.mutate(D_OWNER, "sendTestEvent", "WebhookEndpointRefInput", { endpointId: id }, "webhookId"),
        "ConflictError",
      );
      r.behaviour = () => ({ status: 204 });
      const enabled = await t.mutateOk<{ endpoint: Endpoint }>(
        D_OWNER,
        "updateWebhookEndpoint",
        "UpdateWebhookEndpointInput",
        { endpointId: id, enabled: true },
        `endpoint { ${ENDPOINT} }`,
      );
      expect(enabled.endpoint).toMatchObject({ status: "ENABLED", disabledReason: null, failingSince: null });
      await sendTest(D_OWNER, id);
      await drain();
      expect(r.requests.map((q) => q.answered)).toEqual([410, 204]);
    } finally {
      await r.stop();
    }
  });
});

describe("webhooks: rights and bad input", () => {
  const CREATE = `mutation($input: CreateWebhookEndpointInput!) { r: createWebhookEndpoint(input: $input) { __typename ... on MutationCreateWebhookEndpointSuccess { data { secret endpoint { id } } } ${ERR} } }`;
  const clientToken = async (role: string) => {
    const created = await t.mutateOk<{ clientSecret: string; client: { clientId: string } }>(
      D_OWNER,
      "createApiClient",
      "CreateApiClientInput",
      { accountId: ids.d, name: `Hooks ${role}`, role, seller: false },
      "clientSecret client { clientId }",
    );
    const res = await fetch(`${t.url}/oauth/token`, {
      method: "POST",
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        authorization: `Basic ${Buffer.from(`${created.client.clientId}:${created.clientSecret}`).toString("base64")}`,
      },
      body: "grant_type=client_credentials",
    });
    expect(res.status).toBe(200);
    return ((await res.json()) as { access_token: string }).access_token;
  };

  it("another branch's endpoints and accounts are NOT_FOUND, exactly like unknown ids; node(id) is null", async () => {
    const unknownEndpoint = globalId(
      "WebhookEndpoint",
      `${Buffer.from(ids.d, "base64").toString().split(":")[1]}:01ZZZZZZZZZZZZZZZZZZZZZZZZ`,
    );
    for (const [field, input] of [
      ["updateWebhookEndpoint", "UpdateWebhookEndpointInput"],
      ["deleteWebhookEndpoint", "WebhookEndpointRefInput"],
      ["rotateWebhookSecret", "WebhookEndpointRefInput"],
      ["sendTestEvent", "WebhookEndpointRefInput"],
    ] as const) {
      const foreign = await t.mutate(O_OWNER, field, input, { endpointId: endpoints.d.id }, "__typename");
      const unknown = await t.mutate(O_OWNER, field, input, { endpointId: unknownEndpoint }, "__typename");
      expectError(foreign, "NotFoundError", "WebhookEndpoint not found");
      expectError(unknown, "NotFoundError", "WebhookEndpoint not found");
    }
    expectError(
      await t.mutate(
        O_OWNER,
        "redeliverEvent",
        "RedeliverEventInput",
        { endpointId: endpoints.d.id, eventId: globalId("Event", "evt_00000000000000000000000000000000") },
        "webhookId",
      ),
      "NotFoundError",
      "WebhookEndpoint not found",
    );
    expectError(
      await t.mutate(
        O_OWNER,
        "createWebhookEndpoint",
        "CreateWebhookEndpointInput",
        { accountId: ids.d, url: receivers.o.url },
        "secret",
      ),
      "NotFoundError",
      "Account not found",
    );
    // The customer's owner cannot see its distributor either.
    expectError(
      await t.mutate(
        C_OWNER,
        "createWebhookEndpoint",
        "CreateWebhookEndpointInput",
        { accountId: ids.d, url: receivers.c.url },
        "secret",
      ),
      "NotFoundError",
    );
    expect(
      (await t.read<{ node: unknown }>(O_OWNER, "query($id: ID!) { node(id: $id) { id } }", { id: endpoints.d.id }))
        .node,
    ).toBeNull();
    const delivery = (await endpoint(D_OWNER, endpoints.d.id)).deliveries.edges[0]!.node.id;
    expect(
      (await t.read<{ node: unknown }>(O_OWNER, "query($id: ID!) { node(id: $id) { id } }", { id: delivery })).node,
    ).toBeNull();
    expect(
      (
        await t.read<{ node: { id: string } | null }>(D_OWNER, "query($id: ID!) { node(id: $id) { id } }", {
          id: delivery,
        })
      ).node?.id,
    ).toBe(delivery);
  });

  it("only the account's own OWNERs manage its endpoints: a VIEWER, the operator above and a seller above a customer are FORBIDDEN", async () => {
    expectError(
      await t.mutate(
        D_VIEWER,
        "createWebhookEndpoint",
        "CreateWebhookEndpointInput",
        { accountId: ids.d, url: receivers.d.url },
        "secret",
      ),
      "ForbiddenError",
    );
    expectError(
      await t.mutate(
        OPERATOR,
        "createWebhookEndpoint",
        "CreateWebhookEndpointInput",
        { accountId: ids.d, url: receivers.d.url },
        "secret",
      ),
      "ForbiddenError",
    );
    expectError(
      await t.mutate(
        D_OWNER,
        "rotateWebhookSecret",
        "WebhookEndpointRefInput",
        { endpointId: endpoints.c.id },
        "secret",
      ),
      "ForbiddenError",
    );
    expectError(
      await t.mutate(
        D_VIEWER,
        "deleteWebhookEndpoint",
        "WebhookEndpointRefInput",
        { endpointId: endpoints.d.id },
        "endpoint { id }",
      ),
      "ForbiddenError",
    );
    // The list too: the field answers FORBIDDEN to a VIEWER (and the account itself is still theirs to read).
    const viewerList = await t.gql(
      D_VIEWER,
      `query($id: ID!) { account(id: $id) { ... on QueryAccountSuccess { data { name webhookEndpoints { edges { node { id } } } } } } }`,
      { id: ids.d },
    );
    expect(viewerList.errors?.map((e) => [e.extensions?.code, e.path?.at(-1)])).toEqual([
      ["FORBIDDEN", "webhookEndpoints"],
    ]);
  });

  it("API clients: an OWNER client manages endpoints; its endpoint gets only what the client reads (its own account: no seller flag); a CONTRIBUTOR client is FORBIDDEN", async () => {
    const contributor = await clientToken("CONTRIBUTOR");
    const refused = await t.device<{ r: Result<unknown> }>(contributor, CREATE, {
      input: { accountId: ids.d, url: receivers.d.url },
    });
    expectError(refused.data!.r, "ForbiddenError");
    const owner = await clientToken("OWNER");
    const r = await new Receiver().start();
    try {
      const created = await t.device<{ r: Result<{ secret: string; endpoint: { id: string } }> }>(owner, CREATE, {
        input: { accountId: ids.d, url: r.url, eventTypes: ["account.updated", "order.placed"] },
      });
      const { secret } = ok<{ secret: string; endpoint: { id: string } }>(created.data!.r);
      await drain();
      // The distributor's own change reaches it; an order of the customer below does not (the client is no seller).
      await t.mutateOk(
        D_OWNER,
        "updateAccount",
        "UpdateAccountInput",
        { id: ids.d, reference: "CRM-HOOKS" },
        "account { id }",
      );
      await t.mutateOk(
        D_OWNER,
        "placeOrder",
        "PlaceOrderInput",
        { accountId: ids.c, lines: [{ sku: TRUNK, quantity: 1 }], idempotencyKey: "hooks-client" },
        "order { id }",
      );
      await drain();
      const got = r.delivered(secret);
      expect(got.map((p) => [p.type, p.data.accountId])).toEqual([["account.updated", ids.d]]);
      // The person owner's endpoint (a seller) got the customer's order.
      expect(
        new Set(
          receivers.d
            .delivered(endpoints.d.secret, endpoints.d.previous)
            .filter((p) => p.type === "order.placed")
            .map((p) => p.data.eventId),
        ).size,
      ).toBe(2);
    } finally {
      await r.stop();
    }
  });

  it("bad input is a ValidationError naming the field, and nothing is written", async () => {
    const look = async () => [
      await t.account(
        D_OWNER,
        ids.d,
        "webhookEndpoints { edges { node { id url version } } } history(first: 5) { edges { node { action } } }",
      ),
      await endpoint(D_OWNER, endpoints.d.id),
    ];
    await expectUnchanged(look, async () => {
      const create = (input: Record<string, unknown>) =>
        t.mutate(
          D_OWNER,
          "createWebhookEndpoint",
          "CreateWebhookEndpointInput",
          { accountId: ids.d, url: receivers.d.url, ...input },
          "secret",
        );
      expectInvalid(await create({ url: "not a url" }), ["url"], "must be an absolute URL");
      expectInvalid(await create({ url: "ftp://example.com/x" }), ["url"], "must be an http or https URL");
      // Loopback is allowed locally (to run a receiver here); private and metadata addresses never.
      expectInvalid(await create({ url: "http://10.0.0.8/hook" }), ["url"], "10.0.0.8 is a private address");
      expectInvalid(
        await create({ url: "http://169.254.169.254/latest/meta-data" }),
        ["url"],
        "169.254.169.254 is a linkLocal address",
      );
      expectInvalid(
        await create({ url: "http://[::ffff:a9fe:a9fe]/" }),
        ["url"],
        "169.254.169.254 is a linkLocal address",
      );
      expectInvalid(await create({ url: "https://user:pw@example.com/" }), ["url"], "must not contain credentials");
      expectInvalid(
        await create({ eventTypes: ["order.placed", "order.nope"] }),
        ["eventTypes", "1"],
        'unknown event type "order.nope"',
      );
      expectInvalid(await create({ description: "evil\u202eoverride" }), ["description"]);
      const update = (input: Record<string, unknown>) =>
        t.mutate(
          D_OWNER,
          "updateWebhookEndpoint",
          "UpdateWebhookEndpointInput",
          { endpointId: endpoints.d.id, ...input },
          "endpoint { id }",
        );
      expectInvalid(await update({ url: "http://192.168.0.1/" }), ["url"], "192.168.0.1 is a private address");
      expectInvalid(await update({ eventTypes: ["nope"] }), ["eventTypes", "0"]);
      expectError(await update({ expectedVersion: 999 }), "ConflictError");
    });
  });
});

describe("webhooks: exactly one delivery per event through crashes; five days of failures", () => {
  it("a stream consumer that crashes after fanning out is replayed: the copies it queued again deliver nothing twice", async () => {
    const r = await new Receiver().start();
    try {
      const { secret } = await createEndpoint(C_OWNER, ids.c, r.url, ["order.placed", "subscription.changed"]);
      await drain();
      const failures = t.stack.events.stats.failures;
      const copies = () =>
        (t.stack.webhooks.stats.outcomes["done:duplicate"] ?? 0) + (t.stack.webhooks.stats.outcomes.retry ?? 0);
      const copiesBefore = copies();
      // The crash comes after the batch that holds the order's events was handled (fanned out), before its position moved.
      t.stack.events.failNext(1, {
        afterHandling: true,
        only: (records) => records.some((rec) => derive(rec).some((ev) => ev.type === "order.placed")),
      });
      await t.mutateOk(
        D_OWNER,
        "placeOrder",
        "PlaceOrderInput",
        { accountId: ids.c, lines: [{ sku: TRUNK, quantity: 2 }], idempotencyKey: "hooks-crash" },
        "order { id }",
      );
      await drain();
      expect(t.stack.events.stats.failures - failures).toBe(1);
      // The crashed batch's events were queued twice (order.placed at least: the subscription's may be in
      // another shard's batch); each second copy found its event delivered (or being delivered) and sent nothing.
      expect(copies() - copiesBefore).toBeGreaterThanOrEqual(1);
      const got = r.delivered(secret);
      expect(got.map((p) => p.type).sort()).toEqual(["order.placed", "subscription.changed"]);
      expect(r.requests).toHaveLength(2);
      // And the feed holds each event once.
      const feed = await t.read<{ events: { edges: { node: { eventId: string } }[] } }>(
        C_OWNER,
        `query($id: ID!) { events(accountId: $id, first: 100) { edges { node { eventId } } } }`,
        { id: ids.c },
      );
      const eventIds = feed.events.edges.map((e) => e.node.eventId);
      expect(new Set(eventIds).size).toBe(eventIds.length);
    } finally {
      await r.stop();
    }
  });

  it("two copies of one delivery queued at once (one batch or two): one POST; the other copy waits and sends nothing", async () => {
    const r = await new Receiver().start();
    try {
      const created = await createEndpoint(D_OWNER, ids.d, r.url, ["usage.recorded"]);
      await drain();
      const [, accountId, endpointId] = Buffer.from(created.endpoint.id, "base64").toString("utf8").split(":");
      const copy = JSON.stringify({
        v: 1,
        accountId,
        endpointId,
        eventId: "evt_two_copies",
        test: { occurredAt: new Date().toISOString() },
      });
      const held = t.stack.webhooks.stats.outcomes.retry ?? 0;
      // Act: both copies in one SendMessageBatch, so a poller takes them in one receive.
      await new SqsWorkQueue(t.stack.jobs.sqs, t.stack.jobs.webhookUrls.queue).send([copy, copy]);
      await drain();
      // Assess
      expect(r.delivered(created.secret).map((p) => p.data.eventId)).toEqual(["evt_two_copies"]);
      expect(r.requests).toHaveLength(1);
      expect((t.stack.webhooks.stats.outcomes.retry ?? 0) - held).toBe(1);
    } finally {
      await r.stop();
    }
  });

  it("an endpoint failing for five days is disabled at its next failed attempt, and its owners are mailed", async () => {
    const r = await new Receiver().start();
    try {
      r.behaviour = () => ({ status: 503 });
      const created = await createEndpoint(D_OWNER, ids.d, r.url, ["usage.recorded"]);
      await sendTest(D_OWNER, created.endpoint.id);
      const failing = await until(
        "the first failure",
        () => endpoint(D_OWNER, created.endpoint.id),
        (e) => e.failingSince !== null,
      );
      // Five days and a minute later (the stack's clock), the retries still fail: disabled.
      await t.setClock(new Date(Date.parse(failing.failingSince!) + 5 * 86_400_000 + 60_000));
      const disabled = await until(
        "the endpoint disabled",
        () => endpoint(D_OWNER, created.endpoint.id),
        (e) => e.status === "DISABLED",
        20_000,
      );
      expect(disabled.disabledReason).toBe(`every delivery failed since ${failing.failingSince}`);
      await drain();
      const attempts = r.requests.length;
      expect(attempts).toBeGreaterThanOrEqual(2);
      expect(attempts).toBeLessThan(9);
      const mails = (
        (await (await fetch(`${t.url}/dev/outbox`)).json()) as { messages: { to: string; text: string }[] }
      ).messages;
      expect(mails.filter((m) => m.to === D_OWNER && m.text.includes(r.url))).toHaveLength(1);
    } finally {
      await r.stop();
    }
  });
});

describe("webhooks: the README's receiver", () => {
  it("runs as printed: it verifies and logs a delivery, and refuses a forged one", async () => {
    const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");
    const block = /```js\n((?:[ ]*)\/\/ receiver\.mjs\n[\s\S]*?)```/.exec(readme)?.[1];
    expect(block, "the receiver block of README.md").toBeDefined();
    const indent = /^[ ]*/.exec(block!)![0].length;
    const code = block!
      .split("\n")
      .map((l) => l.slice(indent))
      .join("\n");
    // Beside node_modules, so `standardwebhooks` resolves as in an integrator's project.
    const dir = new URL("../node_modules/.cache/webhooks-readme/", import.meta.url);
    mkdirSync(dir, { recursive: true });
    const file = new URL("receiver.mjs", dir);
    writeFileSync(file, code);
    const port = await freePort();
    const created = await createEndpoint(D_OWNER, ids.d, `http://127.0.0.1:${port}/`, ["usage.recorded"]);
    const child = spawn(process.execPath, [fileURLToPath(file)], {
      env: { ...process.env, WEBHOOK_SECRET: created.secret, PORT: String(port) },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout.on("data", (c: Buffer) => (out += c.toString()));
    try {
      await until(
        "the receiver listening",
        () =>
          fetch(`http://127.0.0.1:${port}/`, { method: "POST", body: "{}" }).then(
            (r) => r.status,
            () => 0,
          ),
        (status) => status === 400,
      );
      const sent = await sendTest(D_OWNER, created.endpoint.id);
      await until(
        "the receiver's log line",
        () => out,
        (o) => o.includes("webhook.test"),
      );
      await drain();
      const attempt = (await endpoint(D_OWNER, created.endpoint.id)).deliveries.edges
        .map((e) => e.node)
        .find((d) => d.webhookId === sent.webhookId);
      expect(attempt).toMatchObject({ succeeded: true, statusCode: 204 });
      expect(out.trim().split("\n")).toEqual([`webhook.test ${created.endpoint.id}`]);
      // A delivery signed with another secret is refused.
      const forged = await fetch(`http://127.0.0.1:${port}/`, {
        method: "POST",
        headers: {
          "webhook-id": sent.webhookId,
          "webhook-timestamp": String(Math.floor(Date.now() / 1000)),
          "webhook-signature": "v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        },
        body: "{}",
      });
      expect(forged.status).toBe(400);
    } finally {
      child.kill();
    }
  });
});

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}
