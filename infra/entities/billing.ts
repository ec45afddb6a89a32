import { CheckedModelEntity } from "./entity.js";
import type { EntityConfiguration } from "electrodb";

/**
 * An invoice of a billed party for one calendar month. Its key is (party, period): a second run
 * of the same month finds it and writes nothing (DESIGN 1: deterministic invoice keys).
 */
export function invoiceEntity(config: EntityConfiguration) {
  return new CheckedModelEntity(
    {
      model: { entity: "invoice", version: "1", service: "cp" },
      attributes: {
        partyId: { type: "string", required: true, readOnly: true },
        period: { type: "string", required: true, readOnly: true },
        number: { type: "string", required: true, readOnly: true },
        partyName: { type: "string", required: true, readOnly: true },
        country: { type: "string", required: true, readOnly: true },
        reference: { type: "string", readOnly: true },
        currency: { type: "string", required: true, readOnly: true },
        taxRate: { type: "number", required: true, readOnly: true },
        net: { type: "number", required: true, readOnly: true },
        vat: { type: "number", required: true, readOnly: true },
        total: { type: "number", required: true, readOnly: true },
        lineCount: { type: "number", required: true, readOnly: true },
        issuedAt: { type: "string", required: true, readOnly: true },
        dueAt: { type: "string", required: true, readOnly: true },
        mailedAt: { type: "string" },
        /** A worker sending the invoice mail holds it until this instant; a worker that died leaves it to the redelivery after (security rule 13). */
        mailLeaseUntil: { type: "string" },
        /** Lines per chunk, in order: line n is found in its chunk's blocks without a scan. */
        chunkCounts: { type: "list", items: { type: "number" }, readOnly: true },
        /** The chunk number of each entry of chunkCounts (absent: 0, 1, 2, ... as first written). */
        chunkNos: { type: "list", items: { type: "number" }, readOnly: true },
        /** JSON: per offer, quantity, amount and customer count (the summary PDF of a large invoice). */
        summary: { type: "string", readOnly: true },
        /** The billed party's invoice details when issued (an invoice never changes afterwards). */
        billToAddress: { type: "string", readOnly: true },
        billToVatId: { type: "string", readOnly: true },
        purchaseOrder: { type: "string", readOnly: true },
      },
      indexes: {
        // Invoices of a party, by month (newest first when read descending).
        byParty: {
          pk: { field: "pk", composite: ["partyId"] },
          sk: { field: "sk", composite: ["period"] },
        },
      },
    },
    config,
  );
}

/** A named sequence (invoice numbers per issuer): advanced only inside the invoice's transaction. */
export function counterEntity(config: EntityConfiguration) {
  return new CheckedModelEntity(
    {
      model: { entity: "counter", version: "1", service: "cp" },
      attributes: {
        name: { type: "string", required: true, readOnly: true },
        value: { type: "number", required: true },
      },
      indexes: {
        byName: {
          pk: { field: "pk", composite: ["name"] },
          sk: { field: "sk", composite: [] },
        },
      },
    },
    config,
  );
}

/**
 * The partition key of the counter `name`, as the table stores it: what an IAM condition
 * (`dynamodb:LeadingKeys`) names to let a role write that counter and no other item.
 */
export function counterPartitionKey(name: string): string {
  const pk: unknown = counterEntity({ table: "any" }).get({ name }).params().Key?.pk;
  if (typeof pk !== "string") throw new Error("the counter entity has no string partition key");
  return pk;
}

/** Recorded usage of a USAGE offer (e.g. conference minutes), idempotent by the integrator's key. */
export function usageEntity(config: EntityConfiguration) {
  return new CheckedModelEntity(
    {
      model: { entity: "usage", version: "1", service: "cp" },
      attributes: {
        accountId: { type: "string", required: true, readOnly: true },
        sku: { type: "string", required: true, readOnly: true },
        period: { type: "string", required: true, readOnly: true },
        key: { type: "string", required: true, readOnly: true },
        quantity: { type: "number", required: true, readOnly: true },
        day: { type: "string", required: true, readOnly: true },
        recordedBy: { type: "string", required: true, readOnly: true },
        recordedAt: { type: "string", required: true, readOnly: true },
      },
      indexes: {
        // In the account's partition (deleted with it): usage of one offer and month, then by key.
        byAccount: {
          pk: { field: "pk", composite: ["accountId"] },
          sk: { field: "sk", composite: ["sku", "period", "key"], casing: "none" },
        },
      },
    },
    config,
  );
}

/**
 * Work the lifecycle run must look at on a given day: a trial or prepaid term ending, a reminder
 * to send, an account to check for retention. Written with the change that makes it due; the run
 * re-reads the subject and does nothing when it no longer applies.
 */
export function dueEntity(config: EntityConfiguration) {
  return new CheckedModelEntity(
    {
      model: { entity: "due", version: "1", service: "cp" },
      attributes: {
        day: { type: "string", required: true, readOnly: true },
        what: {
          type: ["term-end", "trial-reminder", "retention", "trial-digest"] as const,
          required: true,
          readOnly: true,
        },
        accountId: { type: "string", required: true, readOnly: true },
        sku: { type: "string", required: true, readOnly: true, default: "-" },
        at: { type: "string", required: true, readOnly: true },
      },
      indexes: {
        // One partition per day: the daily run reads the days that came due.
        byDay: {
          pk: { field: "pk", composite: ["day"] },
          sk: { field: "sk", composite: ["what", "accountId", "sku", "at"] },
        },
      },
    },
    config,
  );
}

/** A mail that must go once (invoice, trial reminders): created with a not-exists condition before sending. */
export function sentEntity(config: EntityConfiguration) {
  return new CheckedModelEntity(
    {
      model: { entity: "sent", version: "1", service: "cp" },
      attributes: {
        key: { type: "string", required: true, readOnly: true },
        at: { type: "string", required: true, readOnly: true },
      },
      indexes: {
        byKey: {
          pk: { field: "pk", composite: ["key"], casing: "none" },
          sk: { field: "sk", composite: [] },
        },
      },
    },
    config,
  );
}
