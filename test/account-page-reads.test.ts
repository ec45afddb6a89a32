/**
 * Reads started early on the account pages: the hierarchy page's children Query, and the
 * subscriptions page's Query, start beside the rights check's BatchGetItem instead of after it;
 * each listed subscription's history starts once the page and the check are in. That changes
 * nothing a caller sees: the same pages, the same errors, nothing of an account the caller may not
 * see, and no history read for such a caller.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Store } from "../infra/store.js";
import { OPERATOR, PLATFORM, startTestStack } from "./harness.js";
import type { GraphQLResponse, TestStack } from "./harness.js";

const OWNER = "owner@page-d.example";
const STRANGER = "owner@page-other.example";
const NAMES = ["Prism Alpha", "Prism Beta", "Quartz Gamma", "Prism Delta", "Ruby Epsilon"];
const BUSINESS = "3EY95002AA";
const ENTERPRISE = "3EY95003AA";
const ESSENTIAL = "3EY95001AA";

let t: TestStack;
let distributor = "";
/** A customer of the distributor with three subscriptions, each changed a few times. */
let customer = "";

/** Start and end of every listChildren and batchGet the server's store runs, in order. */
type Call = "listChildren" | "batchGet" | "listSubscriptions" | "listChanges";
const events: { call: Call; at: "start" | "end" }[] = [];
function record(store: Store): void {
  for (const call of ["listChildren", "batchGet", "listSubscriptions", "listChanges"] as const) {
    const original = store[call].bind(store) as (...args: unknown[]) => Promise<unknown>;
    (store as unknown as Record<string, unknown>)[call] = async (...args: unknown[]) => {
      events.push({ call, at: "start" });
      try {
        return await original(...args);
      } finally {
        events.push({ call, at: "end" });
      }
    };
  }
}

const createDistributor = async (name: string, owner: string, currency = "EUR") =>
  (
    await t.mutateOk<{ account: { id: string } }>(
      OPERATOR,
      "createAccount",
      "CreateAccountInput",
      { parentId: PLATFORM, kind: "DISTRIBUTOR", name, country: "GB", currency, owner: { email: owner } },
      "account { id }",
    )
  ).account.id;

beforeAll(async () => {
  t = await startTestStack();
  distributor = await createDistributor("Page Distribution", OWNER);
  await createDistributor("Other Distribution", STRANGER);
  await t.accept(OWNER);
  await t.accept(STRANGER);
  for (const name of NAMES)
    await t.mutateOk(
      OWNER,
      "createAccount",
      "CreateAccountInput",
      { parentId: distributor, kind: "CUSTOMER", name, country: "GB" },
      "account { id }",
    );
  await t.mutateOk(
    OPERATOR,
    "setAvailableOffers",
    "SetAvailableOffersInput",
    { accountId: distributor, skus: [BUSINESS, ENTERPRISE, ESSENTIAL] },
    "account { id }",
  );
  customer = (
    await t.mutateOk<{ account: { id: string } }>(
      OWNER,
      "createAccount",
      "CreateAccountInput",
      { parentId: distributor, kind: "CUSTOMER", name: "Zircon Licences", country: "GB" },
      "account { id }",
    )
  ).account.id;
  for (let round = 1; round <= 3; round++)
    await t.mutateOk(
      OWNER,
      "placeOrder",
      "PlaceOrderInput",
      {
        accountId: customer,
        lines: [BUSINESS, ENTERPRISE, ESSENTIAL].map((sku) => ({ sku, quantity: round })),
        idempotencyKey: `round-${round}`,
      },
      "order { id }",
    );
  record(t.stack.store);
}, 120_000);

afterAll(async () => {
  await t?.stop();
});

const PAGE = `
  edges { cursor node { id name } }
  pageInfo { hasNextPage endCursor }
`;

/** The page as a portal asks for it: one `children` under the account, so it is read early. */
const early = `query P($id: ID!, $first: Int, $after: String, $search: String) {
  account(id: $id) {
    __typename
    ... on QueryAccountSuccess { data { children(first: $first, after: $after, search: $search) { ${PAGE} } } }
    ... on Error { message }
  }
}`;
/** The same page, selected under two aliases: nothing to read early, the page is read after the check. */
const late = `query P($id: ID!, $first: Int, $after: String, $search: String) {
  account(id: $id) {
    __typename
    ... on QueryAccountSuccess { data {
      children(first: $first, after: $after, search: $search) { ${PAGE} }
      again: children(first: 1) { edges { node { id } } }
    } }
    ... on Error { message }
  }
}`;

interface Page {
  edges: { cursor: string; node: { id: string; name: string } }[];
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
}
interface PageData {
  account: { __typename: string; message?: string; data?: { children: Page } };
}

