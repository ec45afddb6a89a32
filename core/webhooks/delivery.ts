import * as z from "zod";
import type { Clock } from "../../infra/clock.js";
import { newId } from "../../infra/ids.js";
import type { EventRecord, WebhookEndpointRecord } from "../../infra/integrations.js";
import type { WebhookSender } from "../../infra/webhook-http.js";
import { signedHeaders } from "../../infra/webhook-signing.js";
import type { Actor } from "../actor.js";
import { apiKeys, integrations } from "../api-client.js";
import * as Audit from "../audit.js";
import type { Deps, Session } from "../context.js";
import { RETENTION_DAYS, readable } from "../events.js";
import type { DerivedEvent } from "../events.js";
import * as Tx from "../tx.js";
import { DAY_MS, DAY_S } from "../time.js";
import * as Cond from "../../infra/store/conditions.js";

/** Webhook delivery: the fan-out of stream events to the endpoints that receive them, and the worker that signs, POSTs, retries and disables. */

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

// ---------------------------------------------------------------- fan-out (the stream consumer)

/** One delivery to make: an SQS message of the delivery queue. */
export interface DeliveryMessage {
  readonly v: 1;
  /** The endpoint's account and id. */
  readonly accountId: string;
  readonly endpointId: string;
  /** The event's id: the webhook-id of every attempt. */
  readonly eventId: string;
  /** A test event (`sendTestEvent`): not stored, carried by the message. */
  readonly test?: { readonly occurredAt: string };
  /** The thin event itself (small), so the worker need not read it again. */
  readonly event?: MessageEvent;
}

type MessageEvent = Pick<EventRecord, "type" | "occurredAt" | "accountId" | "resourceType" | "resourceId" | "version">;

export const eventOf = (e: MessageEvent): MessageEvent => ({
  type: e.type,
  occurredAt: e.occurredAt,
  accountId: e.accountId,
  resourceType: e.resourceType,
  resourceId: e.resourceId,
  ...(e.version !== undefined ? { version: e.version } : {}),
});

const deliveryMessage = z.object({
  v: z.literal(1),
  accountId: z.string(),
  endpointId: z.string(),
  eventId: z.string(),
  test: z.object({ occurredAt: z.string() }).optional(),
  event: z
    .object({
      type: z.string(),
      occurredAt: z.string(),
      accountId: z.string(),
      resourceType: z.string(),
      resourceId: z.string(),
      version: z.number().optional(),
    })
    .optional(),
});

/** Reads a delivery message; undefined for anything else (it is dropped, never retried). */
export function parseDeliveryMessage(body: string): DeliveryMessage | undefined {
  let m: unknown;
  try {
    m = JSON.parse(body);
  } catch {
    return undefined;
  }
  const parsed = deliveryMessage.safeParse(m);
  if (!parsed.success) return undefined;
  const { test, event, ...ids } = parsed.data;
  return { ...ids, ...(test ? { test } : {}), ...(event ? { event: eventOf(event) } : {}) };
}

type CreatorRights = { actor: Actor; memberships: Awaited<ReturnType<Session["memberships"]>> } | undefined;

/** The creators' current rights, read once per batch. */
export class CreatorCache {
  readonly #rights = new Map<string, Promise<CreatorRights>>();
  constructor(private readonly deps: Deps) {}
  get(creator: string): Promise<CreatorRights> {
    let r = this.#rights.get(creator);
    if (!r) {
      r = this.#load(creator);
      this.#rights.set(creator, r);
    }
    return r;
  }
  async #load(creator: string): Promise<CreatorRights> {
    if (creator.startsWith("user:")) {
      const email = creator.slice(5);
      const person = await this.deps.store.getPerson(email);
      return person
        ? { actor: { type: "user", subject: "", email, emailVerified: true }, memberships: person.memberships }
        : undefined;
    }
    const m = /^client:([^:]+):(.+)$/.exec(creator);
    if (!m) return undefined;
    const client = await integrations(this.deps).store.getClient(m[1]!, m[2]!);
    // A revoked client's endpoints receive nothing more: they can see nothing more.
    if (client?.status !== "ACTIVE") return undefined;
    return {
      actor: {
        type: "client",
        clientId: client.clientId,
        accountId: client.accountId,
        name: client.name,
        role: client.role,
        seller: client.seller,
      },
      memberships: { [client.accountId]: { role: client.role, seller: client.seller, partnerAdmin: false } },
    };
  }
}

