import type { AccountRecord, DueRecord, LicenceRecord, SubscriptionRecord } from "../infra/store.js";
import * as Audit from "./audit.js";
import type { Session } from "./context.js";
import * as Invitation from "./invitation.js";
import { REMINDER_DAYS, SCHEDULED_THROUGH, dayOf, dueOp, nextTrialStep } from "./due.js";
import { PLATFORM_ID } from "./rights.js";
import * as Billing from "./billing.js";
import { partyOf } from "./party.js";
import * as Renewal from "./renewal.js";
import * as Subscription from "./subscription.js";
import * as TrialEntries from "./trial-entries.js";
import * as Trials from "./trials.js";
import * as TicketRetention from "./ticket-retention.js";
import * as NumberPool from "./number-pool.js";

export type { Due } from "./due.js";
export { dueKinds } from "./due.js";
import type { Due } from "./due.js";
import { DAY_MS } from "./time.js";
import * as Cond from "../infra/store/conditions.js";

/** Ribbon: an account without an active subscription is deleted 14 days later. */
export const RETENTION_DAYS = 14;

/**
 * Everything due up to now since the last run, whatever the gap (security rule 18: a trial whose
 * end passed during an outage of any length expires at the next run): every day partition from the
 * watermark to today, one Query each. `commit` moves the watermark to today once the items are queued
 * (today is read again by the next run: its later items were not due yet).
 */
export async function dueSinceLastRun(s: Session): Promise<{ items: DueRecord[]; commit: () => Promise<void> }> {
  const now = s.now;
  const today = Math.floor(now.getTime() / DAY_MS);
  const stored = await s.deps.store.counterValue(SCHEDULED_THROUGH);
  // A deployment's first run starts from the platform's first day: nothing was due before it, and
  // everything since is (no look-back window). Every later run starts where the last one stopped.
  const platform = stored > 0 ? undefined : await s.deps.store.getAccount(PLATFORM_ID);
  const from =
    stored > 0
      ? Math.min(stored, today)
      : Math.min(today, Math.floor(Date.parse(platform?.createdAt ?? now.toISOString()) / DAY_MS));
  const days = Array.from({ length: today - from + 1 }, (_v, i) => dayOf(new Date((from + i) * DAY_MS)));
  const items: DueRecord[] = [];
  for (let i = 0; i < days.length; i += 8) {
    const lists = await Promise.all(days.slice(i, i + 8).map((d) => s.deps.store.listDue(d)));
    items.push(...lists.flat().filter((d) => new Date(d.at) <= now));
  }
  const commit = async () => {
    if (stored >= today) return;
    // A concurrent run may have moved it as far or further: then nothing is written.
    await s.transact(
      (e) => [
        stored > 0
          ? e.counter.patch({ name: SCHEDULED_THROUGH }).set({ value: today }).where(Cond.counterBelow(today)).commit()
          : e.counter.create({ name: SCHEDULED_THROUGH, value: today }).commit(),
      ],
      { otherwise: "skip" },
    );
  };
  return { items, commit };
}

/** One lifecycle unit of work. Each re-reads its subject and does nothing when it no longer applies. */
export async function handle(s: Session, m: Due): Promise<void> {
  switch (m.what) {
    case "term-end":
      return termEnd(s, m.accountId, m.sku);
    case "trial-reminder":
      return remind(s, m.accountId, m.sku);
    case "retention":
      return retention(s, m.accountId);
    case "trial-digest":
      return Trials.sendDigest(s, m.accountId, m.day);
  }
}

async function owners(s: Session, accountId: string): Promise<string[]> {
  return (await s.deps.store.listOwners(accountId)).map((m) => m.email);
}

/** A trial ends (EXPIRED, licences released) or a prepaid term renews for 12 months. */
async function termEnd(s: Session, accountId: string, sku: string): Promise<void> {
  const sub = await s.deps.store.getSubscription(accountId, sku);
  if (sub?.status !== "ACTIVE" || !sub.endsAt || new Date(sub.endsAt) > s.now) return;
  if (sub.kind === "TRIAL") return expire(s, sub);
  if (sub.kind === "PREPAID") return Renewal.renew(s, sub);
}

