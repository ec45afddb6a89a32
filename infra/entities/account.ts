import { CheckedModelEntity } from "./entity.js";
import type { EntityConfiguration } from "electrodb";

export const accountKinds = ["PLATFORM", "DISTRIBUTOR", "RESELLER", "CUSTOMER"] as const;

/** An account of the channel tree: the platform, a distributor, a reseller or an end customer. */
export function accountEntity(config: EntityConfiguration) {
  return new CheckedModelEntity(
    {
      model: { entity: "account", version: "1", service: "cp" },
      attributes: {
        id: { type: "string", required: true, readOnly: true },
        kind: { type: accountKinds, required: true, readOnly: true },
        name: { type: "string", required: true },
        /** Lower-cased name: the sort key of name-prefix search. */
        nameKey: { type: "string", required: true },
        reference: { type: "string" },
        /** Lower-cased reference; "" when there is none (never matches a non-empty prefix). */
        referenceKey: { type: "string", required: true, default: "" },
        country: { type: "string", required: true },
        /** The parent's id; "ROOT" for the platform (keeps the children index total). */
        parentId: { type: "string", required: true },
        /** Ancestor ids from the root to the parent: rights and breadcrumbs without a walk. */
        path: { type: "list", items: { type: "string" }, required: true },
        status: { type: ["ACTIVE"] as const, required: true, default: "ACTIVE" },
        canCreateAccounts: { type: "boolean", required: true, default: false },
        canCreateEquipment: { type: "boolean", required: true, default: false },
        /** Delegated by a seller above: the account's own admins may change subscription quantities (Rainbow 5.4). */
        canUpdateSubscriptions: { type: "boolean", required: true, default: false },
        /** ...and may also decrease them. */
        canDecreaseSubscriptions: { type: "boolean", required: true, default: false },
        /** Invoiced by the vendor (DESIGN 1, "Billing": distributors by default). */
        billable: { type: "boolean", required: true, default: false },
        /** ISO 4217 billing currency of a billable account; offers made available below it are in it. */
        currency: { type: "string" },
        /** VAT rate of a billable account, in basis points (2000 = 20 %). */
        taxRate: { type: "number" },
        /** Set when the account has had no active subscription: it is deleted after this instant (Ribbon: 14 days). */
        pendingDeletionAt: { type: "string" },
        /** Operators enabled PARTNER_ADMIN on this reseller: its owners may flag members as partner admins (Circuit). */
        partnerAdminEnabled: { type: "boolean" },
        /** A customer's OWNER opened its tenant administration to its resellers' partner admins. */
        partnerAdminOptIn: { type: "boolean" },
        /** ...until this instant (optional); the next request after it is denied. */
        partnerAdminOptInUntil: { type: "string" },
        /**
         * The resellers the opt-in was granted to: those above the customer when it opted in. Consent
         * never travels (security rule 4): a reseller that comes above later gets nothing, and a move
         * drops the grantees no longer above (the opt-in lapses with the last one).
         */
        partnerAdminGrantees: { type: "list", items: { type: "string" } },
        /** Support requests of the account's users go to this address (Rainbow "Emily" redirection). */
        supportEmail: { type: "string" },
        /** The business profile number: one of the account's own pool (setMainNumber). */
        mainNumber: { type: "string" },
        /** SKUs the parent made available to this account ("Edit Available Services"). */
        offers: { type: "list", items: { type: "string" }, required: true, default: () => [] },
        /**
         * The billed parties the account had before moves under another distributor, each with the
         * instant it stopped: billing bills a month to the party of the hierarchy at its end (security rule 11).
         */
        formerParties: {
          type: "list",
          items: {
            type: "map",
            properties: { partyId: { type: "string", required: true }, until: { type: "string", required: true } },
          },
        },
        /** Invoice details a billed account's owners keep: postal address, VAT id, purchase-order number. */
        billingAddress: { type: "string" },
        vatId: { type: "string" },
        purchaseOrder: { type: "string" },
        childCount: { type: "number", required: true, default: 0 },
        /** Active owners: guarded by a condition so an account never loses its last owner, even under races. */
        ownerCount: { type: "number", required: true, default: 0 },
        /**
         * Orders placed on the account (added to by each): a move, which rewrites the billed party of
         * the subscriptions it read, is conditioned on it, so an order committed meanwhile makes it read again.
         */
        orderCount: { type: "number" },
        createdAt: { type: "string", required: true, readOnly: true },
        updatedAt: { type: "string", required: true },
        version: { type: "number", required: true, default: 1 },
      },
      indexes: {
        byId: {
          pk: { field: "pk", composite: ["id"] },
          sk: { field: "sk", composite: [] },
        },
        // Children of an account ordered by name: the hierarchy page and its name-prefix search.
        childrenByName: {
          index: "gsi1",
          pk: { field: "gsi1pk", composite: ["parentId"] },
          sk: { field: "gsi1sk", composite: ["nameKey", "id"] },
        },
        // Children of an account by CRM reference (Ribbon "search by reference").
        childrenByReference: {
          index: "gsi2",
          pk: { field: "gsi2pk", composite: ["parentId"] },
          sk: { field: "gsi2sk", composite: ["referenceKey", "id"] },
        },
      },
    },
    config,
  );
}
