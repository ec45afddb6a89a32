import * as z from "zod";
import { newWebhookSecret } from "../infra/api-keys.js";
import type { Clock } from "../infra/clock.js";
import { newId } from "../infra/ids.js";
import type { DeliveryRecord, EventRecord, WebhookEndpointRecord } from "../infra/integrations.js";
import type { Page } from "../infra/store.js";
import { PRODUCTION_POLICY, urlRefusal } from "../infra/ssrf.js";
import type { NetworkPolicy } from "../infra/ssrf.js";
import type { WebhookSender } from "../infra/webhook-http.js";
import { signedHeaders } from "../infra/webhook-signing.js";
import type { Actor } from "./actor.js";
import { actorLabel } from "./actor.js";
import { apiKeys, integrations } from "./api-client.js";
import * as Audit from "./audit.js";
import type { Deps, Session } from "./context.js";
import { Conflict, NotFound, VisibleError } from "./errors.js";
import { EVENT_TYPES, RETENTION_DAYS, readable } from "./events.js";
import type { DerivedEvent } from "./events.js";
import { paged } from "./paging.js";
import type { PageArgs } from "./paging.js";
import { authorize } from "./rights.js";
import * as Tx from "./tx.js";
import * as V from "./validation.js";

/**
 * Webhook endpoints (issue 14): an account's OWNERs (people, or API clients with the OWNER role)
 * register URLs; every event the endpoint's creator could read in the feed, of the types it takes,
 * is POSTed there, signed to the Standard Webhooks specification, and retried on failure.
 */

/** An endpoint as its owners see it: never its secret. */
export type EndpointInfo = Omit<WebhookEndpointRecord, "secretSealed" | "previousSecretSealed">;
export type DeliveryInfo = DeliveryRecord;

/** An account holds at most this many endpoints (Stripe's limit too). */
export const MAX_ENDPOINTS = 16;
/** After a rotation the previous secret signs too, this long (two signatures in `webhook-signature`). */
export const ROTATION_OVERLAP_MS = 24 * 3600 * 1000;
/** One attempt's time limit in production. */
export const DELIVERY_TIMEOUT_MS = 10_000;
/**
 * The waits after each failed attempt, in seconds (the Standard Webhooks reference schedule):
 * immediately, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h; nine attempts in all, over about 28 hours.
 * Each wait is the SQS message's visibility (at most 12 h), not a timer of ours.
 */
export const RETRY_SCHEDULE_SECONDS: readonly number[] = [0, 5, 300, 1800, 7200, 18000, 36000, 36000];
/** Failing this long without a success disables an endpoint (and its owners are mailed). */
export const DISABLE_AFTER_MS = 5 * 86_400_000;
/** The type of the event `sendTestEvent` sends (never in the feed). */
export const TEST_EVENT_TYPE = "webhook.test";
const DAY_S = 86_400;

function toInfo(r: WebhookEndpointRecord): EndpointInfo {
  const { secretSealed: _s, previousSecretSealed: _p, ...info } = r;
  return info;
}

// ---------------------------------------------------------------- input

const policyOf = (deps: Deps): NetworkPolicy => deps.integrations?.network ?? PRODUCTION_POLICY;

const urlSchema = (policy: NetworkPolicy) =>
  z
    .string()
    .trim()
    .max(2048, "must be at most 2048 characters")
    .superRefine((v, ctx) => {
      const refusal = urlRefusal(v, policy);
      if (refusal) ctx.addIssue({ code: "custom", message: refusal });
    });

const eventTypes = z
  .array(z.string())
  .max(EVENT_TYPES.length, `at most ${EVENT_TYPES.length} types`)
  .superRefine((types, ctx) => {
    types.forEach((t, i) => {
      if (!(EVENT_TYPES as readonly string[]).includes(t)) ctx.addIssue({ code: "custom", path: [i], message: `unknown event type ${JSON.stringify(t).slice(0, 60)}` });
    });
  })
  .transform((types) => [...new Set(types)].sort());

