import * as z from "zod";
import type { AccountRecord } from "../../infra/store.js";
import type { Session } from "../context.js";
import { Forbidden, Invalid } from "../errors.js";
import * as V from "../validation.js";
import { isOperator, seesPrices } from "../rights.js";
import * as AccountSettings from "../account-settings.js";

/** What the billed party sets for its invoices (bill-to address, VAT id, purchase order) and its tax rate. */

const billingDetailsInput = z.object({
  accountId: z.string().min(1),
  // Absent: unchanged; null or empty: cleared.
  address: V.postalAddress.nullish(),
  vatId: V.vatId.nullish(),
  purchaseOrder: V.purchaseOrder.nullish(),
});

/** What a billed account's invoices say of it: its postal address, VAT id and purchase-order number. */
export interface BillingDetails {
  readonly address: string | null;
  readonly vatId: string | null;
  readonly purchaseOrder: string | null;
}

/**
 * A billed account's owners (and the operators) keep the details its invoices print: postal address,
 * VAT registration number, purchase-order number. Versioned like every account write; audited.
 */
export async function setBillingDetails(s: Session, raw: z.input<typeof billingDetailsInput>): Promise<AccountRecord> {
  s.principal();
  const input = V.parse(billingDetailsInput, raw);
  const { account: a, reach, memberships } = await s.authorized(input.accountId, "account.read");
  if (reach.own?.role !== "OWNER" && !isOperator(s.actor, memberships))
    throw new Forbidden("Billing details are kept by the billed account's owners", "ROLE");
  if (!a.billable) throw Invalid.field("accountId", "only billed accounts (distributors) have billing details");
  const set: AccountSettings.Settings = {
    ...(input.address !== undefined ? { billingAddress: input.address ?? "" } : {}),
    ...(input.vatId !== undefined ? { vatId: input.vatId ?? "" } : {}),
    ...(input.purchaseOrder !== undefined ? { purchaseOrder: input.purchaseOrder ?? "" } : {}),
  };
  if (Object.keys(set).length === 0) return a;
  return AccountSettings.change(s, a, set, "account.billingDetailsChanged", { fields: Object.keys(set) });
}

/** The billing details of a billed account, for those who see its invoices; undefined for anyone else. */
export async function billingDetails(s: Session, account: AccountRecord): Promise<BillingDetails | undefined> {
  if (!account.billable) return undefined;
  const ms = await s.memberships();
  if (!seesPrices(s.actor, ms, account.id)) return undefined;
  return {
    address: account.billingAddress || null,
    vatId: account.vatId || null,
    purchaseOrder: account.purchaseOrder || null,
  };
}

/** Operators set the VAT rate a billed account is invoiced at ("20" or "20.5" percent). */
export async function setTaxRate(
  s: Session,
  input: { accountId: string; taxRatePercent: string },
): Promise<AccountRecord> {
  s.principal();
  const { account, memberships: ms } = await s.authorized(input.accountId, "account.read");
  if (!isOperator(s.actor, ms)) throw new Forbidden("Tax rates are set by the vendor's operators", "OPERATOR_ONLY");
  const a = account!;
  if (!a.billable) throw Invalid.field("accountId", "only billed accounts (distributors) have a tax rate");
  const m = /^(\d{1,2}|100)(?:\.(\d{1,2}))?$/.exec(input.taxRatePercent.trim());
  if (!m)
    throw Invalid.field(
      "taxRatePercent",
      "must be a percentage between 0 and 100 with at most two decimals, e.g. 20 or 20.5",
    );
  const taxRate = Number(m[1]) * 100 + Number((m[2] ?? "").padEnd(2, "0") || "0");
  if (taxRate > 10_000) throw Invalid.field("taxRatePercent", "must be at most 100");
  return AccountSettings.change(s, a, { taxRate }, "account.taxRateChanged", {
    from: (a.taxRate ?? 0) / 100,
    to: taxRate / 100,
  });
}
