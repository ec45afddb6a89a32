import * as z from "zod";
import { newId } from "../../infra/ids.js";
import type { EquipmentRecord, Page } from "../../infra/store.js";
import { actorLabel } from "../actor.js";
import * as Audit from "../audit.js";
import type { Session } from "../context.js";
import { Conflict, Invalid, NotFound } from "../errors.js";
import { paged } from "../paging.js";
import type { PageArgs } from "../paging.js";
import { authorize } from "../rights.js";
import { guard } from "../tx.js";
import * as V from "../validation.js";
import { extension, publicNumber, equipmentKey, load } from "./common.js";
import { audit } from "./common.js";
import * as PartnerAdmin from "../partner-admin.js";
import type { TenantView, Info, Assignment, Key } from "./common.js";
import { equipmentBusy } from "./tenants.js";
import * as Cond from "../../infra/store/conditions.js";
import * as Numbers from "../number-pool.js";

/** Extension associations: a member of the account on an extension of a PBX, with a public number. */

// ---------------------------------------------------------------- extensions

const assignInput = z.object({
  accountId: z.string().min(1),
  equipment: equipmentKey.nullish(),
  extension,
  email: V.email,
  publicNumber,
});
export type AssignInput = z.input<typeof assignInput>;

/**
 * Associates a member with a PBX extension and a public number (Rainbow "Phone" tab), by the
 * account's tenant admins. The extension must have been reported by the PBX; one member per
 * extension (the association is keyed by PBX and extension). A customer with exactly one PBX
 * (own or shared) gets it preselected; on a shared PBX, only extensions in its company prefix.
 */
export async function assignExtension(s: Session, raw: AssignInput): Promise<Assignment> {
  s.principal();
  const input = await V.parseAsync(assignInput, raw);
  const { reach } = await s.authorized(input.accountId, "equipment.manage");
  const { equipment: eq, tenant } = input.equipment
    ? await usable(s, input.accountId, input.equipment)
    : await preselected(s, input.accountId);
  if (tenant && !input.extension.startsWith(tenant.companyPrefix)) {
    throw Invalid.field(
      "extension",
      `must be in the account's company prefix ${tenant.companyPrefix} on this equipment`,
    );
  }
  const [reported, member] = await Promise.all([
    s.deps.store.reportedExtensions(eq.accountId, eq.equipmentId),
    s.deps.store.getMember(input.accountId, input.email),
    // EXPO.e: the public number comes from the account's own pool.
    Numbers.assertUsable(s, input.accountId, input.publicNumber),
  ]);
  if (!reported.includes(input.extension))
    throw Invalid.field("extension", "is not an extension reported by the equipment");
  if (!member) throw new NotFound("Member");
  if (member.status !== "ACTIVE") throw Invalid.field("email", "the member has not accepted the invitation yet");
  const assignment: Assignment = {
    accountId: eq.accountId,
    equipmentId: eq.equipmentId,
    extension: input.extension,
    customerId: input.accountId,
    email: member.email,
    publicNumber: input.publicNumber,
    assignedAt: s.now.toISOString(),
    assignedBy: actorLabel(s.actor),
  };
  const equipmentGone = () => new NotFound("Equipment");
  await s.transact(
    (e) => [
      guard(
        e.extensionAssignment
          .put(assignment)
          // One member per extension: a free extension, or the same member's (a new public number).
          .where(Cond.extensionFreeOr(member.email, input.accountId))
          .commit(),
        () => new Conflict(`Extension ${input.extension} is already associated with another member`),
      ),
      guard(
        e.equipment.check({ accountId: eq.accountId, equipmentId: eq.equipmentId }).where(Cond.inService()).commit(),
        equipmentGone,
      ),
      guard(
        e.member.check({ accountId: input.accountId, email: member.email }).where(Cond.hasStatus("ACTIVE")).commit(),
        () => new NotFound("Member"),
      ),
      Numbers.useOp(e, input.accountId, input.publicNumber, s.now),
      // On a shared PBX, the tenancy must hold (not being detached); the mark makes a detach that read before this retry.
      ...(tenant
        ? [
            guard(
              e.equipmentTenant
                .patch({ accountId: eq.accountId, equipmentId: eq.equipmentId, customerId: input.accountId })
                .set({ lastAssignmentAt: `${s.now.toISOString()}#${newId()}` })
                .where(Cond.notDetaching())
                .commit(),
              equipmentGone,
            ),
          ]
        : []),
      Audit.entry(e, {
        accountId: input.accountId,
        action: "equipment.extensionAssigned",
        actor: s.actor,
        at: s.now,
        subjectId: member.email,
        details: { equipmentId: eq.equipmentId, extension: input.extension, publicNumber: input.publicNumber },
        ...audit(reach),
      }).commit(),
      ...PartnerAdmin.behalfOps(e, s, reach, input.accountId, "equipment.extensionAssigned", member.email),
    ],
    { otherwise: equipmentBusy },
  );
  return assignment;
}

