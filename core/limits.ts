import type { TxEntities } from "../infra/store.js";
import { RateLimited } from "./errors.js";
import { guard } from "./tx.js";
import type { Guarded } from "./tx.js";
import { DAY_S } from "./time.js";
import * as Cond from "../infra/store/conditions.js";

/**
 * Per-account rate limits, on top of API Gateway's per-stage throttling: how many
 * invitations an account sends, and how many activation codes are tried on its PBXs, per window.
 * A deployment may lower or raise them through `Deps.rateLimits`.
 */
export const RATE_LIMITS = {
  /** Member, owner (account creation) and move invitations mailed on behalf of one account. */
  invitation: { max: 200, windowSeconds: 3600 },
  /** Activation codes evaluated on one account's PBXs (each PBX also allows 5 per issued code). */
  activation: { max: 100, windowSeconds: 3600 },
} as const satisfies Record<string, RateLimit>;

export interface RateLimit {
  readonly max: number;
  readonly windowSeconds: number;
}
export type LimitName = keyof typeof RATE_LIMITS;
export type RateLimits = Readonly<Partial<Record<LimitName, RateLimit>>>;
/** What the limits read of the session's dependencies: a deployment's overrides. */
interface Tuning {
  readonly rateLimits?: RateLimits | undefined;
}

function limitOf(deps: Tuning, name: LimitName): RateLimit {
  return deps.rateLimits?.[name] ?? RATE_LIMITS[name];
}

/** The fixed window `now` falls in: its start, and the seconds until it ends. */
export function windowOf(limit: RateLimit, now: Date): { start: string; endsInSeconds: number; endEpoch: number } {
  const size = limit.windowSeconds * 1000;
  const start = Math.floor(now.getTime() / size) * size;
  return {
    start: new Date(start).toISOString(),
    endsInSeconds: Math.max(1, Math.ceil((start + size - now.getTime()) / 1000)),
    endEpoch: Math.floor((start + size) / 1000),
  };
}

/**
 * The counter write of one action (`count` of them): +count in the account's current window, only
 * while the result stays within the limit; its refusal is RateLimited, with the seconds to wait.
 */
export function hitOp(e: TxEntities, deps: Tuning, name: LimitName, accountId: string, now: Date, count = 1): Guarded {
  const limit = limitOf(deps, name);
  const w = windowOf(limit, now);
  const op = e.rateCounter
    .update({ accountId, limit: name, window: w.start })
    .add({ count })
    // Kept a day past its window, then DynamoDB's TTL removes it.
    .set({ expiresAt: w.endEpoch + DAY_S })
    .where(Cond.withinLimit(limit.max, count))
    .commit();
  return guard(
    op,
    () =>
      new RateLimited(
        name === "invitation"
          ? "Too many invitations from this account; try again later"
          : "Too many activation attempts on this account's equipment; try again later",
        w.endsInSeconds,
      ),
  );
}

/** A `count` larger than the limit itself can never pass: refused before any write. */
export function assertWithin(deps: Tuning, name: LimitName, count: number, now: Date): void {
  const limit = limitOf(deps, name);
  if (count > limit.max)
    throw new RateLimited(
      `At most ${limit.max} ${name}s per account per ${limit.windowSeconds / 60} minutes`,
      windowOf(limit, now).endsInSeconds,
    );
}
