import * as z from "zod";
import { newId } from "../infra/ids.js";
import type {
  AccountRecord,
  AdministeredRecord,
  BehalfRecord,
  MemberRecord,
  Page,
  TxEntities,
} from "../infra/store.js";
import { actorLabel } from "./actor.js";
import * as Audit from "./audit.js";
import * as Consent from "./consent.js";
import type { Session } from "./context.js";
import { Conflict, Forbidden, Invalid, NotFound, unlessHidden } from "./errors.js";
import * as Invitation from "./invitation.js";
import { paged } from "./paging.js";
import type { PageArgs } from "./paging.js";

import { administers, mayAdminister } from "./rights.js";
import type { Reach } from "./rights.js";
import * as V from "./validation.js";
import * as Cond from "../infra/store/conditions.js";

/**
 * Partner administration on behalf (Circuit): the platform enables PARTNER_ADMIN on a reseller,
 * the reseller's owners flag members, a customer's OWNER opts in (revocable, optionally until a
 * date); while it holds, those members administer the customer's tenant, and every such action is
 * recorded with the person, the reseller and the customer.
 */

export type AdministeredCustomer = AdministeredRecord;
export type PartnerAction = BehalfRecord;
export type MemberInfo = MemberRecord;

/** The record of an action done on behalf, for the action's own transaction (none when not on behalf). */
export function behalfOps(
  e: TxEntities,
  s: Session,
  reach: Reach,
  customerId: string,
  action: string,
  subjectId?: string,
) {
  if (!reach.onBehalf) return [];
  return [
    e.behalf
      .put({
        customerId,
        at: s.now.toISOString(),
        id: newId(),
        actor: actorLabel(s.actor),
        resellerId: reach.onBehalf.resellerId,
        action,
        ...(subjectId ? { subjectId } : {}),
      })
      .commit(),
    // Committed only while the opt-in holds (rule 5): a revocation that commits first cancels it.
    Consent.heldCheck(e, reach.onBehalf.resellerId, customerId, s.now),
  ];
}

/** `onBehalfOf` for audit entries: "reseller:<id>" when the actor acted as a partner admin. */
export function onBehalfOf(reach: Reach): { onBehalfOf?: string } {
  return reach.onBehalf ? { onBehalfOf: `reseller:${reach.onBehalf.resellerId}` } : {};
}

const capabilityInput = z.object({ accountId: z.string().min(1), enabled: z.boolean() });

/** Operators enable (or disable) the PARTNER_ADMIN capability of a reseller; disabling clears its members' flags. */
export async function setCapability(s: Session, raw: z.input<typeof capabilityInput>): Promise<AccountRecord> {
  s.principal();
  const input = V.parse(capabilityInput, raw);
  const { account } = await s.authorized(input.accountId, "account.setPartnerAdminCapability");
  const a = account!;
  // Capability first: a grant racing with a disable fails on its condition, then the flags go.
  // Versioned like every account write (rule 6): no concurrent update can restore what this changes.
  const next: AccountRecord = {
    ...a,
    partnerAdminEnabled: input.enabled,
    updatedAt: s.now.toISOString(),
    version: a.version + 1,
  };
  await s.transact(
    (e) => [
      e.account
        .patch({ id: a.id })
        .set({ partnerAdminEnabled: input.enabled, updatedAt: next.updatedAt, version: next.version })
        .where(Cond.atVersion(a.version))
        .commit(),
      Audit.entry(e, {
        accountId: a.id,
        action: input.enabled ? "account.partnerAdminEnabled" : "account.partnerAdminDisabled",
        actor: s.actor,
        at: s.now,
        subjectId: a.id,
      }).commit(),
    ],
    { otherwise: () => new Conflict("The account changed meanwhile; reload and try again") },
  );
  if (!input.enabled) {
    for (const m of (await s.deps.store.allMembers(a.id)).filter((x) => x.partnerAdmin)) await setFlag(s, a, m, false);
  }
  return next;
}

const flagInput = z.object({ accountId: z.string().min(1), email: V.email, partnerAdmin: z.boolean() });

/** A reseller's owners give (or take) a member's PARTNER_ADMIN flag, once the platform enabled it. */
export async function setMemberFlag(s: Session, raw: z.input<typeof flagInput>): Promise<MemberRecord> {
  s.principal();
  const input = V.parse(flagInput, raw);
  const { account } = await s.authorized(input.accountId, "member.setPartnerAdmin");
  const a = account!;
  if (input.partnerAdmin && !a.partnerAdminEnabled)
    throw new Forbidden("The platform has not enabled partner administration for this reseller", "CAPABILITY_OFF");
  const member = await s.deps.store.getMember(a.id, input.email);
  if (!member) throw new NotFound("Member");
  if (member.partnerAdmin === input.partnerAdmin) return member;
  await setFlag(s, a, member, input.partnerAdmin);
  return { ...member, partnerAdmin: input.partnerAdmin };
}

