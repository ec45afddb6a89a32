import * as z from "zod";
import type { EventRecord, WebhookEndpointRecord } from "../../infra/integrations.js";
import type { Actor } from "../actor.js";
import { integrations } from "../api-client.js";
import type { Deps, Session } from "../context.js";
import { currentPath, readable } from "../events.js";
import type { DerivedEvent } from "../events.js";

/** Webhook fan-out: the stream's events matched to the endpoints that receive them, one delivery message each. */

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

export type MessageEvent = Pick<
  EventRecord,
  "type" | "occurredAt" | "accountId" | "resourceType" | "resourceId" | "version"
>;

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

/**
 * Whether the endpoint takes the event now (a redelivery): its creator could read it from the
 * endpoint's account (the feed's rule), by the path of the event's account now (`currentPath`: an
 * account that moved away took its events with it).
 */
export async function receives(
  deps: Deps,
  ep: WebhookEndpointRecord,
  event: Pick<EventRecord, "path" | "accountId">,
  creators: CreatorCache,
  now: Date,
): Promise<boolean> {
  const [account, subject] = await deps.store.batchGet([
    { type: "account", id: ep.accountId },
    { type: "account", id: event.accountId },
  ]);
  const path = currentPath(event, subject as { id: string; path: readonly string[] } | undefined);
  if (!path.includes(ep.accountId)) return false;
  const rights = await creators.get(ep.creator);
  if (!rights) return false;
  return !!account && readable(rights.actor, rights.memberships, account as Parameters<typeof readable>[2], path, now);
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
