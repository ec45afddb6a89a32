// The language-free entry: only `isValid` is used, and the Node entry requires its 80 language files by a built-up path (which SST's esbuild 0.18 cannot bundle).
import countries from "i18n-iso-countries/index.js";
import * as z from "zod";
import { foldEmail } from "../infra/email.js";
import { Invalid } from "./errors.js";

// eslint-disable-next-line no-control-regex -- rejecting control characters is the point
const controlChars = /[\u0000-\u001f\u007f]/;

/** A display name: trimmed, 1 to 120 characters, no control characters. */
export const name = z
  .string()
  .trim()
  .min(1, "must not be empty")
  .max(120, "must be at most 120 characters")
  .refine((v) => !controlChars.test(v), "must not contain control characters");

/** A partner's own CRM reference: optional; an empty string clears it. */
export const reference = z
  .string()
  .trim()
  .max(100, "must be at most 100 characters")
  .refine((v) => !controlChars.test(v), "must not contain control characters");

/** ISO 3166-1 alpha-2, upper case. */
export const country = z
  .string()
  .trim()
  .transform((v) => v.toUpperCase())
  .refine((v) => /^[A-Z]{2}$/.test(v) && countries.isValid(v), "must be an ISO 3166-1 alpha-2 country code");

/**
 * An e-mail address, compared and stored in ASCII lower case; one that Unicode case folding or
 * NFKC would change is refused (issue 12, rule 2: it could alias another person or invitation).
 */
export const email = z
  .string()
  .trim()
  .max(254, "must be at most 254 characters")
  .refine((v) => foldEmail(v) !== undefined, "must not change under Unicode case folding or NFKC")
  .transform((v) => foldEmail(v) ?? v)
  .pipe(z.string().email("must be an e-mail address"));

export const personName = z.string().trim().max(80, "must be at most 80 characters").refine((v) => !controlChars.test(v), "must not contain control characters");

/** Parses input with a schema; every failure becomes one Invalid with field paths. */
export function parse<S extends z.ZodType>(schema: S, input: unknown, prefix: string[] = []): z.infer<S> {
  const r = schema.safeParse(input);
  if (r.success) return r.data;
  throw new Invalid(r.error.issues.map((i) => ({ path: [...prefix, ...i.path.map(String)], message: i.message })));
}

/** The search key of a name or reference: lower case, inner spaces collapsed. */
export function searchKey(v: string): string {
  return v.trim().replace(/\s+/g, " ").toLowerCase();
}