const createInput = (policy: NetworkPolicy) =>
  z.object({
    accountId: z.string().min(1),
    url: urlSchema(policy),
    eventTypes: eventTypes.default([]),
    description: V.description.optional(),
  });

const updateInput = (policy: NetworkPolicy) =>
  z.object({
    endpointId: z.string().min(1).max(200),
    url: urlSchema(policy).optional(),
    eventTypes: eventTypes.optional(),
    description: V.description.optional(),
    enabled: z.boolean().optional(),
    expectedVersion: z.number().int().positive().optional(),
  });

const endpointRef = z.object({ endpointId: z.string().min(1).max(200) });

/** "<accountId>:<endpointId>", the local part of a WebhookEndpoint's global id. */
export function splitEndpointId(local: string): { accountId: string; endpointId: string } | undefined {
  const m = /^([A-Za-z0-9-]{1,64}):([0-9A-Z]{26})$/.exec(local);
  return m ? { accountId: m[1]!, endpointId: m[2]! } : undefined;
}

// ---------------------------------------------------------------- management

/** The endpoint by id, for its account's webhook managers; NotFound for any id the caller may not manage. */
async function loadManaged(s: Session, localId: string): Promise<WebhookEndpointRecord> {
  s.principal();
  const ids = splitEndpointId(localId);
  if (!ids) throw new NotFound("WebhookEndpoint");
  const [ms, account] = await Promise.all([s.memberships(), s.account(ids.accountId)]);
  try {
    authorize(s.actor, ms, account, "webhook.manage", s.now);
  } catch (err) {
    // An account the caller cannot see: the endpoint is as unknown as a made-up id.
    if (err instanceof NotFound) throw new NotFound("WebhookEndpoint");
    throw err;
  }
  const endpoint = await integrations(s.deps).store.getEndpoint(ids.accountId, ids.endpointId);
  if (!endpoint) throw new NotFound("WebhookEndpoint");
  return endpoint;
}

/** Who the endpoint acts for: the creator's principal, as written on the endpoint. */
function creatorOf(actor: Actor): string {
  if (actor.type === "client") return `client:${actor.accountId}:${actor.clientId}`;
  if (actor.type === "user") return `user:${actor.email}`;
  return actorLabel(actor);
}

/**
 * An account's OWNERs register an endpoint. The signing secret (`whsec_`, 256 random bits) is answered
 * once; it is kept sealed (AES-256-GCM under a key derived from the API's key) because the worker
 * must sign with it: an HMAC key cannot be kept as a digest.
 */
export async function create(s: Session, raw: unknown): Promise<{ endpoint: EndpointInfo; secret: string }> {
  s.principal();
  const input = V.parse(createInput(policyOf(s.deps)), raw);
  const { store } = integrations(s.deps);
  const [ms, account] = await Promise.all([s.memberships(), s.account(input.accountId)]);
  authorize(s.actor, ms, account, "webhook.manage", s.now);
  const keys = await apiKeys(s.deps);
  const existing = await store.allEndpoints(account!.id);
  if (existing.length >= MAX_ENDPOINTS) throw new Conflict(`An account holds at most ${MAX_ENDPOINTS} webhook endpoints`);
  const secret = newWebhookSecret();
  const record: WebhookEndpointRecord = {
    accountId: account!.id,
    endpointId: newId(),
    url: input.url,
    eventTypes: input.eventTypes,
    ...(input.description ? { description: input.description } : {}),
    status: "ENABLED",
    secretSealed: keys.seal(secret),
    creator: creatorOf(s.actor),
    createdAt: s.now.toISOString(),
    version: 1,
  };
  await Tx.run(store, (e) => [
    e.webhookEndpoint.create(record).commit(),
    // Never the URL in the audit: some carry a token in their query.
    Audit.entry(e, { accountId: record.accountId, action: "webhookEndpoint.created", actor: s.actor, at: s.now, subjectId: record.endpointId }).commit(),
  ]);
  return { endpoint: toInfo(record), secret };
}

