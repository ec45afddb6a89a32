import { AsyncLocalStorage } from "node:async_hooks";

/** DynamoDB requests one GraphQL request may make (REQUEST_BUDGET overrides it per stage). */
export const DEFAULT_REQUEST_BUDGET = 300;

/**
 * A request that needs (or would need) more DynamoDB requests than its budget. Raised before
 * execution when the operation's estimate is over it, or at the first DynamoDB request past it;
 * either way the request stops reading, so one expensive request cannot slow everyone else.
 */
export class RequestBudgetExceeded extends Error {
  constructor(
    readonly budget: number,
    /** The operation's estimate, when it was refused before running. */
    readonly estimated?: number,
  ) {
    super(
      estimated === undefined
        ? `used its budget of ${budget} DynamoDB requests`
        : `estimated at ${estimated} DynamoDB requests, over its budget of ${budget}`,
    );
    this.name = "RequestBudgetExceeded";
  }

  /** The RequestBudgetExceeded error in `err`'s cause chain (libraries wrap what the client throws). */
  static in(err: unknown): RequestBudgetExceeded | undefined {
    for (let e: unknown = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
      if (e instanceof RequestBudgetExceeded) return e;
    }
    return undefined;
  }
}

interface Budget {
  readonly limit: number;
  used: number;
}

const current = new AsyncLocalStorage<Budget>();

/** Runs `fn` (one GraphQL execution) with its own budget of DynamoDB requests. */
export function withRequestBudget<T>(limit: number, fn: () => T): T {
  return current.run({ limit, used: 0 }, fn);
}

/**
 * Counts one DynamoDB request against the budget of the request it is made for (the store's
 * client middleware calls it for every command); outside a budgeted request (jobs, workers) it does
 * nothing. Past the budget it throws instead of sending.
 */
export function chargeRequest(): void {
  const budget = current.getStore();
  if (!budget) return;
  budget.used += 1;
  if (budget.used > budget.limit) throw new RequestBudgetExceeded(budget.limit);
}

/** DynamoDB requests made so far by the current budgeted request (undefined outside one). */
export function requestsUsed(): number | undefined {
  return current.getStore()?.used;
}
