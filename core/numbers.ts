import * as z from "zod";
import { newId } from "../infra/ids.js";
import { portingStates } from "../infra/entities/phone-number.js";
import type { AccountRecord, Page, PhoneNumberRecord, TxEntities } from "../infra/store.js";
import * as Cond from "../infra/store/conditions.js";
import { actorLabel } from "./actor.js";
import * as Audit from "./audit.js";
import type { Session } from "./context.js";
import { publicNumber } from "./equipment/common.js";
import { Conflict, Forbidden, Invalid } from "./errors.js";
import { paged } from "./paging.js";
import type { PageArgs } from "./paging.js";
import * as PartnerAdmin from "./partner-admin.js";
import { PLATFORM_ID, allowed, isOperator } from "./rights.js";
import type { Reach } from "./rights.js";
import { DAY_MS } from "./time.js";
import { QUARANTINE_DAYS, assertUnused } from "./number-pool.js";
import { guard } from "./tx.js";
import * as V from "./validation.js";

/**
 * The number inventory (EXPO.e "Adding Numbers", "business profile number"). Operators add E.164
 * numbers to a partner's pool; a partner allocates them down to a customer or sub-reseller; a
 * customer assigns them to extensions and chooses its main number. A number is in one pool at a
 * time; released (or left by a deleted account) it goes back up, quarantined before anyone takes it.
 */

export type Info = PhoneNumberRecord;
export type PortingState = (typeof portingStates)[number];
export { portingStates };

/** Numbers added by one call (a list and ranges together). */
export const MAX_ADD = 1000;
/** Numbers allocated, released or updated by one call: one transaction, all or nothing. */
export const MAX_MOVE = 90;
export { QUARANTINE_DAYS, available } from "./number-pool.js";

const numberList = (max: number) =>
  z
    .array(publicNumber)
    .min(1, "must name at least one number")
    .max(max, `must name at most ${max} numbers a call`)
    .superRefine((ns, ctx) => {
      const seen = new Set<string>();
      for (const [i, n] of ns.entries()) {
        if (seen.has(n)) ctx.addIssue({ code: "custom", path: [i], message: `${n} is named twice` });
        seen.add(n);
      }
    });

/** A porting date goes with the PORTING state, and only with it. */
function portingDateRule(v: { state: string; portingDate?: Date | null | undefined }, ctx: z.RefinementCtx): void {
  if (v.state === "PORTING" && !v.portingDate)
    ctx.addIssue({ code: "custom", path: ["portingDate"], message: "is required for numbers being ported" });
  if (v.state !== "PORTING" && v.portingDate)
    ctx.addIssue({ code: "custom", path: ["portingDate"], message: "applies only to numbers being ported" });
}

/** A range of consecutive numbers, both ends included (+441632960000 to +441632960099). */
const range = z.object({ first: publicNumber, last: publicNumber });

const addInput = z
  .object({
    accountId: z.string().min(1),
    numbers: z.array(z.string()).nullish(),
    ranges: z.array(range).nullish(),
    state: V.absentIfNull(z.enum(portingStates)).transform((v) => v ?? "NEW"),
    portingDate: z.date().nullish(),
  })
  .superRefine(portingDateRule);
export type AddInput = z.input<typeof addInput>;

/** The numbers of a range, or an issue: same length, last not before first, at most MAX_ADD. */
function expand(r: { first: string; last: string }, path: (string | number)[]): string[] {
  if (r.first.length !== r.last.length)
    throw new Invalid([{ path: path.map(String), message: "first and last must have the same number of digits" }]);
  const from = BigInt(r.first.slice(1));
  const to = BigInt(r.last.slice(1));
  if (to < from) throw new Invalid([{ path: path.map(String), message: "last must not be before first" }]);
  if (to - from >= BigInt(MAX_ADD))
    throw new Invalid([{ path: path.map(String), message: `must hold at most ${MAX_ADD} numbers` }]);
  const out: string[] = [];
  for (let n = from; n <= to; n++) out.push(`+${n.toString().padStart(r.first.length - 1, "0")}`);
  return out;
}

/**
 * Operators add numbers (a list and/or ranges, at most 1,000) to a partner's pool, each with its
 * porting state. All or nothing: a number already in the inventory (outside the platform's own
 * pool past quarantine) refuses the whole call.
 */
