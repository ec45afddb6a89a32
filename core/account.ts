import * as z from "zod";
import { digest, newId } from "../infra/ids.js";
import { accountKinds } from "../infra/entities/account.js";
import type { AccountRecord, OrderRecord, TxEntities } from "../infra/store.js";
import * as AccountSettings from "./account-settings.js";
import { accountChanged } from "./account-settings.js";
import * as Audit from "./audit.js";
import * as Catalog from "./catalog.js";
import { dueOp } from "./due.js";
import type { Session } from "./context.js";
import { Conflict, Invalid } from "./errors.js";
import * as Hierarchy from "./hierarchy.js";
import * as Invitation from "./invitation.js";
import * as Limits from "./limits.js";
import * as Order from "./order.js";
import { PLATFORM_ID, allowed, authorize } from "./rights.js";
import { Contention } from "./tx.js";
import * as V from "./validation.js";
import * as Cond from "../infra/store/conditions.js";

export type Info = AccountRecord;
export type { Kind } from "./hierarchy.js";
export { PLATFORM_ID };

const ownerInput = z.object({
  email: V.email,
  firstName: V.personName.optional(),
  lastName: V.personName.optional(),
});

const createInput = z.object({
  parentId: z.string().min(1),
  kind: z.enum(accountKinds),
  name: V.name,
  reference: V.absentIfNull(V.reference),
  country: V.country,
  owner: V.absentIfNull(ownerInput),
  currency: V.absentIfNull(Catalog.currency),
  order: V.absentIfNull(Order.newAccountOrder),
  /** Reseller rights given at creation (resellers only); both default to false, as `setResellerRights` leaves them. */
  canCreateAccounts: V.absentIfNull(z.boolean()),
  canCreateEquipment: V.absentIfNull(z.boolean()),
});
export type CreateInput = z.input<typeof createInput>;

/** Reads one account the caller can see (same NotFound for unknown and invisible). */
export async function get(s: Session, id: string): Promise<Info> {
  const { account } = await s.authorized(id, "account.read");
  return account!;
}

/** Like `get`, but undefined instead of NotFound (Relay `node`). */
export async function find(s: Session, id: string): Promise<Info | undefined> {
  const [ms, account] = await Promise.all([s.memberships(), s.account(id)]);
  if (!account || !allowed(s.actor, ms, account, "account.read", s.now)) return undefined;
  return account;
}

function subtreeEntries(e: TxEntities, account: Pick<Info, "id" | "kind" | "nameKey" | "referenceKey" | "path">) {
  return account.path.map((ancestorId, i) =>
    e.subtree
      .put({
        ancestorId,
        accountId: account.id,
        distance: account.path.length - i,
        kind: account.kind,
        nameKey: account.nameKey,
        referenceKey: account.referenceKey,
      })
      .commit(),
  );
}

/**
 * Creates an account under a parent, optionally inviting its first owner and placing a first
 * order in the same transaction (Ribbon "Add account" with its subscriptions). The first owner
 * of a partner account is a seller. A new account may order what its parent may (partner staff
 * offers excepted); the sellers above narrow it with `setAvailableOffers`.
 */
