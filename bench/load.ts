/**
 * Benchmark: load. N concurrent clients (default 200) drive the local server over HTTP for S
 * seconds (default 60, after a 5 s warm-up that is not counted) with a partner front-end's mix:
 * mostly reads (hierarchy pages with cursors, subscription pages with their history, account
 * pages), and orders (`placeOrder`, a fresh idempotency key each time, each client ordering on its
 * own customer so that no two clients write the same items).
 *
 * The server is the embedded local stack (`startLocalStack`: in-memory DynamoDB Local, `cron:
 * false`) on this process's main thread. The clients run in a `node:worker_threads` Worker, with
 * their own event loop, on keep-alive `node:http` connections (one Agent, a socket per client), so
 * the load generator never delays the server's event loop nor the other way round; both loops'
 * delays are measured and printed.
 *
 * Every non-200 answer, GraphQL error or typed error result counts as an error. The bench fails
 * when there is any error (warm-up included) or the overall p99/p50 exceeds MAX_TAIL_RATIO.
 */
import { invitationToken, runCleanups } from "./common.js";
import dc from "node:diagnostics_channel";
import { readFileSync } from "node:fs";
import { Agent, request } from "node:http";
import type { IncomingMessage, ServerResponse } from "node:http";
import { loadavg } from "node:os";
import { PerformanceObserver, monitorEventLoopDelay, performance } from "node:perf_hooks";
import type { EventLoopUtilization, IntervalHistogram } from "node:perf_hooks";
import { Worker, isMainThread, parentPort, workerData } from "node:worker_threads";

export interface LoadOptions {
  /** Concurrent clients (issue: 200); as many customers are seeded, one per client. */
  readonly clients: number;
  /** Measured seconds (issue: 60). */
  readonly seconds: number;
  /** Warm-up seconds before measuring (not counted in the figures; errors still are). */
  readonly warmupSeconds: number;
  readonly signal?: AbortSignal;
  readonly log?: (line: string) => void;
}

export const loadDefaults: LoadOptions = { clients: 200, seconds: 60, warmupSeconds: 5 };

/** The bench fails above this overall p99/p50 (issue: at most 5). */
export const MAX_TAIL_RATIO = 5;

export const OPERATIONS = ["hierarchyPage", "subscriptions", "account", "placeOrder"] as const;
export type Operation = (typeof OPERATIONS)[number];

/** A partner portal's traffic: 80 % reads, 20 % orders (weights in percent). */
export const MIX: Readonly<Record<Operation, number>> = {
  hierarchyPage: 30,
  subscriptions: 30,
  account: 20,
  placeOrder: 20,
};

/** Children per hierarchy page (a short list, so that clients page on with cursors). */
const PAGE = 5;

const DESCRIPTIONS: Readonly<Record<Operation, string>> = {
  hierarchyPage: `account.children(first: ${PAGE}, after: cursor): the distributor's resellers (its owner) or a reseller's customers (its owner), paged on to the end and over again`,
  subscriptions:
    "account.subscriptions(first: 20) with history(first: 5) of each, of the client's customer, by its reseller's owner or the customer's owner",
  account:
    "account(id): fields, parent, ancestors (breadcrumbs), members(first: 10), of the client's customer, its reseller or the distributor",
  placeOrder:
    "placeOrder on the client's own customer: 1 or 2 lines of its subscriptions, quantity 1-3, fresh idempotencyKey, by the reseller's owner-seller (70 %) or the distributor's (customers' own members do not order)",
};

const RESELLERS = 20;
const SUBSCRIPTIONS_PER_CUSTOMER = 3;
const AUDIENCE_TTL = 4 * 3600;
const DIST_OWNER = "owner@load-distribution.example";
const OPERATOR = "operator@example.com";
const CURRENCY = "USD";
/** The demo catalog's USD monthly offers, plus a few of the bench's own so customers differ. */
const SKUS = ["RC-DRAAS-TRUNK-SUB", "RC-DRAAS-PBX-SUB", "LOAD-ADDON-1", "LOAD-ADDON-2", "LOAD-ADDON-3"] as const;

// ---------------------------------------------------------------- the operations, as a portal sends them

const HIERARCHY_QUERY = /* GraphQL */ `
  query HierarchyPage($id: ID!, $first: Int!, $after: String) {
    account(id: $id) {
      __typename
      ... on QueryAccountSuccess {
        data {
          children(first: $first, after: $after) {
            edges { node { id name kind country childCount } }
            pageInfo { hasNextPage endCursor }
          }
        }
      }
      ... on Error { code message }
    }
  }
`;

