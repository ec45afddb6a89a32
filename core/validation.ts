// The language-free entry: only `isValid` is used, and the Node entry requires its 80 language files by a built-up path (which SST's esbuild 0.18 cannot bundle).
import countries from "i18n-iso-countries/index.js";
import * as z from "zod";
import { foldEmail } from "../infra/email.js";
import { Invalid } from "./errors.js";

// eslint-disable-next-line no-control-regex -- rejecting control characters is the point
const controlChars = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;
/** Bidi embeddings, overrides and isolates (a name that reorders what surrounds it) and their marks. */
const bidiChars = /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/;
/** Zero-width characters (invisible differences between two names that look the same). */
const zeroWidthChars = /[\u200b-\u200d\u2060\ufeff]/;
/** Noncharacters (U+FFFE, U+FFFF, U+FDD0-U+FDEF, …) and unpaired surrogates: no text; SQS and mail refuse some. */
const notText = /[\p{Noncharacter_Code_Point}\p{Cs}]/u;

/**
 * A text a person sees (security rule 15): C0/C1 controls, U+2028/2029, bidi overrides and isolates
 * and zero-width characters are refused; the text is stored NFC-normalised.
 */
const displayText = (max: number, min: number) =>
  z
    .string()
    // Checked before the full trim: trim() would quietly drop a leading U+FEFF or a trailing U+2028.
    .transform((v) => v.replace(/^[ \t\r\n]+|[ \t\r\n]+$/g, ""))
    .refine((v) => !controlChars.test(v), "must not contain control characters")
    .refine((v) => !bidiChars.test(v), "must not contain bidirectional control characters")
    .refine((v) => !zeroWidthChars.test(v), "must not contain zero-width characters")
    .refine((v) => !notText.test(v), "must not contain noncharacters or unpaired surrogates")
    .transform((v) => v.normalize("NFC").trim())
    .pipe(z.string().min(min, "must not be empty").max(max, `must be at most ${max} characters`));

/** A display name: trimmed, 1 to 120 characters, NFC, no control, bidi or zero-width characters. */
export const name = displayText(120, 1);

/** A postal address as printed on invoices: up to 6 lines of display text (100 characters each). */
export const postalAddress = z
  .string()
  .max(700, "must be at most 700 characters")
  .transform((v) => v.split(/\r?\n/))
  .pipe(z.array(displayText(100, 0)).max(6, "must be at most 6 lines"))
  .transform((lines) => lines.filter((l) => l.length > 0).join("\n"));

/** A VAT registration number: a two-letter prefix and 2 to 13 letters or digits (spaces, dots and dashes dropped). */
export const vatId = z
  .string()
  .max(40, "must be at most 40 characters")
  .transform((v) => v.replace(/[\s.-]/g, "").toUpperCase())
  .pipe(
    z
      .string()
      .regex(
        /^([A-Z]{2}[A-Z0-9+*]{2,13})?$/,
        "must be a VAT number: a two-letter prefix and 2 to 13 letters or digits, e.g. FR12345678901",
      ),
  );

/** A purchase-order number as the customer's buyer gives it. */
export const purchaseOrder = displayText(50, 0);

/** A partner's own CRM reference: optional; an empty string clears it. */
export const reference = displayText(100, 0);

/** ISO 3166-1 alpha-2, upper case. */
export const country = z
  .string()
  .trim()
  .transform((v) => v.toUpperCase())
  .refine((v) => /^[A-Z]{2}$/.test(v) && countries.isValid(v), "must be an ISO 3166-1 alpha-2 country code");

/**
 * An e-mail address, compared and stored in ASCII lower case; one that Unicode case folding or
 * NFKC would change is refused (security rule 2: it could alias another person or invitation).
 */
export const email = z
  .string()
  .trim()
  .max(254, "must be at most 254 characters")
  .refine((v) => foldEmail(v) !== undefined, "must not change under Unicode case folding or NFKC")
  .transform((v) => foldEmail(v) ?? v)
  .pipe(z.string().email("must be an e-mail address"));

export const personName = displayText(80, 0);

/** A free description (webhook endpoints): optional, at most 500 characters, the same hygiene as names. */
export const description = displayText(500, 0);

/**
 * A text of several lines (a ticket's description, a comment): each line with the hygiene of a name,
 * lines joined with "\n", surrounding blank lines dropped; 1 to `max` characters in all.
 */
export const multilineText = (max: number) =>
  z
    .string()
    .max(max, `must be at most ${max} characters`)
    .transform((v) => v.split(/\r?\n/))
    .pipe(z.array(displayText(max, 0)).max(200, "must be at most 200 lines"))
    .transform((lines) => lines.join("\n").trim())
    .pipe(z.string().min(1, "must not be empty").max(max, `must be at most ${max} characters`));

/**
 * An optional field a GraphQL client may also send as null: null reads as absent, so resolvers pass
 * their inputs through as they come.
 */
export const absentIfNull = <S extends z.ZodType>(schema: S) =>
  schema
    .nullish()
    .transform((v) => v ?? undefined)
    .optional();

/** Every issue of a failed parse, as one Invalid with field paths under `prefix`. */
const invalidOf = (error: z.ZodError, prefix: string[]) =>
  new Invalid(error.issues.map((i) => ({ path: [...prefix, ...i.path.map(String)], message: i.message })));

/** Parses input with a schema; every failure becomes one Invalid with field paths. */
export function parse<S extends z.ZodType>(schema: S, input: unknown, prefix: string[] = []): z.infer<S> {
  const r = schema.safeParse(input);
  if (r.success) return r.data;
  throw invalidOf(r.error, prefix);
}

/** `parse`, for schemas with asynchronous rules (a public number: its numbering plans load on first use). */
export async function parseAsync<S extends z.ZodType>(
  schema: S,
  input: unknown,
  prefix: string[] = [],
): Promise<z.infer<S>> {
  const r = await schema.safeParseAsync(input);
  if (r.success) return r.data;
  throw invalidOf(r.error, prefix);
}

/** The search key of a name or reference: lower case, inner spaces collapsed. */
export function searchKey(v: string): string {
  return v.trim().replace(/\s+/g, " ").toLowerCase();
}
