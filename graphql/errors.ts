import { Conflict, Forbidden, Invalid, NotFound, forbiddenReasons } from "../core/errors.js";
import type { Issue, VisibleError } from "../core/errors.js";
import { builder } from "./builder.js";

/** The interface every typed error result implements: a stable code and a readable message. */
export const ErrorInterface = builder.interfaceRef<VisibleError>("Error").implement({
  description: "A typed error a field answers instead of its data; nothing was written",
  fields: (t) => ({
    code: t.exposeString("code", { description: "Stable code: NOT_FOUND, FORBIDDEN, INVALID, CONFLICT" }),
    message: t.exposeString("message", { description: "Readable explanation (never contains secrets)" }),
  }),
});

builder.objectType(NotFound, {
  name: "NotFoundError",
  description: "The thing does not exist, or you may not know that it exists (the same answer for both)",
  interfaces: [ErrorInterface],
  isTypeOf: (v) => v instanceof NotFound,
  fields: () => ({}),
});
const reasonDescriptions: Record<(typeof forbiddenReasons)[number], string> = {
  ROLE: "Your role on the account (or above it) is too low for this",
  NOT_SELLER: "Work on the accounts below a partner needs the SELLER flag on that partner",
  NO_OPT_IN: "Tenant administration of a customer: its own admins, or a partner admin while the customer opted in",
  CAPABILITY_OFF: "The platform has not enabled this partner capability (PARTNER_ADMIN) on the reseller",
  RESELLER_RIGHTS: "The parent has not granted this reseller right (canCreateAccounts, canCreateEquipment)",
  NOT_DELEGATED:
    "A seller above has not delegated subscription changes (canUpdateSubscriptions, canDecreaseSubscriptions) to this account",
  OPERATOR_ONLY: "Only the vendor's platform operators do this",
  NOT_APPLICABLE: "This does not apply to this kind of account or to its current state",
  IDENTITY: "The credential is not the one this is bound to (another e-mail address, another device)",
  ON_BEHALF_LIMIT: "Partner admins acting on behalf of a customer do not do this",
};

const ForbiddenReasonEnum = builder.enumType("ForbiddenReason", {
  description: "Why a request on something you can see was refused",
  values: Object.fromEntries(forbiddenReasons.map((r) => [r, { description: reasonDescriptions[r] }])) as Record<
    (typeof forbiddenReasons)[number],
    { description: string }
  >,
});

builder.objectType(Forbidden, {
  name: "ForbiddenError",
  description: "You can see the thing but may not do this to it (things you cannot see answer NotFoundError)",
  interfaces: [ErrorInterface],
  isTypeOf: (v) => v instanceof Forbidden,
  fields: (t) => ({
    reason: t.field({ type: ForbiddenReasonEnum, description: "Why, as a stable code", resolve: (e) => e.reason }),
  }),
});
builder.objectType(Conflict, {
  name: "ConflictError",
  description: "The change collides with the current state (a concurrent change, a duplicate, a stale version)",
  interfaces: [ErrorInterface],
  isTypeOf: (v) => v instanceof Conflict,
  fields: () => ({}),
});

const IssueRef = builder.objectRef<Issue>("ValidationIssue").implement({
  description: "One broken rule of the input. A value, not an entity",
  fields: (t) => ({
    path: t.exposeStringList("path", {
      description: 'Path of the offending field within the input, e.g. ["owner", "email"]',
    }),
    message: t.exposeString("message", { description: "What is wrong with it" }),
  }),
});

builder.objectType(Invalid, {
  name: "ValidationError",
  description: "The input breaks a rule; each issue names the field",
  interfaces: [ErrorInterface],
  isTypeOf: (v) => v instanceof Invalid,
  fields: (t) => ({
    issues: t.field({
      type: [IssueRef],
      description: "Every broken rule, with the path of its field",
      resolve: (e) => [...e.issues],
    }),
  }),
});
