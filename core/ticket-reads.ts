import * as z from "zod";
import type { AccountRecord, Page, TicketCommentRecord, TicketRecord } from "../infra/store.js";
import { ticketStates } from "../infra/entities/ticket.js";
import type { Session } from "./context.js";
import { NotFound } from "./errors.js";
import { paged } from "./paging.js";
import type { PageArgs } from "./paging.js";
import { allowed, isVisible, reachOf } from "./rights.js";
import type { Reach } from "./rights.js";
import * as V from "./validation.js";

/** Reading support tickets: who sees a ticket, and the lists (core/tickets.ts has the changes). */

type Info = TicketRecord;
type Comment = TicketCommentRecord;
type State = (typeof ticketStates)[number];

/** How the caller stands on a ticket: it handles it (the partner's side), takes part (the customer's side), or only reads. */
export interface Standing {
  readonly ticket: Info;
  readonly handles: boolean;
  /** The caller's reach on the customer, when it may act there (open, comment, close). */
  readonly customer?: Reach;
}

/** A ticket the caller may see: from the partner it was opened to (or above), or from its customer. NotFound otherwise. */
export async function load(s: Session, partnerId: string, ticketId: string): Promise<Standing> {
  const ticket = await s.deps.store.getTicket(partnerId, ticketId);
  if (!ticket) throw new NotFound("Ticket");
  const [ms, partner, customer] = await Promise.all([
    s.memberships(),
    s.account(ticket.partnerId),
    s.account(ticket.customerId),
  ]);
  const sees = (a: AccountRecord | undefined) => !!a && isVisible(reachOf(s.actor, ms, a, s.now));
  if (!sees(partner) && !sees(customer)) throw new NotFound("Ticket");
  const handles = !!partner && allowed(s.actor, ms, partner, "ticket.handle", s.now);
  const takesPart = !!customer && allowed(s.actor, ms, customer, "ticket.open", s.now);
  return { ticket, handles, ...(takesPart ? { customer: reachOf(s.actor, ms, customer, s.now) } : {}) };
}

/** A ticket by its key, for those who may see it; NotFound otherwise. */
export async function get(s: Session, partnerId: string, ticketId: string): Promise<Info> {
  return (await load(s, partnerId, ticketId)).ticket;
}

/** A ticket by its key, for those who may see it (node lookups); undefined otherwise. */
export async function find(s: Session, partnerId: string, ticketId: string): Promise<Info | undefined> {
  try {
    return (await load(s, partnerId, ticketId)).ticket;
  } catch (err) {
    if (err instanceof NotFound) return undefined;
    throw err;
  }
}

const stateFilter = z.enum(ticketStates).nullish();

/**
 * The tickets of an account: for a customer, those opened for it; for a partner, those opened to it.
 * Anyone who sees the account (a partner's subtree reaches its resellers' tickets through them).
 */
export async function list(
  s: Session,
  accountId: string,
  args: PageArgs & { readonly state?: State | null },
): Promise<Page<Info>> {
  const { account } = await s.authorized(accountId, "account.read");
  const state = V.parse(stateFilter, args.state, ["state"]);
  return paged(args, (limit, cursor) =>
    account.kind === "CUSTOMER"
      ? s.deps.store.listCustomerTickets(account.id, { state, limit, cursor })
      : s.deps.store.listPartnerTickets(account.id, { state, limit, cursor }),
  );
}

/** The comments of a ticket, in the order written, for those who see it. */
export async function comments(
  s: Session,
  t: Pick<Info, "partnerId" | "ticketId">,
  args: PageArgs,
): Promise<Page<Comment>> {
  await load(s, t.partnerId, t.ticketId);
  return paged(args, (limit, cursor) => s.deps.store.listTicketComments(t.partnerId, t.ticketId, limit, cursor));
}

/** One comment (node lookups), for those who see its ticket. */
export async function findComment(
  s: Session,
  partnerId: string,
  ticketId: string,
  commentId: string,
): Promise<Comment | undefined> {
  if (!(await find(s, partnerId, ticketId))) return undefined;
  return s.deps.store.getTicketComment(partnerId, ticketId, commentId);
}