const SUBSCRIPTIONS_QUERY = /* GraphQL */ `
  query SubscriptionsPage($id: ID!) {
    account(id: $id) {
      __typename
      ... on QueryAccountSuccess {
        data {
          subscriptions(first: 20) {
            edges {
              node {
                id sku status quantity assigned version unitPrice { amount currency }
                history(first: 5) {
                  edges { node { kind version from to delta at actor } }
                  pageInfo { hasNextPage }
                }
              }
            }
            pageInfo { hasNextPage endCursor }
          }
        }
      }
      ... on Error { code message }
    }
  }
`;

const ACCOUNT_QUERY = /* GraphQL */ `
  query AccountPage($id: ID!) {
    account(id: $id) {
      __typename
      ... on QueryAccountSuccess {
        data {
          id name kind reference country status childCount pendingDeletionAt createdAt
          parent { id name kind }
          ancestors { id name kind }
          members(first: 10) { edges { node { email role status seller } } }
        }
      }
      ... on Error { code message }
    }
  }
`;

const PLACE_ORDER_MUTATION = /* GraphQL */ `
  mutation PlaceOrder($input: PlaceOrderInput!) {
    placeOrder(input: $input) {
      __typename
      ... on MutationPlaceOrderSuccess {
        data { order { id idempotencyKey currency lines { sku quantity unitPrice { amount currency } } total { amount currency } } }
      }
      ... on Error { code message }
    }
  }
`;

// ---------------------------------------------------------------- shared between the threads

/** What one client works on: its customer, the reseller above, and the callers' tokens. */
interface ClientPlan {
  readonly distributorId: string;
  readonly resellerId: string;
  readonly customerId: string;
  readonly skus: readonly string[];
  readonly distributorToken: string;
  readonly resellerToken: string;
  readonly customerToken: string;
}

interface WorkerInput {
  readonly role: "load-clients";
  readonly host: string;
  readonly port: number;
  readonly clients: readonly ClientPlan[];
  readonly warmupMs: number;
  readonly measureMs: number;
  readonly runId: string;
}

interface OpSamples {
  /** Latencies (ms) of the requests started inside the measured window. */
  readonly latencies: number[];
  errors: number;
  warmupRequests: number;
  warmupErrors: number;
}

interface WorkerResult {
  readonly type: "result";
  readonly ops: Record<Operation, OpSamples>;
  readonly errorSamples: string[];
  /** Wall time of the measured window (first measured request started to last one answered). */
  readonly windowMs: number;
  readonly loopDelay: LoopDelay;
  readonly loopUtilization: number;
  readonly sockets: number;
}

type WorkerMessage =
  | { readonly type: "measuring" }
  | WorkerResult
  | { readonly type: "failed"; readonly error: string };

export interface LoopDelay {
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
}

// ---------------------------------------------------------------- statistics

export interface Summary {
  readonly count: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly max: number;
}

/** Nearest-rank percentiles (ms). */
export function summarize(samples: readonly number[]): Summary {
  const s = Float64Array.from(samples).sort();
  const at = (q: number) =>
    s.length === 0 ? NaN : s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]!;
  return { count: s.length, p50: at(0.5), p90: at(0.9), p99: at(0.99), max: s.length === 0 ? NaN : s[s.length - 1]! };
}

const histogramDelay = (h: IntervalHistogram): LoopDelay => ({
  p50: h.percentile(50) / 1e6,
  p99: h.percentile(99) / 1e6,
  max: h.max / 1e6,
});

// ---------------------------------------------------------------- the clients (worker thread)

/** Small deterministic PRNG, one per client, so that the mix is the same from run to run. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function pickOperation(r: number): Operation {
  let acc = 0;
  const total = OPERATIONS.reduce((n, op) => n + MIX[op], 0);
  for (const op of OPERATIONS) {
    acc += MIX[op] / total;
    if (r < acc) return op;
  }
  return OPERATIONS[OPERATIONS.length - 1]!;
}

interface Answer {
  readonly status: number;
  readonly text: string;
}

function post(agent: Agent, host: string, port: number, token: string, body: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host,
        port,
        path: "/graphql",
        method: "POST",
        agent,
        headers: {
          authorization: `Bearer ${token}`,
          "content-type": "application/json",
          accept: "application/json",
          "content-length": Buffer.byteLength(body),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString("utf8") }));
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

interface GraphQLBody {
  data?: Record<string, { __typename?: string; code?: string; message?: string; data?: unknown } | null> | null;
  errors?: ReadonlyArray<{ message: string }>;
}

/** The result of an operation, or a description of why it is an error. */
function resultOf(
  answer: Answer,
  field: string,
  success: string,
): { ok: true; data: unknown } | { ok: false; error: string } {
  if (answer.status !== 200) return { ok: false, error: `HTTP ${answer.status}: ${answer.text.slice(0, 200)}` };
  let body: GraphQLBody;
  try {
    body = JSON.parse(answer.text) as GraphQLBody;
  } catch {
    return { ok: false, error: `not JSON: ${answer.text.slice(0, 200)}` };
  }
  if (body.errors?.length)
    return { ok: false, error: `GraphQL error: ${body.errors.map((e) => e.message).join("; ")}` };
  const result = body.data?.[field];
  if (!result || result.__typename !== success)
    return {
      ok: false,
      error: `${field}: ${result?.__typename ?? "null"} ${result?.code ?? ""} ${result?.message ?? ""}`,
    };
  return { ok: true, data: result.data };
}

