/**
 * Benchmark: a monthly billing run through the real queue and workers, against the raw DynamoDB
 * writes of the same items, in the same run.
 *
 * For each size (default 500, 1,000 and 2,000 customers under 50 resellers and 5 distributors, 3
 * MONTHLY subscriptions each), on fresh tables of one DynamoDB Local:
 *
 *  1. seed in bulk through the Store's ElectroDB entities what core/account.ts (`create`) and
 *     core/order.ts (`place`) would have written for that hierarchy in September; 1 customer in 10
 *     increased a subscription in October (billed at the new quantity, no ledger read: updatedAt is
 *     before the month end) and 1 in 10 increased one on 1 November (after the month: billing reads
 *     the ledger for the month-end quantity);
 *  2. `startLocalJobs(deps, …).run("billing", { period: "2026-10" })` with the clock set to
 *     1 November: the real scheduler, fauxqs (in-process SQS), the SQS worker (`processSqsBatch`
 *     → `work` → `Billing.issue` + `Billing.mail`), one invoice per distributor;
 *  3. the raw path: the same invoice-line items with BatchWriteItem (25 a request) and one
 *     TransactWriteItems per invoice (invoice + number counter), with plain @aws-sdk/lib-dynamodb
 *     commands on a client of its own, into a fresh table; steps 2 and 3 alternate which goes first;
 *  4. checks: the product's lines and invoices equal the raw path's items (invoice number and
 *     instants aside), every invoice was mailed; then a second run of the same month, which must
 *     write nothing (0 BatchWriteItem, 0 TransactWriteItems, no other write).
 *
 * A separate small table is filled through the core functions (createAccount, invitation,
 * setTaxRate, setAvailableOffers, placeOrder) once: every seeded item must have the attribute
 * names of an item the product wrote for the same entity (and kind / action).
 */
import * as Acceptance from "../core/acceptance.js";
import { Busy, invitationToken, runCleanups, seededAccount } from "./common.js";
import { readFileSync, readdirSync } from "node:fs";
import { performance } from "node:perf_hooks";
import { isDeepStrictEqual } from "node:util";
import { DeleteTableCommand } from "@aws-sdk/client-dynamodb";
import type { SQSClient } from "@aws-sdk/client-sqs";
import { BatchWriteCommand, GetCommand, QueryCommand, ScanCommand, TransactWriteCommand } from "@aws-sdk/lib-dynamodb";
import type { DynamoDBDocumentClient, QueryCommandInput, TransactWriteCommandInput } from "@aws-sdk/lib-dynamodb";
import { Service } from "electrodb";
import type { EntityItem } from "electrodb";
import { monotonicFactory } from "ulid";
import * as Account from "../core/account.js";
import * as Billing from "../core/billing.js";
import { BLOCK_LINES } from "../infra/store/billing-runs.js";
import { ensurePlatform } from "../core/bootstrap.js";
import * as Catalog from "../core/catalog.js";
import { Session } from "../core/context.js";
import type { Deps, UserActor } from "../core/context.js";
import * as Order from "../core/order.js";
import { PLATFORM_ID } from "../core/rights.js";
import { SettableClock } from "../infra/clock.js";
import { renderInvoicePdf } from "../infra/documents.js";
import { createDocumentClient, ensureTable } from "../infra/dynamo.js";
import { newId } from "../infra/ids.js";
import { OutboxMailer } from "../infra/mail.js";
import { Store, createEntities } from "../infra/store.js";
import type {
  AccountRecord,
  AuditRecord,
  ChangeRecord,
  DueRecord,
  Entities,
  InvoiceRecord,
  MemberRecord,
  OrderKeyRecord,
  OrderRecord,
  SubscriptionRecord,
  SubtreeRecord,
} from "../infra/store.js";
import { startDynamoLocal } from "../local/dynamodb.js";
import type { LocalDynamo } from "../local/dynamodb.js";
import { startLocalJobs } from "../local/jobs.js";
import type { RunReport } from "../local/jobs.js";
import { silentTelemetry } from "../infra/telemetry.js";
import type { Telemetry } from "../infra/telemetry.js";

export interface BillingOptions {
  /** Customer counts to measure, each on fresh tables (issue: 500, 1,000, 2,000). */
  readonly sizes: readonly number[];
  /** Resellers under the distributors (issue: 50); customers are spread over them evenly. */
  readonly resellers: number;
  /** Distributors, the billed parties: one invoice each (issue: 5). */
  readonly distributors: number;
  /** Measurements per size (fresh tables each); which path goes first alternates. */
  readonly rounds: number;
  /** Customers of one unreported run first (JIT of Node and of DynamoDB Local's JVM); 0 for none. */
  readonly warmup: number;
  /**
   * Customers of each billed party, when they differ (issue 13: one party of 20,000 and five of
   * 2,000 in one run): one measured size, their sum, with one distributor per entry.
   */
  readonly partySizes?: readonly number[];
  readonly signal?: AbortSignal;
  readonly log?: (line: string) => void;
}

export const billingDefaults: BillingOptions = {
  sizes: [500, 1000, 2000],
  resellers: 50,
  distributors: 5,
  rounds: 1,
  warmup: 200,
};

/** The month billed, and when things happened around it. */
export const PERIOD = "2026-10";
const CREATED_AT = "2026-09-15T09:00:00.000Z";
const INCREASED_IN_MONTH_AT = "2026-10-20T10:00:00.000Z";
const INCREASED_AFTER_MONTH_AT = "2026-11-01T00:02:00.000Z";
/** The clock during the runs: after the month. */
const RUN_AT = "2026-11-01T00:05:00.000Z";
const CURRENCY = "USD";
const TAX_RATE = 2000;
const ISSUER = "Channel Partner Platform";
const OPERATOR = "operator@billing.bench.example.com";
const SELLER = "seller@billing.bench.example.com";
const ownerOf = (d: number) => `owner${d + 1}@billing.bench.example.com`;
const OFFERS = [
  { sku: "BENCH-BILL-VOICE", name: "Bench Voice Licence", unitPrice: 450 },
  { sku: "BENCH-BILL-MEET", name: "Bench Meetings Licence", unitPrice: 1200 },
  { sku: "BENCH-BILL-CALL", name: "Bench Contact Centre Seat", unitPrice: 2990 },
] as const;
const SKUS = OFFERS.map((o) => o.sku);
/** Largest size accepted (the model and the expected lines are held in memory). */
const MAX_CUSTOMERS = 40_000;

/** The billing messages of one outcome (planned, chunk written, invoice issued…) and their work times. */
export interface MessageTimes {
  readonly outcome: string;
  readonly count: number;
  readonly maxMs: number;
  readonly medianMs: number;
}

function messageTimes(records: readonly { outcome: string; ms: number }[]): MessageTimes[] {
  const by = new Map<string, number[]>();
  for (const r of records) by.set(r.outcome, [...(by.get(r.outcome) ?? []), r.ms]);
  return [...by].map(([outcome, ms]) => {
    const sorted = [...ms].sort((a, b) => a - b);
    return {
      outcome,
      count: ms.length,
      maxMs: sorted.at(-1) ?? 0,
      medianMs: sorted[Math.floor(sorted.length / 2)] ?? 0,
    };
  });
}

