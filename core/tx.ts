import { randomInt } from "node:crypto";
import type { TxEntities, TxItem } from "../infra/store.js";
import { ConditionFailed } from "../infra/store.js";
import { Conflict } from "./errors.js";

/**
 * The write path of every use case: one TransactWriteItems built from named operations, where an
 * operation whose condition has a meaning of its own says which domain error its failure is.
 * The cancellation is decoded here, by each item's own reason, so no use case reads positions.
 */

/** An operation whose failed condition means `fails()` (a full subscription, a taken key, a rate limit…). */
export interface Guarded {
  readonly op: TxItem;
  readonly fails: () => Error;
}

/** One item of a transaction: a plain operation, or one with the error its failed condition means. */
export type TxStep = TxItem | Guarded;

/** Marks `op` as meaning `fails()` when its condition is what cancelled the transaction. */
export function guard(op: TxItem, fails: () => Error): Guarded {
  return { op, fails };
}

function isGuarded(step: TxStep): step is Guarded {
  return typeof step === "object" && step !== null && "fails" in step && "op" in step;
}

/**
 * A write that lost to a concurrent change and may succeed after reading again: what `optimistic`
 * retries. `transact` throws it for an unguarded failed condition when the use case asked to retry.
 */
export class Contention extends Error {
  constructor(options?: ErrorOptions) {
    super("concurrent change", options);
    this.name = "Contention";
  }
}

export interface TransactOptions {
  /**
   * What any other failed condition means: an error; "retry" (the use case reads again inside
   * `optimistic`); or "skip" (someone else already did it: `transact` answers false). Default: a
   * Conflict asking the caller to reload.
   */
  readonly otherwise?: (() => Error) | "retry" | "skip";
  /** Effects that may only happen once the write committed (mail, enqueues); see `afterCommit`. */
  readonly after?: () => Promise<unknown>;
}

/** Told of an after-commit effect that failed (each error of an AggregateError on its own). */
export type EffectReporter = (err: unknown) => void;

/** Without an adapter's reporter: the error's name only (its message may quote a name or an address). */
const reportToStderr: EffectReporter = (err) =>
  console.error(`after-commit effect failed: ${err instanceof Error ? err.name : typeof err}`);

/**
 * Runs a committed write's effects. A failure is reported, not thrown: the write stands, and a
 * client told the change failed would make it again (a second account, say).
 */
export async function afterCommit(
  after: (() => Promise<unknown>) | undefined,
  report: EffectReporter = reportToStderr,
): Promise<void> {
  if (!after) return;
  try {
    await after();
  } catch (err) {
    for (const e of err instanceof AggregateError ? err.errors : [err]) report(e);
  }
}

export type Build<E = TxEntities> = (e: E) => readonly TxStep[];

const changedMeanwhile = () => new Conflict("The data changed meanwhile; reload and try again");

/** The error a cancelled transaction means: the first guarded step that failed, else `otherwise`. */
export function failureOf(
  err: ConditionFailed,
  steps: readonly TxStep[],
  otherwise: Exclude<TransactOptions["otherwise"], "skip">,
): Error {
  for (const [i, step] of steps.entries()) {
    if (err.reasons[i] === "ConditionalCheckFailed" && isGuarded(step)) return step.fails();
  }
  if (otherwise === "retry") return new Contention({ cause: err });
  return (otherwise ?? changedMeanwhile)();
}

/**
 * Runs one transaction on `store` (the table's store, or the integrations' one); use cases call
 * `Session.transact`, which also clears the request's cache.
 */
export async function run<E>(
  store: { transact(build: (e: E) => TxItem[]): Promise<void> },
  build: Build<E>,
  opts: TransactOptions = {},
  report?: EffectReporter,
): Promise<boolean> {
  let steps: readonly TxStep[] = [];
  try {
    await store.transact((e) => {
      steps = build(e);
      return steps.map((step) => (isGuarded(step) ? step.op : step));
    });
  } catch (err) {
    if (!(err instanceof ConditionFailed)) throw err;
    const { otherwise } = opts;
    if (
      otherwise === "skip" &&
      !steps.some((step, i) => isGuarded(step) && err.reasons[i] === "ConditionalCheckFailed")
    )
      return false;
    throw failureOf(err, steps, otherwise === "skip" ? undefined : otherwise);
  }
  await afterCommit(opts.after, report);
  return true;
}

/** A number in [0, 1) for retry jitter: `Deps.random` in tests (deterministic), crypto otherwise. */
export type Random = () => number;
export const cryptoRandom: Random = () => randomInt(0, 1 << 30) / (1 << 30);

export interface RetryPolicy {
  /** Attempts before giving up. */
  readonly attempts: number;
  /** The error when every attempt lost (a Conflict for callers, a plain Error for jobs). */
  readonly gaveUp: (cause: Contention) => Error;
  /** Upper bound of the first wait in ms; each further attempt doubles it (capped by `capMs`, default 640). */
  readonly baseMs?: number;
  readonly capMs?: number;
  /** Called before each retry (counts contention in benchmarks). */
  readonly onRetry?: () => void;
}

/**
 * Optimistic concurrency in one place: runs `body` (which reads, then writes conditioned on what
 * it read) again whenever it throws `Contention`, after a jittered wait, up to `attempts` times.
 */
export async function optimistic<T>(
  random: Random,
  policy: RetryPolicy,
  body: (attempt: number) => Promise<T>,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await body(attempt);
    } catch (err) {
      if (!(err instanceof Contention)) throw err;
      if (attempt >= policy.attempts) throw policy.gaveUp(err);
      policy.onRetry?.();
      const wait = Math.min(policy.capMs ?? 640, (policy.baseMs ?? 20) * 2 ** (attempt - 1)) * random();
      await new Promise((r) => setTimeout(r, wait));
    }
  }
}
