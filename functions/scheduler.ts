import { schedule } from "../core/jobs.js";
import type { Job } from "../core/jobs.js";
import { jobsRuntime } from "./jobs-deps.js";

/** EventBridge cron → one SQS message per unit of work (`{"job": "billing" | "lifecycle"}`). */
export async function handler(event: { job?: string; period?: string }): Promise<{ job: Job; scheduled: number }> {
  if (event.job !== "billing" && event.job !== "lifecycle") throw new Error(`unknown job ${String(event.job)}`);
  const { deps, queues } = jobsRuntime();
  const scheduled = await schedule(deps, queues, event.job, event.period ? { period: event.period } : {});
  return { job: event.job, scheduled };
}
