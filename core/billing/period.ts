import type { InvoiceRecord } from "../../infra/store.js";
import { Invalid } from "../errors.js";
import { PLATFORM_ID } from "../rights.js";

/** Billing months (UTC calendar months), VAT, the invoice-number sequence and payment terms. */

export type Invoice = InvoiceRecord;

/** Invoice numbers are sequential per issuer; the vendor (the platform) is the one issuer. */
export const NUMBER_SEQUENCE = `invoice-number:${PLATFORM_ID}`;
/** DESIGN 1: invoices are due in 30 days. */
export const PAYMENT_DAYS = 30;

/** "2026-10": a calendar month in UTC. */
export function parsePeriod(period: string, field = "period"): { start: Date; end: Date } {
  const m = /^(\d{4})-(0[1-9]|1[0-2])$/.exec(period);
  if (!m) throw Invalid.field(field, "must be a month such as 2026-10");
  const y = Number(m[1]);
  const mo = Number(m[2]) - 1;
  return { start: new Date(Date.UTC(y, mo, 1)), end: new Date(Date.UTC(y, mo + 1, 1)) };
}

export function periodOf(at: Date): string {
  return `${at.getUTCFullYear()}-${String(at.getUTCMonth() + 1).padStart(2, "0")}`;
}

/** A month can be billed once it has ended. */
export function assertClosed(period: string, now: Date): void {
  if (parsePeriod(period).end > now) throw Invalid.field("period", "the month has not ended yet");
}

/** VAT in minor units, rounded half up (rates in basis points: 2000 = 20 %). */
export function vatOf(net: number, taxRate: number): number {
  return Math.floor((net * taxRate + 5_000) / 10_000);
}
