import type { WhereAttributeSymbol } from "electrodb";

/**
 * The conditions of the table's writes, by name: a use case says what must still hold
 * (`Cond.atVersion(a.version)`), the expression is written here once. Each is a callback for an
 * entity operation's `.where(...)`, typed by the attributes it reads, so it fits every entity that
 * has them.
 */

/** The operations of a condition (ElectroDB's, narrowed to what these conditions use). */
export interface Ops {
  eq<T, A extends WhereAttributeSymbol<T>>(attr: A, value: T): string;
  gt<T, A extends WhereAttributeSymbol<T>>(attr: A, value: T): string;
  lt<T, A extends WhereAttributeSymbol<T>>(attr: A, value: T): string;
  lte<T, A extends WhereAttributeSymbol<T>>(attr: A, value: T): string;
  exists<A extends WhereAttributeSymbol<unknown>>(attr: A): string;
  notExists<A extends WhereAttributeSymbol<unknown>>(attr: A): string;
  name<A extends WhereAttributeSymbol<unknown>>(attr: A): string;
}
type Attr<T> = WhereAttributeSymbol<T>;
type Condition<A> = (attrs: A, op: Ops) => string;

const all = (...parts: string[]) => parts.join(" AND ");

/** The item is still at the version the use case read (optimistic concurrency, rule 6). */
export const atVersion =
  (version: number): Condition<{ version: Attr<number> }> =>
  (x, op) =>
    op.eq(x.version, version);

/** The attribute holds this value (a status, an owner, a sku, a customer…): the simple comparisons by name. */
export const hasStatus =
  (status: string): Condition<{ status: Attr<string> }> =>
  (x, op) =>
    op.eq(x.status, status);

// ---------------------------------------------------------------- accounts, people, invitations

/** The account has no active owner yet (a seller's setup right). */
export const noOwnerYet = (): Condition<{ ownerCount: Attr<number> }> => (x, op) => op.eq(x.ownerCount, 0);
/** Another active owner remains (the last one is never removed or demoted). */
export const notLastOwner = (): Condition<{ ownerCount: Attr<number> }> => (x, op) => op.gt(x.ownerCount, 1);
/** The account has not moved, gained or lost children or owners, or been ordered for since it was read (an account move). */
export const unmoved =
  (a: {
    version: number;
    childCount: number;
    ownerCount: number;
    orderCount?: number | undefined;
  }): Condition<{
    version: Attr<number>;
    childCount: Attr<number>;
    ownerCount: Attr<number>;
    orderCount: Attr<number>;
  }> =>
  (x, op) =>
    all(
      op.eq(x.version, a.version),
      op.eq(x.childCount, a.childCount),
      op.eq(x.ownerCount, a.ownerCount),
      // No order placed since it was read: the move rewrites the subscriptions it read.
      a.orderCount === undefined ? op.notExists(x.orderCount) : op.eq(x.orderCount, a.orderCount),
    );
/**
 * The account is as an order read it: not updated or moved since (a move rewrites the billed party of
 * everything below it), and its deletion mark as read (an order clears it; a run that set it
 * meanwhile would delete the account under the order).
 */
export const asOrdered =
  (a: {
    version: number;
    pendingDeletionAt?: string | undefined;
  }): Condition<{ version: Attr<number>; pendingDeletionAt: Attr<string> }> =>
  (x, op) =>
    all(
      op.eq(x.version, a.version),
      a.pendingDeletionAt === undefined
        ? op.notExists(x.pendingDeletionAt)
        : op.eq(x.pendingDeletionAt, a.pendingDeletionAt),
    );
/** No order placed on the account since it was read (its `orderCount`, which every order adds to). */
export const noOrderSince =
  (orderCount: number | undefined): Condition<{ orderCount: Attr<number> }> =>
  (x, op) =>
    orderCount === undefined ? op.notExists(x.orderCount) : op.eq(x.orderCount, orderCount);
/** Still due for deletion as read, childless, and not ordered for since it was read (idle-customer cleanup). */
export const deletable =
  (
    pendingDeletionAt: string,
    orderCount: number | undefined,
  ): Condition<{ childCount: Attr<number>; pendingDeletionAt: Attr<string>; orderCount: Attr<number> }> =>
  (x, op) =>
    all(op.eq(x.childCount, 0), op.eq(x.pendingDeletionAt, pendingDeletionAt), noOrderSince(orderCount)(x, op));
