import { describe, expect, it } from "vitest";
import type { TxItem } from "../infra/store.js";
import { ConditionFailed } from "../infra/store.js";
import { Conflict, NotFound, RateLimited } from "./errors.js";
import { Contention, guard, optimistic, run } from "./tx.js";

/** A stand-in for the store's transaction runner: cancels with the given reasons, or commits. */
function store(reasons?: string[]) {
  const calls: unknown[][] = [];
  return {
    calls,
    async transact(build: (e: null) => TxItem[]): Promise<void> {
      calls.push(build(null));
      if (reasons) throw new ConditionFailed(reasons);
    },
  };
}
const op = (name: string) => ({ name }) as unknown as TxItem;

describe("transact: a cancellation means the error of the step that failed", () => {
  it("a guarded step's own error, whatever its position, and only its operation is sent", async () => {
    const st = store(["None", "None", "ConditionalCheckFailed"]);
    const err = await run(st, () => [
      op("a"),
      guard(op("b"), () => new NotFound("Member")),
      guard(op("c"), () => new RateLimited("slow down", 5)),
    ]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RateLimited);
    expect(st.calls[0]).toEqual([{ name: "a" }, { name: "b" }, { name: "c" }]);
  });

  it("the first failed guarded step wins over later ones", async () => {
    const err = await run(store(["ConditionalCheckFailed", "ConditionalCheckFailed"]), () => [
      guard(op("a"), () => new NotFound("Member")),
      guard(op("b"), () => new Conflict("taken")),
    ]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NotFound);
  });

  it("an unguarded failure is `otherwise`, a Conflict by default, a Contention for retry, false for skip", async () => {
    const failed = ["ConditionalCheckFailed", "None"];
    const build = () => [op("a"), guard(op("b"), () => new NotFound("Member"))];
    expect(await run(store(failed), build).catch((e: unknown) => e)).toBeInstanceOf(Conflict);
    expect(
      await run(store(failed), build, { otherwise: () => new NotFound("Equipment") }).catch(
        (e: unknown) => (e as Error).message,
      ),
    ).toBe("Equipment not found");
    expect(await run(store(failed), build, { otherwise: "retry" }).catch((e: unknown) => e)).toBeInstanceOf(Contention);
    expect(await run(store(failed), build, { otherwise: "skip" })).toBe(false);
    // A guarded failure is never skipped.
    expect(
      await run(store(["None", "ConditionalCheckFailed"]), build, { otherwise: "skip" }).catch((e: unknown) => e),
    ).toBeInstanceOf(NotFound);
  });

  it("after-commit effects run only once the write committed", async () => {
    let mailed = 0;
    const after = async () => {
      mailed += 1;
    };
    expect(await run(store(), () => [op("a")], { after })).toBe(true);
    await run(store(["ConditionalCheckFailed"]), () => [op("a")], { after }).catch(() => undefined);
    await run(store(["ConditionalCheckFailed"]), () => [op("a")], { after, otherwise: "skip" });
    expect(mailed).toBe(1);
  });

  it("an after-commit effect that fails is reported, each error of an AggregateError on its own, not thrown", async () => {
    const reported: unknown[] = [];
    const refused = new Error("refused");
    expect(
      await run(
        store(),
        () => [op("a")],
        { after: () => Promise.reject(refused) },
        (e) => reported.push(e),
      ),
    ).toBe(true);
    const both = [new Error("one"), new Error("two")];
    await run(
      store(),
      () => [op("a")],
      { after: () => Promise.reject(new AggregateError(both)) },
      (e) => reported.push(e),
    );
    expect(reported).toEqual([refused, ...both]);
  });

  it("errors other than a cancellation pass through untouched", async () => {
    const boom = new Error("network");
    const failing = { transact: async () => Promise.reject(boom) };
    expect(await run(failing, () => [op("a")]).catch((e: unknown) => e)).toBe(boom);
  });
});

describe("optimistic: retries on Contention only, with jitter from the given source", () => {
  it("reads and writes again until it wins, waiting base × 2^(attempt−1) × random", async () => {
    const draws: number[] = [];
    const random = () => {
      draws.push(0);
      return 0;
    };
    let attempts = 0;
    const result = await optimistic(random, { attempts: 5, gaveUp: () => new Conflict("busy") }, async (attempt) => {
      attempts = attempt;
      if (attempt < 3) throw new Contention();
      return "won";
    });
    expect(result).toBe("won");
    expect(attempts).toBe(3);
    expect(draws).toHaveLength(2);
  });

  it("gives up with the policy's error after `attempts`, and never retries other errors", async () => {
    let calls = 0;
    const busy = await optimistic(
      () => 0,
      { attempts: 4, gaveUp: () => new Conflict("busy") },
      async () => {
        calls += 1;
        throw new Contention();
      },
    ).catch((e: unknown) => e);
    expect(busy).toEqual(new Conflict("busy"));
    expect(calls).toBe(4);
    calls = 0;
    const other = await optimistic(
      () => 0,
      { attempts: 4, gaveUp: () => new Conflict("busy") },
      async () => {
        calls += 1;
        throw new NotFound("Member");
      },
    ).catch((e: unknown) => e);
    expect(other).toBeInstanceOf(NotFound);
    expect(calls).toBe(1);
  });
});
