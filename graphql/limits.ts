/**
 * Every guard limit of the GraphQL endpoint, in one place. Each was measured against our own
 * operations (test/*.test.ts and bench/*.ts, recorded through armor's onAccept) and leaves margin.
 */

/** Nesting depth; our deepest operation (a typed-error union inside a connection inside a result) is 10. */
export const MAX_DEPTH = 15;
/** Aliases per operation; our largest is 100 (test/equipment-security: 100 aliased activateEquipment, throttled per device). */
export const MAX_ALIASES = 150;
/** Lexer tokens per document; our longest (that 100-alias mutation) has 3,003. */
export const MAX_TOKENS = 6000;
/** Directives per operation; we use none, clients may add a few @include/@skip. */
export const MAX_DIRECTIVES = 10;
/** Armor cost (first: N multiplies, depth ×1.5); subscriptions(first: 100) { history(first: 100) } costs 4,586,130. */
export const MAX_COST = 10_000_000;
/**
 * POST body bytes, refused with 413 before parsing. The largest legitimate body is a PBX's full
 * extension report: 10,000 (MAX_EXTENSIONS) eight-digit extensions are about 110 kB of JSON.
 */
export const MAX_BODY_BYTES = 128 * 1024;

/** The 413 answer of an oversized body (Yoga's plugin, the Lambda handlers and the local server). */
export function tooLarge(): Response {
  return Response.json(
    {
      errors: [
        { message: `Request body larger than ${MAX_BODY_BYTES} bytes`, extensions: { code: "PAYLOAD_TOO_LARGE" } },
      ],
    },
    { status: 413 },
  );
}
