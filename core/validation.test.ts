import { describe, expect, it } from "vitest";
import * as V from "./validation.js";

describe("email input (issue 12, rule 2)", () => {
  it("refuses an address Unicode folding would change, with a field issue; folds ASCII case", () => {
    expect(V.parse(V.email, " Bob@Example.com ")).toBe("bob@example.com");
    expect(() => V.parse(V.email, "\u212Aim@example.com", ["email"])).toThrow(/email: must not change under Unicode case folding or NFKC/);
  });
});