async function run(as: string, query: string, variables: Record<string, unknown>) {
  await t.gql(as, "{ viewer { email } }"); // the caller's identity is bound before the measured request
  events.length = 0;
  const res: GraphQLResponse<PageData> = await t.gql<PageData>(as, query, variables);
  return { res, calls: [...events] };
}

/** Whether the children Query started before the rights check's BatchGetItem came back. */
function overlapped(calls: typeof events): boolean {
  const childrenStart = calls.findIndex((e) => e.call === "listChildren" && e.at === "start");
  const batchEnd = calls.findIndex((e) => e.call === "batchGet" && e.at === "end");
  return childrenStart !== -1 && batchEnd !== -1 && childrenStart < batchEnd;
}
const count = (calls: typeof events, call: string) => calls.filter((e) => e.call === call && e.at === "start").length;

describe("the hierarchy page reads the children beside the rights check", () => {
  it("starts the children Query before the BatchGetItem returns, reads it once, and gives the same page", async () => {
    const vars = { id: distributor, first: 2 };
    const a = await run(OWNER, early, vars);
    expect(a.res.errors).toBeUndefined();
    expect(overlapped(a.calls)).toBe(true);
    expect(count(a.calls, "listChildren")).toBe(1);
    expect(count(a.calls, "batchGet")).toBe(1);

    const b = await run(OWNER, late, vars);
    expect(b.res.errors).toBeUndefined();
    expect(overlapped(b.calls)).toBe(false);
    const page = a.res.data?.account.data?.children;
    expect(page?.edges.map((e) => e.node.name)).toEqual(["Prism Alpha", "Prism Beta"]);
    expect(page).toEqual(b.res.data?.account.data?.children);

    // The next page, through a cursor, and a name search: early and late agree.
    const after = { ...vars, after: page?.pageInfo.endCursor };
    const next = await run(OWNER, early, after);
    expect(overlapped(next.calls)).toBe(true);
    expect(count(next.calls, "listChildren")).toBe(1);
    expect(next.res.data?.account.data?.children.edges.map((e) => e.node.name)).toEqual([
      "Prism Delta",
      "Quartz Gamma",
    ]);
    expect(next.res.data?.account.data?.children).toEqual(
      (await run(OWNER, late, after)).res.data?.account.data?.children,
    );
    const search = { id: distributor, first: 10, search: "prism" };
    const found = await run(OWNER, early, search);
    expect(count(found.calls, "listChildren")).toBe(1);
    expect(found.res.data?.account.data?.children.edges).toHaveLength(3);
    expect(found.res.data?.account.data?.children).toEqual(
      (await run(OWNER, late, search)).res.data?.account.data?.children,
    );
  });

  it("bad page arguments give the same typed error as before, and nothing else is read twice", async () => {
    for (const bad of [{ first: 0 }, { first: 2, after: "not a cursor!" }, { first: 101 }]) {
      const vars = { id: distributor, ...bad };
      const a = await run(OWNER, early, vars);
      const b = await run(OWNER, late, vars);
      expect(a.res.data?.account.data?.children ?? null).toBeNull();
      expect(a.res.errors?.length, JSON.stringify(a.res)).toBeGreaterThan(0);
      expect(a.res.errors?.map((e) => e.message)).toEqual(b.res.errors?.map((e) => e.message));
      expect(count(a.calls, "listChildren")).toBeLessThanOrEqual(1);
    }
  });

  it("a caller who may not see the account gets NotFound and no child, as for an unknown id", async () => {
    const a = await run(STRANGER, early, { id: distributor, first: 5 });
    expect(a.res.errors).toBeUndefined();
    expect(a.res.data?.account).toEqual({ __typename: "NotFoundError", message: "Account not found" });
    expect(JSON.stringify(a.res)).not.toContain("Prism");
    const unknown = await run(STRANGER, early, { id: Buffer.from("Account:NOPE").toString("base64"), first: 5 });
    expect(unknown.res.data).toEqual(a.res.data);
    const anonymous = await t.gql<PageData>(null, early, { id: distributor, first: 5 });
    expect(JSON.stringify(anonymous)).not.toContain("Prism");
    expect(anonymous.data?.account.data).toBeUndefined();
  });

  it("looks through fragments and variables, and not through @skip", async () => {
    const viaFragment = `query P($id: ID!, $n: Int, $skip: Boolean!) {
      account(id: $id) { ...A }
    }
    fragment A on QueryAccountResult { ... on QueryAccountSuccess { data { ...C } } }
    fragment C on Account { children(first: $n) @skip(if: $skip) { edges { node { name } } } }`;
    const shown = await run(OWNER, viaFragment, { id: distributor, n: 1, skip: false });
    expect(shown.res.errors).toBeUndefined();
    expect(overlapped(shown.calls)).toBe(true);
    const skipped = await run(OWNER, viaFragment, { id: distributor, n: 1, skip: true });
    expect(skipped.res.errors).toBeUndefined();
    expect(count(skipped.calls, "listChildren")).toBe(0);
  });
});