async function expire(s: Session, sub: SubscriptionRecord): Promise<void> {
  // Licences first, a few per transaction (each is three writes); the expiry itself last. The
  // holders come from an index that may lag: each delete is conditioned on the licence still
  // being there, so a stale read fails (and the message is retried) instead of counting twice.
  const holders = async (): Promise<LicenceRecord[]> =>
    (await s.deps.store.listLicences(sub.accountId, sub.sku, 30, null)).items.map((i) => i.node);
  for (let licences = await holders(); licences.length > 0; licences = await holders()) {
    await s.transact(
      (e) => [
        ...licences.flatMap((l) => [
          e.licence
            .delete({ accountId: l.accountId, email: l.email, family: l.family })
            .where(Cond.ofSku(l.sku))
            .commit(),
          e.member.patch({ accountId: l.accountId, email: l.email }).add({ licenceCount: -1 }).commit(),
        ]),
        e.subscription.patch({ accountId: sub.accountId, sku: sub.sku }).add({ assigned: -licences.length }).commit(),
      ],
      { otherwise: () => new Error("licences changed during expiry; retry") },
    );
  }
  const version = sub.version + 1;
  const account = await s.deps.store.getAccount(sub.accountId);
  // Changed meanwhile (an order, a cancellation, a licence assigned): the redelivered message re-reads it.
  await s.transact(
    (e) => [
      // The ended trial leaves the Trials views (the account's path is current: a move rewrites them).
      ...(account ? TrialEntries.removeOps(e, account, sub) : []),
      e.subscription
        .patch({ accountId: sub.accountId, sku: sub.sku })
        .set({ status: "EXPIRED", quantity: 0, version, updatedAt: s.now.toISOString() })
        // No licence assigned meanwhile: `assigned <= quantity` holds after the expiry too.
        .where(Cond.activeAt(sub.version, 0))
        .commit(),
      Subscription.changeOp(e, {
        sub,
        version,
        kind: "EXPIRED",
        from: sub.quantity,
        to: 0,
        at: s.now,
        actor: s.actor,
        reason: "trial ended",
      }),
      dueOp(e, "retention", s.now, sub.accountId),
    ],
    { otherwise: () => new Error("subscription changed during expiry; retry") },
  );
}

/** Mails the account's owners that a trial ends soon (once per reminder), then marks the next step. */
async function remind(s: Session, accountId: string, sku: string): Promise<void> {
  const sub = await s.deps.store.getSubscription(accountId, sku);
  if (sub?.kind !== "TRIAL" || sub.status !== "ACTIVE" || !sub.endsAt) return;
  const end = new Date(sub.endsAt);
  const days = Subscription.daysRemaining(sub.endsAt, s.now) ?? 0;
  const reminder = [...REMINDER_DAYS].reverse().find((d) => days <= d);
  if (
    reminder !== undefined &&
    days > 0 &&
    (await s.deps.store.markSent(`trial-reminder:${accountId}:${sku}:${sub.endsAt}:${reminder}`, s.now.toISOString()))
  ) {
    const account = await s.deps.store.getAccount(accountId);
    for (const to of await owners(s, accountId)) {
      await s.deps.mailer.send({
        to,
        subject: `Your ${sku} trial ends in ${days} day${days === 1 ? "" : "s"}`,
        text: `The trial ${sku} of ${account?.name ?? "your account"} ends on ${sub.endsAt.slice(0, 10)} (${sub.quantity} licences). Order the paid offer to keep them.`,
      });
    }
  }
  // The end passed already (the runs stopped for a while): the trial ends in this run, not the next (rule 18).
  if (end <= s.now) return termEnd(s, accountId, sku);
  await s.transact((e) => [nextTrialStep(e, accountId, sku, end, s.now)]);
}

/**
 * Retention (Ribbon): an account with no active subscription shows `pendingDeletionAt` = +14 days,
 * cleared when a subscription is active again, and is deleted with everything it owns once that
 * passes. Never the platform, never a partner while it has children: such a partner is not flagged,
 * and the deletion of its last child marks it to be looked at again.
 */
