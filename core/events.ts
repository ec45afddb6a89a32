import type { EventFeedRecord, EventRecord } from "../infra/integrations.js";
import type { ChangeRecord } from "../infra/change-stream.js";
import type { Page } from "../infra/store.js";
import { integrations } from "./api-client.js";
import type { Deps, Session } from "./context.js";
import { Invalid } from "./errors.js";
import { paged } from "./paging.js";
import type { PageArgs } from "./paging.js";
import { reachOf } from "./rights.js";
import { DAY_MS, DAY_S } from "./time.js";

/** Events are kept (and listed) 30 days (like Stripe's events list). */
export const RETENTION_DAYS = 30;

export { EVENT_TYPES, derive } from "./event-derivation.js";
export type { DerivedEvent, EventType } from "./event-derivation.js";
import { EVENT_TYPES, derive } from "./event-derivation.js";
import type { DerivedEvent } from "./event-derivation.js";

/** What the consumer did with a batch of stream records. */
export interface ConsumeReport {
  readonly events: readonly (DerivedEvent & { readonly path: readonly string[] })[];
}

/**
 * The stream consumer (DynamoDB Streams in AWS, DynamoDB Local's stream locally): derives the
 * events of a batch of records and writes each with its feed entries (its account and every
 * ancestor). Idempotent: a replayed record yields the same event id and the same items.
 */
export async function consume(deps: Deps, records: readonly ChangeRecord[]): Promise<ConsumeReport> {
  const store = integrations(deps).store;
  const derived = records.flatMap(derive);
  if (derived.length === 0) return { events: [] };
  const ids = [...new Set(derived.map((e) => e.accountId))];
  const accounts = await deps.store.batchGet(ids.map((id) => ({ type: "account" as const, id })));
  const pathOf = new Map(ids.map((id, i) => [id, (accounts[i] as { path?: string[] } | undefined)?.path ?? []]));
  const events: (DerivedEvent & { path: string[] })[] = derived.map((e) => ({
    ...e,
    path: [...(pathOf.get(e.accountId) ?? []), e.accountId],
  }));
  const expiresOf = (at: string) => Math.floor(Date.parse(at) / 1000) + RETENTION_DAYS * DAY_S;
  const eventItems: EventRecord[] = events.map((e) => ({ ...e, expiresAt: expiresOf(e.occurredAt) }));
  const feed: EventFeedRecord[] = events.flatMap((e) =>
    e.path.map((feedAccountId, i) => ({
      feedAccountId,
      occurredAt: e.occurredAt,
      eventId: e.eventId,
      type: e.type,
      accountId: e.accountId,
      depth: e.path.length - 1 - i,
      resourceType: e.resourceType,
      resourceId: e.resourceId,
      ...(e.version !== undefined ? { version: e.version } : {}),
      expiresAt: expiresOf(e.occurredAt),
    })),
  );
  await store.putEvents(eventItems, feed);
  return { events };
}

export type FeedEvent = EventFeedRecord;

/**
 * The events of an account its caller may see, oldest first, of the last 30 days: its own, and
 * those of its subtree for callers who reach below it (sellers, operators); `types` narrows them.
 */
export async function feed(
  s: Session,
  accountId: string,
  args: PageArgs & { types?: readonly string[] | null },
): Promise<Page<FeedEvent>> {
  const store = integrations(s.deps).store;
  const { account, reach } = await s.authorized(accountId, "events.read");
  const types = args.types ?? [];
  const unknown = types.find((t) => !(EVENT_TYPES as readonly string[]).includes(t));
  if (unknown !== undefined) throw Invalid.field("types", `unknown event type ${JSON.stringify(unknown).slice(0, 60)}`);
  if (types.length > 20) throw Invalid.field("types", "at most 20 types");
  // Below the account: sellers and operators reach the subtree (DESIGN 1 "Reach"); others see the account's own events.
  const subtree = !!reach.above || (!!reach.own && (reach.own.seller || account!.id === "PLATFORM"));
  const since = new Date(s.now.getTime() - RETENTION_DAYS * DAY_MS).toISOString();
  const feedId = account!.id;
  return paged(args, async (limit, cursor) => {
    // The feed keeps the entries an event was written with; an account that moved away since takes
    // its events out of reach of the partners it left: pages skip them (reading on for a full page).
    // (Each read counts against the request's budget of DynamoDB requests, which bounds the reading.)
    const items: Page<FeedEvent>["items"][number][] = [];
    let after = cursor;
    for (;;) {
      const page = await store.listFeed(feedId, {
        since,
        types,
        ownOnly: !subtree,
        limit: limit - items.length,
        cursor: after,
      });
      const below = await stillBelow(
        s,
        feedId,
        page.items.map((i) => i.node),
      );
      items.push(...page.items.filter((i) => below(i.node)));
      after = page.items.at(-1)?.cursor ?? after;
      if (!page.hasNextPage || page.items.length === 0) return { items, hasNextPage: page.hasNextPage };
      if (items.length === limit) return { items, hasNextPage: true };
    }
  });
}

/**
 * Whether each event of a feed page is about an account still below (or at) the feed's: an event of
 * an account that moved out since is not; one of a deleted account keeps the path it had.
 */
async function stillBelow(
  s: Session,
  feedId: string,
  events: readonly FeedEvent[],
): Promise<(e: FeedEvent) => boolean> {
  const below = events.filter((e) => e.depth > 0).map((e) => e.accountId);
  if (below.length === 0) return () => true;
  const accounts = new Map((await s.accounts([...new Set(below)])).flatMap((a) => (a ? [[a.id, a] as const] : [])));
  return (e) => {
    const a = e.depth > 0 ? accounts.get(e.accountId) : undefined;
    return !a || a.path.includes(feedId);
  };
}

/** The path an event is judged by: its account's path now (`[...path, id]`) while it exists, else the one it had. */
export function currentPath(
  event: Pick<EventRecord, "accountId" | "path">,
  account: { readonly id: string; readonly path: readonly string[] } | undefined,
): readonly string[] {
  return account ? [...account.path, account.id] : event.path;
}

/** Whether `actor` (an endpoint's creator) may read an event of `path` seen from `endpointAccountId`. */
export function readable(
  actor: Parameters<typeof reachOf>[0],
  memberships: Parameters<typeof reachOf>[1],
  endpointAccount: Parameters<typeof reachOf>[2],
  path: readonly string[],
  now: Date,
): boolean {
  const reach = reachOf(actor, memberships, endpointAccount, now);
  if (!reach.own && !reach.above) return false;
  const own = path.at(-1) === endpointAccount.id;
  if (own) return true;
  const subtree = !!reach.above || (!!reach.own && (reach.own.seller || endpointAccount.id === "PLATFORM"));
  return subtree && path.includes(endpointAccount.id);
}

/** An event by id for `node(id)`: undefined unless the caller's feed would show it. */
export async function find(s: Session, eventId: string): Promise<FeedEvent | undefined> {
  if (!s.deps.integrations || eventId.length > 100) return undefined;
  const event = await integrations(s.deps).store.getEvent(eventId);
  if (!event || Date.parse(event.occurredAt) < s.now.getTime() - RETENTION_DAYS * DAY_MS) return undefined;
  const [subject] = await s.accounts([event.accountId]);
  const path = currentPath(event, subject);
  const [ms, accounts] = await Promise.all([s.memberships(), s.accounts(path)]);
  const visible = accounts.some((a) => a !== undefined && readable(s.actor, ms, a, path, s.now));
  if (!visible) return undefined;
  const { path: _path, ...rest } = event;
  return { ...rest, feedAccountId: event.accountId, depth: 0 };
}
