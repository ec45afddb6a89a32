import { DEFAULT_PAGE, MAX_PAGE } from "../../core/paging.js";
import * as Webhooks from "../../core/webhooks.js";
import { builder } from "../builder.js";
import { forward, toConnection } from "../connection.js";
import { globalId } from "../ids.js";
import { AccountRef } from "./account.js";

export const WebhookEndpointStatus = builder.enumType("WebhookEndpointStatus", {
  description: "Whether an endpoint receives deliveries",
  values: {
    ENABLED: { description: "Receives the events it takes" },
    DISABLED: {
      description: "Receives nothing: turned off by its owners, or after 410 Gone or five days of failed deliveries",
    },
  } as const,
});

export const WebhookEndpointRef = builder.objectRef<Webhooks.EndpointInfo>("WebhookEndpoint");
export const WebhookDeliveryRef = builder.objectRef<Webhooks.DeliveryInfo>("WebhookDelivery");

/** The global id of an endpoint: "<account id>:<endpoint id>". */
export const webhookEndpointGlobalId = (e: Pick<Webhooks.EndpointInfo, "accountId" | "endpointId">) =>
  globalId("WebhookEndpoint", `${e.accountId}:${e.endpointId}`);

builder.node(WebhookDeliveryRef, {
  description: "One attempt to deliver an event to a webhook endpoint (kept 30 days)",
  id: { resolve: (d) => Webhooks.deliveryLocalId(d) },
  loadWithoutCache: (id, ctx) => Webhooks.findDelivery(ctx.session, id),
  fields: (t) => ({
    endpointId: t.id({ description: "The WebhookEndpoint it was sent to", resolve: (d) => webhookEndpointGlobalId(d) }),
    webhookId: t.exposeString("eventId", {
      description: "The webhook-id header: the event's eventId, the same on every attempt and redelivery",
    }),
    eventType: t.exposeString("eventType", { description: "The event's type (webhook.test for sendTestEvent)" }),
    attempt: t.exposeInt("attempt", { description: "Which attempt of this delivery it was: 1 for the first" }),
    attemptedAt: t.field({ type: "DateTime", description: "When the attempt was made", resolve: (d) => d.attemptedAt }),
    succeeded: t.exposeBoolean("succeeded", { description: "The endpoint answered 2xx" }),
    statusCode: t.int({
      nullable: true,
      description: "The HTTP status answered; null when no answer came (network error, timeout, refused address)",
      resolve: (d) => d.statusCode ?? null,
    }),
    latencyMs: t.exposeInt("latencyMs", {
      description: "Milliseconds from sending to the end of the answer (or the failure)",
    }),
    error: t.string({
      nullable: true,
      description: "Why no answer came: network error, timeout, or an address refused by the SSRF guard",
      resolve: (d) => d.error ?? null,
    }),
    responseBody: t.string({
      nullable: true,
      description: "The first 1,024 characters of the answer's body",
      resolve: (d) => d.responseBody ?? null,
    }),
  }),
});

builder.node(WebhookEndpointRef, {
  description: "A URL of an account that receives its events as signed Standard Webhooks deliveries",
  id: { resolve: (e) => `${e.accountId}:${e.endpointId}` },
  loadWithoutCache: (id, ctx) => Webhooks.find(ctx.session, id),
  fields: (t) => ({
    accountId: t.id({ description: "The Account it belongs to", resolve: (e) => globalId("Account", e.accountId) }),
    url: t.exposeString("url", { description: "Where deliveries are POSTed" }),
    eventTypes: t.exposeStringList("eventTypes", {
      description: "The event types it takes (resource.action); empty: every type",
    }),
    description: t.string({ nullable: true, description: "Its owners' note", resolve: (e) => e.description ?? null }),
    status: t.field({ type: WebhookEndpointStatus, description: "ENABLED or DISABLED", resolve: (e) => e.status }),
    disabledReason: t.string({
      nullable: true,
      description: "Why it was disabled",
      resolve: (e) => e.disabledReason ?? null,
    }),
    disabledAt: t.field({
      type: "DateTime",
      nullable: true,
      description: "When it was disabled",
      resolve: (e) => e.disabledAt ?? null,
    }),
    failingSince: t.field({
      type: "DateTime",
      nullable: true,
      description: "The first failed attempt since the last success; five days of failures disable the endpoint",
      resolve: (e) => e.failingSince ?? null,
    }),
    previousSecretValidUntil: t.field({
      type: "DateTime",
      nullable: true,
      description: "After a rotation: until when deliveries carry a signature by the previous secret too",
      resolve: (e, _a, ctx) =>
        e.previousValidUntil && new Date(e.previousValidUntil) > ctx.session.now ? e.previousValidUntil : null,
    }),
    createdAt: t.field({ type: "DateTime", description: "When it was created", resolve: (e) => e.createdAt }),
    version: t.exposeInt("version", {
      description: "Changes with every update (expectedVersion of updateWebhookEndpoint)",
    }),
    deliveries: t.connection({
      type: WebhookDeliveryRef,
      description: "Delivery attempts of the last 30 days, newest first",
      // The endpoint read again (rights), then the page: two requests, and what is selected on each attempt.
      complexity: (args) => ({ field: 2, multiplier: Math.min(args.first ?? DEFAULT_PAGE, MAX_PAGE) }),
      resolve: async (e, args, ctx) =>
        toConnection(await Webhooks.deliveries(ctx.session, `${e.accountId}:${e.endpointId}`, forward(args))),
    }),
  }),
});

builder.objectFields(AccountRef, (t) => ({
  webhookEndpoints: t.connection({
    type: WebhookEndpointRef,
    description: "The account's webhook endpoints (its OWNERs only)",
    resolve: async (a, args, ctx) => toConnection(await Webhooks.list(ctx.session, a.id, forward(args))),
  }),
}));
