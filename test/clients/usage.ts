/**
 * Uses the generated types as an integrator would, so that the type-check proves they are usable
 * (a wrong shape here fails the test). Copied next to the generated files by test/clients.test.ts.
 */
import type { AccountPageQuery as RelayAccountPage } from "./src/__generated__/AccountPageQuery.graphql";
import type { AccountPage_children$data } from "./src/__generated__/AccountPage_children.graphql";
import type { AccountPageChildrenPaginationQuery } from "./src/__generated__/AccountPageChildrenPaginationQuery.graphql";
import type { InvoiceViewQuery as RelayInvoice } from "./src/__generated__/InvoiceViewQuery.graphql";
import type { PlaceOrderMutation } from "./src/__generated__/PlaceOrderMutation.graphql";
import type {
  AccountPageQuery,
  InvoiceViewQuery,
  PlaceOrderMutation as CodegenPlaceOrder,
  PlaceOrderMutationVariables,
} from "./codegen/operations";

export function accountName(r: RelayAccountPage["response"]): string | undefined {
  // Relay types the union member's fields as optional: read them with ?.
  return r.account.__typename === "QueryAccountSuccess" ? r.account.data?.name : undefined;
}

export function childNames(c: AccountPage_children$data): string[] {
  // A connection field is null when its arguments are refused (with an error at its path).
  return c.children?.edges.map((e) => e.node.name) ?? [];
}

export const nextPage: AccountPageChildrenPaginationQuery["variables"] = {
  id: "QWNjb3VudDpQTEFURk9STQ==",
  first: 20,
  after: "cursor",
};

export function invoiceTotal(r: RelayInvoice["response"]): string | undefined {
  const total = r.invoice.__typename === "QueryInvoiceSuccess" ? r.invoice.data?.total : undefined;
  return total ? `${total.currency} ${total.amount}` : undefined;
}

export const order: PlaceOrderMutation["variables"] = {
  input: { accountId: "a", lines: [{ sku: "3EY95002AA", quantity: 10 }], idempotencyKey: "k" },
};

export function orderId(r: CodegenPlaceOrder): string | undefined {
  return r.placeOrder.__typename === "MutationPlaceOrderSuccess" ? r.placeOrder.data.order.id : undefined;
}

export const codegenOrder: PlaceOrderMutationVariables = {
  input: { accountId: "a", lines: [{ sku: "3EY95002AA", quantity: 10 }], idempotencyKey: "k" },
};

export function children(r: AccountPageQuery): number {
  return r.account.__typename === "QueryAccountSuccess" ? (r.account.data.children?.edges.length ?? 0) : 0;
}

export function lines(r: InvoiceViewQuery): string[] {
  return r.invoice.__typename === "QueryInvoiceSuccess"
    ? (r.invoice.data.lines?.edges.map((e) => `${e.node.quantity} x ${e.node.sku}`) ?? [])
    : [];
}
