import * as z from "zod";
import type { LicenceRecord, MemberRecord, Page, SubscriptionRecord, TxEntities } from "../infra/store.js";
import { actorLabel } from "./actor.js";
import * as Audit from "./audit.js";
import * as Catalog from "./catalog.js";
import * as PartnerAdmin from "./partner-admin.js";
import * as Subscription from "./subscription.js";
import type { Session } from "./context.js";
import { guard } from "./tx.js";
import { Conflict, Invalid, NotFound, unlessHidden } from "./errors.js";
import { paged } from "./paging.js";
import type { PageArgs } from "./paging.js";
import { authorize } from "./rights.js";
import * as V from "./validation.js";
import * as Cond from "../infra/store/conditions.js";

export type Info = LicenceRecord;

const input = z.object({ accountId: z.string().min(1), sku: Catalog.sku, email: V.email });
export type Input = z.input<typeof input>;

/**
 * Attempts when another assignment on the same subscription is in flight (DynamoDB cancels
 * one of two transactions touching an item at once): those are retried, full ones are not.
 */
const ATTEMPTS = 12;

async function load(s: Session, raw: Input) {
  s.principal();
  const ref = V.parse(input, raw);
  const { ms, account, sub } = await Subscription.visible(s, ref.accountId, ref.sku);
  const reach = authorize(s.actor, ms, account, "licence.assign", s.now);
  const member = await s.deps.store.getMember(ref.accountId, ref.email);
  if (!member) throw new NotFound("Member");
  return { ref, sub, member, reach };
}

/**
 * Gives a member a licence of a subscription. `assigned <= quantity` is the condition of the
 * write, so concurrent assignments never overshoot; a member holds one licence per offer family.
 */
export async function assign(s: Session, raw: Input): Promise<Info> {
  const { ref, sub, member, reach } = await load(s, raw);
  if (sub.status !== "ACTIVE") throw new Conflict(`The subscription is ${sub.status.toLowerCase()}`);
  // Licences go to people who joined: an invitation may still be declined or re-sent.
  if (member.status !== "ACTIVE") throw Invalid.field("email", "the member has not accepted the invitation yet");
  const held = await s.deps.store.getLicence(ref.accountId, ref.email, sub.family);
  if (held)
    throw new Conflict(
      held.sku === sub.sku
        ? "The member already holds a licence of this subscription"
        : `The member already holds a ${held.sku} licence of the same family`,
    );
  const licence: LicenceRecord = {
    accountId: ref.accountId,
    email: member.email,
    family: sub.family,
    sku: sub.sku,
    assignedAt: s.now.toISOString(),
    assignedBy: actorLabel(s.actor),
  };
  // The subscription's counter is contended by every assignment: lost races are read again.
  return s.optimistic({ attempts: ATTEMPTS, gaveUp: busy, baseMs: 15 }, async () => {
    await s
      .transact(
        (e) => [
          guard(
            e.licence.create(licence).commit(),
            () => new Conflict("The member already holds a licence of this family"),
          ),
          guard(
            e.subscription
              .patch({ accountId: sub.accountId, sku: sub.sku })
              .add({ assigned: 1 })
              .where(Cond.hasFreeLicence())
              .commit(),
            () => new SubscriptionFull(),
          ),
          guard(memberCount(e, member, 1), () => new NotFound("Member")),
          Audit.entry(e, {
            accountId: ref.accountId,
            action: "licence.assigned",
            actor: s.actor,
            at: s.now,
            subjectId: member.email,
            details: { sku: sub.sku },
            ...PartnerAdmin.onBehalfOf(reach),
          }).commit(),
          ...PartnerAdmin.behalfOps(e, s, reach, ref.accountId, "licence.assigned", member.email),
        ],
        { otherwise: "retry" },
      )
      .catch(async (err: unknown) => {
        if (!(err instanceof SubscriptionFull)) throw err;
        // Full, or no longer active: say which, from what is there now.
        const now = await s.subscription(sub.accountId, sub.sku);
        if (now?.status !== "ACTIVE") throw new Conflict("The subscription is no longer active");
        throw noneLeft(now);
      });
    return licence;
  });
}

/** The subscription's condition refused the assignment (full or inactive): told apart by reading it. */
class SubscriptionFull extends Error {}

const busy = () => new Conflict("The subscription is busy; try again");

const noneLeft = (sub: Pick<SubscriptionRecord, "quantity">) =>
  new Conflict(`All ${sub.quantity} licences of this subscription are assigned; increase the quantity or unassign one`);

function memberCount(e: TxEntities, member: MemberRecord, delta: 1 | -1) {
  return e.member
    .patch({ accountId: member.accountId, email: member.email })
    .add({ licenceCount: delta })
    .where(Cond.hasStatus("ACTIVE"))
    .commit();
}

/** Takes a member's licence of a subscription back. */
export async function unassign(s: Session, raw: Input): Promise<Info> {
  const { ref, sub, member, reach } = await load(s, raw);
  const held = await s.deps.store.getLicence(ref.accountId, ref.email, sub.family);
  if (!held || held.sku !== sub.sku) throw Invalid.field("email", "the member holds no licence of this subscription");
  return s.optimistic({ attempts: ATTEMPTS, gaveUp: busy, baseMs: 15 }, async () => {
    await s.transact(
      (e) => [
        ...releaseOps(e, [held]).map((op, i) =>
          i === 0 ? guard(op, () => Invalid.field("email", "the member holds no licence of this subscription")) : op,
        ),
        memberCount(e, member, -1),
        Audit.entry(e, {
          accountId: ref.accountId,
          action: "licence.unassigned",
          actor: s.actor,
          at: s.now,
          subjectId: member.email,
          details: { sku: sub.sku },
          ...PartnerAdmin.onBehalfOf(reach),
        }).commit(),
        ...PartnerAdmin.behalfOps(e, s, reach, ref.accountId, "licence.unassigned", member.email),
      ],
      { otherwise: "retry" },
    );
    return held;
  });
}

/** Deletes licences and gives them back to their subscriptions (unassign, member removal). */
export function releaseOps(e: TxEntities, licences: readonly LicenceRecord[]) {
  return licences.flatMap((l) => [
    e.licence.delete({ accountId: l.accountId, email: l.email, family: l.family }).where(Cond.ofSku(l.sku)).commit(),
    e.subscription.patch({ accountId: l.accountId, sku: l.sku }).add({ assigned: -1 }).commit(),
  ]);
}

/** Holders of a subscription's licences, by e-mail. */
export async function list(s: Session, accountId: string, sku: string, args: PageArgs): Promise<Page<Info>> {
  await s.authorized(accountId, "account.read");
  return paged(args, (limit, cursor) => s.deps.store.listLicences(accountId, sku, limit, cursor));
}

/** One licence (a member's in one family), for those who may read the account (node lookups); undefined otherwise. */
export function find(s: Session, accountId: string, family: string, email: string): Promise<Info | undefined> {
  return unlessHidden(async () => {
    await s.authorized(accountId, "account.read");
    return s.deps.store.getLicence(accountId, email, family);
  });
}
