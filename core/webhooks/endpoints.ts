import * as z from "zod";
import { newWebhookSecret } from "../../infra/api-keys.js";
import { newId } from "../../infra/ids.js";
import type { DeliveryRecord, WebhookEndpointRecord } from "../../infra/integrations.js";
import type { Page } from "../../infra/store.js";
import { PRODUCTION_POLICY, urlRefusal } from "../../infra/ssrf.js";
import type { NetworkPolicy } from "../../infra/ssrf.js";
import type { Actor } from "../actor.js";
import { actorLabel } from "../actor.js";
import { apiKeys, integrations } from "../api-client.js";
import * as Audit from "../audit.js";
import type { Deps, Session } from "../context.js";
import { Conflict, NotFound, VisibleError } from "../errors.js";
import { EVENT_TYPES, RETENTION_DAYS } from "../events.js";
import { paged } from "../paging.js";
import type { PageArgs } from "../paging.js";
import { authorize } from "../rights.js";
import * as Tx from "../tx.js";
import * as V from "../validation.js";
import { CreatorCache, eventOf, receives } from "./fan-out.js";
import type { DeliveryMessage } from "./fan-out.js";
import { DAY_MS, DAY_S } from "../time.js";
import * as Cond from "../../infra/store/conditions.js";

/**
 * Webhook endpoints: an account's OWNERs (people, or API clients with the OWNER role)
 * register URLs; every event the endpoint's creator could read in the feed, of the types it takes,
 * is POSTed there, signed to the Standard Webhooks specification, and retried on failure.
 */

/** An endpoint as its owners see it: never its secret. */
export type EndpointInfo = Omit<WebhookEndpointRecord, "secretSealed" | "previousSecretSealed">;
export type DeliveryInfo = DeliveryRecord;

/** An account holds at most this many endpoints (Stripe's limit too). */
export const MAX_ENDPOINTS = 16;
/** After a rotation the previous secret signs too, this long (two signatures in `webhook-signature`). */
export const ROTATION_OVERLAP_MS = DAY_MS;

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
      if (!(EVENT_TYPES as readonly string[]).includes(t))
        ctx.addIssue({ code: "custom", path: [i], message: `unknown event type ${JSON.stringify(t).slice(0, 60)}` });
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
  const { account } = await s.authorized(input.accountId, "webhook.manage");
  const keys = await apiKeys(s.deps);
  const existing = await store.allEndpoints(account!.id);
  if (existing.length >= MAX_ENDPOINTS)
    throw new Conflict(`An account holds at most ${MAX_ENDPOINTS} webhook endpoints`);
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
    Audit.entry(e, {
      accountId: record.accountId,
      action: "webhookEndpoint.created",
      actor: s.actor,
      at: s.now,
      subjectId: record.endpointId,
    }).commit(),
  ]);
  return { endpoint: toInfo(record), secret };
}

/** The endpoints of an account, for its webhook managers. */
export async function list(s: Session, accountId: string, args: PageArgs): Promise<Page<EndpointInfo>> {
  const { store } = integrations(s.deps);
  const { account } = await s.authorized(accountId, "webhook.manage");
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
        p.where(Cond.atVersion(ep.version)).commit(),
        Audit.entry(e, {
          accountId: ep.accountId,
          action,
          actor: s.actor,
          at: s.now,
          subjectId: ep.endpointId,
        }).commit(),
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
  if (input.expectedVersion !== undefined && input.expectedVersion !== ep.version)
    throw new Conflict("The endpoint changed meanwhile; reload and try again");
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
  return toInfo(
    await patchEndpoint(
      s,
      ep,
      "webhookEndpoint.updated",
      set,
      remove.filter((k) => ep[k] !== undefined),
    ),
  );
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
        .where(Cond.atVersion(ep.version))
        .commit(),
      Audit.entry(e, {
        accountId: ep.accountId,
        action: "webhookEndpoint.deleted",
        actor: s.actor,
        at: s.now,
        subjectId: ep.endpointId,
      }).commit(),
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
  if (ep.status !== "ENABLED")
    throw new Conflict("The endpoint is disabled; enable it first (updateWebhookEndpoint with enabled: true)");
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
    Audit.entry(e, {
      accountId: ep.accountId,
      action: "webhookEndpoint.testSent",
      actor: s.actor,
      at: s.now,
      subjectId: ep.endpointId,
    }).commit(),
  ]);
  const message: DeliveryMessage = {
    v: 1,
    accountId: ep.accountId,
    endpointId: ep.endpointId,
    eventId,
    test: { occurredAt: s.now.toISOString() },
  };
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
  if (!event || Date.parse(event.occurredAt) < s.now.getTime() - RETENTION_DAYS * DAY_S * 1000)
    throw new NotFound("Event");
  if (!(await receives(s.deps, ep, event, new CreatorCache(s.deps), s.now))) throw new NotFound("Event");
  if (ep.eventTypes.length > 0 && !ep.eventTypes.includes(event.type))
    throw new Conflict(`The endpoint does not take ${event.type} events`);
  assertEnabled(ep);
  const queue = deliveriesQueue(s.deps);
  await Tx.run(store, (e) => [
    e.deliveryState.delete({ endpointId: ep.endpointId, eventId }).commit(),
    Audit.entry(e, {
      accountId: ep.accountId,
      action: "webhookEndpoint.redeliveryRequested",
      actor: s.actor,
      at: s.now,
      subjectId: ep.endpointId,
    }).commit(),
  ]);
  const message: DeliveryMessage = {
    v: 1,
    accountId: ep.accountId,
    endpointId: ep.endpointId,
    eventId,
    event: eventOf(event),
  };
  await queue.send([JSON.stringify(message)]);
  return { endpoint: toInfo(ep), eventId };
}

/** The attempts made to an endpoint, newest first (30 days). */
export async function deliveries(s: Session, endpointLocalId: string, args: PageArgs): Promise<Page<DeliveryInfo>> {
  const ep = await loadManaged(s, endpointLocalId);
  return paged(args, (limit, cursor) =>
    integrations(s.deps).store.listDeliveries(ep.accountId, ep.endpointId, limit, cursor),
  );
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
export function deliveryLocalId(
  d: Pick<DeliveryRecord, "accountId" | "endpointId" | "attemptedAt" | "deliveryId">,
): string {
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
