/**
 * Benchmark: the hierarchy page (20 children of an account with 1,000 children) through the
 * Lambda handler, against the minimal raw DynamoDB calls for the same data, in the same run.
 *
 * Everything is in-process: DynamoDB Local on loopback, the production token verifier (JWKS
 * served once over a tiny local HTTP server, then cached by jose), `handleEvent` fed with
 * hand-built API Gateway HTTP API (v2) events.
 */
import { performance } from "node:perf_hooks";
import { GetCommand, QueryCommand, BatchGetCommand } from "@aws-sdk/lib-dynamodb";
import type { DynamoDBDocumentClient, QueryCommandInput } from "@aws-sdk/lib-dynamodb";
import { decodeGlobalID, encodeGlobalID } from "@pothos/plugin-relay";
import { ensurePlatform } from "../core/bootstrap.js";
import type { Deps } from "../core/context.js";
import { PLATFORM_ID } from "../core/rights.js";
import { handleEvent } from "../functions/http.js";
import { createGraphQLServer } from "../graphql/server.js";
import type { GraphQLServer } from "../graphql/server.js";
import { SettableClock } from "../infra/clock.js";
import { createDocumentClient, ensureTable } from "../infra/dynamo.js";
import { newId } from "../infra/ids.js";
import { OutboxMailer } from "../infra/mail.js";
import { Store, createEntities } from "../infra/store.js";
import type { AccountRecord } from "../infra/store.js";
import { startDynamoLocal } from "../local/dynamodb.js";
import type { LocalDynamo } from "../local/dynamodb.js";
import { Busy, apiGatewayEvent, describeCall, runCleanups, seededAccount, stats, timedAuth } from "./common.js";
import type { Stats } from "./common.js";

export interface HierarchyPageOptions {
  /** Children of the benchmarked account (issue: 1,000). */
  readonly children: number;
  /** Page size, `children(first: N)` (issue: 20). */
  readonly pageSize: number;
  /** Unmeasured iterations of both paths before measuring. */
  readonly warmup: number;
  /** Measured rounds; each round runs one handler call and one raw call (order alternates). */
  readonly rounds: number;
  readonly signal?: AbortSignal;
  readonly log?: (line: string) => void;
}

export const defaultOptions: HierarchyPageOptions = { children: 1000, pageSize: 20, warmup: 50, rounds: 300 };

/** Latency summary in milliseconds. */
export type { Stats };

export interface HierarchyPageResult {
  readonly options: Omit<HierarchyPageOptions, "signal" | "log">;
  readonly handler: Stats;
  readonly raw: Stats;
  /** median(handler) / median(raw). */
  readonly ratio: number;
  /**
   * Where the handler's time goes, per request: JWT verification; the DynamoDB calls (whole SDK
   * send); the store layer around them (ElectroDB params and parsing, cursors, zod); and the rest
   * (handleEvent, Yoga, Pothos, graphql-js, DataLoader, rights).
   */
  readonly breakdown: {
    readonly jwtVerify: Stats;
    readonly dynamoCalls: Stats;
    readonly storeLayer: Stats;
    readonly graphqlLayer: Stats;
  };
  /** DynamoDB requests the store sent for one GraphQL request (read from `store.requests`). */
  readonly dynamoRequestsPerGraphQL: number;
  /** The DynamoDB calls of one GraphQL request, in order. */
  readonly graphqlCalls: readonly string[];
  /** The raw path's DynamoDB calls, in order. */
  readonly rawCalls: readonly string[];
  readonly auth: string;
  readonly jwksFetches: number;
  readonly seedMs: number;
  readonly totalMs: number;
}

/** The hierarchy page as a portal asks for it. */
export const HIERARCHY_PAGE_QUERY = /* GraphQL */ `
  query HierarchyPage($id: ID!, $first: Int!) {
    account(id: $id) {
      ... on QueryAccountSuccess {
        data {
          children(first: $first) {
            edges { node { id name kind country childCount } }
            pageInfo { hasNextPage endCursor }
          }
        }
      }
    }
  }
`;

interface PageResponse {
  data?: {
    account?: {
      data?: {
        children: {
          edges: { node: { id: string; name: string; kind: string; country: string; childCount: number } }[];
          pageInfo: { hasNextPage: boolean; endCursor: string | null };
        };
      };
    };
  } | null;
  errors?: unknown[];
}

