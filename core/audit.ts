import type { AuditRecord, TxEntities, Page } from "../infra/store.js";
import { newId } from "../infra/ids.js";
import type { Actor } from "./actor.js";
import { actorLabel } from "./actor.js";
import type { Session } from "./context.js";
import { PLATFORM_ID, isOperator } from "./rights.js";
import { unlessHidden } from "./errors.js";
import { paged } from "./paging.js";
import type { PageArgs } from "./paging.js";

export type Info = AuditRecord;

export interface AuditInput {
  readonly accountId: string;
  readonly action: string;
  readonly actor: Actor;
  readonly at: Date;
  readonly subjectId?: string;
  readonly onBehalfOf?: string;
  readonly details?: Record<string, unknown>;
}

/** The audit item of a change, to put in the same transaction as the change itself (any transaction with the audit entity). */
export function entry(entities: Pick<TxEntities, "audit">, e: AuditInput) {
  return entities.audit.put({
    accountId: e.accountId,
    at: e.at.toISOString(),
    id: newId(),
    action: e.action,
    actor: actorLabel(e.actor),
    ...(e.subjectId ? { subjectId: e.subjectId } : {}),
    ...(e.onBehalfOf ? { onBehalfOf: e.onBehalfOf } : {}),
    ...(e.details ? { details: JSON.stringify(e.details) } : {}),
  });
}

/** Catalog entries whose details carry the vendor's prices. */
const priced = new Set(["offer.created", "offer.priceChanged"]);

/**
 * History of an account, newest first; anyone who sees the account sees its history. The catalog's
 * entries (on the PLATFORM) name prices: only operators see those details (security rule 8).
 */
export async function history(s: Session, accountId: string, args: PageArgs): Promise<Page<Info>> {
  const { account, memberships: ms } = await s.authorized(accountId, "account.read");
  const page = await paged(args, (limit, cursor) => s.deps.store.listAudit(accountId, limit, cursor));
  if (account!.id !== PLATFORM_ID || isOperator(s.actor, ms)) return page;
  return {
    ...page,
    items: page.items.map((i) => (priced.has(i.node.action) ? { ...i, node: withoutDetails(i.node) } : i)),
  };
}

function withoutDetails(record: Info): Info {
  const { details: _prices, ...rest } = record;
  return rest;
}

/** One history entry, for those who may read the history (node lookups); undefined otherwise. */
export function find(s: Session, accountId: string, at: string, id: string): Promise<Info | undefined> {
  return unlessHidden(async () => {
    const { account, memberships } = await s.authorized(accountId, "account.read");
    const record = await s.deps.store.getAudit(accountId, at, id);
    if (!record || account.id !== PLATFORM_ID || isOperator(s.actor, memberships) || !priced.has(record.action))
      return record;
    return withoutDetails(record);
  });
}