/** Requests, items returned and time in flight, per DynamoDB command or per Store method. */
export interface CallStats {
  readonly requests: number;
  /** Items in the answers (Query Items, BatchGetItem Responses, GetItem Item). */
  readonly itemsRead: number;
  /** Items in the requests (BatchWriteItem requests, TransactWriteItems items, Put/Update/Delete). */
  readonly itemsWritten: number;
  /** Wall time during which at least one such call was in flight (overlapping calls count once). */
  readonly busyMs: number;
  /** Sum of the calls' durations (whole SDK send). */
  readonly sumMs: number;
  readonly errors: number;
}

export interface PathRun {
  readonly wallMs: number;
  readonly requests: number;
  readonly byCommand: Readonly<Record<string, CallStats>>;
  /** By command and the entities it reads or writes ("Query subscription", "BatchWriteItem invoiceline"). */
  readonly byCall: Readonly<Record<string, CallStats>>;
  /** Wall time with at least one DynamoDB call in flight. */
  readonly dynamoBusyMs: number;
  /** CPU of this Node process (user + system) over the run. */
  readonly nodeCpuMs: number;
  /** CPU of the DynamoDB Local JVM over the run (null when /proc is not readable). */
  readonly dynamoCpuMs: number | null;
}

export interface ProductRun extends PathRun {
  readonly report: RunReport;
  /** Billing messages by outcome: how many, and the longest and median time one took in the worker. */
  readonly messages: readonly MessageTimes[];
  readonly sqsRequests: Readonly<Record<string, number>>;
  /** `store.requests` over the run (must equal `requests`). */
  readonly storeRequests: number;
}

export interface SizeResult {
  readonly customers: number;
  readonly resellers: number;
  readonly distributors: number;
  readonly round: number;
  readonly first: "product" | "raw";
  readonly subscriptions: number;
  /** Subscriptions whose month-end quantity needs a ledger read (changed after the month). */
  readonly ledgerReads: number;
  readonly lines: number;
  readonly invoices: number;
  readonly seedItems: number;
  readonly seedMs: number;
  readonly product: ProductRun;
  readonly raw: PathRun;
  /** product wall / raw wall. */
  readonly ratio: number;
  readonly second: ProductRun;
  /** Writes of the second run: BatchWriteItem, TransactWriteItems, PutItem, UpdateItem, DeleteItem requests. */
  readonly secondWrites: number;
  readonly mails: number;
  /** Outside the runs, one invoice of this size: reading its document (invoice + lines) and rendering its PDF. */
  readonly pdf: {
    readonly lines: number;
    readonly documentMs: number;
    readonly documentRequests: number;
    readonly renderMs: number;
    readonly bytes: number;
  };
}

export interface BillingResult {
  readonly options: Omit<BillingOptions, "signal" | "log">;
  readonly sizes: readonly SizeResult[];
  readonly shape: { readonly checked: readonly string[]; readonly notSeeded: readonly string[] };
  /** Wall time of the unreported warm-up (seed, runs, checks), 0 without one. */
  readonly warmupMs: number;
  readonly totalMs: number;
}

// ---------------------------------------------------------------------------------------------
// Instruments

class Tally {
  requests = 0;
  itemsRead = 0;
  itemsWritten = 0;
  sumMs = 0;
  errors = 0;
  readonly busy = new Busy();
  view(): CallStats {
    return {
      requests: this.requests,
      itemsRead: this.itemsRead,
      itemsWritten: this.itemsWritten,
      busyMs: this.busy.ms,
      sumMs: this.sumMs,
      errors: this.errors,
    };
  }
}

const WRITE_COMMANDS = ["BatchWriteItem", "TransactWriteItems", "PutItem", "UpdateItem", "DeleteItem"];

function itemsIn(input: unknown): number {
  const i = (input ?? {}) as {
    RequestItems?: Record<string, unknown[]>;
    TransactItems?: unknown[];
    Item?: unknown;
    Key?: unknown;
  };
  if (i.TransactItems) return i.TransactItems.length;
  if (i.RequestItems) return Object.values(i.RequestItems).reduce((n, r) => n + (Array.isArray(r) ? r.length : 0), 0);
  return i.Item || i.Key ? 1 : 0;
}

function itemsOut(output: unknown): number {
  const o = (output ?? {}) as { Items?: unknown[]; Responses?: Record<string, unknown[]>; Item?: unknown };
  if (o.Items) return o.Items.length;
  if (o.Responses && !Array.isArray(o.Responses)) return Object.values(o.Responses).reduce((n, r) => n + r.length, 0);
  return o.Item ? 1 : 0;
}

/** The entities named by a key or an item: ElectroDB sort keys start with `$<entity>_<version>`. */
function entitiesOf(input: unknown): string {
  const names = new Set<string>();
  const add = (v: unknown) => {
    const m = typeof v === "string" ? /^\$([a-z]+)_\d/.exec(v) : null;
    if (m) names.add(m[1]!);
  };
  const fromItem = (item: unknown) => {
    const i = (item ?? {}) as Record<string, unknown>;
    if (typeof i.__edb_e__ === "string") names.add(i.__edb_e__);
    else add(i.sk);
  };
  const i = (input ?? {}) as {
    Key?: unknown;
    Item?: unknown;
    ExpressionAttributeValues?: Record<string, unknown>;
    RequestItems?: Record<string, unknown>;
    TransactItems?: Record<string, { Item?: unknown; Key?: unknown }>[];
  };
  if (i.Key) fromItem(i.Key);
  if (i.Item) fromItem(i.Item);
  if (i.ExpressionAttributeValues && !i.Key) add(i.ExpressionAttributeValues[":sk1"]);
  for (const r of Object.values(i.RequestItems ?? {})) {
    const req = r as { Keys?: unknown[] } | { PutRequest?: { Item?: unknown }; DeleteRequest?: { Key?: unknown } }[];
    if (Array.isArray(req)) for (const w of req) fromItem(w.PutRequest?.Item ?? w.DeleteRequest?.Key);
    else for (const k of req.Keys ?? []) fromItem(k);
  }
  for (const t of i.TransactItems ?? []) for (const op of Object.values(t)) fromItem(op.Item ?? op.Key);
  return [...names].sort().join("+") || "?";
}

/**
 * Counts and times every DynamoDB call of a client, by command and by command + entities (read
 * from the request's keys, so nothing runs around the product's code). Added at the outermost
 * step, so it brackets the whole SDK send (its own retries included; each send counts as one request).
 */