const AUDIENCE = "channel-partner-api";
const SELLER = "seller@bench.example.com";
const OPERATOR = "operator@bench.example.com";
const WORDS = [
  "Alpha",
  "Bright",
  "Cedar",
  "Delta",
  "Ember",
  "Fjord",
  "Granite",
  "Harbor",
  "Iris",
  "Juniper",
  "Kestrel",
  "Lumen",
  "Maple",
  "Nimbus",
  "Orchid",
  "Pioneer",
];
const COUNTRIES = ["GB", "DE", "FR", "NL", "IE", "ES", "IT", "SE"];

/**
 * Instruments a document client: the wall time with a DynamoDB call in flight (calls that overlap
 * count once) and, while `recording`, the calls' names. Added in the bench only, at the outermost
 * step, so it brackets the whole SDK send.
 */
function instrument(client: DynamoDBDocumentClient) {
  const probe = { recording: false, calls: [] as string[], busy: new Busy() };
  client.middlewareStack.add(
    (next, context) => async (args) => {
      probe.busy.enter();
      try {
        return await next(args);
      } finally {
        probe.busy.exit();
        if (probe.recording) probe.calls.push(describeCall(context.commandName, args.input));
      }
    },
    { step: "initialize", name: "benchProbe", priority: "high" },
  );
  return probe;
}

/** Attribute names of a raw item, for comparing seeded items with API-created ones. */
async function rawAttributeNames(
  client: DynamoDBDocumentClient,
  table: string,
  key: Record<string, unknown>,
): Promise<string[]> {
  const out = await client.send(new GetCommand({ TableName: table, Key: key }));
  if (!out.Item) throw new Error(`no item at ${JSON.stringify(key)}`);
  return Object.keys(out.Item).sort();
}

