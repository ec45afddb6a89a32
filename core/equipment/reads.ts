import type { AccountRecord, EquipmentRecord, Page } from "../../infra/store.js";
import { BadCursor } from "../../infra/store.js";
import type { Session } from "../context.js";
import { Invalid, unlessHidden } from "../errors.js";
import { pageSize } from "../paging.js";
import type { PageArgs } from "../paging.js";
import { allowed } from "../rights.js";
import * as V from "../validation.js";
import { HEARTBEAT_TIMEOUT_MS, present, statusOf, equipmentKey, load } from "./common.js";
import type { Status, Info, Tenant, Assignment, Key } from "./common.js";

/** Reads of equipment: one PBX, an account's list (its own and the shared ones it is attached to), node lookups. */

// ---------------------------------------------------------------- reads

/** One equipment the caller may see (its owner account's readers); undefined otherwise (Relay `node`). */
export function find(s: Session, key: Key): Promise<Info | undefined> {
  return unlessHidden(async () => present((await load(s, key, "account.read")).equipment));
}

export interface ListArgs extends PageArgs {
  readonly status?: Status | null;
}

/**
 * Equipment of an account, by id: its own, then the partners' shared PBXs it is attached to
 * (seen with its company prefix). DISCONNECTED and CONNECTED are decided by the clock now.
 * Cursors are "o<own cursor>" or "s<equipment id>" so one list pages through both.
 */
export async function list(s: Session, accountId: string, args: ListArgs): Promise<Page<Info>> {
  const { account } = await s.authorized(accountId, "account.read");
  const limit = pageSize(args);
  const after = args.after ?? null;
  if (after !== null && !/^[os][A-Za-z0-9+/=_-]{1,2048}$/.test(after))
    throw Invalid.field("after", "is not a cursor of this list");
  const connectedSince = new Date(s.now.getTime() - HEARTBEAT_TIMEOUT_MS).toISOString();
  const items: { node: Info; cursor: string }[] = [];
  if (after === null || after.startsWith("o")) {
    let own: Page<EquipmentRecord>;
    try {
      own = await s.deps.store.listEquipment(accountId, {
        status: args.status ?? null,
        connectedSince,
        limit,
        cursor: after ? after.slice(1) : null,
      });
    } catch (err) {
      if (err instanceof BadCursor) throw Invalid.field("after", "is not a cursor of this list");
      throw err;
    }
    items.push(...own.items.map((i) => ({ node: present(i.node), cursor: `o${i.cursor}` })));
    if (own.hasNextPage) return { items, hasNextPage: true };
  }
  const shared = await sharedOf(s, account!);
  const from = after?.startsWith("s") ? after.slice(1) : "";
  const rest = shared.filter((e) => e.equipmentId > from && (!args.status || statusOf(e, s.now) === args.status));
  const room = limit - items.length;
  items.push(...rest.slice(0, room).map((node) => ({ node, cursor: `s${node.equipmentId}` })));
  return { items, hasNextPage: rest.length > room };
}

/** The shared PBXs a customer is attached to, as it sees them, by equipment id. */
async function sharedOf(s: Session, account: AccountRecord): Promise<Info[]> {
  if (account.kind !== "CUSTOMER") return [];
  const links = await s.deps.store.allSharedEquipment(account.id);
  if (links.length === 0) return [];
  const items = await s.deps.store.getEquipments(
    links.map((l) => ({ accountId: l.ownerId, equipmentId: l.equipmentId })),
  );
  return links
    .flatMap((l, i) => {
      const e = items[i];
      return e && !e.removing ? [present(e, { customerId: account.id, companyPrefix: l.companyPrefix })] : [];
    })
    .sort((a, b) => (a.equipmentId < b.equipmentId ? -1 : 1));
}

/** One customer attached to a multi-tenant PBX, in its owner's view (node lookups); undefined otherwise. */
export function findTenant(s: Session, key: Key, customerId: string): Promise<Tenant | undefined> {
  return unlessHidden(async () => {
    const { equipment: eq } = await load(s, key, "account.read");
    return s.deps.store.getEquipmentTenant(eq.accountId, eq.equipmentId, customerId);
  });
}

/**
 * One extension association (node lookups): the PBX owner's readers see all of them, a tenant
 * customer's readers those of its own members, as the lists show them; undefined otherwise.
 */
export function findAssignment(s: Session, key: Key, extension: string): Promise<Assignment | undefined> {
  return unlessHidden(async () => {
    const ref = V.parse(equipmentKey, key);
    const assignment = await s.deps.store.getExtensionAssignment(ref.accountId, ref.equipmentId, extension);
    if (!assignment) return undefined;
    const [ms, owner, customer] = await Promise.all([
      s.memberships(),
      s.account(ref.accountId),
      s.account(assignment.customerId),
    ]);
    const reads = (a: typeof owner) => a !== undefined && allowed(s.actor, ms, a, "account.read", s.now);
    return reads(owner) || reads(customer) ? assignment : undefined;
  });
}