/** The subscriptions page as a portal asks for it, each subscription with its latest changes. */
const subsEarly = `query S($id: ID!, $first: Int, $after: String, $history: Int, $hAfter: String) {
  account(id: $id) {
    __typename
    ... on QueryAccountSuccess { data { subscriptions(first: $first, after: $after) {
      edges { node { sku quantity history(first: $history, after: $hAfter) { edges { node { version delta } } pageInfo { hasNextPage } } } }
      pageInfo { hasNextPage endCursor }
    } } }
    ... on Error { message }
  }
}`;
/** The same page selected under two aliases: read after the check, as before. */
const subsLate = subsEarly.replace(
  "pageInfo { hasNextPage endCursor }\n    } } }",
  "pageInfo { hasNextPage endCursor }\n    } again: subscriptions(first: 1) { edges { node { sku } } } } }",
);

interface SubsData {
  account: {
    __typename: string;
    message?: string;
    data?: {
      subscriptions: {
        edges: { node: { sku: string; quantity: number; history: unknown } }[];
        pageInfo: { hasNextPage: boolean; endCursor: string | null };
      };
    };
  };
}
async function subsRun(as: string, query: string, variables: Record<string, unknown>) {
  await t.gql(as, "{ viewer { email } }");
  events.length = 0;
  const res = await t.gql<SubsData>(as, query, variables);
  return { res, calls: [...events] };
}
const first = (calls: typeof events, call: Call, at: "start" | "end", nth = 0) =>
  calls.map((e, i) => (e.call === call && e.at === at ? i : -1)).filter((i) => i >= 0)[nth] ?? -1;

describe("the subscriptions page reads its list beside the rights check, and the histories right after", () => {
  it("starts the subscriptions Query before the BatchGetItem returns and each history before the prices' check returns", async () => {
    const vars = { id: customer, first: 2, history: 2 };
    const a = await subsRun(OWNER, subsEarly, vars);
    expect(a.res.errors).toBeUndefined();
    const page = a.res.data?.account.data?.subscriptions;
    expect(page?.edges.map((e) => e.node.sku)).toEqual([ESSENTIAL, BUSINESS]);
    expect(first(a.calls, "listSubscriptions", "start")).toBeLessThan(first(a.calls, "batchGet", "end"));
    // The second BatchGetItem is the billed party's (price visibility); the histories do not wait for it.
    expect(first(a.calls, "listChanges", "start")).toBeGreaterThan(-1);
    expect(first(a.calls, "listChanges", "start")).toBeLessThan(first(a.calls, "batchGet", "end", 1));
    expect(count(a.calls, "listSubscriptions")).toBe(1);
    expect(count(a.calls, "listChanges")).toBe(2);

    const b = await subsRun(OWNER, subsLate, vars);
    expect(b.res.errors).toBeUndefined();
    expect(first(b.calls, "listSubscriptions", "start")).toBeGreaterThan(first(b.calls, "batchGet", "end"));
    expect(b.res.data?.account.data?.subscriptions).toEqual(page);

    // The next page through a cursor, and a history that starts after a cursor (read by its resolver).
    const next = { ...vars, after: page?.pageInfo.endCursor };
    const c = await subsRun(OWNER, subsEarly, next);
    expect(c.res.data?.account.data?.subscriptions.edges.map((e) => e.node.sku)).toEqual([ENTERPRISE]);
    expect(count(c.calls, "listSubscriptions")).toBe(1);
    expect(c.res.data?.account.data?.subscriptions).toEqual(
      (await subsRun(OWNER, subsLate, next)).res.data?.account.data?.subscriptions,
    );
  });

  it("a caller who may not see the account causes no history read and gets NotFound", async () => {
    const a = await subsRun(STRANGER, subsEarly, { id: customer, first: 5, history: 5 });
    expect(a.res.errors).toBeUndefined();
    expect(a.res.data?.account).toEqual({ __typename: "NotFoundError", message: "Account not found" });
    expect(count(a.calls, "listChanges")).toBe(0);
    expect(JSON.stringify(a.res)).not.toContain(BUSINESS);
  });

  it("bad page arguments give the same errors early and late", async () => {
    for (const bad of [{ first: 0 }, { first: 2, history: 500 }, { first: 2, after: "nope" }]) {
      const vars = { id: customer, history: 2, ...bad };
      const a = await subsRun(OWNER, subsEarly, vars);
      const b = await subsRun(OWNER, subsLate, vars);
      expect(a.res.errors?.length, JSON.stringify(a.res)).toBeGreaterThan(0);
      expect(a.res.errors?.map((e) => e.message)).toEqual(b.res.errors?.map((e) => e.message));
    }
  });
});
