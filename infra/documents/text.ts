/** How the invoice prints dates, periods and countries: the same in every partner's country. */

export function parseInstant(iso: string): Date | undefined {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? undefined : d;
}

/** Dates print as the UTC calendar day, ISO style: unambiguous for partners in every country. */
export function formatDate(iso: string): string {
  const d = parseInstant(iso);
  return d ? d.toISOString().slice(0, 10) : iso;
}

const MONTHS = [
  "January",
  "February",
  "March",
  "April",
  "May",
  "June",
  "July",
  "August",
  "September",
  "October",
  "November",
  "December",
];

/** A line's service period, short: "1-31 Oct 2026", or both dates in full when it spans months. */
export function servicePeriod(from: string, to: string): string {
  const a = /^(\d{4})-(\d{2})-(\d{2})$/.exec(from);
  const b = /^(\d{4})-(\d{2})-(\d{2})$/.exec(to);
  if (!a || !b) return `${from} - ${to}`;
  const month = (m: string) =>
    ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"][Number(m) - 1] ?? m;
  if (a[1] === b[1] && a[2] === b[2]) return `${Number(a[3])}-${Number(b[3])} ${month(a[2]!)} ${a[1]}`;
  return `${Number(a[3])} ${month(a[2]!)} ${a[1]} - ${Number(b[3])} ${month(b[2]!)} ${b[1]}`;
}

export function formatPeriod(period: string): string {
  const m = /^(\d{4})-(\d{2})$/.exec(period);
  const month = m ? MONTHS[Number(m[2]) - 1] : undefined;
  return m && month ? `${month} ${m[1]}` : period;
}

export function countryName(code: string): string {
  try {
    return new Intl.DisplayNames(["en"], { type: "region" }).of(code.toUpperCase()) ?? code;
  } catch {
    return code;
  }
}
