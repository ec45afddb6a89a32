import * as z from "zod";
import type { Page, SharedEquipmentRecord } from "../../infra/store.js";
import { actorLabel } from "../actor.js";
import * as Audit from "../audit.js";
import type { Session } from "../context.js";
import { Conflict, Invalid } from "../errors.js";
import { paged } from "../paging.js";
import type { PageArgs } from "../paging.js";
import { authorize } from "../rights.js";
import { guard } from "../tx.js";
import * as V from "../validation.js";
import { present, companyPrefix, equipmentKey, load } from "./common.js";
import { audit } from "./common.js";
import * as PartnerAdmin from "../partner-admin.js";
import type { Info, Tenant, Key } from "./common.js";
import * as Cond from "../../infra/store/conditions.js";

/** Customers attached to a partner's multi-tenant PBX, each with its company prefix. */

// ---------------------------------------------------------------- multi-tenant

const attachInput = z.object({ equipment: equipmentKey, customerId: z.string().min(1), companyPrefix });

/** Attaches under contention retry on a fresh read (the tenant count orders attaches on one PBX). */
const ATTACH_ATTEMPTS = 5;

/**
 * Attaches a customer to a partner's multi-tenant PBX with a company prefix (Rainbow "Management
 * of the Multi tenant equipment"): the PBX must have connected, the customer must sit below the
 * PBX's account, and the prefix must be free on that PBX (its own key item) and must not overlap
 * another tenant's (a prefix of it, or it of another: extension ranges would collide).
 */
export async function attachTenant(
  s: Session,
  raw: z.input<typeof attachInput>,
): Promise<{ equipment: Info; tenant: Tenant }> {
  s.principal();
  const input = V.parse(attachInput, raw);
  // Another attach (or a regeneration, or a removal) went first: decide again on fresh state.
  return s.optimistic({ attempts: ATTACH_ATTEMPTS, gaveUp: equipmentBusy }, async () => {
    const { equipment: eq, reach, ms } = await load(s, input.equipment, "equipment.manage");
    const customer = await s.account(input.customerId);
    authorize(s.actor, ms, customer, "account.read", s.now);
    const c = customer!;
    if (!eq.multiTenant) throw Invalid.field("equipmentId", "is not a multi-tenant server");
    if (c.kind !== "CUSTOMER") throw Invalid.field("customerId", "must be a customer account");
    if (!c.path.includes(eq.accountId))
      throw Invalid.field("customerId", "must be a customer below the equipment's account");
    if (eq.status !== "CONNECTED")
      throw new Conflict("The equipment must have connected before customers are attached");
    const tenants = await s.deps.store.allEquipmentTenants(eq.accountId, eq.equipmentId);
    if (tenants.some((t) => t.customerId === c.id)) throw alreadyAttached();
    const clash = tenants.find(
      (t) => t.companyPrefix.startsWith(input.companyPrefix) || input.companyPrefix.startsWith(t.companyPrefix),
    );
    if (clash)
      throw new Conflict(
        clash.companyPrefix === input.companyPrefix
          ? `Company prefix ${input.companyPrefix} is already used on this equipment`
          : `Company prefix ${input.companyPrefix} overlaps prefix ${clash.companyPrefix} on this equipment`,
      );
    const now = s.now.toISOString();
    const tenant: Tenant = {
      accountId: eq.accountId,
      equipmentId: eq.equipmentId,
      customerId: c.id,
      companyPrefix: input.companyPrefix,
      attachedAt: now,
      attachedBy: actorLabel(s.actor),
    };
    const shared: SharedEquipmentRecord = {
      customerId: c.id,
      equipmentId: eq.equipmentId,
      ownerId: eq.accountId,
      companyPrefix: input.companyPrefix,
      attachedAt: now,
    };
    const details = { equipmentId: eq.equipmentId, customerId: c.id, companyPrefix: input.companyPrefix };
    await s.transact(
      (e) => [
        e.equipment
          .patch({ accountId: eq.accountId, equipmentId: eq.equipmentId })
          .add({ tenantCount: 1 })
          .set({ updatedAt: now })
          .where(Cond.connectedWithTenants(eq.tenantCount))
          .commit(),
        guard(
          e.equipmentPrefix
            .create({
              accountId: eq.accountId,
              equipmentId: eq.equipmentId,
              companyPrefix: input.companyPrefix,
              customerId: c.id,
            })
            .commit(),
          () => new Conflict(`Company prefix ${input.companyPrefix} is already used on this equipment`),
        ),
        guard(e.equipmentTenant.create(tenant).commit(), alreadyAttached),
        guard(e.sharedEquipment.create(shared).commit(), alreadyAttached),
        Audit.entry(e, {
          accountId: eq.accountId,
          action: "equipment.tenantAttached",
          actor: s.actor,
          at: s.now,
          subjectId: eq.equipmentId,
          details,
          ...audit(reach),
        }).commit(),
        Audit.entry(e, {
          accountId: c.id,
          action: "equipment.attached",
          actor: s.actor,
          at: s.now,
          subjectId: eq.equipmentId,
          details,
        }).commit(),
        ...PartnerAdmin.behalfOps(e, s, reach, eq.accountId, "equipment.tenantAttached", eq.equipmentId),
      ],
      { otherwise: "retry" },
    );
    return { equipment: present({ ...eq, tenantCount: eq.tenantCount + 1, updatedAt: now }), tenant };
  });
}

