import { describe, expect, it } from "vitest";
import type { AccountRecord, Membership } from "../infra/store.js";
import type { Actor } from "./actor.js";
import { Forbidden, NotFound } from "./errors.js";
import { afterMove } from "./consent.js";
import { PLATFORM_ID, allowed, authorize, mayAdminister, seesPrices, setsUpOwner, reachOf } from "./rights.js";

type View = Pick<
  AccountRecord,
  "id" | "kind" | "path" | "canCreateAccounts" | "canUpdateSubscriptions" | "canDecreaseSubscriptions"
>;
const acc = (id: string, kind: View["kind"], path: string[], canCreateAccounts = false): View => ({
  id,
  kind,
  path,
  canCreateAccounts,
  canUpdateSubscriptions: false,
  canDecreaseSubscriptions: false,
});

// Platform / D1 / (R-A / C-A1, R-B), D2
const D1 = acc("D1", "DISTRIBUTOR", [PLATFORM_ID]);
const RA = acc("RA", "RESELLER", [PLATFORM_ID, "D1"]);
const RB = acc("RB", "RESELLER", [PLATFORM_ID, "D1"]);
const CA1 = acc("CA1", "CUSTOMER", [PLATFORM_ID, "D1", "RA"]);
const D2 = acc("D2", "DISTRIBUTOR", [PLATFORM_ID]);
const PLATFORM = acc(PLATFORM_ID, "PLATFORM", []);

const user: Actor = { type: "user", subject: "s", email: "x@example.com", emailVerified: true };
const m = (role: Membership["role"], seller = false): Membership => ({ role, seller, partnerAdmin: false });

