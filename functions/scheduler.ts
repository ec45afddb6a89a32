import type { Context } from "aws-lambda";
import { schedule } from "../core/jobs.js";
import type { Run } from "../core/jobs.js";
import { framesOf } from "../infra/telemetry.js";
import { jobsRuntime } from "./jobs-deps.js";

/** EventBridge cron → one SQS message per unit of work (`{"job": "billing" | "lifecycle" | "liveness"}`). */
export async function handler(
  event: { job?: string; period?: string },
  context?: Context,
): Promise<{ job: Run; scheduled: number }> {
  if (event.job !== "billing" && event.job !== "lifecycle" && event.job !== "liveness")
    throw new Error(`unknown job ${String(event.job)}`);
  const { deps, queues, telemetry } = jobsRuntime();
  telemetry.beginInvocation(context ? { lambdaContext: context } : {});
  try {
    const scheduled = await schedule(deps, queues, event.job, event.period ? { period: event.period } : {});
    telemetry.info("run scheduled", { job: event.job, scheduled, ...(event.period ? { period: event.period } : {}) });
    return { job: event.job, scheduled };
  } catch (err) {
    telemetry.error("scheduling failed", {
      job: event.job,
      errorName: err instanceof Error ? err.name : typeof err,
      frames: framesOf(err),
    });
    throw err;
  } finally {
    telemetry.endInvocation();
  }
}
