import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { printedSchema } from "../graphql/schema.js";

describe("schema.graphql", () => {
  it("is the printed schema (run `npm run schema` after changing the schema)", () => {
    const committed = readFileSync(new URL("../schema.graphql", import.meta.url), "utf8");
    expect(committed).toBe(printedSchema());
  });

  it("keeps the names integrators rely on", () => {
    const sdl = printedSchema();
    for (const name of ["viewer", "node(id: ID!): Node", "account(id: ID!)", "searchAccounts(", "createAccount(", "updateAccount(", "inviteMember(", "acceptInvitation(", "removeMember(", "setMemberRole("]) {
      expect(sdl).toContain(name);
    }
  });
});
