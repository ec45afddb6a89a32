import { decodeGlobalID } from "@pothos/plugin-relay";
import * as Webhooks from "../../core/webhooks.js";
import { NotFound } from "../../core/errors.js";
import { builder } from "../builder.js";
import { AccountRef } from "../types/account.js";
import { WebhookEndpointRef } from "../types/webhook.js";

const WithSecret = builder
  .objectRef<{ endpoint: Webhooks.EndpointInfo; secret: string }>("WebhookEndpointWithSecret")
  .implement({
    description:
      "An endpoint and its signing secret, shown this once. A mutation result, not an entity: the endpoint is the entity",
    fields: (t) => ({
      endpoint: t.field({ type: WebhookEndpointRef, description: "The endpoint", resolve: (p) => p.endpoint }),
      secret: t.exposeString("secret", {
        description:
          "The signing secret (whsec_...): give it to your receiver's standardwebhooks verifier now; it is never shown again",
      }),
    }),
  });

const EndpointPayload = builder.objectRef<{ endpoint: Webhooks.EndpointInfo }>("WebhookEndpointPayload").implement({
  description: "The endpoint after the change (as it was, for a deletion)",
  fields: (t) => ({
    endpoint: t.field({ type: WebhookEndpointRef, description: "The endpoint", resolve: (p) => p.endpoint }),
  }),
});

const SendPayload = builder
  .objectRef<{ endpoint: Webhooks.EndpointInfo; eventId: string }>("WebhookSendPayload")
  .implement({
    description: "A delivery queued to an endpoint; its attempts show in the endpoint's deliveries",
    fields: (t) => ({
      endpoint: t.field({ type: WebhookEndpointRef, description: "The endpoint", resolve: (p) => p.endpoint }),
      webhookId: t.exposeString("eventId", { description: "The webhook-id the delivery carries" }),
    }),
  });

const EndpointRefInput = builder.inputType("WebhookEndpointRefInput", {
  description: "Which webhook endpoint",
  fields: (f) => ({
    endpointId: f.globalID({ for: WebhookEndpointRef, required: true, description: "The WebhookEndpoint's id" }),
  }),
});

/** An Event's global id, or its eventId (the webhook-id of its deliveries, as a receiver has it). */
function eventLocal(id: string | number): string {
  const raw = String(id);
  if (/^evt_[0-9a-f]{32}$/.test(raw)) return raw;
  try {
    const { typename, id: local } = decodeGlobalID(raw);
    if (typename === "Event" && local.length > 0 && local.length <= 160) return local;
  } catch {
    // fall through
  }
  throw new NotFound("Event");
}

builder.mutationField("createWebhookEndpoint", (t) =>
  t.field({
    type: WithSecret,
    description:
      "An account's OWNERs (people, or API clients with the OWNER role): a URL that receives the account's events, signed with a new secret",
    args: {
      input: t.arg({
        description: "The endpoint to create",
        required: true,
        type: builder.inputType("CreateWebhookEndpointInput", {
          description: "A new webhook endpoint",
          fields: (f) => ({
            accountId: f.globalID({ for: AccountRef, required: true, description: "Its account" }),
            url: f.string({
              required: true,
              description: "An https URL on a public address (the local stack also takes http and loopback)",
            }),
            eventTypes: f.stringList({
              required: false,
              description: "Event types to receive (resource.action); empty or absent: every type",
            }),
            description: f.string({ required: false, description: "A note for its owners (at most 500 characters)" }),
          }),
        }),
      }),
    },
    errors: {},
    resolve: async (_r, { input }, ctx) =>
      Webhooks.create(ctx.session, {
        accountId: input.accountId.id,
        url: input.url,
        ...(input.eventTypes ? { eventTypes: input.eventTypes } : {}),
        ...(input.description !== null && input.description !== undefined ? { description: input.description } : {}),
      }),
  }),
);

