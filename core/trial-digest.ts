import * as z from "zod";
import type { AccountRecord, MemberRecord, TrialEntryRecord } from "../infra/store.js";
import * as Audit from "./audit.js";
import type { Session } from "./context.js";
import { dayOf, dueOp } from "./due.js";
import { Conflict, Forbidden } from "./errors.js";
import * as Subscription from "./subscription.js";
import * as V from "./validation.js";
import { DAY_MS } from "./time.js";
import * as Cond from "../infra/store/conditions.js";

/** The weekly mail of the trials ending soon, for the partner owners who sold them (Ribbon's Trials tab, by mail). */

// ---------------------------------------------------------------- the weekly digest

/** The digest lists the trials ending within this many days. */
export const DIGEST_DAYS = 7;
/** At most this many trials are listed in one mail (the rest is counted). */
const DIGEST_MAX = 200;

/** The next weekly digest after `now`: Mondays at 07:00 UTC. */
export function nextDigestAt(now: Date): Date {
  const at = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate(), 7));
  at.setUTCDate(at.getUTCDate() + ((8 - at.getUTCDay()) % 7));
  if (at <= now) at.setUTCDate(at.getUTCDate() + 7);
  return at;
}

const digestInput = z.object({ accountId: z.string().min(1), enabled: z.boolean() });

/** Who may receive an account's digest: its active OWNERs with the seller flag (the partner owners who sold the trials). */
const receives = (m: MemberRecord) => m.status === "ACTIVE" && m.role === "OWNER" && m.seller;

/**
 * A partner's selling owner opts in (or out) of the weekly mail of the trials ending within 7 days
 * in the partner's reach. A setting of the caller's own membership: others cannot set it for them.
 */
export async function setDigest(s: Session, raw: z.input<typeof digestInput>): Promise<MemberRecord> {
  s.principal();
  const input = V.parse(digestInput, raw);
  const { account, memberships: ms } = await s.authorized(input.accountId, "account.read");
  const a = account!;
  // A mail to a person: an API client has no mailbox.
  if (s.actor.type !== "user") throw new Forbidden("The trial digest is mailed to people, not to API clients", "ROLE");
  const member = ms[a.id] ? await s.deps.store.getMember(a.id, (await s.boundUser()).email) : undefined;
  // Seen from above (a seller, an operator), or as a partner admin: the setting is the account's own people's.
  if (member?.status !== "ACTIVE")
    throw new Forbidden("Only the account's own owners receive its trial digest", "ROLE");
  if (a.kind !== "DISTRIBUTOR" && a.kind !== "RESELLER")
    throw new Forbidden("The trial digest is sent to partners (distributors and resellers)", "NOT_APPLICABLE");
  if (member.role !== "OWNER") throw new Forbidden("The trial digest is sent to the partner's owners", "ROLE");
  if (!member.seller)
    throw new Forbidden(
      "The trial digest lists the trials of the accounts below: it needs the SELLER flag",
      "NOT_SELLER",
    );
  if ((member.trialDigest ?? false) === input.enabled) return member;
  await s.transact(
    (e) => [
      e.member
        .patch({ accountId: a.id, email: member.email })
        .set({ trialDigest: input.enabled })
        .where(Cond.activeSellingOwner())
        .commit(),
      // The account's weekly marker (one per account and week, whoever opts in): the run chains the next.
      ...(input.enabled ? [dueOp(e, "trial-digest", nextDigestAt(s.now), a.id)] : []),
      Audit.entry(e, {
        accountId: a.id,
        action: input.enabled ? "member.trialDigestOn" : "member.trialDigestOff",
        actor: s.actor,
        at: s.now,
        subjectId: member.email,
      }).commit(),
    ],
    { otherwise: () => new Conflict("Your membership changed meanwhile; reload and try again") },
  );
  return { ...member, trialDigest: input.enabled };
}

/**
 * The weekly digest of one partner (a lifecycle unit of work): mails each opted-in selling owner the
 * trials of its reach ending within 7 days, once per owner and week, then marks next week's run.
 * Nobody opted in any more: no mail and no next marker (opting in again writes one).
 */
export async function sendDigest(s: Session, accountId: string, day: string): Promise<void> {
  const account = await s.deps.store.getAccount(accountId);
  if (!account) return;
  const recipients = (await s.deps.store.allMembers(accountId)).filter((m) => receives(m) && m.trialDigest === true);
  if (recipients.length === 0) return;
  const endsBy = new Date(s.now.getTime() + DIGEST_DAYS * DAY_MS).toISOString();
  const page = await s.deps.store.listTrials(accountId, { limit: DIGEST_MAX, endsBy });
  const entries = page.items.map((i) => i.node);
  if (entries.length > 0) {
    const text = await digestText(s, account, entries, page.hasNextPage);
    const subject = `Trials ending within ${DIGEST_DAYS} days: ${entries.length}${page.hasNextPage ? "+" : ""}`;
    for (const m of recipients) {
      if (await s.deps.store.markSent(`trial-digest:${accountId}:${m.email}:${day}`, s.now.toISOString()))
        await s.deps.mailer.send({ to: m.email, subject, text });
    }
  }
  await s.transact((e) => [dueOp(e, "trial-digest", nextDigestAt(s.now), accountId)]);
}

async function digestText(
  s: Session,
  account: AccountRecord,
  entries: readonly TrialEntryRecord[],
  more: boolean,
): Promise<string> {
  const [accounts, offers] = await Promise.all([
    s.accounts([...new Set(entries.map((x) => x.accountId))]),
    s.offers([...new Set(entries.map((x) => x.sku))]),
  ]);
  const name = new Map(accounts.flatMap((x) => (x ? [[x.id, x.name] as const] : [])));
  const offerName = new Map(offers.flatMap((x) => (x ? [[x.sku, x.name] as const] : [])));
  const subs = await Promise.all(entries.map((x) => s.subscription(x.accountId, x.sku)));
  const lines = entries.map((x, i) => {
    const days = Subscription.daysRemaining(x.endsAt, s.now) ?? 0;
    const quantity = subs[i]?.quantity ?? 0;
    return `- ${name.get(x.accountId) ?? x.accountId}: ${offerName.get(x.sku) ?? x.sku} (${x.sku}) × ${quantity}, ends ${x.endsAt.slice(0, 10)} (${days === 0 ? "today" : `in ${days} day${days === 1 ? "" : "s"}`})`;
  });
  return [
    `Trials in the reach of ${account.name} ending by ${dayOf(new Date(s.now.getTime() + DIGEST_DAYS * DAY_MS))}:`,
    "",
    ...lines,
    ...(more ? ["", `…and more: see the Trials view (trials) of ${account.name}.`] : []),
    "",
    "Convert a trial to its paid offer with convertTrial, or let it end. You receive this mail because you opted in (setTrialDigest).",
  ].join("\n");
}
