/**
 * Security rule 14: each GraphQL request has a budget of DynamoDB requests (default 300,
 * REQUEST_BUDGET). An operation whose estimate (connections × `first`, and the weights of the
 * expensive fields such as subscriptionOverview) is over it is refused before it runs; one that
 * spends more than it as it runs stops at the first request past it. Either way the caller gets the
 * typed error BUDGET_EXCEEDED, and nobody else is slowed.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OPERATOR, PLATFORM, startTestStack } from "./harness.js";
import type { GraphQLResponse, TestStack } from "./harness.js";

const TRUNK = "RC-DRAAS-TRUNK-SUB";
const OWNER = "owner@budget-d.example";
const CUSTOMERS = 40;

let t: TestStack;
let distributor = "";

interface Timed<T> {
  readonly res: GraphQLResponse<T>;
  readonly ms: number;
}
async function timed<T>(run: () => Promise<GraphQLResponse<T>>): Promise<Timed<T>> {
  const start = performance.now();
  const res = await run();
  return { res, ms: performance.now() - start };
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const codes = (res: GraphQLResponse<unknown>) => [...new Set((res.errors ?? []).map((e) => e.extensions?.code))];

beforeAll(async () => {
  t = await startTestStack();
  distributor = (
    await t.mutateOk<{ account: { id: string } }>(
      OPERATOR,
      "createAccount",
      "CreateAccountInput",
      {
        parentId: PLATFORM,
        kind: "DISTRIBUTOR",
        name: "Budget Distribution",
        country: "US",
        currency: "USD",
        owner: { email: OWNER },
      },
      "account { id }",
    )
  ).account.id;
  await t.accept(OWNER);
  await t.mutateOk(
    OPERATOR,
    "setAvailableOffers",
    "SetAvailableOffersInput",
    { accountId: distributor, skus: [TRUNK] },
    "account { id }",
  );
  for (let i = 0; i < CUSTOMERS; i++) {
    await t.mutateOk(
      OWNER,
      "createAccount",
      "CreateAccountInput",
      {
        parentId: distributor,
        kind: "CUSTOMER",
        name: `Budget Customer ${i}`,
        country: "US",
        order: { lines: [{ sku: TRUNK, quantity: 2 }], idempotencyKey: `budget-${i}` },
      },
      "account { id }",
    );
  }
}, 120_000);

afterAll(async () => {
  await t?.stop();
});

const overview = (aliases: number) =>
  `query O($id: ID!) { ${Array.from({ length: aliases }, (_, i) => `o${i}: account(id: $id) { ... on QueryAccountSuccess { data { subscriptionOverview { sku own { quantity } customers { quantity } } } } }`).join(" ")} }`;

describe("the per-request budget of DynamoDB requests", () => {
  it("one subscriptionOverview over 40 customers runs within the budget (the whole subtree counted)", async () => {
    const res = await t.gql<{
      o0: { data: { subscriptionOverview: { sku: string; customers: { quantity: number } }[] } };
    }>(OWNER, overview(1), { id: distributor });
    expect(res.errors).toBeUndefined();
    expect(res.data?.o0.data.subscriptionOverview).toEqual([
      { sku: TRUNK, own: { quantity: 0 }, customers: { quantity: 2 * CUSTOMERS } },
    ]);
  });

  it("150 aliased subscriptionOverview fields: BUDGET_EXCEEDED before anything is read, in under a second, while a parallel simple query keeps its latency", async () => {
    const simple = () => t.gql(OWNER, "{ viewer { email memberships { role } } }");
    await simple();
    const alone: number[] = [];
    for (let i = 0; i < 5; i++) alone.push((await timed(simple)).ms);

    const probe = timed(() => t.gql(OWNER, overview(150), { id: distributor }));
    const during: number[] = [];
    for (let i = 0; i < 5; i++) during.push((await timed(simple)).ms);
    const { res, ms } = await probe;

    expect(codes(res)).toEqual(["BUDGET_EXCEEDED"]);
    expect(res.errors?.[0]?.message).toMatch(/would need about \d+ DynamoDB requests, over its budget of 300/);
    // Every alias is refused, none answered with data.
    expect(Object.values(res.data ?? {}).filter((v) => v !== null)).toEqual([]);
    expect(ms).toBeLessThan(1000);
    // Generous bounds for a shared machine: the point is that the probe costs others nothing measurable.
    expect(median(during)).toBeLessThan(median(alone) * 3 + 100);
  });

  it("the estimate counts a page as one read and its nodes' own lists once per node: 100 × 100 licence pages are refused, 10 × 10 are not", async () => {
    // children(first: N) { subscriptions(first: N) { licences(first: 1) } }: 1 + N × (1 + N × 1) reads.
    const q = (n: number) =>
      `query C($id: ID!) { account(id: $id) { ... on QueryAccountSuccess { data { children(first: ${n}) { edges { node { subscriptions(first: ${n}) { edges { node { sku licences(first: 1) { edges { node { email } } } } } } } } } } } } }`;
    const big = await t.gql(OWNER, q(100), { id: distributor });
    expect(codes(big)).toEqual(["BUDGET_EXCEEDED"]);
    expect(big.errors?.[0]?.message).toMatch(/about 10101 DynamoDB requests/);
    const small = await t.gql<{ account: { data: { children: { edges: unknown[] } } } }>(OWNER, q(10), {
      id: distributor,
    });
    expect(small.errors).toBeUndefined();
    expect(small.data?.account.data.children.edges).toHaveLength(10);
  });
});

describe("a request that spends its budget as it runs (estimate under it)", () => {
  let small: TestStack;
  let memberId = "";

  beforeAll(async () => {
    small = await startTestStack({ requestBudget: 15 });
    const d = (
      await small.mutateOk<{ account: { id: string } }>(
        OPERATOR,
        "createAccount",
        "CreateAccountInput",
        {
          parentId: PLATFORM,
          kind: "DISTRIBUTOR",
          name: "Small Budget",
          country: "US",
          currency: "USD",
          owner: { email: OWNER },
        },
        "account { id }",
      )
    ).account.id;
    await small.accept(OWNER);
    const members = await small.read<{ account: { data: { members: { edges: { node: { id: string } }[] } } } }>(
      OWNER,
      `query M($id: ID!) { account(id: $id) { ... on QueryAccountSuccess { data { members(first: 5) { edges { node { id } } } } } } }`,
      { id: d },
    );
    memberId = members.account.data.members.edges[0]!.node.id;
  }, 60_000);

  afterAll(async () => {
    await small?.stop();
  });

  it("stops at the first DynamoDB request past it: the fields read before answer, the rest get BUDGET_EXCEEDED with their path", async () => {
    // node(id) estimates nothing (it is read through the batching loader), but each Member is one read.
    const query = `query N($id: ID!) { ${Array.from({ length: 30 }, (_, i) => `n${i}: node(id: $id) { id }`).join(" ")} }`;
    const res = await small.gql<Record<string, { id: string } | null>>(OWNER, query, { id: memberId });
    expect(codes(res), JSON.stringify(res).slice(0, 600)).toEqual(["BUDGET_EXCEEDED"]);
    expect(res.errors?.[0]?.message).toMatch(/used its budget of 15 DynamoDB requests/);
    const answered = Object.values(res.data ?? {}).filter((v) => v !== null);
    expect(answered.length).toBeGreaterThan(0);
    expect(answered.length).toBeLessThan(30);
    expect(res.errors!.every((e) => e.path?.length === 1)).toBe(true);
    // The next request has a budget of its own.
    const again = await small.gql(OWNER, `query N($id: ID!) { node(id: $id) { id } }`, { id: memberId });
    expect(again.errors).toBeUndefined();
  });
});