describe("rights", () => {
  // Found by the property test (test/isolation-property.test.ts) against its independent oracle.
  it("a platform VIEWER does not set support e-mails; a platform CONTRIBUTOR does", () => {
    expect(allowed(user, { [PLATFORM_ID]: m("VIEWER") }, D1, "account.setSupportEmail")).toBe(false);
    expect(allowed(user, { [PLATFORM_ID]: m("CONTRIBUTOR") }, D1, "account.setSupportEmail")).toBe(true);
  });

  it("a platform VIEWER who owns a distributor keeps the owner's equipment rights there", () => {
    expect(allowed(user, { [PLATFORM_ID]: m("VIEWER"), D1: m("OWNER") }, D1, "equipment.declare")).toBe(true);
  });

  it("a seller role above never masks the caller's platform role", () => {
    const ms = { [PLATFORM_ID]: m("CONTRIBUTOR"), D1: m("OWNER", true) };
    expect(allowed(user, ms, CA1, "licence.assign")).toBe(true);
    expect(allowed(user, { D1: m("OWNER", true) }, CA1, "licence.assign")).toBe(false);
  });

  it("a seller of a distributor reaches its whole subtree, not a sibling distributor", () => {
    const ms = { D1: m("CONTRIBUTOR", true) };
    expect(allowed(user, ms, CA1, "account.update")).toBe(true);
    expect(allowed(user, ms, RA, "account.listChildren")).toBe(true);
    expect(() => authorize(user, ms, D2, "account.read")).toThrow(NotFound);
  });

  it("a non-seller member acts on its own account only", () => {
    const ms = { D1: m("OWNER") };
    expect(allowed(user, ms, D1, "account.update")).toBe(true);
    expect(() => authorize(user, ms, D1, "account.listChildren")).toThrow(Forbidden);
    expect(() => authorize(user, ms, RA, "account.read")).toThrow(NotFound);
  });

  it("a viewer reads but never mutates", () => {
    const ms = { D1: m("VIEWER", true) };
    expect(allowed(user, ms, RA, "account.read")).toBe(true);
    expect(() => authorize(user, ms, RA, "account.update")).toThrow(Forbidden);
    expect(() => authorize(user, ms, D1, "account.createChild")).toThrow(Forbidden);
    expect(() => authorize(user, ms, D1, "member.manage")).toThrow(Forbidden);
  });

  it("a reseller's own people create accounts only with canCreateAccounts; sellers above always can", () => {
    expect(allowed(user, { RA: m("OWNER", true) }, RA, "account.createChild")).toBe(false);
    expect(allowed(user, { RA: m("OWNER", true) }, { ...RA, canCreateAccounts: true }, "account.createChild")).toBe(
      true,
    );
    expect(allowed(user, { D1: m("OWNER", true) }, RA, "account.createChild")).toBe(true);
  });

  it("a customer never has children; only platform owners create distributors", () => {
    expect(allowed(user, { CA1: m("OWNER") }, CA1, "account.createChild")).toBe(false);
    expect(allowed(user, { D1: m("OWNER", true) }, CA1, "account.createChild")).toBe(false);
    expect(allowed(user, { [PLATFORM_ID]: m("OWNER") }, PLATFORM, "account.createChild")).toBe(true);
    expect(allowed(user, { [PLATFORM_ID]: m("CONTRIBUTOR") }, PLATFORM, "account.createChild")).toBe(false);
  });

  it("reseller rights are set from above, never by the reseller", () => {
    expect(allowed(user, { RA: m("OWNER", true) }, RA, "account.setResellerRights")).toBe(false);
    expect(allowed(user, { D1: m("CONTRIBUTOR", true) }, RA, "account.setResellerRights")).toBe(true);
    expect(allowed(user, { D1: m("OWNER", true) }, D1, "account.setResellerRights")).toBe(false);
  });

  it("a customer's members are managed by its own owners and operators, not by sellers above", () => {
    expect(allowed(user, { CA1: m("OWNER") }, CA1, "member.manage")).toBe(true);
    expect(allowed(user, { RA: m("OWNER", true) }, CA1, "member.manage")).toBe(false);
    expect(allowed(user, { [PLATFORM_ID]: m("OWNER") }, CA1, "member.manage")).toBe(true);
    // A partner's members may be managed by the owner-sellers above it.
    expect(allowed(user, { D1: m("OWNER", true) }, RA, "member.manage")).toBe(true);
    expect(allowed(user, { D1: m("CONTRIBUTOR", true) }, RA, "member.manage")).toBe(false);
  });

  it("the public sees nothing; an unknown account is NotFound", () => {
    expect(() => authorize({ type: "public" }, {}, D1, "account.read")).toThrow(NotFound);
    expect(() => authorize(user, { D1: m("OWNER", true) }, undefined, "account.read")).toThrow(NotFound);
    expect(allowed(user, { RB: m("OWNER", true) }, RA, "account.read")).toBe(false);
    expect(allowed(user, { RA: m("OWNER", true) }, RB, "account.read")).toBe(false);
  });

  // Rainbow 5.4: sellers create and manage subscriptions; company admins manage them only "with rights".
  it("orders are placed by sellers below, by a partner's authorised purchasers for its own company, not by a customer's admins", () => {
    expect(allowed(user, { D1: m("CONTRIBUTOR", true) }, CA1, "order.place")).toBe(true);
    expect(allowed(user, { RA: m("OWNER", true) }, RA, "order.place")).toBe(true);
    // DESIGN 1: OWNER and CONTRIBUTOR are authorised purchasers; the seller flag only widens the reach below.
    expect(allowed(user, { RA: m("OWNER") }, RA, "order.place")).toBe(true);
    expect(allowed(user, { RA: m("CONTRIBUTOR") }, RA, "order.place")).toBe(true);
    expect(allowed(user, { RA: m("VIEWER") }, RA, "order.place")).toBe(false);
    expect(allowed(user, { RA: m("CONTRIBUTOR") }, CA1, "order.place")).toBe(false);
    expect(allowed(user, { CA1: m("OWNER") }, CA1, "order.place")).toBe(false);
    expect(allowed(user, { D1: m("VIEWER", true) }, CA1, "order.place")).toBe(false);
    expect(allowed(user, { [PLATFORM_ID]: m("OWNER") }, PLATFORM, "order.place")).toBe(false);
  });

  it("a customer's admins change quantities only when a seller delegated it, and decrease only with that right too", () => {
    const owner = { CA1: m("OWNER") };
    expect(allowed(user, owner, CA1, "subscription.increase")).toBe(false);
    const update = { ...CA1, canUpdateSubscriptions: true };
    expect(allowed(user, owner, update, "subscription.increase")).toBe(true);
    expect(allowed(user, owner, update, "subscription.decrease")).toBe(false);
    const both = { ...update, canDecreaseSubscriptions: true };
    expect(allowed(user, owner, both, "subscription.decrease")).toBe(true);
    expect(allowed(user, { CA1: m("VIEWER") }, both, "subscription.decrease")).toBe(false);
    expect(allowed(user, { RA: m("CONTRIBUTOR", true) }, CA1, "subscription.decrease")).toBe(true);
  });

  it("delegated rights and available offers are set from above only", () => {
    for (const action of ["subscription.setDelegatedRights", "offers.setAvailable"] as const) {
      expect(allowed(user, { CA1: m("OWNER") }, CA1, action)).toBe(false);
      expect(allowed(user, { RA: m("OWNER", true) }, RA, action)).toBe(false);
      expect(allowed(user, { RA: m("OWNER", true) }, CA1, action)).toBe(true);
      expect(allowed(user, { [PLATFORM_ID]: m("OWNER") }, D1, action)).toBe(true);
    }
  });

  it("licences are allocated by the account's own admins and operators, not by sellers above", () => {
    expect(allowed(user, { CA1: m("CONTRIBUTOR") }, CA1, "licence.assign")).toBe(true);
    expect(allowed(user, { CA1: m("VIEWER") }, CA1, "licence.assign")).toBe(false);
    expect(allowed(user, { RA: m("OWNER", true) }, CA1, "licence.assign")).toBe(false);
    expect(allowed(user, { [PLATFORM_ID]: m("OWNER") }, CA1, "licence.assign")).toBe(true);
  });

  it("the catalog is run by platform owners", () => {
    expect(allowed(user, { [PLATFORM_ID]: m("OWNER") }, PLATFORM, "catalog.manage")).toBe(true);
    expect(allowed(user, { [PLATFORM_ID]: m("CONTRIBUTOR") }, PLATFORM, "catalog.manage")).toBe(false);
    expect(allowed(user, { D1: m("OWNER", true) }, D1, "catalog.manage")).toBe(false);
    expect(allowed({ type: "system", job: "seed" }, {}, PLATFORM, "catalog.manage")).toBe(true);
  });

  it("prices show to the billed party's owners and to operators only", () => {
    expect(seesPrices(user, { D1: m("OWNER", true) }, "D1")).toBe(true);
    expect(seesPrices(user, { D1: m("CONTRIBUTOR", true) }, "D1")).toBe(false);
    expect(seesPrices(user, { RA: m("OWNER", true) }, "D1")).toBe(false);
    expect(seesPrices(user, { [PLATFORM_ID]: m("OWNER") }, "D1")).toBe(true);
    expect(seesPrices(user, { [PLATFORM_ID]: m("VIEWER") }, "D1")).toBe(false);
    expect(seesPrices({ type: "public" }, {}, "D1")).toBe(false);
    expect(seesPrices(user, { D1: m("OWNER") }, undefined)).toBe(false);
  });

  describe("ForbiddenError.reason", () => {
    const reason = (ms: Record<string, Membership>, a: View, action: Parameters<typeof authorize>[3]) => {
      try {
        authorize(user, ms, { ...a, canCreateEquipment: false }, action);
      } catch (err) {
        if (err instanceof Forbidden) return err.reason;
        throw err;
      }
      return "ALLOWED";
    };
    it("names the rule the caller misses", () => {
      expect(reason({ D1: m("CONTRIBUTOR") }, D1, "account.listChildren")).toBe("NOT_SELLER");
      expect(reason({ D1: m("VIEWER") }, D1, "order.place")).toBe("ROLE");
      expect(reason({ D1: m("OWNER", true) }, CA1, "member.manage")).toBe("NO_OPT_IN");
      expect(reason({ D1: m("OWNER", true) }, CA1, "licence.assign")).toBe("NO_OPT_IN");
      expect(reason({ RA: m("OWNER", true) }, RA, "account.createChild")).toBe("RESELLER_RIGHTS");
      expect(reason({ RA: m("OWNER", true) }, RA, "equipment.declare")).toBe("RESELLER_RIGHTS");
      expect(reason({ CA1: m("OWNER") }, CA1, "subscription.increase")).toBe("NOT_DELEGATED");
      expect(reason({ [PLATFORM_ID]: m("CONTRIBUTOR") }, PLATFORM, "catalog.manage")).toBe("OPERATOR_ONLY");
      expect(reason({ D1: m("OWNER", true) }, D1, "account.setPartnerAdminCapability")).toBe("OPERATOR_ONLY");
      expect(reason({ CA1: m("OWNER") }, CA1, "account.createChild")).toBe("NOT_APPLICABLE");
      expect(reason({ CA1: m("OWNER") }, CA1, "member.setSeller")).toBe("NOT_APPLICABLE");
      // Invisible accounts keep the uniform NotFound, whatever the action.
      expect(() => reason({ RB: m("OWNER", true) }, CA1, "member.manage")).toThrow(NotFound);
    });
    it("a writing seller above a customer sets up its owner; a viewer seller or a seller above a partner does not", () => {
      expect(setsUpOwner(reachOf(user, { D1: m("CONTRIBUTOR", true) }, CA1), CA1)).toBe(true);
      expect(setsUpOwner(reachOf(user, { D1: m("VIEWER", true) }, CA1), CA1)).toBe(false);
      expect(setsUpOwner(reachOf(user, { D1: m("OWNER") }, CA1), CA1)).toBe(false);
      expect(setsUpOwner(reachOf(user, { D1: m("OWNER", true) }, RA), RA)).toBe(false);
    });
  });
});