async function runClients(input: WorkerInput): Promise<WorkerResult> {
  const port = parentPort!;
  const agent = new Agent({ keepAlive: true, maxSockets: input.clients.length, maxFreeSockets: input.clients.length });
  const loop = monitorEventLoopDelay({ resolution: 5 });
  const ops = Object.fromEntries(
    OPERATIONS.map((op) => [op, { latencies: [], errors: 0, warmupRequests: 0, warmupErrors: 0 }]),
  ) as unknown as Record<Operation, OpSamples>;
  const errorSamples: string[] = [];
  const start = performance.now();
  const measureFrom = start + input.warmupMs;
  const end = measureFrom + input.measureMs;
  let firstMeasured = Infinity;
  let lastAnswered = 0;
  let elu0: EventLoopUtilization | undefined;
  const warmupTimer = setTimeout(() => {
    loop.reset();
    loop.enable();
    elu0 = performance.eventLoopUtilization();
    port.postMessage({ type: "measuring" } satisfies WorkerMessage);
  }, input.warmupMs);

  const client = async (plan: ClientPlan, index: number) => {
    const rnd = mulberry32(0x5eed + index);
    const cursors = { distributor: null as string | null, reseller: null as string | null };
    let orders = 0;
    // Spread the first requests over 100 ms instead of 200 at once.
    await new Promise((r) => setTimeout(r, rnd() * 100));
    while (performance.now() < end) {
      const op = pickOperation(rnd());
      let token: string;
      let body: string;
      let field = "account";
      let success = "QueryAccountSuccess";
      let onData: (data: unknown) => string | undefined = () => undefined;
      switch (op) {
        case "hierarchyPage": {
          const which = rnd() < 0.5 ? "distributor" : "reseller";
          token = which === "distributor" ? plan.distributorToken : plan.resellerToken;
          body = JSON.stringify({
            query: HIERARCHY_QUERY,
            variables: {
              id: which === "distributor" ? plan.distributorId : plan.resellerId,
              first: PAGE,
              after: cursors[which],
            },
          });
          onData = (data) => {
            const conn = (
              data as { children?: { edges: unknown[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } } }
            ).children;
            if (!conn || conn.edges.length === 0) return "an empty page of children";
            cursors[which] = conn.pageInfo.hasNextPage ? conn.pageInfo.endCursor : null;
            return undefined;
          };
          break;
        }
        case "subscriptions":
          token = rnd() < 0.5 ? plan.resellerToken : plan.customerToken;
          body = JSON.stringify({ query: SUBSCRIPTIONS_QUERY, variables: { id: plan.customerId } });
          onData = (data) =>
            (data as { subscriptions?: { edges: unknown[] } }).subscriptions?.edges.length
              ? undefined
              : "no subscriptions";
          break;
        case "account": {
          const r = rnd();
          const [id, t] =
            r < 0.5
              ? [plan.customerId, rnd() < 0.5 ? plan.customerToken : plan.resellerToken]
              : r < 0.8
                ? [plan.resellerId, plan.resellerToken]
                : [plan.distributorId, plan.distributorToken];
          token = t;
          body = JSON.stringify({ query: ACCOUNT_QUERY, variables: { id } });
          break;
        }
        case "placeOrder": {
          token = rnd() < 0.7 ? plan.resellerToken : plan.distributorToken;
          const first = Math.floor(rnd() * plan.skus.length);
          const count = rnd() < 0.6 ? 1 : 2;
          const lines = Array.from({ length: Math.min(count, plan.skus.length) }, (_, k) => ({
            sku: plan.skus[(first + k) % plan.skus.length]!,
            quantity: 1 + Math.floor(rnd() * 3),
          }));
          body = JSON.stringify({
            query: PLACE_ORDER_MUTATION,
            variables: {
              input: { accountId: plan.customerId, lines, idempotencyKey: `load-${input.runId}-${index}-${++orders}` },
            },
          });
          field = "placeOrder";
          success = "MutationPlaceOrderSuccess";
          break;
        }
      }
      const t0 = performance.now();
      const measured = t0 >= measureFrom;
      let error: string | undefined;
      try {
        const r = resultOf(await post(agent, input.host, input.port, token, body), field, success);
        error = r.ok ? onData(r.data) : r.error;
      } catch (err) {
        error = `request failed: ${err instanceof Error ? err.message : String(err)}`;
      }
      const t1 = performance.now();
      const s = ops[op];
      if (measured) {
        firstMeasured = Math.min(firstMeasured, t0);
        lastAnswered = Math.max(lastAnswered, t1);
        s.latencies.push(t1 - t0);
        if (error) s.errors += 1;
      } else {
        s.warmupRequests += 1;
        if (error) s.warmupErrors += 1;
      }
      if (error && errorSamples.length < 10) errorSamples.push(`${op}${measured ? "" : " (warm-up)"}: ${error}`);
    }
  };
  await Promise.all(input.clients.map((plan, i) => client(plan, i)));
  clearTimeout(warmupTimer);
  loop.disable();
  const elu = performance.eventLoopUtilization(elu0);
  const sockets =
    Object.values(agent.sockets).reduce((n, list) => n + (list?.length ?? 0), 0) +
    Object.values(agent.freeSockets).reduce((n, list) => n + (list?.length ?? 0), 0);
  agent.destroy();
  return {
    type: "result",
    ops,
    errorSamples,
    windowMs: lastAnswered - Math.min(firstMeasured, measureFrom),
    loopDelay: histogramDelay(loop),
    loopUtilization: elu.utilization,
    sockets,
  };
}