function instrument(client: DynamoDBDocumentClient) {
  const probe = {
    on: false,
    all: new Busy(),
    byCommand: new Map<string, Tally>(),
    byCall: new Map<string, Tally>(),
    reset() {
      this.all = new Busy();
      this.byCommand = new Map();
      this.byCall = new Map();
    },
  };
  const tally = (map: Map<string, Tally>, key: string) => {
    let t = map.get(key);
    if (!t) {
      t = new Tally();
      map.set(key, t);
    }
    return t;
  };
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (!probe.on) return next(args);
      const command = (context.commandName ?? "?").replace(/Command$/, "");
      const kind =
        command === "BatchWrite"
          ? "BatchWriteItem"
          : command === "BatchGet"
            ? "BatchGetItem"
            : command === "TransactWrite"
              ? "TransactWriteItems"
              : command === "Get"
                ? "GetItem"
                : command === "Put"
                  ? "PutItem"
                  : command === "Update"
                    ? "UpdateItem"
                    : command === "Delete"
                      ? "DeleteItem"
                      : command;
      const tallies = [tally(probe.byCommand, kind), tally(probe.byCall, `${kind} ${entitiesOf(args.input)}`)];
      const t0 = performance.now();
      probe.all.enter();
      for (const t of tallies) {
        t.requests += 1;
        t.itemsWritten += WRITE_COMMANDS.includes(kind) ? itemsIn(args.input) : 0;
        t.busy.enter();
      }
      try {
        const out = await next(args);
        for (const t of tallies) t.itemsRead += itemsOut(out.output);
        return out;
      } catch (err) {
        for (const t of tallies) t.errors += 1;
        throw err;
      } finally {
        const ms = performance.now() - t0;
        probe.all.exit();
        for (const t of tallies) {
          t.sumMs += ms;
          t.busy.exit();
        }
      }
    },
    { step: "initialize", name: "benchBillingProbe", priority: "high" },
  );
  return probe;
}
type Probe = ReturnType<typeof instrument>;

/** Counts the SQS requests of the local jobs' client (scheduler sends, receives, deletes). */
function countSqs(sqs: SQSClient) {
  const counts = { on: false, byCommand: new Map<string, number>() };
  sqs.middlewareStack.add(
    (next, context) => async (args) => {
      if (counts.on) {
        const name = (context.commandName ?? "?").replace(/Command$/, "");
        counts.byCommand.set(name, (counts.byCommand.get(name) ?? 0) + 1);
      }
      return next(args);
    },
    { step: "initialize", name: "benchBillingSqsCount", priority: "high" },
  );
  return counts;
}

/** CPU time (ms) of a process from /proc (user + system), or null off Linux. */
function processCpuMs(pid: number | null): number | null {
  if (pid === null) return null;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // Fields 14 and 15 of stat (utime, stime) in clock ticks; Linux reports USER_HZ = 100.
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return null;
  }
}

/** Child processes of this process (all threads), from /proc. */
function childPids(): Set<number> {
  const out = new Set<number>();
  try {
    for (const tid of readdirSync(`/proc/${process.pid}/task`)) {
      for (const p of readFileSync(`/proc/${process.pid}/task/${tid}/children`, "utf8").trim().split(/\s+/))
        if (p) out.add(Number(p));
    }
  } catch {
    // not Linux
  }
  return out;
}

const cpuMs = (u: NodeJS.CpuUsage) => (u.user + u.system) / 1000;

// ---------------------------------------------------------------------------------------------
// The data: what core/account.ts and core/order.ts would have written

interface CustomerModel {
  readonly account: AccountRecord;
  readonly reseller: AccountRecord;
  /** Quantity per sku at seeding, and the later increase if any. */
  readonly subs: readonly {
    readonly sku: string;
    readonly quantity: number;
    readonly increase?: { readonly by: number; readonly at: string };
  }[];
}

interface PartyModel {
  readonly account: AccountRecord;
  readonly owner: string;
  readonly resellers: readonly AccountRecord[];
  readonly customers: readonly CustomerModel[];
}

interface Model {
  readonly parties: readonly PartyModel[];
  readonly subscriptions: number;
  readonly ledgerReads: number;
}

const WORDS = [
  "Alder",
  "Birch",
  "Cobalt",
  "Dune",
  "Ember",
  "Fable",
  "Garnet",
  "Heron",
  "Indigo",
  "Jasper",
  "Kite",
  "Lotus",
  "Meadow",
  "Nova",
  "Onyx",
  "Pine",
];

/** A seeded account of the billing model: US, created before the month, distributors billed in USD with VAT. */
const billingAccount = (
  a: Pick<AccountRecord, "id" | "kind" | "name" | "parentId" | "path" | "childCount" | "ownerCount" | "offers">,
): AccountRecord =>
  seededAccount({
    ...a,
    country: "US",
    createdAt: CREATED_AT,
    ...(a.kind === "DISTRIBUTOR" ? { currency: CURRENCY, taxRate: TAX_RATE } : {}),
  });

/**
 * Customer i sits under reseller i mod R, reseller r under distributor r mod D; with `partySizes`,
 * distributor d bills the next partySizes[d] customers, spread over its own resellers.
 */
function buildModel(customers: number, resellers: number, distributors: number, partySizes?: readonly number[]): Model {
  const parties = Array.from({ length: distributors }, (_, d) => ({
    account: billingAccount({
      id: newId(),
      kind: "DISTRIBUTOR",
      name: `Bench Billing Distribution ${d + 1}`,
      parentId: PLATFORM_ID,
      path: [PLATFORM_ID],
      childCount: 0,
      ownerCount: 1,
      offers: [...SKUS].sort(),
    }),
    owner: ownerOf(d),
    resellers: [] as AccountRecord[],
    customers: [] as CustomerModel[],
  }));
  const resellerList = Array.from({ length: resellers }, (_, r) => {
    const party = parties[r % distributors]!;
    const a = billingAccount({
      id: newId(),
      kind: "RESELLER",
      name: `Reseller ${WORDS[r % WORDS.length]} ${String(r + 1).padStart(3, "0")}`,
      parentId: party.account.id,
      path: [PLATFORM_ID, party.account.id],
      childCount: 0,
      ownerCount: 0,
      offers: [...SKUS].sort(),
    });
    party.resellers.push(a);
    party.account.childCount += 1;
    return { account: a, party };
  });
  let subscriptions = 0;
  let ledgerReads = 0;
  // With party sizes: customer i's party, and its rank within that party.
  const placed = partySizes?.flatMap((n, d) => Array.from({ length: n }, (_v, k) => ({ d, k })));
  for (let i = 0; i < customers; i++) {
    const at = placed?.[i];
    const party0 = at ? parties[at.d]! : undefined;
    const { account: reseller, party } = party0
      ? { account: party0.resellers[at!.k % party0.resellers.length]!, party: party0 }
      : resellerList[i % resellers]!;
    const a = billingAccount({
      id: newId(),
      kind: "CUSTOMER",
      name: `Customer ${WORDS[(i * 7) % WORDS.length]} ${String(i + 1).padStart(5, "0")}`,
      parentId: reseller.id,
      path: [PLATFORM_ID, party.account.id, reseller.id],
      childCount: 0,
      ownerCount: 0,
      offers: [...SKUS].sort(),
    });
    reseller.childCount += 1;
    const subs = SKUS.map((sku, j) => {
      const quantity = 1 + ((i * 3 + j * 5) % 20);
      // 1 customer in 10 increased its first offer in October, 1 in 10 its second one on 1 November.
      if (j === 0 && i % 10 === 3) return { sku, quantity, increase: { by: 5, at: INCREASED_IN_MONTH_AT } };
      if (j === 1 && i % 10 === 7) {
        ledgerReads += 1;
        return { sku, quantity, increase: { by: 2, at: INCREASED_AFTER_MONTH_AT } };
      }
      return { sku, quantity };
    });
    subscriptions += subs.length;
    party.customers.push({ account: a, reseller, subs });
  }
  return { parties, subscriptions, ledgerReads };
}