async function retention(s: Session, accountId: string): Promise<void> {
  const account = await s.deps.store.getAccount(accountId);
  // Gone: a deletion that stopped after the account item went is finished (a no-op once done).
  if (!account) return purge(s, accountId);
  if (account.id === PLATFORM_ID) return;
  const subs = await s.deps.store.allSubscriptions(accountId);
  const active = subs.some((x) => x.status === "ACTIVE");
  if (active || account.childCount > 0) {
    if (account.pendingDeletionAt) await s.deps.store.setPendingDeletion(accountId, null);
    return;
  }
  // Exactly 14 days after the last subscription ended (a trial ends at its end, whenever the run
  // expired it), or after creation for an account that never had one (security rule 18).
  // A partner that never held a subscription (its last child went): 14 days from when the run first finds it empty.
  const due =
    subs.length === 0
      ? (account.pendingDeletionAt ?? new Date(s.now.getTime() + RETENTION_DAYS * DAY_MS).toISOString())
      : new Date(Math.max(...subs.map((x) => endedAt(x).getTime())) + RETENTION_DAYS * DAY_MS).toISOString();
  let current = account;
  if (account.pendingDeletionAt !== due) {
    await s.transact((e) => [
      // Not ordered for since the subscriptions were read (an order meanwhile: the message is retried).
      e.account
        .patch({ id: accountId })
        .set({ pendingDeletionAt: due })
        .where(Cond.noOrderSince(account.orderCount))
        .commit(),
      dueOp(e, "retention", new Date(Math.max(new Date(due).getTime(), s.now.getTime())), accountId),
    ]);
    current = { ...account, pendingDeletionAt: due };
  }
  if (new Date(due) > s.now) return;
  // Usage recorded for a month not invoiced yet waits for that invoice (security rule 12).
  const waitUntil = await unbilledUsageUntil(s, current, subs);
  if (waitUntil) {
    await s.transact((e) => [dueOp(e, "retention", waitUntil, accountId)]);
    return;
  }
  await remove(s, current);
}

/** When a subscription stopped being active: a trial at its end, anything else at its last change. */
function endedAt(sub: SubscriptionRecord): Date {
  return sub.kind === "TRIAL" && sub.status === "EXPIRED" && sub.endsAt
    ? new Date(sub.endsAt)
    : new Date(sub.updatedAt);
}

/**
 * An account's charges must reach an invoice before it is deleted (security rule 12): while a month
 * its billed party has not invoiced yet holds a charge of the account (a month-end quantity, usage, a
 * prepaid order), the deletion waits; answers the instant to look again (tomorrow), or none.
 */
async function unbilledUsageUntil(
  s: Session,
  account: AccountRecord,
  subs: readonly SubscriptionRecord[],
): Promise<Date | undefined> {
  const party = partyOf(account);
  const partyAccount = party !== "-" ? await s.deps.store.getAccount(party) : undefined;
  if (!partyAccount) return undefined;
  const through = (await s.deps.store.billingStates([party])).get(party)?.billedThrough;
  const tomorrow = new Date(s.now.getTime() + DAY_MS);
  const open = Billing.periodOf(s.now);
  let month = through ? Billing.nextPeriod(through) : Billing.firstPeriod(partyAccount);
  for (let i = 0; month <= open && i < 36; i++, month = Billing.nextPeriod(month)) {
    const { start, end } = Billing.parsePeriod(month);
    for (const sub of subs) {
      if (sub.kind === "MONTHLY" && end <= s.now && (await Billing.quantityAt(s, sub, end)) > 0) return tomorrow;
      if (sub.kind === "USAGE" && (await s.deps.store.usageTotal(account.id, sub.sku, month)) > 0) return tomorrow;
    }
    if (
      subs.some((x) => x.kind === "PREPAID") &&
      (await s.deps.store.ordersBetween(account.id, start, end)).some((o) => o.lines.some((l) => l.kind === "PREPAID"))
    )
      return tomorrow;
  }
  return undefined;
}

/** How long after its creation an account's first order may be placed (same request: milliseconds). */
const CREATION_WINDOW_MS = 60_000;

