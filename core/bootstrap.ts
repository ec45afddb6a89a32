import * as Tx from "./tx.js";
import type { Deps } from "./context.js";
import { PLATFORM_ID } from "./rights.js";
import * as V from "./validation.js";

/**
 * First start: creates the PLATFORM root and makes the bootstrap operator its OWNER.
 * Idempotent: a second start on the same data changes nothing.
 */
export async function ensurePlatform(deps: Deps, operatorEmail: string): Promise<void> {
  const email = V.parse(V.email, operatorEmail, ["BOOTSTRAP_OPERATOR_EMAIL"]);
  if (await deps.store.getAccount(PLATFORM_ID)) return;
  const now = deps.clock.now().toISOString();
  // Another process may bootstrap at the same moment: then nothing is written.
  await Tx.run(
    deps.store,
    (e) => [
      e.account
        .create({
          id: PLATFORM_ID,
          kind: "PLATFORM",
          name: "Platform",
          nameKey: "platform",
          referenceKey: "",
          parentId: "ROOT",
          country: "GB",
          path: [],
          status: "ACTIVE",
          canCreateAccounts: true,
          canCreateEquipment: true,
          childCount: 0,
          canUpdateSubscriptions: false,
          canDecreaseSubscriptions: false,
          billable: false,
          offers: [],
          ownerCount: 1,
          createdAt: now,
          updatedAt: now,
          version: 1,
        })
        .commit(),
      e.member
        .put({
          accountId: PLATFORM_ID,
          email,
          role: "OWNER",
          seller: true,
          partnerAdmin: false,
          status: "ACTIVE",
          invitedAt: now,
          joinedAt: now,
        })
        .commit(),
      e.person
        .put({
          email,
          memberships: { [PLATFORM_ID]: { role: "OWNER", seller: true, partnerAdmin: false } },
          version: 1,
          createdAt: now,
          updatedAt: now,
        })
        .commit(),
      e.audit
        .put({
          accountId: PLATFORM_ID,
          at: now,
          id: "bootstrap",
          action: "platform.bootstrapped",
          actor: "system:bootstrap",
          subjectId: email,
        })
        .commit(),
    ],
    { otherwise: "skip" },
  );
}
