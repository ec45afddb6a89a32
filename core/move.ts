import type { AccountRecord, InvitationRecord } from "../infra/store.js";
import * as Audit from "./audit.js";
import * as Catalog from "./catalog.js";
import * as Consent from "./consent.js";
import { dueOp } from "./due.js";
import { partyOf } from "./party.js";
import type { Session } from "./context.js";
import { Conflict, Invalid, NotFound, VisibleError } from "./errors.js";
import * as Invitation from "./invitation.js";
import * as Limits from "./limits.js";
import { allowed, authorize } from "./rights.js";
import * as Hierarchy from "./hierarchy.js";
import * as TrialEntries from "./trial-entries.js";
import * as Cond from "../infra/store/conditions.js";

/** TransactWriteItems takes at most 100 items: a larger subtree cannot move atomically. */
const MAX_TX_ITEMS = 100;

/** Checks that `target` may move under `parent`: kinds, no cycle, depth. */
function checkMove(
  target: AccountRecord,
  parent: AccountRecord,
  subtree: readonly { distance: number; kind: AccountRecord["kind"] }[],
) {
  if (target.kind === "PLATFORM") throw Invalid.field("accountId", "the platform cannot move");
  if (target.parentId === parent.id) throw Invalid.field("parentId", "the account is already under this parent");
  if (parent.id === target.id || parent.path.includes(target.id))
    throw Invalid.field("parentId", "an account cannot move under its own subtree");
  Hierarchy.assertChildAllowed(parent.kind, target.kind, "parentId");
  const depth = parent.path.length + 1;
  const deepestReseller = Math.max(
    target.kind === "RESELLER" ? depth : 0,
    ...subtree.filter((d) => d.kind === "RESELLER").map((d) => depth + d.distance),
  );
  Hierarchy.assertResellerDepth(deepestReseller);
}

/** A move must not change the currency an account's subscriptions are billed in (DESIGN 1, "Billing"). */
async function checkCurrency(s: Session, target: AccountRecord, parent: AccountRecord): Promise<void> {
  if (target.billable) return;
  const [now, then] = await Promise.all([Catalog.billedParty(s, target), Catalog.billedParty(s, parent)]);
  if (now?.currency && then?.currency && now.currency !== then.currency) {
    throw Invalid.field(
      "parentId",
      `the account is billed in ${now.currency}; under this parent it would be billed in ${then.currency}`,
    );
  }
}

/** Customers using a partner's shared PBX stay with it: the partner sees their extensions. Detach before moving. */
async function checkSharedEquipment(s: Session, accountIds: readonly string[]): Promise<void> {
  for (const id of accountIds) {
    if ((await s.deps.store.allSharedEquipment(id)).length > 0)
      throw new Conflict("An account being moved uses a partner's shared PBX; remove it from that PBX first");
  }
}

/**
 * Invites an existing account (by its id, shared out of band by its owner) to move under one of
 * the caller's accounts (Rainbow "invite an existing company"). Each active owner of the account
 * receives a token; one of them accepts.
 */