/** One seeded item to compare with the product's items of the same signature. */
interface Sample {
  readonly signature: string;
  readonly key: Record<string, unknown>;
}

/**
 * Writes the model with the entities' batch puts: per account what `Account.create` writes (the
 * account, a subtree entry per ancestor, the audit entries on it and its parent, the retention
 * marker; the parent's childCount), per distributor its owner as `Invitation.accept` leaves it
 * (member, person; the invitation item itself is not written), and per customer what
 * `Order.place` writes for the first order of its 3 offers (subscriptions, ledger entries, order,
 * idempotency key, audit entry) and for the later increase if any.
 */
async function seed(e: Entities, model: Model, concurrency: number): Promise<{ items: number; samples: Sample[] }> {
  const ulidAt = monotonicFactory();
  const sellerActor = `user:${SELLER}`;
  const accounts: AccountRecord[] = [];
  const subtree: SubtreeRecord[] = [];
  const audit: AuditRecord[] = [];
  const due: DueRecord[] = [];
  const subscriptions: SubscriptionRecord[] = [];
  const changes: ChangeRecord[] = [];
  const orders: OrderRecord[] = [];
  const orderKeys: OrderKeyRecord[] = [];
  const members: MemberRecord[] = [];
  const persons: EntityItem<Entities["person"]>[] = [];
  const samples: Sample[] = [];

  const created = (a: AccountRecord, actor: string) => {
    accounts.push(a);
    a.path.forEach((ancestorId, i) =>
      subtree.push({
        ancestorId,
        accountId: a.id,
        distance: a.path.length - i,
        kind: a.kind,
        nameKey: a.nameKey,
        referenceKey: "",
      }),
    );
    audit.push(
      {
        accountId: a.parentId,
        at: CREATED_AT,
        id: newId(),
        action: "account.created",
        actor,
        subjectId: a.id,
        details: JSON.stringify({ kind: a.kind, name: a.name }),
      },
      {
        accountId: a.id,
        at: CREATED_AT,
        id: newId(),
        action: "account.created",
        actor,
        subjectId: a.id,
        details: JSON.stringify({ parentId: a.parentId }),
      },
    );
    due.push({ day: CREATED_AT.slice(0, 10), what: "retention", accountId: a.id, sku: "-", at: CREATED_AT });
  };
  const order = (accountId: string, lines: { sku: string; quantity: number }[], at: string, key: string) => {
    const id = ulidAt(Date.parse(at));
    const priced = lines.map((l) => {
      const offer = OFFERS.find((o) => o.sku === l.sku)!;
      return {
        sku: l.sku,
        name: offer.name,
        kind: "MONTHLY" as const,
        quantity: l.quantity,
        unitPrice: offer.unitPrice,
        amount: offer.unitPrice * l.quantity,
      };
    });
    orders.push({
      accountId,
      id,
      lines: priced,
      currency: CURRENCY,
      total: priced.reduce((s, l) => s + l.amount, 0),
      idempotencyKey: key,
      placedBy: sellerActor,
      placedAt: at,
    });
    orderKeys.push({ accountId, key, requestHash: Order.fingerprint(accountId, { lines }), orderId: id });
    audit.push({
      accountId,
      at,
      id: newId(),
      action: "order.placed",
      actor: sellerActor,
      subjectId: id,
      details: JSON.stringify({ lines }),
    });
    return id;
  };

  for (const p of model.parties) {
    created(p.account, `user:${OPERATOR}`);
    members.push({
      accountId: p.account.id,
      email: p.owner,
      role: "OWNER",
      seller: true,
      partnerAdmin: false,
      status: "ACTIVE",
      invitedAt: CREATED_AT,
      joinedAt: CREATED_AT,
      licenceCount: 0,
      invitationId: newId(),
    });
    persons.push({
      email: p.owner,
      memberships: { [p.account.id]: { role: "OWNER", seller: true, partnerAdmin: false } },
      version: 1,
      createdAt: CREATED_AT,
      updatedAt: CREATED_AT,
    });
    for (const r of p.resellers) created(r, `user:${p.owner}`);
    for (const c of p.customers) {
      created(c.account, `user:${SELLER}`);
      const first = order(
        c.account.id,
        c.subs.map((s) => ({ sku: s.sku, quantity: s.quantity })),
        CREATED_AT,
        `bench-${c.account.id}-1`,
      );
      for (const s of c.subs) {
        const offer = OFFERS.find((o) => o.sku === s.sku)!;
        const base = {
          accountId: c.account.id,
          partyId: p.account.id,
          sku: s.sku,
          kind: "MONTHLY" as const,
          family: s.sku,
          status: "ACTIVE" as const,
          assigned: 0,
          unitPrice: offer.unitPrice,
          currency: CURRENCY,
          startedAt: CREATED_AT,
        };
        changes.push({
          accountId: c.account.id,
          sku: s.sku,
          version: 1,
          kind: "CREATED",
          at: CREATED_AT,
          actor: sellerActor,
          from: 0,
          to: s.quantity,
          reason: "order",
          orderId: first,
        });
        if (!s.increase) {
          subscriptions.push({ ...base, quantity: s.quantity, version: 1, updatedAt: CREATED_AT });
          continue;
        }
        const to = s.quantity + s.increase.by;
        const next = order(
          c.account.id,
          [{ sku: s.sku, quantity: s.increase.by }],
          s.increase.at,
          `bench-${c.account.id}-${s.sku}`,
        );
        changes.push({
          accountId: c.account.id,
          sku: s.sku,
          version: 2,
          kind: "INCREASED",
          at: s.increase.at,
          actor: sellerActor,
          from: s.quantity,
          to,
          reason: "order",
          orderId: next,
        });
        subscriptions.push({ ...base, quantity: to, version: 2, updatedAt: s.increase.at });
      }
    }
  }

  const keyOf = (item: Record<string, unknown>) => ({ pk: item.pk, sk: item.sk });
  const sample = (signature: string, item: Record<string, unknown>) => samples.push({ signature, key: keyOf(item) });
  for (const kind of ["DISTRIBUTOR", "RESELLER", "CUSTOMER"] as const)
    sample(`account:${kind}`, e.account.put(accounts.find((a) => a.kind === kind)!).params().Item);
  sample("subtree", e.subtree.put(subtree[subtree.length - 1]!).params().Item);
  for (const action of ["account.created", "order.placed"])
    sample(`audit:${action}`, e.audit.put(audit.find((a) => a.action === action)!).params().Item);
  sample("due:retention", e.due.put(due[0]!).params().Item);
  for (const v of [1, 2])
    sample("subscription", e.subscription.put(subscriptions.find((s) => s.version === v)!).params().Item);
  for (const kind of ["CREATED", "INCREASED"] as const)
    sample(`subchange:${kind}`, e.change.put(changes.find((c) => c.kind === kind)!).params().Item);
  sample("order", e.order.put(orders[0]!).params().Item);
  sample("orderkey", e.orderKey.put(orderKeys[0]!).params().Item);
  sample("member", e.member.put(members[0]!).params().Item);
  sample("person", e.person.put(persons[0]!).params().Item);

  const go = { concurrency };
  const results = [
    await e.account.put(accounts).go(go),
    await e.subtree.put(subtree).go(go),
    await e.audit.put(audit).go(go),
    await e.due.put(due).go(go),
    await e.subscription.put(subscriptions).go(go),
    await e.change.put(changes).go(go),
    await e.order.put(orders).go(go),
    await e.orderKey.put(orderKeys).go(go),
    await e.member.put(members).go(go),
    await e.person.put(persons).go(go),
  ];
  const left = results.reduce((n, r) => n + r.unprocessed.length, 0);
  if (left > 0) throw new Error(`seed: ${left} items left unprocessed`);
  await e.account.patch({ id: PLATFORM_ID }).add({ childCount: model.parties.length }).go();
  const items =
    accounts.length +
    subtree.length +
    audit.length +
    due.length +
    subscriptions.length +
    changes.length +
    orders.length +
    orderKeys.length +
    members.length +
    persons.length;
  return { items, samples };
}

