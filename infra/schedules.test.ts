import { describe, expect, it } from "vitest";
import { JOB_SCHEDULES, nextRun } from "./schedules.js";

const at = (iso: string) => new Date(iso);

describe("job schedules", () => {
  it("billing fires at 00:05 UTC on the 1st, lifecycle at 00:15 UTC daily, strictly after the given time", () => {
    expect(nextRun(JOB_SCHEDULES.billing, at("2026-10-31T23:00:00Z")).toISOString()).toBe("2026-11-01T00:05:00.000Z");
    expect(nextRun(JOB_SCHEDULES.billing, at("2026-11-01T00:05:00Z")).toISOString()).toBe("2026-12-01T00:05:00.000Z");
    expect(nextRun(JOB_SCHEDULES.billing, at("2026-12-15T10:00:00Z")).toISOString()).toBe("2027-01-01T00:05:00.000Z");
    expect(nextRun(JOB_SCHEDULES.lifecycle, at("2026-11-01T00:14:59Z")).toISOString()).toBe("2026-11-01T00:15:00.000Z");
    expect(nextRun(JOB_SCHEDULES.lifecycle, at("2026-11-01T00:15:00Z")).toISOString()).toBe("2026-11-02T00:15:00.000Z");
  });

  it("reads day names as EventBridge does and refuses what it cannot read the same way", () => {
    // 2026-11-06 is a Friday: the next weekday run at 08:00 is Monday the 9th.
    expect(nextRun("cron(0 8 ? * MON-FRI *)", at("2026-11-06T09:00:00Z")).toISOString()).toBe(
      "2026-11-09T08:00:00.000Z",
    );
    for (const bad of ["rate(1 day)", "cron(5 0 1 * ?)", "cron(5 0 1 * ? 2027)", "cron(0 8 ? * 2 *)", "5 0 1 * ? *"]) {
      expect(() => nextRun(bad, at("2026-11-06T09:00:00Z")), bad).toThrow();
    }
  });
});
