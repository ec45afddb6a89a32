import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { monotonicFactory } from "ulid";

// Monotonic: ids made in the same millisecond still sort in creation order (audit history).
const ulid = monotonicFactory();

/** New entity id: a ULID, so ids sort by creation time. */
export function newId(): string {
  return ulid();
}

/** A secret for a person to carry (invitation tokens): 256 random bits, URL-safe. */
export function newSecret(): string {
  return randomBytes(32).toString("base64url");
}

/** Secrets are stored as their SHA-256; the secret itself is never written. */
export function hashSecret(secret: string): string {
  return createHash("sha256").update(secret, "utf8").digest("hex");
}

/** Constant-time comparison of two hex digests. */
export function sameDigest(a: string, b: string): boolean {
  const ba = Buffer.from(a, "hex");
  const bb = Buffer.from(b, "hex");
  return ba.length === bb.length && ba.length > 0 && timingSafeEqual(ba, bb);
}

/** SHA-256 (hex) of a text: fingerprints of requests (order idempotency). */
export function digest(text: string): string {
  return createHash("sha256").update(text, "utf8").digest("hex");
}