/**
 * Deletes an account and every item it owns. The account item goes first, in one transaction
 * conditioned on what the decision read (still pending deletion at that instant, still no child):
 * an order placed meanwhile clears `pendingDeletionAt` in its own transaction, so either it
 * commits first and the deletion is called off, or it finds the account gone and fails. Nothing
 * can be added to a deleted account; what it owned is then purged, again by any later delivery.
 */
async function remove(s: Session, account: AccountRecord): Promise<void> {
  const store = s.deps.store;
  // The parent's idempotency key of the creation with a first order points at this account.
  const created = new Date(account.createdAt);
  const firstOrders = await store.ordersBetween(account.id, created, new Date(created.getTime() + CREATION_WINDOW_MS));
  const creationKeys = (
    await Promise.all(firstOrders.map((o) => store.getOrderKey(account.parentId, `new-account:${o.idempotencyKey}`)))
  ).filter((k) => k?.childId === account.id);
  // Ordered again, or given a child, meanwhile: the redelivered message re-reads it.
  await s.transact(
    (e) => [
      e.account
        .delete({ id: account.id })
        .where(Cond.deletable(account.pendingDeletionAt!, account.orderCount))
        .commit(),
      e.account.patch({ id: account.parentId }).add({ childCount: -1 }).commit(),
      ...account.path.map((ancestorId) => e.subtree.delete({ ancestorId, accountId: account.id }).commit()),
      ...creationKeys.map((k) => e.orderKey.delete({ accountId: k!.accountId, key: k!.key }).commit()),
      Audit.entry(e, {
        accountId: account.parentId,
        action: "account.deleted",
        actor: s.actor,
        at: s.now,
        subjectId: account.id,
        details: { name: account.name, reason: "no active subscription for 14 days" },
      }).commit(),
      // The parent may just have lost its last child: the next run looks at it again.
      ...(account.parentId !== PLATFORM_ID ? [dueOp(e, "retention", s.now, account.parentId)] : []),
    ],
    { otherwise: () => new Error("account changed during deletion; retry") },
  );
  await purge(s, account.id);
}

/** Deletes what a deleted account owned: its ledgers, invitations, memberships, then its partition (members, subscriptions, orders, licences, audit, usage, keys). Idempotent. */
async function purge(s: Session, accountId: string): Promise<void> {
  const store = s.deps.store;
  for (const sub of await store.allSubscriptions(accountId))
    await store.deletePartition(store.ledgerPartition(accountId, sub.sku));
  for (const inv of await store.allInvitations(accountId))
    await s.transact((e) => [e.invitation.delete({ tokenHash: inv.tokenHash }).commit()]);
  for (const m of (await store.allMembers(accountId)).filter((x) => x.status === "ACTIVE")) {
    const person = await store.getPerson(m.email);
    if (person?.memberships[accountId])
      await s.transact((e) => [Invitation.personOp(e, s, m.email, person, (ms) => void delete ms[accountId])]);
  }
  // A customer attached to partners' shared PBXs: its members' extensions, e-mails and numbers there,
  // then its tenancy and company prefix go with it (security rule 17).
  for (const shared of await store.allSharedEquipment(accountId)) {
    const owner = { accountId: shared.ownerId, equipmentId: shared.equipmentId };
    const held = await store.tenantAssignments(shared.ownerId, shared.equipmentId, accountId);
    await store.deleteExtensionAssignments(
      shared.ownerId,
      shared.equipmentId,
      held.map((a) => a.extension),
    );
    await s.transact((e) => [
      e.equipmentTenant.delete({ ...owner, customerId: accountId }).commit(),
      e.equipmentPrefix.delete({ ...owner, companyPrefix: shared.companyPrefix }).commit(),
      e.equipment.patch(owner).add({ tenantCount: -1 }).commit(),
      e.sharedEquipment.delete({ customerId: accountId, equipmentId: shared.equipmentId }).commit(),
    ]);
  }
  // Its support tickets stay with the partner they were opened to, anonymised.
  await TicketRetention.anonymiseCustomer(s, accountId);
  // Its numbers go back to the pools they came from, quarantined.
  await NumberPool.returnAll(s, accountId);
  // Last: what is above is found from it, so an interrupted purge can start again.
  await store.deletePartition(store.accountPartition(accountId));
}
