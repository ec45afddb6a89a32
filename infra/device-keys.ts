import { createHmac, hkdfSync, randomBytes, randomInt, timingSafeEqual } from "node:crypto";
import { SignJWT, decodeJwt, errors, importJWK, jwtVerify } from "jose";
import type { JWK } from "jose";

/** The audience of device credentials: a bearer token with it is a PBX, never a person. */
export const DEVICE_AUDIENCE = "device";
/** The issuer of device credentials: this service. */
export const DEVICE_ISSUER = "channel-partner-api";

/** What a verified device credential says: which equipment, and which credential version. */
export interface DeviceClaims {
  readonly accountId: string;
  readonly equipmentId: string;
  readonly version: number;
}

export class InvalidDeviceCredential extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = "InvalidDeviceCredential";
  }
}

/**
 * The service's own key for equipment: signs device credentials (ES256 JWTs) and keys the
 * digests of activation codes. One private JWK (P-256) holds both: in AWS it comes from
 * DEVICE_SIGNING_KEY, locally it is generated once and kept in DATA_DIR (local/device-key.ts).
 */
export interface DeviceKeys {
  /** A credential for the equipment (no expiry: it is revoked by bumping the equipment's credential version). */
  credential(claims: DeviceClaims, now: Date): Promise<string>;
  /** Verifies signature, algorithm, issuer and audience; throws InvalidDeviceCredential. */
  verify(token: string): Promise<DeviceClaims>;
  /** The keyed digest of an activation code, bound to its equipment. */
  codeDigest(equipmentId: string, code: string): string;
}

/** Checks that a JWK is an ES256 private key (EC P-256 with its private part). */
export function isDeviceSigningJwk(jwk: unknown): jwk is JWK {
  const k = jwk as JWK | null;
  return (
    !!k &&
    typeof k === "object" &&
    k.kty === "EC" &&
    k.crv === "P-256" &&
    typeof k.d === "string" &&
    typeof k.x === "string" &&
    typeof k.y === "string"
  );
}

/**
 * Device keys from a private JWK. The key is imported on first use, so wiring stays synchronous
 * (a Lambda builds its dependencies at cold start).
 */
export function createDeviceKeys(privateJwk: JWK): DeviceKeys {
  if (!isDeviceSigningJwk(privateJwk)) throw new Error("the device signing key must be an EC P-256 private JWK");
  const { d, ...publicJwk } = privateJwk;
  let signing: Promise<CryptoKey | Uint8Array> | undefined;
  let checking: Promise<CryptoKey | Uint8Array> | undefined;
  const signingKey = () => (signing ??= importJWK({ ...privateJwk, alg: "ES256" }, "ES256"));
  const checkingKey = () => (checking ??= importJWK({ ...publicJwk, alg: "ES256" }, "ES256"));
  // A separate key for code digests, derived from the private scalar (HKDF), so one secret is
  // configured and a signature key is never used as an HMAC key directly.
  const macKey = Buffer.from(
    hkdfSync("sha256", Buffer.from(d!, "base64url"), Buffer.alloc(0), "equipment activation code digest v1", 32),
  );
  const kid = privateJwk.kid;

  return {
    async credential(c, now) {
      return new SignJWT({ acc: c.accountId, ver: c.version })
        .setProtectedHeader({ alg: "ES256", typ: "JWT", ...(kid ? { kid } : {}) })
        .setIssuer(DEVICE_ISSUER)
        .setAudience(DEVICE_AUDIENCE)
        .setSubject(c.equipmentId)
        .setIssuedAt(Math.floor(now.getTime() / 1000))
        .sign(await signingKey());
    },
    async verify(token) {
      try {
        const { payload } = await jwtVerify(token, await checkingKey(), {
          issuer: DEVICE_ISSUER,
          audience: DEVICE_AUDIENCE,
          algorithms: ["ES256"],
          requiredClaims: ["sub", "acc", "ver"],
        });
        const { sub, acc, ver } = payload;
        if (typeof sub !== "string" || typeof acc !== "string" || typeof ver !== "number" || !Number.isInteger(ver))
          throw new InvalidDeviceCredential("malformed claims");
        return { accountId: acc, equipmentId: sub, version: ver };
      } catch (err) {
        if (err instanceof InvalidDeviceCredential) throw err;
        if (err instanceof errors.JOSEError) throw new InvalidDeviceCredential(err.code);
        throw new InvalidDeviceCredential("verification failed");
      }
    },
    codeDigest(equipmentId, code) {
      return createHmac("sha256", macKey).update(`${equipmentId}\n${code}`, "utf8").digest("hex");
    },
  };
}

/** Whether a bearer token claims to be a device credential (unverified: only to pick the verifier). */
export function claimsDeviceAudience(token: string): boolean {
  try {
    const { aud } = decodeJwt(token);
    return aud === DEVICE_AUDIENCE || (Array.isArray(aud) && aud.includes(DEVICE_AUDIENCE));
  } catch {
    return false;
  }
}

/** Constant-time comparison of two hex digests of the same kind. */
export function sameCodeDigest(a: string, b: string): boolean {
  const ba = Buffer.from(a, "hex");
  const bb = Buffer.from(b, "hex");
  return ba.length === bb.length && ba.length > 0 && timingSafeEqual(ba, bb);
}

/** A device id: `PBX` + 128 random bits as 32 hex digits in groups of four (Rainbow's format). */
export function newDeviceId(): string {
  const hex = randomBytes(16).toString("hex");
  return `PBX${hex.match(/.{4}/g)!.join("-")}`;
}

/** A numeric activation code of `digits` digits, uniform (crypto randomInt rejects biased draws). */
export function newActivationCode(digits: number): string {
  return randomInt(0, 10 ** digits)
    .toString()
    .padStart(digits, "0");
}
