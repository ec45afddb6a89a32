import * as Billing from "../../core/billing.js";
import * as Usage from "../../core/usage.js";
import { builder } from "../builder.js";
import { localId } from "../ids.js";
import { AccountPayload } from "../types/account.js";

const UsageRef = builder.objectRef<Usage.Info>("UsageRecord").implement({
  description: "Usage of a USAGE offer on one day, as recorded",
  fields: (t) => ({
    sku: t.exposeString("sku"),
    day: t.exposeString("day"),
    quantity: t.exposeInt("quantity"),
    idempotencyKey: t.exposeString("key"),
    recordedAt: t.field({ type: "DateTime", resolve: (u) => u.recordedAt }),
  }),
});

const RecordUsageInput = builder.inputType("RecordUsageInput", {
  fields: (t) => ({
    accountId: t.id({ required: true }),
    sku: t.string({ required: true, description: "A USAGE offer the account subscribes to" }),
    quantity: t.int({ required: true, description: "Units used (e.g. participant minutes), at least 1" }),
    day: t.string({ required: true, description: "The day of use, YYYY-MM-DD (UTC); not in the future, not in a billed month" }),
    idempotencyKey: t.string({ required: true, description: "Your key: sending it again with the same quantity records nothing more" }),
  }),
});

builder.mutationField("recordUsage", (t) =>
  t.field({
    type: builder.objectRef<{ usage: Usage.Info }>("RecordUsagePayload").implement({ fields: (f) => ({ usage: f.field({ type: UsageRef, resolve: (p) => p.usage }) }) }),
    description: "The vendor's platform records usage of a USAGE offer (billed with the month)",
    args: { input: t.arg({ type: RecordUsageInput, required: true }) },
    errors: {},
    resolve: async (_r, { input }, ctx) => ({
      usage: await Usage.record(ctx.session, {
        accountId: localId(String(input.accountId), "Account"),
        sku: input.sku,
        quantity: input.quantity,
        day: input.day,
        idempotencyKey: input.idempotencyKey,
      }),
    }),
  }),
);

const SetTaxRateInput = builder.inputType("SetTaxRateInput", {
  fields: (t) => ({
    accountId: t.id({ required: true }),
    taxRatePercent: t.string({ required: true, description: "VAT percentage, e.g. \"20\"" }),
  }),
});

builder.mutationField("setTaxRate", (t) =>
  t.field({
    type: AccountPayload,
    description: "Operators: the VAT rate a billed account is invoiced at",
    args: { input: t.arg({ type: SetTaxRateInput, required: true }) },
    errors: {},
    resolve: async (_r, { input }, ctx) => ({ account: await Billing.setTaxRate(ctx.session, { accountId: localId(String(input.accountId), "Account"), taxRatePercent: input.taxRatePercent }) }),
  }),
);
