import { DEFAULT_PAGE, MAX_PAGE } from "../../core/paging.js";
import * as Tickets from "../../core/tickets.js";
import { ticketSides } from "../../infra/entities/ticket.js";
import { builder } from "../builder.js";
import { forward, toConnection } from "../connection.js";
import { valuesOf } from "../enums.js";
import { compositeId, compositeParts, globalId, scoped } from "../ids.js";
import type { GlobalIdArg } from "../ids.js";
import { AccountRef } from "./account.js";

export const TicketState = builder.enumType("TicketState", {
  description: "Where a support ticket stands",
  values: valuesOf(Tickets.ticketStates, {
    OPEN: "Reported; the partner has not taken it up yet",
    IN_PROGRESS: "The partner works on it",
    WAITING_ON_CUSTOMER: "The partner waits for the customer (a comment from the customer puts it back IN_PROGRESS)",
    RESOLVED: "The partner resolved it; the customer may close it or reopen it (IN_PROGRESS)",
    CLOSED: "Done; nothing more is added",
  }),
});

const TicketSide = builder.enumType("TicketSide", {
  description: "Which side of a ticket wrote a comment",
  values: valuesOf(ticketSides, {
    CUSTOMER: "The customer's people (or a partner admin on its behalf)",
    PARTNER: "The partner the ticket was opened to, or those above it",
  }),
});

export const TicketRef = builder.objectRef<Tickets.Info>("Ticket");
export const TicketCommentRef = builder.objectRef<Tickets.Comment>("TicketComment");

/** The global id of a ticket: "<partner id>:<ticket id>". */
export const ticketGlobalId = (t: Pick<Tickets.Info, "partnerId" | "ticketId">) =>
  globalId("Ticket", `${t.partnerId}:${t.ticketId}`);

/** A Ticket global id as its key (NotFound when malformed or of another type). */
export function ticketKey(id: GlobalIdArg): { partnerId: string; ticketId: string } {
  const { accountId, key } = scoped(id);
  return { partnerId: accountId, ticketId: key };
}

builder.node(TicketCommentRef, {
  description: "A comment on a support ticket",
  id: { resolve: (c) => compositeId(c.partnerId, c.ticketId, c.commentId) },
  loadWithoutCache: async (id, ctx) => {
    const parts = compositeParts(id, 3);
    return parts ? Tickets.findComment(ctx.session, parts[0]!, parts[1]!, parts[2]!) : undefined;
  },
  fields: (t) => ({
    side: t.field({ type: TicketSide, description: "Which side wrote it", resolve: (c) => c.side }),
    author: t.exposeString("author", {
      description: "Who wrote it, as audited (a deleted customer's people are anonymised)",
    }),
    body: t.exposeString("body", { description: "The text (lines separated by \\n)" }),
    at: t.field({ type: "DateTime", description: "When it was written", resolve: (c) => c.at }),
  }),
});

builder.node(TicketRef, {
  description:
    "A support ticket a customer opened to its partner (Circuit: Report Issue to Partner). Seen by the customer's people, the partner it was opened to and those above it",
  id: { resolve: (t) => `${t.partnerId}:${t.ticketId}` },
  loadWithoutCache: (id, ctx) => {
    const at = id.indexOf(":");
    return at > 0 ? Tickets.find(ctx.session, id.slice(0, at), id.slice(at + 1)) : undefined;
  },
  fields: (t) => ({
    summary: t.exposeString("summary", { description: "One line: what is wrong" }),
    description: t.exposeString("description", { description: "The details (lines separated by \\n)" }),
    occurredAt: t.field({ type: "DateTime", description: "When the problem occurred", resolve: (x) => x.occurredAt }),
    severity: t.exposeInt("severity", { description: "1 (service down) to 5 (question)" }),
    service: t.exposeString("service", { description: "The service concerned, as the reporter named it" }),
    state: t.field({ type: TicketState, description: "Where it stands", resolve: (x) => x.state }),
    customerId: t.id({
      description: "The customer's Account id (an account that may since have been deleted)",
      resolve: (x) => globalId("Account", x.customerId),
    }),
    customerName: t.exposeString("customerName", {
      description: 'The customer\'s name when it was opened ("Deleted account" once deleted)',
    }),
    partnerId: t.id({
      description: "The Account of the partner it was opened to (the customer's parent then)",
      resolve: (x) => globalId("Account", x.partnerId),
    }),
    openedBy: t.exposeString("openedBy", { description: "Who opened it, as audited" }),
    openedOnBehalf: t.exposeBoolean("onBehalf", {
      description: "Raised by the partner's side on the customer's behalf",
    }),
    reportedAt: t.field({ type: "DateTime", description: "When it was opened", resolve: (x) => x.reportedAt }),
    firstResponseAt: t.field({
      type: "DateTime",
      nullable: true,
      description: "The partner side's first comment or move",
      resolve: (x) => x.firstResponseAt ?? null,
    }),
    resolvedAt: t.field({
      type: "DateTime",
      nullable: true,
      description: "When it was last RESOLVED",
      resolve: (x) => x.resolvedAt ?? null,
    }),
    closedAt: t.field({
      type: "DateTime",
      nullable: true,
      description: "When it was CLOSED",
      resolve: (x) => x.closedAt ?? null,
    }),
    vendorTicketNumber: t.string({
      nullable: true,
      description: "The vendor's ticket number (NA00000001, …) once escalated, seen by everyone on the ticket",
      resolve: (x) => x.vendorNumber ?? null,
    }),
    escalatedAt: t.field({
      type: "DateTime",
      nullable: true,
      description: "When it was escalated to the vendor",
      resolve: (x) => x.escalatedAt ?? null,
    }),
    commentCount: t.exposeInt("commentCount", { description: "Comments on it" }),
    version: t.exposeInt("version", { description: "Moves with every change" }),
    comments: t.connection({
      type: TicketCommentRef,
      description: "The comments, in the order written",
      resolve: async (x, args, ctx) => toConnection(await Tickets.comments(ctx.session, x, forward(args))),
    }),
  }),
});

builder.objectFields(AccountRef, (t) => ({
  tickets: t.connection({
    type: TicketRef,
    description:
      "Support tickets, newest first: a customer's are those opened for it, a partner's those opened to it (its resellers' are on their accounts). Anyone who sees the account",
    complexity: (args) => ({ field: 1, multiplier: Math.min(args.first ?? DEFAULT_PAGE, MAX_PAGE) }),
    args: { state: t.arg({ type: TicketState, required: false, description: "Only tickets in this state" }) },
    resolve: async (a, args, ctx) =>
      toConnection(await Tickets.list(ctx.session, a.id, { ...forward(args), state: args.state ?? null })),
  }),
}));

builder.queryField("ticket", (t) =>
  t.field({
    type: TicketRef,
    description: "A support ticket you may see; NotFoundError otherwise",
    args: { id: t.arg.globalID({ for: TicketRef, required: true, description: "The ticket's global id" }) },
    errors: {},
    resolve: (_r, args, ctx) => {
      const { partnerId, ticketId } = ticketKey(args.id);
      return Tickets.get(ctx.session, partnerId, ticketId);
    },
  }),
);
