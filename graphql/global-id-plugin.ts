import SchemaBuilder, { BasePlugin, PothosValidationError } from "@pothos/core";
import type { PothosOutputFieldConfig, SchemaTypes } from "@pothos/core";
import type { GraphQLFieldResolver } from "graphql";
import { NotFound } from "../core/errors.js";

/*
 * One mapping for global-id arguments (`t.arg.globalID` and input `t.globalID` fields, decoded by
 * Pothos' Relay plugin before the resolver runs): an id of another type, or one the builder's
 * decoder could not read, is answered like an unknown id of the expected type, `NotFound`, which
 * the errors plugin turns into the field's typed `NotFoundError` (`unsafelyHandleInputErrors`).
 * Only fields with argument mappers are wrapped. Written by hand: Relay raises a plain
 * PothosValidationError, and no plugin maps it to a domain error.
 */

/** GraphQL type names that differ from the domain's word, so a bad id reads like an unknown one ("Subscription not found"). */
export const DOMAIN_NAMES: Readonly<Record<string, string>> = { LicenceSubscription: "Subscription" };

/** The domain word for a GraphQL type name. */
export const domainName = (typename: string): string => DOMAIN_NAMES[typename] ?? typename;

// Relay's message when a decoded id is not of the `for` type(s): "ID: <id> is not of type: A, B".
const NOT_OF_TYPE = /is not of type: ([A-Za-z0-9_]+)/;

export class GlobalIdNotFoundPlugin<Types extends SchemaTypes> extends BasePlugin<Types> {
  override wrapArgMappers(
    resolver: GraphQLFieldResolver<unknown, Types["Context"], object> | undefined,
    fieldConfig: PothosOutputFieldConfig<Types>,
  ): GraphQLFieldResolver<unknown, Types["Context"], object> | undefined {
    if (!resolver || fieldConfig.argMappers.length === 0) return resolver;
    return async (parent, args, ctx, info) => {
      try {
        return await resolver(parent, args, ctx, info);
      } catch (err) {
        const expected = err instanceof PothosValidationError ? NOT_OF_TYPE.exec(err.message)?.[1] : undefined;
        if (expected) throw new NotFound(domainName(expected));
        throw err;
      }
    };
  }
}

/** The plugin's name, for the builder's `plugins` list (after the errors plugin, before Relay). */
export const GLOBAL_ID_PLUGIN = "globalIdNotFound";
SchemaBuilder.registerPlugin(GLOBAL_ID_PLUGIN, GlobalIdNotFoundPlugin);

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  export namespace PothosSchemaTypes {
    export interface Plugins<Types extends SchemaTypes> {
      globalIdNotFound: GlobalIdNotFoundPlugin<Types>;
    }
  }
}
