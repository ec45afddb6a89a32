import { StoreBase, cursorOf, oversized, GO } from "./base.js";
import type { Page } from "./base.js";
import type { TicketCommentRecord, TicketRecord } from "./records.js";

type State = TicketRecord["state"];

/** Support tickets and their comments, in the partner's partition. */
export class TicketStore extends StoreBase {
  async getTicket(partnerId: string, ticketId: string): Promise<TicketRecord | undefined> {
    if (oversized({ partnerId, ticketId })) return undefined;
    return (await this.entities.ticket.get({ partnerId, ticketId }).go({ ...GO, consistent: true })).data ?? undefined;
  }

  /** Tickets opened to a partner, newest first, optionally in one state. */
  async listPartnerTickets(
    partnerId: string,
    opts: { state?: State | null; limit: number; cursor?: string | null },
  ): Promise<Page<TicketRecord>> {
    const e = this.entities.ticket;
    const state = opts.state;
    const q = state
      ? e.query.byPartner({ partnerId }).where((x, op) => op.eq(x.state, state))
      : e.query.byPartner({ partnerId });
    return this.page(cursorOf(e, "byPartner"), q, { ...opts, order: "desc", filtered: !!state });
  }

  /** Tickets a customer opened (or were opened for it), newest first, optionally in one state. */
  async listCustomerTickets(
    customerId: string,
    opts: { state?: State | null; limit: number; cursor?: string | null },
  ): Promise<Page<TicketRecord>> {
    const e = this.entities.ticket;
    const state = opts.state;
    const q = state
      ? e.query.byCustomer({ customerId }).where((x, op) => op.eq(x.state, state))
      : e.query.byCustomer({ customerId });
    return this.page(cursorOf(e, "byCustomer"), q, { ...opts, order: "desc", filtered: !!state });
  }

  /** Every ticket of a customer (its deletion anonymises them). */
  async allCustomerTickets(customerId: string): Promise<TicketRecord[]> {
    return this.all((limit, cursor) => this.listCustomerTickets(customerId, { limit, cursor }));
  }

  /** One comment by its key (a node lookup). */
  async getTicketComment(
    partnerId: string,
    ticketId: string,
    commentId: string,
  ): Promise<TicketCommentRecord | undefined> {
    if (oversized({ partnerId, ticketId, commentId })) return undefined;
    return (
      (await this.entities.ticketComment.get({ partnerId, ticketId, commentId }).go({ ...GO, consistent: true }))
        .data ?? undefined
    );
  }

  /** Comments of a ticket, in the order written. */
  async listTicketComments(
    partnerId: string,
    ticketId: string,
    limit: number,
    cursor?: string | null,
  ): Promise<Page<TicketCommentRecord>> {
    const e = this.entities.ticketComment;
    return this.page(cursorOf(e, "byTicket"), e.query.byTicket({ partnerId, ticketId }), { limit, cursor });
  }

  async allTicketComments(partnerId: string, ticketId: string): Promise<TicketCommentRecord[]> {
    return this.all((limit, cursor) => this.listTicketComments(partnerId, ticketId, limit, cursor));
  }
}
