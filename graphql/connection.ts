import type { Page } from "../core/paging.js";
import { Invalid } from "../core/errors.js";

/** Relay connection args we accept: forward paging only. */
export interface ConnectionArgs {
  readonly first?: number | null | undefined;
  readonly after?: string | null | undefined;
  readonly last?: number | null | undefined;
  readonly before?: string | null | undefined;
}

export function forward(args: ConnectionArgs): { first?: number | null; after?: string | null } {
  if (args.last != null || args.before != null) throw Invalid.field("last", "backward paging is not supported; use first/after");
  return { first: args.first ?? null, after: args.after ?? null };
}

/** A store page as a Relay connection. */
export function toConnection<T>(page: Page<T>) {
  return {
    edges: page.items.map((i) => ({ node: i.node, cursor: i.cursor })),
    pageInfo: {
      hasNextPage: page.hasNextPage,
      hasPreviousPage: false,
      startCursor: page.items[0]?.cursor ?? null,
      endCursor: page.items.at(-1)?.cursor ?? null,
    },
  };
}
