import * as z from "zod";
import { roles } from "../infra/entities/member.js";
import type { ExtensionAssignmentRecord, InvitationRecord, MemberRecord, Page } from "../infra/store.js";
import * as Audit from "./audit.js";
import type { Session } from "./context.js";
import { Conflict, Forbidden, Invalid, NotFound, unlessHidden } from "./errors.js";
import * as Invitation from "./invitation.js";
import * as Limits from "./limits.js";
import * as Licence from "./licence.js";
import * as PartnerAdmin from "./partner-admin.js";
import { paged } from "./paging.js";
import type { PageArgs } from "./paging.js";
import { allowed, authorize, reachOf, setsUpOwner } from "./rights.js";
import type { Reach } from "./rights.js";
import * as V from "./validation.js";
import * as Cond from "../infra/store/conditions.js";

export type Info = MemberRecord;

const inviteInput = z.object({
  accountId: z.string().min(1),
  email: V.email,
  role: z.enum(roles),
  seller: z.boolean().default(false),
  firstName: V.personName.optional(),
  lastName: V.personName.optional(),
});

/** Invites a person onto an account by e-mail (single-use token, 7 days). */
export async function invite(
  s: Session,
  raw: z.input<typeof inviteInput>,
): Promise<{ member: Info; invitation: Invitation.Info }> {
  s.principal();
  const input = V.parse(inviteInput, raw);
  const [ms, account] = await Promise.all([s.memberships(), s.account(input.accountId)]);
  // Ribbon / EXPO.e: after setup, the seller above a customer invites its owner from the account screen,
  // but only while the customer has no active owner; after that its members are its own business.
  const setup =
    account &&
    input.role === "OWNER" &&
    !input.seller &&
    setsUpOwner(reachOf(s.actor, ms, account, s.now), account) &&
    !allowed(s.actor, ms, account, "member.manage", s.now);
  if (setup && account.ownerCount > 0)
    throw new Forbidden("The customer has an owner: its members are managed by its own admins", "NO_OPT_IN");
  const reach = setup
    ? authorize(s.actor, ms, account, "account.read", s.now)
    : authorize(s.actor, ms, account, input.seller ? "member.setSeller" : "member.manage", s.now);
  if (input.seller) authorize(s.actor, ms, account, "member.manage", s.now);
  const a = account!;
  if (input.seller && a.kind === "CUSTOMER") throw Invalid.field("seller", "only partner accounts have sellers");
  const existing = await s.deps.store.getMember(a.id, input.email);
  if (existing?.status === "ACTIVE") throw new Conflict("This person is already a member of the account");
  if (onBehalfOnly(reach)) {
    // A partner admin runs the tenant; it does not make owners, nor a member of itself (the opt-in is revocable).
    if (input.role === "OWNER") throw new Forbidden("Partner admins do not invite owners", "ON_BEHALF_LIMIT");
    // ...nor replace (or downgrade) a pending owner's invitation with one of theirs (rule 7).
    if (existing?.role === "OWNER")
      throw new Forbidden("Partner admins do not replace an owner's invitation", "ON_BEHALF_LIMIT");
    if (s.actor.type === "user" && input.email === s.actor.email)
      throw new Forbidden("Partner admins do not invite themselves", "ON_BEHALF_LIMIT");
  }
  const prepared = Invitation.prepareMember(
    s,
    a,
    {
      email: input.email,
      role: input.role,
      seller: input.seller,
      ...(input.firstName ? { firstName: input.firstName } : {}),
      ...(input.lastName ? { lastName: input.lastName } : {}),
    },
    PartnerAdmin.onBehalfOf(reach),
  );
  await s.transact(
    (e) => [
      // A refusal by the allowance is RateLimited, whatever else failed.
      Limits.hitOp(e, s.deps, "invitation", a.id, s.now),
      ...prepared.ops(e),
      // The seller's setup right ends when an owner joins: checked in the same transaction.
      ...(setup ? [e.account.check({ id: a.id }).where(Cond.noOwnerYet()).commit()] : []),
      ...PartnerAdmin.behalfOps(e, s, reach, a.id, "member.invited", input.email),
    ],
    {
      otherwise: () =>
        setup
          ? new Conflict("The customer's owner joined meanwhile, or this person is already a member")
          : new Conflict("This person is already a member of the account"),
      after: () => prepared.mail(),
    },
  );
  const member = await s.deps.store.getMember(a.id, input.email);
  return { member: member!, invitation: prepared.record };
}

/** Members of an account (active and invited), by e-mail. */
export async function list(s: Session, accountId: string, args: PageArgs): Promise<Page<Info>> {
  await s.authorized(accountId, "account.read");
  return paged(args, (limit, cursor) => s.deps.store.listMembers(accountId, limit, cursor));
}