/** The endpoints of an account, for its webhook managers. */
export async function list(s: Session, accountId: string, args: PageArgs): Promise<Page<EndpointInfo>> {
  const { store } = integrations(s.deps);
  const [ms, account] = await Promise.all([s.memberships(), s.account(accountId)]);
  authorize(s.actor, ms, account, "webhook.manage", s.now);
  const page = await paged(args, (limit, cursor) => store.listEndpoints(account!.id, limit, cursor));
  return { hasNextPage: page.hasNextPage, items: page.items.map((i) => ({ node: toInfo(i.node), cursor: i.cursor })) };
}

/** A patch of the endpoint, conditioned on its version (a concurrent change is a Conflict). */
async function patchEndpoint(
  s: Session,
  ep: WebhookEndpointRecord,
  action: string,
  set: Partial<WebhookEndpointRecord>,
  remove: (keyof WebhookEndpointRecord)[] = [],
): Promise<WebhookEndpointRecord> {
  const { store } = integrations(s.deps);
  const next = { ...set, version: ep.version + 1 };
  await Tx.run(
    store,
    (e) => {
      let p = e.webhookEndpoint.patch({ accountId: ep.accountId, endpointId: ep.endpointId }).set(next as never);
      if (remove.length > 0) p = p.remove(remove as never);
      return [
        p.where((a, op) => op.eq(a.version, ep.version)).commit(),
        Audit.entry(e, { accountId: ep.accountId, action, actor: s.actor, at: s.now, subjectId: ep.endpointId }).commit(),
      ];
    },
    { otherwise: () => new Conflict("The endpoint changed meanwhile; reload and try again") },
  );
  const updated: WebhookEndpointRecord = { ...ep, ...next };
  for (const k of remove) delete updated[k];
  return updated;
}

/** Changes an endpoint's URL, types or description; `enabled: true` turns a disabled one on again. */
export async function update(s: Session, raw: unknown): Promise<EndpointInfo> {
  const input = V.parse(updateInput(policyOf(s.deps)), raw);
  const ep = await loadManaged(s, input.endpointId);
  if (input.expectedVersion !== undefined && input.expectedVersion !== ep.version) throw new Conflict("The endpoint changed meanwhile; reload and try again");
  const set: Partial<WebhookEndpointRecord> = {
    ...(input.url !== undefined ? { url: input.url } : {}),
    ...(input.eventTypes !== undefined ? { eventTypes: input.eventTypes } : {}),
    ...(input.description ? { description: input.description } : {}),
  };
  const remove: (keyof WebhookEndpointRecord)[] = input.description === "" && ep.description ? ["description"] : [];
  if (input.enabled === true && ep.status === "DISABLED") {
    set.status = "ENABLED";
    remove.push("disabledReason", "disabledAt", "failingSince");
  } else if (input.enabled === false && ep.status === "ENABLED") {
    set.status = "DISABLED";
    set.disabledReason = "disabled by its owners";
    set.disabledAt = s.now.toISOString();
  }
  return toInfo(await patchEndpoint(s, ep, "webhookEndpoint.updated", set, remove.filter((k) => ep[k] !== undefined)));
}

/** Deletes an endpoint: nothing more is sent to it (queued deliveries find it gone). */
export async function remove(s: Session, raw: unknown): Promise<EndpointInfo> {
  const { endpointId } = V.parse(endpointRef, raw);
  const ep = await loadManaged(s, endpointId);
  const { store } = integrations(s.deps);
  await Tx.run(
    store,
    (e) => [
      e.webhookEndpoint
        .delete({ accountId: ep.accountId, endpointId: ep.endpointId })
        .where((a, op) => op.eq(a.version, ep.version))
        .commit(),
      Audit.entry(e, { accountId: ep.accountId, action: "webhookEndpoint.deleted", actor: s.actor, at: s.now, subjectId: ep.endpointId }).commit(),
    ],
    { otherwise: () => new Conflict("The endpoint changed meanwhile; reload and try again") },
  );
  return toInfo(ep);
}

