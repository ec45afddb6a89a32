import type { Session } from "./context.js";
import * as Invitation from "./invitation.js";
import * as Move from "./move.js";

/**
 * Accepts an invitation by its token: joins the account (MEMBER) or moves the account under its
 * new parent (ACCOUNT_MOVE). Single use. Kept apart so that `invitation.ts` stays a leaf that
 * `move.ts` and `account.ts` build on.
 */
export async function accept(s: Session, token: string): Promise<Invitation.Accepted> {
  const inv = await Invitation.open(s, token);
  return inv.kind === "ACCOUNT_MOVE" ? Move.complete(s, inv) : Invitation.join(s, inv);
}
