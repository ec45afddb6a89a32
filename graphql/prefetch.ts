/**
 * Reads started early: when a request asks for an account and lists of it (the hierarchy page's
 * children, the subscriptions page with each subscription's history), the `account` resolver starts
 * those lists' first reads beside its rights check instead of after it. The use cases hand the
 * pages out only after their own checks (core/account-reads.ts, core/subscription.ts); a read that
 * cannot start (an `after` that does not open, odd arguments) is simply left to its resolver.
 */
import type { GraphQLResolveInfo } from "graphql";
import * as AccountReads from "../core/account-reads.js";
import type { PageArgs } from "../core/paging.js";
import * as Subscription from "../core/subscription.js";
import type { Status } from "../core/subscription.js";
import type { Context } from "./builder.js";
import { openCursor } from "./conventions.js";
import { lookahead } from "./lookahead.js";
import type { Step } from "./lookahead.js";

const DATA: Step = { type: "QueryAccountSuccess", field: "data" };
const text = (v: unknown) => (typeof v === "string" ? v : null);
const page = (args: Record<string, unknown>): PageArgs => ({
  first: typeof args.first === "number" ? args.first : null,
  after: text(args.after),
});

/** The store's cursor of a sealed `after` of `list`: null without one, undefined when it does not open. */
async function opened(ctx: Context, list: string, after: string | null | undefined) {
  return after === null || after === undefined ? null : openCursor(ctx, list, after);
}

async function children(ctx: Context, accountId: string, args: Record<string, unknown>): Promise<void> {
  const after = await opened(ctx, "Account.children", text(args.after));
  if (after === undefined) return;
  AccountReads.prefetchChildren(ctx.session, accountId, {
    ...page(args),
    after,
    search: text(args.search),
    reference: text(args.reference),
  });
}

async function subscriptions(
  ctx: Context,
  accountId: string,
  args: Record<string, unknown>,
  history: Record<string, unknown> | undefined,
): Promise<void> {
  const after = await opened(ctx, "Account.subscriptions", text(args.after));
  if (after === undefined) return;
  const status = text(args.status) as Status | null;
  // Each subscription's history page alike, when it starts at the top (a cursor is one list's).
  const each = history && history.after == null ? page(history) : undefined;
  Subscription.prefetchList(ctx.session, accountId, { ...page(args), after, status }, each);
}

/** Starts the first reads of the lists `account(id)` is asked for (see above). */
export function prefetchAccountPage(ctx: Context, accountId: string, info: GraphQLResolveInfo): void {
  const ignore = () => undefined;
  const c = lookahead(info, [DATA, { field: "children" }]);
  if (c) children(ctx, accountId, c).catch(ignore);
  const subs = [DATA, { field: "subscriptions" }];
  const s = lookahead(info, subs);
  if (s) {
    const h = lookahead(info, [...subs, { field: "edges" }, { field: "node" }, { field: "history" }]);
    subscriptions(ctx, accountId, s, h).catch(ignore);
  }
}
