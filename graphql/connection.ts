import type { Page } from "../core/paging.js";

/** Relay connection args we accept: forward paging only (the schema has no `last`/`before`, see conventions.ts). */
export interface ConnectionArgs {
  readonly first?: number | null | undefined;
  readonly after?: string | null | undefined;
}

export function forward(args: ConnectionArgs): { first?: number | null; after?: string | null } {
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