export async function add(s: Session, raw: AddInput): Promise<{ account: AccountRecord; numbers: Info[] }> {
  s.principal();
  const input = await V.parseAsync(addInput, raw);
  const { account, reach } = await s.authorized(input.accountId, "numbers.add");
  const listed = await V.parseAsync(
    z.array(publicNumber).max(MAX_ADD, `must name at most ${MAX_ADD} numbers a call`),
    input.numbers ?? [],
    ["numbers"],
  );
  const all = [...listed, ...(input.ranges ?? []).flatMap((r, i) => expand(r, ["ranges", String(i)]))];
  if (all.length === 0) throw Invalid.field("numbers", "must name at least one number (numbers or ranges)");
  await V.parseAsync(numberList(MAX_ADD), all, ["numbers"]);
  const now = s.now.toISOString();
  const existing = await s.deps.store.getNumbers(all);
  const taken = existing.filter((n): n is Info => !!n && !addable(n, now));
  if (taken.length > 0)
    throw new Conflict(
      `${taken.length} of these numbers are in the inventory already: ${taken
        .slice(0, 5)
        .map((n) => n.number)
        .join(", ")}${taken.length > 5 ? ", …" : ""}`,
    );
  const batch = newId();
  const records: Info[] = all.map((number) => ({
    number,
    holderId: account.id,
    fromId: PLATFORM_ID,
    state: input.state,
    ...(input.portingDate ? { portingDate: input.portingDate.toISOString() } : {}),
    addedAt: now,
    addedBy: actorLabel(s.actor),
    batch,
    version: 1,
    updatedAt: now,
  }));
  const raced = () => new Conflict("Some of these numbers were added meanwhile; nothing was added");
  // One transaction per 97 numbers (a transaction holds 100 items); the audit entry rides with the
  // last, so it exists only if all committed.
  const chunks: Info[][] = [];
  for (let i = 0; i < records.length; i += 97) chunks.push(records.slice(i, i + 97));
  const written: Info[][] = [];
  try {
    for (const [i, chunk] of chunks.entries()) {
      const last = i === chunks.length - 1;
      await s.transact((e) => [
        ...chunk.map((r) => guard(e.phoneNumber.put(r).where(Cond.numberAddable(PLATFORM_ID, now)).commit(), raced)),
        ...(last ? audit(e, s, reach, account.id, "numbers.added", { count: records.length, state: input.state }) : []),
      ]);
      written.push(chunk);
    }
  } catch (err) {
    // A later part lost a race: the parts written are taken back, each number only while it is still
    // this batch's and untouched (an allocation may already have taken one: that one stays).
    for (const r of written.flat())
      await s.transact((e) => [e.phoneNumber.delete({ number: r.number }).where(Cond.addedUntouched(batch)).commit()], {
        otherwise: "skip",
      });
    throw err;
  }
  return { account, numbers: records };
}

function withoutQuarantine(n: Info): Info {
  const { quarantinedUntil: _q, ...rest } = n;
  return rest;
}

/** Free for an operator to add: unknown, or given back to the platform and out of quarantine. */
const addable = (n: Info, now: string) =>
  n.holderId === PLATFORM_ID && (!n.quarantinedUntil || n.quarantinedUntil <= now);

const moveInput = z.object({ accountId: z.string().min(1), numbers: numberList(MAX_MOVE) });

/**
 * A partner allocates numbers from its pool to a child (customer or sub-reseller): the writers
 * above the child (sellers, operators). Each number must be in the parent's pool, out of
 * quarantine; two allocations of the same number: exactly one wins.
 */