export async function invite(
  s: Session,
  input: { accountId: string; parentId: string },
): Promise<{ invitations: number }> {
  s.principal();
  const [ms, parent, target] = await Promise.all([
    s.memberships(),
    s.account(input.parentId),
    s.account(input.accountId),
  ]);
  authorize(s.actor, ms, parent, "account.createChild", s.now);
  if (!target) throw new NotFound("Account");
  const p = parent!;
  // The id of an account the caller cannot see was given by its owner: whatever stops the invitation
  // (its kind, currency, depth, owners) is answered like an unknown id, and nobody is mailed (rule 9).
  const visible = allowed(s.actor, ms, target, "account.read", s.now);
  let owners: Awaited<ReturnType<typeof s.deps.store.listOwners>>;
  try {
    const subtree = await s.deps.store.listSubtree(target.id, MAX_TX_ITEMS);
    checkMove(target, p, subtree);
    await checkCurrency(s, target, p);
    owners = await s.deps.store.listOwners(target.id);
    if (owners.length === 0) throw new Conflict("The account has no active owner to accept the invitation");
  } catch (err) {
    if (!visible && err instanceof VisibleError) throw new NotFound("Account");
    throw err;
  }
  const invites = owners.map((o) => Invitation.prepareMove(s, target, p, o.email));
  Limits.assertWithin(s.deps, "invitation", invites.length, s.now);
  await s.transact(
    (e) => [
      ...invites.map((i) => i.op(e)),
      Audit.entry(e, {
        accountId: p.id,
        action: "account.moveInvited",
        actor: s.actor,
        at: s.now,
        subjectId: target.id,
      }).commit(),
      Audit.entry(e, {
        accountId: target.id,
        action: "account.moveInvited",
        actor: s.actor,
        at: s.now,
        subjectId: p.id,
      }).commit(),
      // One invitation per owner, against the inviting (new parent) account's allowance.
      Limits.hitOp(e, s.deps, "invitation", p.id, s.now, invites.length),
    ],
    {
      // Each owner's mail on its own: one refused does not keep the others from being sent.
      after: async () => {
        const refused = (await Promise.allSettled(invites.map((i) => i.mail()))).flatMap((r) =>
          r.status === "rejected" ? [r.reason as unknown] : [],
        );
        if (refused.length > 0) throw new AggregateError(refused, "invitation mails refused");
      },
    },
  );
  // How many owners an account has is not told to a caller who cannot see it.
  return { invitations: visible ? invites.length : 1 };
}

