import { Invalid } from "./errors.js";

/**
 * Exact money: integer minor units plus an ISO 4217 code, never floats (DESIGN 1). Written by
 * hand: it is a few lines over `Intl` (which knows each currency's minor-unit exponent). dinero.js 2
 * (released, 2.0.x) was weighed and not adopted: the store, GraphQL and documents all carry
 * integer minor units and decimal strings already, the only arithmetic is quantity × price, one
 * prorating and VAT, each rounded once; wrapping every amount in a Dinero object (and mapping
 * ISO codes to its currency objects) would add allocations on billing's hot path for no rule the
 * code does not already keep. See the README's "Decisions".
 */
export interface Money {
  readonly amount: number;
  readonly currency: string;
}

const known = new Set(Intl.supportedValuesOf("currency"));

/** Whether a code is an ISO 4217 currency this runtime knows. */
export function isCurrency(code: string): boolean {
  return known.has(code);
}

/** Digits after the decimal point in a currency (2 for USD/EUR/GBP, 0 for JPY). */
export function exponent(currency: string): number {
  let digits = exponents.get(currency);
  if (digits === undefined) {
    digits = new Intl.NumberFormat("en", { style: "currency", currency }).resolvedOptions().maximumFractionDigits ?? 2;
    exponents.set(currency, digits);
  }
  return digits;
}
// Building an Intl.NumberFormat costs ~10 µs; a page of prices asks for the same few currencies.
const exponents = new Map<string, number>();

/** Largest unit price accepted: keeps every order total far inside the safe-integer range. */
export const MAX_UNIT_MINOR = 100_000_000;

/** Parses a decimal string ("3.00", "1.2") into minor units; more digits than the currency has is an error. */
export function parseAmount(text: string, currency: string, field: string): number {
  const digits = exponent(currency);
  const m = /^(\d{1,12})(?:\.(\d+))?$/.exec(text.trim());
  if (!m) throw Invalid.field(field, "must be a decimal amount such as 3.00");
  const frac = m[2] ?? "";
  if (frac.length > digits) throw Invalid.field(field, `${currency} has ${digits} decimal places`);
  const minor = Number(m[1]) * 10 ** digits + Number(frac.padEnd(digits, "0") || "0");
  if (!Number.isSafeInteger(minor) || minor > MAX_UNIT_MINOR) throw Invalid.field(field, "is too large");
  return minor;
}

/** Minor units as a decimal string in the currency's major unit ("12.00"). */
export function format(minor: number, currency: string): string {
  const digits = exponent(currency);
  const sign = minor < 0 ? "-" : "";
  const abs = Math.abs(minor);
  if (digits === 0) return `${sign}${abs}`;
  const s = String(abs).padStart(digits + 1, "0");
  return `${sign}${s.slice(0, -digits)}.${s.slice(-digits)}`;
}

/**
 * The one prepaid charge (DESIGN 1): `quantity` licences for `months` whole months of a
 * `termMonths` term, rounded to the minor unit. Orders of licences added mid-term, quantity
 * increases and renewals all charge through it.
 */
export function prepaid(unitMinor: number, quantity: number, months: number, termMonths: number): number {
  return Math.round((times(unitMinor, quantity) * Math.min(months, termMonths)) / termMonths);
}

/** quantity × unit price, refusing anything outside the safe-integer range. */
export function times(unitMinor: number, quantity: number): number {
  const v = unitMinor * quantity;
  if (!Number.isSafeInteger(v)) throw new RangeError("amount out of range");
  return v;
}
