import { MapperKind, mapSchema } from "@graphql-tools/utils";
import { getNamedType, isObjectType } from "graphql";
import type { GraphQLNamedType, GraphQLSchema } from "graphql";

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
 * - the `data` field of each typed-result Success type says which field it answers.
 */
export function publicConventions(schema: GraphQLSchema): GraphQLSchema {
  return mapSchema(schema, {
    [MapperKind.COMPOSITE_FIELD]: (field, fieldName, typeName) => {
      if (isConnection(getNamedType(field.type)) && field.args && ("last" in field.args || "before" in field.args)) {
        const { last: _last, before: _before, ...args } = field.args;
        return { ...field, args };
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
