import * as z from "zod";
import { newId } from "../infra/ids.js";
import type { TicketCommentRecord, TicketRecord } from "../infra/store.js";
import { ticketStates } from "../infra/entities/ticket.js";
import * as Cond from "../infra/store/conditions.js";
import { actorLabel } from "./actor.js";
import * as Audit from "./audit.js";
import type { Session } from "./context.js";
import { Conflict, Forbidden, Invalid } from "./errors.js";
import * as PartnerAdmin from "./partner-admin.js";
import { guard } from "./tx.js";
import * as V from "./validation.js";

/**
 * Support tickets (Circuit: "Report Issue to Partner", the partner support portal). A customer's
 * people open a ticket to its partner (the customer's parent when it is opened); the partner's
 * people, and those above it, handle it: comment, move it through its states, escalate it to the
 * vendor, which numbers it. The ticket lives with the partner: a deleted customer's tickets stay,
 * anonymised.
 */

export type Info = TicketRecord;
export type Comment = TicketCommentRecord;
export type State = (typeof ticketStates)[number];
export { ticketStates };
export { comments, find, findComment, get, list } from "./ticket-reads.js";
import { load, type Standing } from "./ticket-reads.js";

/** The vendor's ticket numbers: one sequence for the whole platform. */
const VENDOR_SEQUENCE = "vendor-ticket-number";

/**
 * The moves of a ticket, by side. The partner's side runs the ticket; the customer's side closes a
 * resolved ticket or reopens it (and its comment on a ticket waiting on it puts it back in progress).
 */
const PARTNER_MOVES: Readonly<Record<State, readonly State[]>> = {
  OPEN: ["IN_PROGRESS", "WAITING_ON_CUSTOMER", "RESOLVED", "CLOSED"],
  IN_PROGRESS: ["WAITING_ON_CUSTOMER", "RESOLVED", "CLOSED"],
  WAITING_ON_CUSTOMER: ["IN_PROGRESS", "RESOLVED", "CLOSED"],
  RESOLVED: ["IN_PROGRESS", "CLOSED"],
  CLOSED: [],
};
const CUSTOMER_MOVES: Readonly<Record<State, readonly State[]>> = {
  OPEN: [],
  IN_PROGRESS: [],
  WAITING_ON_CUSTOMER: [],
  RESOLVED: ["IN_PROGRESS", "CLOSED"],
  CLOSED: [],
};

const openInput = z.object({
  accountId: z.string().min(1),
  summary: V.name,
  description: V.multilineText(5000),
  occurredAt: z.date(),
  severity: z.number().int().min(1, "must be between 1 (critical) and 5").max(5, "must be between 1 (critical) and 5"),
  service: V.name,
});
export type OpenInput = z.input<typeof openInput>;

/** Clock skew tolerated on "occurred at" (the reporter's clock may run ahead of ours). */
const SKEW_MS = 5 * 60_000;

/**
 * Opens a ticket to the customer's partner: any member of the customer (whatever its role), a
 * partner admin on its behalf, or a writer above it raising it for the customer.
 */
export async function open(s: Session, raw: OpenInput): Promise<Info> {
  s.principal();
  const input = V.parse(openInput, raw);
  const { account, reach } = await s.authorized(input.accountId, "ticket.open");
  if (input.occurredAt.getTime() > s.now.getTime() + SKEW_MS)
    throw Invalid.field("occurredAt", "must not be in the future");
  const at = s.now.toISOString();
  const ticket: Info = {
    partnerId: account.parentId,
    ticketId: newId(),
    customerId: account.id,
    customerName: account.name,
    summary: input.summary,
    description: input.description,
    occurredAt: input.occurredAt.toISOString(),
    severity: input.severity,
    service: input.service,
    state: "OPEN",
    openedBy: actorLabel(s.actor),
    ...(s.actor.type === "user" ? { openerEmail: s.actor.email } : {}),
    onBehalf: !reach.own,
    reportedAt: at,
    commentCount: 0,
    version: 1,
    updatedAt: at,
  };
  await s.transact((e) => [
    e.ticket.create(ticket).commit(),
    Audit.entry(e, {
      accountId: account.id,
      action: "ticket.opened",
      actor: s.actor,
      at: s.now,
      subjectId: ticket.ticketId,
      details: { partnerId: ticket.partnerId, severity: ticket.severity },
      ...(reach.onBehalf ? { onBehalfOf: reach.onBehalf.resellerId } : {}),
    }).commit(),
    ...PartnerAdmin.behalfOps(e, s, reach, account.id, "ticket.opened", ticket.ticketId),
  ]);
  return ticket;
}

