import type { Telemetry } from "../infra/telemetry.js";
import SchemaBuilder from "@pothos/core";
import ComplexityPlugin from "@pothos/plugin-complexity";
import ErrorsPlugin from "@pothos/plugin-errors";
import RelayPlugin, { decodeGlobalID } from "@pothos/plugin-relay";
import { GLOBAL_ID_PLUGIN } from "./global-id-plugin.js";
import { PUBLIC_CONVENTIONS_PLUGIN } from "./conventions.js";
import { CountryCodeResolver, CurrencyResolver, DateTimeResolver, EmailAddressResolver } from "graphql-scalars";
import type { Session } from "../core/context.js";
import type { CursorSeal } from "./cursors.js";
import { Conflict, Forbidden, Invalid, NotFound } from "../core/errors.js";
import { RequestBudgetExceeded } from "../infra/request-budget.js";
import { DEFAULT_PAGE, MAX_PAGE } from "../core/paging.js";

export interface Context {
  readonly session: Session;
  /** The server's logs and metrics, when it has them (the business metrics of mutation results). */
  readonly telemetry?: Telemetry;
  /** Seals and opens the cursors of connections (loaded on first use: the stage's secret). */
  readonly cursors: () => Promise<CursorSeal>;
  /** DynamoDB requests this request may make: its operation's estimate is checked against it before it runs. */
  readonly requestBudget: number;
}

/**
 * The estimate of an operation, in DynamoDB requests: a page of a connection is one query, and what
 * is selected on its nodes counts once per node asked for (`first`); fields that read more say so
 * with their own `complexity` (e.g. subscriptionOverview). Everything else is read through the
 * request's batching loader and counts nothing here; the exact count is kept as the request runs.
 */
function estimatedRequests(
  args: Record<string, unknown>,
  _ctx: Context,
  field: { readonly type: unknown },
): { field: number; multiplier: number } {
  const connection = /Connection!?$/.test(String(field.type));
  if (!connection) return { field: 0, multiplier: 1 };
  const first = typeof args.first === "number" && args.first > 0 ? Math.min(args.first, MAX_PAGE) : DEFAULT_PAGE;
  return { field: 1, multiplier: first };
}

/** Types with global ids that `node(id)` resolves. */
const NODE_TYPES = new Set([
  "Account",
  "LicenceSubscription",
  "Order",
  "Invoice",
  "Equipment",
  "ApiClient",
  "Event",
  "WebhookEndpoint",
  "WebhookDelivery",
  "Member",
  "Invitation",
  "AuditEvent",
  "Offer",
  "Licence",
  "LicenceSubscriptionChange",
  "InvoiceLine",
  "EquipmentTenant",
  "ExtensionAssignment",
  "AdministeredCustomer",
  "PartnerAction",
  "Ticket",
  "TicketComment",
  "PhoneNumber",
]);
/** The longest local id a global id may carry (a member's: its account and e-mail address); far under DynamoDB's key limits. */
const MAX_LOCAL_ID = 400;
/** Longer than any id the store accepts: looked up as missing without a request. */
const UNKNOWN_ID = "?".repeat(256);

/** Configuration only: plugins, scalars, context. Types live in graphql/types, mutations in graphql/mutations. */
export const builder = new SchemaBuilder<{
  Context: Context;
  Scalars: {
    DateTime: { Input: Date; Output: Date | string };
    EmailAddress: { Input: string; Output: string };
    CountryCode: { Input: string; Output: string };
    Currency: { Input: string; Output: string };
  };
  DefaultFieldNullability: false;
}>({
  // Between the errors plugin and Relay: a global-id argument of another type is a NotFound the field's
  // typed errors carry (graphql/global-id-plugin.ts).
  plugins: [PUBLIC_CONVENTIONS_PLUGIN, ErrorsPlugin, GLOBAL_ID_PLUGIN, RelayPlugin, ComplexityPlugin],
  defaultFieldNullability: false,
  complexity: {
    fieldComplexity: estimatedRequests,
    limit: (ctx: Context) => ({ complexity: ctx.requestBudget }),
    complexityError: (_kind, result) => new RequestBudgetExceeded(result.maxComplexity ?? 0, result.complexity),
  },
  relay: {
    // A malformed id, one of a type that has no nodes or one longer than any key is an unknown id (`node`
    // answers null; a global-id argument of another type is NotFound), not an error.
    decodeGlobalID: (globalID) => {
      try {
        const decoded = decodeGlobalID(globalID);
        if (NODE_TYPES.has(decoded.typename) && decoded.id.length > 0 && decoded.id.length <= MAX_LOCAL_ID)
          return decoded;
      } catch {
        // fall through
      }
      return { typename: "Account", id: UNKNOWN_ID };
    },
    clientMutationId: "omit",
    cursorType: "String",
    nodesQueryOptions: false,
    // The descriptions of the plumbing every connection shares (the public schema describes everything).
    nodeTypeOptions: {
      description: "An object with a global id; `Query.node(id)` fetches it again (Relay object identification)",
    },
    idFieldOptions: { description: "Global id: opaque, unique across all types, stable; pass it back as is" },
    nodeQueryOptions: {
      description: "The object with this global id, or null when it is unknown or you may not see it",
      args: { id: { description: "A global id read from an `id` field" } },
    },
    pageInfoTypeOptions: {
      description: "Where a page sits in its list: whether more follow, and the cursors to continue from",
    },
    hasNextPageFieldOptions: { description: "More items follow: ask again with `after: endCursor`" },
    hasPreviousPageFieldOptions: { description: "Always false: lists page forward only" },
    startCursorFieldOptions: { description: "Cursor of the first edge of the page; null when the page is empty" },
    endCursorFieldOptions: {
      description: "Cursor of the last edge of the page (pass as `after`); null when the page is empty",
    },
    edgesFieldOptions: { description: "The items of this page, in the list's order" },
    pageInfoFieldOptions: { description: "Whether more items follow, and the cursor to ask for them" },
    cursorFieldOptions: { description: "Opaque, signed position of this item; pass as `after` to continue behind it" },
    nodeFieldOptions: { description: "The item" },
    firstArgOptions: { description: `How many items to return: 1 to ${MAX_PAGE} (default ${DEFAULT_PAGE})` },
    afterArgOptions: {
      description: "Continue behind this cursor (`pageInfo.endCursor` or an edge's `cursor` of the same list)",
    },
    defaultConnectionTypeOptions: { description: "A page of a list, paged forward with `first` and `after`" },
    defaultEdgeTypeOptions: { description: "One item of a page, with its cursor" },
  },
  errors: {
    // Every field with an `errors` option returns these typed results (DESIGN 4).
    defaultTypes: [NotFound, Forbidden, Invalid, Conflict],
    // Global-id arguments are decoded before the resolver runs: their NotFound is the field's typed error too.
    unsafelyHandleInputErrors: true,
    defaultUnionOptions: { description: "The field's data (the Success member) or the typed error that prevented it" },
    defaultResultOptions: { description: "The field succeeded: its value is in `data`" },
  },
});

builder.addScalarType("DateTime", DateTimeResolver);
builder.addScalarType("EmailAddress", EmailAddressResolver);
builder.addScalarType("CountryCode", CountryCodeResolver);
builder.addScalarType("Currency", CurrencyResolver);

builder.queryType({
  description: "Reads: the signed-in caller, accounts and what hangs below them, the catalog, invoices",
});
builder.mutationType({
  description: "Writes: each answers its Success member or a typed error, and writes nothing on error",
});