/** The platform has the partner-admin capability on for the reseller. */
export const capabilityOn = (): Condition<{ partnerAdminEnabled: Attr<boolean> }> => (x, op) =>
  op.eq(x.partnerAdminEnabled, true);
/** A reseller's opt-in entry exists and has not ended at `at`; with `since`, it was granted by then. */
export const optInHolds =
  (at: string, since?: string): Condition<{ customerId: Attr<string>; until: Attr<string>; since: Attr<string> }> =>
  (x, op) =>
    `${op.exists(x.customerId)} AND (${op.notExists(x.until)} OR ${op.gt(x.until, at)})${since ? ` AND ${op.lte(x.since, since)}` : ""}`;

/** Nobody has joined under this key: a new invitation, or one that replaces a pending one. */
export const notJoined = (): Condition<{ email: Attr<string>; status: Attr<string> }> => (x, op) =>
  `${op.notExists(x.email)} OR ${op.eq(x.status, "INVITED")}`;
/** The member is still invited by this invitation, with the role and seller flag it was sent with. */
export const invitedAs =
  (m: {
    invitationId: string;
    role: string;
    seller: boolean;
  }): Condition<{ status: Attr<string>; invitationId: Attr<string>; role: Attr<string>; seller: Attr<boolean> }> =>
  (x, op) =>
    all(
      op.eq(x.status, "INVITED"),
      op.eq(x.invitationId, m.invitationId),
      op.eq(x.role, m.role),
      op.eq(x.seller, m.seller),
    );
/** The member's role and status are as read. */
export const roleAndStatus =
  (role: string, status: string): Condition<{ role: Attr<string>; status: Attr<string> }> =>
  (x, op) =>
    all(op.eq(x.role, role), op.eq(x.status, status));
/** The member's status is as read and it holds exactly `licences` licences (none assigned meanwhile). */
export const holdsLicences =
  (
    status: string,
    licences: number,
    role?: string,
  ): Condition<{ status: Attr<string>; licenceCount: Attr<number>; role: Attr<string> }> =>
  (x, op) =>
    all(
      op.eq(x.status, status),
      // The role read too, when given: a removal counts owners by it (a promotion meanwhile changes the count).
      ...(role === undefined ? [] : [op.eq(x.role, role)]),
      licences === 0
        ? `(${op.notExists(x.licenceCount)} OR ${op.eq(x.licenceCount, 0)})`
        : op.eq(x.licenceCount, licences),
    );
/** An active selling owner (who may receive the trial digest). */
export const activeSellingOwner =
  (): Condition<{ status: Attr<string>; role: Attr<string>; seller: Attr<boolean> }> => (x, op) =>
    all(op.eq(x.status, "ACTIVE"), op.eq(x.role, "OWNER"), op.eq(x.seller, true));

// ---------------------------------------------------------------- subscriptions, licences, counters

/** Active, at the version read; with `assigned`, holding exactly that many licences. */
export const activeAt =
  (
    version: number,
    assigned?: number,
  ): Condition<{ version: Attr<number>; status: Attr<string>; assigned: Attr<number> }> =>
  (x, op) =>
    all(
      op.eq(x.version, version),
      op.eq(x.status, "ACTIVE"),
      ...(assigned === undefined ? [] : [op.eq(x.assigned, assigned)]),
    );
/** At the version read, with no more licences assigned than `max` (the new quantity leaves room for them). */
export const roomFor =
  (version: number, max: number): Condition<{ version: Attr<number>; assigned: Attr<number> }> =>
  (x, op) =>
    all(op.eq(x.version, version), op.lte(x.assigned, max));
/** Active with a licence left (`assigned < quantity`): concurrent assignments never overshoot. */
export const hasFreeLicence =
  (): Condition<{ status: Attr<string>; assigned: Attr<number>; quantity: Attr<number> }> => (x, op) =>
    all(op.eq(x.status, "ACTIVE"), `${op.name(x.assigned)} < ${op.name(x.quantity)}`);
/** The licence is still of this offer. */
export const ofSku =
  (sku: string): Condition<{ sku: Attr<string> }> =>
  (x, op) =>
    op.eq(x.sku, sku);