/** A new secret; for 24 hours deliveries carry a signature by the previous one too. */
export async function rotateSecret(s: Session, raw: unknown): Promise<{ endpoint: EndpointInfo; secret: string }> {
  const { endpointId } = V.parse(endpointRef, raw);
  const ep = await loadManaged(s, endpointId);
  const keys = await apiKeys(s.deps);
  const secret = newWebhookSecret();
  const updated = await patchEndpoint(s, ep, "webhookEndpoint.secretRotated", {
    secretSealed: keys.seal(secret),
    previousSecretSealed: ep.secretSealed,
    previousValidUntil: new Date(s.now.getTime() + ROTATION_OVERLAP_MS).toISOString(),
  });
  return { endpoint: toInfo(updated), secret };
}

/** Why an explicit send to this endpoint cannot be made now. */
function assertEnabled(ep: WebhookEndpointRecord): void {
  if (ep.status !== "ENABLED") throw new Conflict("The endpoint is disabled; enable it first (updateWebhookEndpoint with enabled: true)");
}

function deliveriesQueue(deps: Deps) {
  const queue = integrations(deps).deliveries;
  if (!queue) throw new Error("the webhook delivery queue is not configured");
  return queue;
}

/**
 * Queues a `webhook.test` event to the endpoint (its own id, never in the feed); the attempt shows
 * in the endpoint's deliveries. The request is audited first, so a failed call leaves no message.
 */
export async function sendTestEvent(s: Session, raw: unknown): Promise<{ endpoint: EndpointInfo; eventId: string }> {
  const { endpointId } = V.parse(endpointRef, raw);
  const ep = await loadManaged(s, endpointId);
  assertEnabled(ep);
  const queue = deliveriesQueue(s.deps);
  const eventId = `evt_test_${newId().toLowerCase()}`;
  await Tx.run(integrations(s.deps).store, (e) => [
    Audit.entry(e, { accountId: ep.accountId, action: "webhookEndpoint.testSent", actor: s.actor, at: s.now, subjectId: ep.endpointId }).commit(),
  ]);
  const message: DeliveryMessage = { v: 1, accountId: ep.accountId, endpointId: ep.endpointId, eventId, test: { occurredAt: s.now.toISOString() } };
  await queue.send([JSON.stringify(message)]);
  return { endpoint: toInfo(ep), eventId };
}

/** An event id as given: an Event's local id or its webhook-id (the same string). */
const EVENT_ID = /^evt_[0-9a-f]{32}$/;

/**
 * Sends an event to the endpoint again, with the same webhook-id (receivers dedupe on it): only an
 * event of the last 30 days that the endpoint takes (its creator could read it, its type is
 * subscribed). The event's "delivered" mark is cleared in the same transaction as the audit entry.
 */
export async function redeliver(s: Session, raw: unknown): Promise<{ endpoint: EndpointInfo; eventId: string }> {
  const { endpointId, eventId } = V.parse(endpointRef.extend({ eventId: z.string().min(1).max(200) }), raw);
  const ep = await loadManaged(s, endpointId);
  const { store } = integrations(s.deps);
  const event = EVENT_ID.test(eventId) ? await store.getEvent(eventId) : undefined;
  if (!event || Date.parse(event.occurredAt) < s.now.getTime() - RETENTION_DAYS * DAY_S * 1000) throw new NotFound("Event");
  if (!(await receives(s.deps, ep, event, new CreatorCache(s.deps), s.now))) throw new NotFound("Event");
  if (ep.eventTypes.length > 0 && !ep.eventTypes.includes(event.type)) throw new Conflict(`The endpoint does not take ${event.type} events`);
  assertEnabled(ep);
  const queue = deliveriesQueue(s.deps);
  await Tx.run(store, (e) => [
    e.deliveryState.delete({ endpointId: ep.endpointId, eventId }).commit(),
    Audit.entry(e, { accountId: ep.accountId, action: "webhookEndpoint.redeliveryRequested", actor: s.actor, at: s.now, subjectId: ep.endpointId }).commit(),
  ]);
  const message: DeliveryMessage = { v: 1, accountId: ep.accountId, endpointId: ep.endpointId, eventId, event: eventOf(event) };
  await queue.send([JSON.stringify(message)]);
  return { endpoint: toInfo(ep), eventId };
}