const alreadyAttached = () => new Conflict("The customer is already attached to this equipment");
export const equipmentBusy = () => new Conflict("The equipment is busy; try again");

/** Customers attached to a multi-tenant PBX (the partner's view; "Companies" column). */
export async function tenants(s: Session, key: Key, args: PageArgs): Promise<Page<Tenant>> {
  const { equipment: eq } = await load(s, key, "account.read");
  return paged(args, (limit, cursor) => s.deps.store.listEquipmentTenants(eq.accountId, eq.equipmentId, limit, cursor));
}

const detachInput = z.object({ equipment: equipmentKey, customerId: z.string().min(1) });

/** Extension associations a detach removes in its own transaction; more go first in batches, the tenancy flagged `detaching`. */
export const DETACH_IN_ONE = 80;

/** What a detach did: the PBX after it, the tenancy removed, the associations removed with it. */
export interface Detachment {
  readonly equipment: Info;
  readonly tenant: Tenant;
  readonly extensionAssignments: number;
}

/**
 * Removes one customer from a partner's shared PBX (OTEC-S upkeep): its members' extension
 * associations there go, its company prefix is freed, the PBX no longer shows in its equipment.
 * One transaction when its associations fit in it; otherwise the tenancy is flagged first (no
 * association is added meanwhile), the associations are deleted in batches, then the tenancy: a
 * detach cut short is finished by calling it again.
 */
export async function detachTenant(s: Session, raw: z.input<typeof detachInput>): Promise<Detachment> {
  s.principal();
  const input = V.parse(detachInput, raw);
  // An association made or freed meanwhile, another detach or the PBX's removal went first: decide again.
  return s.optimistic({ attempts: ATTACH_ATTEMPTS, gaveUp: equipmentBusy }, async () => {
    const { equipment: eq, reach, ms } = await load(s, input.equipment, "equipment.manage");
    const customer = await s.account(input.customerId);
    authorize(s.actor, ms, customer, "account.read", s.now);
    const c = customer!;
    const k = { accountId: eq.accountId, equipmentId: eq.equipmentId };
    // The tenancy first, then its associations (consistent): an association made after this read moves `lastAssignmentAt`.
    const tenant = await s.deps.store.getEquipmentTenant(eq.accountId, eq.equipmentId, c.id);
    if (!tenant) throw Invalid.field("customerId", "is not attached to this equipment");
    let held = await s.deps.store.tenantAssignments(eq.accountId, eq.equipmentId, c.id);
    let removed = 0;
    if (tenant.detaching || held.length > DETACH_IN_ONE) {
      if (!tenant.detaching) {
        await s.transact((e) => [
          e.equipmentTenant
            .patch({ ...k, customerId: c.id })
            .set({ detaching: true })
            .commit(),
        ]);
        // What was added between the read and the flag is read again below.
        held = await s.deps.store.tenantAssignments(eq.accountId, eq.equipmentId, c.id);
      }
      await s.deps.store.deleteExtensionAssignments(
        eq.accountId,
        eq.equipmentId,
        held.map((a) => a.extension),
      );
      removed = held.length;
      held = [];
    }
    const now = s.now.toISOString();
    const details = {
      equipmentId: eq.equipmentId,
      customerId: c.id,
      companyPrefix: tenant.companyPrefix,
      extensionAssignments: removed + held.length,
    };
    await s.transact(
      (e) => [
        e.equipmentTenant
          .delete({ ...k, customerId: c.id })
          .where(Cond.tenancyUnchanged(tenant, removed > 0))
          .commit(),
        ...held.map((a) =>
          e.extensionAssignment
            .delete({ ...k, extension: a.extension })
            .where(Cond.heldBy(c.id))
            .commit(),
        ),
        e.equipmentPrefix.delete({ ...k, companyPrefix: tenant.companyPrefix }).commit(),
        e.sharedEquipment.delete({ customerId: c.id, equipmentId: eq.equipmentId }).commit(),
        e.equipment.patch(k).add({ tenantCount: -1 }).set({ updatedAt: now }).where(Cond.notRemoving()).commit(),
        Audit.entry(e, {
          accountId: eq.accountId,
          action: "equipment.tenantDetached",
          actor: s.actor,
          at: s.now,
          subjectId: eq.equipmentId,
          details,
          ...audit(reach),
        }).commit(),
        Audit.entry(e, {
          accountId: c.id,
          action: "equipment.detached",
          actor: s.actor,
          at: s.now,
          subjectId: eq.equipmentId,
          details,
        }).commit(),
        ...PartnerAdmin.behalfOps(e, s, reach, eq.accountId, "equipment.tenantDetached", eq.equipmentId),
      ],
      { otherwise: "retry" },
    );
    return {
      equipment: present({ ...eq, tenantCount: eq.tenantCount - 1, updatedAt: now }),
      tenant,
      extensionAssignments: details.extensionAssignments,
    };
  });
}