/** A sequence counter is where it was read. */
export const counterAt =
  (value: number): Condition<{ value: Attr<number> }> =>
  (x, op) =>
    op.eq(x.value, value);
/** A watermark counter is below `value` (a concurrent run may have moved it as far). */
export const counterBelow =
  (value: number): Condition<{ value: Attr<number> }> =>
  (x, op) =>
    op.lt(x.value, value);
/** A rate counter leaves room for `count` more within `max`. */
export const withinLimit =
  (max: number, count: number): Condition<{ count: Attr<number> }> =>
  (x, op) =>
    `${op.notExists(x.count)} OR ${op.lte(x.count, max - count)}`;
/** The party's month is not planned yet (usage is still accepted for it). */
export const monthOpen = (): Condition<{ createdAt: Attr<string> }> => (x, op) => op.notExists(x.createdAt);
/** A billing chunk's range has not been measured yet (its first delivery measures it, once). */
export const rangeOpen = (): Condition<{ count: Attr<number> }> => (x, op) => op.notExists(x.count);
/** An API client is active at the secret generation read. */
export const activeAtGeneration =
  (generation: number): Condition<{ generation: Attr<number>; status: Attr<string> }> =>
  (x, op) =>
    all(op.eq(x.generation, generation), op.eq(x.status, "ACTIVE"));

// ---------------------------------------------------------------- equipment

/** The PBX is not being removed. */
export const notRemoving = (): Condition<{ removing: Attr<boolean> }> => (x, op) => op.notExists(x.removing);
/** The PBX exists and is not being removed. */
export const inService = (): Condition<{ status: Attr<string>; removing: Attr<boolean> }> => (x, op) =>
  all(op.exists(x.status), op.notExists(x.removing));
/** The PBX's removal has started (its last step). */
export const beingRemoved = (): Condition<{ removing: Attr<boolean> }> => (x, op) => op.eq(x.removing, true);
/** The PBX's credential is still at this version and the PBX is not being removed (a regeneration). */
export const atCredential =
  (version: number): Condition<{ credentialVersion: Attr<number>; removing: Attr<boolean> }> =>
  (x, op) =>
    all(op.eq(x.credentialVersion, version), op.notExists(x.removing));
/** The PBX calling with this credential version is connected and in service (device calls). */
export const connectedAs =
  (version: number): Condition<{ credentialVersion: Attr<number>; status: Attr<string>; removing: Attr<boolean> }> =>
  (x, op) =>
    all(op.eq(x.credentialVersion, version), op.eq(x.status, "CONNECTED"), op.notExists(x.removing));
/** Pending with the code read, at the credential version read: single use, and a regeneration meanwhile wins. */
export const pendingWithCode =
  (
    codeDigest: string,
    credentialVersion: number,
  ): Condition<{ status: Attr<string>; codeDigest: Attr<string>; credentialVersion: Attr<number> }> =>
  (x, op) =>
    all(op.eq(x.status, "PENDING"), op.eq(x.codeDigest, codeDigest), op.eq(x.credentialVersion, credentialVersion));
/** One more activation attempt is allowed on this code (fewer than `max` made, not expired at `now`, not being removed). */
export const attemptAllowed =
  (
    max: number,
    codeDigest: string,
    now: string,
  ): Condition<{
    failedAttempts: Attr<number>;
    status: Attr<string>;
    codeDigest: Attr<string>;
    codeExpiresAt: Attr<string>;
    removing: Attr<boolean>;
  }> =>
  (x, op) =>
    all(
      op.lt(x.failedAttempts, max),
      op.eq(x.status, "PENDING"),
      op.eq(x.codeDigest, codeDigest),
      op.gt(x.codeExpiresAt, now),
      op.notExists(x.removing),
    );
/** Connected, in service, with the tenant count read (attaches on one PBX are ordered by it). */
export const connectedWithTenants =
  (tenantCount: number): Condition<{ tenantCount: Attr<number>; status: Attr<string>; removing: Attr<boolean> }> =>
  (x, op) =>
    all(op.eq(x.tenantCount, tenantCount), op.eq(x.status, "CONNECTED"), op.notExists(x.removing));