// ---------------------------------------------------------------------------------------------
// What the invoices must say, from the model alone

/** One invoice line as the product stores it in its blocks (the same keys in the same order). */
interface ExpectedLine {
  readonly accountId: string;
  readonly sku: string;
  readonly description: string;
  readonly kind: string;
  readonly quantity: number;
  readonly unitPrice: number;
  readonly amount: number;
  readonly from: string;
  readonly to: string;
  readonly customer: string;
  readonly tier1: string;
}

/** The invoice lines of each party, in the invoice's order (the billed-party index: account, then sku), in chunks of accounts. */
function expectedLines(model: Model): Map<string, ExpectedLine[][]> {
  const end = Date.parse(`${PERIOD}-01T00:00:00.000Z`) + 31 * 86_400_000; // 1 November
  const out = new Map<string, ExpectedLine[][]>();
  for (const p of model.parties) {
    const customers = [...p.customers].sort((x, y) =>
      x.account.id.toLowerCase() < y.account.id.toLowerCase() ? -1 : 1,
    );
    const chunks: ExpectedLine[][] = [];
    customers.forEach((c, i) => {
      if (i % Billing.DEFAULT_CHUNK_SIZE === 0) chunks.push([]);
      for (const s of [...c.subs].sort((x, y) => (x.sku < y.sku ? -1 : 1))) {
        const offer = OFFERS.find((o) => o.sku === s.sku)!;
        const quantity = s.increase && Date.parse(s.increase.at) < end ? s.quantity + s.increase.by : s.quantity;
        chunks.at(-1)!.push({
          accountId: c.account.id,
          sku: s.sku,
          description: offer.name,
          kind: "MONTHLY",
          quantity,
          unitPrice: offer.unitPrice,
          amount: offer.unitPrice * quantity,
          from: `${PERIOD}-01`,
          to: `${PERIOD}-31`,
          customer: c.account.name,
          tier1: c.reseller.name,
        });
      }
    });
    out.set(p.account.id, chunks);
  }
  return out;
}

/** The per-offer summary the product stores on the invoice (per chunk, then merged; sorted by sku). */
function summaryOf(chunks: readonly ExpectedLine[][]): string {
  const rows = new Map<
    string,
    { sku: string; description: string; kind: string; quantity: number; amount: number; customers: number }
  >();
  for (const chunk of chunks) {
    const part = new Map<
      string,
      { sku: string; description: string; kind: string; quantity: number; amount: number; holders: Set<string> }
    >();
    for (const l of chunk) {
      const k = `${l.sku}\u0000${l.description}\u0000${l.kind}`;
      const r = part.get(k) ?? {
        sku: l.sku,
        description: l.description,
        kind: l.kind,
        quantity: 0,
        amount: 0,
        holders: new Set<string>(),
      };
      r.quantity += l.quantity;
      r.amount += l.amount;
      r.holders.add(l.accountId);
      part.set(k, r);
    }
    for (const [k, r] of part) {
      const was = rows.get(k);
      rows.set(k, {
        sku: r.sku,
        description: r.description,
        kind: r.kind,
        quantity: (was?.quantity ?? 0) + r.quantity,
        amount: (was?.amount ?? 0) + r.amount,
        customers: (was?.customers ?? 0) + r.holders.size,
      });
    }
  }
  return JSON.stringify(
    [...rows.values()].sort((a, b) =>
      a.sku < b.sku ? -1 : a.sku > b.sku ? 1 : a.description < b.description ? -1 : 1,
    ),
  );
}

interface RawPlan {
  readonly parties: readonly {
    readonly partyId: string;
    readonly lineItems: readonly Record<string, unknown>[];
    readonly invoiceItem: Record<string, unknown>;
    readonly tx: TransactWriteCommandInput;
  }[];
}

/**
 * The raw path's requests, built before it is timed: the line items as ElectroDB writes them
 * (`invoiceLine.put(...).params().Item`), and per party the invoice + counter transaction
 * ElectroDB builds for `Billing.issue` (numbers in party order; the first creates the counter).
 */
function rawPlan(
  e: Entities,
  service: Service<Entities>,
  model: Model,
  lines: Map<string, ExpectedLine[][]>,
  issuedAt: Date,
): RawPlan {
  return {
    parties: model.parties.map((p, k) => {
      const chunks = lines.get(p.account.id)!;
      const ls = chunks.flat();
      const net = ls.reduce((s, l) => s + l.amount, 0);
      const vat = Math.floor((net * TAX_RATE + 5_000) / 10_000);
      const invoice: InvoiceRecord = {
        partyId: p.account.id,
        period: PERIOD,
        number: `INV${String(k + 1).padStart(8, "0")}`,
        partyName: p.account.name,
        country: p.account.country,
        currency: CURRENCY,
        taxRate: TAX_RATE,
        net,
        vat,
        total: net + vat,
        lineCount: ls.length,
        chunkCounts: chunks.map((c) => c.length),
        chunkNos: chunks.map((_c, chunkNo) => chunkNo),
        summary: summaryOf(chunks),
        issuedAt: issuedAt.toISOString(),
        dueAt: new Date(issuedAt.getTime() + Billing.PAYMENT_DAYS * 86_400_000).toISOString(),
      };
      const tx = service.transaction
        .write((t) => [
          t.invoice.create(invoice).commit(),
          k === 0
            ? t.counter.create({ name: Billing.NUMBER_SEQUENCE, value: 1 }).commit()
            : t.counter
                .patch({ name: Billing.NUMBER_SEQUENCE })
                .set({ value: k + 1 })
                .where((c, op) => op.eq(c.value, k))
                .commit(),
        ])
        .params() as TransactWriteCommandInput;
      const invoiceItem = tx.TransactItems?.[0]?.Put?.Item;
      if (!invoiceItem) throw new Error("raw plan: the transaction has no invoice Put");
      return {
        partyId: p.account.id,
        lineItems: chunks.flatMap((c, chunkNo) =>
          Array.from(
            { length: Math.ceil(c.length / BLOCK_LINES) },
            (_v, blockNo) =>
              e.invoiceLines
                .put({
                  partyId: p.account.id,
                  period: PERIOD,
                  chunkNo,
                  blockNo,
                  lines: JSON.stringify(c.slice(blockNo * BLOCK_LINES, (blockNo + 1) * BLOCK_LINES)),
                })
                .params().Item as Record<string, unknown>,
          ),
        ),
        invoiceItem,
        tx,
      };
    }),
  };
}

