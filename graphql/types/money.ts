import * as Money from "../../core/money.js";
import { builder } from "../builder.js";

/** Exact money as integrators read it: a decimal string in the major unit, and the ISO 4217 code. */
export const MoneyRef = builder.objectRef<Money.Money>("Money").implement({
  description:
    'An exact amount: `amount` is a decimal string in the currency\'s major unit ("12.00"). A value, not an entity: it has no id',
  fields: (t) => ({
    amount: t.string({
      description: "Decimal string in the currency's major unit, exact (never a float)",
      resolve: (m) => Money.format(m.amount, m.currency),
    }),
    currency: t.field({ type: "Currency", description: "ISO 4217 code", resolve: (m) => m.currency }),
  }),
});

/** Money, or null when the caller may not see prices. */
export function money(amount: number | null, currency: string): Money.Money | null {
  return amount === null ? null : { amount, currency };
}
