import type { ChangeRecord } from "../infra/change-stream.js";
import { digest } from "../infra/ids.js";
import { RETENTION_DAYS as DELETION_DELAY_DAYS } from "./lifecycle.js";
import { MAX_ATTEMPTS } from "./equipment/codes.js";
import { DAY_MS } from "./time.js";

/**
 * Which committed changes are events, and which: pure functions of a change-stream record
 * (core/events.ts stores, lists and delivers them).
 */

/**
 * The event catalogue (`resource.action`). Each is derived from an item a mutation
 * already writes in its own transaction (audit, ledger, invoice, usage, reminder), so no event
 * exists without its commit and no commit is without its event.
 */
export const EVENT_TYPES = [
  "account.created",
  "account.updated",
  "account.moved",
  "account.deletionScheduled",
  "account.deleted",
  "member.invited",
  "member.joined",
  "member.removed",
  "member.roleChanged",
  "order.placed",
  "subscription.created",
  "subscription.changed",
  "subscription.cancelled",
  "subscription.expired",
  "subscription.renewed",
  "subscription.converted",
  "trial.expiring",
  "invoice.issued",
  "equipment.declared",
  "equipment.connected",
  "equipment.disconnected",
  "equipment.locked",
  "equipment.removed",
  "partnerAdmin.optInChanged",
  "usage.recorded",
  "apiClient.created",
  "apiClient.secretRotated",
  "apiClient.previousSecretRevoked",
  "apiClient.revoked",
  "webhookEndpoint.created",
  "webhookEndpoint.updated",
  "webhookEndpoint.deleted",
  "webhookEndpoint.secretRotated",
  "webhookEndpoint.disabled",
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** A thin event: what happened to which resource of which account, when; never prices or personal data. */
export interface DerivedEvent {
  readonly eventId: string;
  readonly type: EventType;
  readonly occurredAt: string;
  readonly accountId: string;
  /** The GraphQL type of the resource (its global id is `<type>:<resourceId>`, base64). */
  // Subscriptions are LicenceSubscription in the schema (Subscription is GraphQL's root word).
  readonly resourceType:
    | "Account"
    | "Order"
    | "LicenceSubscription"
    | "Invoice"
    | "Equipment"
    | "ApiClient"
    | "WebhookEndpoint";
  readonly resourceId: string;
  readonly version?: number;
}

/** Audit actions that are events, with the resource they name. */
const AUDIT_EVENTS: Readonly<
  Record<
    string,
    {
      type: EventType;
      resource: (a: { accountId: string; subjectId?: string }) => Pick<DerivedEvent, "resourceType" | "resourceId">;
    }
  >
> = {
  "account.created": {
    type: "account.created",
    resource: (a) => ({ resourceType: "Account", resourceId: a.accountId }),
  },
  "account.updated": {
    type: "account.updated",
    resource: (a) => ({ resourceType: "Account", resourceId: a.accountId }),
  },
  "account.moved": { type: "account.moved", resource: (a) => ({ resourceType: "Account", resourceId: a.accountId }) },
  // Written on the parent (the account itself is gone): the parent's feed carries it.
  "account.deleted": {
    type: "account.deleted",
    resource: (a) => ({ resourceType: "Account", resourceId: a.subjectId ?? a.accountId }),
  },
  // Members are named by their account only: their id is their e-mail, personal data.
  "member.invited": { type: "member.invited", resource: (a) => ({ resourceType: "Account", resourceId: a.accountId }) },
  "member.joined": { type: "member.joined", resource: (a) => ({ resourceType: "Account", resourceId: a.accountId }) },
  "member.removed": { type: "member.removed", resource: (a) => ({ resourceType: "Account", resourceId: a.accountId }) },
  "member.roleChanged": {
    type: "member.roleChanged",
    resource: (a) => ({ resourceType: "Account", resourceId: a.accountId }),
  },
  "order.placed": {
    type: "order.placed",
    resource: (a) => ({ resourceType: "Order", resourceId: `${a.accountId}:${a.subjectId ?? ""}` }),
  },
  "equipment.declared": {
    type: "equipment.declared",
    resource: (a) => ({ resourceType: "Equipment", resourceId: `${a.accountId}:${a.subjectId ?? ""}` }),
  },
  "equipment.activated": {
    type: "equipment.connected",
    resource: (a) => ({ resourceType: "Equipment", resourceId: `${a.accountId}:${a.subjectId ?? ""}` }),
  },
  "equipment.removed": {
    type: "equipment.removed",
    resource: (a) => ({ resourceType: "Equipment", resourceId: `${a.accountId}:${a.subjectId ?? ""}` }),
  },
  "account.partnerAdminOptedIn": {
    type: "partnerAdmin.optInChanged",
    resource: (a) => ({ resourceType: "Account", resourceId: a.accountId }),
  },
  "account.partnerAdminOptedOut": {
    type: "partnerAdmin.optInChanged",
    resource: (a) => ({ resourceType: "Account", resourceId: a.accountId }),
  },
  ...Object.fromEntries(
    (
      ["apiClient.created", "apiClient.secretRotated", "apiClient.previousSecretRevoked", "apiClient.revoked"] as const
    ).map((t) => [
      t,
      {
        type: t,
        resource: (a: { subjectId?: string }) => ({
          resourceType: "ApiClient" as const,
          resourceId: a.subjectId ?? "",
        }),
      },
    ]),
  ),
  ...Object.fromEntries(
    (
      [
        "webhookEndpoint.created",
        "webhookEndpoint.updated",
        "webhookEndpoint.deleted",
        "webhookEndpoint.secretRotated",
        "webhookEndpoint.disabled",
      ] as const
    ).map((t) => [
      t,
      {
        type: t,
        resource: (a: { accountId: string; subjectId?: string }) => ({
          resourceType: "WebhookEndpoint" as const,
          resourceId: `${a.accountId}:${a.subjectId ?? ""}`,
        }),
      },
    ]),
  ),
};

const LEDGER_EVENTS: Readonly<Record<string, EventType>> = {
  CREATED: "subscription.created",
  INCREASED: "subscription.changed",
  DECREASED: "subscription.changed",
  CANCELLED: "subscription.cancelled",
  EXPIRED: "subscription.expired",
  RENEWED: "subscription.renewed",
  CONVERTED: "subscription.converted",
};

/** The id of the event derived from one stream record: stable across replays of the stream. */
function eventIdOf(r: ChangeRecord, type: string): string {
  return `evt_${digest(`${r.keys.pk}|${r.keys.sk}|${r.eventName}|${type}`).slice(0, 32)}`;
}

const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);
const num = (v: unknown): number | undefined => (typeof v === "number" ? v : undefined);