async function setFlag(s: Session, a: AccountRecord, member: MemberRecord, partnerAdmin: boolean): Promise<void> {
  const person = member.status === "ACTIVE" ? await s.deps.store.getPerson(member.email) : undefined;
  await s.transact(
    (e) => [
      e.member
        .patch({ accountId: a.id, email: member.email })
        .set({ partnerAdmin })
        .where(Cond.hasStatus(member.status))
        .commit(),
      // A grant holds only while the platform's capability does.
      ...(partnerAdmin ? [e.account.check({ id: a.id }).where(Cond.capabilityOn()).commit()] : []),
      ...(member.status === "ACTIVE"
        ? [
            Invitation.personOp(e, s, member.email, person, (ms) => {
              ms[a.id] = { role: member.role, seller: member.seller, partnerAdmin };
            }),
          ]
        : []),
      Audit.entry(e, {
        accountId: a.id,
        action: partnerAdmin ? "member.partnerAdminGranted" : "member.partnerAdminRemoved",
        actor: s.actor,
        at: s.now,
        subjectId: member.email,
      }).commit(),
    ],
    { otherwise: () => new Conflict("The member changed meanwhile; try again") },
  );
}

const optInInput = z.object({
  accountId: z.string().min(1),
  optIn: z.boolean(),
  until: z.date().optional(),
});

/**
 * A customer's OWNER opens (or closes) its tenant administration to its resellers' partner admins,
 * optionally until a date. The next request after a revocation or the expiry is denied: rights
 * read the customer's own item on every request.
 */
export async function setOptIn(s: Session, raw: z.input<typeof optInInput>): Promise<AccountRecord> {
  s.principal();
  const input = V.parse(optInInput, raw);
  const { account } = await s.authorized(input.accountId, "account.setPartnerAdminOptIn");
  const a = account!;
  if (input.until && input.until <= s.now) throw Invalid.field("until", "must be in the future");
  if (!input.optIn && input.until) throw Invalid.field("until", "only an opt-in has an end");
  // The partners above that may administer it: its resellers, or its distributor if it buys directly.
  const resellers = (await s.accounts(a.path)).filter(
    (x): x is AccountRecord => !!x && administers(x) && mayAdminister(a.path, x.id),
  );
  const until = input.optIn && input.until ? input.until.toISOString() : undefined;
  // Granted to the resellers above now, and to no reseller that comes above later (rule 4).
  const grantees = resellers.map((r) => r.id);
  const next: AccountRecord = {
    ...a,
    partnerAdminOptIn: input.optIn,
    updatedAt: s.now.toISOString(),
    version: a.version + 1,
  };
  delete (next as { partnerAdminOptInUntil?: string }).partnerAdminOptInUntil;
  delete (next as { partnerAdminGrantees?: string[] }).partnerAdminGrantees;
  if (until) next.partnerAdminOptInUntil = until;
  if (input.optIn) next.partnerAdminGrantees = grantees;
  await s.transact(
    (e) => {
      const patch = e.account.patch({ id: a.id }).set({
        partnerAdminOptIn: input.optIn,
        updatedAt: next.updatedAt,
        version: next.version,
        ...(until ? { partnerAdminOptInUntil: until } : {}),
        ...(input.optIn ? { partnerAdminGrantees: grantees } : {}),
      });
      const cleared: ("partnerAdminOptInUntil" | "partnerAdminGrantees")[] = [
        ...(until ? [] : ["partnerAdminOptInUntil" as const]),
        ...(input.optIn ? [] : ["partnerAdminGrantees" as const]),
      ];
      return [
        (cleared.length > 0 ? patch.remove(cleared) : patch).where(Cond.atVersion(a.version)).commit(),
        ...resellers.map((r) =>
          input.optIn
            ? e.administered
                .put({
                  resellerId: r.id,
                  customerId: a.id,
                  nameKey: a.nameKey,
                  name: a.name,
                  since: s.now.toISOString(),
                  ...(until ? { until } : {}),
                })
                .commit()
            : e.administered.delete({ resellerId: r.id, customerId: a.id }).commit(),
        ),
        Audit.entry(e, {
          accountId: a.id,
          action: input.optIn ? "account.partnerAdminOptedIn" : "account.partnerAdminOptedOut",
          actor: s.actor,
          at: s.now,
          subjectId: a.id,
          ...(until ? { details: { until } } : {}),
        }).commit(),
      ];
    },
    { otherwise: () => new Conflict("The account changed meanwhile; reload and try again") },
  );
  return next;
}

