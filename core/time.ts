/**
 * Days and months in one place (UTC throughout): the lengths the rules use, and calendar
 * arithmetic. Written by hand: it is a few lines over `Date`'s UTC methods, and a date library
 * would add a dependency to every function for month clamping alone.
 */

/** Milliseconds in a day. */
export const DAY_MS = 86_400_000;
/** Seconds in a day (DynamoDB TTLs are epoch seconds). */
export const DAY_S = 86_400;
/** Milliseconds in an hour. */
export const HOUR_MS = 3_600_000;

export function addDays(at: Date, days: number): Date {
  return new Date(at.getTime() + days * DAY_MS);
}

/** Adds calendar months in UTC, clamping to the month's last day (31 Jan + 1 month = 28/29 Feb). */
export function addMonths(at: Date, months: number): Date {
  const target = new Date(
    Date.UTC(
      at.getUTCFullYear(),
      at.getUTCMonth() + months,
      1,
      at.getUTCHours(),
      at.getUTCMinutes(),
      at.getUTCSeconds(),
      at.getUTCMilliseconds(),
    ),
  );
  const lastDay = new Date(Date.UTC(target.getUTCFullYear(), target.getUTCMonth() + 1, 0)).getUTCDate();
  target.setUTCDate(Math.min(at.getUTCDate(), lastDay));
  return target;
}

/** Whole months from `from` until `to`, counting a started month as a whole one (0 when past). */
export function monthsLeft(from: Date, to: Date): number {
  let months = 0;
  while (addMonths(from, months) < to) months += 1;
  return months;
}
