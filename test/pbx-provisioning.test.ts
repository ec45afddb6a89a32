/**
 * PBX upkeep: a PBX reads its own extension associations with its credential
 * (member and public number, to provision its phones); it reports changes (added, removed) beside
 * full replacement; 10,000 eight-digit extensions fit one request (the body limit and the extension
 * limit agree).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MAX_BODY_BYTES } from "../graphql/limits.js";
import { MAX_EXTENSIONS } from "../core/equipment.js";
import { ERR, OPERATOR, PLATFORM, ok, startTestStack } from "./harness.js";
import type { TestStack } from "./harness.js";

const P = { d: "owner@pbx-d.example", c: "owner@pbx-c.example", user: "user@pbx-c.example" };
let t: TestStack;
let credential = "";
const id = { d: "", c: "", pbx: "" };

const FULL = `mutation R($n: [String!]!) { r: reportExtensions(numbers: $n) { __typename ... on MutationReportExtensionsSuccess { data { count } } ${ERR} } }`;
const CHANGES = `mutation C($a: [String!]!, $r: [String!]!) { r: reportExtensionChanges(added: $a, removed: $r) { __typename ... on MutationReportExtensionChangesSuccess { data { count } } ${ERR} } }`;
const ASSIGNMENTS = `{ r: equipmentExtensionAssignments(first: 50) { edges { node { extension email publicNumber } } } }`;
interface Answer {
  readonly r: {
    readonly __typename: string;
    readonly data?: { readonly count: number };
    readonly code?: string;
    readonly issues?: { path: string[] }[];
  };
}
const count = async () =>
  (
    await t.read<{ a: { data: { equipment: { edges: { node: { extensionCount: number } }[] } } } }>(
      P.c,
      `query A($id: ID!) { a: account(id: $id) { ... on QueryAccountSuccess { data { equipment(first: 5) { edges { node { extensionCount } } } } } } }`,
      { id: id.c },
    )
  ).a.data.equipment.edges[0]!.node.extensionCount;
const eight = (from: number, n: number) => Array.from({ length: n }, (_v, i) => String(from + i));

beforeAll(async () => {
  t = await startTestStack();
  id.d = ok<{ account: { id: string } }>(
    await t.mutate(
      OPERATOR,
      "createAccount",
      "CreateAccountInput",
      { parentId: PLATFORM, kind: "DISTRIBUTOR", name: "PBX D", country: "US", currency: "USD", owner: { email: P.d } },
      "account { id }",
    ),
  ).account.id;
  await t.accept(P.d);
  id.c = ok<{ account: { id: string } }>(
    await t.mutate(
      P.d,
      "createAccount",
      "CreateAccountInput",
      { parentId: id.d, kind: "CUSTOMER", name: "PBX C", country: "US", owner: { email: P.c } },
      "account { id }",
    ),
  ).account.id;
  await t.accept(P.c);
  await t.giveNumbers(id.c, id.d, ["+14155550199"]);
  ({ equipmentId: id.pbx, credential } = await t.pairEquipment(P.c, {
    accountId: id.c,
    name: "PBX C OXO",
    country: "US",
    serverType: "OXO_CONNECT",
    outboundPrefix: "0",
  }));
}, 60_000);

afterAll(async () => {
  await t?.stop();
});

describe("a PBX keeps its extensions and provisions its phones", () => {
  it(`${MAX_EXTENSIONS} eight-digit extensions fit one report (the body stays under ${MAX_BODY_BYTES} bytes)`, async () => {
    const numbers = eight(10_000_000, MAX_EXTENSIONS);
    expect(JSON.stringify({ query: FULL, variables: { n: numbers } }).length).toBeLessThan(MAX_BODY_BYTES);
    const res = await t.device<Answer>(credential, FULL, { n: numbers });
    expect(res.errors).toBeUndefined();
    expect(res.data?.r.data?.count).toBe(MAX_EXTENSIONS);
    expect(await count()).toBe(MAX_EXTENSIONS);
  });

  it("reports changes beside full replacement: added and removed apply to the last report", async () => {
    const res = await t.device<Answer>(credential, CHANGES, {
      a: ["20000001", "20000002"],
      r: ["10000000", "10000001", "55"],
    });
    expect(res.data?.r.data?.count).toBe(MAX_EXTENSIONS);
    const reported = await t.read<{
      a: { data: { equipment: { edges: { node: { reportedExtensions: string[] } }[] } } };
    }>(
      P.c,
      `query A($id: ID!) { a: account(id: $id) { ... on QueryAccountSuccess { data { equipment(first: 5) { edges { node { reportedExtensions } } } } } } }`,
      { id: id.c },
    );
    const numbers = reported.a.data.equipment.edges[0]!.node.reportedExtensions;
    expect(numbers).toContain("20000001");
    expect(numbers).not.toContain("10000000");
    // Past the limit: refused on `added`, nothing changed.
    const over = await t.device<Answer>(credential, CHANGES, { a: ["30000001", "30000002", "30000003"], r: [] });
    expect(over.data?.r).toMatchObject({ __typename: "ValidationError", issues: [{ path: ["added"] }] });
    expect(await count()).toBe(MAX_EXTENSIONS);
  });

  it("bad extensions are a ValidationError on their place, nothing written", async () => {
    const res = await t.device<Answer>(credential, CHANGES, { a: ["12", "abc"], r: ["1"] });
    expect(res.data?.r.__typename).toBe("ValidationError");
    expect(res.data?.r.issues?.map((i) => i.path)).toEqual([["added", "1"]]);
    const removed = await t.device<Answer>(credential, CHANGES, { a: [], r: ["1"] });
    expect(removed.data?.r.issues?.map((i) => i.path)).toEqual([["removed", "0"]]);
    expect(await count()).toBe(MAX_EXTENSIONS);
  });

  it("reads its extension associations (member, public number) with its credential; people cannot", async () => {
    await t.mutateOk(
      P.c,
      "inviteMember",
      "InviteMemberInput",
      { accountId: id.c, email: P.user, role: "CONTRIBUTOR" },
      "member { email }",
    );
    await t.accept(P.user);
    await t.mutateOk(
      P.c,
      "assignExtension",
      "AssignExtensionInput",
      { accountId: id.c, email: P.user, equipmentId: id.pbx, extension: "20000001", publicNumber: "+14155550199" },
      "assignment { extension }",
    );
    const mine = await t.device<{
      r: { edges: { node: { extension: string; email: string; publicNumber: string } }[] };
    }>(credential, ASSIGNMENTS);
    expect(mine.errors).toBeUndefined();
    expect(mine.data?.r.edges.map((e) => e.node)).toEqual([
      { extension: "20000001", email: P.user, publicNumber: "+14155550199" },
    ]);
    const asPerson = await t.gql(P.c, ASSIGNMENTS);
    expect(asPerson.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
    expect(asPerson.data?.r ?? null).toBeNull();
    const anonymous = await t.device(null, ASSIGNMENTS);
    expect(anonymous.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
  });

  it("two changes at once: none is lost (the later one is told to send again)", async () => {
    const [a, b] = await Promise.all([
      t.device<Answer>(credential, CHANGES, { a: [], r: ["20000002"] }),
      t.device<Answer>(credential, CHANGES, { a: [], r: ["10000002"] }),
    ]);
    const answers = [a.data?.r.__typename, b.data?.r.__typename];
    expect(answers).toContain("MutationReportExtensionChangesSuccess");
    for (const x of answers) expect(["MutationReportExtensionChangesSuccess", "ConflictError"]).toContain(x);
    const applied = answers.filter((x) => x === "MutationReportExtensionChangesSuccess").length;
    expect(await count()).toBe(MAX_EXTENSIONS - applied);
  });
});
