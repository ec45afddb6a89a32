import type { AccountRecord, Membership } from "../infra/store.js";
import type { Session } from "./context.js";

export interface MembershipInfo extends Membership {
  readonly account: AccountRecord;
}

export interface Info {
  readonly email: string;
  readonly emailVerified: boolean;
  readonly memberships: readonly MembershipInfo[];
}

/** The caller and the accounts they belong to (one BatchGetItem for the accounts). */
export async function get(s: Session): Promise<Info> {
  const user = s.user();
  const ms = await s.memberships();
  const ids = Object.keys(ms);
  const accounts = await s.accounts(ids);
  return {
    email: user.email,
    emailVerified: user.emailVerified,
    memberships: ids.flatMap((id, i) => {
      const account = accounts[i];
      return account ? [{ ...ms[id]!, account }] : [];
    }),
  };
}
