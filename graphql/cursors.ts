import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from "node:crypto";

/**
 * Opaque cursors. The store's cursors name raw DynamoDB keys; clients get them encrypted and
 * authenticated (AES-256-GCM) with a key derived from the stage's cursor secret, bound to the list
 * they came from (`Type.field` as associated data). A tampered, truncated or foreign cursor fails
 * to open. The IV is a keyed hash of the plaintext (deterministic, SIV-style): the same position
 * always gets the same cursor, so `endCursor` equals the last edge's cursor.
 */
export interface CursorSeal {
  seal(list: string, cursor: string): string;
  /** The store's cursor, or undefined when the cursor is not one of this list sealed with this key. */
  open(list: string, sealed: string): string | undefined;
}

const IV_BYTES = 12;
const TAG_BYTES = 16;

/** Seals with keys derived (HKDF) from a secret of at least 32 characters. */
export function cursorSeal(secret: string): CursorSeal {
  if (secret.length < 32) throw new Error("the cursor secret must be at least 32 characters");
  const derive = (info: string) => Buffer.from(hkdfSync("sha256", Buffer.from(secret), Buffer.alloc(0), info, 32));
  const encKey = derive("graphql cursor encryption v1");
  const ivKey = derive("graphql cursor iv v1");
  return {
    seal(list, cursor) {
      const iv = createHmac("sha256", ivKey).update(list).update("\0").update(cursor).digest().subarray(0, IV_BYTES);
      const cipher = createCipheriv("aes-256-gcm", encKey, iv);
      cipher.setAAD(Buffer.from(list));
      const body = Buffer.concat([cipher.update(cursor, "utf8"), cipher.final()]);
      return Buffer.concat([iv, body, cipher.getAuthTag()]).toString("base64url");
    },
    open(list, sealed) {
      if (!/^[A-Za-z0-9_-]{1,4096}$/.test(sealed)) return undefined;
      const raw = Buffer.from(sealed, "base64url");
      // Canonical encoding only: a changed unused bit of the last character is a changed cursor too.
      if (raw.length <= IV_BYTES + TAG_BYTES || raw.toString("base64url") !== sealed) return undefined;
      try {
        const decipher = createDecipheriv("aes-256-gcm", encKey, raw.subarray(0, IV_BYTES));
        decipher.setAAD(Buffer.from(list));
        decipher.setAuthTag(raw.subarray(raw.length - TAG_BYTES));
        return Buffer.concat([
          decipher.update(raw.subarray(IV_BYTES, raw.length - TAG_BYTES)),
          decipher.final(),
        ]).toString("utf8");
      } catch {
        return undefined;
      }
    },
  };
}

/** A key for one process only (tests, benches): cursors do not survive a restart. */
export function ephemeralCursorSecret(): string {
  return randomBytes(32).toString("base64url");
}
