/**
 * What the tests that call every field of the executable schema share (test/isolation-matrix.test.ts,
 * test/schema-fuzz.test.ts): which node type an id argument names, and selections of every leaf to
 * `depth` levels of objects, every member of a union or interface, same-named fields of different
 * types aliased per member.
 */
import { getNamedType, isInterfaceType, isLeafType, isUnionType } from "graphql";
import type { GraphQLField, GraphQLObjectType, GraphQLOutputType, GraphQLSchema } from "graphql";

/** Id argument (or input field) name → the node type whose global id it takes; a bare `id` depends on its field. */
export const NODE_TYPE_BY_ID_SLOT = {
  accountId: "Account",
  parentId: "Account",
  customerId: "Account",
  resellerId: "Account",
  within: "Account",
  subscriptionId: "LicenceSubscription",
  equipmentId: "Equipment",
  orderId: "Order",
  invoiceId: "Invoice",
  clientId: "ApiClient",
  endpointId: "WebhookEndpoint",
  eventId: "Event",
  ticketId: "Ticket",
} as const;

/** Which fields below the root are left out (e.g. those that need arguments). */
export type SkipField = (field: GraphQLField<unknown, unknown>) => boolean;

export function selection(schema: GraphQLSchema, type: GraphQLOutputType, depth: number, skip: SkipField): string {
  const n = getNamedType(type);
  if (isLeafType(n)) return "";
  if (isUnionType(n) || isInterfaceType(n)) {
    const members = isUnionType(n) ? n.getTypes() : schema.getPossibleTypes(n);
    // Members may have same-named fields of different types: those get an alias per member (the
    // others merge, and keep the query under the alias limit).
    const typesOf = new Map<string, Set<string>>();
    for (const m of members)
      for (const f of Object.values(m.getFields()))
        typesOf.set(f.name, (typesOf.get(f.name) ?? new Set()).add(String(f.type)));
    const conflicting = new Set([...typesOf].filter(([, types]) => types.size > 1).map(([name]) => name));
    return `__typename ${members.map((m) => `... on ${m.name} { ${objectSelection(schema, m, depth, skip, m.name, conflicting)} }`).join(" ")}`;
  }
  return objectSelection(schema, n, depth, skip);
}

function objectSelection(
  schema: GraphQLSchema,
  type: GraphQLObjectType,
  depth: number,
  skip: SkipField,
  aliasPrefix?: string,
  conflicting?: ReadonlySet<string>,
): string {
  const parts = ["__typename"];
  for (const f of Object.values(type.getFields())) {
    if (skip(f)) continue;
    const n = getNamedType(f.type);
    const name = aliasPrefix && conflicting?.has(f.name) ? `${aliasPrefix}_${f.name}: ${f.name}` : f.name;
    if (isLeafType(n)) parts.push(name);
    else if (depth > 0) parts.push(`${name} { ${selection(schema, f.type, depth - 1, skip)} }`);
  }
  return parts.join(" ");
}
