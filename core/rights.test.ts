import { describe, expect, it } from "vitest";
import type { AccountRecord, Membership } from "../infra/store.js";
import type { Actor } from "./actor.js";
import { Forbidden, NotFound } from "./errors.js";
import { PLATFORM_ID, allowed, authorize } from "./rights.js";

type View = Pick<AccountRecord, "id" | "kind" | "path" | "canCreateAccounts" | "canUpdateSubscriptions" | "canDecreaseSubscriptions">;
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
    expect(allowed(user, { RA: m("OWNER", true) }, { ...RA, canCreateAccounts: true }, "account.createChild")).toBe(true);
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
});
