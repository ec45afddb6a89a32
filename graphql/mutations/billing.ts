import * as Billing from "../../core/billing.js";
import * as Usage from "../../core/usage.js";
import { builder } from "../builder.js";
import { AccountPayload, AccountRef } from "../types/account.js";

const UsageRef = builder.objectRef<Usage.Info>("UsageRecord").implement({
  description:
    "Usage of a USAGE offer on one day, as recorded. A value returned by recordUsage, not an entity: usage is read back through invoices",
  fields: (t) => ({
    sku: t.exposeString("sku", { description: "The USAGE offer" }),
    day: t.exposeString("day", { description: "The day the usage belongs to (YYYY-MM-DD)" }),
    quantity: t.exposeInt("quantity", { description: "Units used" }),
    idempotencyKey: t.exposeString("key", {
      description: "The key it was recorded with; recording again with it answers this record",
    }),
    recordedAt: t.field({ description: "When it was recorded", type: "DateTime", resolve: (u) => u.recordedAt }),
  }),
});

const RecordUsageInput = builder.inputType("RecordUsageInput", {
  description: "Units used by an account",
  fields: (t) => ({
    accountId: t.globalID({ for: AccountRef, description: "The account's global id", required: true }),
    sku: t.string({ required: true, description: "A USAGE offer the account subscribes to" }),
    quantity: t.int({ required: true, description: "Units used (e.g. participant minutes), at least 1" }),
    day: t.string({
      required: true,
      description: "The day of use, YYYY-MM-DD (UTC); not in the future, not in a billed month",
    }),
    idempotencyKey: t.string({
      required: true,
      description: "Your key: sending it again with the same quantity records nothing more",
    }),
  }),
});

builder.mutationField("recordUsage", (t) =>
  t.field({
    type: builder.objectRef<{ usage: Usage.Info }>("RecordUsagePayload").implement({
      description: "The usage as recorded",
      fields: (f) => ({
        usage: f.field({ description: "The usage record", type: UsageRef, resolve: (p) => p.usage }),
      }),
    }),
    description: "The vendor's platform records usage of a USAGE offer (billed with the month)",
    args: { input: t.arg({ type: RecordUsageInput, required: true, description: "The operation's fields" }) },
    errors: {},
    resolve: async (_r, { input }, ctx) => ({
      usage: await Usage.record(ctx.session, {
        accountId: input.accountId.id,
        sku: input.sku,
        quantity: input.quantity,
        day: input.day,
        idempotencyKey: input.idempotencyKey,
      }),
    }),
  }),
);

const SetTaxRateInput = builder.inputType("SetTaxRateInput", {
  description: "A billed account's VAT rate",
  fields: (t) => ({
    accountId: t.globalID({ for: AccountRef, description: "The account's global id", required: true }),
    taxRatePercent: t.string({ required: true, description: 'VAT percentage, e.g. "20"' }),
  }),
});

builder.mutationField("setTaxRate", (t) =>
  t.field({
    type: AccountPayload,
    description: "Operators: the VAT rate a billed account is invoiced at",
    args: { input: t.arg({ type: SetTaxRateInput, required: true, description: "The operation's fields" }) },
    errors: {},
    resolve: async (_r, { input }, ctx) => ({
      account: await Billing.setTaxRate(ctx.session, {
        accountId: input.accountId.id,
        taxRatePercent: input.taxRatePercent,
      }),
    }),
  }),
);

const SetBillingDetailsInput = builder.inputType("SetBillingDetailsInput", {
  description: "What a billed account's invoices print of it; a field left out is unchanged, null or empty clears it",
  fields: (t) => ({
    accountId: t.globalID({ for: AccountRef, description: "The billed account's global id", required: true }),
    address: t.string({ required: false, description: "Postal address, up to 6 lines (separated by line breaks)" }),
    vatId: t.string({
      required: false,
      description: "VAT registration number with its country prefix, e.g. FR12345678901",
    }),
    purchaseOrder: t.string({ required: false, description: "Purchase-order number to quote on invoices" }),
  }),
});

builder.mutationField("setBillingDetails", (t) =>
  t.field({
    type: AccountPayload,
    description:
      "A billed account's owners (or operators): the address, VAT id and purchase-order number its next invoices print",
    args: { input: t.arg({ type: SetBillingDetailsInput, required: true, description: "The operation's fields" }) },
    errors: {},
    resolve: async (_r, { input }, ctx) => ({
      account: await Billing.setBillingDetails(ctx.session, {
        accountId: input.accountId.id,
        ...(input.address !== undefined ? { address: input.address } : {}),
        ...(input.vatId !== undefined ? { vatId: input.vatId } : {}),
        ...(input.purchaseOrder !== undefined ? { purchaseOrder: input.purchaseOrder } : {}),
      }),
    }),
  }),
);