describe("partner administration by a distributor (for its direct customers only)", () => {
  const optedIn = (id: string, path: string[]) => ({
    ...acc(id, "CUSTOMER", path),
    partnerAdminOptIn: true,
  });
  const admin = { D1: { role: "OWNER" as const, seller: false, partnerAdmin: true } };
  const now = new Date("2027-01-01T00:00:00.000Z");

  it("reaches an opted-in direct customer; never a customer of its resellers, even one whose opt-in names no one", () => {
    expect(reachOf(user, admin, optedIn("CD", [PLATFORM_ID, "D1"]), now).onBehalf).toEqual({ resellerId: "D1" });
    expect(reachOf(user, admin, optedIn("CA", [PLATFORM_ID, "D1", "RA"]), now).onBehalf).toBeUndefined();
    expect(mayAdminister([PLATFORM_ID, "D1"], "D1")).toBe(true);
    expect(mayAdminister([PLATFORM_ID, "D1", "RA"], "D1")).toBe(false);
    expect(mayAdminister([PLATFORM_ID, "D1", "RA"], "RA")).toBe(true);
  });

  it("a move below one of its resellers ends the distributor's grant; the reseller's survive a move within it", () => {
    expect(afterMove(["D1"], [PLATFORM_ID, "D1", "RA"])).toEqual({ kept: [], dropped: ["D1"] });
    expect(afterMove(["D1"], [PLATFORM_ID, "D1"])).toEqual({ kept: ["D1"], dropped: [] });
    expect(afterMove(["RA"], [PLATFORM_ID, "D1", "RA", "RX"])).toEqual({ kept: ["RA"], dropped: [] });
  });

  it("the capability and the flag apply to resellers and distributors; elsewhere the answer says NOT_APPLICABLE", () => {
    const operator = { [PLATFORM_ID]: m("OWNER") };
    expect(allowed(user, operator, D1, "account.setPartnerAdminCapability")).toBe(true);
    expect(allowed(user, operator, RA, "account.setPartnerAdminCapability")).toBe(true);
    expect(() => authorize(user, operator, CA1, "account.setPartnerAdminCapability")).toThrow(
      expect.objectContaining({ reason: "NOT_APPLICABLE" }),
    );
    expect(allowed(user, { D1: m("OWNER") }, D1, "member.setPartnerAdmin")).toBe(true);
  });
});
