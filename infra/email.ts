/**
 * E-mail comparison that cannot be aliased (security rule 2): case folding is ASCII-only, and an
 * address that Unicode case folding or NFKC would change is refused, so no two spellings can reach
 * the same person or invitation (e.g. the Kelvin sign U+212A folds to "k" under Unicode rules).
 */

/** Lower-cases A-Z only. */
export function asciiLower(v: string): string {
  return v.replace(/[A-Z]/g, (c) => c.toLowerCase());
}

/**
 * The canonical form of an address (trimmed, ASCII lower case), or undefined when the address
 * would change under Unicode case folding or NFKC: such an address is refused, never mapped.
 */
export function foldEmail(raw: string): string | undefined {
  const folded = asciiLower(raw.trim());
  if (folded.normalize("NFKC") !== folded) return undefined;
  // Full case folding: lower, upper-then-lower (ß → SS → ss, final sigma), and NFKC of each.
  if (folded.toLowerCase() !== folded || folded.toUpperCase().toLowerCase() !== folded) return undefined;
  if (folded.toLocaleLowerCase("tr") !== folded || folded.toLocaleUpperCase("tr").toLocaleLowerCase("tr") !== folded)
    return undefined;
  return folded;
}
