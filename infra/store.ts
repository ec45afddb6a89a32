import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { StoreBase } from "./store/base.js";
import { AccountStore } from "./store/accounts.js";
import { BillingStore } from "./store/billing.js";
import { BillingRunStore } from "./store/billing-runs.js";
import { CommerceStore } from "./store/commerce.js";
import { EquipmentStore } from "./store/equipment.js";
import { IdentityStore } from "./store/identity.js";
import { JobStore } from "./store/jobs.js";
import { TicketStore } from "./store/tickets.js";
import { NumberStore } from "./store/numbers.js";

export { BadCursor, ConditionFailed } from "./store/base.js";
export type { Page, TxEntities, TxItem } from "./store/base.js";
export { createEntities, membershipSchema } from "./store/records.js";
export type * from "./store/records.js";

/**
 * The data access layer: one function per access pattern, every list paged by cursor, every
 * multi-item change one TransactWriteItems, no scans. Its methods live with their area under
 * infra/store/ (accounts and people, commerce, billing, billing runs, equipment, jobs, tickets, numbers); `Store` is all of them
 * on one object, so a use case needs one handle.
 */
export type Store = AccountStore &
  CommerceStore &
  BillingStore &
  BillingRunStore &
  EquipmentStore &
  JobStore &
  IdentityStore &
  TicketStore &
  NumberStore;

class AllAreas extends StoreBase {}
// The areas hold methods only (no fields), so each method runs on one object with the shared base.
for (const area of [
  AccountStore,
  CommerceStore,
  BillingStore,
  BillingRunStore,
  EquipmentStore,
  JobStore,
  IdentityStore,
  TicketStore,
  NumberStore,
]) {
  for (const name of Object.getOwnPropertyNames(area.prototype)) {
    if (name !== "constructor")
      Object.defineProperty(AllAreas.prototype, name, Object.getOwnPropertyDescriptor(area.prototype, name)!);
  }
}
export const Store = AllAreas as unknown as new (client: DynamoDBDocumentClient, table: string) => Store;
