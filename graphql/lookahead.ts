/**
 * Lookahead: the arguments of a field the request selects further down, so a resolver can start
 * a read the next level will need beside its own (the hierarchy page's children Query beside the
 * rights check). Written by hand on graphql-js's own `getArgumentValues`: the lookahead libraries
 * (graphql-parse-resolve-info) load graphql through CommonJS, a second copy of graphql beside the
 * ESM one this server uses.
 */
import {
  GraphQLIncludeDirective,
  GraphQLSkipDirective,
  Kind,
  getArgumentValues,
  getDirectiveValues,
  getNamedType,
  isAbstractType,
  isObjectType,
} from "graphql";
import type {
  FieldNode,
  GraphQLField,
  GraphQLObjectType,
  GraphQLOutputType,
  GraphQLResolveInfo,
  SelectionNode,
  SelectionSetNode,
} from "graphql";

/**
 * One step down: `field` of the object type `type` (needed where the field above returns a union or
 * an interface; otherwise the type that field returns).
 */
export interface Step {
  readonly type?: string;
  readonly field: string;
}

function included(info: GraphQLResolveInfo, node: SelectionNode): boolean {
  if (getDirectiveValues(GraphQLSkipDirective, node, info.variableValues)?.if === true) return false;
  return getDirectiveValues(GraphQLIncludeDirective, node, info.variableValues)?.if !== false;
}

/** Whether a fragment on `condition` applies to an object of type `type`. */
function applies(info: GraphQLResolveInfo, condition: string | undefined, type: GraphQLObjectType): boolean {
  if (!condition || condition === type.name) return true;
  const c = info.schema.getType(condition);
  return c !== undefined && isAbstractType(c) && info.schema.isSubType(c, type);
}

function collect(
  info: GraphQLResolveInfo,
  set: SelectionSetNode | undefined,
  type: GraphQLObjectType,
  field: string,
  out: FieldNode[],
): void {
  for (const node of set?.selections ?? []) {
    if (!included(info, node)) continue;
    if (node.kind === Kind.FIELD) {
      if (node.name.value === field) out.push(node);
    } else if (node.kind === Kind.INLINE_FRAGMENT) {
      if (applies(info, node.typeCondition?.name.value, type)) collect(info, node.selectionSet, type, field, out);
    } else {
      const fragment = info.fragments[node.name.value];
      if (fragment && applies(info, fragment.typeCondition.name.value, type))
        collect(info, fragment.selectionSet, type, field, out);
    }
  }
}

/**
 * The arguments of the field reached from the current field by `path`, when the request selects
 * it exactly once on that path (aliases of it with other arguments, or none: undefined).
 */
export function lookahead(info: GraphQLResolveInfo, path: readonly Step[]): Record<string, unknown> | undefined {
  let nodes: readonly FieldNode[] = info.fieldNodes;
  let below: GraphQLOutputType = info.returnType;
  let last: { node: FieldNode; def: GraphQLField<unknown, unknown> } | undefined;
  for (const step of path) {
    const type = step.type ? info.schema.getType(step.type) : getNamedType(below);
    if (!isObjectType(type)) return undefined;
    const def = type.getFields()[step.field];
    if (!def) return undefined;
    const found: FieldNode[] = [];
    for (const n of nodes) collect(info, n.selectionSet, type, step.field, found);
    if (found.length !== 1) return undefined;
    nodes = found;
    below = def.type;
    last = { node: found[0]!, def };
  }
  if (!last) return undefined;
  try {
    return getArgumentValues(last.def, last.node, info.variableValues);
  } catch {
    return undefined;
  }
}
