import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OPERATOR, PLATFORM, mutationDocument, startTestStack } from "./harness.js";
import type { GraphQLResponse, Result, Success, TestStack, TypedError } from "./harness.js";

/**
 * Commerce under concurrency, over HTTP: licences never overshoot a subscription's quantity,
 * quantity changes are optimistic (one winner per version), and placeOrder is idempotent per key,
 * whether a key is replayed one request after another or many at once.
 */
describe("commerce under concurrency: licences, optimistic quantities, idempotent orders", () => {
  let t: TestStack;
  const DIST_OWNER = "owner@distributor-cc.example";
  const CUST_OWNER = "owner@customer-cc.example";
  const TRUNK = "RC-DRAAS-TRUNK-SUB";
  const PBX = "RC-DRAAS-PBX-SUB";
  const SKUS = [TRUNK, PBX, "RC-DRAAS-TRK-TRIAL", "RC-DRAAS-PBX-TRIAL"];
  const ids: Record<string, string> = {};

  interface Sub {
    id: string;
    sku: string;
    quantity: number;
    assigned: number;
    status: string;
    version: number;
  }
  interface Change {
    kind: string;
    sku: string;
    from: number;
    to: number;
    version: number;
    orderId: string | null;
    reason: string | null;
  }
  type Edges<T> = { edges: { node: T }[] };
  interface Outcome<T> {
    readonly status: number;
    readonly errors: GraphQLResponse["errors"];
    readonly result: Result<T> | undefined;
  }
  /** An account's commercial state: its orders, its ledger, and each subscription with its own ledger. */
  interface State {
    orders: string[];
    ledger: Change[];
    subs: Record<string, Sub & { history: Change[] }>;
  }

  const SUB = "id sku quantity assigned status version";
  const CHANGE = "kind sku from to version orderId reason";

  beforeAll(async () => {
    t = await startTestStack();
    const dist = await mutate<{ account: { id: string } }>(
      OPERATOR,
      "createAccount",
      "CreateAccountInput",
      {
        parentId: PLATFORM,
        kind: "DISTRIBUTOR",
        name: "Distributor CC",
        country: "US",
        currency: "USD",
        owner: { email: DIST_OWNER },
      },
      "account { id }",
    );
    ids.dist = dist.account.id;
    await t.accept(DIST_OWNER);
    await mutate(
      OPERATOR,
      "setAvailableOffers",
      "SetAvailableOffersInput",
      { accountId: ids.dist, skus: SKUS },
      "account { id }",
    );
    const cust = await mutate<{ account: { id: string } }>(
      DIST_OWNER,
      "createAccount",
      "CreateAccountInput",
      { parentId: ids.dist, kind: "CUSTOMER", name: "Customer CC", country: "US", owner: { email: CUST_OWNER } },
      "account { id }",
    );
    ids.cust = cust.account.id;
    await t.accept(CUST_OWNER);
  }, 60_000);
  afterAll(async () => {
    await t?.stop();
  });

  /** One mutation, its typed result as sent back: nothing asserted. */
  const call = async <T>(
    as: string,
    name: string,
    inputType: string,
    input: Record<string, unknown>,
    select: string,
  ): Promise<Outcome<T>> => {
    const r = await t.gql<{ r: Result<T> }>(as, mutationDocument(name, inputType, select), { input });
    return { status: r.status, errors: r.errors, result: r.data?.r };
  };
  /** One mutation that must succeed: its data. */
  const mutate = <T>(
    as: string,
    name: string,
    inputType: string,
    input: Record<string, unknown>,
    select = "__typename",
  ): Promise<T> => t.mutateOk<T>(as, name, inputType, input, select);
  /** Every outcome came back as a typed result: HTTP 200, no `errors` entry, a result present. */
  const allTyped = <T>(outs: Outcome<T>[]) => {
    expect(outs.map((o) => ({ status: o.status, errors: o.errors, typed: o.result !== undefined }))).toEqual(
      outs.map(() => ({ status: 200, errors: undefined, typed: true })),
    );
    const results = outs.map((o) => o.result!);
    return {
      wins: results.filter((r): r is Success<T> => "data" in r),
      losses: results.filter((r): r is TypedError => !("data" in r)),
    };
  };
  const placeOrder = (input: Record<string, unknown>) =>
    call<{ order: { id: string } }>(DIST_OWNER, "placeOrder", "PlaceOrderInput", input, "order { id }");
  const state = async (): Promise<State> => {
    type S = Sub & { history: Edges<Change> };
    const r = await t.gql<{
      account: { data: { orders: Edges<{ id: string }>; subscriptionHistory: Edges<Change>; subscriptions: Edges<S> } };
    }>(
      DIST_OWNER,
      `query($id: ID!) { account(id: $id) { ... on QueryAccountSuccess { data {
        orders(first: 100) { edges { node { id } } }
        subscriptionHistory(first: 100) { edges { node { ${CHANGE} } } }
        subscriptions(first: 100) { edges { node { ${SUB} history(first: 100) { edges { node { ${CHANGE} } } } } } }
      } } } }`,
      { id: ids.cust },
    );
    expect(r.errors).toBeUndefined();
    const a = r.data!.account.data;
    return {
      orders: a.orders.edges.map((e) => e.node.id),
      ledger: a.subscriptionHistory.edges.map((e) => e.node),
      subs: Object.fromEntries(
        a.subscriptions.edges.map(({ node: { history, ...sub } }) => [
          sub.sku,
          { ...sub, history: history.edges.map((e) => e.node) },
        ]),
      ),
    };
  };

  it("50 members ask at once for the 10 licences of a subscription: exactly 10 get one, 40 are told all are assigned", async () => {
    // Prepare: a subscription of 10 trunk users, and 50 members who have joined the customer.
    await mutate(
      DIST_OWNER,
      "placeOrder",
      "PlaceOrderInput",
      { accountId: ids.cust, lines: [{ sku: TRUNK, quantity: 10 }], idempotencyKey: "trunk-10" },
      "order { id }",
    );
    const trunk = (await state()).subs[TRUNK]!;
    expect(trunk).toMatchObject({ quantity: 10, assigned: 0, status: "ACTIVE" });
    const members = Array.from({ length: 50 }, (_, i) => `member${String(i).padStart(2, "0")}@customer-cc.example`);
    for (const email of members) {
      await mutate(
        CUST_OWNER,
        "inviteMember",
        "InviteMemberInput",
        { accountId: ids.cust, email, role: "VIEWER" },
        "member { email }",
      );
      await t.accept(email);
    }

    // Act: 50 assignments in parallel, one per member.
    const outs = await Promise.all(
      members.map((email) =>
        call<{ licence: { email: string }; subscription: { quantity: number; assigned: number } }>(
          CUST_OWNER,
          "assignLicence",
          "LicenceInput",
          { subscriptionId: trunk.id, email },
          "licence { email sku } subscription { quantity assigned }",
        ),
      ),
    );

    // Assess: 10 licences, 40 typed conflicts, and the subscription lists exactly the winners.
    const { wins, losses } = allTyped(outs);
    expect(wins).toHaveLength(10);
    expect(losses).toHaveLength(40);
    expect(new Set(wins.map((w) => w.__typename))).toEqual(new Set(["MutationAssignLicenceSuccess"]));
    for (const w of wins) expect(w.data.subscription.assigned).toBeLessThanOrEqual(10);
    for (const l of losses) {
      expect(l).toMatchObject({ __typename: "ConflictError", code: "CONFLICT" });
      expect(l.message).toMatch(/^All 10 licences of this subscription are assigned/);
    }
    const winners = wins.map((w) => w.data.licence.email).sort();
    expect(new Set(winners).size).toBe(10);
    const r = await t.gql<{ node: Sub & { licences: Edges<{ email: string; sku: string }> } }>(
      CUST_OWNER,
      `query($id: ID!) { node(id: $id) { ... on LicenceSubscription { ${SUB} licences(first: 100) { edges { node { email sku } } } } } }`,
      { id: trunk.id },
    );
    expect(r.errors).toBeUndefined();
    expect(r.data!.node).toMatchObject({ quantity: 10, assigned: 10, version: trunk.version });
    const holders = r.data!.node.licences.edges.map((e) => e.node);
    expect(holders.map((h) => h.email).sort()).toEqual(winners);
    expect(holders.every((h) => h.sku === TRUNK)).toBe(true);
  }, 120_000);

  it("20 quantity changes from the same version at once: one wins, 19 are stale, the ledger records one change", async () => {
    // Prepare: a PBX subscription of 5, read at its current version.
    await mutate(
      DIST_OWNER,
      "placeOrder",
      "PlaceOrderInput",
      { accountId: ids.cust, lines: [{ sku: PBX, quantity: 5 }], idempotencyKey: "pbx-5" },
      "order { id }",
    );
    const before = await state();
    const pbx = before.subs[PBX]!;
    expect(pbx).toMatchObject({ quantity: 5, status: "ACTIVE" });
    const quantities = Array.from({ length: 20 }, (_, i) => 11 + i);

    // Act: 20 updates with the same expectedVersion, each to another quantity.
    const outs = await Promise.all(
      quantities.map((quantity) =>
        call<{ subscription: Sub }>(
          DIST_OWNER,
          "updateSubscriptionQuantity",
          "UpdateSubscriptionQuantityInput",
          { subscriptionId: pbx.id, quantity, expectedVersion: pbx.version },
          `subscription { ${SUB} }`,
        ),
      ),
    );

    // Assess: one winner, 19 typed conflicts; one version step, one ledger entry.
    const { wins, losses } = allTyped(outs);
    expect(wins).toHaveLength(1);
    expect(losses).toHaveLength(19);
    const winner = wins[0]!;
    expect(winner.__typename).toBe("MutationUpdateSubscriptionQuantitySuccess");
    expect(quantities).toContain(winner.data.subscription.quantity);
    expect(winner.data.subscription).toMatchObject({ id: pbx.id, version: pbx.version + 1 });
    for (const l of losses) {
      expect(l).toMatchObject({ __typename: "ConflictError", code: "CONFLICT" });
      expect(l.message).toMatch(/stale version/i);
    }
    const after = await state();
    const q = winner.data.subscription.quantity;
    expect(after.subs[PBX]).toMatchObject({ quantity: q, version: pbx.version + 1, status: "ACTIVE" });
    expect(after.subs[PBX]!.history).toHaveLength(pbx.history.length + 1);
    expect(after.subs[PBX]!.history[0]).toEqual({
      kind: "INCREASED",
      sku: PBX,
      from: 5,
      to: q,
      version: pbx.version + 1,
      orderId: null,
      reason: "quantity update",
    });
    expect(after.subs[PBX]!.history.slice(1)).toEqual(pbx.history);
    expect(after.ledger).toHaveLength(before.ledger.length + 1);
    expect(after.orders).toEqual(before.orders);
  });

  /** Checks that exactly one order `id` of `quantity` PBX licences was added between `before` and `after`. */
  const expectOneOrder = (before: State, after: State, id: string, quantity: number) => {
    const was = before.subs[PBX]!;
    expect(after.orders).toHaveLength(before.orders.length + 1);
    expect(after.orders.filter((o) => !before.orders.includes(o))).toEqual([id]);
    expect(after.subs[PBX]).toMatchObject({ quantity: was.quantity + quantity, version: was.version + 1 });
    expect(after.subs[PBX]!.history).toHaveLength(was.history.length + 1);
    expect(after.subs[PBX]!.history[0]).toEqual({
      kind: "INCREASED",
      sku: PBX,
      from: was.quantity,
      to: was.quantity + quantity,
      version: was.version + 1,
      orderId: id,
      reason: "order",
    });
    expect(after.ledger).toHaveLength(before.ledger.length + 1);
    expect(after.ledger.filter((c) => c.orderId === id)).toHaveLength(1);
  };
  const SEQ = { lines: [{ sku: PBX, quantity: 3 }], idempotencyKey: "cc-seq-1", reference: "CRM-SEQ", currency: "USD" };

  it("placeOrder sent 10 times one after another with one key: one order, one increase", async () => {
    // Prepare
    const before = await state();
    expect(before.subs[PBX]?.status).toBe("ACTIVE");

    // Act
    const outs: Outcome<{ order: { id: string } }>[] = [];
    for (let i = 0; i < 10; i++) outs.push(await placeOrder({ accountId: ids.cust, ...SEQ }));

    // Assess
    const { wins, losses } = allTyped(outs);
    expect(losses).toEqual([]);
    const orderIds = new Set(wins.map((w) => w.data.order.id));
    expect(orderIds.size).toBe(1);
    const [id] = [...orderIds];
    expectOneOrder(before, await state(), id!, 3);
  });

  it("placeOrder sent 10 times at once with another key: one order id for all, one increase", async () => {
    // Prepare
    const before = await state();
    const input = {
      accountId: ids.cust,
      lines: [{ sku: PBX, quantity: 2 }],
      idempotencyKey: "cc-par-1",
      reference: "CRM-PAR",
    };

    // Act
    const outs = await Promise.all(Array.from({ length: 10 }, () => placeOrder(input)));

    // Assess
    const { wins, losses } = allTyped(outs);
    expect(losses).toEqual([]);
    expect(wins).toHaveLength(10);
    const orderIds = new Set(wins.map((w) => w.data.order.id));
    expect(orderIds.size).toBe(1);
    const [id] = [...orderIds];
    expectOneOrder(before, await state(), id!, 2);
  });

  it("a used key with another quantity or another reference is a ConflictError and changes nothing", async () => {
    // Prepare
    const before = await state();
    const variants = [
      { ...SEQ, lines: [{ sku: PBX, quantity: 4 }] },
      { ...SEQ, reference: "CRM-OTHER" },
    ];

    // Act
    const outs: Outcome<{ order: { id: string } }>[] = [];
    for (const v of variants) outs.push(await placeOrder({ accountId: ids.cust, ...v }));

    // Assess
    const { wins, losses } = allTyped(outs);
    expect(wins).toEqual([]);
    expect(losses).toEqual(
      variants.map(() => ({
        __typename: "ConflictError",
        code: "CONFLICT",
        message: "This idempotency key was used for a different order",
      })),
    );
    expect(await state()).toEqual(before);
  });
});
