import { CheckedModelEntity } from "./entity.js";
import type { EntityConfiguration } from "electrodb";

/*
 * The items of a billing run: a party's month is planned once (the run item), billed in
 * bounded chunks (one result item per chunk, lines in blocks), and finalised into one invoice.
 * Every key is deterministic, so a redelivered or crashed message rewrites the same items.
 */

/**
 * The plan of a party's month, created once (not-exists). Its existence is also the month-closed
 * marker: usage recorded for the party's month is refused from then on (security rule 12).
 */
export function billingRunEntity(config: EntityConfiguration) {
  return new CheckedModelEntity(
    {
      model: { entity: "billingrun", version: "1", service: "cp" },
      attributes: {
        partyId: { type: "string", required: true, readOnly: true },
        period: { type: "string", required: true, readOnly: true },
        /** Accounts billed to the party at month end that have moved away since (a few; billed in the last chunks). */
        extra: { type: "list", items: { type: "string" }, required: true, readOnly: true },
        /** Accounts per chunk when the run was planned. */
        chunkSize: { type: "number", required: true, readOnly: true },
        /** Chunks of the departed accounts above (numbered from EXTRA_CHUNKS on). */
        extraChunks: { type: "number", required: true, readOnly: true },
        /** All chunks: known once the chain over the party's index has found its end (set once). */
        chunks: { type: "number" },
        /** Chunks finished: raised once per chunk, in the transaction that creates the chunk's result. */
        done: { type: "number", required: true, default: 0 },
        createdAt: { type: "string", required: true, readOnly: true },
      },
      indexes: {
        byParty: {
          pk: { field: "pk", composite: ["partyId"] },
          sk: { field: "sk", composite: ["period"] },
        },
      },
    },
    config,
  );
}

/**
 * Where one chunk of the party's index starts, and (once its first delivery has read it) how many
 * subscriptions it covers and whether it is the last: each chunk finds where the next one starts,
 * so no message reads the whole party. Written once; redeliveries read the same range.
 */
export function billingRangeEntity(config: EntityConfiguration) {
  return new CheckedModelEntity(
    {
      model: { entity: "billingrange", version: "1", service: "cp" },
      attributes: {
        partyId: { type: "string", required: true, readOnly: true },
        period: { type: "string", required: true, readOnly: true },
        chunkNo: { type: "number", required: true, readOnly: true, padding: { length: 6, char: "0" } },
        /** The index cursor the chunk starts after ("" = the start). */
        start: { type: "string", required: true, readOnly: true },
        count: { type: "number" },
        last: { type: "boolean" },
      },
      indexes: {
        byRun: {
          pk: { field: "pk", composite: ["partyId", "period"] },
          sk: { field: "sk", composite: ["chunkNo"] },
        },
      },
    },
    config,
  );
}

/** What one chunk billed: its line count, net and a per-offer summary (the large-invoice PDF reads these, not the lines). */
export function billingChunkEntity(config: EntityConfiguration) {
  return new CheckedModelEntity(
    {
      model: { entity: "billingchunk", version: "1", service: "cp" },
      attributes: {
        partyId: { type: "string", required: true, readOnly: true },
        period: { type: "string", required: true, readOnly: true },
        chunkNo: { type: "number", required: true, readOnly: true, padding: { length: 6, char: "0" } },
        lineCount: { type: "number", required: true, readOnly: true },
        blocks: { type: "number", required: true, readOnly: true },
        net: { type: "number", required: true, readOnly: true },
        /** JSON: [{ sku, description, kind, quantity, amount, customers }]. */
        summary: { type: "string", required: true, readOnly: true },
        at: { type: "string", required: true, readOnly: true },
      },
      indexes: {
        // The results of one party's month, in chunk order (the finaliser reads them all).
        byRun: {
          pk: { field: "pk", composite: ["partyId", "period"] },
          sk: { field: "sk", composite: ["chunkNo"] },
        },
      },
    },
    config,
  );
}

/**
 * Up to BLOCK_LINES invoice lines of one chunk in one item (JSON): a 20,000-customer month is a
 * few hundred items, written 25 a request, instead of 60,000 (≤ 0.05 requests per customer).
 */
export function invoiceLineBlockEntity(config: EntityConfiguration) {
  return new CheckedModelEntity(
    {
      model: { entity: "invoicelines", version: "1", service: "cp" },
      attributes: {
        partyId: { type: "string", required: true, readOnly: true },
        period: { type: "string", required: true, readOnly: true },
        chunkNo: { type: "number", required: true, readOnly: true, padding: { length: 6, char: "0" } },
        blockNo: { type: "number", required: true, readOnly: true, padding: { length: 4, char: "0" } },
        lines: { type: "string", required: true, readOnly: true },
      },
      indexes: {
        byInvoice: {
          pk: { field: "pk", composite: ["partyId", "period"] },
          sk: { field: "sk", composite: ["chunkNo", "blockNo"] },
        },
      },
    },
    config,
  );
}

/** The billing watermark of a party: every month up to `billedThrough` is invoiced (or had nothing to bill). */
export function billingStateEntity(config: EntityConfiguration) {
  return new CheckedModelEntity(
    {
      model: { entity: "billingstate", version: "1", service: "cp" },
      attributes: {
        partyId: { type: "string", required: true, readOnly: true },
        billedThrough: { type: "string", required: true },
        updatedAt: { type: "string", required: true },
      },
      indexes: {
        byParty: {
          pk: { field: "pk", composite: ["partyId"] },
          sk: { field: "sk", composite: [] },
        },
      },
    },
    config,
  );
}

/**
 * Accounts that left a billed party (a move under another distributor), written in the move's
 * transaction under the party they left: the party's months before the move still bill them
 * (security rule 11: the hierarchy as it was at the end of the month).
 */
export function partyDepartureEntity(config: EntityConfiguration) {
  return new CheckedModelEntity(
    {
      model: { entity: "partydeparture", version: "1", service: "cp" },
      attributes: {
        partyId: { type: "string", required: true, readOnly: true },
        at: { type: "string", required: true, readOnly: true },
        rootId: { type: "string", required: true, readOnly: true },
        toPartyId: { type: "string", required: true, readOnly: true },
        accountIds: { type: "list", items: { type: "string" }, required: true, readOnly: true },
      },
      indexes: {
        byParty: {
          pk: { field: "pk", composite: ["partyId"] },
          sk: { field: "sk", composite: ["at", "rootId"] },
        },
      },
    },
    config,
  );
}
