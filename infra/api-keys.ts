import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } from "node:crypto";
import { SignJWT, decodeJwt, errors, importJWK, jwtVerify } from "jose";
import type { JWK } from "jose";
import { isDeviceSigningJwk } from "./device-keys.js";

/** The audience of API client access tokens: a bearer token with it is a client, never a person or a PBX. */
export const CLIENT_AUDIENCE = "api-client";
/** The issuer of access tokens: this service. */
export const API_ISSUER = "channel-partner-api";

/** What a verified client access token says. */
export interface ClientClaims {
  readonly accountId: string;
  readonly clientId: string;
  /** The secret generation the token was issued for (rotation). */
  readonly generation: number;
}

export class InvalidClientToken extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = "InvalidClientToken";
  }
}

/**
 * The API's own key: signs the access tokens of API clients (ES256 JWTs, 15 minutes) and
 * seals webhook signing secrets at rest. In AWS it is the SST secret API_SIGNING_KEY; locally it is
 * generated once and kept in DATA_DIR (local/api-key.ts).
 */
export interface ApiKeys {
  accessToken(claims: ClientClaims, now: Date, ttlSeconds: number): Promise<string>;
  /** Verifies signature, algorithm, issuer, audience and expiry at `now`; throws InvalidClientToken. */
  verify(token: string, now: Date): Promise<ClientClaims>;
  /** Encrypts a webhook secret for storage (AES-256-GCM, key derived from the private key). */
  seal(secret: string): string;
  open(sealed: string): string;
}

export function createApiKeys(privateJwk: JWK): ApiKeys {
  if (!isDeviceSigningJwk(privateJwk)) throw new Error("the API signing key must be an EC P-256 private JWK");
  const { d, ...publicJwk } = privateJwk;
  let signing: Promise<CryptoKey | Uint8Array> | undefined;
  let checking: Promise<CryptoKey | Uint8Array> | undefined;
  const signingKey = () => (signing ??= importJWK({ ...privateJwk, alg: "ES256" }, "ES256"));
  const checkingKey = () => (checking ??= importJWK({ ...publicJwk, alg: "ES256" }, "ES256"));
  // One configured secret; the sealing key is derived from it (HKDF), never the signature key itself.
  const sealKey = Buffer.from(
    hkdfSync("sha256", Buffer.from(d!, "base64url"), Buffer.alloc(0), "webhook secret sealing v1", 32),
  );
  const kid = privateJwk.kid;
  return {
    async accessToken(c, now, ttlSeconds) {
      const iat = Math.floor(now.getTime() / 1000);
      return new SignJWT({ acc: c.accountId, gen: c.generation })
        .setProtectedHeader({ alg: "ES256", typ: "at+jwt", ...(kid ? { kid } : {}) })
        .setIssuer(API_ISSUER)
        .setAudience(CLIENT_AUDIENCE)
        .setSubject(c.clientId)
        .setIssuedAt(iat)
        .setExpirationTime(iat + ttlSeconds)
        .setJti(randomBytes(12).toString("base64url"))
        .sign(await signingKey());
    },
    async verify(token, now) {
      try {
        const { payload } = await jwtVerify(token, await checkingKey(), {
          issuer: API_ISSUER,
          audience: CLIENT_AUDIENCE,
          algorithms: ["ES256"],
          requiredClaims: ["sub", "exp", "acc", "gen"],
          currentDate: now,
          clockTolerance: 5,
        });
        const { sub, acc, gen } = payload;
        if (typeof sub !== "string" || typeof acc !== "string" || typeof gen !== "number" || !Number.isInteger(gen))
          throw new InvalidClientToken("malformed claims");
        return { accountId: acc, clientId: sub, generation: gen };
      } catch (err) {
        if (err instanceof InvalidClientToken) throw err;
        if (err instanceof errors.JOSEError) throw new InvalidClientToken(err.code);
        throw new InvalidClientToken("verification failed");
      }
    },
    seal(secret) {
      const iv = randomBytes(12);
      const cipher = createCipheriv("aes-256-gcm", sealKey, iv);
      const body = Buffer.concat([cipher.update(secret, "utf8"), cipher.final()]);
      return `v1.${Buffer.concat([iv, cipher.getAuthTag(), body]).toString("base64url")}`;
    },
    open(sealed) {
      const raw = Buffer.from(sealed.slice(3), "base64url");
      const decipher = createDecipheriv("aes-256-gcm", sealKey, raw.subarray(0, 12));
      decipher.setAuthTag(raw.subarray(12, 28));
      return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString("utf8");
    },
  };
}

/** Whether a bearer token claims to be a client access token (unverified: only to pick the verifier). */
export function claimsClientAudience(token: string): boolean {
  try {
    const { aud } = decodeJwt(token);
    return aud === CLIENT_AUDIENCE || (Array.isArray(aud) && aud.includes(CLIENT_AUDIENCE));
  } catch {
    return false;
  }
}

/** A client secret: 256 random bits, prefixed so scanners recognise a leaked one. */
export function newClientSecret(): string {
  return `cps_${randomBytes(32).toString("base64url")}`;
}

/** The stored digest of a client secret (SHA-256 suffices for 256-bit random secrets: nothing to brute-force). */
export function secretDigest(secret: string): string {
  return createHash("sha256").update(secret, "utf8").digest("hex");
}

/** A client id: the account id and 96 random bits (the id alone finds the client's item). */
export function newClientId(accountId: string): string {
  return `cpc_${accountId}_${randomBytes(12).toString("hex")}`;
}

/** The account id inside a client id, or undefined when malformed. */
export function accountOfClientId(clientId: string): string | undefined {
  const m = /^cpc_([A-Za-z0-9-]{1,64})_[0-9a-f]{24}$/.exec(clientId);
  return m?.[1];
}

/** A webhook signing secret in the Standard Webhooks format: `whsec_` and 32 random bytes, base64. */
export function newWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString("base64")}`;
}
