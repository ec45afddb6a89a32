import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ERR, OPERATOR, PLATFORM, startTestStack } from "./harness.js";
import type { Money, TestStack } from "./harness.js";

/**
 * The commercial seed story (Ribbon "Add account" with subscriptions, Rainbow step 5), over HTTP:
 * availability down the tree, an account created with its order, prices only for the billed
 * party's owners, a trial, quantity changes, licences and the ledger.
 */
describe("catalog, orders, subscriptions and licences: the seed story", () => {
  let t: TestStack;
  const D1_OWNER = "owner@distributor1.example";
  const D1_CONTRIB = "contributor@distributor1.example";
  const PA_OWNER = "owner@partner-a.example";
  const C3_OWNER = "owner@customer3.example";
  const C3_USER = "user@customer3.example";
  const TRUNK = "RC-DRAAS-TRUNK-SUB";
  const PBX = "RC-DRAAS-PBX-SUB";
  const TRUNK_TRIAL = "RC-DRAAS-TRK-TRIAL";
  const ids = { d1: "", pa: "", c3: "", order: "" };
  const START = "2026-11-02T09:00:00.000Z";

  interface Line {
    sku: string;
    quantity: number;
    unitPrice: Money | null;
    amount: Money | null;
  }
  interface Sub {
    id: string;
    sku: string;
    quantity: number;
    assigned: number;
    status: string;
    version: number;
    endsAt: string | null;
    daysRemaining: number | null;
  }
  const SUB = "id sku quantity assigned status version endsAt daysRemaining";
  const LINES =
    "lines { sku quantity unitPrice { amount currency } amount { amount currency } } total { amount currency }";

  beforeAll(async () => {
    t = await startTestStack();
    await t.setClock(START);
  });
  afterAll(async () => {
    await t?.stop();
  });

  const setAvailable = (as: string, accountId: string, skus: string[]) =>
    t.mutateOk(as, "setAvailableOffers", "SetAvailableOffersInput", { accountId, skus }, "account { id }");
  const subscriptions = async (as: string, accountId: string) => {
    const r = await t.gql<{ account: { data: { subscriptions: { edges: { node: Sub }[] } } } }>(
      as,
      `query($id: ID!) { account(id: $id) { ... on QueryAccountSuccess { data { subscriptions(status: ACTIVE) { edges { node { ${SUB} } } } } } } }`,
      { id: accountId },
    );
    return Object.fromEntries(r.data!.account.data.subscriptions.edges.map((e) => [e.node.sku, e.node]));
  };
  const setQuantity = (as: string, sub: Sub, quantity: number) =>
    t.mutateOk<{ subscription: Sub }>(
      as,
      "updateSubscriptionQuantity",
      "UpdateSubscriptionQuantityInput",
      { subscriptionId: sub.id, quantity, expectedVersion: sub.version },
      `subscription { ${SUB} }`,
    );

  it("an operator creates Distributor 1 (billed in USD) and makes the Ribbon offers available to it", async () => {
    const d1 = await t.mutateOk<{ account: { id: string; currency: string; billable: boolean } }>(
      OPERATOR,
      "createAccount",
      "CreateAccountInput",
      {
        parentId: PLATFORM,
        kind: "DISTRIBUTOR",
        name: "Distributor 1",
        country: "US",
        currency: "USD",
        owner: { email: D1_OWNER },
      },
      "account { id currency billable }",
    );
    expect(d1.account).toMatchObject({ currency: "USD", billable: true });
    ids.d1 = d1.account.id;
    await t.accept(D1_OWNER);
    await t.mutateOk(
      D1_OWNER,
      "inviteMember",
      "InviteMemberInput",
      { accountId: ids.d1, email: D1_CONTRIB, role: "CONTRIBUTOR", seller: true },
      "member { email }",
    );
    await t.accept(D1_CONTRIB);
    await setAvailable(OPERATOR, ids.d1, [TRUNK, PBX, TRUNK_TRIAL, "RC-DRAAS-PBX-TRIAL"]);
  });

  it("Distributor 1 makes the trunk and PBX offers (and the trunk trial) available to Indirect Partner A; prices show to D1's owner only", async () => {
    const pa = await t.mutateOk<{ account: { id: string } }>(
      D1_OWNER,
      "createAccount",
      "CreateAccountInput",
      { parentId: ids.d1, kind: "RESELLER", name: "Indirect Partner A", country: "US", owner: { email: PA_OWNER } },
      "account { id }",
    );
    ids.pa = pa.account.id;
    await t.accept(PA_OWNER);
    await t.mutateOk(
      D1_OWNER,
      "setResellerRights",
      "SetResellerRightsInput",
      { id: ids.pa, canCreateAccounts: true },
      "account { id }",
    );
    await setAvailable(D1_OWNER, ids.pa, [TRUNK, PBX, TRUNK_TRIAL]);

    const offers = async (as: string) =>
      (
        await t.gql<{
          offers: {
            data: {
              sku: string;
              kind: string;
              unitPrice: Money | null;
              trialDays: number | null;
              convertsTo: string | null;
            }[];
          };
        }>(
          as,
          `query($id: ID!) { offers(accountId: $id) { ... on QueryOffersSuccess { data { sku kind unitPrice { amount currency } trialDays convertsTo } } } }`,
          { id: ids.pa },
        )
      ).data!.offers.data;
    expect(await offers(D1_OWNER)).toEqual([
      { sku: PBX, kind: "MONTHLY", unitPrice: { amount: "6.00", currency: "USD" }, trialDays: null, convertsTo: null },
      {
        sku: TRUNK_TRIAL,
        kind: "TRIAL",
        unitPrice: { amount: "0.00", currency: "USD" },
        trialDays: 30,
        convertsTo: TRUNK,
      },
      {
        sku: TRUNK,
        kind: "MONTHLY",
        unitPrice: { amount: "3.00", currency: "USD" },
        trialDays: null,
        convertsTo: null,
      },
    ]);
    const hidden = await offers(PA_OWNER);
    expect(hidden.map((o) => o.sku)).toEqual([PBX, TRUNK_TRIAL, TRUNK]);
    expect(hidden.every((o) => o.unitPrice === null)).toBe(true);
    expect((await offers(D1_CONTRIB)).every((o) => o.unitPrice === null)).toBe(true);
  });

  it("Partner A's owner creates Customer 3 with an order of 4 trunk users, in one call", async () => {
    const c3 = await t.mutateOk<{
      account: { id: string };
      order: { id: string; reference: string; placedBy: string } & { lines: Line[]; total: Money | null };
    }>(
      PA_OWNER,
      "createAccount",
      "CreateAccountInput",
      {
        parentId: ids.pa,
        kind: "CUSTOMER",
        name: "Customer 3",
        country: "US",
        owner: { email: C3_OWNER },
        order: { lines: [{ sku: TRUNK, quantity: 4 }], reference: "CRM-0003", idempotencyKey: "c3-initial" },
      },
      `account { id } order { id reference placedBy ${LINES} }`,
    );
    ids.c3 = c3.account.id;
    ids.order = c3.order.id;
    // The reseller's owner is not an owner of the billed party (Distributor 1): no prices.
    expect(c3.order).toMatchObject({
      reference: "CRM-0003",
      placedBy: `user:${PA_OWNER}`,
      lines: [{ sku: TRUNK, quantity: 4, unitPrice: null, amount: null }],
      total: null,
    });
    await t.accept(C3_OWNER);
    const subs = await subscriptions(PA_OWNER, ids.c3);
    expect(subs[TRUNK]).toMatchObject({ quantity: 4, assigned: 0, status: "ACTIVE", version: 1, endsAt: null });
  });

  it("the preview and the order show USD 3.00 / USD 12.00 to Distributor 1's owner, null to its contributor and to Partner A's owner", async () => {
    const preview = async (as: string) =>
      (
        await t.gql<{ previewOrder: { data: { currency: string } & { lines: Line[]; total: Money | null } } }>(
          as,
          `query($input: PreviewOrderInput!) { previewOrder(input: $input) { __typename ... on QueryPreviewOrderSuccess { data { currency ${LINES} } } ${ERR} } }`,
          { input: { accountId: ids.c3, lines: [{ sku: TRUNK, quantity: 4 }] } },
        )
      ).data!.previewOrder.data;
    const order = async (as: string) =>
      (
        await t.gql<{ node: { lines: Line[]; total: Money | null } }>(
          as,
          `query($id: ID!) { node(id: $id) { ... on Order { ${LINES} } } }`,
          { id: ids.order },
        )
      ).data!.node;

    const priced = {
      lines: [
        {
          sku: TRUNK,
          quantity: 4,
          unitPrice: { amount: "3.00", currency: "USD" },
          amount: { amount: "12.00", currency: "USD" },
        },
      ],
      total: { amount: "12.00", currency: "USD" },
    };
    const unpriced = { lines: [{ sku: TRUNK, quantity: 4, unitPrice: null, amount: null }], total: null };
    expect(await preview(D1_OWNER)).toEqual({ currency: "USD", ...priced });
    expect(await order(D1_OWNER)).toEqual(priced);
    for (const as of [D1_CONTRIB, PA_OWNER]) {
      expect(await preview(as)).toEqual({ currency: "USD", ...unpriced });
      expect(await order(as)).toEqual(unpriced);
    }
    // The preview wrote nothing.
    expect((await subscriptions(D1_OWNER, ids.c3))[TRUNK]).toMatchObject({ quantity: 4, version: 1 });
  });

  it("a 25-licence trial is added: it expires in 30 days, and shows the days remaining as time passes", async () => {
    const placed = await t.mutateOk<{ order: { lines: Line[] } }>(
      PA_OWNER,
      "placeOrder",
      "PlaceOrderInput",
      { accountId: ids.c3, lines: [{ sku: TRUNK_TRIAL, quantity: 25 }], idempotencyKey: "c3-trial" },
      `order { ${LINES} }`,
    );
    expect(placed.order.lines).toEqual([{ sku: TRUNK_TRIAL, quantity: 25, unitPrice: null, amount: null }]);
    const trial = (await subscriptions(PA_OWNER, ids.c3))[TRUNK_TRIAL]!;
    expect(trial).toMatchObject({ quantity: 25, status: "ACTIVE", daysRemaining: 30 });
    // The stack's clock runs on from START, so the trial ends 30 days after it started, to the millisecond.
    expect(trial.endsAt!.slice(0, 13)).toBe("2026-12-02T09");
    const started = await t.gql<{ node: { startedAt: string; endsAt: string } }>(
      PA_OWNER,
      `query($id: ID!) { node(id: $id) { ... on LicenceSubscription { startedAt endsAt } } }`,
      { id: trial.id },
    );
    expect(Date.parse(started.data!.node.endsAt) - Date.parse(started.data!.node.startedAt)).toBe(30 * 86_400_000);
    await t.setClock("2026-11-07T12:00:00.000Z");
    expect((await subscriptions(PA_OWNER, ids.c3))[TRUNK_TRIAL]!.daysRemaining).toBe(25);
  });

  it("the trunk quantity goes to 46, then down to 6", async () => {
    const trunk = (await subscriptions(PA_OWNER, ids.c3))[TRUNK]!;
    const up = await setQuantity(PA_OWNER, trunk, 46);
    expect(up.subscription).toMatchObject({ quantity: 46, version: 2 });
    const down = await setQuantity(PA_OWNER, up.subscription, 6);
    expect(down.subscription).toMatchObject({ quantity: 6, version: 3, status: "ACTIVE" });
  });

  it("Customer 3's own admin assigns and unassigns licences; the seller above does not", async () => {
    await t.mutateOk(
      C3_OWNER,
      "inviteMember",
      "InviteMemberInput",
      { accountId: ids.c3, email: C3_USER, role: "VIEWER" },
      "member { email }",
    );
    await t.accept(C3_USER);
    const trunk = (await subscriptions(C3_OWNER, ids.c3))[TRUNK]!;
    const assign = (as: string, email: string, name = "assignLicence") =>
      t.gql<
        Record<string, { __typename: string; data?: { licence: { email: string; sku: string }; subscription: Sub } }>
      >(
        as,
        `mutation($input: LicenceInput!) { ${name}(input: $input) { __typename ... on Mutation${name[0]!.toUpperCase()}${name.slice(1)}Success { data { licence { email sku } subscription { ${SUB} } } } ${ERR} } }`,
        { input: { subscriptionId: trunk.id, email } },
      );
    const a1 = (await assign(C3_OWNER, C3_OWNER)).data!.assignLicence!;
    expect(a1.data).toMatchObject({
      licence: { email: C3_OWNER, sku: TRUNK },
      subscription: { assigned: 1, quantity: 6 },
    });
    const a2 = (await assign(C3_OWNER, C3_USER)).data!.assignLicence!;
    expect(a2.data?.subscription.assigned).toBe(2);
    expect((await assign(PA_OWNER, C3_USER)).data!.assignLicence).toMatchObject({ __typename: "ForbiddenError" });
    const u = (await assign(C3_OWNER, C3_USER, "unassignLicence")).data!.unassignLicence!;
    expect(u.data?.subscription.assigned).toBe(1);

    const holders = await t.gql<{ node: { licences: { edges: { node: { email: string } }[] } } }>(
      C3_OWNER,
      `query($id: ID!) { node(id: $id) { ... on LicenceSubscription { licences { edges { node { email } } } } } }`,
      { id: trunk.id },
    );
    expect(holders.data!.node.licences.edges.map((e) => e.node.email)).toEqual([C3_OWNER]);
  });

  it("the history shows each change with its delta and actor, newest first, per subscription and per account", async () => {
    const trunk = (await subscriptions(C3_OWNER, ids.c3))[TRUNK]!;
    interface Change {
      kind: string;
      sku: string;
      from: number;
      to: number;
      delta: number;
      actor: string;
      at: string;
      version: number;
    }
    const CHANGE = "kind sku from to delta actor at version";
    const sub = await t.gql<{ node: { history: { edges: { node: Change }[] } } }>(
      C3_OWNER,
      `query($id: ID!) { node(id: $id) { ... on LicenceSubscription { history { edges { node { ${CHANGE} } } } } } }`,
      { id: trunk.id },
    );
    const changes = sub.data!.node.history.edges.map((e) => e.node);
    expect(changes.map(({ at: _at, ...rest }) => rest)).toEqual([
      { kind: "DECREASED", sku: TRUNK, from: 46, to: 6, delta: -40, actor: `user:${PA_OWNER}`, version: 3 },
      { kind: "INCREASED", sku: TRUNK, from: 4, to: 46, delta: 42, actor: `user:${PA_OWNER}`, version: 2 },
      { kind: "CREATED", sku: TRUNK, from: 0, to: 4, delta: 4, actor: `user:${PA_OWNER}`, version: 1 },
    ]);
    // Stamped by the stack's clock: the creation on START's day, the changes after the clock moved to 7 November.
    expect(changes.map((c) => c.at.slice(0, 10))).toEqual(["2026-11-07", "2026-11-07", "2026-11-02"]);
    const account = await t.gql<{ account: { data: { subscriptionHistory: { edges: { node: Change }[] } } } }>(
      D1_OWNER,
      `query($id: ID!) { account(id: $id) { ... on QueryAccountSuccess { data { subscriptionHistory(first: 10) { edges { node { ${CHANGE} } } } } } } }`,
      { id: ids.c3 },
    );
    expect(
      account.data!.account.data.subscriptionHistory.edges.map((e) => [e.node.kind, e.node.sku, e.node.delta]),
    ).toEqual([
      ["DECREASED", TRUNK, -40],
      ["INCREASED", TRUNK, 42],
      ["CREATED", TRUNK_TRIAL, 25],
      ["CREATED", TRUNK, 4],
    ]);
  });

  it("the overview of Partner A sums its customers' licences per offer", async () => {
    const r = await t.gql<{ account: { data: { subscriptionOverview: unknown[] } } }>(
      D1_OWNER,
      `query($id: ID!) { account(id: $id) { ... on QueryAccountSuccess { data { subscriptionOverview { sku own { quantity assigned } customers { quantity assigned } resellers { quantity assigned } } } } } }`,
      { id: ids.pa },
    );
    expect(r.data!.account.data.subscriptionOverview).toEqual([
      {
        sku: TRUNK_TRIAL,
        own: { quantity: 0, assigned: 0 },
        customers: { quantity: 25, assigned: 0 },
        resellers: { quantity: 0, assigned: 0 },
      },
      {
        sku: TRUNK,
        own: { quantity: 0, assigned: 0 },
        customers: { quantity: 6, assigned: 1 },
        resellers: { quantity: 0, assigned: 0 },
      },
    ]);
  });
});