const ticketRef = z.object({ partnerId: z.string().min(1), ticketId: z.string().min(1) });
type TicketRef = z.input<typeof ticketRef>;

/** The side the caller writes from; Forbidden for those who only read. */
function sideOf(st: Standing): "PARTNER" | "CUSTOMER" {
  if (st.handles) return "PARTNER";
  if (st.customer) return "CUSTOMER";
  throw new Forbidden("Only the customer's people and the partner's writers take part in a ticket", "ROLE");
}

const commentInput = ticketRef.extend({ body: V.multilineText(5000) });

/**
 * A comment on a ticket, by either side. The partner side's first comment or move is the first
 * response; a customer's comment on a ticket waiting on it puts it back IN_PROGRESS.
 */
export async function comment(
  s: Session,
  raw: z.input<typeof commentInput>,
): Promise<{ ticket: Info; comment: Comment }> {
  s.principal();
  const input = V.parse(commentInput, raw);
  const st = await load(s, input.partnerId, input.ticketId);
  const side = sideOf(st);
  const t = st.ticket;
  if (t.state === "CLOSED") throw new Conflict("The ticket is closed; open a new one");
  const at = s.now.toISOString();
  const c: Comment = {
    partnerId: t.partnerId,
    ticketId: t.ticketId,
    commentId: newId(),
    side,
    author: actorLabel(s.actor),
    body: input.body,
    at,
  };
  const state: State = side === "CUSTOMER" && t.state === "WAITING_ON_CUSTOMER" ? "IN_PROGRESS" : t.state;
  const next: Info = {
    ...t,
    state,
    commentCount: t.commentCount + 1,
    version: t.version + 1,
    updatedAt: at,
    ...(side === "PARTNER" && !t.firstResponseAt ? { firstResponseAt: at } : {}),
  };
  await s.transact(
    (e) => [
      e.ticketComment.create(c).commit(),
      guard(
        e.ticket
          .patch({ partnerId: t.partnerId, ticketId: t.ticketId })
          .set({
            state,
            commentCount: next.commentCount,
            version: next.version,
            updatedAt: at,
            ...(next.firstResponseAt ? { firstResponseAt: next.firstResponseAt } : {}),
          })
          .where(Cond.atVersion(t.version))
          .commit(),
        changedMeanwhile,
      ),
      ...trail(e, s, st, "ticket.commented"),
    ],
    { after: () => (state !== t.state ? notify(s, next) : Promise.resolve()) },
  );
  return { ticket: next, comment: c };
}

const moveInput = ticketRef.extend({ state: z.enum(ticketStates) });

/** Moves a ticket to another state (the partner's side; the customer's side closes or reopens a resolved one). */
export async function move(s: Session, raw: z.input<typeof moveInput>): Promise<Info> {
  s.principal();
  const input = V.parse(moveInput, raw);
  const st = await load(s, input.partnerId, input.ticketId);
  const side = sideOf(st);
  const t = st.ticket;
  if (t.state === input.state) return t;
  const moves = side === "PARTNER" ? PARTNER_MOVES : CUSTOMER_MOVES;
  if (!moves[t.state].includes(input.state)) {
    if (side === "CUSTOMER" && PARTNER_MOVES[t.state].includes(input.state))
      throw new Forbidden("The partner moves the ticket; the customer closes or reopens it once resolved", "ROLE");
    throw Invalid.field("state", `a ${t.state} ticket cannot move to ${input.state}`);
  }
  const at = s.now.toISOString();
  const next: Info = {
    ...t,
    state: input.state,
    version: t.version + 1,
    updatedAt: at,
    ...(side === "PARTNER" && !t.firstResponseAt ? { firstResponseAt: at } : {}),
    ...(input.state === "RESOLVED" ? { resolvedAt: at } : {}),
    ...(input.state === "CLOSED" ? { closedAt: at } : {}),
  };
  await s.transact(
    (e) => [
      guard(
        e.ticket
          .patch({ partnerId: t.partnerId, ticketId: t.ticketId })
          .set({
            state: next.state,
            version: next.version,
            updatedAt: at,
            ...(next.firstResponseAt ? { firstResponseAt: next.firstResponseAt } : {}),
            ...(next.resolvedAt ? { resolvedAt: next.resolvedAt } : {}),
            ...(next.closedAt ? { closedAt: next.closedAt } : {}),
          })
          .where(Cond.atVersion(t.version))
          .commit(),
        changedMeanwhile,
      ),
      ...trail(e, s, st, "ticket.stateChanged", { from: t.state, to: input.state }),
    ],
    { after: () => notify(s, next) },
  );
  return next;
}

