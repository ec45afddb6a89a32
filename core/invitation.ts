import { hashSecret, newId, newSecret } from "../infra/ids.js";
import type { AccountRecord, TxEntities, InvitationRecord, Membership, PersonRecord } from "../infra/store.js";
import * as Audit from "./audit.js";
import type { Session } from "./context.js";
import { Conflict, Forbidden, Invalid, NotFound } from "./errors.js";
import { grantedTo, optedIn } from "./rights.js";
import type { Role } from "./rights.js";
import * as Consent from "./consent.js";
import { guard } from "./tx.js";
import { DAY_MS, DAY_S } from "./time.js";
import * as Cond from "../infra/store/conditions.js";

export type Info = Omit<InvitationRecord, "tokenHash">;

/** Invitations are valid for 7 days (DESIGN 1, "Invitations"). */
export const INVITATION_DAYS = 7;

export interface MemberInvite {
  readonly email: string;
  readonly role: Role;
  readonly seller: boolean;
  readonly firstName?: string;
  readonly lastName?: string;
}

function strip(r: InvitationRecord): Info {
  const { tokenHash: _hidden, ...rest } = r;
  return rest;
}

function baseRecord(s: Session, accountId: string, email: string, tokenHash: string) {
  // Invitations (members, owners of new accounts, moves) are people management: never by an API client.
  if (s.actor.type === "client") throw new Forbidden("API clients do not invite people");
  const created = s.now;
  const validUntil = new Date(created.getTime() + INVITATION_DAYS * DAY_MS);
  return {
    tokenHash,
    id: newId(),
    accountId,
    email,
    status: "PENDING" as const,
    invitedBy: s.user().email,
    createdAt: created.toISOString(),
    validUntil: validUntil.toISOString(),
    // Kept 30 days past validity so a late click gets "expired", not "unknown".
    expiresAt: Math.floor(validUntil.getTime() / 1000) + 30 * DAY_S,
  };
}

/**
 * Prepares a member invitation: the INVITED member, the invitation (token hashed) and the
 * audit entry, to commit in the caller's transaction; the mail goes out after the commit.
 */
export function prepareMember(
  s: Session,
  account: Pick<AccountRecord, "id" | "name">,
  invite: MemberInvite,
  audit: { onBehalfOf?: string } = {},
) {
  const token = newSecret();
  const onBehalf = audit.onBehalfOf?.replace(/^reseller:/, "");
  const record: InvitationRecord = {
    ...baseRecord(s, account.id, invite.email, hashSecret(token)),
    kind: "MEMBER",
    role: invite.role,
    seller: invite.seller,
    ...(onBehalf ? { sentOnBehalfOf: onBehalf } : {}),
  };
  return {
    record: strip(record),
    ops: (e: TxEntities) => [
      // An existing INVITED member is re-invited (role may change); an ACTIVE one is a conflict.
      e.member
        .put({
          accountId: account.id,
          email: invite.email,
          role: invite.role,
          seller: invite.seller,
          partnerAdmin: false,
          status: "INVITED",
          invitedAt: record.createdAt,
          invitationId: record.id,
          ...(invite.firstName ? { firstName: invite.firstName } : {}),
          ...(invite.lastName ? { lastName: invite.lastName } : {}),
        })
        .where(Cond.notJoined())
        .commit(),
      e.invitation.create(record).commit(),
      Audit.entry(e, {
        accountId: account.id,
        action: "member.invited",
        actor: s.actor,
        at: s.now,
        subjectId: invite.email,
        details: { role: invite.role, seller: invite.seller },
        ...audit,
      }).commit(),
    ],
    mail: () =>
      s.deps.mailer.send({
        to: invite.email,
        subject: `You are invited to ${account.name}`,
        text: [
          `You have been invited to join ${account.name} as ${invite.role.toLowerCase()}.`,
          `Accept within ${INVITATION_DAYS} days: ${s.deps.portalUrl}/invitations/accept?token=${token}`,
          `Invitation token: ${token}`,
        ].join("\n\n"),
      }),
  };
}

/** Prepares one account-move invitation addressed to an owner of the account to move. */
export function prepareMove(
  s: Session,
  account: Pick<AccountRecord, "id" | "name">,
  newParent: Pick<AccountRecord, "id" | "name">,
  ownerEmail: string,
) {
  const token = newSecret();
  const record: InvitationRecord = {
    ...baseRecord(s, account.id, ownerEmail, hashSecret(token)),
    kind: "ACCOUNT_MOVE",
    newParentId: newParent.id,
  };
  return {
    record: strip(record),
    op: (e: TxEntities) => e.invitation.create(record).commit(),
    mail: () =>
      s.deps.mailer.send({
        to: ownerEmail,
        subject: `${newParent.name} invites ${account.name} to join it`,
        text: [
          `${newParent.name} invites your company ${account.name} (with its sub-accounts) to move under it.`,
          `Accept within ${INVITATION_DAYS} days: ${s.deps.portalUrl}/invitations/accept?token=${token}`,
          `Invitation token: ${token}`,
        ].join("\n\n"),
      }),
  };
}