/** The extension report is the one read (two changes at once never lose one another). */
export const reportedAt =
  (at: string): Condition<{ reportedAt: Attr<string> }> =>
  (x, op) =>
    op.eq(x.reportedAt, at);
/** The tenancy is not being detached. */
export const notDetaching = (): Condition<{ detaching: Attr<boolean> }> => (x, op) => op.notExists(x.detaching);
/**
 * The tenancy is as read: flagged for detaching when its associations went in batches; else no
 * association made since the last one read (or none at all).
 */
export const tenancyUnchanged =
  (
    t: { detaching?: boolean; lastAssignmentAt?: string },
    flagged: boolean,
  ): Condition<{ detaching: Attr<boolean>; lastAssignmentAt: Attr<string>; customerId: Attr<string> }> =>
  (x, op) =>
    t.detaching || flagged
      ? op.eq(x.detaching, true)
      : t.lastAssignmentAt
        ? op.eq(x.lastAssignmentAt, t.lastAssignmentAt)
        : all(op.exists(x.customerId), op.notExists(x.lastAssignmentAt));
/** The extension is free, or already this member's (a new public number). */
export const extensionFreeOr =
  (email: string, customerId: string): Condition<{ email: Attr<string>; customerId: Attr<string> }> =>
  (x, op) =>
    `${op.notExists(x.email)} OR (${all(op.eq(x.email, email), op.eq(x.customerId, customerId))})`;
/** The association is still this customer's member's. */
export const heldBy =
  (customerId: string, email?: string): Condition<{ customerId: Attr<string>; email: Attr<string> }> =>
  (x, op) =>
    email === undefined ? op.eq(x.customerId, customerId) : all(op.eq(x.customerId, customerId), op.eq(x.email, email));
/** The association is still this member's. */
export const ofMember =
  (email: string): Condition<{ email: Attr<string> }> =>
  (x, op) =>
    op.eq(x.email, email);

// ---------------------------------------------------------------- phone numbers

/** The number is in this account's pool and out of quarantine at `now`: it may be allocated, assigned or chosen. */
export const inPool =
  (holderId: string, now: string): Condition<{ holderId: Attr<string>; quarantinedUntil: Attr<string> }> =>
  (x, op) =>
    all(op.eq(x.holderId, holderId), `(${op.notExists(x.quarantinedUntil)} OR ${op.lte(x.quarantinedUntil, now)})`);
/** The number is in this account's pool, quarantined or not (a release, a porting update). */
export const heldIn =
  (holderId: string): Condition<{ holderId: Attr<string> }> =>
  (x, op) =>
    op.eq(x.holderId, holderId);
/** No such number yet, or one the platform holds out of quarantine (given back by a distributor): it may be added. */
export const numberAddable =
  (platformId: string, now: string): Condition<{ holderId: Attr<string>; quarantinedUntil: Attr<string> }> =>
  (x, op) =>
    `${op.notExists(x.holderId)} OR (${all(op.eq(x.holderId, platformId), `(${op.notExists(x.quarantinedUntil)} OR ${op.lte(x.quarantinedUntil, now)})`)})`;
/** The number is still as an addNumbers batch wrote it (taking a failed batch back leaves numbers used since). */
export const addedUntouched =
  (batch: string): Condition<{ batch: Attr<string>; version: Attr<number> }> =>
  (x, op) =>
    all(op.eq(x.batch, batch), op.eq(x.version, 1));
/** The account's main number is still the one read (none: `undefined`). */
export const mainNumberIs =
  (mainNumber: string | undefined): Condition<{ mainNumber: Attr<string> }> =>
  (x, op) =>
    mainNumber === undefined ? op.notExists(x.mainNumber) : op.eq(x.mainNumber, mainNumber);

/** A paired PBX whose last heartbeat is still the one read (the liveness sweep marks it disconnected). */
export const silentSince =
  (
    lastSeenAt: string,
  ): Condition<{
    lastSeenAt: Attr<string>;
    status: Attr<string>;
    disconnectedAt: Attr<string>;
    removing: Attr<boolean>;
  }> =>
  (x, op) =>
    all(
      op.eq(x.lastSeenAt, lastSeenAt),
      op.eq(x.status, "CONNECTED"),
      op.notExists(x.disconnectedAt),
      op.notExists(x.removing),
    );
