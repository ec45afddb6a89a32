import { MapperKind, mapSchema } from "@graphql-tools/utils";
import { defaultFieldResolver, getNamedType, isNonNullType, isObjectType } from "graphql";
import type { GraphQLFieldResolver, GraphQLNamedType, GraphQLSchema } from "graphql";
import { Invalid } from "../core/errors.js";
import type { Context } from "./builder.js";
import type { CursorSeal } from "./cursors.js";

/** A Relay connection type, as Pothos builds them: `edges` and `pageInfo`. */
function isConnection(type: GraphQLNamedType): boolean {
  if (!isObjectType(type)) return false;
  const fields = type.getFields();
  return "edges" in fields && "pageInfo" in fields;
}

/**
 * The public schema's conventions that Pothos has no option for, applied once to the built schema:
 * - connections page forward only (`first`/`after`): the `last`/`before` arguments the relay plugin
 *   always adds are removed, so a client asking for backward paging is refused at validation
 *   instead of being told so at run time;
 * - cursors are opaque: every connection's cursors leave sealed (./cursors.ts) and `after` is opened
 *   before the resolver sees it; a cursor that does not open is refused on `after`;
 * - connection fields are nullable: an argument error (BAD_USER_INPUT, with the issues and the path)
 *   nulls that list only;
 * - the `data` field of each typed-result Success type says which field it answers.
 */
export function publicConventions(schema: GraphQLSchema): GraphQLSchema {
  return mapSchema(schema, {
    [MapperKind.COMPOSITE_FIELD]: (field, fieldName, typeName) => {
      if (isConnection(getNamedType(field.type))) {
        const { last: _last, before: _before, ...args } = field.args ?? {};
        // Nullable, so a refused argument (first: 100000, a foreign cursor) nulls this list only, with
        // its error and path, never its siblings or the whole answer.
        const type = isNonNullType(field.type) ? field.type.ofType : field.type;
        return {
          ...field,
          type,
          args,
          resolve: sealed(`${typeName}.${fieldName}`, field.resolve ?? defaultFieldResolver),
        };
      }
      if (fieldName === "data" && typeName.endsWith("Success") && !field.description) {
        const m = /^(Query|Mutation)(\w+)Success$/.exec(typeName);
        const of = m ? `\`${m[1]}.${m[2]!.charAt(0).toLowerCase()}${m[2]!.slice(1)}\`` : "the field";
        return { ...field, description: `What ${of} answers when it succeeds` };
      }
      return field;
    },
  });
}

interface ConnectionShape {
  readonly edges: ReadonlyArray<{ readonly cursor: string }>;
  readonly pageInfo: { readonly startCursor: string | null; readonly endCursor: string | null };
}

/** A connection resolver that reads and writes sealed cursors of the list `list` ("Type.field"). */
function sealed(list: string, resolve: GraphQLFieldResolver<unknown, Context>): GraphQLFieldResolver<unknown, Context> {
  return async (source, args: Record<string, unknown>, ctx, info) => {
    const seal: CursorSeal = await ctx.cursors();
    let opened = args;
    if (args.after !== undefined && args.after !== null) {
      const inner = seal.open(list, String(args.after));
      if (inner === undefined) throw Invalid.field("after", "is not a cursor of this list");
      opened = { ...args, after: inner };
    }
    const connection = (await resolve(source, opened, ctx, info)) as ConnectionShape | null | undefined;
    if (!connection) return connection;
    const close = (c: string | null) => (c === null ? null : seal.seal(list, c));
    return {
      ...connection,
      edges: connection.edges.map((e) => ({ ...e, cursor: seal.seal(list, e.cursor) })),
      pageInfo: {
        ...connection.pageInfo,
        startCursor: close(connection.pageInfo.startCursor),
        endCursor: close(connection.pageInfo.endCursor),
      },
    };
  };
}
