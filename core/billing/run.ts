import { BLOCK_LINES } from "../../infra/store/billing-runs.js";
import type { BillingRangeRecord, BillingRunRecord, LineBlockRecord } from "../../infra/store/billing-runs.js";
import * as Cond from "../../infra/store/conditions.js";
import type { SubscriptionRecord } from "../../infra/store.js";
import type { Session } from "../context.js";
import { parsePeriod, assertClosed } from "./period.js";
import { chunkLines, summarise } from "./lines.js";

/** The billing engine: a party-month planned into bounded chunks, chunk lines under deterministic keys, the finaliser that numbers and writes the invoice once. */

/** Accounts per chunk message (every message's work is bounded whatever the party size). */
export const DEFAULT_CHUNK_SIZE = 500;
/** Chunk numbers of the accounts that left the party after the month end: after any index chunk (the invoice keeps chunk order). */
export const EXTRA_CHUNKS = 900_000;

/**
 * Plans a party's month once (the run item; also the month-closed marker for usage): no read of the
 * party's index, which chunk 0 starts and each chunk continues (`billChunk`); accounts that left the
 * party after the month end get chunks of their own, numbered from EXTRA_CHUNKS. A rerun returns the same plan.
 */
export async function plan(
  s: Session,
  partyId: string,
  period: string,
  chunkSize: number,
): Promise<{ outcome: "planned"; run: BillingRunRecord } | { outcome: "existing" } | { outcome: "not-billable" }> {
  const { end } = parsePeriod(period);
  assertClosed(period, s.now);
  if (await s.deps.store.getInvoice(partyId, period)) return { outcome: "existing" };
  const party = await s.account(partyId);
  if (!party?.billable || !party.currency) return { outcome: "not-billable" };
  const existing = await s.deps.store.getRun(partyId, period);
  if (existing) return { outcome: "planned", run: existing };
  const size = Math.max(1, Math.floor(chunkSize));
  const departed = await s.deps.store.departuresSince(partyId, end.toISOString());
  const extra = [...new Set(departed.flatMap((d) => d.accountIds))].sort();
  const run = await s.deps.store.createRun({
    partyId,
    period,
    extra,
    chunkSize: size,
    extraChunks: Math.ceil(extra.length / size),
    done: 0,
    createdAt: s.now.toISOString(),
  });
  return { outcome: "planned", run };
}

/** The chunk numbers of a run that are known from its plan: the first index chunk and the departed accounts' chunks. */
export function plannedChunks(run: BillingRunRecord): number[] {
  return [0, ...Array.from({ length: run.extraChunks }, (_v, i) => EXTRA_CHUNKS + i)];
}

/** What a chunk step did: whether the whole run is done, and the chunk after it in the party's index, if any. */
export interface ChunkOutcome {
  readonly allDone: boolean;
  readonly next: number | undefined;
}

/**
 * Bills one chunk of a planned month. An index chunk first finds where the next one starts (once,
 * kept in its range) and hands that chunk to `onNext` before its own lines, so the chunks of a large
 * party run side by side and no message reads more than its own accounts. Its lines go to blocks
 * under deterministic keys, then its result and the run's counter move in one transaction
 * conditioned on the result not existing: a redelivered or concurrent chunk rewrites the same blocks
 * and counts nothing twice.
 */