export async function create(
  s: Session,
  raw: CreateInput,
): Promise<{ account: Info; invitation?: Invitation.Info; order?: Order.Info }> {
  s.principal();
  const input = V.parse(createInput, raw);
  const { account: parent, memberships: ms } = await s.authorized(input.parentId, "account.createChild");
  const p = parent!;
  Hierarchy.assertChildAllowed(p.kind, input.kind, "kind");
  // With a first order, the creation itself is idempotent: its key is kept under the parent.
  const creationKey = input.order ? `new-account:${input.order.idempotencyKey}` : undefined;
  const creationHash = digest(JSON.stringify(input));
  if (creationKey) {
    const replayed = await replayCreation(s, p, creationKey, creationHash);
    if (replayed) return replayed;
  }
  const path = [...p.path, p.id];
  if (input.kind === "RESELLER") Hierarchy.assertResellerDepth(path.length);
  // DESIGN 1, "Billing": invoices are in the billed party's currency, fixed when it is created.
  if (input.kind === "DISTRIBUTOR" && !input.currency)
    throw Invalid.field("currency", "a distributor needs its billing currency (ISO 4217)");
  if (input.kind !== "DISTRIBUTOR" && input.currency)
    throw Invalid.field("currency", "only distributors have a billing currency; this account is billed above");
  const rightsGiven = input.canCreateAccounts !== undefined || input.canCreateEquipment !== undefined;
  if (rightsGiven && input.kind !== "RESELLER") {
    throw Invalid.field(
      input.canCreateAccounts !== undefined ? "canCreateAccounts" : "canCreateEquipment",
      "only resellers have reseller rights",
    );
  }
  const inheritedOffers = p.id === PLATFORM_ID ? [] : await inheritable(s, p);
  const now = s.now.toISOString();
  const reference = input.reference ? input.reference : undefined;
  const account: Info = {
    id: newId(),
    kind: input.kind,
    name: input.name,
    nameKey: V.searchKey(input.name),
    ...(reference ? { reference } : {}),
    referenceKey: reference ? V.searchKey(reference) : "",
    country: input.country,
    parentId: p.id,
    path,
    status: "ACTIVE",
    canCreateAccounts: input.canCreateAccounts ?? false,
    canCreateEquipment: input.canCreateEquipment ?? false,
    canUpdateSubscriptions: false,
    canDecreaseSubscriptions: false,
    billable: input.kind === "DISTRIBUTOR",
    ...(input.currency ? { currency: input.currency } : {}),
    offers: inheritedOffers,
    childCount: 0,
    ownerCount: 0,
    createdAt: now,
    updatedAt: now,
    version: 1,
  };
  // The rights are the parent's to give (DESIGN 1): the same decision as setResellerRights on the new account.
  if (input.canCreateAccounts || input.canCreateEquipment)
    authorize(s.actor, ms, account, "account.setResellerRights", s.now);
  const invite = input.owner
    ? Invitation.prepareMember(s, account, {
        email: input.owner.email,
        role: "OWNER",
        seller: account.kind !== "CUSTOMER",
        ...(input.owner.firstName ? { firstName: input.owner.firstName } : {}),
        ...(input.owner.lastName ? { lastName: input.owner.lastName } : {}),
      })
    : undefined;
  let order: { plan: Order.Plan; record: OrderRecord; hash: string } | undefined;
  if (input.order) {
    authorize(s.actor, ms, account, "order.place", s.now);
    const plan = await Order.plan(s, account, input.order, true).catch((err: unknown) => {
      // The order's issues are reported where the caller sent them: under `order`.
      throw err instanceof Invalid ? new Invalid(err.issues.map((i) => ({ ...i, path: ["order", ...i.path] }))) : err;
    });
    order = { plan, record: Order.orderRecord(s, plan, input.order), hash: Order.fingerprint(account.id, input.order) };
  }
  try {
    await s.transact(
      (e) => [
        ...(order ? Order.orderOps(s, e, order.plan, order.record, order.hash, true) : []),
        ...(order && creationKey
          ? [
              e.orderKey
                .create({
                  accountId: p.id,
                  key: creationKey,
                  requestHash: creationHash,
                  orderId: order.record.id,
                  childId: account.id,
                })
                .commit(),
            ]
          : []),
        e.account.create(account).commit(),
        // The parent's path must not move under us (an account move bumps version).
        e.account.patch({ id: p.id }).add({ childCount: 1 }).where(Cond.atVersion(p.version)).commit(),
        ...subtreeEntries(e, account),
        Audit.entry(e, {
          accountId: p.id,
          action: "account.created",
          actor: s.actor,
          at: s.now,
          subjectId: account.id,
          details: { kind: account.kind, name: account.name },
        }).commit(),
        Audit.entry(e, {
          accountId: account.id,
          action: "account.created",
          actor: s.actor,
          at: s.now,
          subjectId: account.id,
          details: { parentId: p.id },
        }).commit(),
        ...(invite ? invite.ops(e) : []),
        // Retention starts at creation: an account that never subscribes is flagged by the next run.
        ...(account.kind !== "PLATFORM" ? [dueOp(e, "retention", s.now, account.id)] : []),
        // The owner's invitation counts against the creating (parent) account's allowance.
        ...(invite ? [Limits.hitOp(e, s.deps, "invitation", p.id, s.now)] : []),
      ],
      { otherwise: "retry", after: async () => invite?.mail() },
    );
  } catch (err) {
    if (!(err instanceof Contention)) throw err;
    // The same creation may have just been committed by a concurrent retry.
    const replayed = creationKey ? await replayCreation(s, p, creationKey, creationHash) : undefined;
    if (replayed) return replayed;
    throw new Conflict("The parent account changed meanwhile; try again");
  }
  return {
    account,
    ...(invite ? { invitation: invite.record } : {}),
    ...(order ? { order: Order.present(order.record, order.plan.showPrices) } : {}),
  };
}

