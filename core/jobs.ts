import type { WorkQueue } from "../infra/queue.js";
import type { Page } from "../infra/store.js";
import type { AccountRecord } from "../infra/store.js";
import * as Billing from "./billing.js";
import { Session } from "./context.js";
import type { Deps } from "./context.js";
import * as Lifecycle from "./lifecycle.js";
import { PLATFORM_ID } from "./rights.js";

/** One unit of work of a scheduled run: an SQS message body. */
export type Message =
  | { readonly job: "billing"; readonly partyId: string; readonly period: string }
  | { readonly job: "lifecycle"; readonly what: Lifecycle.Due["what"]; readonly accountId: string; readonly sku: string; readonly day: string };

export type Job = "billing" | "lifecycle";

export interface Queues {
  readonly billing: WorkQueue;
  readonly lifecycle: WorkQueue;
}

/** Days a lifecycle run looks back, so a missed night is caught up (work is idempotent). */
export const LOOKBACK_DAYS = 7;

/**
 * The scheduler: turns a run into messages, one per unit of work (DESIGN 2, "Jobs"). Billing:
 * one per billed party for the month (the previous one by default). Lifecycle: one per item due
 * today or in the last week.
 */
export async function schedule(deps: Deps, queues: Queues, job: Job, opts: { period?: string } = {}): Promise<number> {
  const s = new Session(deps, { type: "system", job: `schedule-${job}` });
  if (job === "billing") {
    const period = opts.period ?? Billing.previousPeriod(s.now);
    Billing.assertClosed(period, s.now);
    const parties = await billableParties(s);
    await queues.billing.send(parties.map((p) => JSON.stringify({ job: "billing", partyId: p.id, period } satisfies Message)));
    return parties.length;
  }
  const due = await Lifecycle.dueItems(s, LOOKBACK_DAYS);
  await queues.lifecycle.send(due.map((d) => JSON.stringify({ job: "lifecycle", what: d.what, accountId: d.accountId, sku: d.sku, day: d.day } satisfies Message)));
  return due.length;
}

/** Billed parties: the billable accounts under the platform (distributors), every page. */
async function billableParties(s: Session): Promise<AccountRecord[]> {
  const out: AccountRecord[] = [];
  let cursor: string | null = null;
  for (;;) {
    const page: Page<AccountRecord> = await s.deps.store.listChildren(PLATFORM_ID, { limit: 100, cursor });
    out.push(...page.items.map((i) => i.node).filter((a) => a.billable));
    if (!page.hasNextPage) return out;
    cursor = page.items.at(-1)!.cursor;
  }
}

/** Thrown for a message that can never succeed: the worker reports it failed, SQS moves it to the DLQ. */
export class PoisonMessage extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = "PoisonMessage";
  }
}

export function parseMessage(body: string): Message {
  let m: unknown;
  try {
    m = JSON.parse(body);
  } catch {
    throw new PoisonMessage("not JSON");
  }
  if (typeof m !== "object" || m === null) throw new PoisonMessage("not a job message");
  const r = m as Partial<Record<string, unknown>>;
  if (r.job === "billing" && typeof r.partyId === "string" && typeof r.period === "string" && /^\d{4}-\d{2}$/.test(r.period)) {
    return { job: "billing", partyId: r.partyId, period: r.period };
  }
  if (r.job === "lifecycle" && typeof r.accountId === "string" && typeof r.sku === "string" && typeof r.day === "string" && Lifecycle.dueKinds.includes(r.what as Lifecycle.Due["what"])) {
    return { job: "lifecycle", what: r.what as Lifecycle.Due["what"], accountId: r.accountId, sku: r.sku, day: r.day };
  }
  throw new PoisonMessage("not a job message");
}

/** The worker: does one unit of work, idempotently (a redelivered message changes nothing). */
export async function work(deps: Deps, body: string, issuerName: string): Promise<{ outcome: string; metric?: "InvoicesIssued" }> {
  const m = parseMessage(body);
  return m.job === "billing" ? billingWork(deps, m, issuerName) : lifecycleWork(deps, m);
}

/** The lifecycle worker's unit of work; a billing message on its queue can never succeed there. */
export async function workLifecycle(deps: Deps, body: string): Promise<{ outcome: string }> {
  const m = parseMessage(body);
  if (m.job !== "lifecycle") throw new PoisonMessage("a billing message on the lifecycle queue");
  return lifecycleWork(deps, m);
}

async function billingWork(deps: Deps, m: Extract<Message, { job: "billing" }>, issuerName: string): Promise<{ outcome: string; metric?: "InvoicesIssued" }> {
  const s = new Session(deps, { type: "system", job: m.job });
  const r = await Billing.issue(s, m.partyId, m.period);
  if (r.outcome === "issued" || r.outcome === "existing") {
    // Loaded here, not at module load: the scheduler never starts pdf-lib.
    const InvoiceFiles = await import("./invoice-files.js");
    await InvoiceFiles.mail(s, r.invoice, issuerName);
  }
  return { outcome: `billing ${r.outcome}`, ...(r.outcome === "issued" ? { metric: "InvoicesIssued" as const } : {}) };
}

async function lifecycleWork(deps: Deps, m: Extract<Message, { job: "lifecycle" }>): Promise<{ outcome: string }> {
  await Lifecycle.handle(new Session(deps, { type: "system", job: m.job }), m);
  return { outcome: `lifecycle ${m.what}` };
}