/** The attempts made to an endpoint, newest first (30 days). */
export async function deliveries(s: Session, endpointLocalId: string, args: PageArgs): Promise<Page<DeliveryInfo>> {
  const ep = await loadManaged(s, endpointLocalId);
  return paged(args, (limit, cursor) => integrations(s.deps).store.listDeliveries(ep.accountId, ep.endpointId, limit, cursor));
}

/** An endpoint by id for `node(id)`: undefined unless the caller manages it. */
export async function find(s: Session, localId: string): Promise<EndpointInfo | undefined> {
  if (s.actor.type !== "user" && s.actor.type !== "client") return undefined;
  try {
    return toInfo(await loadManaged(s, localId));
  } catch (err) {
    if (err instanceof VisibleError) return undefined;
    throw err;
  }
}

/** A delivery's local id: "<accountId>:<endpointId>:<attemptedAt>:<deliveryId>". */
export function deliveryLocalId(d: Pick<DeliveryRecord, "accountId" | "endpointId" | "attemptedAt" | "deliveryId">): string {
  return `${d.accountId}:${d.endpointId}:${d.attemptedAt}:${d.deliveryId}`;
}

/** A delivery by id for `node(id)`: undefined unless the caller manages its endpoint. */
export async function findDelivery(s: Session, localId: string): Promise<DeliveryInfo | undefined> {
  const m = /^([A-Za-z0-9-]{1,64}):([0-9A-Z]{26}):(\d{4}-\d\d-\d\dT[\d:.]+Z):([0-9A-Z]{26})$/.exec(localId);
  if (!m) return undefined;
  const ep = await find(s, `${m[1]}:${m[2]}`);
  if (!ep) return undefined;
  return integrations(s.deps).store.getDelivery(ep.accountId, ep.endpointId, m[3]!, m[4]!);
}

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

const eventOf = (e: MessageEvent): MessageEvent => ({
  type: e.type,
  occurredAt: e.occurredAt,
  accountId: e.accountId,
  resourceType: e.resourceType,
  resourceId: e.resourceId,
  ...(e.version !== undefined ? { version: e.version } : {}),
});

function parseEvent(v: unknown): MessageEvent | undefined {
  const e = v as Partial<Record<keyof MessageEvent, unknown>> | null;
  if (!e || typeof e !== "object") return undefined;
  const { type, occurredAt, accountId, resourceType, resourceId, version } = e;
  if (typeof type !== "string" || typeof occurredAt !== "string" || typeof accountId !== "string" || typeof resourceType !== "string" || typeof resourceId !== "string") return undefined;
  if (version !== undefined && typeof version !== "number") return undefined;
  return { type, occurredAt, accountId, resourceType, resourceId, ...(version !== undefined ? { version } : {}) };
}

/** Reads a delivery message; undefined for anything else (it is dropped, never retried). */
export function parseDeliveryMessage(body: string): DeliveryMessage | undefined {
  try {
    const m = JSON.parse(body) as Partial<DeliveryMessage>;
    if (m.v !== 1 || typeof m.accountId !== "string" || typeof m.endpointId !== "string" || typeof m.eventId !== "string") return undefined;
    if (m.test !== undefined && typeof m.test?.occurredAt !== "string") return undefined;
    const event = m.event === undefined ? undefined : parseEvent(m.event);
    if (m.event !== undefined && !event) return undefined;
    return { v: 1, accountId: m.accountId, endpointId: m.endpointId, eventId: m.eventId, ...(m.test ? { test: { occurredAt: m.test.occurredAt } } : {}), ...(event ? { event } : {}) };
  } catch {
    return undefined;
  }
}

type CreatorRights = { actor: Actor; memberships: Awaited<ReturnType<Session["memberships"]>> } | undefined;