/** Completes an accepted move: the account and its subtree change paths and search entries in one transaction. */
export async function complete(s: Session, inv: InvitationRecord): Promise<Invitation.Accepted> {
  const [ms, target, parent] = await Promise.all([
    s.memberships(),
    s.account(inv.accountId),
    s.account(inv.newParentId ?? ""),
  ]);
  authorize(s.actor, ms, target, "account.acceptMove", s.now);
  if (!parent) throw new Conflict("The inviting account no longer exists");
  const t = target!;
  const entries = await s.deps.store.listSubtree(t.id, MAX_TX_ITEMS);
  checkMove(t, parent, entries);
  await checkCurrency(s, t, parent);
  await checkSharedEquipment(s, [t.id, ...entries.filter((x) => x.kind === "CUSTOMER").map((x) => x.accountId)]);
  const descendants = (await s.accounts(entries.map((d) => d.accountId))).filter((d): d is AccountRecord => !!d);
  const newPath = [...parent.path, parent.id];
  const oldParentId = t.parentId;
  const oldPath = t.path;
  const dropped = oldPath.filter((id) => !newPath.includes(id));
  const added = newPath.filter((id) => !oldPath.includes(id));
  const moved = [t, ...descendants];
  // The kinds of everything on the moved accounts' old paths: opt-ins recorded before grantees were
  // kept were granted to the resellers on the path.
  const kinds = new Map(
    [...(await s.accounts(oldPath)), ...moved].flatMap((a) => (a ? [[a.id, a.kind] as const] : [])),
  );
  const lapsed = (a: AccountRecord, path: readonly string[]): { kept: string[]; dropped: string[] } | undefined => {
    if (!a.partnerAdminOptIn) return undefined;
    return Consent.afterMove(a.partnerAdminGrantees ?? a.path.filter((id) => kinds.get(id) === "RESELLER"), path);
  };
  const rePath = (a: AccountRecord): AccountRecord => {
    const next: AccountRecord = {
      ...a,
      path: a.id === t.id ? newPath : [...newPath, ...a.path.slice(oldPath.length)],
      ...(a.id === t.id ? { parentId: parent.id } : {}),
      version: a.version + 1,
      updatedAt: s.now.toISOString(),
    };
    // Consent never travels (rule 4): a customer consented to the partner admins of the resellers
    // above it then; those no longer above lose it, and the opt-in lapses with the last of them.
    const consent = lapsed(a, next.path);
    if (consent) {
      delete (next as { partnerAdminGrantees?: string[] }).partnerAdminGrantees;
      if (consent.kept.length > 0) next.partnerAdminGrantees = consent.kept;
      else {
        next.partnerAdminOptIn = false;
        delete (next as { partnerAdminOptInUntil?: string }).partnerAdminOptInUntil;
      }
    }
    return next;
  };
  // A move under another distributor changes the billed party (security rule 11): the accounts keep
  // the party they leave, with the instant, for the months before; the party keeps a departure
  // record; their subscriptions move in the billed-party index in this same transaction.
  const fromParty = partyOf(t);
  const toParty = partyOf(rePath(t));
  const partyMoves = fromParty !== toParty;
  const held = (await Promise.all(moved.map((a) => s.deps.store.allSubscriptions(a.id)))).flat();
  const subs = partyMoves ? held : [];
  // Active trials leave the Trials views of the ancestors dropped and enter those of the ancestors added.
  const trials = held.filter((x) => x.kind === "TRIAL" && x.status === "ACTIVE");
  const trialAccount = (x: { accountId: string }) => moved.find((a) => a.id === x.accountId)!;
  const withParty = (a: AccountRecord): AccountRecord => {
    const next = rePath(a);
    return partyMoves
      ? { ...next, formerParties: [...(a.formerParties ?? []), { partyId: fromParty, until: s.now.toISOString() }] }
      : next;
  };
  const optedOut = moved.flatMap((a) =>
    (lapsed(a, rePath(a).path)?.dropped ?? []).map((resellerId) => ({ resellerId, customerId: a.id })),
  );
  const items =
    1 +
    moved.length +
    optedOut.length +
    2 +
    (moved.length + trials.length) * (dropped.length + added.length) +
    3 +
    (partyMoves ? 1 + subs.length : 0);
  if (items > MAX_TX_ITEMS)
    throw new Conflict("This account has too many sub-accounts to move in one step; ask the platform operators");
  const now = s.now.toISOString();
  await s.transact(
    (e) => [
      e.invitation
        .patch({ tokenHash: inv.tokenHash })
        .set({ status: "ACCEPTED", acceptedAt: now })
        .where(Cond.hasStatus("PENDING"))
        .commit(),
      ...moved.map((a) => e.account.put(withParty(a)).where(Cond.unmoved(a)).commit()),
      ...optedOut.map((key) => e.administered.delete(key).commit()),
      e.account.patch({ id: oldParentId }).add({ childCount: -1 }).commit(),
      // The old parent may be left without children or subscriptions (retention).
      dueOp(e, "retention", s.now, oldParentId),
      e.account.patch({ id: parent.id }).add({ childCount: 1 }).where(Cond.atVersion(parent.version)).commit(),
      ...moved.flatMap((a) => dropped.map((ancestorId) => e.subtree.delete({ ancestorId, accountId: a.id }).commit())),
      ...moved.flatMap((a) => {
        const path = rePath(a).path;
        return added.map((ancestorId) =>
          e.subtree
            .put({
              ancestorId,
              accountId: a.id,
              distance: path.length - path.indexOf(ancestorId),
              kind: a.kind,
              nameKey: a.nameKey,
              referenceKey: a.referenceKey,
            })
            .commit(),
        );
      }),
      ...(partyMoves && fromParty !== "-"
        ? [
            e.partyDeparture
              .create({
                partyId: fromParty,
                at: s.now.toISOString(),
                rootId: t.id,
                toPartyId: toParty,
                accountIds: moved.map((a) => a.id),
              })
              .commit(),
          ]
        : []),
      ...subs.map((x) =>
        e.subscription.patch({ accountId: x.accountId, sku: x.sku }).set({ partyId: toParty }).commit(),
      ),
      ...trials.flatMap((x) => [
        ...TrialEntries.removeOps(e, trialAccount(x), x, dropped),
        ...TrialEntries.addOps(e, trialAccount(x), x, added),
      ]),
      Audit.entry(e, {
        accountId: t.id,
        action: "account.moved",
        actor: s.actor,
        at: s.now,
        subjectId: t.id,
        details: { from: t.parentId, to: parent.id },
      }).commit(),
      Audit.entry(e, {
        accountId: oldParentId,
        action: "account.movedOut",
        actor: s.actor,
        at: s.now,
        subjectId: t.id,
      }).commit(),
      Audit.entry(e, {
        accountId: parent.id,
        action: "account.movedIn",
        actor: s.actor,
        at: s.now,
        subjectId: t.id,
      }).commit(),
    ],
    { otherwise: () => new Conflict("The accounts changed meanwhile, or this invitation was used; try again") },
  );
  return { invitation: Invitation.toInfo({ ...inv, status: "ACCEPTED", acceptedAt: now }), account: rePath(t) };
}
