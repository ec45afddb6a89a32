import { createRemoteJWKSet, decodeJwt, errors, jwtVerify } from "jose";
import type { JWTPayload } from "jose";

/** The claims the API relies on, after verification. */
export interface VerifiedToken {
  readonly subject: string;
  readonly email: string;
  readonly emailVerified: boolean;
}

export class InvalidToken extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = "InvalidToken";
  }
}

export interface VerifierOptions {
  readonly jwksUrl: string;
  readonly issuer: string;
  readonly audience: string;
  /** Pinned: a token signed with any other algorithm (none, HS256...) is refused. */
  readonly algorithms?: readonly string[];
  /**
   * The time a token is checked against, given its claims (still unverified: a forged claim fails the
   * signature check that follows). The system clock when absent; the local stack's clock, less the
   * jumps made since the token was minted, there.
   */
  readonly now?: (claims: JWTPayload) => Date;
}

export type TokenVerifier = (token: string) => Promise<VerifiedToken>;

/**
 * Verifies bearer JWTs against the issuer's JWKS (fetched once, cached by jose, refreshed on an
 * unknown kid). The local issuer is verified through this same path.
 */
export function createTokenVerifier(opts: VerifierOptions): TokenVerifier {
  const jwks = createRemoteJWKSet(new URL(opts.jwksUrl), { timeoutDuration: 3000, cooldownDuration: 30_000, cacheMaxAge: 600_000 });
  const algorithms = [...(opts.algorithms ?? ["ES256", "RS256"])];
  // A warm Lambda sees the same token many times: remember verified tokens until they expire.
  const verified = new Map<string, { claims: VerifiedToken; exp: number; payload: JWTPayload }>();
  const now = opts.now ?? (() => new Date());
  return async (token) => {
    const hit = verified.get(token);
    if (hit && hit.exp > now(hit.payload).getTime() / 1000) return hit.claims;
    if (hit) verified.delete(token);
    const claims = await verifyOnce(token);
    if (verified.size >= 1000) verified.delete(verified.keys().next().value!);
    verified.set(token, claims);
    return claims.claims;
  };

  async function verifyOnce(token: string): Promise<{ claims: VerifiedToken; exp: number; payload: JWTPayload }> {
    try {
      const { payload } = await jwtVerify(token, jwks, {
        issuer: opts.issuer,
        audience: opts.audience,
        algorithms,
        requiredClaims: ["sub", "exp"],
        clockTolerance: 5,
        currentDate: now(decodeJwt(token)),
      });
      const email = typeof payload.email === "string" ? payload.email.trim().toLowerCase() : "";
      if (!email) throw new InvalidToken("token has no email claim");
      return { claims: { subject: payload.sub!, email, emailVerified: payload.email_verified === true }, exp: payload.exp!, payload };
    } catch (err) {
      if (err instanceof InvalidToken) throw err;
      if (err instanceof errors.JOSEError) throw new InvalidToken(err.code);
      throw new InvalidToken("verification failed");
    }
  }
}
