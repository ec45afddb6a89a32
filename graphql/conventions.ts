import SchemaBuilder, { BasePlugin } from "@pothos/core";
import type { PothosOutputFieldConfig, SchemaTypes } from "@pothos/core";
import type { GraphQLFieldResolver } from "graphql";
import { Invalid } from "../core/errors.js";
import type { CursorSeal } from "./cursors.js";

/** What the conventions need of the request's context (graphql/builder.ts's Context has it). */
interface SealingContext {
  cursors(): Promise<CursorSeal>;
}

/** Relay's connection arguments: a field with all four is a connection. */
const CONNECTION_ARGS = ["first", "after", "last", "before"] as const;
/** The extension naming a connection's list ("Type.field") for its sealed cursors. */
const SEALED = "sealedCursors";

/**
 * The public schema's conventions that Pothos has no option for, applied to each field as the
 * builder builds it (a plugin, so the schema is built once, not built and then rebuilt):
 * - connections page forward only (`first`/`after`): the `last`/`before` arguments the relay plugin
 *   always adds are removed, so a client asking for backward paging is refused at validation
 *   instead of being told so at run time;
 * - cursors are opaque: every connection's cursors leave sealed (./cursors.ts) and `after` is opened
 *   before the resolver sees it; a cursor that does not open is refused on `after`;
 * - connection fields are nullable: an argument error (BAD_USER_INPUT, with the issues and the path)
 *   nulls that list only, never its siblings or the whole answer;
 * - the `data` field of each typed-result Success type says which field it answers.
 */
export class PublicConventionsPlugin<Types extends SchemaTypes> extends BasePlugin<Types> {
  override onOutputFieldConfig(field: PothosOutputFieldConfig<Types>): PothosOutputFieldConfig<Types> {
    if (CONNECTION_ARGS.every((a) => a in field.args)) {
      const { last: _last, before: _before, ...args } = field.args;
      return {
        ...field,
        args,
        type: { ...field.type, nullable: true } as typeof field.type,
        extensions: { ...field.extensions, [SEALED]: `${field.parentType}.${field.name}` },
      };
    }
    if (field.name === "data" && field.parentType.endsWith("Success") && !field.description) {
      const m = /^(Query|Mutation)(\w+)Success$/.exec(field.parentType);
      const of = m ? `\`${m[1]}.${m[2]!.charAt(0).toLowerCase()}${m[2]!.slice(1)}\`` : "the field";
      return { ...field, description: `What ${of} answers when it succeeds` };
    }
    return field;
  }

  override wrapResolve(
    resolver: GraphQLFieldResolver<unknown, Types["Context"], object>,
    field: PothosOutputFieldConfig<Types>,
  ): GraphQLFieldResolver<unknown, Types["Context"], object> {
    const list = field.extensions?.[SEALED];
    return typeof list === "string" ? sealed(list, resolver) : resolver;
  }
}

/** The plugin's name, for the builder's `plugins` list (first: its cursors wrap every other plugin's resolver). */
export const PUBLIC_CONVENTIONS_PLUGIN = "publicConventions";
SchemaBuilder.registerPlugin(PUBLIC_CONVENTIONS_PLUGIN, PublicConventionsPlugin);

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  export namespace PothosSchemaTypes {
    export interface Plugins<Types extends SchemaTypes> {
      publicConventions: PublicConventionsPlugin<Types>;
    }
  }
}

interface ConnectionShape {
  readonly edges: ReadonlyArray<{ readonly cursor: string }>;
  readonly pageInfo: { readonly startCursor: string | null; readonly endCursor: string | null };
}

/** A connection resolver that reads and writes sealed cursors of the list `list` ("Type.field"). */
function sealed<C>(
  list: string,
  resolve: GraphQLFieldResolver<unknown, C, object>,
): GraphQLFieldResolver<unknown, C, object> {
  return async (source, rawArgs, ctx, info) => {
    const args = rawArgs as Record<string, unknown>;
    const seal: CursorSeal = await (ctx as SealingContext).cursors();
    let opened = args;
    if (args.after !== undefined && args.after !== null) {
      const inner = seal.open(list, String(args.after));
      if (inner === undefined) throw Invalid.field("after", "is not a cursor of this list");
      opened = { ...args, after: inner };
    }
    const connection = (await resolve(source, opened, ctx, info)) as ConnectionShape | null | undefined;
    if (!connection) return connection;
    // Sealed when read: a page whose cursors are not selected (a nested list's, usually) seals none.
    const close = (c: string | null) => (c === null ? null : seal.seal(list, c));
    const { startCursor, endCursor } = connection.pageInfo;
    return {
      ...connection,
      edges: connection.edges.map((e) => ({
        ...e,
        get cursor() {
          return seal.seal(list, e.cursor);
        },
      })),
      pageInfo: {
        ...connection.pageInfo,
        get startCursor() {
          return close(startCursor);
        },
        get endCursor() {
          return close(endCursor);
        },
      },
    };
  };
}

/** The store's cursor inside a sealed `after` of the list `list` ("Type.field"), or undefined. */
export async function openCursor(ctx: SealingContext, list: string, after: string): Promise<string | undefined> {
  return (await ctx.cursors()).open(list, after);
}
