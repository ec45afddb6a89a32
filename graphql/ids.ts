import { decodeGlobalID, encodeGlobalID } from "@pothos/plugin-relay";
import { NotFound } from "../core/errors.js";

/**
 * Decodes a global id of an expected type. Anything malformed or of another type is answered
 * like an unknown id: NotFound, never an internal error.
 */
export function localId(globalId: string, typename: string): string {
  try {
    const { typename: t, id } = decodeGlobalID(globalId);
    if (t === typename && id.length > 0 && id.length <= 64) return id;
  } catch {
    // fall through
  }
  throw new NotFound(typename);
}

export function globalId(typename: string, id: string): string {
  return encodeGlobalID(typename, id);
}