/**
 * The raw writes: the parties concurrently (as the worker runs one batch of messages), each its
 * lines in BatchWriteItem requests of 25 one after another (as `Store.putInvoiceLines`), then its
 * transaction, the transactions in number order (each after the previous one: no conflicts, no reads).
 */
async function runRaw(client: DynamoDBDocumentClient, table: string, plan: RawPlan): Promise<void> {
  const committed: Promise<void>[] = [];
  await Promise.all(
    plan.parties.map((p, k) => {
      const mine = (async () => {
        for (let i = 0; i < p.lineItems.length; i += 25) {
          let pending = p.lineItems.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } }));
          for (let attempt = 0; pending.length > 0; attempt++) {
            if (attempt > 6) throw new Error("raw: BatchWriteItem kept returning unprocessed items");
            const out = await client.send(new BatchWriteCommand({ RequestItems: { [table]: pending } }));
            pending = (out.UnprocessedItems?.[table] ?? []) as typeof pending;
          }
        }
        await committed[k - 1];
        await client.send(new TransactWriteCommand(p.tx));
      })();
      committed[k] = mine;
      return mine;
    }),
  );
}

async function queryAll(client: DynamoDBDocumentClient, input: QueryCommandInput): Promise<Record<string, unknown>[]> {
  const out: Record<string, unknown>[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await client.send(new QueryCommand({ ...input, ...(start ? { ExclusiveStartKey: start } : {}) }));
    out.push(...(page.Items ?? []));
    start = page.LastEvaluatedKey;
  } while (start);
  return out;
}

const withoutVolatile = (item: Record<string, unknown> | undefined) => {
  if (!item) return item;
  const { number: _n, issuedAt: _i, dueAt: _d, mailedAt: _m, ...rest } = item;
  return rest;
};

// ---------------------------------------------------------------------------------------------
// Shape reference: the same kinds of items written by the core functions

/** Attribute-name sets per signature, from a small hierarchy created through the core functions. */
async function shapeReference(endpoint: string, table: string): Promise<Map<string, Set<string>>> {
  const client = createDocumentClient({ region: "local", endpoint });
  try {
    await ensureTable(client, table);
    const store = new Store(client, table);
    const clock = new SettableClock();
    clock.set(new Date(CREATED_AT));
    const mailer = new OutboxMailer("no-reply@localhost", () => clock.now());
    const deps: Deps = { store, clock, mailer, portalUrl: "http://localhost:3000" };
    const user = (email: string): UserActor => ({
      type: "user",
      subject: `local|${email}`,
      email,
      emailVerified: true,
    });
    const as = (email: string) => new Session(deps, user(email));
    await ensurePlatform(deps, OPERATOR);
    await Catalog.seed(
      deps,
      OFFERS.map((o) => ({
        sku: o.sku,
        name: o.name,
        kind: "MONTHLY" as const,
        unitPrice: (o.unitPrice / 100).toFixed(2),
        currency: CURRENCY,
      })),
    );
    const d = (
      await Account.create(as(OPERATOR), {
        parentId: PLATFORM_ID,
        kind: "DISTRIBUTOR",
        name: "Shape Distribution",
        country: "US",
        currency: CURRENCY,
        owner: { email: SELLER },
      })
    ).account;
    const token = invitationToken(mailer, SELLER);
    await Acceptance.accept(as(SELLER), token);
    await Billing.setTaxRate(as(OPERATOR), { accountId: d.id, taxRatePercent: String(TAX_RATE / 100) });
    await Catalog.setAvailable(as(OPERATOR), { accountId: d.id, skus: [...SKUS] });
    const r = (
      await Account.create(as(SELLER), { parentId: d.id, kind: "RESELLER", name: "Shape Reseller", country: "US" })
    ).account;
    const c = (
      await Account.create(as(SELLER), { parentId: r.id, kind: "CUSTOMER", name: "Shape Customer", country: "US" })
    ).account;
    await Order.place(as(SELLER), {
      accountId: c.id,
      lines: SKUS.map((sku) => ({ sku, quantity: 2 })),
      idempotencyKey: "shape-1",
    });
    clock.set(new Date(INCREASED_IN_MONTH_AT));
    await Order.place(as(SELLER), {
      accountId: c.id,
      lines: [{ sku: SKUS[0]!, quantity: 3 }],
      idempotencyKey: "shape-2",
    });
    const shapes = new Map<string, Set<string>>();
    let start: Record<string, unknown> | undefined;
    do {
      const page = await client.send(
        new ScanCommand({ TableName: table, ...(start ? { ExclusiveStartKey: start } : {}) }),
      );
      for (const item of page.Items ?? []) {
        const sig = signatureOf(item);
        const set = shapes.get(sig) ?? new Set<string>();
        set.add(Object.keys(item).sort().join(","));
        shapes.set(sig, set);
      }
      start = page.LastEvaluatedKey;
    } while (start);
    await client.send(new DeleteTableCommand({ TableName: table }));
    return shapes;
  } finally {
    client.destroy();
  }
}

function signatureOf(item: Record<string, unknown>): string {
  const entity = String(item.__edb_e__);
  if (entity === "account") return `account:${String(item.kind)}`;
  if (entity === "audit") return `audit:${String(item.action)}`;
  if (entity === "subchange") return `subchange:${String(item.kind)}`;
  if (entity === "due") return `due:${String(item.what)}`;
  return entity;
}

// ---------------------------------------------------------------------------------------------

