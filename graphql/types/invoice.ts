import * as Billing from "../../core/billing.js";
import { builder } from "../builder.js";
import { forward, toConnection } from "../connection.js";
import { compositeId, compositeParts, globalId, scoped, splitScoped } from "../ids.js";
import { AccountRef } from "./account.js";
import { MoneyRef } from "./money.js";

const InvoiceLineRef = builder.objectRef<Billing.PlacedLine>("InvoiceLine");

builder.node(InvoiceLineRef, {
  description: "One charge: the end customer, the tier-1/tier-2 partners above it, the offer and the amount",
  id: { resolve: (l) => compositeId(l.partyId, l.period, l.lineNo) },
  loadWithoutCache: (id, ctx) => {
    const p = compositeParts(id, 3);
    return p && /^[0-9]{1,9}$/.test(p[2]!) ? Billing.findLine(ctx.session, p[0]!, p[1]!, Number(p[2])) : undefined;
  },
  fields: (t) => ({
    lineNo: t.exposeInt("lineNo", { description: "Position on the invoice, from 1" }),
    sku: t.exposeString("sku", { description: "The offer charged" }),
    description: t.exposeString("description", { description: "What the line charges, as printed" }),
    kind: t.exposeString("kind", { description: "MONTHLY, PREPAID or USAGE" }),
    quantity: t.exposeInt("quantity", { description: "Licences (or usage units) charged" }),
    unitPrice: t.field({
      type: MoneyRef,
      description: "Price per licence (or unit)",
      resolve: (l) => ({ amount: l.unitPrice, currency: l.currency }),
    }),
    amount: t.field({
      type: MoneyRef,
      description: "quantity × unitPrice, before VAT",
      resolve: (l) => ({ amount: l.amount, currency: l.currency }),
    }),
    customer: t.exposeString("customer", { description: "The name of the account the line is for" }),
    tier1: t.exposeString("tier1", {
      nullable: true,
      description:
        "The reseller of the first level below the invoiced distributor on the account's path (the account itself when it is that reseller); null for the distributor's direct customers and its own lines",
    }),
    tier2: t.exposeString("tier2", {
      nullable: true,
      description: "The reseller of the second level (below tier1) on the account's path, or the account itself",
    }),
  }),
});

export const InvoiceRef = builder.objectRef<Billing.Invoice>("Invoice");

builder.node(InvoiceRef, {
  description: "A monthly invoice of a billed account (a distributor) for one month",
  id: { resolve: (i) => `${i.partyId}:${i.period}` },
  loadWithoutCache: (id, ctx) => {
    const parts = splitScoped(id);
    return parts ? Billing.find(ctx.session, parts.accountId, parts.key) : undefined;
  },
  fields: (t) => ({
    number: t.exposeString("number", { description: "The invoice number, sequential per year" }),
    period: t.exposeString("period", { description: "The billed month, e.g. 2026-10" }),
    billedTo: t.exposeString("partyName", { description: "The billed account's name" }),
    currency: t.field({ type: "Currency", description: "The billing currency", resolve: (i) => i.currency }),
    taxRatePercent: t.string({
      description: 'VAT rate applied, in percent ("20")',
      resolve: (i) => String(i.taxRate / 100),
    }),
    net: t.field({
      type: MoneyRef,
      description: "Sum of the lines",
      resolve: (i) => ({ amount: i.net, currency: i.currency }),
    }),
    vat: t.field({
      type: MoneyRef,
      description: "VAT on net",
      resolve: (i) => ({ amount: i.vat, currency: i.currency }),
    }),
    total: t.field({
      type: MoneyRef,
      description: "net + vat",
      resolve: (i) => ({ amount: i.total, currency: i.currency }),
    }),
    issuedAt: t.field({ type: "DateTime", description: "When the invoice was issued", resolve: (i) => i.issuedAt }),
    dueAt: t.field({ type: "DateTime", description: "Payment due date", resolve: (i) => i.dueAt }),
    lineCount: t.exposeInt("lineCount", { description: "Number of lines" }),
    lines: t.connection({
      type: InvoiceLineRef,
      description: "The charges, in line order",
      resolve: async (i, args, ctx) => {
        const page = await Billing.lines(ctx.session, i, forward(args));
        return toConnection({
          ...page,
          items: page.items.map((x) => ({
            ...x,
            node: { ...x.node, partyId: i.partyId, period: i.period, currency: i.currency },
          })),
        });
      },
    }),
    pdfPath: t.string({
      description: "GET it with the same bearer token (the consumption report as PDF)",
      resolve: (i) => `/invoices/${globalId("Invoice", `${i.partyId}:${i.period}`)}.pdf`,
    }),
    csvPath: t.string({
      description: "GET it with the same bearer token (the lines as CSV)",
      resolve: (i) => `/invoices/${globalId("Invoice", `${i.partyId}:${i.period}`)}.csv`,
    }),
  }),
});

builder.queryField("invoice", (t) =>
  t.field({
    type: InvoiceRef,
    description: "An invoice you may see (its account's owners, operators); NotFoundError otherwise",
    args: { id: t.arg.globalID({ for: InvoiceRef, required: true, description: "The invoice's global id" }) },
    errors: {},
    resolve: (_r, args, ctx) => {
      const { accountId, key } = scoped(args.id);
      return Billing.get(ctx.session, accountId, key);
    },
  }),
);

const BillingDetailsRef = builder.objectRef<Billing.BillingDetails>("BillingDetails").implement({
  description:
    "What a billed account's invoices print of it. A value of the account, not an entity: set with setBillingDetails",
  fields: (t) => ({
    address: t.exposeString("address", { nullable: true, description: "Postal address, one line per line break" }),
    vatId: t.exposeString("vatId", { nullable: true, description: "VAT registration number" }),
    purchaseOrder: t.exposeString("purchaseOrder", {
      nullable: true,
      description: "Purchase-order number quoted on invoices",
    }),
  }),
});

builder.objectFields(AccountRef, (t) => ({
  billingDetails: t.field({
    type: BillingDetailsRef,
    nullable: true,
    description:
      "A billed account's address, VAT id and purchase-order number, for those who see its invoices; null otherwise",
    resolve: async (a, _args, ctx) => (await Billing.billingDetails(ctx.session, a)) ?? null,
  }),
  invoices: t.connection({
    type: InvoiceRef,
    // Nullable: a caller who may see the account but not its invoices still gets the rest of it.
    nullable: true,
    description:
      "Invoices of a billed account (its owners and operators), newest month first; null with an error for others",
    resolve: async (a, args, ctx) => toConnection(await Billing.list(ctx.session, a.id, forward(args))),
  }),
  taxRatePercent: t.string({
    nullable: true,
    description: "VAT rate of a billed account",
    resolve: (a) => (a.billable ? String((a.taxRate ?? 0) / 100) : null),
  }),
  pendingDeletionAt: t.field({
    type: "DateTime",
    nullable: true,
    description: "Set while the account has no active subscription: it is deleted with its data at this instant",
    resolve: (a) => a.pendingDeletionAt ?? null,
  }),
}));