export async function allocate(
  s: Session,
  raw: z.input<typeof moveInput>,
): Promise<{ account: AccountRecord; numbers: Info[] }> {
  s.principal();
  const input = await V.parseAsync(moveInput, raw);
  const { account, reach } = await s.authorized(input.accountId, "numbers.allocate");
  const parentId = account.parentId;
  const now = s.now.toISOString();
  const found = await s.deps.store.getNumbers(input.numbers);
  const missing = input.numbers.filter((_n, i) => {
    const f = found[i];
    return !f || f.holderId !== parentId || (f.quarantinedUntil !== undefined && f.quarantinedUntil > now);
  });
  if (missing.length > 0)
    throw Invalid.field(
      "numbers",
      `not available in the parent's pool: ${missing.slice(0, 5).join(", ")}${missing.length > 5 ? ", …" : ""}`,
    );
  // As a release refuses them: the parent's main number and the numbers on its own extensions stay its own.
  const parent = parentId ? await s.account(parentId) : undefined;
  if (parent) await assertUnused(s, parent, input.numbers, "the account above");
  const gone = () => new Conflict("Some of these numbers left the pool meanwhile; nothing was allocated");
  const moved: Info[] = found.map((f) => ({
    ...withoutQuarantine(f!),
    holderId: account.id,
    fromId: parentId,
    allocatedAt: now,
    version: f!.version + 1,
    updatedAt: now,
  }));
  await s.transact((e) => [
    ...moved.map((n) =>
      guard(
        e.phoneNumber
          .patch({ number: n.number })
          .set({ holderId: n.holderId, fromId: n.fromId, allocatedAt: now, version: n.version, updatedAt: now })
          .remove(["quarantinedUntil"])
          .where(Cond.inPool(parentId, now))
          .commit(),
        gone,
      ),
    ),
    ...(parent
      ? [guard(e.account.check({ id: parent.id }).where(Cond.mainNumberIs(parent.mainNumber)).commit(), gone)]
      : []),
    ...audit(e, s, reach, account.id, "numbers.allocated", { count: moved.length, from: parentId }),
  ]);
  return { account, numbers: moved };
}

/**
 * The numbers' holder (its writers, a partner admin on its behalf, the writers above) gives them
 * back: they go to its parent's pool, quarantined 30 days. A number on an extension, or the
 * account's main number, is refused: free it first.
 */
export async function release(
  s: Session,
  raw: z.input<typeof moveInput>,
): Promise<{ account: AccountRecord; numbers: Info[] }> {
  s.principal();
  const input = await V.parseAsync(moveInput, raw);
  const { account, reach } = await s.authorized(input.accountId, "numbers.manage");
  const found = await s.deps.store.getNumbers(input.numbers);
  const foreign = input.numbers.filter((_n, i) => found[i]?.holderId !== account.id);
  if (foreign.length > 0)
    throw Invalid.field("numbers", `not in the account's pool: ${foreign.slice(0, 5).join(", ")}`);
  // Read after the numbers: an association made since moves a number's version, which the release conditions on.
  await assertUnused(s, account, input.numbers, "the account");
  const now = s.now.toISOString();
  const until = new Date(s.now.getTime() + QUARANTINE_DAYS * DAY_MS).toISOString();
  const moved = found.map((f) => ({
    ...f!,
    holderId: account.parentId,
    quarantinedUntil: until,
    version: f!.version + 1,
    updatedAt: now,
  }));
  await s.transact(
    (e) => [
      ...found.map((f) =>
        e.phoneNumber
          .patch({ number: f!.number })
          .set({ holderId: account.parentId, quarantinedUntil: until, version: f!.version + 1, updatedAt: now })
          .where(Cond.atVersion(f!.version))
          .commit(),
      ),
      e.account.check({ id: account.id }).where(Cond.mainNumberIs(account.mainNumber)).commit(),
      ...audit(e, s, reach, account.id, "numbers.released", { count: moved.length, to: account.parentId, until }),
    ],
    { otherwise: () => new Conflict("These numbers changed meanwhile (assigned, or released); reload and try again") },
  );
  return { account, numbers: moved };
}

const mainInput = z.object({ accountId: z.string().min(1), number: publicNumber.nullish() });

/** The account's main (business profile) number: one of its own pool, out of quarantine; null clears it. */
export async function setMain(s: Session, raw: z.input<typeof mainInput>): Promise<AccountRecord> {
  s.principal();
  const input = await V.parseAsync(mainInput, raw);
  const { account, reach } = await s.authorized(input.accountId, "numbers.manage");
  const now = s.now.toISOString();
  const number = input.number ?? undefined;
  if (number) {
    const n = await s.deps.store.getNumber(number);
    if (!n || n.holderId !== account.id || (n.quarantinedUntil !== undefined && n.quarantinedUntil > now))
      throw Invalid.field("number", "is not in the account's number pool");
  }
  const notInPool = () => Invalid.field("number", "is not in the account's number pool");
  await s.transact((e) => [
    guard(
      (number
        ? e.account.patch({ id: account.id }).set({ mainNumber: number })
        : e.account.patch({ id: account.id }).remove(["mainNumber"])
      )
        .where(Cond.mainNumberIs(account.mainNumber))
        .commit(),
      () => new Conflict("The main number changed meanwhile; reload and try again"),
    ),
    ...(number
      ? [
          guard(
            e.phoneNumber.patch({ number }).add({ version: 1 }).where(Cond.inPool(account.id, now)).commit(),
            notInPool,
          ),
        ]
      : []),
    ...audit(e, s, reach, account.id, "numbers.mainNumberSet", { number: number ?? null }),
  ]);
  const { mainNumber: _old, ...rest } = account;
  return number ? { ...rest, mainNumber: number } : rest;
}