export async function runBillingBench(options: Partial<BillingOptions> = {}): Promise<BillingResult> {
  const opts: BillingOptions = { ...billingDefaults, ...options };
  const log = opts.log ?? (() => undefined);
  const check = () => opts.signal?.throwIfAborted();
  if (
    [...opts.sizes, ...(opts.warmup > 0 ? [opts.warmup] : [])].some(
      (n) => !Number.isInteger(n) || n < opts.resellers || n > MAX_CUSTOMERS,
    )
  )
    throw new Error(
      `billing: sizes must be integers between the reseller count (${opts.resellers}) and ${MAX_CUSTOMERS}`,
    );
  if (opts.resellers < opts.distributors) throw new Error("billing: at least one reseller per distributor");
  const started = performance.now();
  const cleanups: (() => Promise<void> | void)[] = [];
  try {
    log("billing: starting DynamoDB Local...");
    const before = childPids();
    const dynamo: LocalDynamo = await startDynamoLocal();
    cleanups.push(() => dynamo.stop());
    const jvm =
      [...childPids()].find((p) => !before.has(p) && readFileSync(`/proc/${p}/comm`, "utf8").trim() === "java") ?? null;
    check();
    const runId = Date.now().toString(36);

    // --- The product's own items, once, to hold the seeded ones against ---
    const shapes = await shapeReference(dynamo.endpoint, `bench-billing-shape-${runId}`);
    const shapeChecked = new Set<string>();
    check();

    let warmupMs = 0;
    if (opts.warmup > 0) {
      const t = performance.now();
      log(`billing: warm-up (${opts.warmup} customers, not reported)...`);
      await measureSize({
        endpoint: dynamo.endpoint,
        jvm,
        runId,
        customers: opts.warmup,
        round: -1,
        first: "product",
        opts,
        log,
        check,
        shapes,
        shapeChecked,
      });
      warmupMs = performance.now() - t;
    }
    const results: SizeResult[] = [];
    let measurement = 0;
    for (const customers of opts.sizes) {
      for (let round = 0; round < opts.rounds; round++) {
        check();
        const first = measurement++ % 2 === 0 ? "product" : "raw";
        results.push(
          await measureSize({
            endpoint: dynamo.endpoint,
            jvm,
            runId,
            customers,
            round,
            first,
            opts,
            log,
            check,
            shapes,
            shapeChecked,
          }),
        );
      }
    }
    return {
      options: {
        sizes: opts.sizes,
        resellers: opts.resellers,
        distributors: opts.distributors,
        rounds: opts.rounds,
        warmup: opts.warmup,
      },
      sizes: results,
      shape: {
        checked: [...shapeChecked].sort(),
        notSeeded: [...shapes.keys()].filter((s) => !shapeChecked.has(s)).sort(),
      },
      warmupMs,
      totalMs: performance.now() - started,
    };
  } finally {
    await runCleanups(cleanups);
  }
}

interface SizeContext {
  readonly endpoint: string;
  readonly jvm: number | null;
  readonly runId: string;
  readonly customers: number;
  readonly round: number;
  readonly first: "product" | "raw";
  readonly opts: BillingOptions;
  readonly log: (line: string) => void;
  readonly check: () => void;
  readonly shapes: Map<string, Set<string>>;
  readonly shapeChecked: Set<string>;
}

