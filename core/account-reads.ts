/**
 * The hierarchy as read: a page of an account's children (started beside the rights check when
 * the request asks for it up front), breadcrumbs, and search below the caller's account.
 */
import type { Page, SubtreeRecord } from "../infra/store.js";
import type { Info } from "./account.js";
import type { Session } from "./context.js";
import { Invalid } from "./errors.js";
import { paged } from "./paging.js";
import type { PageArgs } from "./paging.js";
import { PLATFORM_ID, authorize } from "./rights.js";
import * as V from "./validation.js";

export interface ChildrenArgs extends PageArgs {
  readonly search?: string | null | undefined;
  readonly reference?: string | null | undefined;
}

/** Children of an account, ordered by name; `search` is a name prefix, `reference` a reference prefix. */
export async function children(s: Session, id: string, args: ChildrenArgs): Promise<Page<Info>> {
  await s.authorized(id, "account.listChildren");
  return childrenPage(s, id, args);
}

/**
 * Starts reading the page `children(s, id, args)` will hand out, while the caller's rights are
 * still being read (the hierarchy page asks for an account and its children at once). Nothing is
 * returned here: the page reaches the caller only through `children`, after its rights check; a
 * page read for a caller who may not see the account is dropped with the request.
 */
export function prefetchChildren(s: Session, id: string, args: ChildrenArgs): void {
  if (s.actor.type !== "user" && s.actor.type !== "client") return;
  childrenPage(s, id, args).catch(() => undefined);
}

function childrenPage(s: Session, id: string, args: ChildrenArgs): Promise<Page<Info>> {
  return paged(args, (limit, cursor) => {
    const params = { ...prefixFilter(args), limit, cursor };
    return s.shared(`children:${id}:${JSON.stringify(params)}`, () => s.deps.store.listChildren(id, params));
  });
}

function prefixFilter(args: { search?: string | null | undefined; reference?: string | null | undefined }) {
  if (args.search && args.reference) throw Invalid.field("reference", "search by name or by reference, not both");
  if ((args.search?.length ?? 0) > 120) throw Invalid.field("search", "must be at most 120 characters");
  if ((args.reference?.length ?? 0) > 100) throw Invalid.field("reference", "must be at most 100 characters");
  if (args.reference) return { referencePrefix: V.searchKey(args.reference) };
  return args.search ? { namePrefix: V.searchKey(args.search) } : {};
}

/** Breadcrumbs: the ancestors from the root to the parent (names and kinds only). */
export async function ancestors(s: Session, account: Info): Promise<Pick<Info, "id" | "name" | "kind">[]> {
  const found = await s.accounts(account.path);
  return found.filter((a): a is Info => !!a).map((a) => ({ id: a.id, name: a.name, kind: a.kind }));
}

export interface SearchArgs extends PageArgs {
  readonly query: string;
  readonly within?: string | null | undefined;
  readonly byReference?: boolean | null | undefined;
}

/**
 * "Search Hierarchy": accounts anywhere below the account the caller sells from, by name
 * prefix or reference prefix. `within` picks the root when the caller belongs to several.
 */
export async function search(s: Session, args: SearchArgs): Promise<Page<Info>> {
  s.principal();
  const q = args.query.trim();
  if (q.length < 1 || q.length > 120) throw Invalid.field("query", "must be 1 to 120 characters");
  const ms = await s.memberships();
  let within = args.within ?? undefined;
  if (!within) {
    const roots = Object.entries(ms)
      .filter(([id, m]) => m.seller || id === PLATFORM_ID)
      .map(([id]) => id);
    if (roots.length === 0) return { items: [], hasNextPage: false };
    if (roots.length > 1) throw Invalid.field("within", "you belong to several accounts: say which one to search");
    within = roots[0]!;
  }
  const root = await s.account(within);
  authorize(s.actor, ms, root, "account.listChildren", s.now);
  const filter = args.byReference ? { referencePrefix: V.searchKey(q) } : { namePrefix: V.searchKey(q) };
  const page: Page<SubtreeRecord> = await paged(args, (limit, cursor) =>
    s.deps.store.searchSubtree(within, { ...filter, limit, cursor }),
  );
  const accounts = await s.accounts(page.items.map((i) => i.node.accountId));
  return {
    hasNextPage: page.hasNextPage,
    items: page.items.flatMap((i, idx) => {
      const a = accounts[idx];
      return a ? [{ node: a, cursor: i.cursor }] : [];
    }),
  };
}
