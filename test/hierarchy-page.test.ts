/**
 * The hierarchy page (`account(id) { children(first) }`): the children Query starts beside the
 * rights check's BatchGetItem instead of after it, and that changes nothing a caller sees: the
 * same page, the same errors, and nothing of an account the caller may not see.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Store } from "../infra/store.js";
import { OPERATOR, PLATFORM, startTestStack } from "./harness.js";
import type { GraphQLResponse, TestStack } from "./harness.js";

const OWNER = "owner@page-d.example";
const STRANGER = "owner@page-other.example";
const NAMES = ["Prism Alpha", "Prism Beta", "Quartz Gamma", "Prism Delta", "Ruby Epsilon"];

let t: TestStack;
let distributor = "";

/** Start and end of every listChildren and batchGet the server's store runs, in order. */
const events: { call: "listChildren" | "batchGet"; at: "start" | "end" }[] = [];
function record(store: Store): void {
  for (const call of ["listChildren", "batchGet"] as const) {
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

const createDistributor = async (name: string, owner: string) =>
  (
    await t.mutateOk<{ account: { id: string } }>(
      OPERATOR,
      "createAccount",
      "CreateAccountInput",
      { parentId: PLATFORM, kind: "DISTRIBUTOR", name, country: "GB", currency: "GBP", owner: { email: owner } },
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
