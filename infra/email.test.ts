import { describe, expect, it } from "vitest";
import { foldEmail } from "./email.js";

describe("foldEmail (security rule 2)", () => {
  it("folds ASCII case only", () => {
    expect(foldEmail("  Alice.Smith@Example.COM ")).toBe("alice.smith@example.com");
    expect(foldEmail("i@example.com")).toBe("i@example.com");
    expect(foldEmail("élodie@example.fr")).toBe("élodie@example.fr");
  });

  it("refuses addresses Unicode case folding or NFKC would change (they could alias another person)", () => {
    for (const e of [
      "\u212Aim@example.com",
      "\u00C9lodie@example.fr",
      "stra\u00DFe@example.de",
      "\uFF41dmin@example.com",
      "\u0131@example.com",
      "e\u0301@example.com",
      "\u03C2@example.gr",
    ]) {
      expect(foldEmail(e), JSON.stringify(e)).toBeUndefined();
    }
  });
});