export interface AdministeredArgs extends PageArgs {
  readonly search?: string | null;
  readonly descending?: boolean | null;
  readonly resellerId?: string | null;
}

/**
 * "Customers I administer": the opted-in customers of the reseller the caller is a partner admin
 * of, by name (prefix search, ascending or descending). Expired opt-ins are left out.
 */
export async function administered(s: Session, args: AdministeredArgs): Promise<Page<AdministeredRecord>> {
  s.principal();
  const ms = await s.memberships();
  const resellers = Object.entries(ms)
    .filter(([, m]) => m.partnerAdmin)
    .map(([id]) => id);
  let resellerId = args.resellerId ?? undefined;
  if (!resellerId) {
    if (resellers.length === 0) return { items: [], hasNextPage: false };
    if (resellers.length > 1)
      throw Invalid.field("resellerId", "you are a partner admin of several resellers: say which one");
    resellerId = resellers[0]!;
  } else if (!resellers.includes(resellerId)) {
    throw new NotFound("Account");
  }
  if ((args.search?.length ?? 0) > 120) throw Invalid.field("search", "must be at most 120 characters");
  const prefix = args.search ? V.searchKey(args.search) : "";
  const rid = resellerId;
  return paged(args, (limit, cursor) =>
    s.deps.store.listAdministered(rid, {
      prefix,
      limit,
      cursor,
      descending: !!args.descending,
      now: s.now.toISOString(),
    }),
  );
}

/** What partner admins did on behalf of a customer, newest first (the customer's own admins and operators). */
export async function actions(s: Session, customerId: string, args: PageArgs): Promise<Page<BehalfRecord>> {
  await s.authorized(customerId, "member.manage");
  return paged(args, (limit, cursor) => s.deps.store.listBehalf(customerId, limit, cursor));
}

const supportInput = z.object({ accountId: z.string().min(1), email: V.email.nullable() });

/** Support requests of the account's users go to this address (Rainbow "Emily" redirection); null clears it. */
export async function setSupportEmail(s: Session, raw: z.input<typeof supportInput>): Promise<AccountRecord> {
  s.principal();
  const input = V.parse(supportInput, raw);
  const { account, reach } = await s.authorized(input.accountId, "account.setSupportEmail");
  const a = account!;
  const next: AccountRecord = { ...a, updatedAt: s.now.toISOString(), version: a.version + 1 };
  delete (next as { supportEmail?: string }).supportEmail;
  if (input.email) next.supportEmail = input.email;
  await s.transact(
    (e) => {
      const patch = e.account.patch({ id: a.id }).set({
        updatedAt: next.updatedAt,
        version: next.version,
        ...(input.email ? { supportEmail: input.email } : {}),
      });
      return [
        (input.email ? patch : patch.remove(["supportEmail"])).where(Cond.atVersion(a.version)).commit(),
        Audit.entry(e, {
          accountId: a.id,
          action: "account.supportEmailChanged",
          actor: s.actor,
          at: s.now,
          subjectId: a.id,
          ...onBehalfOf(reach),
        }).commit(),
        ...behalfOps(e, s, reach, a.id, "account.supportEmailChanged", a.id),
      ];
    },
    { otherwise: () => new Conflict("The account changed meanwhile; reload and try again") },
  );
  return next;
}

/** One opt-in of a customer to a reseller, for that reseller's partner admins (node lookups); undefined otherwise. */
export async function findAdministered(
  s: Session,
  resellerId: string,
  customerId: string,
): Promise<AdministeredRecord | undefined> {
  const ms = await s.memberships();
  if (!ms[resellerId]?.partnerAdmin) return undefined;
  const record = await s.deps.store.getAdministered(resellerId, customerId);
  return record && (!record.until || record.until > s.now.toISOString()) ? record : undefined;
}

/** One action done on behalf of a customer, for those who see its partner actions (node lookups); undefined otherwise. */
export function findAction(s: Session, customerId: string, at: string, id: string): Promise<BehalfRecord | undefined> {
  return unlessHidden(async () => {
    await s.authorized(customerId, "member.manage");
    return s.deps.store.getBehalf(customerId, at, id);
  });
}
