import { describe, expect, it } from "vitest";
import * as V from "./validation.js";

describe("email input (security rule 2)", () => {
  it("refuses an address Unicode folding would change, with a field issue; folds ASCII case", () => {
    expect(V.parse(V.email, " Bob@Example.com ")).toBe("bob@example.com");
    expect(() => V.parse(V.email, "\u212Aim@example.com", ["email"])).toThrow(
      /email: must not change under Unicode case folding or NFKC/,
    );
  });
});

describe("names (security rule 15)", () => {
  it("refuses bidi, zero-width and control characters and U+2028/2029; NFC-normalises", () => {
    for (const bad of [
      "a\u202Eb",
      "a\u2067b",
      "a\u200Bb",
      "a\u2060b",
      "a\u0085b",
      "a\u2028b",
      "a\u0000b",
      "a\u061Cb",
      "a\uFFFFb",
      "a\uFFFEb",
      "a\uFDD0b",
      "a\u{1FFFE}b",
      "a\uD800b",
      "a\uDC00b",
    ]) {
      expect(() => V.parse(V.name, bad, ["name"]), JSON.stringify(bad)).toThrow(/^name: must not contain/);
    }
    expect(V.parse(V.name, "  Cafe\u0301  ")).toBe("Caf\u00E9");
    expect(V.parse(V.personName, "Zoe\u0308")).toBe("Zo\u00EB");
    expect(V.parse(V.reference, "")).toBe("");
    // Emoji (a surrogate pair) are text.
    expect(V.parse(V.name, "Pizza \u{1F355}")).toBe("Pizza \u{1F355}");
    expect(V.parse(V.multilineText(100), "line \u{1F355}\nnext")).toBe("line \u{1F355}\nnext");
    expect(() => V.parse(V.multilineText(100), "a\nb\uFFFF", ["body"])).toThrow(/noncharacters/);
  });
});
