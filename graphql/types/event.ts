import * as Events from "../../core/events.js";
import { builder } from "../builder.js";
import { AccountRef } from "../types/account.js";
import { forward, toConnection } from "../connection.js";
import { globalId } from "../ids.js";

export const EventRef = builder.objectRef<Events.FeedEvent>("Event");

builder.node(EventRef, {
  description: "A change of the last 30 days (thin: fetch the resource with your own rights for details)",
  id: { resolve: (e) => e.eventId },
  loadWithoutCache: (id, ctx) => Events.find(ctx.session, id),
  fields: (t) => ({
    eventId: t.exposeString("eventId", { description: "The event's id, also the webhook-id of its deliveries" }),
    type: t.exposeString("type", { description: `resource.action: ${Events.EVENT_TYPES.join(", ")}` }),
    occurredAt: t.field({
      type: "DateTime",
      description: "When the change was committed",
      resolve: (e) => e.occurredAt,
    }),
    accountId: t.id({
      description: "The Account the change is about",
      resolve: (e) => globalId("Account", e.accountId),
    }),
    resourceType: t.exposeString("resourceType", { description: "The GraphQL type of the resource" }),
    resourceId: t.id({
      description: "The resource's global id (node(id) answers it, with your rights)",
      resolve: (e) => globalId(e.resourceType, e.resourceId),
    }),
    version: t.int({
      nullable: true,
      description: "The resource's version after the change, when it has one",
      resolve: (e) => e.version ?? null,
    }),
  }),
});

builder.queryField("events", (t) =>
  t.connection({
    type: EventRef,
    description:
      "Events of an account of the last 30 days, oldest first: its own, plus its subtree's for sellers and operators",
    args: {
      accountId: t.arg.globalID({ for: AccountRef, required: true, description: "The account" }),
      types: t.arg.stringList({ required: false, description: "Only these event types (resource.action)" }),
    },
    resolve: async (_r, args, ctx) =>
      toConnection(
        await Events.feed(ctx.session, args.accountId.id, {
          ...forward(args),
          types: args.types ?? null,
        }),
      ),
  }),
);
