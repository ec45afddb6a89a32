import type { Issuer } from "../infra/documents.js";
import type { WorkQueue } from "../infra/queue.js";
import type { Page } from "../infra/store.js";
import type { AccountRecord } from "../infra/store.js";
import * as z from "zod";
import * as Billing from "./billing.js";
import { Session } from "./context.js";
import type { Deps } from "./context.js";
import { dueKinds } from "./due.js";
import * as Lifecycle from "./lifecycle.js";
import * as Liveness from "./equipment/liveness.js";
import { PLATFORM_ID } from "./rights.js";

const period = z.string().regex(/^\d{4}-\d{2}$/);
/** Set by the scheduled run: once this month is finished, the party's next closed month follows (a month billed by hand is just that month). */
const catchUp = z.literal(true).optional();
const billingBase = { job: z.literal("billing"), partyId: z.string().min(1), period, catchUp };

/**
 * Billing a party's month: the plan (no step, as the scheduler always sent), one message
 * per chunk, and the finaliser, which the last chunk to finish enqueues.
 */
const billingMessage = z.discriminatedUnion("step", [
  z.object({ ...billingBase, step: z.literal(undefined).optional() }),
  z.object({ ...billingBase, step: z.literal("chunk"), chunk: z.int().nonnegative() }),
  z.object({ ...billingBase, step: z.literal("finalise") }),
]);
const dueMessage = z.object({
  job: z.literal("lifecycle"),
  what: z.enum(dueKinds),
  accountId: z.string().min(1),
  sku: z.string(),
  day: z.string(),
});
/** The liveness sweep (core/equipment/liveness.ts), on the lifecycle queue: its worker may write, the scheduler only reads. */
const livenessMessage = z.object({ job: z.literal("lifecycle"), what: z.literal("liveness") });
const lifecycleMessage = z.discriminatedUnion("what", [dueMessage, livenessMessage]);
/** One unit of work of a scheduled run: an SQS message body. */
const message = z.union([billingMessage, lifecycleMessage]);

export type Message = z.infer<typeof message>;
export type BillingMessage = z.infer<typeof billingMessage>;

/** The jobs with a queue and a worker of their own. */
export type Job = "billing" | "lifecycle";
/** What a schedule starts: a job, or the liveness sweep (every 5 minutes, through the lifecycle queue). */
export type Run = Job | "liveness";
/** The queue a run's messages go to. */
export const queueOf = (run: Run): Job => (run === "liveness" ? "lifecycle" : run);

export interface Queues {
  readonly billing: WorkQueue;
  readonly lifecycle: WorkQueue;
}

/** What the billing worker needs besides the deps: its own queue (follow-up steps), the issuer, the chunk size. */
export interface BillingOptions {
  readonly issuer: Issuer;
  readonly queue: WorkQueue;
  /** Accounts per chunk message (DEFAULT_CHUNK_SIZE; small in tests). */
  readonly chunkSize?: number;
  /** How long a worker holds an invoice's mail (ms): below the queue's visibility timeout, above the worker's timeout. */
  readonly mailLeaseMs?: number;
}

/**
 * The scheduler: turns a run into messages, one per unit of work (DESIGN 2, "Jobs"). Billing: per
 * billed party, the first closed month not yet billed (its watermark; each finished month enqueues
 * the next, so months are billed in order and a missed run is caught up), or the given month.
 * Lifecycle: everything due since the last run, whatever the gap.
 */
