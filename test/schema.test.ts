import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { getNamedType, graphql, isObjectType } from "graphql";
import { printedSchema, schema } from "../graphql/schema.js";

describe("schema.graphql", () => {
  it("is the printed schema (run `npm run schema` after changing the schema)", () => {
    const committed = readFileSync(new URL("../schema.graphql", import.meta.url), "utf8");
    expect(committed).toBe(printedSchema());
  });

  it("has no subscription root: licence subscriptions are LicenceSubscription, never taken for the root by name", async () => {
    expect(schema.getSubscriptionType()).toBeUndefined();
    expect(schema.getType("Subscription")).toBeUndefined();
    expect(schema.getType("LicenceSubscription")).toBeDefined();
    const { data } = (await graphql({ schema, source: "{ __schema { subscriptionType { name } } }" })) as {
      data?: { __schema: { subscriptionType: unknown } };
    };
    expect(data?.__schema.subscriptionType).toBeNull();
    // A subscription operation is refused for want of a root, not run into an "Async Iterable" error.
    const sub = await graphql({ schema, source: "subscription { sku }" });
    expect(sub.data).toBeNull();
    expect(sub.errors?.map((e) => e.message)).toEqual(["Schema is not configured to execute subscription operation."]);
  });

  it("makes every connection's node a Node (normalising caches update it by its global id), and every object with an id a Node", () => {
    const objects = Object.values(schema.getTypeMap())
      .filter(isObjectType)
      .filter((t) => !t.name.startsWith("__"));
    const isNode = (t: { getInterfaces(): readonly { name: string }[] }) =>
      t.getInterfaces().some((i) => i.name === "Node");
    const edgeNodes = objects
      .filter((t) => t.name.endsWith("Edge"))
      .map((edge) => getNamedType(edge.getFields().node!.type));
    expect(edgeNodes.length).toBeGreaterThanOrEqual(18);
    expect(edgeNodes.filter((n) => !isObjectType(n) || !isNode(n)).map((n) => n.name)).toEqual([]);
    // Values with an id of their own, each saying why in its description: a breadcrumb's id is unique
    // (never an Account's) but it is part of the account it was read from; a server type's is a product code.
    const values = ["Breadcrumb", "ServerType"];
    expect(objects.filter((t) => t.getFields().id && !isNode(t)).map((t) => t.name)).toEqual(values);
    for (const name of values) expect(schema.getType(name)?.description).toMatch(/not an entity/);
  });

  it("keeps the names integrators rely on", () => {
    // Descriptions aside (they put each argument on its own line).
    const sdl = printedSchema()
      .replace(/"""[\s\S]*?"""\s*/g, "")
      .replace(/\(\s+/g, "(")
      .replace(/\s+\)/g, ")");
    for (const name of [
      "viewer",
      "node(id: ID!): Node",
      "account(id: ID!)",
      "searchAccounts(",
      "createAccount(",
      "updateAccount(",
      "inviteMember(",
      "acceptInvitation(",
      "removeMember(",
      "setMemberRole(",
    ]) {
      expect(sdl).toContain(name);
    }
  });
});