/** Invitations of an account, oldest first; visible to those who manage its members. */
export async function invitations(s: Session, accountId: string, args: PageArgs): Promise<Page<Invitation.Info>> {
  await s.authorized(accountId, "member.manage");
  const page = await paged(args, (limit, cursor) => s.deps.store.listInvitations(accountId, limit, cursor));
  const infos = await withStatusNow(
    s,
    accountId,
    page.items.map((i) => i.node),
  );
  return { hasNextPage: page.hasNextPage, items: page.items.map((i, k) => ({ node: infos[k]!, cursor: i.cursor })) };
}

/**
 * Invitations as they stand now: a pending member invitation is live while its member record still
 * waits on it; a newer invitation of the same person replaces it, removing the invited member
 * withdraws it (its token is refused): REVOKED.
 */
async function withStatusNow(
  s: Session,
  accountId: string,
  records: readonly InvitationRecord[],
): Promise<Invitation.Info[]> {
  const open = (r: InvitationRecord) => r.status === "PENDING" && r.kind === "MEMBER";
  const waiting = await Promise.all(
    records.map((r) => (open(r) ? s.deps.store.getMember(accountId, r.email) : undefined)),
  );
  return records.map((r, k) => {
    const info = Invitation.toInfo(r);
    const live = waiting[k]?.status === "INVITED" && waiting[k]?.invitationId === r.id;
    return open(r) && !live ? { ...info, status: "REVOKED" as const } : info;
  });
}

const memberRef = z.object({ accountId: z.string().min(1), email: V.email });

async function loadForChange(s: Session, raw: z.input<typeof memberRef>, action: "member.manage" | "member.setSeller") {
  s.principal();
  const ref = V.parse(memberRef, raw);
  const [ms, account] = await Promise.all([s.memberships(), s.account(ref.accountId)]);
  const reach = authorize(s.actor, ms, account, action, s.now);
  const member = await s.deps.store.getMember(ref.accountId, ref.email);
  if (!member) throw new NotFound("Member");
  const person = member.status === "ACTIVE" ? await s.person(ref.email) : undefined;
  return { account: account!, member, person, reach };
}

/** Extension associations of a member on its account (a handful). */
async function memberExtensions(s: Session, accountId: string, email: string) {
  const out: ExtensionAssignmentRecord[] = [];
  let cursor: string | null = null;
  for (;;) {
    const page: Page<ExtensionAssignmentRecord> = await s.deps.store.listCustomerAssignments(accountId, {
      limit: 100,
      cursor,
    });
    out.push(...page.items.map((i) => i.node).filter((a) => a.email === email));
    if (!page.hasNextPage) return out;
    cursor = page.items.at(-1)!.cursor;
  }
}

/** Licences released with a removed member in one transaction. */
const MAX_RELEASED = 45;

/**
 * Acting with the rights of a partner admin on behalf: the opt-in reaches the account and the
 * caller is neither one of its owners nor an operator (a seat of its own below OWNER changes nothing).
 */
const onBehalfOnly = (reach: Reach) =>
  !!reach.onBehalf && reach.own?.role !== "OWNER" && reach.above?.via !== "operator" && reach.above?.via !== "system";

const lastOwner = () => new Conflict("An account keeps at least one owner");

/**
 * Removes a member (or withdraws an invitation) and gives the member's licences back to their
 * subscriptions. The last active owner cannot be removed.
 */
export async function remove(s: Session, raw: z.input<typeof memberRef>): Promise<Info> {
  const { account, member, person, reach } = await loadForChange(s, raw, "member.manage");
  if (onBehalfOnly(reach) && member.role === "OWNER")
    throw new Forbidden("Partner admins do not remove owners", "ON_BEHALF_LIMIT");
  const activeOwner = member.status === "ACTIVE" && member.role === "OWNER";
  const licences = await s.deps.store.licencesOfMember(account.id, member.email);
  // The member's extensions are freed with it (one member per extension).
  const extensions = await memberExtensions(s, account.id, member.email);
  // Each licence given back is two writes of the one transaction, each extension one (at most 100 items).
  if (licences.length * 2 + extensions.length > MAX_RELEASED * 2) {
    throw new Conflict(
      `The member holds ${licences.length} licences and ${extensions.length} extensions; unassign some first`,
    );
  }
  await s.transact(
    (e) => [
      // The licence count is part of the condition: a licence assigned meanwhile is never left behind.
      e.member
        .delete({ accountId: account.id, email: member.email })
        .where(Cond.holdsLicences(member.status, licences.length, member.role))
        .commit(),
      ...Licence.releaseOps(e, licences),
      ...extensions.map((x) =>
        e.extensionAssignment
          .delete({ accountId: x.accountId, equipmentId: x.equipmentId, extension: x.extension })
          .where(Cond.ofMember(member.email))
          .commit(),
      ),
      ...(activeOwner
        ? [e.account.patch({ id: account.id }).add({ ownerCount: -1 }).where(Cond.notLastOwner()).commit()]
        : []),
      ...(member.status === "ACTIVE"
        ? [
            Invitation.personOp(e, s, member.email, person, (ms) => {
              delete ms[account.id];
            }),
          ]
        : []),
      Audit.entry(e, {
        accountId: account.id,
        action: "member.removed",
        actor: s.actor,
        at: s.now,
        subjectId: member.email,
        ...PartnerAdmin.onBehalfOf(reach),
      }).commit(),
      ...PartnerAdmin.behalfOps(e, s, reach, account.id, "member.removed", member.email),
    ],
    { otherwise: () => (activeOwner ? lastOwner() : memberChanged()) },
  );
  return member;
}