/** Whether the endpoint takes the event: its creator could read it from the endpoint's account (the feed's rule). */
export async function receives(
  deps: Deps,
  ep: WebhookEndpointRecord,
  event: Pick<EventRecord, "path">,
  creators: CreatorCache,
  now: Date,
): Promise<boolean> {
  if (!event.path.includes(ep.accountId)) return false;
  const rights = await creators.get(ep.creator);
  if (!rights) return false;
  const [account] = await deps.store.batchGet([{ type: "account", id: ep.accountId }]);
  return (
    !!account && readable(rights.actor, rights.memberships, account as Parameters<typeof readable>[2], event.path, now)
  );
}

/**
 * Fans new events out to the endpoints that take them: for each event, the enabled endpoints of
 * every account on its path, filtered by type and by what their creator could read; one delivery
 * message each. At least once: a replayed stream batch queues the same messages again, and the
 * worker's delivered mark (and lease) makes the second copy a no-op.
 */
export async function fanOut(
  deps: Deps,
  events: readonly (DerivedEvent & { readonly path: readonly string[] })[],
): Promise<number> {
  const queue = deps.integrations?.deliveries;
  if (!queue || events.length === 0) return 0;
  const { store } = integrations(deps);
  const now = deps.clock.now();
  const accountIds = [...new Set(events.flatMap((e) => e.path))];
  const endpointsOf = new Map<string, WebhookEndpointRecord[]>();
  await Promise.all(
    accountIds.map(async (id) =>
      endpointsOf.set(
        id,
        (await store.allEndpoints(id)).filter((ep) => ep.status === "ENABLED"),
      ),
    ),
  );
  const withEndpoints = accountIds.filter((id) => (endpointsOf.get(id) ?? []).length > 0);
  if (withEndpoints.length === 0) return 0;
  const accounts = new Map(withEndpoints.map((id, i) => [id, i] as const));
  const records = await deps.store.batchGet(withEndpoints.map((id) => ({ type: "account" as const, id })));
  const creators = new CreatorCache(deps);
  const messages: string[] = [];
  for (const event of events) {
    for (const accountId of event.path) {
      const account = records[accounts.get(accountId) ?? -1];
      if (!account) continue;
      for (const ep of endpointsOf.get(accountId) ?? []) {
        if (ep.eventTypes.length > 0 && !ep.eventTypes.includes(event.type)) continue;
        const rights = await creators.get(ep.creator);
        if (
          !rights ||
          !readable(rights.actor, rights.memberships, account as Parameters<typeof readable>[2], event.path, now)
        )
          continue;
        const message: DeliveryMessage = {
          v: 1,
          accountId,
          endpointId: ep.endpointId,
          eventId: event.eventId,
          event: eventOf(event),
        };
        messages.push(JSON.stringify(message));
      }
    }
  }
  if (messages.length > 0) await queue.send(messages);
  return messages.length;
}

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

/**
 * One attempt of one delivery message (`receiveCount` is SQS's ApproximateReceiveCount: the attempt
 * number). The pair (endpoint, event) is leased first, so copies of a message never POST twice;
 * the attempt is recorded (time, status, latency, error, the response's first 1 KiB); 2xx marks the
 * event delivered; network errors, timeouts, 5xx and 429 are retried on the schedule; 410 Gone, or
 * five days of failures, disables the endpoint and mails its owners; any other answer is final.
 */