/** A creation with a first order sent again: the account and order it made, or Conflict for other input. */
async function replayCreation(
  s: Session,
  parent: Info,
  key: string,
  hash: string,
): Promise<{ account: Info; order: Order.Info } | undefined> {
  const found = await s.deps.store.getOrderKey(parent.id, key);
  if (!found?.childId) return undefined;
  if (found.requestHash !== hash) throw new Conflict("This idempotency key was used to create a different account");
  const [account, order] = await Promise.all([s.account(found.childId), Order.get(s, found.childId, found.orderId)]);
  if (!account) throw new Error("creation key without its account");
  return { account, order };
}

/** Offers a new child starts with: its parent's, less the partner-staff ones. */
async function inheritable(s: Session, parent: Info): Promise<string[]> {
  const skus = [...(await Catalog.availableSkus(s, parent))].sort();
  const offers = await s.offers(skus);
  return offers.filter((o) => o && o.status === "ACTIVE" && !o.internalOnly).map((o) => o!.sku);
}

const updateInput = z.object({
  id: z.string().min(1),
  name: V.absentIfNull(V.name),
  reference: V.reference.nullable().optional(),
  country: V.absentIfNull(V.country),
});
export type UpdateInput = z.input<typeof updateInput>;

/** Renames, re-references or re-homes (country) an account; search entries follow in the same transaction. */
export async function update(s: Session, raw: UpdateInput): Promise<Info> {
  s.principal();
  const input = V.parse(updateInput, raw);
  const { account: current } = await s.authorized(input.id, "account.update");
  const a = current!;
  const name = input.name ?? a.name;
  const reference = input.reference === undefined ? a.reference : input.reference || undefined;
  const next: Info = {
    ...a,
    name,
    nameKey: V.searchKey(name),
    country: input.country ?? a.country,
    updatedAt: s.now.toISOString(),
    version: a.version + 1,
  };
  delete (next as { reference?: string }).reference;
  if (reference) next.reference = reference;
  next.referenceKey = reference ? V.searchKey(reference) : "";
  const changes: Record<string, unknown> = {};
  if (name !== a.name) changes.name = { from: a.name, to: name };
  if (reference !== a.reference) changes.reference = { from: a.reference ?? null, to: reference ?? null };
  if (next.country !== a.country) changes.country = { from: a.country, to: next.country };
  if (Object.keys(changes).length === 0) return a;
  // An opted-in customer is listed by name under its resellers ("customers I administer").
  const listedUnder =
    changes.name && a.partnerAdminOptIn
      ? (await s.accounts(a.path)).filter((x): x is Info => x?.kind === "RESELLER")
      : [];
  await s.transact(
    (e) => {
      // Only the fields this update changes, on the version it read (rule 6): a concurrent change of
      // anything else (a capability, a counter, a pending deletion) is neither undone nor lost.
      const patch = e.account.patch({ id: a.id }).set({
        name: next.name,
        nameKey: next.nameKey,
        country: next.country,
        referenceKey: next.referenceKey,
        updatedAt: next.updatedAt,
        version: next.version,
        ...(next.reference ? { reference: next.reference } : {}),
      });
      return [
        (next.reference ? patch : patch.remove(["reference"])).where(Cond.atVersion(a.version)).commit(),
        ...(changes.name || changes.reference ? subtreeEntries(e, next) : []),
        ...listedUnder.map((r) =>
          e.administered
            .patch({ resellerId: r.id, customerId: a.id })
            .set({ name: next.name, nameKey: next.nameKey })
            .commit(),
        ),
        Audit.entry(e, {
          accountId: a.id,
          action: "account.updated",
          actor: s.actor,
          at: s.now,
          subjectId: a.id,
          details: changes,
        }).commit(),
      ];
    },
    { otherwise: accountChanged },
  );
  return next;
}

const rightsInput = z.object({
  id: z.string().min(1),
  canCreateAccounts: V.absentIfNull(z.boolean()),
  canCreateEquipment: V.absentIfNull(z.boolean()),
});

/** A reseller's rights are set by the sellers above it, never by the reseller itself. */
export async function setResellerRights(s: Session, raw: z.input<typeof rightsInput>): Promise<Info> {
  s.principal();
  const input = V.parse(rightsInput, raw);
  const { account: current } = await s.authorized(input.id, "account.setResellerRights");
  const a = current!;
  const set = {
    canCreateAccounts: input.canCreateAccounts ?? a.canCreateAccounts,
    canCreateEquipment: input.canCreateEquipment ?? a.canCreateEquipment,
  };
  return AccountSettings.change(s, a, set, "account.rightsChanged", set);
}
