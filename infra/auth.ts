import { createRemoteJWKSet, decodeJwt, errors, jwtVerify } from "jose";
import type { JWTPayload } from "jose";
import { foldEmail } from "./email.js";

/** The claims the API relies on, after verification. */
export interface VerifiedToken {
  /** The token's `iss`: with `subject`, the identity an e-mail address is bound to at first verified sign-in. */
  readonly issuer: string;
  readonly subject: string;
  /** Folded (ASCII lower case); an address Unicode folding or NFKC would change is refused. */
  readonly email: string;
  readonly emailVerified: boolean;
}

/** Default maximum token lifetime (`exp` - `iat`): 24 h. */
export const MAX_TOKEN_LIFETIME_SECONDS = 86_400;
/** How far in the future `iat` may be (clock skew between the IdP and us). */
export const MAX_IAT_SKEW_SECONDS = 60;

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
  /** Claim names, for identity providers that differ (defaults `email`, `email_verified`). */
  readonly claims?: { readonly email?: string; readonly emailVerified?: string };
  /** Tokens living longer than this (`exp` - `iat`, or `exp` - now without `iat`) are refused; default 24 h. */
  readonly maxLifetimeSeconds?: number;
  /** `iat` further than this in the future is refused; default 60 s. */
  readonly iatSkewSeconds?: number;
}

export type TokenVerifier = (token: string) => Promise<VerifiedToken>;

/**
 * Verifies bearer JWTs against the issuer's JWKS (fetched once, cached by jose, refreshed on an
 * unknown kid). The local issuer is verified through this same path.
 */
export function createTokenVerifier(opts: VerifierOptions): TokenVerifier {
  const jwks = createRemoteJWKSet(new URL(opts.jwksUrl), {
    timeoutDuration: 3000,
    cooldownDuration: 30_000,
    cacheMaxAge: 600_000,
  });
  const algorithms = [...(opts.algorithms ?? ["ES256", "RS256"])];
  // A warm Lambda sees the same token many times: remember verified tokens until they expire.
  const verified = new Map<string, { claims: VerifiedToken; exp: number; payload: JWTPayload }>();
  const now = opts.now ?? (() => new Date());
  const emailClaim = opts.claims?.email ?? "email";
  const verifiedClaim = opts.claims?.emailVerified ?? "email_verified";
  const maxLifetime = opts.maxLifetimeSeconds ?? MAX_TOKEN_LIFETIME_SECONDS;
  const iatSkew = opts.iatSkewSeconds ?? MAX_IAT_SKEW_SECONDS;
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
        requiredClaims: ["iss", "sub", "exp"],
        clockTolerance: 5,
        currentDate: now(decodeJwt(token)),
      });
      const nowSec = now(payload).getTime() / 1000;
      const exp = payload.exp!;
      if (payload.iat !== undefined && payload.iat > nowSec + iatSkew)
        throw new InvalidToken("token issued in the future");
      if (exp - (payload.iat ?? nowSec) > maxLifetime) throw new InvalidToken("token lifetime too long");
      const raw = payload[emailClaim];
      if (typeof raw !== "string" || !raw.trim()) throw new InvalidToken("token has no email claim");
      const email = foldEmail(raw);
      if (!email) throw new InvalidToken("token email is not a canonical address");
      // Some IdPs (Cognito) send the flag as the string "true".
      const flag = payload[verifiedClaim];
      const emailVerified = flag === true || flag === "true";
      return { claims: { issuer: payload.iss!, subject: payload.sub!, email, emailVerified }, exp, payload };
    } catch (err) {
      if (err instanceof InvalidToken) throw err;
      if (err instanceof errors.JOSEError) throw new InvalidToken(err.code);
      throw new InvalidToken("verification failed");
    }
  }
}