export async function billChunk(
  s: Session,
  partyId: string,
  period: string,
  chunkNo: number,
  onNext: (chunkNo: number) => Promise<void> = async () => {},
): Promise<ChunkOutcome> {
  const store = s.deps.store;
  const run = await store.getRun(partyId, period);
  if (!run) throw new Error(`billing run ${partyId} ${period} is not planned`);
  const extra = chunkNo >= EXTRA_CHUNKS;
  const valid = Number.isInteger(chunkNo) && chunkNo >= 0 && (!extra || chunkNo - EXTRA_CHUNKS < run.extraChunks);
  const range = valid && !extra ? await store.getRange(partyId, period, chunkNo) : undefined;
  if (!valid || (!extra && !range)) throw new Error(`billing run ${partyId} ${period} has no chunk ${chunkNo}`);
  const done = await store.getChunk(partyId, period, chunkNo);
  let next: number | undefined;
  if (!done) {
    let subs: SubscriptionRecord[];
    if (range) {
      const measured = await measure(s, run, range);
      subs = measured.subs;
      next = measured.last ? undefined : chunkNo + 1;
      if (next !== undefined) await onNext(next);
    } else {
      subs = await departedSubscriptions(s, run, chunkNo - EXTRA_CHUNKS);
    }
    const lines = await chunkLines(s, run, subs);
    const blocks: LineBlockRecord[] = [];
    for (let i = 0; i < lines.length; i += BLOCK_LINES) {
      blocks.push({
        partyId,
        period,
        chunkNo,
        blockNo: i / BLOCK_LINES,
        lines: JSON.stringify(lines.slice(i, i + BLOCK_LINES)),
      });
    }
    await store.putLineBlocks(blocks);
    // Another delivery of this chunk may have counted it first: then nothing is written.
    await s.transact(
      (e) => [
        e.billingChunk
          .create({
            partyId,
            period,
            chunkNo,
            lineCount: lines.length,
            blocks: blocks.length,
            net: lines.reduce((n, l) => n + l.amount, 0),
            summary: JSON.stringify(summarise(lines)),
            at: s.now.toISOString(),
          })
          .commit(),
        e.billingRun.patch({ partyId, period }).add({ done: 1 }).commit(),
      ],
      { otherwise: "skip" },
    );
  } else if (range) {
    // Done before: its next chunk was handed on before its lines were written.
    next = range.last ? undefined : chunkNo + 1;
  }
  const now = await store.getRun(partyId, period);
  return { allDone: now?.chunks !== undefined && now.done >= now.chunks, next };
}

/**
 * The subscriptions of an index chunk. Its first delivery reads its accounts from where it starts and,
 * in one transaction, records its size and creates the next chunk's range (or, at the end of the
 * index, the run's chunk count); a later or concurrent delivery reads what that one recorded.
 */
async function measure(
  s: Session,
  run: BillingRunRecord,
  range: BillingRangeRecord,
): Promise<{ subs: SubscriptionRecord[]; last: boolean }> {
  const store = s.deps.store;
  const { partyId, period, chunkNo } = range;
  if (range.count !== undefined)
    return { subs: await store.partySubscriptions(partyId, range.start, range.count), last: range.last === true };
  const w = await store.partyWindow(partyId, range.start, run.chunkSize);
  const wrote = await s.transact(
    (e) => [
      e.billingRange
        .patch({ partyId, period, chunkNo })
        .set({ count: w.subs.length, last: w.next === null })
        .where(Cond.rangeOpen())
        .commit(),
      w.next === null
        ? e.billingRun
            .patch({ partyId, period })
            .set({ chunks: chunkNo + 1 + run.extraChunks })
            .commit()
        : e.billingRange.create({ partyId, period, chunkNo: chunkNo + 1, start: w.next }).commit(),
    ],
    { otherwise: "skip" },
  );
  if (wrote) return { subs: w.subs, last: w.next === null };
  // Measured meanwhile by another delivery: its range is the chunk (the index may have moved since).
  const measured = await store.getRange(partyId, period, chunkNo);
  if (measured?.count === undefined) throw new Error(`billing run ${partyId} ${period}: chunk ${chunkNo} unmeasured`);
  return measure(s, run, measured);
}

/**
 * The subscriptions of a chunk of departed accounts: those billed elsewhere now (an account back
 * in the party since is in the index, billed there).
 */
async function departedSubscriptions(s: Session, run: BillingRunRecord, n: number): Promise<SubscriptionRecord[]> {
  const ids = run.extra.slice(n * run.chunkSize, (n + 1) * run.chunkSize);
  const subs = (await Promise.all(ids.map((id) => s.deps.store.allSubscriptions(id)))).flat();
  return subs.filter((sub) => sub.partyId !== run.partyId);
}
