import type { Clock } from "../infra/clock.js";
import type { Store } from "../infra/store.js";
import type { UserActor } from "./actor.js";
import { Unauthenticated } from "./errors.js";

/** Addresses already bound to the identity this process saw (a binding never changes). */
const bound = new Map<string, string>();
const identityOf = (t: { readonly issuer: string; readonly subject: string }) => `${t.issuer}\u0000${t.subject}`;

/**
 * Checks that a verified address belongs to the token's identity (security rule 1). The address
 * is bound to the (`iss`, `sub`) of its first verified sign-in; a later token for the same address
 * with another identity is refused, so an address re-assigned at the IdP inherits nobody's rights.
 * Unverified addresses are never bound (they act on nothing anyway).
 */
export async function ensureBound(
  deps: { readonly store: Store; readonly clock: Clock },
  user: UserActor,
): Promise<void> {
  if (!user.emailVerified || user.issuer === undefined) return;
  const token = { issuer: user.issuer, subject: user.subject };
  const cacheKey = `${deps.store.tableName}\u0000${user.email}`;
  if (bound.get(cacheKey) === identityOf(token)) return;
  const binding =
    (await deps.store.getBinding(user.email)) ??
    (await deps.store.bindOnce({ email: user.email, ...token, boundAt: deps.clock.now().toISOString() }));
  if (identityOf(binding) !== identityOf(token))
    throw new Unauthenticated("This e-mail address belongs to another sign-in identity");
  if (bound.size >= 10_000) bound.delete(bound.keys().next().value!);
  bound.set(cacheKey, identityOf(binding));
}
