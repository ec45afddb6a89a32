import { decodeGlobalID, encodeGlobalID } from "@pothos/plugin-relay";
import { NotFound } from "../core/errors.js";

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
  throw new NotFound(typename);
}

export function globalId(typename: string, id: string): string {
  return encodeGlobalID(typename, id);
}

/** A global id whose local part is "<accountId>:<key>" (subscriptions, orders): both parts, or NotFound. */
export function scopedId(globalId: string, typename: string): { accountId: string; key: string } {
  const local = localId(globalId, typename);
  const at = local.indexOf(":");
  if (at <= 0 || at === local.length - 1) throw new NotFound(typename);
  return { accountId: local.slice(0, at), key: local.slice(at + 1) };
}
