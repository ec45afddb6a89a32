import type { Clock } from "../../infra/clock.js";
import { newId } from "../../infra/ids.js";
import * as Batch from "../../infra/delivery-batch.js";
import type { DeliveryRecord, EventRecord, WebhookEndpointRecord } from "../../infra/integrations.js";
import type { WebhookSender } from "../../infra/webhook-http.js";
import { signedHeaders } from "../../infra/webhook-signing.js";
import type { Actor } from "../actor.js";
import { apiKeys, integrations } from "../api-client.js";
import * as Audit from "../audit.js";
import type { Deps } from "../context.js";
import { RETENTION_DAYS } from "../events.js";
import { parseDeliveryMessage } from "./fan-out.js";
import type { DeliveryMessage, MessageEvent } from "./fan-out.js";
import * as Tx from "../tx.js";
import { DAY_MS, DAY_S } from "../time.js";
import * as Cond from "../../infra/store/conditions.js";

/** Webhook delivery: the worker that signs, POSTs, retries and disables (the fan-out is in fan-out.ts). */

/** One attempt's time limit in production. */
export const DELIVERY_TIMEOUT_MS = 10_000;
/**
 * The waits after each failed attempt, in seconds (the Standard Webhooks reference schedule):
 * immediately, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h; nine attempts in all, over about 28 hours.
 * Each wait is the SQS message's visibility (at most 12 h), not a timer of ours.
 */
export const RETRY_SCHEDULE_SECONDS: readonly number[] = [0, 5, 300, 1800, 7200, 18000, 36000, 36000];
/** Failing this long without a success disables an endpoint (and its owners are mailed). */
export const DISABLE_AFTER_MS = 5 * DAY_MS;
/** The type of the event `sendTestEvent` sends (never in the feed). */
export const TEST_EVENT_TYPE = "webhook.test";

// ---------------------------------------------------------------- delivery (the worker)

/** What the delivery worker needs beside the deps: the HTTP port, the timeout and the schedule. */
export interface DeliveryRuntime {
  readonly sender: WebhookSender;
  /** One attempt's limit (DELIVERY_TIMEOUT_MS in production; short in local tests). */
  readonly timeoutMs: number;
  /** Seconds to wait after attempt n (index n - 1) before the next; none left: give up. */
  readonly schedule: readonly number[];
  /** The signatures' clock: the real time, which receivers compare with theirs (5 minutes' tolerance). */
  readonly signingClock: Clock;
}

/** What became of one receive of a delivery message. */
export type DeliveryOutcome =
  | { readonly kind: "delivered"; readonly attempt: number }
  /** Hold the message this long (its visibility), then it comes back for the next attempt. */
  | { readonly kind: "retry"; readonly delaySeconds: number; readonly attempt?: number }
  | { readonly kind: "done"; readonly why: "duplicate" | "gone" | "disabled" | "failed" | "gave-up" | "unreadable" };

/** The body of a delivery: the thin event with global ids (what `node(id)` takes). */
function payloadOf(
  event: Pick<EventRecord, "eventId" | "type" | "occurredAt" | "accountId" | "resourceType" | "resourceId" | "version">,
): string {
  return JSON.stringify({
    type: event.type,
    timestamp: event.occurredAt,
    data: {
      id: globalIdOf("Event", event.eventId),
      eventId: event.eventId,
      accountId: globalIdOf("Account", event.accountId),
      resourceType: event.resourceType,
      resourceId: globalIdOf(event.resourceType, event.resourceId),
      ...(event.version !== undefined ? { version: event.version } : {}),
    },
  });
}

/** A global id as the GraphQL layer writes it (Relay: base64 of "<Type>:<local id>"). */
export function globalIdOf(type: string, local: string): string {
  return Buffer.from(`${type}:${local}`, "utf8").toString("base64");
}

const retryable = (r: { statusCode?: number; error?: string; refused?: boolean }) =>
  r.statusCode === undefined ? !r.refused : r.statusCode >= 500 || r.statusCode === 429;

/** One received delivery message: its body and SQS's ApproximateReceiveCount (the attempt number). */
export interface ReceivedDelivery {
  readonly body: string;
  readonly receiveCount: number;
}

/** One attempt of one delivery message (a batch of one: see `deliverBatch`). */
export async function deliver(
  deps: Deps,
  runtime: DeliveryRuntime,
  body: string,
  receiveCount: number,
): Promise<DeliveryOutcome> {
  return (await deliverBatch(deps, runtime, [{ body, receiveCount }]))[0]!;
}

/** A message whose pair this attempt leased, ready to POST. */
interface Leased {
  readonly i: number;
  readonly m: DeliveryMessage;
  readonly ep: WebhookEndpointRecord;
  readonly event: MessageEvent;
  readonly token: string;
}

