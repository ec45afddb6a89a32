import type { AccountRecord, OfferRecord, OrderRecord, Page } from "../infra/store.js";
import * as Catalog from "./catalog.js";
import type { Session } from "./context.js";
import { NotFound } from "./errors.js";
import { paged } from "./paging.js";
import type { PageArgs } from "./paging.js";
import { allowed } from "./rights.js";

/** Orders and order plans as callers see them (prices only for those who see them), and the order lists. */

export interface Line {
  readonly sku: string;
  readonly name: string;
  readonly kind: Catalog.Kind;
  readonly quantity: number;
  readonly unitPrice: number | null;
  readonly amount: number | null;
}

/** An order as a caller sees it: prices and total null unless the caller sees prices. */
export type Info = Omit<OrderRecord, "lines" | "total"> & {
  readonly lines: readonly Line[];
  readonly total: number | null;
};

/** A dry run: what `placeOrder` would charge, nothing written. */
export interface Preview {
  readonly accountId: string;
  readonly lines: readonly Line[];
  readonly currency: string;
  readonly total: number | null;
}

/** What a preview shows of an order plan (core/order.ts `Plan`). */
interface Priced {
  readonly account: Pick<AccountRecord, "id">;
  readonly lines: readonly {
    readonly offer: Pick<OfferRecord, "sku" | "name" | "kind">;
    readonly quantity: number;
    readonly unitPrice: number;
    readonly amount: number;
  }[];
  readonly currency: string;
  readonly total: number;
  readonly showPrices: boolean;
}

function presentLines(p: Priced): Line[] {
  return p.lines.map((l) => ({
    sku: l.offer.sku,
    name: l.offer.name,
    kind: l.offer.kind,
    quantity: l.quantity,
    unitPrice: p.showPrices ? l.unitPrice : null,
    amount: p.showPrices ? l.amount : null,
  }));
}

export function present(order: OrderRecord, showPrices: boolean): Info {
  if (showPrices) return order;
  return { ...order, total: null, lines: order.lines.map((l) => ({ ...l, unitPrice: null, amount: null })) };
}

/** A plan as its preview shows it: prices only for those who see them. */
export function presentPlan(p: Priced): Preview {
  return {
    accountId: p.account.id,
    lines: presentLines(p),
    currency: p.currency,
    total: p.showPrices ? p.total : null,
  };
}

/** Orders of an account, newest first. */
export async function list(s: Session, accountId: string, args: PageArgs): Promise<Page<Info>> {
  const { account } = await s.authorized(accountId, "account.read");
  const [page, show] = await Promise.all([
    paged(args, (limit, cursor) => s.deps.store.listOrders(accountId, limit, cursor)),
    Catalog.showsPrices(s, account!),
  ]);
  return {
    hasNextPage: page.hasNextPage,
    items: page.items.map((i) => ({ node: present(i.node, show), cursor: i.cursor })),
  };
}

/** One order (Relay `node`): undefined when unknown or invisible. */
export async function find(s: Session, accountId: string, id: string): Promise<Info | undefined> {
  const [ms, account, order] = await Promise.all([
    s.memberships(),
    s.account(accountId),
    s.deps.store.getOrder(accountId, id),
  ]);
  if (!account || !order || !allowed(s.actor, ms, account, "account.read", s.now)) return undefined;
  return present(order, await Catalog.showsPrices(s, account));
}

export async function get(s: Session, accountId: string, id: string): Promise<Info> {
  const found = await find(s, accountId, id);
  if (!found) throw new NotFound("Order");
  return found;
}
