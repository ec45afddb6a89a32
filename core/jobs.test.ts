import { describe, expect, it } from "vitest";
import type { Deps } from "./context.js";
import { PoisonMessage, parseMessage, workLifecycle } from "./jobs.js";

/** Nothing is read or written for a message that can never succeed: a store that fails loudly proves it. */
const untouchable = new Proxy({}, { get: () => () => Promise.reject(new Error("the store was used")) });
const deps = {
  store: untouchable,
  clock: { now: () => new Date() },
  mailer: { send: () => Promise.reject(new Error("mail sent")) },
  portalUrl: "https://portal.example.com",
} as unknown as Deps;

describe("job messages", () => {
  it("parse billing and lifecycle units of work; anything else is poison (straight to the dead-letter queue)", () => {
    expect(parseMessage(JSON.stringify({ job: "billing", partyId: "D1", period: "2026-10" }))).toEqual({
      job: "billing",
      partyId: "D1",
      period: "2026-10",
    });
    expect(
      parseMessage(
        JSON.stringify({ job: "lifecycle", what: "retention", accountId: "C1", sku: "-", day: "2026-11-02" }),
      ),
    ).toEqual({ job: "lifecycle", what: "retention", accountId: "C1", sku: "-", day: "2026-11-02" });
    for (const body of [
      "",
      "{",
      "null",
      "{}",
      JSON.stringify({ job: "billing", partyId: "D1", period: "October" }),
      JSON.stringify({ job: "lifecycle", what: "explode", accountId: "C1", sku: "-", day: "x" }),
    ]) {
      expect(() => parseMessage(body), body).toThrow(PoisonMessage);
    }
  });

  it("the billing steps: plan, chunk and finaliser, with the catch-up flag; a malformed step is poison", () => {
    const base = { job: "billing", partyId: "D1", period: "2026-10" };
    expect(parseMessage(JSON.stringify({ ...base, step: "chunk", chunk: 3, catchUp: true }))).toEqual({
      ...base,
      step: "chunk",
      chunk: 3,
      catchUp: true,
    });
    expect(parseMessage(JSON.stringify({ ...base, step: "finalise" }))).toEqual({ ...base, step: "finalise" });
    // Unknown fields are dropped, not carried into the work.
    expect(parseMessage(JSON.stringify({ ...base, extra: "x" }))).toEqual(base);
    for (const bad of [
      { ...base, step: "chunk" },
      { ...base, step: "chunk", chunk: -1 },
      { ...base, step: "chunk", chunk: 1.5 },
      { ...base, step: "chunk", chunk: "1" },
      { ...base, step: "explode" },
      { ...base, partyId: "" },
      { ...base, catchUp: "yes" },
      { job: "payroll", partyId: "D1", period: "2026-10" },
      [base],
    ]) {
      expect(() => parseMessage(JSON.stringify(bad)), JSON.stringify(bad)).toThrow(PoisonMessage);
    }
  });

  it("the lifecycle worker refuses a billing message as poison, before touching anything", async () => {
    await expect(
      workLifecycle(deps, JSON.stringify({ job: "billing", partyId: "D1", period: "2026-10" })),
    ).rejects.toThrow(PoisonMessage);
  });
});