const unassignInput = z.object({ accountId: z.string().min(1), equipment: equipmentKey, extension });

/** Frees an extension of the account's members (a member left, or gets another number). */
export async function unassignExtension(s: Session, raw: z.input<typeof unassignInput>): Promise<Assignment> {
  s.principal();
  const input = V.parse(unassignInput, raw);
  const [ms, account, held] = await Promise.all([
    s.memberships(),
    s.account(input.accountId),
    s.deps.store.getExtensionAssignment(input.equipment.accountId, input.equipment.equipmentId, input.extension),
  ]);
  const reach = authorize(s.actor, ms, account, "equipment.manage", s.now);
  // Another tenant's extension on a shared PBX is none of this account's business: same as none.
  if (!held || held.customerId !== input.accountId)
    throw Invalid.field("extension", "is not associated with a member of this account");
  await s.transact(
    (e) => [
      e.extensionAssignment
        .delete({ accountId: held.accountId, equipmentId: held.equipmentId, extension: held.extension })
        .where(Cond.heldBy(held.customerId, held.email))
        .commit(),
      Audit.entry(e, {
        accountId: input.accountId,
        action: "equipment.extensionUnassigned",
        actor: s.actor,
        at: s.now,
        subjectId: held.email,
        details: { equipmentId: held.equipmentId, extension: held.extension },
        ...audit(reach),
      }).commit(),
      ...PartnerAdmin.behalfOps(e, s, reach, input.accountId, "equipment.extensionUnassigned", held.email),
    ],
    { otherwise: () => new Conflict("The association changed meanwhile; reload and try again") },
  );
  return held;
}

/** A PBX the account's members may be associated with: its own, or a partner's it is attached to. */
async function usable(
  s: Session,
  accountId: string,
  key: Key,
): Promise<{ equipment: EquipmentRecord; tenant?: TenantView }> {
  const ref = V.parse(equipmentKey, key, ["equipmentId"]);
  const [eq, shared] = await Promise.all([
    s.deps.store.getEquipment(ref.accountId, ref.equipmentId),
    ref.accountId === accountId ? undefined : s.deps.store.getSharedEquipment(accountId, ref.equipmentId),
  ]);
  if (!eq || eq.removing) throw new NotFound("Equipment");
  if (eq.accountId === accountId) return { equipment: eq };
  if (shared && shared.ownerId === eq.accountId)
    return { equipment: eq, tenant: { customerId: accountId, companyPrefix: shared.companyPrefix } };
  throw new NotFound("Equipment");
}

/** Rainbow: "The 'Device' field is automatically filled if only one system exists on this company". */
async function preselected(
  s: Session,
  accountId: string,
): Promise<{ equipment: EquipmentRecord; tenant?: TenantView }> {
  const [own, shared] = await Promise.all([
    s.deps.store.listEquipment(accountId, { connectedSince: s.now.toISOString(), limit: 2 }),
    s.deps.store.allSharedEquipment(accountId),
  ]);
  const count = own.items.length + shared.length;
  if (count === 0) throw Invalid.field("equipmentId", "the account has no equipment");
  if (count > 1 || own.hasNextPage)
    throw Invalid.field("equipmentId", "the account has several equipment: say which one");
  if (own.items[0]) return { equipment: own.items[0].node };
  return usable(s, accountId, { accountId: shared[0]!.ownerId, equipmentId: shared[0]!.equipmentId });
}

/** Extension associations of an account's members (own and shared PBXs), by PBX and extension. */
export async function assignments(s: Session, accountId: string, args: PageArgs): Promise<Page<Assignment>> {
  await s.authorized(accountId, "account.read");
  return paged(args, (limit, cursor) => s.deps.store.listCustomerAssignments(accountId, { limit, cursor }));
}

/** Extension associations on a PBX: all of them for its owner's view, the customer's own in a tenant's view. */
export async function assignmentsOf(s: Session, eq: Info, args: PageArgs): Promise<Page<Assignment>> {
  if (eq.tenant) {
    const customerId = eq.tenant.customerId;
    await s.authorized(customerId, "account.read");
    return paged(args, (limit, cursor) =>
      s.deps.store.listCustomerAssignments(customerId, { equipmentId: eq.equipmentId, limit, cursor }),
    );
  }
  await load(s, eq, "account.read");
  return paged(args, (limit, cursor) =>
    s.deps.store.listEquipmentAssignments(eq.accountId, eq.equipmentId, limit, cursor),
  );
}

/** The extensions the PBX reported (a tenant sees those in its company prefix): what admins pick from. */
export async function reportedExtensions(s: Session, eq: Info): Promise<string[]> {
  const numbers = await s.deps.store.reportedExtensions(eq.accountId, eq.equipmentId);
  return eq.tenant ? numbers.filter((n) => n.startsWith(eq.tenant!.companyPrefix)) : numbers;
}
