import { CheckedModelEntity } from "./entity.js";
import type { EntityConfiguration } from "electrodb";

export const clientRoles = ["OWNER", "CONTRIBUTOR", "VIEWER"] as const;

/**
 * An API client: a machine identity of an account (OAuth 2.0 client credentials). In the account's
 * own partition (deleted with it); its id embeds the account id, so a token request finds it with one
 * strongly consistent GetItem. Only digests of its secrets are kept. `generation` counts rotations:
 * tokens carry the generation they were issued for; the previous one stays valid until
 * `previousValidUntil` (24 h) or until it is revoked. The request counter of the per-client rate
 * limit lives on the item too, so one conditional update checks revocation, counts and stamps
 * `lastUsedAt`.
 */
export function apiClientEntity(config: EntityConfiguration) {
  return new CheckedModelEntity(
    {
      model: { entity: "apiClient", version: "1", service: "cp" },
      attributes: {
        accountId: { type: "string", required: true, readOnly: true },
        clientId: { type: "string", required: true, readOnly: true },
        name: { type: "string", required: true },
        role: { type: clientRoles, required: true },
        seller: { type: "boolean", required: true },
        status: { type: ["ACTIVE", "REVOKED"] as const, required: true },
        secretHash: { type: "string", required: true },
        generation: { type: "number", required: true },
        previousSecretHash: { type: "string" },
        previousValidUntil: { type: "string" },
        createdAt: { type: "string", required: true, readOnly: true },
        createdBy: { type: "string", required: true, readOnly: true },
        lastUsedAt: { type: "string" },
        revokedAt: { type: "string" },
        /** Start of the current rate window (ISO) and the requests counted in it. */
        window: { type: "string" },
        windowCount: { type: "number" },
      },
      indexes: {
        // The clients of an account, by id (a handful).
        byAccount: {
          pk: { field: "pk", composite: ["accountId"] },
          sk: { field: "sk", composite: ["clientId"] },
        },
      },
    },
    config,
  );
}

/**
 * One event of the change stream as a reader finds it in a feed. Written once per account of the
 * subject's path (itself at depth 0, each ancestor above), so "events of this account and its
 * subtree" is one Query of the reader's own partition, never a scan. Same keys on a replay of the
 * stream: writing twice changes nothing (idempotent by event id). TTL: 30 days.
 */
export function eventFeedEntity(config: EntityConfiguration) {
  return new CheckedModelEntity(
    {
      model: { entity: "eventFeed", version: "1", service: "cp" },
      attributes: {
        feedAccountId: { type: "string", required: true, readOnly: true },
        occurredAt: { type: "string", required: true, readOnly: true },
        eventId: { type: "string", required: true, readOnly: true },
        type: { type: "string", required: true },
        /** The account the event is about. */
        accountId: { type: "string", required: true },
        /** 0: the feed's own account; n: the subject is n levels below it. */
        depth: { type: "number", required: true },
        resourceType: { type: "string", required: true },
        resourceId: { type: "string", required: true },
        version: { type: "number" },
        expiresAt: { type: "number", required: true },
      },
      indexes: {
        // The feed of an account in time order (cursors resume after an event).
        byFeed: {
          pk: { field: "pk", composite: ["feedAccountId"] },
          sk: { field: "sk", composite: ["occurredAt", "eventId"], casing: "none" },
        },
      },
    },
    config,
  );
}

/** An event by its id (redelivery, the delivery worker): the feed entry's content plus the subject's path. */
export function eventEntity(config: EntityConfiguration) {
  return new CheckedModelEntity(
    {
      model: { entity: "event", version: "1", service: "cp" },
      attributes: {
        eventId: { type: "string", required: true, readOnly: true },
        occurredAt: { type: "string", required: true },
        type: { type: "string", required: true },
        accountId: { type: "string", required: true },
        /** Ancestors of the subject account, root first, then itself (its path when the event happened). */
        path: { type: "list", items: { type: "string" }, required: true },
        resourceType: { type: "string", required: true },
        resourceId: { type: "string", required: true },
        version: { type: "number" },
        expiresAt: { type: "number", required: true },
      },
      indexes: {
        byId: {
          pk: { field: "pk", composite: ["eventId"], casing: "none" },
          sk: { field: "sk", composite: [] },
        },
      },
    },
    config,
  );
}

