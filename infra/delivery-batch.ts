import type { DeliveryRecord, IntegrationStore, WebhookEndpointRecord } from "./integrations.js";
import { ConditionFailed } from "./store.js";

/*
 * The delivery worker's writes for a whole SQS batch at once: the endpoints in one BatchGetItem,
 * the leases of every (endpoint, event) in one TransactWriteItems, and the attempts' records with
 * the leases' ends in another. Per message, the same conditions as one at a time; per batch, two
 * round trips instead of two per message.
 */

/** One lease to take. */
export interface Claim {
  readonly endpointId: string;
  readonly eventId: string;
  readonly token: string;
}

/** One lease to end: delivered (`deliveredAt`), or given back for the next attempt. */
export interface Settle extends Claim {
  readonly deliveredAt?: string;
}

/** Items of one TransactWriteItems at most (DynamoDB allows 100). */
const TX_ITEMS = 100;
/** Rounds of a batch transaction whose other items were only rolled back with a failed one. */
const ROUNDS = 5;

const key = (endpointId: string, eventId: string) => `${endpointId}\u0000${eventId}`;

/** Endpoints by (account, endpoint), strongly consistent; absent ones are missing from the map. */
export async function getEndpoints(
  store: IntegrationStore,
  keys: readonly { accountId: string; endpointId: string }[],
): Promise<Map<string, WebhookEndpointRecord>> {
  const found = await store.getEndpoints(keys);
  return new Map(found.map((ep) => [key(ep.accountId, ep.endpointId), ep] as const));
}

export const endpointKey = (accountId: string, endpointId: string) => key(accountId, endpointId);

/**
 * Takes the leases of distinct (endpoint, event) pairs until `leaseUntil`: each unless the event
 * already reached the endpoint or another attempt holds a lease that has not run out (the
 * condition of `IntegrationStore.claimDelivery`). Answers per pair, by `key(endpointId, eventId)`.
 */
export async function claimDeliveries(
  store: IntegrationStore,
  claims: readonly Claim[],
  now: string,
  leaseUntil: string,
  expiresAt: number,
): Promise<Map<string, "claimed" | "delivered" | "busy">> {
  const out = new Map<string, "claimed" | "delivered" | "busy">();
  const refused = await inRounds(store, claims, (e, c) =>
    e.deliveryState
      .update({ endpointId: c.endpointId, eventId: c.eventId })
      .set({ leaseToken: c.token, leaseUntil, expiresAt })
      .where(
        (a, op) => `${op.notExists(a.deliveredAt)} AND (${op.notExists(a.leaseUntil)} OR ${op.lt(a.leaseUntil, now)})`,
      )
      .commit(),
  );
  const states = refused.length ? await store.getDeliveryStates(refused) : [];
  const delivered = new Set(states.filter((s) => s.deliveredAt).map((s) => key(s.endpointId, s.eventId)));
  for (const c of claims) out.set(key(c.endpointId, c.eventId), "claimed");
  for (const c of refused) {
    const k = key(c.endpointId, c.eventId);
    out.set(k, delivered.has(k) ? "delivered" : "busy");
  }
  return out;
}

/**
 * Records the attempts and ends their leases in one TransactWriteItems: each end holds only while
 * its lease does (a lease that ran out and was taken meanwhile is left to its new holder, which
 * settles it). The records are written whatever becomes of the leases.
 */
export async function finishDeliveries(
  store: IntegrationStore,
  attempts: readonly DeliveryRecord[],
  settles: readonly Settle[],
): Promise<void> {
  const steps: ({ kind: "attempt"; d: DeliveryRecord } | { kind: "settle"; s: Settle })[] = [
    ...attempts.map((d) => ({ kind: "attempt" as const, d })),
    ...settles.map((s) => ({ kind: "settle" as const, s })),
  ];
  await inRounds(store, steps, (e, step) => {
    if (step.kind === "attempt") return e.delivery.put(step.d).commit();
    const { endpointId, eventId, token, deliveredAt } = step.s;
    const u = e.deliveryState.patch({ endpointId, eventId });
    return (deliveredAt ? u.set({ deliveredAt }) : u)
      .remove(["leaseToken", "leaseUntil"])
      .where((a, op) => op.eq(a.leaseToken, token))
      .commit();
  });
}

type Build = Parameters<IntegrationStore["transact"]>[0];
type Tx = Parameters<Build>[0];
type Op = ReturnType<Build>[number];

/**
 * Writes the steps in transactions of up to 100 items; a step whose condition failed is answered
 * (refused) and left out, the steps rolled back with it go again, up to ROUNDS times. A round is
 * only for that: conflicts with other transactions are retried by `runTransaction` itself, and a
 * transaction they still cancel fails the batch (bounded at its attempts, not rounds × attempts).
 */
async function inRounds<T>(store: IntegrationStore, steps: readonly T[], op: (e: Tx, step: T) => Op): Promise<T[]> {
  const refused: T[] = [];
  for (let i = 0; i < steps.length; i += TX_ITEMS) {
    let pending = steps.slice(i, i + TX_ITEMS);
    for (let round = 0; pending.length > 0; round++) {
      try {
        await store.transact((e) => pending.map((s) => op(e, s)));
        pending = [];
      } catch (err) {
        if (!(err instanceof ConditionFailed) || round + 1 >= ROUNDS) throw err;
        const failed = new Set(pending.filter((_s, j) => err.reasons[j] === "ConditionalCheckFailed"));
        // Cancelled by conflicts alone, after the transaction's own attempts: a round would only repeat them.
        if (failed.size === 0) throw err;
        refused.push(...failed);
        pending = pending.filter((s) => !failed.has(s));
      }
    }
  }
  return refused;
}
