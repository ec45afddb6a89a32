import { CheckedModelEntity } from "./entity.js";
import type { EntityConfiguration } from "electrodb";

/** Where a support ticket stands (Circuit: "Report Issue to Partner", the partner support portal). */
export const ticketStates = ["OPEN", "IN_PROGRESS", "WAITING_ON_CUSTOMER", "RESOLVED", "CLOSED"] as const;
/** Which side wrote a comment: the customer's people, or the partner's (and those above it). */
export const ticketSides = ["CUSTOMER", "PARTNER"] as const;

/**
 * A support ticket a customer (or its partner, on its behalf) opened to its partner. It lives in
 * the partner's partition, not the customer's: deleting the customer purges the customer's
 * partition, and the partner keeps the ticket, anonymised. `version` orders every change.
 */
export function ticketEntity(config: EntityConfiguration) {
  return new CheckedModelEntity(
    {
      model: { entity: "ticket", version: "1", service: "cp" },
      attributes: {
        /** The partner the ticket was opened to: the customer's parent when it was opened. */
        partnerId: { type: "string", required: true, readOnly: true },
        /** A ULID: tickets of a partner list in the order they were opened. */
        ticketId: { type: "string", required: true, readOnly: true },
        customerId: { type: "string", required: true, readOnly: true },
        /** The customer's name when opened; "Deleted account" once it is deleted. */
        customerName: { type: "string", required: true },
        summary: { type: "string", required: true, readOnly: true },
        description: { type: "string", required: true, readOnly: true },
        occurredAt: { type: "string", required: true, readOnly: true },
        severity: { type: "number", required: true, readOnly: true },
        service: { type: "string", required: true, readOnly: true },
        state: { type: ticketStates, required: true },
        /** Who opened it, as audited ("user a@b", "client X of Y"); anonymised with its customer. */
        openedBy: { type: "string", required: true },
        /** The opener's address for the state-change mails (people only); removed with its customer. */
        openerEmail: { type: "string" },
        /** Opened by the partner side on the customer's behalf. */
        onBehalf: { type: "boolean", required: true, default: false },
        reportedAt: { type: "string", required: true, readOnly: true },
        firstResponseAt: { type: "string" },
        resolvedAt: { type: "string" },
        closedAt: { type: "string" },
        /** The vendor's ticket number once escalated (NA00000001, …), seen by everyone on the ticket. */
        vendorNumber: { type: "string" },
        escalatedAt: { type: "string" },
        commentCount: { type: "number", required: true, default: 0 },
        anonymised: { type: "boolean" },
        version: { type: "number", required: true, default: 1 },
        updatedAt: { type: "string", required: true },
      },
      indexes: {
        // The tickets opened to a partner, oldest first.
        byPartner: {
          pk: { field: "pk", composite: ["partnerId"] },
          sk: { field: "sk", composite: ["ticketId"] },
        },
        // The tickets a customer opened (or were opened for it), oldest first.
        byCustomer: {
          index: "gsi1",
          pk: { field: "gsi1pk", composite: ["customerId"] },
          sk: { field: "gsi1sk", composite: ["ticketId"] },
        },
      },
    },
    config,
  );
}

/** A comment on a ticket, in the ticket's partition, in the order written. */
export function ticketCommentEntity(config: EntityConfiguration) {
  return new CheckedModelEntity(
    {
      model: { entity: "ticketComment", version: "1", service: "cp" },
      attributes: {
        partnerId: { type: "string", required: true, readOnly: true },
        ticketId: { type: "string", required: true, readOnly: true },
        /** A ULID. */
        commentId: { type: "string", required: true, readOnly: true },
        side: { type: ticketSides, required: true, readOnly: true },
        /** Who wrote it ("user a@b"); anonymised when it was the customer's side and the customer is deleted. */
        author: { type: "string", required: true },
        body: { type: "string", required: true, readOnly: true },
        at: { type: "string", required: true, readOnly: true },
      },
      indexes: {
        byTicket: {
          pk: { field: "pk", composite: ["partnerId"] },
          sk: { field: "sk", composite: ["ticketId", "commentId"] },
        },
      },
    },
    config,
  );
}