const memberChanged = () => new Conflict("The member changed meanwhile; try again");

const roleInput = memberRef.extend({ role: z.enum(roles) });

/** Changes a member's role; demoting the last active owner is refused, also under races. */
export async function setRole(s: Session, raw: z.input<typeof roleInput>): Promise<Info> {
  const input = V.parse(roleInput, raw);
  const { account, member, person, reach } = await loadForChange(s, input, "member.manage");
  if (member.role === input.role) return member;
  if (onBehalfOnly(reach) && (member.role === "OWNER" || input.role === "OWNER"))
    throw new Forbidden("Partner admins do not make or unmake owners", "ON_BEHALF_LIMIT");
  const active = member.status === "ACTIVE";
  const ownerDelta = !active ? 0 : input.role === "OWNER" ? 1 : member.role === "OWNER" ? -1 : 0;
  const next: Info = { ...member, role: input.role };
  await s.transact(
    (e) => [
      e.member
        .patch({ accountId: account.id, email: member.email })
        .set({ role: input.role })
        .where(Cond.roleAndStatus(member.role, member.status))
        .commit(),
      ...(ownerDelta < 0
        ? [e.account.patch({ id: account.id }).add({ ownerCount: -1 }).where(Cond.notLastOwner()).commit()]
        : []),
      ...(ownerDelta > 0 ? [e.account.patch({ id: account.id }).add({ ownerCount: 1 }).commit()] : []),
      ...(active
        ? [
            Invitation.personOp(e, s, member.email, person, (ms) => {
              ms[account.id] = { role: input.role, seller: member.seller, partnerAdmin: member.partnerAdmin };
            }),
          ]
        : []),
      Audit.entry(e, {
        accountId: account.id,
        action: "member.roleChanged",
        actor: s.actor,
        at: s.now,
        subjectId: member.email,
        details: { from: member.role, to: input.role },
        ...PartnerAdmin.onBehalfOf(reach),
      }).commit(),
      ...PartnerAdmin.behalfOps(e, s, reach, account.id, "member.roleChanged", member.email),
    ],
    { otherwise: () => (ownerDelta < 0 ? lastOwner() : memberChanged()) },
  );
  return next;
}

const sellerInput = memberRef.extend({ seller: z.boolean() });

/** Grants or removes the SELLER reach flag (partner accounts only; by owners). */
export async function setSeller(s: Session, raw: z.input<typeof sellerInput>): Promise<Info> {
  const input = V.parse(sellerInput, raw);
  const { account, member, person } = await loadForChange(s, input, "member.setSeller");
  if (member.seller === input.seller) return member;
  await s.transact(
    (e) => [
      e.member
        .patch({ accountId: account.id, email: member.email })
        .set({ seller: input.seller })
        .where(Cond.hasStatus(member.status))
        .commit(),
      ...(member.status === "ACTIVE"
        ? [
            Invitation.personOp(e, s, member.email, person, (ms) => {
              ms[account.id] = { role: member.role, seller: input.seller, partnerAdmin: member.partnerAdmin };
            }),
          ]
        : []),
      Audit.entry(e, {
        accountId: account.id,
        action: input.seller ? "member.sellerGranted" : "member.sellerRemoved",
        actor: s.actor,
        at: s.now,
        subjectId: member.email,
      }).commit(),
    ],
    { otherwise: memberChanged },
  );
  return { ...member, seller: input.seller };
}

/** One member, for those who may read the account (node lookups); undefined otherwise. */
export function find(s: Session, accountId: string, email: string): Promise<Info | undefined> {
  return unlessHidden(async () => {
    await s.authorized(accountId, "account.read");
    return s.deps.store.getMember(accountId, email);
  });
}

/** One invitation sent from an account, for those who manage its members (node lookups); undefined otherwise. */
export function findInvitation(
  s: Session,
  accountId: string,
  createdAt: string,
  id: string,
): Promise<Invitation.Info | undefined> {
  return unlessHidden(async () => {
    await s.authorized(accountId, "member.manage");
    const record = await s.deps.store.getAccountInvitation(accountId, createdAt, id);
    return record && (await withStatusNow(s, accountId, [record]))[0];
  });
}
