import type { accountKinds } from "../infra/entities/account.js";
import { Invalid } from "./errors.js";

/** The shape of the account tree (DESIGN 1, "Account hierarchy"): who may sit under whom, how deep. */
export type Kind = (typeof accountKinds)[number];

/** Allowed parent -> child kinds. */
export const allowedChildren: Record<Kind, readonly Kind[]> = {
  PLATFORM: ["DISTRIBUTOR"],
  DISTRIBUTOR: ["RESELLER", "CUSTOMER"],
  RESELLER: ["CUSTOMER", "RESELLER"],
  CUSTOMER: [],
};

/** A reseller may have sub-resellers down to six reseller levels. */
export const MAX_RESELLER_LEVELS = 6;

/** Reseller level of an account at a given depth (the length of its path, its ancestors): resellers sit below a distributor (depth 1). */
export const resellerLevel = (depth: number): number => depth - 1;

/** Refuses a child kind its parent may not have; `field` names the input that chose the pair. */
export function assertChildAllowed(parent: Kind, child: Kind, field: "kind" | "parentId"): void {
  if (!allowedChildren[parent].includes(child))
    throw Invalid.field(field, `a ${parent} account cannot have a ${child} child`);
}

/** Refuses a reseller at `depth` (the length of its path) beyond the deepest reseller level. */
export function assertResellerDepth(depth: number): void {
  if (resellerLevel(depth) > MAX_RESELLER_LEVELS)
    throw Invalid.field("parentId", `resellers nest at most ${MAX_RESELLER_LEVELS} levels deep`);
}