/**
 * Escalates a ticket to the vendor (the partner's side): the vendor's next ticket number, NA
 * and eight digits, one sequence for the platform, no gaps; the ticket is escalated once.
 */
export async function escalate(s: Session, raw: TicketRef): Promise<Info> {
  s.principal();
  const input = V.parse(ticketRef, raw);
  const busy = () => new Conflict("The vendor's ticket numbers are busy; try again");
  return s.optimistic({ attempts: 12, gaveUp: busy, baseMs: 15 }, async () => {
    const st = await load(s, input.partnerId, input.ticketId);
    if (!st.handles) {
      sideOf(st);
      throw new Forbidden("The partner's side escalates a ticket to the vendor", "ROLE");
    }
    const t = st.ticket;
    if (t.vendorNumber) throw new Conflict(`The ticket is already escalated to the vendor as ${t.vendorNumber}`);
    if (t.state === "CLOSED") throw new Conflict("The ticket is closed; open a new one");
    const current = await s.deps.store.counterValue(VENDOR_SEQUENCE);
    const at = s.now.toISOString();
    const next: Info = {
      ...t,
      vendorNumber: `NA${String(current + 1).padStart(8, "0")}`,
      escalatedAt: at,
      version: t.version + 1,
      updatedAt: at,
      firstResponseAt: t.firstResponseAt ?? at,
    };
    await s.transact(
      (e) => [
        e.ticket
          .patch({ partnerId: t.partnerId, ticketId: t.ticketId })
          .set({
            vendorNumber: next.vendorNumber!,
            escalatedAt: at,
            version: next.version,
            updatedAt: at,
            firstResponseAt: next.firstResponseAt!,
          })
          .where(Cond.atVersion(t.version))
          .commit(),
        current === 0
          ? e.counter.create({ name: VENDOR_SEQUENCE, value: 1 }).commit()
          : e.counter
              .patch({ name: VENDOR_SEQUENCE })
              .set({ value: current + 1 })
              .where(Cond.counterAt(current))
              .commit(),
        ...trail(e, s, st, "ticket.escalated", { vendorNumber: next.vendorNumber }),
      ],
      { otherwise: "retry" },
    );
    return next;
  });
}

const changedMeanwhile = () => new Conflict("The ticket changed meanwhile; reload and try again");

/**
 * The audit entry of a change on a ticket, in the customer's history while the customer exists
 * (the partner side's work is audited on the partner's account), and the partner-admin trail.
 */
function trail(
  e: Parameters<Parameters<Session["transact"]>[0]>[0],
  s: Session,
  st: Standing,
  action: string,
  details?: Record<string, unknown>,
) {
  const t = st.ticket;
  const onCustomer = !st.handles && !!st.customer;
  const reach = st.customer;
  return [
    Audit.entry(e, {
      accountId: onCustomer ? t.customerId : t.partnerId,
      action,
      actor: s.actor,
      at: s.now,
      subjectId: t.ticketId,
      ...(details ? { details } : {}),
      ...(onCustomer && reach?.onBehalf ? { onBehalfOf: reach.onBehalf.resellerId } : {}),
    }).commit(),
    ...(onCustomer && reach ? PartnerAdmin.behalfOps(e, s, reach, t.customerId, action, t.ticketId) : []),
  ];
}

const STATE_WORDS: Readonly<Record<State, string>> = {
  OPEN: "open",
  IN_PROGRESS: "in progress",
  WAITING_ON_CUSTOMER: "waiting on you",
  RESOLVED: "resolved",
  CLOSED: "closed",
};

/** The opener hears of every state change (people only: an API client has no mailbox). */
async function notify(s: Session, t: Info): Promise<void> {
  if (!t.openerEmail) return;
  // Only while the opener is still a member of the customer: one removed has lost the ticket.
  if ((await s.deps.store.getMember(t.customerId, t.openerEmail))?.status !== "ACTIVE") return;
  await s.deps.mailer.send({
    to: t.openerEmail,
    subject: `Your ticket "${t.summary}" is ${STATE_WORDS[t.state]}`,
    text: [
      `The support ticket "${t.summary}" opened on ${t.reportedAt.slice(0, 10)} is now ${STATE_WORDS[t.state]}.`,
      ...(t.vendorNumber ? [`Vendor ticket number: ${t.vendorNumber}`] : []),
      `Follow it in the portal: ${s.deps.portalUrl}/tickets`,
    ].join("\n\n"),
  });
}
