import { describe, expect, it } from "vitest";
import { cursorSeal, ephemeralCursorSecret } from "./cursors.js";

const INNER = Buffer.from(JSON.stringify({ pk: "$cp#account_01abc", sk: "$account_1" })).toString("base64");

describe("cursor seal", () => {
  const seal = cursorSeal(ephemeralCursorSecret());

  it("opens what it sealed for the same list, and hides the store's cursor", () => {
    const sealed = seal.seal("Account.children", INNER);
    expect(sealed).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(sealed).not.toContain(INNER.slice(0, 12));
    expect(seal.open("Account.children", sealed)).toBe(INNER);
  });

  it("gives the same position the same cursor (endCursor equals the last edge's cursor)", () => {
    expect(seal.seal("Account.children", INNER)).toBe(seal.seal("Account.children", INNER));
    expect(seal.seal("Account.members", INNER)).not.toBe(seal.seal("Account.children", INNER));
  });

  it("refuses every single-character change, a truncation, another list and another key", () => {
    const sealed = seal.seal("Account.children", INNER);
    for (let i = 0; i < sealed.length; i++) {
      const changed = sealed.slice(0, i) + (sealed[i] === "A" ? "B" : "A") + sealed.slice(i + 1);
      expect(seal.open("Account.children", changed)).toBeUndefined();
    }
    expect(seal.open("Account.children", sealed.slice(0, -1))).toBeUndefined();
    expect(seal.open("Account.children", "")).toBeUndefined();
    expect(seal.open("Account.children", "%%%")).toBeUndefined();
    expect(seal.open("Account.members", sealed)).toBeUndefined();
    expect(cursorSeal(ephemeralCursorSecret()).open("Account.children", sealed)).toBeUndefined();
  });

  it("wants a secret of at least 32 characters", () => {
    expect(() => cursorSeal("short")).toThrow(/32 characters/);
  });
});