/** The events one committed change stands for (none for most items). Pure. */
export function derive(r: ChangeRecord): DerivedEvent[] {
  const img = r.newImage;
  if (img && r.eventName === "MODIFY") return deriveModified(r, img);
  if (!img || r.eventName !== "INSERT") return [];
  const entity = str(img.__edb_e__);
  const make = (
    type: EventType,
    occurredAt: string | undefined,
    accountId: string | undefined,
    resource: Pick<DerivedEvent, "resourceType" | "resourceId">,
    version?: number,
  ): DerivedEvent[] =>
    occurredAt && accountId
      ? [
          {
            eventId: eventIdOf(r, type),
            type,
            occurredAt,
            accountId,
            ...resource,
            ...(version !== undefined ? { version } : {}),
          },
        ]
      : [];
  switch (entity) {
    case "audit": {
      const action = str(img.action) ?? "";
      const def = AUDIT_EVENTS[action];
      const accountId = str(img.accountId);
      const subjectId = str(img.subjectId);
      if (!def || !accountId) return [];
      // account.created is audited on the parent and on the new account: the event is the account's own.
      if (action === "account.created" && subjectId !== accountId) return [];
      return make(def.type, str(img.at), accountId, def.resource({ accountId, ...(subjectId ? { subjectId } : {}) }));
    }
    case "subchange": {
      const type = LEDGER_EVENTS[str(img.kind) ?? ""];
      const accountId = str(img.accountId);
      return type
        ? make(
            type,
            str(img.at),
            accountId,
            { resourceType: "LicenceSubscription", resourceId: `${accountId}:${str(img.sku)}` },
            num(img.version),
          )
        : [];
    }
    case "invoice": {
      const partyId = str(img.partyId);
      return make("invoice.issued", str(img.issuedAt), partyId, {
        resourceType: "Invoice",
        resourceId: `${partyId}:${str(img.period)}`,
      });
    }
    case "usage": {
      const accountId = str(img.accountId);
      return make("usage.recorded", str(img.recordedAt), accountId, {
        resourceType: "LicenceSubscription",
        resourceId: `${accountId}:${str(img.sku)}`,
      });
    }
    case "sent": {
      // "trial-reminder:<account>:<sku>:<endsAt>:<days>": the lifecycle run's reminder, sent once.
      const m = /^trial-reminder:([^:]+):([^:]+):/.exec(str(img.key) ?? "");
      return m
        ? make("trial.expiring", str(img.at), m[1], {
            resourceType: "LicenceSubscription",
            resourceId: `${m[1]}:${m[2]}`,
          })
        : [];
    }
    default:
      return [];
  }
}