const portingInput = z
  .object({
    numbers: numberList(MAX_MOVE),
    state: z.enum(portingStates),
    portingDate: z.date().nullish(),
  })
  .superRefine(portingDateRule);

/** Operators record the porting state of numbers (NEW → PORTING with a date → ACTIVE); an ACTIVE number stays ACTIVE. */
export async function setPorting(s: Session, raw: z.input<typeof portingInput>): Promise<Info[]> {
  s.principal();
  if (!isOperator(s.actor, await s.memberships()))
    throw new Forbidden("Only the vendor's platform operators record porting", "OPERATOR_ONLY");
  const input = await V.parseAsync(portingInput, raw);
  const found = await s.deps.store.getNumbers(input.numbers);
  const unknown = input.numbers.filter((_n, i) => !found[i]);
  if (unknown.length > 0) throw Invalid.field("numbers", `not in the inventory: ${unknown.slice(0, 5).join(", ")}`);
  const live = found.filter((f) => f!.state === "ACTIVE" && input.state !== "ACTIVE");
  if (live.length > 0)
    throw Invalid.field("state", `${live[0]!.number} is ACTIVE already: an active number is not ported again`);
  const now = s.now.toISOString();
  const updated = found.map((f) => {
    const { portingDate: _d, ...rest } = f!;
    return {
      ...rest,
      state: input.state,
      ...(input.portingDate ? { portingDate: input.portingDate.toISOString() } : {}),
      version: f!.version + 1,
      updatedAt: now,
    };
  });
  await s.transact((e) => [
    ...updated.map((n, i) => {
      const p = e.phoneNumber.patch({ number: n.number }).set({
        state: n.state,
        version: n.version,
        updatedAt: now,
        ...(n.portingDate ? { portingDate: n.portingDate } : {}),
      });
      return (n.portingDate ? p : p.remove(["portingDate"])).where(Cond.atVersion(found[i]!.version)).commit();
    }),
    Audit.entry(e, {
      accountId: PLATFORM_ID,
      action: "numbers.portingSet",
      actor: s.actor,
      at: s.now,
      details: { count: updated.length, state: input.state },
    }).commit(),
  ]);
  return updated;
}

const stateFilter = z.enum(portingStates).nullish();

/** An account's pool, in number order: anyone who sees the account. */
export async function list(
  s: Session,
  accountId: string,
  args: PageArgs & { readonly state?: PortingState | null },
): Promise<Page<Info>> {
  const { account } = await s.authorized(accountId, "account.read");
  const state = V.parse(stateFilter, args.state, ["state"]);
  return paged(args, (limit, cursor) => s.deps.store.listNumbers(account.id, { state, limit, cursor }));
}

/** A number, for those who see the account holding it (node lookups); undefined otherwise. */
export async function find(s: Session, number: string): Promise<Info | undefined> {
  const n = await s.deps.store.getNumber(number);
  if (!n) return undefined;
  const [ms, holder] = await Promise.all([s.memberships(), s.account(n.holderId)]);
  return holder && allowed(s.actor, ms, holder, "account.read", s.now) ? n : undefined;
}

/** The audit entry of a change to a pool and, when done on behalf, the partner-admin trail and its consent check. */
function audit(
  e: TxEntities,
  s: Session,
  reach: Reach,
  accountId: string,
  action: string,
  details: Record<string, unknown>,
) {
  return [
    Audit.entry(e, {
      accountId,
      action,
      actor: s.actor,
      at: s.now,
      details,
      ...(reach.onBehalf ? { onBehalfOf: reach.onBehalf.resellerId } : {}),
    }).commit(),
    ...PartnerAdmin.behalfOps(e, s, reach, accountId, action),
  ];
}
