import type { Session } from "./context.js";
import * as Cond from "../infra/store/conditions.js";

/** What a deleted customer's people are called on the tickets its partner keeps. */
export const ANONYMOUS = "a deleted customer's user";
export const DELETED_ACCOUNT = "Deleted account";

/**
 * A deleted customer's tickets stay with its partner, anonymised: the customer's name, its people's
 * names and addresses are dropped (the partner side's own entries keep theirs). Idempotent: part of
 * the deletion's purge, which any later delivery may run again.
 */
export async function anonymiseCustomer(s: Session, customerId: string): Promise<void> {
  const store = s.deps.store;
  for (const t of await store.allCustomerTickets(customerId)) {
    const customerSide = await store.allTicketComments(t.partnerId, t.ticketId);
    const authored = customerSide.filter((c) => c.side === "CUSTOMER" && c.author !== ANONYMOUS);
    for (let i = 0; i < authored.length; i += 90) {
      await s.transact((e) =>
        authored
          .slice(i, i + 90)
          .map((c) =>
            e.ticketComment
              .patch({ partnerId: c.partnerId, ticketId: c.ticketId, commentId: c.commentId })
              .set({ author: ANONYMOUS })
              .commit(),
          ),
      );
    }
    if (t.anonymised) continue;
    await s.transact(
      (e) => [
        e.ticket
          .patch({ partnerId: t.partnerId, ticketId: t.ticketId })
          .set({
            customerName: DELETED_ACCOUNT,
            anonymised: true,
            ...(t.onBehalf ? {} : { openedBy: ANONYMOUS }),
            version: t.version + 1,
          })
          .remove(["openerEmail"])
          .where(Cond.atVersion(t.version))
          .commit(),
      ],
      { otherwise: () => new Error("ticket changed during anonymisation; retry") },
    );
  }
}