/**
 * One attempt of each message of an SQS batch, answered in the batch's order. Each pair (endpoint,
 * event) is leased first, so copies of a message never POST twice; the attempt is recorded (time,
 * status, latency, error, the response's first 1 KiB); 2xx marks the event delivered; network
 * errors, timeouts, 5xx and 429 are retried on the schedule; 410 Gone, or five days of failures,
 * disables the endpoint and mails its owners; any other answer is final. The batch's endpoints and
 * leases are one round trip, the records and leases' ends another, the POSTs run side by side.
 */
export async function deliverBatch(
  deps: Deps,
  runtime: DeliveryRuntime,
  received: readonly ReceivedDelivery[],
): Promise<DeliveryOutcome[]> {
  const { store } = integrations(deps);
  const now = deps.clock.now();
  const holdSeconds = Math.ceil((runtime.timeoutMs + 30_000) / 1000);
  const leaseUntil = new Date(now.getTime() + runtime.timeoutMs + 30_000).toISOString();
  const expiresAt = Math.floor(now.getTime() / 1000) + RETENTION_DAYS * DAY_S;
  const outcomes: DeliveryOutcome[] = received.map(() => ({ kind: "done", why: "unreadable" }));
  const claims: { i: number; m: DeliveryMessage; token: string }[] = [];
  const pairs = new Set<string>();
  received.forEach((r, i) => {
    const m = parseDeliveryMessage(r.body);
    if (!m) return;
    const pair = `${m.endpointId}\u0000${m.eventId}`;
    // A second copy in the same batch waits like any copy whose pair is leased.
    if (pairs.has(pair)) outcomes[i] = { kind: "retry", delaySeconds: holdSeconds };
    else claims.push({ i, m, token: newId() });
    pairs.add(pair);
  });
  if (claims.length === 0) return outcomes;
  // One round trip: the endpoints, the leases, and the events messages queued before they carried them.
  const [endpoints, leases, stored] = await Promise.all([
    Batch.getEndpoints(
      store,
      claims.map(({ m }) => ({ accountId: m.accountId, endpointId: m.endpointId })),
    ),
    Batch.claimDeliveries(
      store,
      claims.map(({ m, token }) => ({ endpointId: m.endpointId, eventId: m.eventId, token })),
      now.toISOString(),
      leaseUntil,
      expiresAt,
    ),
    Promise.all(claims.map(({ m }) => (m.test || m.event ? undefined : store.getEvent(m.eventId)))),
  ]);
  const leased: Leased[] = [];
  const released: Batch.Settle[] = [];
  claims.forEach(({ i, m, token }, k) => {
    const lease = leases.get(`${m.endpointId}\u0000${m.eventId}`);
    if (lease !== "claimed") {
      // Delivered already; or another copy is being sent: look again once its lease could have run out.
      outcomes[i] =
        lease === "delivered" ? { kind: "done", why: "duplicate" } : { kind: "retry", delaySeconds: holdSeconds };
      return;
    }
    const ep = endpoints.get(Batch.endpointKey(m.accountId, m.endpointId));
    const event = !ep ? undefined : m.test ? testEvent(ep, m.test.occurredAt) : (m.event ?? stored[k]);
    if (ep?.status !== "ENABLED" || !event) {
      released.push({ endpointId: m.endpointId, eventId: m.eventId, token });
      outcomes[i] = { kind: "done", why: ep?.status === "DISABLED" ? "disabled" : "gone" };
      return;
    }
    leased.push({ i, m, ep, event, token });
  });

  const keys = leased.length > 0 ? await apiKeys(deps) : undefined;
  const results = await Promise.all(
    leased.map(({ m, ep, event }) => {
      const secrets = [keys!.open(ep.secretSealed)];
      if (ep.previousSecretSealed && ep.previousValidUntil && new Date(ep.previousValidUntil) > now)
        secrets.push(keys!.open(ep.previousSecretSealed));
      const payload = payloadOf({ ...event, eventId: m.eventId });
      const headers = signedHeaders(secrets, m.eventId, runtime.signingClock.now(), payload);
      return runtime.sender.post(ep.url, headers, payload, runtime.timeoutMs);
    }),
  );

  const at = deps.clock.now();
  const attempts: DeliveryRecord[] = [];
  const settles: Batch.Settle[] = [...released];
  leased.forEach(({ i, m, ep, event, token }, k) => {
    const result = results[k]!;
    const attempt = Math.max(1, received[i]!.receiveCount);
    const succeeded = result.statusCode !== undefined && result.statusCode >= 200 && result.statusCode < 300;
    attempts.push({
      accountId: ep.accountId,
      endpointId: ep.endpointId,
      attemptedAt: at.toISOString(),
      deliveryId: newId(),
      eventId: m.eventId,
      eventType: event.type,
      attempt,
      ...(result.statusCode !== undefined ? { statusCode: result.statusCode } : {}),
      latencyMs: result.latencyMs,
      ...(result.error ? { error: result.error } : {}),
      ...(result.body ? { responseBody: result.body } : {}),
      succeeded,
      expiresAt,
    });
    settles.push({
      endpointId: ep.endpointId,
      eventId: m.eventId,
      token,
      ...(succeeded ? { deliveredAt: at.toISOString() } : {}),
    });
  });
  // The second round trip: every attempt's record and every lease's end.
  await Batch.finishDeliveries(store, attempts, settles);

  // The endpoints' state, once per endpoint of the batch: a success ends a run of failures, 410 or
  // five days of failures disable it.
  const done = new Set<string>();
  for (const [k, { i, ep }] of leased.entries()) {
    const result = results[k]!;
    const succeeded = attempts[k]!.succeeded;
    const attempt = attempts[k]!.attempt;
    const epKey = Batch.endpointKey(ep.accountId, ep.endpointId);
    if (succeeded) {
      outcomes[i] = { kind: "delivered", attempt };
      if (ep.failingSince && !done.has(epKey)) await store.clearFailing(ep.accountId, ep.endpointId);
      done.add(epKey);
      continue;
    }
    outcomes[i] = await failed(deps, runtime, ep, result, attempt, at, !done.has(epKey));
    done.add(epKey);
  }
  return outcomes;
}

