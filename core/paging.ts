import { BadCursor } from "../infra/store.js";
import type { Page } from "../infra/store.js";
import { Invalid } from "./errors.js";

export const MAX_PAGE = 100;
export const DEFAULT_PAGE = 20;

export interface PageArgs {
  readonly first?: number | null | undefined;
  readonly after?: string | null | undefined;
}

/** Validates `first` (1..100) and returns the store's limit. */
export function pageSize(args: PageArgs): number {
  const first = args.first ?? DEFAULT_PAGE;
  if (!Number.isInteger(first) || first < 1 || first > MAX_PAGE) {
    throw Invalid.field("first", `must be between 1 and ${MAX_PAGE}`);
  }
  return first;
}

/** Runs a store list and turns a foreign or tampered cursor into a typed error on `after`. */
export async function paged<T>(
  args: PageArgs,
  list: (limit: number, cursor: string | null) => Promise<Page<T>>,
): Promise<Page<T>> {
  const limit = pageSize(args);
  if (args.after !== undefined && args.after !== null && !/^[A-Za-z0-9+/=_-]{1,2048}$/.test(args.after)) {
    throw Invalid.field("after", "is not a cursor of this list");
  }
  try {
    return await list(limit, args.after ?? null);
  } catch (err) {
    if (err instanceof BadCursor) throw Invalid.field("after", "is not a cursor of this list");
    throw err;
  }
}

export type { Page };