export async function deliver(
  deps: Deps,
  runtime: DeliveryRuntime,
  body: string,
  receiveCount: number,
): Promise<DeliveryOutcome> {
  const m = parseDeliveryMessage(body);
  if (!m) return { kind: "done", why: "unreadable" };
  const { store } = integrations(deps);
  const now = deps.clock.now();
  const token = newId();
  const leaseUntil = new Date(now.getTime() + runtime.timeoutMs + 30_000).toISOString();
  const expiresAt = Math.floor(now.getTime() / 1000) + RETENTION_DAYS * DAY_S;
  // One round trip: the endpoint, the lease of this (endpoint, event), and the event when the message
  // does not carry it (messages queued before they did).
  const [ep, claim, stored] = await Promise.all([
    store.getEndpoint(m.accountId, m.endpointId),
    store.claimDelivery(m.endpointId, m.eventId, token, now.toISOString(), leaseUntil, expiresAt),
    m.test || m.event ? undefined : store.getEvent(m.eventId),
  ]);
  if (claim === "delivered") return { kind: "done", why: "duplicate" };
  // Another copy is being sent: look again once its lease could have run out.
  if (claim === "busy") return { kind: "retry", delaySeconds: Math.ceil((runtime.timeoutMs + 30_000) / 1000) };
  const event = !ep
    ? undefined
    : m.test
      ? {
          type: TEST_EVENT_TYPE,
          occurredAt: m.test.occurredAt,
          accountId: ep.accountId,
          resourceType: "WebhookEndpoint",
          resourceId: `${ep.accountId}:${ep.endpointId}`,
        }
      : (m.event ?? stored);
  if (ep?.status !== "ENABLED" || !event) {
    await store.settleDelivery(m.endpointId, m.eventId, token);
    return { kind: "done", why: ep?.status === "DISABLED" ? "disabled" : "gone" };
  }

  const keys = await apiKeys(deps);
  const secrets = [keys.open(ep.secretSealed)];
  if (ep.previousSecretSealed && ep.previousValidUntil && new Date(ep.previousValidUntil) > now)
    secrets.push(keys.open(ep.previousSecretSealed));
  const payload = payloadOf({ ...event, eventId: m.eventId });
  const headers = signedHeaders(secrets, m.eventId, runtime.signingClock.now(), payload);
  const result = await runtime.sender.post(ep.url, headers, payload, runtime.timeoutMs);

  const attempt = Math.max(1, receiveCount);
  const succeeded = result.statusCode !== undefined && result.statusCode >= 200 && result.statusCode < 300;
  const at = deps.clock.now();
  const recorded = store.putDelivery({
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
  // The attempt's record and the lease's end in one round trip (independent items).
  if (succeeded) {
    await Promise.all([
      recorded,
      store.settleDelivery(ep.endpointId, m.eventId, token, at.toISOString()),
      ep.failingSince ? store.clearFailing(ep.accountId, ep.endpointId) : undefined,
    ]);
    return { kind: "delivered", attempt };
  }
  await Promise.all([recorded, store.settleDelivery(ep.endpointId, m.eventId, token)]);
  if (result.statusCode === 410) {
    await disable(deps, ep, "the endpoint answered 410 Gone");
    return { kind: "done", why: "disabled" };
  }
  const failingSince = ep.failingSince ?? at.toISOString();
  if (!ep.failingSince) await store.markFailing(ep.accountId, ep.endpointId, failingSince);
  else if (at.getTime() - Date.parse(failingSince) >= DISABLE_AFTER_MS) {
    await disable(deps, ep, `every delivery failed since ${failingSince}`);
    return { kind: "done", why: "disabled" };
  }
  if (!retryable(result)) return { kind: "done", why: "failed" };
  const delay = runtime.schedule[attempt - 1];
  if (delay === undefined) return { kind: "done", why: "gave-up" };
  return { kind: "retry", delaySeconds: delay, attempt };
}

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