/** The person item written with a membership change; conditioned on the version read. */
export function personOp(
  e: TxEntities,
  s: Session,
  email: string,
  person: PersonRecord | undefined,
  change: (ms: Record<string, Membership>) => void,
) {
  const memberships = { ...(person?.memberships ?? {}) };
  change(memberships);
  const now = s.now.toISOString();
  if (!person) {
    return e.person.create({ email, memberships, version: 1, createdAt: now, updatedAt: now }).commit();
  }
  return e.person
    .put({ email, memberships, version: person.version + 1, createdAt: person.createdAt, updatedAt: now })
    .where(Cond.atVersion(person.version))
    .commit();
}

/** Loads a pending invitation by token and checks validity and the e-mail binding. */
export async function open(s: Session, token: string): Promise<InvitationRecord> {
  // Bound to the token's identity (security rule 1): a re-assigned address accepts nothing.
  const user = await s.boundUser();
  if (typeof token !== "string" || token.length < 20 || token.length > 200)
    throw Invalid.field("token", "is not an invitation token");
  const inv = await s.deps.store.getInvitation(hashSecret(token));
  if (!inv) throw new NotFound("Invitation");
  if (inv.status !== "PENDING") throw new Conflict("This invitation has already been used");
  if (new Date(inv.validUntil).getTime() <= s.now.getTime())
    throw Invalid.field("token", "this invitation has expired");
  // Acceptance is bound to the signed-in person's verified e-mail.
  if (!user.emailVerified || user.email !== inv.email)
    throw new Forbidden("This invitation was sent to another e-mail address", "IDENTITY");
  return inv;
}

export interface Accepted {
  readonly invitation: Info;
  readonly account: AccountRecord;
}

/** Joins the account of an opened MEMBER invitation (see `Acceptance.accept`). Single use. */
export async function join(s: Session, inv: InvitationRecord): Promise<Accepted> {
  const user = s.user();
  const [account, person, member] = await Promise.all([
    s.account(inv.accountId),
    s.person(user.email),
    s.deps.store.getMember(inv.accountId, user.email),
  ]);
  // Only the member's latest invitation activates it, with the member's current role and flags
  // (changed, withdrawn or superseded invitations grant nothing).
  if (!account || !member || member.status !== "INVITED" || member.invitationId !== inv.id) {
    throw new Conflict("This invitation was withdrawn or replaced by a newer one");
  }
  // Sent by a partner admin on the customer's behalf: it lapsed if that opt-in ended (rule 7).
  const lapsed = () => new Conflict("This invitation lapsed: the partner administration it was sent under has ended");
  if (inv.sentOnBehalfOf) {
    const entry = await s.deps.store.getAdministered(inv.sentOnBehalfOf, inv.accountId);
    if (
      !(optedIn(account, s.now) && grantedTo(account, inv.sentOnBehalfOf) && Consent.holds(entry, s.now, inv.createdAt))
    )
      throw lapsed();
  }
  const membership: Membership = { role: member.role, seller: member.seller, partnerAdmin: member.partnerAdmin };
  const now = s.now.toISOString();
  await s.transact(
    (e) => [
      e.invitation
        .patch({ tokenHash: inv.tokenHash })
        .set({ status: "ACCEPTED", acceptedAt: now })
        .where(Cond.hasStatus("PENDING"))
        .commit(),
      e.member
        .patch({ accountId: inv.accountId, email: user.email })
        .set({ status: "ACTIVE", joinedAt: now })
        .where(Cond.invitedAs({ invitationId: inv.id, role: member.role, seller: member.seller }))
        .commit(),
      personOp(e, s, user.email, person, (ms) => {
        ms[inv.accountId] = membership;
      }),
      ...(membership.role === "OWNER" ? [e.account.patch({ id: inv.accountId }).add({ ownerCount: 1 }).commit()] : []),
      Audit.entry(e, {
        accountId: inv.accountId,
        action: "member.joined",
        actor: s.actor,
        at: s.now,
        subjectId: user.email,
        details: { role: membership.role },
      }).commit(),
      // The opt-in it was sent under still holds.
      ...(inv.sentOnBehalfOf
        ? [guard(Consent.heldCheck(e, inv.sentOnBehalfOf, inv.accountId, s.now, inv.createdAt).op, lapsed)]
        : []),
    ],
    { otherwise: () => new Conflict("This invitation has already been used") },
  );
  return {
    invitation: strip({ ...inv, status: "ACCEPTED", acceptedAt: now }),
    account: { ...account, ownerCount: account.ownerCount + (membership.role === "OWNER" ? 1 : 0) },
  };
}

export { strip as toInfo };
