import SchemaBuilder from "@pothos/core";
import ErrorsPlugin from "@pothos/plugin-errors";
import RelayPlugin from "@pothos/plugin-relay";
import { CountryCodeResolver, CurrencyResolver, DateTimeResolver, EmailAddressResolver } from "graphql-scalars";
import type { Session } from "../core/context.js";
import { Conflict, Forbidden, Invalid, NotFound } from "../core/errors.js";

export interface Context {
  readonly session: Session;
}

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
