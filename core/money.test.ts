import { describe, expect, it } from "vitest";
import { Invalid } from "./errors.js";
import { format, isCurrency, parseAmount, prepaid, times } from "./money.js";

describe("money", () => {
  it("parses decimals into minor units by the currency's exponent", () => {
    expect(parseAmount("3.00", "USD", "p")).toBe(300);
    expect(parseAmount("1.2", "EUR", "p")).toBe(120);
    expect(parseAmount("0", "EUR", "p")).toBe(0);
    expect(parseAmount("1500", "JPY", "p")).toBe(1500);
  });

  it("refuses floats' leftovers, signs, exponents and too many decimals", () => {
    for (const bad of ["-1.00", "1e3", "3.001", "abc", "", "1,00", " . "]) {
      expect(() => parseAmount(bad, "USD", "unitPrice"), bad).toThrow(Invalid);
    }
    expect(() => parseAmount("1.5", "JPY", "p")).toThrow(/0 decimal places/);
    expect(() => parseAmount("1000001.00", "USD", "p")).toThrow(/too large/);
  });

  it("formats minor units back exactly", () => {
    expect(format(1200, "USD")).toBe("12.00");
    expect(format(5, "EUR")).toBe("0.05");
    expect(format(0, "GBP")).toBe("0.00");
    expect(format(12440, "EUR")).toBe("124.40");
    expect(format(1500, "JPY")).toBe("1500");
  });

  it("knows ISO 4217 codes", () => {
    expect(isCurrency("USD")).toBe(true);
    expect(isCurrency("XYZ")).toBe(false);
    expect(isCurrency("usd")).toBe(false);
  });

  it("multiplies within the safe-integer range only", () => {
    expect(times(280, 15)).toBe(4200);
    expect(() => times(Number.MAX_SAFE_INTEGER, 2)).toThrow(RangeError);
  });

  it("charges a prepaid term by whole months, capped at the term, rounded to the minor unit", () => {
    // 3 licences at 100.00 for 7 months of a 12-month term: 3 × 10000 × 7 / 12 = 17500.
    expect(prepaid(10000, 3, 7, 12)).toBe(17500);
    // A renewal of a 36-month term charges 12 months of it.
    expect(prepaid(36000, 1, 12, 36)).toBe(12000);
    // Never more than the whole term; rounds half up.
    expect(prepaid(999, 2, 40, 36)).toBe(1998);
    expect(prepaid(1, 1, 1, 12)).toBe(0);
    expect(prepaid(7, 1, 1, 12)).toBe(1);
  });
});