/**
 * Events of changed items. The lifecycle run's retention sets `pendingDeletionAt` on an account
 * (DESIGN 1: deleted 14 days after its last subscription ended): account.deletionScheduled. The item
 * keeps no time of that write, so the event's time is the moment the 14 days started (the date
 * less 14 days), which every replay derives alike; the id includes the date, so a retention clock
 * stopped and started again is a new event.
 *
 * A PBX's activation locks when the attempt that used the last of its evaluations is judged wrong:
 * that judgement is the write that records WRONG_CODE on an equipment item already at MAX_ATTEMPTS
 * (later refusals record LOCKED). equipment.locked, once per issued code (its id includes the code's
 * digest), at the time of that failure.
 *
 * A PBX's heartbeats stopped: the liveness sweep marks `disconnectedAt` (its last heartbeat + 10
 * minutes): equipment.disconnected at that instant. The next heartbeat (or report) removes the mark:
 * equipment.connected at that heartbeat. Both ids include the mark, so each outage is one pair.
 */
function deriveModified(r: ChangeRecord, img: Record<string, unknown>): DerivedEvent[] {
  if (str(img.__edb_e__) === "equipment") return [...deriveLocked(r, img), ...deriveLiveness(r, img)];
  if (str(img.__edb_e__) !== "account") return [];
  const due = str(img.pendingDeletionAt);
  const id = str(img.id);
  if (!due || !id || due === str(r.oldImage?.pendingDeletionAt)) return [];
  const started = Date.parse(due) - DELETION_DELAY_DAYS * DAY_MS;
  if (Number.isNaN(started)) return [];
  const type = "account.deletionScheduled";
  return [
    {
      eventId: eventIdOf(r, `${type}|${due}`),
      type,
      occurredAt: new Date(started).toISOString(),
      accountId: id,
      resourceType: "Account",
      resourceId: id,
    },
  ];
}

function deriveLocked(r: ChangeRecord, img: Record<string, unknown>): DerivedEvent[] {
  const at = str(img.lastActivationFailureAt);
  const accountId = str(img.accountId);
  const equipmentId = str(img.equipmentId);
  const judged = at !== undefined && at !== str(r.oldImage?.lastActivationFailureAt);
  const exhausted = (num(img.failedAttempts) ?? 0) >= MAX_ATTEMPTS && str(img.status) === "PENDING";
  if (!judged || !exhausted || str(img.lastActivationFailure) !== "WRONG_CODE" || !accountId || !equipmentId) return [];
  const type = "equipment.locked";
  return [
    {
      eventId: eventIdOf(r, `${type}|${str(img.codeDigest) ?? ""}`),
      type,
      occurredAt: at,
      accountId,
      resourceType: "Equipment",
      resourceId: `${accountId}:${equipmentId}`,
    },
  ];
}

function deriveLiveness(r: ChangeRecord, img: Record<string, unknown>): DerivedEvent[] {
  const accountId = str(img.accountId);
  const equipmentId = str(img.equipmentId);
  if (!accountId || !equipmentId) return [];
  const resource = { accountId, resourceType: "Equipment", resourceId: `${accountId}:${equipmentId}` } as const;
  const now = str(img.disconnectedAt);
  const before = str(r.oldImage?.disconnectedAt);
  if (now && now !== before) {
    const type = "equipment.disconnected";
    return [{ eventId: eventIdOf(r, `${type}|${now}`), type, occurredAt: now, ...resource }];
  }
  const seen = str(img.lastSeenAt);
  if (before && !now && str(img.status) === "CONNECTED" && seen) {
    const type = "equipment.connected";
    return [{ eventId: eventIdOf(r, `${type}|${before}`), type, occurredAt: seen, ...resource }];
  }
  return [];
}