builder.mutationField("updateWebhookEndpoint", (t) =>
  t.field({
    type: EndpointPayload,
    description:
      "Changes an endpoint's URL, event types or description; enabled turns it off, or on again after it was disabled",
    args: {
      input: t.arg({
        description: "The endpoint and what changes",
        required: true,
        type: builder.inputType("UpdateWebhookEndpointInput", {
          description: "Changes to a webhook endpoint (absent fields keep their value)",
          fields: (f) => ({
            endpointId: f.globalID({
              for: WebhookEndpointRef,
              required: true,
              description: "The WebhookEndpoint's id",
            }),
            url: f.string({ required: false, description: "A new URL" }),
            eventTypes: f.stringList({ required: false, description: "The event types to receive; empty: every type" }),
            description: f.string({ required: false, description: "A new note; empty clears it" }),
            enabled: f.boolean({
              required: false,
              description: "false: receive nothing; true: receive again (clears the failure record)",
            }),
            expectedVersion: f.int({
              required: false,
              description: "Refuse the change (ConflictError) if the endpoint's version is another",
            }),
          }),
        }),
      }),
    },
    errors: {},
    resolve: async (_r, { input }, ctx) => ({
      endpoint: await Webhooks.update(ctx.session, {
        endpointId: input.endpointId.id,
        ...(input.url !== null && input.url !== undefined ? { url: input.url } : {}),
        ...(input.eventTypes ? { eventTypes: input.eventTypes } : {}),
        ...(input.description !== null && input.description !== undefined ? { description: input.description } : {}),
        ...(input.enabled !== null && input.enabled !== undefined ? { enabled: input.enabled } : {}),
        ...(input.expectedVersion !== null && input.expectedVersion !== undefined
          ? { expectedVersion: input.expectedVersion }
          : {}),
      }),
    }),
  }),
);

builder.mutationField("deleteWebhookEndpoint", (t) =>
  t.field({
    type: EndpointPayload,
    description: "Deletes an endpoint: nothing more is sent to it",
    args: { input: t.arg({ type: EndpointRefInput, required: true, description: "The endpoint" }) },
    errors: {},
    resolve: async (_r, { input }, ctx) => ({
      endpoint: await Webhooks.remove(ctx.session, { endpointId: input.endpointId.id }),
    }),
  }),
);

builder.mutationField("rotateWebhookSecret", (t) =>
  t.field({
    type: WithSecret,
    description:
      "A new signing secret; for 24 hours deliveries carry signatures by both the new and the previous secret",
    args: { input: t.arg({ type: EndpointRefInput, required: true, description: "The endpoint" }) },
    errors: {},
    resolve: async (_r, { input }, ctx) => Webhooks.rotateSecret(ctx.session, { endpointId: input.endpointId.id }),
  }),
);

builder.mutationField("sendTestEvent", (t) =>
  t.field({
    type: SendPayload,
    description:
      "Queues a webhook.test event to the endpoint (signed like any delivery); the attempt shows in its deliveries",
    args: { input: t.arg({ type: EndpointRefInput, required: true, description: "The endpoint" }) },
    errors: {},
    resolve: async (_r, { input }, ctx) => Webhooks.sendTestEvent(ctx.session, { endpointId: input.endpointId.id }),
  }),
);

builder.mutationField("redeliverEvent", (t) =>
  t.field({
    type: SendPayload,
    description: "Sends an event of the last 30 days to the endpoint again, with the same webhook-id",
    args: {
      input: t.arg({
        description: "The endpoint and the event",
        required: true,
        type: builder.inputType("RedeliverEventInput", {
          description: "An event to send again to an endpoint that takes it",
          fields: (f) => ({
            endpointId: f.globalID({
              for: WebhookEndpointRef,
              required: true,
              description: "The WebhookEndpoint's id",
            }),
            eventId: f.id({
              required: true,
              description: "The Event's id, or its eventId (the webhook-id of its deliveries)",
            }),
          }),
        }),
      }),
    },
    errors: {},
    resolve: async (_r, { input }, ctx) =>
      Webhooks.redeliver(ctx.session, {
        endpointId: input.endpointId.id,
        eventId: eventLocal(input.eventId),
      }),
  }),
);
