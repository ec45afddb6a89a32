/**
 * The values of a GraphQL enum from the domain's own list, each with its description. A value the
 * domain adds without a description here fails to compile, and the schema lists the values in
 * the domain's order.
 */
export function valuesOf<const T extends string>(
  domain: readonly T[],
  descriptions: { readonly [K in T]: string },
): { [K in T]: { description: string } } {
  return Object.fromEntries(domain.map((value) => [value, { description: descriptions[value] }])) as {
    [K in T]: { description: string };
  };
}
