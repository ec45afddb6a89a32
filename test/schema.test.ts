import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { graphql } from "graphql";
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
    const { data } = (await graphql({ schema, source: "{ __schema { subscriptionType { name } } }" })) as { data?: { __schema: { subscriptionType: unknown } } };
    expect(data?.__schema.subscriptionType).toBeNull();
    // A subscription operation is refused for want of a root, not run into an "Async Iterable" error.
    const sub = await graphql({ schema, source: "subscription { sku }" });
    expect(sub.data).toBeNull();
    expect(sub.errors?.map((e) => e.message)).toEqual(["Schema is not configured to execute subscription operation."]);
  });

  it("keeps the names integrators rely on", () => {
    // Descriptions aside (they put each argument on its own line).
    const sdl = printedSchema().replace(/"""[\s\S]*?"""\s*/g, "").replace(/\(\s+/g, "(").replace(/\s+\)/g, ")");
    for (const name of ["viewer", "node(id: ID!): Node", "account(id: ID!)", "searchAccounts(", "createAccount(", "updateAccount(", "inviteMember(", "acceptInvitation(", "removeMember(", "setMemberRole("]) {
      expect(sdl).toContain(name);
    }
  });
});