async function measureSize(ctx: SizeContext): Promise<SizeResult> {
  const { endpoint, jvm, customers, opts, log, check } = ctx;
  const tag =
    ctx.round < 0
      ? `warm-up, ${customers} customers`
      : `${customers} customers${opts.rounds > 1 ? `, round ${ctx.round + 1}` : ""}`;
  const cleanups: (() => Promise<void> | void)[] = [];
  try {
    // --- Fresh tables: the product's, and the raw path's ---
    const table = `bench-billing-${ctx.runId}-${customers}-${ctx.round < 0 ? "warmup" : ctx.round}`;
    const rawTable = `${table}-raw`;
    const client = createDocumentClient({ region: "local", endpoint });
    cleanups.push(() => client.destroy());
    await ensureTable(client, table);
    cleanups.push(async () => void (await client.send(new DeleteTableCommand({ TableName: table }))));
    const store = new Store(client, table);
    const clock = new SettableClock();
    const mailer = new OutboxMailer("no-reply@localhost", () => clock.now());
    const deps: Deps = { store, clock, mailer, portalUrl: "http://localhost:3000" };
    await ensurePlatform(deps, OPERATOR);
    await Catalog.seed(
      deps,
      OFFERS.map((o) => ({
        sku: o.sku,
        name: o.name,
        kind: "MONTHLY" as const,
        unitPrice: (o.unitPrice / 100).toFixed(2),
        currency: CURRENCY,
      })),
    );
    const rawClient = createDocumentClient({ region: "local", endpoint });
    cleanups.push(() => rawClient.destroy());
    await ensureTable(rawClient, rawTable);
    cleanups.push(async () => void (await rawClient.send(new DeleteTableCommand({ TableName: rawTable }))));

    // --- Seed ---
    const partySizes =
      opts.partySizes && customers === opts.partySizes.reduce((a, b) => a + b, 0) ? opts.partySizes : undefined;
    const model = buildModel(customers, opts.resellers, opts.distributors, partySizes);
    const t0 = performance.now();
    const seeded = await seed(createEntities(client, table), model, 4);
    const seedMs = performance.now() - t0;
    log(`billing: ${tag}: seeded ${seeded.items} items in ${(seedMs / 1000).toFixed(1)} s`);
    check();
    for (const s of seeded.samples) {
      const got = await client.send(new GetCommand({ TableName: table, Key: s.key }));
      if (!got.Item) throw new Error(`seed: no ${s.signature} item at ${JSON.stringify(s.key)}`);
      const names = Object.keys(got.Item).sort().join(",");
      const known = ctx.shapes.get(s.signature);
      if (!known?.has(names))
        throw new Error(
          `shape check: seeded ${s.signature} has ${names}; the product writes ${known ? [...known].join(" | ") : "no such item"}`,
        );
      ctx.shapeChecked.add(s.signature);
    }

    // --- Instruments ---
    const probe = instrument(client);
    const rawProbe = instrument(rawClient);
    // Each billing message's own time (plan, chunk, finaliser), from the worker's "record processed" log line.
    const records: { outcome: string; ms: number }[] = [];
    const telemetry: Telemetry = {
      ...silentTelemetry,
      info: (message, fields) => {
        if (message === "record processed" && fields?.queue === "billing" && recording)
          records.push({ outcome: String(fields.outcome), ms: Number(fields.durationMs) });
      },
    };
    let recording = false;
    const jobs = await startLocalJobs(deps, { issuer: { name: ISSUER }, mailer: deps.mailer, telemetry });
    cleanups.push(() => jobs.stop());
    const sqs = countSqs(jobs.sqs);

    // --- The expected invoices, and the raw path's requests ---
    const lines = expectedLines(model);
    const lineCount = [...lines.values()].reduce((n, ls) => n + ls.length, 0);
    const rawEntities = createEntities(rawClient, rawTable);
    const plan = rawPlan(
      rawEntities,
      new Service(rawEntities, { client: rawClient, table: rawTable }),
      model,
      lines,
      new Date(RUN_AT),
    );

    clock.set(new Date(RUN_AT));
    const measure = async (p: Probe, run: () => Promise<void>) => {
      p.reset();
      p.on = true;
      const cpu = process.cpuUsage();
      const jvm0 = processCpuMs(jvm);
      const t = performance.now();
      try {
        await run();
      } finally {
        p.on = false;
      }
      const wallMs = performance.now() - t;
      const jvm1 = processCpuMs(jvm);
      const byCommand = Object.fromEntries([...p.byCommand].map(([k, v]) => [k, v.view()]));
      return {
        wallMs,
        requests: Object.values(byCommand).reduce((n, c) => n + c.requests, 0),
        byCommand,
        byCall: Object.fromEntries([...p.byCall].map(([k, v]) => [k, v.view()])),
        dynamoBusyMs: p.all.ms,
        nodeCpuMs: cpuMs(process.cpuUsage(cpu)),
        dynamoCpuMs: jvm0 === null || jvm1 === null ? null : jvm1 - jvm0,
      };
    };
    const productRun = async (what: string): Promise<ProductRun> => {
      sqs.byCommand = new Map();
      sqs.on = true;
      const storeBefore = store.requests;
      let report: RunReport | undefined;
      let lastLogged = 0;
      records.length = 0;
      recording = true;
      const run = await measure(probe, async () => {
        report = await jobs.run("billing", {
          period: PERIOD,
          onProgress: (done, total) => {
            if (performance.now() - lastLogged > 5000) {
              lastLogged = performance.now();
              log(`billing: ${tag}: ${what}: ${done}/${total} messages`);
            }
          },
        });
      });
      sqs.on = false;
      recording = false;
      return {
        ...run,
        messages: messageTimes(records),
        report: report!,
        sqsRequests: Object.fromEntries(sqs.byCommand),
        storeRequests: store.requests - storeBefore,
      };
    };
    const rawRun = () => measure(rawProbe, () => runRaw(rawClient, rawTable, plan));

    // --- The first run of the month, and the raw writes, in alternating order ---
    log(
      `billing: ${tag}: ${ctx.first === "product" ? "billing run, then raw writes" : "raw writes, then billing run"} (${lineCount} lines, ${model.parties.length} invoices)...`,
    );
    let product: ProductRun;
    let raw: PathRun;
    if (ctx.first === "product") {
      product = await productRun("first run");
      check();
      raw = await rawRun();
    } else {
      raw = await rawRun();
      check();
      product = await productRun("first run");
    }
    check();

    // --- Same result: the product's items against the raw path's, and the raw table's ---
    const e = createEntities(client, table);
    const { report } = product;
    if (report.scheduled !== model.parties.length || report.deadLettered !== 0)
      throw new Error(`first run: ${JSON.stringify(report)}`);
    const invoicesOf = async (c: DynamoDBDocumentClient, t: string) =>
      Promise.all(
        model.parties.map(
          async (p) =>
            (
              await c.send(
                new GetCommand({
                  TableName: t,
                  Key: e.invoice.get({ partyId: p.account.id, period: PERIOD }).params().Key,
                  ConsistentRead: true,
                }),
              )
            ).Item,
        ),
      );
    const productInvoices = await invoicesOf(client, table);
    const rawInvoices = await invoicesOf(rawClient, rawTable);
    for (const [k, p] of plan.parties.entries()) {
      const got = productInvoices[k];
      if (!isDeepStrictEqual(withoutVolatile(got), withoutVolatile(p.invoiceItem)))
        throw new Error(
          `invoice of ${p.partyId} differs:\nproduct ${JSON.stringify(got)}\nraw     ${JSON.stringify(p.invoiceItem)}`,
        );
      if (!isDeepStrictEqual(rawInvoices[k], p.invoiceItem))
        throw new Error(`raw invoice of ${p.partyId} not written as planned`);
      if (typeof got?.mailedAt !== "string") throw new Error(`invoice of ${p.partyId} was not mailed`);
      const lineQuery = (t: string) => ({
        ...(e.invoiceLines.query.byInvoice({ partyId: p.partyId, period: PERIOD }).params() as QueryCommandInput),
        TableName: t,
      });
      const [productLines, rawLines] = await Promise.all([
        queryAll(client, lineQuery(table)),
        queryAll(rawClient, lineQuery(rawTable)),
      ]);
      if (!isDeepStrictEqual(productLines, p.lineItems)) {
        const at = productLines.findIndex((l, i) => !isDeepStrictEqual(l, p.lineItems[i]));
        throw new Error(
          `lines of ${p.partyId} differ (${productLines.length} vs ${p.lineItems.length}) at ${at}:\nproduct ${JSON.stringify(productLines[at])}\nraw     ${JSON.stringify(p.lineItems[at])}`,
        );
      }
      if (!isDeepStrictEqual(rawLines, p.lineItems))
        throw new Error(`raw lines of ${p.partyId} not written as planned`);
    }
    const numbers = productInvoices.map((i) => String(i?.number)).sort();
    if (numbers.join() !== plan.parties.map((p) => String(p.invoiceItem.number)).join())
      throw new Error(`invoice numbers ${numbers.join()}`);
    const counterKey = e.counter.get({ name: Billing.NUMBER_SEQUENCE }).params().Key;
    for (const [c, t] of [
      [client, table],
      [rawClient, rawTable],
    ] as const) {
      const value = (await c.send(new GetCommand({ TableName: t, Key: counterKey, ConsistentRead: true }))).Item?.value;
      if (value !== model.parties.length) throw new Error(`counter at ${String(value)} in ${t}`);
    }
    const mails = mailer.list();
    const invoiceMails = mails.filter((m) => m.subject.startsWith("Invoice "));
    if (
      invoiceMails.length !== model.parties.length ||
      invoiceMails.some((m) => m.attachments[0]?.contentType !== "application/pdf")
    )
      throw new Error(`${invoiceMails.length} invoice mails`);
    check();

    // --- A second run of the same month: writes nothing, mails nothing ---
    log(`billing: ${tag}: second run of ${PERIOD}...`);
    const second = await productRun("second run");
    const secondWrites = WRITE_COMMANDS.reduce((n, c) => n + (second.byCommand[c]?.requests ?? 0), 0);
    if (second.report.scheduled !== model.parties.length || second.report.deadLettered !== 0)
      throw new Error(`second run: ${JSON.stringify(second.report)}`);
    if (!isDeepStrictEqual(await invoicesOf(client, table), productInvoices))
      throw new Error("second run changed an invoice");
    if (mailer.list().length !== mails.length) throw new Error("second run mailed again");

    // --- Outside the runs: what reading one invoice's document and rendering its PDF costs ---
    const s = new Session(deps, { type: "system", job: "bench" });
    const invoice = await s.deps.store.getInvoice(model.parties[0]!.account.id, PERIOD);
    if (!invoice) throw new Error("no invoice");
    const reqBefore = store.requests;
    const td = performance.now();
    const doc = await Billing.document(s, invoice, { name: ISSUER });
    const documentMs = performance.now() - td;
    const documentRequests = store.requests - reqBefore;
    const tr = performance.now();
    const pdf = await renderInvoicePdf(doc);
    const renderMs = performance.now() - tr;

    return {
      customers,
      resellers: opts.resellers,
      distributors: opts.distributors,
      round: ctx.round,
      first: ctx.first,
      subscriptions: model.subscriptions,
      ledgerReads: model.ledgerReads,
      lines: lineCount,
      invoices: model.parties.length,
      seedItems: seeded.items,
      seedMs,
      product,
      raw,
      ratio: product.wallMs / raw.wallMs,
      second,
      secondWrites,
      mails: invoiceMails.length,
      pdf: { lines: doc.lines.length, documentMs, documentRequests, renderMs, bytes: pdf.byteLength },
    };
  } finally {
    await runCleanups(cleanups);
  }
}

/** The seeded data in words, for reports. */
export const describeModel = (resellers: number, distributors: number) =>
  `the customers under ${resellers} resellers under ${distributors} distributors (one invoice each), ${SKUS.length} MONTHLY subscriptions per customer; ` +
  `1 customer in 10 increased one in ${PERIOD} (billed at the new quantity), 1 in 10 increased one after the month (ledger read); run at ${RUN_AT}`;