/** The creators' current rights, read once per batch. */
class CreatorCache {
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
      return person ? { actor: { type: "user", subject: "", email, emailVerified: true }, memberships: person.memberships } : undefined;
    }
    const m = /^client:([^:]+):(.+)$/.exec(creator);
    if (!m) return undefined;
    const client = await integrations(this.deps).store.getClient(m[1]!, m[2]!);
    // A revoked client's endpoints receive nothing more: they can see nothing more.
    if (!client || client.status !== "ACTIVE") return undefined;
    return {
      actor: { type: "client", clientId: client.clientId, accountId: client.accountId, name: client.name, role: client.role, seller: client.seller },
      memberships: { [client.accountId]: { role: client.role, seller: client.seller, partnerAdmin: false } },
    };
  }
}

/** Whether the endpoint takes the event: its creator could read it from the endpoint's account (the feed's rule). */
async function receives(deps: Deps, ep: WebhookEndpointRecord, event: Pick<EventRecord, "path">, creators: CreatorCache, now: Date): Promise<boolean> {
  if (!event.path.includes(ep.accountId)) return false;
  const rights = await creators.get(ep.creator);
  if (!rights) return false;
  const [account] = await deps.store.batchGet([{ type: "account", id: ep.accountId }]);
  return !!account && readable(rights.actor, rights.memberships, account as Parameters<typeof readable>[2], event.path, now);
}

/**
 * Fans new events out to the endpoints that take them: for each event, the enabled endpoints of
 * every account on its path, filtered by type and by what their creator could read; one delivery
 * message each. At least once: a replayed stream batch queues the same messages again, and the
 * worker's delivered mark (and lease) makes the second copy a no-op.
 */
export async function fanOut(deps: Deps, events: readonly (DerivedEvent & { readonly path: readonly string[] })[]): Promise<number> {
  const queue = deps.integrations?.deliveries;
  if (!queue || events.length === 0) return 0;
  const { store } = integrations(deps);
  const now = deps.clock.now();
  const accountIds = [...new Set(events.flatMap((e) => e.path))];
  const endpointsOf = new Map<string, WebhookEndpointRecord[]>();
  await Promise.all(accountIds.map(async (id) => endpointsOf.set(id, (await store.allEndpoints(id)).filter((ep) => ep.status === "ENABLED"))));
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
        if (!rights || !readable(rights.actor, rights.memberships, account as Parameters<typeof readable>[2], event.path, now)) continue;
        const message: DeliveryMessage = { v: 1, accountId, endpointId: ep.endpointId, eventId: event.eventId, event: eventOf(event) };
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
function payloadOf(event: Pick<EventRecord, "eventId" | "type" | "occurredAt" | "accountId" | "resourceType" | "resourceId" | "version">): string {
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
export async function deliver(deps: Deps, runtime: DeliveryRuntime, body: string, receiveCount: number): Promise<DeliveryOutcome> {
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
      ? { type: TEST_EVENT_TYPE, occurredAt: m.test.occurredAt, accountId: ep.accountId, resourceType: "WebhookEndpoint", resourceId: `${ep.accountId}:${ep.endpointId}` }
      : (m.event ?? stored);
  if (!ep || ep.status !== "ENABLED" || !event) {
    await store.settleDelivery(m.endpointId, m.eventId, token);
    return { kind: "done", why: ep?.status === "DISABLED" ? "disabled" : "gone" };
  }

  const keys = await apiKeys(deps);
  const secrets = [keys.open(ep.secretSealed)];
  if (ep.previousSecretSealed && ep.previousValidUntil && new Date(ep.previousValidUntil) > now) secrets.push(keys.open(ep.previousSecretSealed));
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
    await Promise.all([recorded, store.settleDelivery(ep.endpointId, m.eventId, token, at.toISOString()), ep.failingSince ? store.clearFailing(ep.accountId, ep.endpointId) : undefined]);
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
        .where((a, op) => op.eq(a.status, "ENABLED"))
        .commit(),
      Audit.entry(e, { accountId: ep.accountId, action: "webhookEndpoint.disabled", actor, at: now, subjectId: ep.endpointId }).commit(),
    ],
    { otherwise: "skip" },
  );
  // Disabled (or deleted) meanwhile: whoever did it told the owners.
  if (!disabled) return;
  const [account, owners] = await Promise.all([deps.store.getAccount(ep.accountId), deps.store.listOwners(ep.accountId)]);
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
