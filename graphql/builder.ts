import type { Telemetry } from "../infra/telemetry.js";
import SchemaBuilder from "@pothos/core";
import ErrorsPlugin from "@pothos/plugin-errors";
import RelayPlugin, { decodeGlobalID } from "@pothos/plugin-relay";
import { CountryCodeResolver, CurrencyResolver, DateTimeResolver, EmailAddressResolver } from "graphql-scalars";
import type { Session } from "../core/context.js";
import { Conflict, Forbidden, Invalid, NotFound } from "../core/errors.js";

export interface Context {
  readonly session: Session;
  /** The server's logs and metrics, when it has them (the business metrics of mutation results). */
  readonly telemetry?: Telemetry;
}

/** Types with global ids that `node(id)` resolves. */
const NODE_TYPES = new Set(["Account", "LicenceSubscription", "Order", "Invoice", "Equipment", "ApiClient", "Event", "WebhookEndpoint", "WebhookDelivery"]);
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
  plugins: [ErrorsPlugin, RelayPlugin],
  defaultFieldNullability: false,
  relay: {
    // A malformed id or one of a type that has no nodes is an unknown id (`node` answers null), not an error.
    decodeGlobalID: (globalID) => {
      try {
        const decoded = decodeGlobalID(globalID);
        if (NODE_TYPES.has(decoded.typename)) return decoded;
      } catch {
        // fall through
      }
      return { typename: "Account", id: UNKNOWN_ID };
    },
    clientMutationId: "omit",
    cursorType: "String",
    nodesQueryOptions: false,
  },
  errors: {
    // Every field with an `errors` option returns these typed results (DESIGN 4).
    defaultTypes: [NotFound, Forbidden, Invalid, Conflict],
  },
});

builder.addScalarType("DateTime", DateTimeResolver);
builder.addScalarType("EmailAddress", EmailAddressResolver);
builder.addScalarType("CountryCode", CountryCodeResolver);
builder.addScalarType("Currency", CurrencyResolver);

builder.queryType({});
builder.mutationType({});
