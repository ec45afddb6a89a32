import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import type { EntityItem } from "electrodb";
import * as z from "zod";
import { accountEntity } from "../entities/account.js";
import { auditEventEntity } from "../entities/audit-event.js";
import { counterEntity, dueEntity, invoiceEntity, sentEntity, usageEntity } from "../entities/billing.js";
import {
  billingChunkEntity,
  billingRangeEntity,
  billingRunEntity,
  billingStateEntity,
  invoiceLineBlockEntity,
  partyDepartureEntity,
} from "../entities/billing-run.js";
import { invitationEntity } from "../entities/invitation.js";
import { licenceEntity } from "../entities/licence.js";
import { administeredEntity, behalfEntity } from "../entities/partner-admin.js";
import { offerEntity } from "../entities/offer.js";
import { orderEntity, orderKeyEntity } from "../entities/order.js";
import { subscriptionChangeEntity } from "../entities/subscription-change.js";
import { subscriptionEntity } from "../entities/subscription.js";
import { memberEntity, roles } from "../entities/member.js";
import { personEntity } from "../entities/person.js";
import { subtreeEntryEntity } from "../entities/subtree-entry.js";
import { trialEntryEntity } from "../entities/trial-entry.js";
import {
  equipmentEntity,
  equipmentExtensionsEntity,
  equipmentPrefixEntity,
  equipmentTenantEntity,
  extensionAssignmentEntity,
  sharedEquipmentEntity,
} from "../entities/equipment.js";
import { rateCounterEntity } from "../entities/rate-counter.js";
import { identityBindingEntity } from "../entities/identity.js";
import { ticketCommentEntity, ticketEntity } from "../entities/ticket.js";
import { phoneNumberEntity } from "../entities/phone-number.js";
import { lazyEntities } from "../entities/entity.js";

const FACTORIES = {
  account: accountEntity,
  subtree: subtreeEntryEntity,
  person: personEntity,
  member: memberEntity,
  invitation: invitationEntity,
  audit: auditEventEntity,
  offer: offerEntity,
  subscription: subscriptionEntity,
  trialEntry: trialEntryEntity,
  change: subscriptionChangeEntity,
  order: orderEntity,
  orderKey: orderKeyEntity,
  licence: licenceEntity,
  invoice: invoiceEntity,
  invoiceLines: invoiceLineBlockEntity,
  billingRun: billingRunEntity,
  billingChunk: billingChunkEntity,
  billingRange: billingRangeEntity,
  billingState: billingStateEntity,
  partyDeparture: partyDepartureEntity,
  counter: counterEntity,
  usage: usageEntity,
  due: dueEntity,
  sent: sentEntity,
  administered: administeredEntity,
  behalf: behalfEntity,
  equipment: equipmentEntity,
  equipmentExtensions: equipmentExtensionsEntity,
  equipmentPrefix: equipmentPrefixEntity,
  equipmentTenant: equipmentTenantEntity,
  sharedEquipment: sharedEquipmentEntity,
  extensionAssignment: extensionAssignmentEntity,
  rateCounter: rateCounterEntity,
  identityBinding: identityBindingEntity,
  ticket: ticketEntity,
  ticketComment: ticketCommentEntity,
  phoneNumber: phoneNumberEntity,
};

/** The entities of the single table, bound to one client and table name; each is built on first use. */
export function createEntities(client: DynamoDBDocumentClient, table: string) {
  return lazyEntities(FACTORIES, { client, table });
}

export type Entities = ReturnType<typeof createEntities>;
export type AccountRecord = EntityItem<Entities["account"]>;
export type MemberRecord = EntityItem<Entities["member"]>;
export type InvitationRecord = EntityItem<Entities["invitation"]>;
export type AuditRecord = EntityItem<Entities["audit"]>;
export type SubtreeRecord = EntityItem<Entities["subtree"]>;
export type OfferRecord = EntityItem<Entities["offer"]>;
export type SubscriptionRecord = EntityItem<Entities["subscription"]>;
export type TrialEntryRecord = EntityItem<Entities["trialEntry"]>;
export type ChangeRecord = EntityItem<Entities["change"]>;
export type OrderRecord = EntityItem<Entities["order"]>;
export type OrderKeyRecord = EntityItem<Entities["orderKey"]>;
export type LicenceRecord = EntityItem<Entities["licence"]>;
export type InvoiceRecord = EntityItem<Entities["invoice"]>;
export type UsageRecord = EntityItem<Entities["usage"]>;
export type DueRecord = EntityItem<Entities["due"]>;
export type AdministeredRecord = EntityItem<Entities["administered"]>;
export type BehalfRecord = EntityItem<Entities["behalf"]>;
export type EquipmentRecord = EntityItem<Entities["equipment"]>;
export type EquipmentTenantRecord = EntityItem<Entities["equipmentTenant"]>;
export type SharedEquipmentRecord = EntityItem<Entities["sharedEquipment"]>;
export type ExtensionAssignmentRecord = EntityItem<Entities["extensionAssignment"]>;
export type TicketRecord = EntityItem<Entities["ticket"]>;
export type TicketCommentRecord = EntityItem<Entities["ticketComment"]>;
export type PhoneNumberRecord = EntityItem<Entities["phoneNumber"]>;

export const membershipSchema = z.object({
  role: z.enum(roles),
  seller: z.boolean(),
  partnerAdmin: z.boolean(),
});
export type Membership = z.infer<typeof membershipSchema>;
export const membershipsSchema = z.record(z.string(), membershipSchema);

export interface PersonRecord {
  readonly email: string;
  readonly memberships: Readonly<Record<string, Membership>>;
  readonly version: number;
  readonly createdAt: string;
  readonly updatedAt: string;
}

/** A key the store can batch-load in one BatchGetItem. */
export type ItemKey =
  | { readonly type: "account"; readonly id: string }
  | { readonly type: "person"; readonly email: string }
  | { readonly type: "offer"; readonly sku: string }
  | { readonly type: "subscription"; readonly accountId: string; readonly sku: string }
  | { readonly type: "orderKey"; readonly accountId: string; readonly key: string };
export type LoadedItem = AccountRecord | PersonRecord | OfferRecord | SubscriptionRecord | OrderKeyRecord | undefined;