export async function schedule(deps: Deps, queues: Queues, job: Run, opts: { period?: string } = {}): Promise<number> {
  const s = new Session(deps, { type: "system", job: `schedule-${job}` });
  if (job === "liveness") {
    // One message: the sweep reads from its watermark, so a missed run is caught up by the next.
    await queues.lifecycle.send([JSON.stringify({ job: "lifecycle", what: "liveness" } satisfies Message)]);
    return 1;
  }
  if (job === "billing") {
    const parties = await billableParties(s);
    let plans: { partyId: string; period: string; catchUp?: true }[];
    if (opts.period) {
      Billing.assertClosed(opts.period, s.now);
      plans = parties.map((p) => ({ partyId: p.id, period: opts.period! }));
    } else {
      const states = await s.deps.store.billingStates(parties.map((p) => p.id));
      plans = parties.flatMap((p) => {
        const next = Billing.nextDue(s, p, states.get(p.id)?.billedThrough);
        return next ? [{ partyId: p.id, period: next, catchUp: true as const }] : [];
      });
    }
    await queues.billing.send(plans.map((p) => JSON.stringify({ job: "billing", ...p } satisfies Message)));
    return plans.length;
  }
  const due = await Lifecycle.dueSinceLastRun(s);
  await queues.lifecycle.send(
    due.items.map((d) =>
      JSON.stringify({
        job: "lifecycle",
        what: d.what,
        accountId: d.accountId,
        sku: d.sku,
        day: d.day,
      } satisfies Message),
    ),
  );
  // Only once every message is on the queue: a crash before this rereads the same days.
  await due.commit();
  return due.items.length;
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

/** Reads a job message; anything else is a PoisonMessage (reported failed, SQS moves it to the DLQ). */
export function parseMessage(body: string): Message {
  let m: unknown;
  try {
    m = JSON.parse(body);
  } catch {
    throw new PoisonMessage("not JSON");
  }
  const parsed = message.safeParse(m);
  if (!parsed.success) throw new PoisonMessage("not a job message");
  return parsed.data;
}

/** The worker: does one unit of work, idempotently (a redelivered message changes nothing). */
export async function work(
  deps: Deps,
  body: string,
  opts: BillingOptions,
): Promise<{ outcome: string; metric?: "InvoicesIssued" }> {
  const m = parseMessage(body);
  return m.job === "billing" ? billingWork(deps, m, opts) : lifecycleWork(deps, m);
}

/** The lifecycle worker's unit of work; a billing message on its queue can never succeed there. */
export async function workLifecycle(deps: Deps, body: string): Promise<{ outcome: string }> {
  const m = parseMessage(body);
  if (m.job !== "lifecycle") throw new PoisonMessage("a billing message on the lifecycle queue");
  return lifecycleWork(deps, m);
}

const send = (queue: WorkQueue, messages: readonly BillingMessage[]) =>
  queue.send(messages.map((m) => JSON.stringify(m)));

async function billingWork(
  deps: Deps,
  m: BillingMessage,
  opts: BillingOptions,
): Promise<{ outcome: string; metric?: "InvoicesIssued" }> {
  const s = new Session(deps, { type: "system", job: m.job });
  const { partyId, period } = m;
  const c = m.catchUp ? { catchUp: true as const } : {};
  if (!("step" in m)) {
    const p = await Billing.plan(s, partyId, period, opts.chunkSize ?? Billing.DEFAULT_CHUNK_SIZE);
    if (p.outcome === "not-billable") return { outcome: "billing not-billable" };
    // Issued already (a rerun, or a crash after the invoice): the finaliser's follow-up still runs.
    if (p.outcome === "existing") return finaliseWork(s, m, opts);
    const chunk = (n: number) => ({ job: "billing", step: "chunk", partyId, period, chunk: n, ...c }) as const;
    // The departed accounts' chunks now; the index chunks one after another, each enqueued by the one before.
    const [first, ...others] = Billing.plannedChunks(p.run);
    if (others.length) await send(opts.queue, others.map(chunk));
    // This message bills the first chunk (bounded by the chunk size) and, when it was the only one, finalises.
    const r = await Billing.billChunk(s, partyId, period, first!, (n) => send(opts.queue, [chunk(n)]));
    if (r.allDone) return finaliseWork(s, m, opts);
    return { outcome: "billing planned" };
  }
  if (m.step === "chunk") {
    const r = await Billing.billChunk(s, partyId, period, m.chunk, (n) =>
      send(opts.queue, [{ job: "billing", step: "chunk", partyId, period, chunk: n, ...c }]),
    );
    // Every chunk that sees the run complete enqueues the finaliser: at least one does, duplicates find the invoice.
    if (r.allDone) await send(opts.queue, [{ job: "billing", step: "finalise", partyId, period, ...c }]);
    return { outcome: "billing chunk" };
  }
  return finaliseWork(s, m, opts);
}

async function finaliseWork(
  s: Session,
  m: BillingMessage,
  opts: BillingOptions,
): Promise<{ outcome: string; metric?: "InvoicesIssued" }> {
  const { partyId, period } = m;
  const r = await Billing.finalise(s, partyId, period);
  if (r.outcome === "not-billable") return { outcome: "billing not-billable" };
  const party = await s.account(partyId);
  // Catch-up: the next closed month of this party, in order, once this one is finished.
  const next = party ? await Billing.advance(s, party, period) : undefined;
  if (next && m.catchUp) await send(opts.queue, [{ job: "billing", partyId, period: next, catchUp: true }]);
  if (r.outcome === "issued" || r.outcome === "existing") {
    // Loaded here, not at module load: the scheduler never starts pdf-lib.
    const InvoiceFiles = await import("./invoice-files.js");
    await InvoiceFiles.mail(s, r.invoice, opts.issuer, opts.mailLeaseMs);
  }
  return { outcome: `billing ${r.outcome}`, ...(r.outcome === "issued" ? { metric: "InvoicesIssued" as const } : {}) };
}

async function lifecycleWork(deps: Deps, m: Extract<Message, { job: "lifecycle" }>): Promise<{ outcome: string }> {
  if (m.what === "liveness") return { outcome: `liveness ${await Liveness.sweep(deps)} disconnected` };
  await Lifecycle.handle(new Session(deps, { type: "system", job: m.job }), m);
  return { outcome: `lifecycle ${m.what}` };
}