// The worker's entry: this same module, loaded by tsx inside the Worker (see startClients).
const input = workerData as WorkerInput | undefined;
if (!isMainThread && input?.role === "load-clients") {
  runClients(input).then(
    (result) => parentPort!.postMessage(result),
    (err: unknown) =>
      parentPort!.postMessage({
        type: "failed",
        error: err instanceof Error ? (err.stack ?? err.message) : String(err),
      } satisfies WorkerMessage),
  );
}

/** Starts the clients in a worker thread; tsx is registered there before this module is loaded. */
function startClients(data: WorkerInput): Worker {
  const self = JSON.stringify(import.meta.url);
  return new Worker(`import("tsx/esm/api").then(({ tsImport }) => tsImport(${self}, ${self}));`, {
    eval: true,
    workerData: data,
  });
}

// ---------------------------------------------------------------- the server side (main thread)

export interface CallStats extends Summary {
  readonly command: string;
  readonly errors: Readonly<Record<string, number>>;
}

export interface LoadResult {
  readonly options: Omit<LoadOptions, "signal" | "log">;
  readonly shape: string;
  readonly ops: Readonly<
    Record<
      Operation,
      Summary & {
        readonly errors: number;
        readonly warmupRequests: number;
        readonly warmupErrors: number;
        readonly perSecond: number;
      }
    >
  >;
  readonly overall: Summary & { readonly errors: number; readonly warmupErrors: number; readonly perSecond: number };
  readonly ratio: number;
  readonly windowMs: number;
  readonly errorSamples: readonly string[];
  /** Server-side time of each GraphQL request (http request start to response finish), measured window. */
  readonly serverTime: Summary;
  readonly serverLoopDelay: LoopDelay;
  readonly serverLoopUtilization: number;
  /** Garbage collections of the server thread's heap during the window (pauses, ms). */
  readonly serverGc: { readonly count: number; readonly totalMs: number; readonly maxMs: number };
  readonly clientLoopDelay: LoopDelay;
  readonly clientLoopUtilization: number;
  readonly clientSockets: number;
  /** DynamoDB calls of the server during the measured window (whole SDK send), by command. */
  readonly dynamo: readonly CallStats[];
  readonly dynamoRequests: number;
  /** Share of the machine's CPU time busy during the window (from /proc/stat), null elsewhere. */
  readonly machineBusy: number | null;
  readonly loadAverage: readonly number[];
  readonly processCpuMs: number;
  readonly seedMs: number;
  readonly totalMs: number;
}

function cpuTimes(): { busy: number; total: number } | null {
  try {
    const cpu = readFileSync("/proc/stat", "utf8").split("\n")[0]!.trim().split(/\s+/).slice(1).map(Number);
    const idle = (cpu[3] ?? 0) + (cpu[4] ?? 0);
    const total = cpu.reduce((a, b) => a + b, 0);
    return { busy: total - idle, total };
  } catch {
    return null;
  }
}

