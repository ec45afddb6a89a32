import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OPERATOR, PLATFORM, startTestStack } from "./harness.js";
import type { TestStack } from "./harness.js";

/**
 * Events from the change stream over HTTP: each mutation's committed audit/ledger item
 * becomes a thin event through DynamoDB Local's stream and the same consumer the Lambda runs; the
 * `events` feed shows an account's own events, its subtree's to sellers, nothing across branches;
 * a crashing consumer is retried without duplicate event ids.
 */
describe("events: the change stream and the feed", () => {
  let t: TestStack;
  const D_OWNER = "owner@dist-events.example";
  const D_VIEWER = "viewer@dist-events.example";
  const C_OWNER = "owner@cust-events.example";
  const O_OWNER = "owner@other-events.example";
  const TRUNK = "RC-DRAAS-TRUNK-SUB";
  const ids = { d: "", c: "", o: "", order: "" };

  interface Ev {
    id: string;
    eventId: string;
    type: string;
    accountId: string;
    resourceId: string;
    resourceType: string;
    version: number | null;
    occurredAt: string;
  }
  const EVENTS = `query($id: ID!, $types: [String!], $first: Int, $after: String) { events(accountId: $id, types: $types, first: $first, after: $after) { edges { cursor node { id eventId type accountId resourceId resourceType version occurredAt } } pageInfo { hasNextPage } } }`;
  const drain = async () => {
    const res = await fetch(`${t.url}/dev/events/drain`, { method: "POST", headers: { "content-length": "0" } });
    expect(res.status).toBe(200);
  };
  const events = async (as: string, id: string, types?: string[]) => {
    const r = await t.gql<{ events: { edges: { node: Ev }[] } }>(as, EVENTS, {
      id,
      first: 100,
      ...(types ? { types } : {}),
    });
    return r;
  };
  const eventsOk = async (as: string, id: string, types?: string[]) => {
    const r = await events(as, id, types);
    expect(r.errors, JSON.stringify(r.errors)).toBeUndefined();
    return r.data!.events.edges.map((e) => e.node);
  };

  beforeAll(async () => {
    t = await startTestStack();
    await t.setClock("2026-11-02T09:00:00.000Z");
    ids.d = (
      await t.mutateOk<{ account: { id: string } }>(
        OPERATOR,
        "createAccount",
        "CreateAccountInput",
        {
          parentId: PLATFORM,
          kind: "DISTRIBUTOR",
          name: "Dist Events",
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
      { accountId: ids.d, skus: [TRUNK] },
      "account { id }",
    );
    ids.c = (
      await t.mutateOk<{ account: { id: string } }>(
        D_OWNER,
        "createAccount",
        "CreateAccountInput",
        { parentId: ids.d, kind: "CUSTOMER", name: "Cust Events", country: "US", owner: { email: C_OWNER } },
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
          name: "Other Events",
          country: "US",
          currency: "USD",
          owner: { email: O_OWNER },
        },
        "account { id }",
      )
    ).account.id;
    await t.accept(O_OWNER);
    ids.order = (
      await t.mutateOk<{ order: { id: string } }>(
        D_OWNER,
        "placeOrder",
        "PlaceOrderInput",
        { accountId: ids.c, lines: [{ sku: TRUNK, quantity: 4 }], idempotencyKey: "events-1" },
        "order { id }",
      )
    ).order.id;
    await drain();
  });
  afterAll(async () => {
    await t?.stop();
  });

  it("an order gives order.placed and subscription.created for the customer, thin: ids, type, version, no price or e-mail", async () => {
    const own = await eventsOk(C_OWNER, ids.c);
    const types = own.map((e) => e.type);
    expect(types).toEqual(
      expect.arrayContaining(["account.created", "member.joined", "order.placed", "subscription.created"]),
    );
    const placed = own.find((e) => e.type === "order.placed")!;
    expect(placed).toMatchObject({ accountId: ids.c, resourceId: ids.order, resourceType: "Order" });
    const created = own.find((e) => e.type === "subscription.created")!;
    expect(created).toMatchObject({ resourceType: "LicenceSubscription", version: 1 });
    const text = JSON.stringify(own);
    expect(text).not.toContain("@");
    expect(text).not.toMatch(/amount|price/i);
    // node(id) answers the event to whoever's feed shows it, and nothing to another branch.
    const node = await t.read<{ node: { eventId: string } | null }>(
      C_OWNER,
      "query($id: ID!) { node(id: $id) { ... on Event { eventId } } }",
      { id: placed.id },
    );
    expect(node.node?.eventId).toBe(placed.eventId);
    const foreign = await t.read<{ node: unknown }>(O_OWNER, "query($id: ID!) { node(id: $id) { id } }", {
      id: placed.id,
    });
    expect(foreign.node).toBeNull();
  });

  it("the distributor's seller owner sees its subtree's events in its own feed; a non-seller member only the distributor's own", async () => {
    const seller = await eventsOk(D_OWNER, ids.d);
    expect(seller.some((e) => e.type === "order.placed" && e.accountId === ids.c)).toBe(true);
    const viewer = await eventsOk(D_VIEWER, ids.d);
    expect(viewer.length).toBeGreaterThan(0);
    expect(viewer.every((e) => e.accountId === ids.d)).toBe(true);
    // The seller reads the customer's feed directly too.
    expect((await eventsOk(D_OWNER, ids.c)).some((e) => e.type === "order.placed")).toBe(true);
  });

  it("types filter the feed; an unknown type is a validation error", async () => {
    const only = await eventsOk(D_OWNER, ids.d, ["order.placed"]);
    expect(only.length).toBeGreaterThan(0);
    expect(only.every((e) => e.type === "order.placed")).toBe(true);
    const bad = await events(D_OWNER, ids.d, ["order.nope"]);
    expect(bad.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
  });

  it("another branch's feed is NOT_FOUND, exactly like an unknown account", async () => {
    const foreign = await events(O_OWNER, ids.c);
    const unknown = await events(O_OWNER, Buffer.from("Account:01UNKNOWNUNKNOWNUNKNOWN000").toString("base64"));
    expect(foreign.errors?.[0]?.extensions?.code).toBe("NOT_FOUND");
    expect(foreign.errors?.[0]?.message).toBe(unknown.errors?.[0]?.message);
    expect((await eventsOk(O_OWNER, ids.o)).every((e) => e.accountId === ids.o)).toBe(true);
    // And the customer's owner does not see its distributor's feed.
    expect((await events(C_OWNER, ids.d)).errors?.[0]?.extensions?.code).toBe("NOT_FOUND");
  });

  it("a consumer crash: the batch is read again and no event id appears twice", async () => {
    t.stack.events.failNext(2);
    const before = t.stack.events.stats.failures;
    await t.mutateOk(
      D_OWNER,
      "placeOrder",
      "PlaceOrderInput",
      { accountId: ids.c, lines: [{ sku: TRUNK, quantity: 1 }], idempotencyKey: "events-2" },
      "order { id }",
    );
    await drain();
    expect(t.stack.events.stats.failures - before).toBe(2);
    const all = await eventsOk(D_OWNER, ids.c);
    expect(all.filter((e) => e.type === "order.placed")).toHaveLength(2);
    expect(all.filter((e) => e.type === "subscription.changed")).toHaveLength(1);
    expect(new Set(all.map((e) => e.eventId)).size).toBe(all.length);
  });

  it("a PBX whose fifth evaluated code is wrong gives one equipment.locked; later refusals and a right code do not add one", async () => {
    const declared = await t.mutateOk<{ deviceId: string; activationCode: string; equipment: { id: string } }>(
      C_OWNER,
      "declareEquipment",
      "DeclareEquipmentInput",
      { accountId: ids.c, name: "Locking OXO", serverType: "OXO_CONNECT", country: "US" },
      "deviceId activationCode equipment { id }",
    );
    const activate = (code: string) =>
      t.device(
        null,
        `mutation A($d: String!, $c: String!) { r: activateEquipment(deviceId: $d, activationCode: $c) { __typename } }`,
        { d: declared.deviceId, c: code },
      );
    const wrong = (i: number) => String((Number(declared.activationCode) + 1 + i) % 10 ** 8).padStart(8, "0");
    // Four wrong codes: not locked yet.
    for (let i = 0; i < 4; i++) await activate(wrong(i));
    await drain();
    expect(await eventsOk(C_OWNER, ids.c, ["equipment.locked"])).toEqual([]);
    // The fifth wrong one locks it; three more (and then the right code) are refused without a second event.
    for (let i = 4; i < 8; i++) await activate(wrong(i));
    await activate(declared.activationCode);
    await drain();
    const locked = await eventsOk(C_OWNER, ids.c, ["equipment.locked"]);
    expect(locked).toMatchObject([
      { type: "equipment.locked", resourceType: "Equipment", resourceId: declared.equipment.id, accountId: ids.c },
    ]);
    // The distributor's seller owner sees it in its subtree feed too.
    expect((await eventsOk(D_OWNER, ids.d, ["equipment.locked"])).map((e) => e.eventId)).toEqual([locked[0]!.eventId]);
  });

  it("paging: first/after walk the feed without repeating an event", async () => {
    const seen: string[] = [];
    let after: string | undefined;
    for (let i = 0; i < 50; i++) {
      const r = await t.read<{ events: { edges: { cursor: string; node: Ev }[]; pageInfo: { hasNextPage: boolean } } }>(
        D_OWNER,
        EVENTS,
        { id: ids.d, first: 2, ...(after ? { after } : {}) },
      );
      seen.push(...r.events.edges.map((e) => e.node.eventId));
      if (!r.events.pageInfo.hasNextPage) break;
      after = r.events.edges.at(-1)!.cursor;
    }
    const all = await eventsOk(D_OWNER, ids.d);
    expect(seen).toEqual(all.map((e) => e.eventId));
  });
  it("a PBX whose heartbeats stop gives equipment.disconnected once (the liveness sweep); its next heartbeat equipment.connected", async () => {
    const pbx = await t.pairEquipment(C_OWNER, {
      accountId: ids.c,
      name: "Silent OXO",
      serverType: "OXO_CONNECT",
      country: "US",
    });
    const heartbeat = async () => {
      const r = await t.device<{ r: { __typename: string } }>(
        pbx.credential,
        `mutation H { r: equipmentHeartbeat { __typename } }`,
        {},
      );
      expect(r.data?.r.__typename).toBe("MutationEquipmentHeartbeatSuccess");
    };
    const of = (evs: Ev[]) => evs.filter((e) => e.resourceId === pbx.equipmentId);
    const T0 = "2026-11-03T10:00:00.000Z";
    await t.setClock(T0);
    await heartbeat();
    // Within the 10 minutes: the sweep marks nothing.
    await t.setClock("2026-11-03T10:09:00.000Z");
    await t.runJob("liveness");
    await drain();
    expect(of(await eventsOk(C_OWNER, ids.c, ["equipment.disconnected"]))).toEqual([]);
    // Silent for 11 minutes: one equipment.disconnected, at the heartbeat + 10 minutes; a second sweep adds none.
    await t.setClock("2026-11-03T10:11:00.000Z");
    expect(await t.runJob("liveness")).toMatchObject({ job: "liveness", deadLettered: 0 });
    await t.runJob("liveness");
    await drain();
    const down = of(await eventsOk(C_OWNER, ids.c, ["equipment.disconnected"]));
    expect(down).toHaveLength(1);
    expect(down[0]).toMatchObject({ type: "equipment.disconnected", accountId: ids.c });
    expect(Date.parse(down[0]!.occurredAt) - Date.parse(T0)).toBeGreaterThanOrEqual(10 * 60_000);
    expect(Date.parse(down[0]!.occurredAt) - Date.parse(T0)).toBeLessThan(10 * 60_000 + 5_000);
    // The distributor's seller owner sees it in its subtree feed too.
    expect(of(await eventsOk(D_OWNER, ids.d, ["equipment.disconnected"])).map((e) => e.eventId)).toEqual([
      down[0]!.eventId,
    ]);
    // Back: the next heartbeat gives equipment.connected (the activation gave the first).
    await heartbeat();
    await drain();
    const up = of(await eventsOk(C_OWNER, ids.c, ["equipment.connected"]));
    expect(up).toHaveLength(2);
    expect(Date.parse(up.at(-1)!.occurredAt)).toBeGreaterThanOrEqual(Date.parse("2026-11-03T10:11:00.000Z"));
    // Silent again past the timeout: a sweep that comes late (runs were missed) still marks the second outage.
    await t.setClock("2026-11-03T11:30:00.000Z");
    await t.runJob("liveness");
    await drain();
    expect(of(await eventsOk(C_OWNER, ids.c, ["equipment.disconnected"]))).toHaveLength(2);
  });
});
