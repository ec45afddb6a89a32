import { CronExpressionParser } from "cron-parser";

/**
 * When the scheduled runs start (UTC), in EventBridge's cron syntax (minutes, hours, day of month,
 * month, day of week, year). The one definition: the stacks' EventBridge rules and the local
 * stack's cron both read it. Billing: 00:05 on the 1st of each month. Lifecycle: 00:15 daily.
 * Liveness: every 5 minutes, the sweep that marks PBXs whose heartbeats stopped (equipment.disconnected).
 */
export const JOB_SCHEDULES = {
  billing: "cron(5 0 1 * ? *)",
  lifecycle: "cron(15 0 * * ? *)",
  liveness: "cron(0/5 * * * ? *)",
} as const satisfies Record<"billing" | "lifecycle" | "liveness", `cron(${string})`>;

/**
 * The first time an EventBridge cron expression fires strictly after `after` (UTC), read by
 * `cron-parser`. EventBridge's six fields become the parser's five: the year must be `*`, and `?`
 * means any. A numeric day of week is refused: EventBridge counts Sunday as 1, the parser as 0
 * (names such as MON-FRI mean the same to both).
 */
export function nextRun(expression: string, after: Date): Date {
  const fields = /^cron\((.*)\)$/.exec(expression.trim())?.[1]?.trim().split(/\s+/);
  if (fields?.length !== 6) throw new Error(`not an EventBridge cron expression: ${expression}`);
  const [minute, hour, dayOfMonth, month, dayOfWeek, year] = fields as [string, string, string, string, string, string];
  if (year !== "*") throw new Error(`a year other than * is not supported: ${expression}`);
  if (/\d/.test(dayOfWeek)) throw new Error(`use day names, not numbers, for the day of week: ${expression}`);
  const parsed = CronExpressionParser.parse([minute, hour, dayOfMonth, month, dayOfWeek].join(" "), {
    currentDate: after,
    tz: "UTC",
  });
  return parsed.next().toDate();
}