/**
 * A webhook endpoint of an account. The signing secret must be usable to sign, so it is kept
 * encrypted (AES-256-GCM under a key derived from the API's signing key), never in clear.
 */
export function webhookEndpointEntity(config: EntityConfiguration) {
  return new CheckedModelEntity(
    {
      model: { entity: "webhookEndpoint", version: "1", service: "cp" },
      attributes: {
        accountId: { type: "string", required: true, readOnly: true },
        endpointId: { type: "string", required: true, readOnly: true },
        url: { type: "string", required: true },
        /** Empty: every event type. */
        eventTypes: { type: "list", items: { type: "string" }, required: true },
        description: { type: "string" },
        status: { type: ["ENABLED", "DISABLED"] as const, required: true },
        disabledReason: { type: "string" },
        disabledAt: { type: "string" },
        secretSealed: { type: "string", required: true },
        previousSecretSealed: { type: "string" },
        previousValidUntil: { type: "string" },
        /** Who created it: deliveries carry only what this principal may read ("user:<email>" | "client:<accountId>:<clientId>"). */
        creator: { type: "string", required: true, readOnly: true },
        createdAt: { type: "string", required: true, readOnly: true },
        /** The first failed attempt since the last success (five days of failures disable the endpoint). */
        failingSince: { type: "string" },
        version: { type: "number", required: true },
      },
      indexes: {
        // Endpoints of an account (a handful): the stream consumer reads those of each account of an event's path.
        byAccount: {
          pk: { field: "pk", composite: ["accountId"] },
          sk: { field: "sk", composite: ["endpointId"] },
        },
      },
    },
    config,
  );
}

/** One delivery attempt to an endpoint, newest last; kept 30 days. */
export function deliveryEntity(config: EntityConfiguration) {
  return new CheckedModelEntity(
    {
      model: { entity: "delivery", version: "1", service: "cp" },
      attributes: {
        accountId: { type: "string", required: true, readOnly: true },
        endpointId: { type: "string", required: true, readOnly: true },
        attemptedAt: { type: "string", required: true, readOnly: true },
        deliveryId: { type: "string", required: true, readOnly: true },
        eventId: { type: "string", required: true },
        eventType: { type: "string", required: true },
        attempt: { type: "number", required: true },
        statusCode: { type: "number" },
        latencyMs: { type: "number", required: true },
        error: { type: "string" },
        responseBody: { type: "string" },
        succeeded: { type: "boolean", required: true },
        expiresAt: { type: "number", required: true },
      },
      indexes: {
        // Attempts of an endpoint in time order.
        byEndpoint: {
          pk: { field: "pk", composite: ["accountId", "endpointId"] },
          sk: { field: "sk", composite: ["attemptedAt", "deliveryId"], casing: "none" },
        },
      },
    },
    config,
  );
}

/**
 * Whether an event reached an endpoint: a duplicate queue message finds it delivered and stops. While
 * an attempt is under way it holds a lease (`leaseToken` until `leaseUntil`), so two copies of one
 * message (a replayed stream batch enqueues again) never POST at the same time.
 */
export function deliveryStateEntity(config: EntityConfiguration) {
  return new CheckedModelEntity(
    {
      model: { entity: "deliveryState", version: "1", service: "cp" },
      attributes: {
        endpointId: { type: "string", required: true, readOnly: true },
        eventId: { type: "string", required: true, readOnly: true },
        deliveredAt: { type: "string" },
        leaseToken: { type: "string" },
        leaseUntil: { type: "string" },
        expiresAt: { type: "number", required: true },
      },
      indexes: {
        byPair: {
          pk: { field: "pk", composite: ["endpointId", "eventId"], casing: "none" },
          sk: { field: "sk", composite: [] },
        },
      },
    },
    config,
  );
}
