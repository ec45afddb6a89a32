import * as Tickets from "../../core/tickets.js";
import { builder } from "../builder.js";
import { AccountRef } from "../types/account.js";
import { TicketCommentRef, TicketRef, TicketState, ticketKey } from "../types/ticket.js";

const TicketPayload = builder.objectRef<{ ticket: Tickets.Info }>("TicketPayload").implement({
  description: "The ticket after the change",
  fields: (t) => ({ ticket: t.field({ type: TicketRef, description: "The ticket", resolve: (p) => p.ticket }) }),
});

const OpenTicketInput = builder.inputType("OpenTicketInput", {
  description: "A problem to report to the customer's partner",
  fields: (t) => ({
    accountId: t.globalID({ for: AccountRef, required: true, description: "The customer's Account id" }),
    summary: t.string({ required: true, description: "One line: what is wrong (1-120 characters)" }),
    description: t.string({ required: true, description: "The details (up to 5,000 characters, several lines)" }),
    occurredAt: t.field({
      type: "DateTime",
      required: true,
      description: "When the problem occurred (not later than now)",
    }),
    severity: t.int({ required: true, description: "1 (service down) to 5 (question)" }),
    service: t.string({
      required: true,
      description: "The service concerned, e.g. the offer's name (1-120 characters)",
    }),
  }),
});

builder.mutationField("openTicket", (t) =>
  t.field({
    type: TicketPayload,
    description:
      "Report an issue to the partner (Circuit: Report Issue to Partner): any member of the customer, a partner admin on its behalf, or a partner above raising it for the customer. The ticket goes to the customer's parent",
    args: { input: t.arg({ type: OpenTicketInput, required: true, description: "The operation's fields" }) },
    errors: {},
    resolve: async (_r, { input }, ctx) => ({
      ticket: await Tickets.open(ctx.session, {
        accountId: input.accountId.id,
        summary: input.summary,
        description: input.description,
        occurredAt: input.occurredAt,
        severity: input.severity,
        service: input.service,
      }),
    }),
  }),
);

const CommentTicketInput = builder.inputType("CommentTicketInput", {
  description: "A comment on a ticket",
  fields: (t) => ({
    ticketId: t.globalID({ for: TicketRef, required: true, description: "The Ticket's global id" }),
    body: t.string({ required: true, description: "The text (up to 5,000 characters, several lines)" }),
  }),
});

builder.mutationField("commentTicket", (t) =>
  t.field({
    type: builder.objectRef<{ ticket: Tickets.Info; comment: Tickets.Comment }>("CommentTicketPayload").implement({
      description: "The comment and the ticket after it",
      fields: (f) => ({
        ticket: f.field({ type: TicketRef, description: "The ticket", resolve: (p) => p.ticket }),
        comment: f.field({ type: TicketCommentRef, description: "The comment", resolve: (p) => p.comment }),
      }),
    }),
    description:
      "Comment on a ticket, from either side (not on a CLOSED one). The partner side's first comment is its first response; the customer's comment on a ticket WAITING_ON_CUSTOMER puts it back IN_PROGRESS",
    args: { input: t.arg({ type: CommentTicketInput, required: true, description: "The operation's fields" }) },
    errors: {},
    resolve: (_r, { input }, ctx) => Tickets.comment(ctx.session, { ...ticketKey(input.ticketId), body: input.body }),
  }),
);

const SetTicketStateInput = builder.inputType("SetTicketStateInput", {
  description: "A ticket and the state to move it to",
  fields: (t) => ({
    ticketId: t.globalID({ for: TicketRef, required: true, description: "The Ticket's global id" }),
    state: t.field({ type: TicketState, required: true, description: "The new state" }),
  }),
});

builder.mutationField("setTicketState", (t) =>
  t.field({
    type: TicketPayload,
    description:
      "Move a ticket: the partner's side OPEN → IN_PROGRESS → WAITING_ON_CUSTOMER → RESOLVED → CLOSED (and back to IN_PROGRESS before CLOSED); the customer's side closes a RESOLVED ticket or reopens it. The opener is mailed on each change",
    args: { input: t.arg({ type: SetTicketStateInput, required: true, description: "The operation's fields" }) },
    errors: {},
    resolve: async (_r, { input }, ctx) => ({
      ticket: await Tickets.move(ctx.session, { ...ticketKey(input.ticketId), state: input.state }),
    }),
  }),
);

const EscalateTicketInput = builder.inputType("EscalateTicketInput", {
  description: "The ticket to escalate",
  fields: (t) => ({ ticketId: t.globalID({ for: TicketRef, required: true, description: "The Ticket's global id" }) }),
});

builder.mutationField("escalateTicket", (t) =>
  t.field({
    type: TicketPayload,
    description:
      "Escalate a ticket to the vendor (the partner's side, once, not when CLOSED): it gets the vendor's next ticket number (NA00000001, …), which everyone on the ticket sees",
    args: { input: t.arg({ type: EscalateTicketInput, required: true, description: "The operation's fields" }) },
    errors: {},
    resolve: async (_r, { input }, ctx) => ({
      ticket: await Tickets.escalate(ctx.session, ticketKey(input.ticketId)),
    }),
  }),
);