export async function runHierarchyPageBench(options: Partial<HierarchyPageOptions> = {}): Promise<HierarchyPageResult> {
  const opts: HierarchyPageOptions = { ...defaultOptions, ...options };
  const log = opts.log ?? (() => undefined);
  const check = () => opts.signal?.throwIfAborted();
  const started = performance.now();
  const cleanups: (() => Promise<void> | void)[] = [];
  try {
    // --- DynamoDB Local, a fresh table, deps as local/stack.ts wires them ---
    log("starting DynamoDB Local...");
    const dynamo: LocalDynamo = await startDynamoLocal();
    cleanups.push(() => dynamo.stop());
    check();
    const table = `bench-${Date.now().toString(36)}`;
    const client = createDocumentClient({ region: "local", endpoint: dynamo.endpoint });
    cleanups.push(() => client.destroy());
    await ensureTable(client, table);
    const store = new Store(client, table);
    const probe = instrument(client);
    const clock = new SettableClock();
    const deps: Deps = {
      store,
      clock,
      mailer: new OutboxMailer("no-reply@localhost", () => clock.now()),
      portalUrl: "http://localhost:3000",
    };
    await ensurePlatform(deps, OPERATOR);

    // --- Authentication: the production verifier against a JWKS served over loopback ---
    const { issuer, verify, authenticate, auth, jwksFetches } = await timedAuth({
      audience: AUDIENCE,
      now: () => clock.now(),
      cleanups,
    });
    // Wall time inside the store methods the page uses (the children page and the rights check's
    // BatchGetItem overlap: that time counts once).
    const storeTime = new Busy();
    const timed =
      <A extends unknown[], R>(fn: (...args: A) => Promise<R>) =>
      async (...args: A): Promise<R> => {
        storeTime.enter();
        try {
          return await fn(...args);
        } finally {
          storeTime.exit();
        }
      };
    store.batchGet = timed(store.batchGet.bind(store));
    store.listChildren = timed(store.listChildren.bind(store));
    const server: GraphQLServer = createGraphQLServer({ deps, authenticate, graphiql: false });
    const sellerToken = await issuer.mint(SELLER, { ttlSeconds: 3600 });
    await verify(sellerToken); // fetches the JWKS once, outside the measurement

    // --- Seed: the distributor, its seller OWNER, and the children, written with the entities ---
    const t0 = performance.now();
    const now = clock.now().toISOString();
    const distributorId = newId();
    const e = createEntities(client, table);
    await e.account
      .create({
        ...seededAccount({
          id: distributorId,
          kind: "DISTRIBUTOR",
          name: "Bench Distribution Ltd",
          country: "GB",
          parentId: PLATFORM_ID,
          path: [PLATFORM_ID],
          childCount: opts.children,
          ownerCount: 1,
          offers: [],
          createdAt: now,
        }),
        currency: "GBP",
      })
      .go();
    await e.account.patch({ id: PLATFORM_ID }).add({ childCount: 1 }).go();
    await e.member
      .put({
        accountId: distributorId,
        email: SELLER,
        role: "OWNER",
        seller: true,
        partnerAdmin: false,
        status: "ACTIVE",
        invitedAt: now,
        joinedAt: now,
      })
      .go();
    await e.person
      .put({
        email: SELLER,
        memberships: { [distributorId]: { role: "OWNER", seller: true, partnerAdmin: false } },
        version: 1,
        createdAt: now,
        updatedAt: now,
      })
      .go();
    const children: AccountRecord[] = [];
    for (let i = 0; i < opts.children; i++) {
      const name = `${WORDS[(i * 7) % WORDS.length]} ${WORDS[(i * 11 + 3) % WORDS.length]} ${i % 2 === 0 ? "Resellers" : "Trading"} ${String(i + 1).padStart(4, "0")}`;
      children.push(
        seededAccount({
          id: newId(),
          kind: i % 3 === 0 ? "CUSTOMER" : "RESELLER",
          name,
          country: COUNTRIES[i % COUNTRIES.length]!,
          parentId: distributorId,
          path: [PLATFORM_ID, distributorId],
          childCount: 0,
          ownerCount: 0,
          offers: [],
          createdAt: now,
        }),
      );
    }
    const { unprocessed } = await e.account.put(children).go({ concurrency: 4 });
    if (unprocessed.length > 0) throw new Error(`seed: ${unprocessed.length} children left unprocessed`);
    const seedMs = performance.now() - t0;
    log(`seeded ${opts.children} children in ${(seedMs / 1000).toFixed(1)} s`);
    check();

    // Shape check: a seeded child has the same attributes as an account created through the API.
    const operatorToken = await issuer.mint(OPERATOR, { ttlSeconds: 3600 });
    const created = await handleEvent(
      server,
      apiGatewayEvent(
        operatorToken,
        JSON.stringify({
          query: `mutation { createAccount(input: { parentId: "${encodeGlobalID("Account", PLATFORM_ID)}", kind: DISTRIBUTOR, name: "Shape Reference", country: "GB", currency: "GBP" }) { ... on MutationCreateAccountSuccess { data { account { id } } } } }`,
        }),
        0,
      ),
    );
    const createdBody = JSON.parse(created.body ?? "{}") as {
      data?: { createAccount?: { data?: { account?: { id: string } } } };
    };
    const createdId = createdBody.data?.createAccount?.data?.account?.id;
    if (!createdId) throw new Error(`shape check: createAccount failed: ${created.body}`);
    const apiShape = await rawAttributeNames(
      client,
      table,
      e.account.get({ id: decodeGlobalID(createdId).id }).params().Key as Record<string, unknown>,
    );
    // Only billable accounts (distributors) carry a billing currency.
    for (const [id, expected] of [
      [distributorId, apiShape],
      [children[0]!.id, apiShape.filter((n) => n !== "currency")],
    ] as const) {
      const seededShape = await rawAttributeNames(
        client,
        table,
        e.account.get({ id }).params().Key as Record<string, unknown>,
      );
      if (seededShape.join() !== expected.join())
        throw new Error(`shape check: seeded ${seededShape.join()} vs API ${expected.join()}`);
    }

    // --- The two paths ---
    const body = JSON.stringify({
      query: HIERARCHY_PAGE_QUERY,
      variables: { id: encodeGlobalID("Account", distributorId), first: opts.pageSize },
    });
    let n = 0;
    const viaHandler = async (): Promise<PageResponse> => {
      const res = await handleEvent(server, apiGatewayEvent(sellerToken, body, ++n));
      if (res.statusCode !== 200) throw new Error(`handler answered ${res.statusCode}: ${res.body}`);
      return JSON.parse(res.body ?? "{}") as PageResponse;
    };

    // Minimal raw calls: the caller's person item and the account item in one BatchGetItem (the
    // rights check needs both), then one Query on gsi1 for the page (+1 item for hasNextPage),
    // with exactly the keys ElectroDB writes.
    const rawClient = createDocumentClient({ region: "local", endpoint: dynamo.endpoint });
    cleanups.push(() => rawClient.destroy());
    const rawProbe = instrument(rawClient);
    const personKey = e.person.get({ email: SELLER }).params().Key as Record<string, unknown>;
    const accountKey = e.account.get({ id: distributorId }).params().Key as Record<string, unknown>;
    const queryParams = e.account.query
      .childrenByName({ parentId: distributorId })
      .begins({ nameKey: "" })
      .params({ limit: opts.pageSize + 1 }) as QueryCommandInput;
    const viaRaw = async () => {
      const got = await rawClient.send(
        new BatchGetCommand({ RequestItems: { [table]: { Keys: [personKey, accountKey], ConsistentRead: true } } }),
      );
      if ((got.Responses?.[table]?.length ?? 0) !== 2) throw new Error("raw: BatchGetItem did not return both items");
      const page = await rawClient.send(new QueryCommand(queryParams));
      const items = page.Items ?? [];
      return { items: items.slice(0, opts.pageSize), hasNextPage: items.length > opts.pageSize };
    };

    // The caller's first request binds its e-mail to its sign-in identity (security rule 1), a
    // one-time write; the check below counts the requests of a known caller's page.
    await viaHandler();
    // Same data on both paths (checked once, outside the measurement).
    const firstCheck = await (async () => {
      const before = store.requests;
      probe.calls = [];
      probe.recording = true;
      const g = await viaHandler();
      probe.recording = false;
      const dynamoRequests = store.requests - before;
      rawProbe.calls = [];
      rawProbe.recording = true;
      const r = await viaRaw();
      rawProbe.recording = false;
      const conn = g.data?.account?.data?.children;
      if (!conn) throw new Error(`handler returned no page: ${JSON.stringify(g)}`);
      const gIds = conn.edges.map((x) => decodeGlobalID(x.node.id).id);
      const rIds = r.items.map((x) => String(x.id));
      if (gIds.length !== opts.pageSize || gIds.join() !== rIds.join() || conn.pageInfo.hasNextPage !== r.hasNextPage) {
        throw new Error(
          `paths disagree: handler ${gIds.join()} (${conn.pageInfo.hasNextPage}) vs raw ${rIds.join()} (${r.hasNextPage})`,
        );
      }
      return { dynamoRequests, graphqlCalls: [...probe.calls], rawCalls: [...rawProbe.calls] };
    })();

    log(`warming up (${opts.warmup} iterations of each path)...`);
    for (let i = 0; i < opts.warmup; i++) {
      check();
      await viaHandler();
      await viaRaw();
    }

    log(`measuring (${opts.rounds} rounds, alternating)...`);
    const handlerMs: number[] = [];
    const rawMs: number[] = [];
    const authMs: number[] = [];
    const dynamoMs: number[] = [];
    const storeMs: number[] = [];
    const graphqlMs: number[] = [];
    const timeHandler = async () => {
      const event = apiGatewayEvent(sellerToken, body, ++n);
      auth.ms = 0;
      probe.busy.reset();
      storeTime.reset();
      const t = performance.now();
      const res = await handleEvent(server, event);
      const total = performance.now() - t;
      if (res.statusCode !== 200) throw new Error(`handler answered ${res.statusCode}: ${res.body}`);
      handlerMs.push(total);
      authMs.push(auth.ms);
      dynamoMs.push(probe.busy.ms);
      storeMs.push(storeTime.ms - probe.busy.ms);
      graphqlMs.push(total - auth.ms - storeTime.ms);
    };
    const timeRaw = async () => {
      const t = performance.now();
      await viaRaw();
      rawMs.push(performance.now() - t);
    };
    for (let i = 0; i < opts.rounds; i++) {
      check();
      // Alternate which path goes first so neither always follows the other.
      if (i % 2 === 0) {
        await timeHandler();
        await timeRaw();
      } else {
        await timeRaw();
        await timeHandler();
      }
    }

    const handler = stats(handlerMs);
    const raw = stats(rawMs);
    return {
      options: { children: opts.children, pageSize: opts.pageSize, warmup: opts.warmup, rounds: opts.rounds },
      handler,
      raw,
      ratio: handler.median / raw.median,
      breakdown: {
        jwtVerify: stats(authMs),
        dynamoCalls: stats(dynamoMs),
        storeLayer: stats(storeMs),
        graphqlLayer: stats(graphqlMs),
      },
      dynamoRequestsPerGraphQL: firstCheck.dynamoRequests,
      graphqlCalls: firstCheck.graphqlCalls,
      rawCalls: firstCheck.rawCalls,
      auth: "infra/auth.ts createTokenVerifier (ES256, production path); JWKS served over loopback HTTP, fetched before measuring and cached by jose",
      jwksFetches: jwksFetches(),
      seedMs,
      totalMs: performance.now() - started,
    };
  } finally {
    await runCleanups(cleanups);
  }
}
