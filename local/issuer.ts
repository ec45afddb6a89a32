import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { SignJWT, exportJWK, generateKeyPair, importJWK } from "jose";
import type { JWK } from "jose";

/**
 * The claim in a local token holding how far the stack's clock had been moved when it was minted.
 * The local stack checks the token against its clock less the jumps made since, so a token lasts
 * one hour of real time whatever `POST /dev/clock` does meanwhile.
 */
export const CLOCK_OFFSET_CLAIM = "local_clock_offset_ms";

/** The instant a local token is checked at: the stack's clock less the jumps made since the token was minted. */
export function localTokenTime(
  clock: { now(): Date; readonly offsetMs: number },
  claims: Record<string, unknown>,
): Date {
  const minted = claims[CLOCK_OFFSET_CLAIM];
  return typeof minted === "number" && Number.isFinite(minted)
    ? new Date(clock.now().getTime() - clock.offsetMs + minted)
    : clock.now();
}

/**
 * The local JWT issuer: an ES256 key (kept in DATA_DIR so tokens survive a restart), its JWKS,
 * and `mint` for `POST /dev/token`. The API verifies these tokens through the same JWKS path as
 * a real identity provider's.
 */
export interface LocalIssuer {
  readonly issuer: string;
  readonly audience: string;
  readonly jwks: { keys: JWK[] };
  mint(email: string, opts?: { emailVerified?: boolean; ttlSeconds?: number; subject?: string }): Promise<string>;
}

export async function createLocalIssuer(opts: {
  issuer: string;
  audience: string;
  dataDir?: string;
  now: () => Date;
  clockOffsetMs?: () => number;
}): Promise<LocalIssuer> {
  const file = opts.dataDir ? join(opts.dataDir, "issuer-key.json") : undefined;
  let privateJwk: JWK;
  if (file && existsSync(file)) {
    privateJwk = JSON.parse(readFileSync(file, "utf8")) as JWK;
  } else {
    const { privateKey } = await generateKeyPair("ES256", { extractable: true });
    privateJwk = {
      ...(await exportJWK(privateKey)),
      kid: `local-${Date.now().toString(36)}`,
      alg: "ES256",
      use: "sig",
    };
    if (file) writeFileSync(file, JSON.stringify(privateJwk), { mode: 0o600 });
  }
  const { d: _private, ...publicJwk } = privateJwk;
  const key = await importJWK(privateJwk, "ES256");
  return {
    issuer: opts.issuer,
    audience: opts.audience,
    jwks: { keys: [publicJwk] },
    async mint(email, o = {}) {
      const iat = Math.floor(opts.now().getTime() / 1000);
      return new SignJWT({
        email,
        email_verified: o.emailVerified ?? true,
        ...(opts.clockOffsetMs ? { [CLOCK_OFFSET_CLAIM]: opts.clockOffsetMs() } : {}),
      })
        .setProtectedHeader({ alg: "ES256", kid: privateJwk.kid!, typ: "JWT" })
        .setIssuer(opts.issuer)
        .setAudience(opts.audience)
        .setSubject(o.subject ?? `local|${email.toLowerCase()}`)
        .setIssuedAt(iat)
        .setExpirationTime(iat + (o.ttlSeconds ?? 3600))
        .sign(key);
    },
  };
}