/** What a failed attempt leads to; `first` is the batch's first word on the endpoint (it notes the failure, or disables). */
async function failed(
  deps: Deps,
  runtime: DeliveryRuntime,
  ep: WebhookEndpointRecord,
  result: { statusCode?: number; error?: string; refused?: boolean },
  attempt: number,
  at: Date,
  first: boolean,
): Promise<DeliveryOutcome> {
  if (result.statusCode === 410) {
    if (first) await disable(deps, ep, "the endpoint answered 410 Gone");
    return { kind: "done", why: "disabled" };
  }
  const failingSince = ep.failingSince ?? at.toISOString();
  if (!ep.failingSince) {
    if (first) await integrations(deps).store.markFailing(ep.accountId, ep.endpointId, failingSince);
  } else if (at.getTime() - Date.parse(failingSince) >= DISABLE_AFTER_MS) {
    if (first) await disable(deps, ep, `every delivery failed since ${failingSince}`);
    return { kind: "done", why: "disabled" };
  }
  if (!retryable(result)) return { kind: "done", why: "failed" };
  const delay = runtime.schedule[attempt - 1];
  if (delay === undefined) return { kind: "done", why: "gave-up" };
  return { kind: "retry", delaySeconds: delay, attempt };
}

const testEvent = (ep: WebhookEndpointRecord, occurredAt: string): MessageEvent => ({
  type: TEST_EVENT_TYPE,
  occurredAt,
  accountId: ep.accountId,
  resourceType: "WebhookEndpoint",
  resourceId: `${ep.accountId}:${ep.endpointId}`,
});

/** Disables an endpoint (once: the first to flip it mails), audited as the webhooks system, and mails its account's owners. */
async function disable(deps: Deps, ep: WebhookEndpointRecord, reason: string): Promise<void> {
  const { store } = integrations(deps);
  const now = deps.clock.now();
  const actor: Actor = { type: "system", job: "webhooks" };
  const disabled = await Tx.run(
    store,
    (e) => [
      e.webhookEndpoint
        .patch({ accountId: ep.accountId, endpointId: ep.endpointId })
        .set({ status: "DISABLED", disabledReason: reason, disabledAt: now.toISOString(), version: ep.version + 1 })
        .where(Cond.hasStatus("ENABLED"))
        .commit(),
      Audit.entry(e, {
        accountId: ep.accountId,
        action: "webhookEndpoint.disabled",
        actor,
        at: now,
        subjectId: ep.endpointId,
      }).commit(),
    ],
    { otherwise: "skip" },
  );
  // Disabled (or deleted) meanwhile: whoever did it told the owners.
  if (!disabled) return;
  const [account, owners] = await Promise.all([
    deps.store.getAccount(ep.accountId),
    deps.store.listOwners(ep.accountId),
  ]);
  for (const owner of owners) {
    await deps.mailer.send({
      to: owner.email,
      subject: "A webhook endpoint was disabled",
      text:
        `The webhook endpoint ${ep.url} of ${account?.name ?? "your account"} was disabled: ${reason}.\n` +
        `Nothing more is sent to it. Once it answers again, turn it back on with updateWebhookEndpoint (enabled: true); ` +
        `redeliverEvent sends an event of the last 30 days again.`,
    });
  }
}
