import type { Actor } from "../core/actor.js";
import * as ApiClient from "../core/api-client.js";
import type { Deps } from "../core/context.js";
import * as Equipment from "../core/equipment.js";
import { RateLimited } from "../core/errors.js";
import { claimsClientAudience } from "../infra/api-keys.js";

/** Turns a bearer token into a verified identity; throws when the token is not acceptable. */
export type Authenticate = (
  token: string,
) => Promise<{ issuer: string; subject: string; email: string; emailVerified: boolean }>;

/** The token of an `Authorization` header; the scheme name is case-insensitive (RFC 7235 §2.1). */
export function bearerToken(header: string): string | undefined {
  return /^Bearer ([A-Za-z0-9._~+/=-]+)$/i.exec(header.trim())?.[1];
}

/** A request whose credentials are refused: every route answers it with 401 and this message. */
export class BadCredentials extends Error {}

/**
 * Who calls, from a request's `Authorization` header: the one parser of the API's routes (GraphQL
 * and the invoice downloads). No header is the public actor. A PBX's credential (audience "device")
 * and an API client's access token (audience "api-client") are verified with the service's own
 * keys; any other token goes to the identity provider's verifier. A malformed header or any
 * refused token throws `BadCredentials`; an API client over its allowance throws `RateLimited`
 * (told when to come back, not that its token is bad).
 */
export async function actorOf(header: string | null, deps: Deps, authenticate: Authenticate): Promise<Actor> {
  if (header === null) return { type: "public" };
  const token = bearerToken(header);
  if (!token) throw new BadCredentials("Malformed Authorization header");
  try {
    if (Equipment.isDeviceCredential(token)) return await Equipment.authenticate(deps, token);
    if (claimsClientAudience(token)) return await ApiClient.authenticate(deps, token);
    return { type: "user", ...(await authenticate(token)) };
  } catch (err) {
    if (err instanceof RateLimited) throw err;
    throw new BadCredentials("Invalid or expired token");
  }
}
