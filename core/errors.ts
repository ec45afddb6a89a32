/**
 * Errors a caller may see. Everything else is an internal error and stays masked.
 * The GraphQL layer exposes these as typed results; the message never carries secrets.
 */
export abstract class VisibleError extends Error {
  abstract readonly code: string;
}

/** The thing does not exist, or the caller may not know it exists (same answer for both). */
export class NotFound extends VisibleError {
  readonly code = "NOT_FOUND";
  constructor(readonly what: string) {
    super(`${what} not found`);
    this.name = "NotFound";
  }
}

/** Why a visible thing is refused (ForbiddenError.reason); callers who cannot see the account get NotFound instead. */
export const forbiddenReasons = [
  /** The caller's role (on the account or above it) is too low for this. */
  "ROLE",
  /** Commercial work on the subtree needs the SELLER flag on the partner account. */
  "NOT_SELLER",
  /** Tenant administration of a customer: its own admins, or a partner admin while the customer opted in. */
  "NO_OPT_IN",
  /** The platform has not enabled the partner capability (PARTNER_ADMIN) on the reseller. */
  "CAPABILITY_OFF",
  /** The parent has not granted the reseller right (canCreateAccounts, canCreateEquipment). */
  "RESELLER_RIGHTS",
  /** The seller above has not delegated subscription changes to the account's own admins. */
  "NOT_DELEGATED",
  /** Only the vendor's platform operators do this. */
  "OPERATOR_ONLY",
  /** The action does not apply to this kind of account, or to this state of it. */
  "NOT_APPLICABLE",
  /** The credential is not the one this is bound to (another e-mail, another device). */
  "IDENTITY",
  /** Partner admins on behalf of a customer do not do this (owners, themselves). */
  "ON_BEHALF_LIMIT",
] as const;
export type ForbiddenReason = (typeof forbiddenReasons)[number];

/** The caller can see the thing but may not do this to it; `reason` says why in a stable code. */
export class Forbidden extends VisibleError {
  readonly code = "FORBIDDEN";
  constructor(
    message = "You are not allowed to do this",
    readonly reason: ForbiddenReason = "ROLE",
  ) {
    super(message);
    this.name = "Forbidden";
  }
}

export interface Issue {
  readonly path: readonly string[];
  readonly message: string;
}

/** The input breaks a rule; `issues` name each field. */
export class Invalid extends VisibleError {
  readonly code = "INVALID";
  constructor(readonly issues: readonly Issue[]) {
    super(issues.map((i) => (i.path.length ? `${i.path.join(".")}: ${i.message}` : i.message)).join("; "));
    this.name = "Invalid";
  }
  static field(path: string, message: string): Invalid {
    return new Invalid([{ path: path.split("."), message }]);
  }
}

/** The change collides with the current state (a concurrent change, a duplicate, a stale version). */
export class Conflict extends VisibleError {
  readonly code = "CONFLICT";
  constructor(message: string) {
    super(message);
    this.name = "Conflict";
  }
}

/** No valid credential for an operation that needs one. */
export class Unauthenticated extends VisibleError {
  readonly code = "UNAUTHENTICATED";
  constructor(message = "Sign in first") {
    super(message);
    this.name = "Unauthenticated";
  }
}

/** The account used up a per-account allowance (invitations, activation attempts) for the current window. */
export class RateLimited extends VisibleError {
  readonly code = "RATE_LIMITED";
  constructor(
    message: string,
    /** Seconds until the window ends. */
    readonly retryAfterSeconds: number,
  ) {
    super(message);
    this.name = "RateLimited";
  }
}

/**
 * What `node(id)` answers: the object, or undefined when it is unknown, outside the caller's reach
 * (NotFound, Forbidden: a node lookup never tells the two apart) or the reference is malformed.
 */
export async function unlessHidden<T>(read: () => Promise<T | undefined>): Promise<T | undefined> {
  try {
    return await read();
  } catch (err) {
    if (err instanceof NotFound || err instanceof Forbidden || err instanceof Invalid) return undefined;
    throw err;
  }
}