export async function runLoadBench(options: Partial<LoadOptions> = {}): Promise<LoadResult> {
  const opts: LoadOptions = { ...loadDefaults, ...options };
  const log = opts.log ?? (() => undefined);
  const check = () => opts.signal?.throwIfAborted();
  const started = performance.now();
  // The product is loaded here only: the worker thread imports this module too and needs none of it.
  const [{ startLocalStack }, Account, Catalog, Acceptance, Order, { Session }, { PLATFORM_ID }, { encodeGlobalID }] =
    await Promise.all([
      import("../local/stack.js"),
      import("../core/account.js"),
      import("../core/catalog.js"),
      import("../core/acceptance.js"),
      import("../core/order.js"),
      import("../core/context.js"),
      import("../core/rights.js"),
      import("@pothos/plugin-relay"),
    ]);
  const cleanups: (() => unknown)[] = [];
  try {
    log("load: starting the local stack (in-memory DynamoDB Local, no cron)...");
    const stack = await startLocalStack({
      inMemory: true,
      cron: false,
      tableName: `load-${Date.now().toString(36)}`,
      operatorEmail: OPERATOR,
    });
    cleanups.push(() => stack.stop());
    check();
    const deps = { store: stack.store, clock: stack.clock, mailer: stack.outbox, portalUrl: "http://localhost:3000" };
    const as = (email: string) =>
      new Session(deps, { type: "user", subject: `local|${email}`, email, emailVerified: true });
    const accept = (email: string) => Acceptance.accept(as(email), invitationToken(stack.outbox, email));

    // --- Seed through the core functions: a distributor, its resellers, one customer per client ---
    const t0 = performance.now();
    await Catalog.seed(
      deps,
      SKUS.filter((s) => s.startsWith("LOAD-")).map((sku, i) => ({
        sku,
        name: `Load add-on ${i + 1}`,
        kind: "MONTHLY" as const,
        family: sku,
        unitPrice: `${i + 1}.25`,
        currency: CURRENCY,
      })),
    );
    const distributor = (
      await Account.create(as(OPERATOR), {
        parentId: PLATFORM_ID,
        kind: "DISTRIBUTOR",
        name: "Load Distribution Inc",
        country: "US",
        currency: CURRENCY,
        owner: { email: DIST_OWNER },
      })
    ).account;
    await accept(DIST_OWNER);
    await Catalog.setAvailable(as(OPERATOR), { accountId: distributor.id, skus: [...SKUS] });
    const resellerCount = Math.min(RESELLERS, opts.clients);
    const resellers: { id: string; owner: string }[] = [];
    for (let r = 0; r < resellerCount; r++) {
      const owner = `owner@reseller-${String(r + 1).padStart(2, "0")}.example`;
      // Resellers are created one after the other: each changes the distributor's child count.
      const reseller = (
        await Account.create(as(DIST_OWNER), {
          parentId: distributor.id,
          kind: "RESELLER",
          name: `Reseller ${String(r + 1).padStart(2, "0")} Ltd`,
          country: "US",
          owner: { email: owner },
        })
      ).account;
      await accept(owner);
      // The distributor lets its resellers create their own customers.
      await Account.setResellerRights(as(DIST_OWNER), { id: reseller.id, canCreateAccounts: true });
      resellers.push({ id: reseller.id, owner });
    }
    const customers: { id: string; owner: string; reseller: number; skus: string[] }[] = new Array(opts.clients);
    let seeded = 0;
    // Customers of different resellers in parallel, those of one reseller in sequence (its child count).
    const seedReseller = async (r: number) => {
      for (let c = r; c < opts.clients; c += resellerCount) {
        const owner = `owner@customer-${String(c + 1).padStart(4, "0")}.example`;
        const skus = Array.from({ length: SUBSCRIPTIONS_PER_CUSTOMER }, (_, k) => SKUS[(c + k) % SKUS.length]!);
        const seller = as(resellers[r]!.owner);
        const created = await Account.create(seller, {
          parentId: resellers[r]!.id,
          kind: "CUSTOMER",
          name: `Customer ${String(c + 1).padStart(4, "0")}`,
          country: "US",
          owner: { email: owner },
          order: {
            lines: skus.map((sku, k) => ({ sku, quantity: 5 + ((c + k) % 20) })),
            idempotencyKey: `seed-${c}-0`,
          },
        });
        await accept(owner);
        // A short history: an increase by the reseller's seller, one by the distributor's (customers do not order: DESIGN 1).
        await Order.place(seller, {
          accountId: created.account.id,
          lines: [
            { sku: skus[0]!, quantity: 2 },
            { sku: skus[1]!, quantity: 1 },
          ],
          idempotencyKey: `seed-${c}-1`,
        });
        await Order.place(as(DIST_OWNER), {
          accountId: created.account.id,
          lines: [{ sku: skus[c % skus.length]!, quantity: 3 }],
          idempotencyKey: `seed-${c}-2`,
        });
        customers[c] = { id: created.account.id, owner, reseller: r, skus };
        seeded += 1;
        if (seeded % 50 === 0) log(`load: seeded ${seeded}/${opts.clients} customers`);
      }
    };
    const lanes = 4;
    for (let r = 0; r < resellerCount; r += lanes)
      await Promise.all(Array.from({ length: Math.min(lanes, resellerCount - r) }, (_, k) => seedReseller(r + k)));
    const seedMs = performance.now() - t0;
    const shape = `1 distributor (owner-seller), ${resellerCount} resellers (an owner-seller each), ${opts.clients} customers (an owner each, ${SUBSCRIPTIONS_PER_CUSTOMER} subscriptions each with 2-4 ledger entries), ${opts.clients + resellerCount + 1} callers`;
    log(`load: seeded ${shape} in ${(seedMs / 1000).toFixed(1)} s`);
    check();

    // --- Tokens: the stack's issuer, verified by the production verifier on every request ---
    const ttlSeconds = AUDIENCE_TTL;
    const distributorToken = await stack.mint(DIST_OWNER, { ttlSeconds });
    const resellerTokens = await Promise.all(resellers.map((r) => stack.mint(r.owner, { ttlSeconds })));
    const customerTokens = await Promise.all(customers.map((c) => stack.mint(c.owner, { ttlSeconds })));
    const gid = (id: string) => encodeGlobalID("Account", id);
    const plans: ClientPlan[] = customers.map((c, i) => ({
      distributorId: gid(distributor.id),
      resellerId: gid(resellers[c.reseller]!.id),
      customerId: gid(c.id),
      skus: c.skus,
      distributorToken,
      resellerToken: resellerTokens[c.reseller]!,
      customerToken: customerTokens[i]!,
    }));

    // --- Server-side instruments, recording during the measured window only ---
    let recording = false;
    const calls = new Map<string, { ms: number[]; errors: Record<string, number> }>();
    const ddb = stack.dynamo;
    ddb.middlewareStack.add(
      (next, context) => async (args) => {
        if (!recording) return next(args);
        const command = (context.commandName ?? "?").replace(/Command$/, "");
        const entry = calls.get(command) ?? { ms: [], errors: {} };
        calls.set(command, entry);
        const t = performance.now();
        try {
          return await next(args);
        } catch (err) {
          const reasons = (err as { CancellationReasons?: { Code?: string }[] }).CancellationReasons?.map(
            (r) => r.Code ?? "None",
          ).filter((c) => c !== "None");
          const name = `${err instanceof Error ? err.name : "error"}${reasons?.length ? ` (${[...new Set(reasons)].join(", ")})` : ""}`;
          entry.errors[name] = (entry.errors[name] ?? 0) + 1;
          throw err;
        } finally {
          entry.ms.push(performance.now() - t);
        }
      },
      { step: "initialize", name: "loadBenchProbe", priority: "high" },
    );
    const serverMs: number[] = [];
    const begun = new WeakMap<IncomingMessage, number>();
    const onStart = (m: unknown) => {
      const { request: req } = m as { request: IncomingMessage };
      if (recording && req.url?.startsWith("/graphql")) begun.set(req, performance.now());
    };
    const onFinish = (m: unknown) => {
      const { request: req } = m as { request: IncomingMessage; response: ServerResponse };
      const t = begun.get(req);
      if (t !== undefined && recording) serverMs.push(performance.now() - t);
    };
    dc.subscribe("http.server.request.start", onStart);
    dc.subscribe("http.server.response.finish", onFinish);
    cleanups.push(() => {
      dc.unsubscribe("http.server.request.start", onStart);
      dc.unsubscribe("http.server.response.finish", onFinish);
    });
    const serverLoop = monitorEventLoopDelay({ resolution: 5 });
    const gc = { count: 0, totalMs: 0, maxMs: 0 };
    const gcObserver = new PerformanceObserver((list) => {
      if (!recording) return;
      for (const e of list.getEntries()) {
        gc.count += 1;
        gc.totalMs += e.duration;
        gc.maxMs = Math.max(gc.maxMs, e.duration);
      }
    });
    gcObserver.observe({ entryTypes: ["gc"] });
    cleanups.push(() => gcObserver.disconnect());

    // --- The clients, in their own thread ---
    const url = new URL(stack.graphqlUrl);
    log(`load: ${opts.clients} clients for ${opts.warmupSeconds} s of warm-up, then ${opts.seconds} s measured...`);
    const worker = startClients({
      role: "load-clients",
      host: "127.0.0.1",
      port: Number(url.port),
      clients: plans,
      warmupMs: opts.warmupSeconds * 1000,
      measureMs: opts.seconds * 1000,
      runId: Date.now().toString(36),
    });
    cleanups.push(() => worker.terminate());
    // Readings at the start of the measured window (set when the worker says it begins).
    const at0: {
      elu?: EventLoopUtilization;
      cpu?: NodeJS.CpuUsage;
      machine: ReturnType<typeof cpuTimes>;
      requests: number;
    } = { machine: null, requests: 0 };
    const result = await new Promise<WorkerResult>((resolve, reject) => {
      const onAbort = () =>
        reject(opts.signal?.reason instanceof Error ? opts.signal.reason : new Error("interrupted"));
      opts.signal?.addEventListener("abort", onAbort, { once: true });
      worker.on("error", reject);
      worker.on("exit", (code) => reject(new Error(`load: the client worker exited (${code}) before answering`)));
      worker.on("message", (m: WorkerMessage) => {
        if (m.type === "measuring") {
          recording = true;
          serverLoop.reset();
          serverLoop.enable();
          at0.elu = performance.eventLoopUtilization();
          at0.cpu = process.cpuUsage();
          at0.machine = cpuTimes();
          at0.requests = stack.store.requests;
          log("load: warm-up done, measuring...");
        } else if (m.type === "failed") reject(new Error(`load: the clients failed: ${m.error}`));
        else resolve(m);
      });
    });
    recording = false;
    serverLoop.disable();
    const serverElu = performance.eventLoopUtilization(at0.elu);
    const cpu = process.cpuUsage(at0.cpu);
    const machine0 = at0.machine;
    const machine1 = cpuTimes();
    const dynamoRequests = stack.store.requests - at0.requests;
    const loadAverage = loadavg();

    // --- Figures ---
    const windowS = result.windowMs / 1000;
    const ops = Object.fromEntries(
      OPERATIONS.map((op) => {
        const s = result.ops[op];
        return [
          op,
          {
            ...summarize(s.latencies),
            errors: s.errors,
            warmupRequests: s.warmupRequests,
            warmupErrors: s.warmupErrors,
            perSecond: s.latencies.length / windowS,
          },
        ];
      }),
    ) as Record<
      Operation,
      Summary & { errors: number; warmupRequests: number; warmupErrors: number; perSecond: number }
    >;
    const all = OPERATIONS.flatMap((op) => result.ops[op].latencies);
    const overallSummary = summarize(all);
    const overall = {
      ...overallSummary,
      errors: OPERATIONS.reduce((n, op) => n + result.ops[op].errors, 0),
      warmupErrors: OPERATIONS.reduce((n, op) => n + result.ops[op].warmupErrors, 0),
      perSecond: all.length / windowS,
    };
    const dynamo = [...calls.entries()]
      .map(([command, c]) => ({ command, ...summarize(c.ms), errors: c.errors }))
      .sort((a, b) => b.count - a.count);
    return {
      options: { clients: opts.clients, seconds: opts.seconds, warmupSeconds: opts.warmupSeconds },
      shape,
      ops,
      overall,
      ratio: overallSummary.p99 / overallSummary.p50,
      windowMs: result.windowMs,
      errorSamples: result.errorSamples,
      serverTime: summarize(serverMs),
      serverLoopDelay: histogramDelay(serverLoop),
      serverLoopUtilization: serverElu.utilization,
      serverGc: gc,
      clientLoopDelay: result.loopDelay,
      clientLoopUtilization: result.loopUtilization,
      clientSockets: result.sockets,
      dynamo,
      dynamoRequests,
      machineBusy:
        machine0 && machine1 ? (machine1.busy - machine0.busy) / Math.max(1, machine1.total - machine0.total) : null,
      loadAverage,
      processCpuMs: (cpu.user + cpu.system) / 1000,
      seedMs,
      totalMs: performance.now() - started,
    };
  } finally {
    await runCleanups(cleanups);
  }
}

