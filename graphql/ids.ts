import { decodeGlobalID, encodeGlobalID } from "@pothos/plugin-relay";
import { NotFound } from "../core/errors.js";
import { domainName } from "./global-id-plugin.js";

/**
 * Decodes a global id of an expected type. Anything malformed or of another type is answered
 * like an unknown id: NotFound, never an internal error.
 */
export function localId(globalId: string, typename: string): string {
  try {
    const { typename: t, id } = decodeGlobalID(globalId);
    if (t === typename && id.length > 0 && id.length <= 160) return id;
  } catch {
    // fall through
  }
  throw new NotFound(domainName(typename));
}

export function globalId(typename: string, id: string): string {
  return encodeGlobalID(typename, id);
}

/** The two parts of a local id "<accountId>:<key>" (subscriptions, orders), or undefined when malformed. */
export function splitScoped(local: string): { accountId: string; key: string } | undefined {
  const at = local.indexOf(":");
  if (local.length > 160 || at <= 0 || at === local.length - 1) return undefined;
  return { accountId: local.slice(0, at), key: local.slice(at + 1) };
}

/** A global id whose local part is "<accountId>:<key>": both parts, or NotFound. */
export function scopedId(globalId: string, typename: string): { accountId: string; key: string } {
  const parts = splitScoped(localId(globalId, typename));
  if (!parts) throw new NotFound(domainName(typename));
  return parts;
}

/** A global-id argument as Pothos hands it to a resolver (`t.arg.globalID` / `t.globalID`). */
export interface GlobalIdArg {
  readonly typename: string;
  readonly id: string;
}

/**
 * A global-id argument decoded by Pothos (`t.arg.globalID` / `t.globalID` with `for`) whose local
 * part is "<accountId>:<key>": both parts, or NotFound of its type.
 */
export function scoped(decoded: { readonly typename: string; readonly id: string }): {
  accountId: string;
  key: string;
} {
  const parts = splitScoped(decoded.id);
  if (!parts) throw new NotFound(domainName(decoded.typename));
  return parts;
}

/**
 * The local id of a node keyed by several parts (a member: account and e-mail; a ledger entry:
 * account, sku and version), as a JSON array: unambiguous whatever characters the parts hold.
 */
export function compositeId(...parts: readonly (string | number)[]): string {
  return JSON.stringify(parts.map(String));
}

/** The `n` parts of a composite local id, or undefined when it is malformed (the node is then unknown). */
export function compositeParts(local: string, n: number): string[] | undefined {
  if (local.length > 400) return undefined;
  try {
    const parts: unknown = JSON.parse(local);
    if (
      Array.isArray(parts) &&
      parts.length === n &&
      parts.every((p): p is string => typeof p === "string" && p.length > 0)
    )
      return parts;
  } catch {
    // malformed
  }
  return undefined;
}