// ---------------------------------------------------------------- the report

const f = (v: number) => (Number.isFinite(v) ? v.toFixed(1) : "-").padStart(8);
const n = (v: number | string, w: number) => String(v).padStart(w);

/** The printed report and the failures (errors, or an overall p99/p50 above MAX_TAIL_RATIO). */
export function reportLoad(r: LoadResult): { text: string; failures: string[] } {
  const failures: string[] = [];
  const errors = r.overall.errors + r.overall.warmupErrors;
  if (errors > 0)
    failures.push(`load: ${r.overall.errors} errors measured, ${r.overall.warmupErrors} in the warm-up (0 allowed)`);
  const ratioOk = r.ratio <= MAX_TAIL_RATIO;
  if (!ratioOk) failures.push(`load: overall p99/p50 ${r.ratio.toFixed(2)} (at most ${MAX_TAIL_RATIO} allowed)`);
  const head = `  ${"operation".padEnd(16)}${n("mix %", 6)}${n("requests", 10)}${n("req/s", 8)}${n("errors", 8)}${n("p50", 8)}${n("p90", 8)}${n("p99", 8)}${n("max", 8)}${n("p99/p50", 9)}`;
  const line = (label: string, mix: string, s: Summary & { errors: number; perSecond: number }) =>
    `  ${label.padEnd(16)}${n(mix, 6)}${n(s.count, 10)}${n(s.perSecond.toFixed(1), 8)}${n(s.errors, 8)}${f(s.p50)}${f(s.p90)}${f(s.p99)}${f(s.max)}${n((s.p99 / s.p50).toFixed(2), 9)}`;
  const delay = (d: LoopDelay) => `p50 ${d.p50.toFixed(1)} ms, p99 ${d.p99.toFixed(1)} ms, max ${d.max.toFixed(1)} ms`;
  const lines = [
    "",
    `Load: ${r.options.clients} concurrent clients for ${r.options.seconds} s (after ${r.options.warmupSeconds} s of warm-up, not counted), closed loop, no think time`,
    `  data: ${r.shape}, seeded through the core functions in ${(r.seedMs / 1000).toFixed(1)} s`,
    "  server: startLocalStack (in-memory DynamoDB Local, cron off) on the main thread; clients: a worker thread, keep-alive node:http Agent",
    `  mix (${OPERATIONS.map((op) => `${op} ${MIX[op]} %`).join(", ")}):`,
    ...OPERATIONS.map((op) => `    ${op}: ${DESCRIPTIONS[op]}`),
    "",
    `${head}   (latency ms, measured at the client)`,
    ...OPERATIONS.map((op) => line(op, String(MIX[op]), r.ops[op])),
    line("overall", "100", r.overall),
    "",
    `  overall p99/p50: ${r.ratio.toFixed(2)}  (target <= ${MAX_TAIL_RATIO}: ${ratioOk ? "met" : "OVER TARGET"})`,
    `  errors: ${r.overall.errors} measured, ${r.overall.warmupErrors} in the warm-up (${OPERATIONS.reduce((k, op) => k + r.ops[op].warmupRequests, 0)} warm-up requests)${errors === 0 ? "" : "  FAIL"}`,
    ...r.errorSamples.map((e) => `    e.g. ${e}`),
    `  measured window ${(r.windowMs / 1000).toFixed(1)} s; client sockets open at the end: ${r.clientSockets}`,
    "",
    "  where the time goes (measured window):",
    `    server time per GraphQL request (request start to response finish, main thread): p50 ${r.serverTime.p50.toFixed(1)}, p90 ${r.serverTime.p90.toFixed(1)}, p99 ${r.serverTime.p99.toFixed(1)}, max ${r.serverTime.max.toFixed(1)} ms (${r.serverTime.count} requests)`,
    `    server event loop: utilization ${(r.serverLoopUtilization * 100).toFixed(0)} %, delay ${delay(r.serverLoopDelay)}`,
    `    server garbage collection: ${r.serverGc.count} pauses, ${r.serverGc.totalMs.toFixed(0)} ms in all (${((r.serverGc.totalMs / r.windowMs) * 100).toFixed(1)} % of the window), longest ${r.serverGc.maxMs.toFixed(1)} ms`,
    `    client event loop (worker): utilization ${(r.clientLoopUtilization * 100).toFixed(0)} %, delay ${delay(r.clientLoopDelay)}`,
    `    this process's CPU (server + clients): ${(r.processCpuMs / 1000).toFixed(1)} s, ${(r.processCpuMs / r.overall.count).toFixed(1)} ms per request; machine CPU busy ${r.machineBusy === null ? "n/a" : `${(r.machineBusy * 100).toFixed(0)} %`}; load average ${r.loadAverage.map((l) => l.toFixed(2)).join(" ")}`,
    `    DynamoDB requests: ${r.dynamoRequests} (${(r.dynamoRequests / r.overall.count).toFixed(2)} per GraphQL request); whole SDK send per call, ms:`,
    `      ${"call".padEnd(20)}${n("count", 8)}${n("p50", 8)}${n("p90", 8)}${n("p99", 8)}${n("max", 8)}`,
    ...r.dynamo.map(
      (c) =>
        `      ${c.command.padEnd(20)}${n(c.count, 8)}${f(c.p50)}${f(c.p90)}${f(c.p99)}${f(c.max)}${
          Object.keys(c.errors).length
            ? `  errors: ${Object.entries(c.errors)
                .map(([k, v]) => `${k} ${v}`)
                .join(", ")}`
            : ""
        }`,
    ),
    "",
    `  whole load benchmark ${(r.totalMs / 1000).toFixed(1)} s`,
    "",
  ];
  return { text: lines.join("\n"), failures };
}
