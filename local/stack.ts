import type { JWK } from "jose";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createServer } from "node:http";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { ensurePlatform } from "../core/bootstrap.js";
import type { Deps } from "../core/context.js";
import type { RateLimits } from "../core/limits.js";
import { createServerAdapter } from "@whatwg-node/server";
import { MAX_BODY_BYTES } from "../graphql/limits.js";
import { DOWNLOAD_PATH, createDownloadsHandler } from "../graphql/downloads.js";
import { TOKEN_PATH, createTokenHandler } from "../graphql/oauth.js";
import { createGraphQLServer } from "../graphql/server.js";
import { createApiKeys } from "../infra/api-keys.js";
import { IntegrationStore } from "../infra/integrations.js";
import { createTokenVerifier } from "../infra/auth.js";
import { SettableClock } from "../infra/clock.js";
import { createDocumentClient, ensureTable } from "../infra/dynamo.js";
import type { DynamoOptions } from "../infra/dynamo.js";
import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { OutboxMailer } from "../infra/mail.js";
import { routedMailer } from "../infra/mail-queue.js";
import type { WorkQueue } from "../infra/queue.js";
import { effectFailureReporter } from "../infra/telemetry.js";
import type { Telemetry } from "../infra/telemetry.js";
import { Store } from "../infra/store.js";
import { startDynamoLocal } from "./dynamodb.js";
import type { LocalDynamo } from "./dynamodb.js";
import { localApiKeys } from "./api-key.js";
import { asFunction, enforceGrants, enforceMail } from "./iam.js";
import { startLocalChangeStream } from "./change-stream.js";
import type { LocalChangeStream } from "./change-stream.js";
import * as Events from "../core/events.js";
import { localDeviceKeys } from "./device-key.js";
import { ASSET_PREFIX, graphiqlAsset, graphiqlOptions, renderGraphiQL } from "./graphiql.js";
import { createLocalIssuer, localTokenTime } from "./issuer.js";
import { startLocalJobs } from "./jobs.js";
import { startLocalWebhookWorker } from "./webhooks.js";
import type { LocalWebhookWorker } from "./webhooks.js";
import * as Webhooks from "../core/webhooks.js";
import { SqsWorkQueue } from "../infra/queue.js";
import { systemClock } from "../infra/clock.js";
import type { NetworkPolicy } from "../infra/ssrf.js";
import { createWebhookSender } from "../infra/webhook-http.js";
import type { LocalJobs } from "./jobs.js";
import type { Issuer } from "../infra/documents.js";
import { JOB_SCHEDULES, nextRun } from "../infra/schedules.js";
import { seedCatalog } from "./seed.js";
import { STACK_FILE } from "./stack-file.js";
import type { StackFile } from "./stack-file.js";

export interface LocalStackOptions {
  /** 0 (or absent): any free port. */
  readonly port?: number;
  /** The interface to listen on: 127.0.0.1 unless told (0.0.0.0 in a container). */
  readonly host?: string;
  /** Keeps data between runs (DynamoDB files, issuer key). Ignored with inMemory. */
  readonly dataDir?: string;
  readonly inMemory?: boolean;
  /** Use an already running DynamoDB (tests share one); otherwise one is started. */
  readonly dynamoEndpoint?: string;
  readonly tableName?: string;
  readonly operatorEmail?: string;
  /** Runs the schedules (billing on the 1st at 00:05, lifecycle daily at 00:15) by the stack's clock. Off in tests. */
  readonly cron?: boolean;
  /** Structured logs (and metrics) of the GraphQL server and the local workers; none when absent. */
  readonly telemetry?: Telemetry;
  /** Per-account allowances instead of core's defaults (tests use small ones). */
  readonly rateLimits?: RateLimits;
  /** The DynamoDB client's HTTP handler (fault-injection tests wrap the real one). */
  readonly dynamoRequestHandler?: DynamoOptions["requestHandler"];
  /** Requests per API client per minute (core's default otherwise). */
  readonly clientRequestsPerMinute?: number;
  /** Accounts per billing chunk message (tests use small ones to split a party into many chunks). */
  readonly billingChunkSize?: number;
  /** How long a billing worker holds an invoice's mail (ms). */
  readonly mailLeaseMs?: number;
  /** DynamoDB requests one GraphQL request may make (default 300; REQUEST_BUDGET for `npm start`). */
  readonly requestBudget?: number;
  /** One webhook delivery attempt's limit (ms; production's 10 s by default; tests use short ones). */
  readonly webhookTimeoutMs?: number;
  /** Seconds to wait after each failed delivery attempt (production's schedule by default; tests use short ones). */
  readonly webhookRetrySchedule?: readonly number[];
  /** Which webhook URLs are accepted and reached: http and loopback by default, so a receiver can run on this machine. */
  readonly webhookNetwork?: NetworkPolicy;
  /** The API's key (client tokens, sealed webhook secrets), as AWS stages take it; otherwise the data directory's or a fresh one. */
  readonly apiSigningKey?: JWK;
}

export interface LocalStack {
  readonly url: string;
  readonly graphqlUrl: string;
  readonly store: Store;
  /** The document client behind the store (benchmarks instrument it). */
  readonly dynamo: DynamoDBDocumentClient;
  readonly clock: SettableClock;
  readonly outbox: OutboxMailer;
  readonly jobs: LocalJobs;
  readonly integrations: IntegrationStore;
  /**
   * The table's change stream, read as the stream consumer Lambda would (events, webhook fan-out).
   * Its `drain` also waits for the webhook deliveries due by then.
   */
  readonly events: LocalChangeStream;
  /** The webhook delivery worker (functions/webhook-worker.ts's stand-in). */
  readonly webhooks: LocalWebhookWorker;
  mint(email: string, opts?: { emailVerified?: boolean; ttlSeconds?: number; subject?: string }): Promise<string>;
  stop(): Promise<void>;
}

/** Listens on host:port, or fails saying which port is taken and how to pick another. */
async function listen(http: ReturnType<typeof createServer>, port: number, host: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    http.once("error", (err: NodeJS.ErrnoException) => {
      if (err.code === "EADDRINUSE")
        reject(
          new Error(
            `Port ${port} on ${host} is already in use (another \`npm start\`?). Stop it, or choose another port: PORT=${port + 1} npm start`,
          ),
        );
      else if (err.code === "EADDRNOTAVAIL")
        reject(
          new Error(
            `Cannot listen on ${host}:${port}: no such address here. Set HOST to one of this machine's addresses (HOST=0.0.0.0 for all).`,
          ),
        );
      else if (err.code === "EACCES")
        reject(new Error(`Not allowed to listen on port ${port}; choose another: PORT=4000 npm start`));
      else reject(err);
    });
    http.listen(port, host, () => resolve());
  });
}

/** How this machine reaches a server listening on `host`: loopback for the wildcard addresses. */
function reachableHost(host: string): string {
  if (host === "0.0.0.0" || host === "::" || host === "") return "127.0.0.1";
  return host.includes(":") ? `[${host}]` : host;
}

const AUDIENCE = "channel-partner-api";
/** The local stage's issuer: the example details an auditor's checklist asks for (stage configuration in AWS). */
const ISSUER: Issuer = {
  name: "Channel Partner Platform",
  address: "1 Example Street\n75001 Paris\nFrance",
  vatId: "FR00123456789",
  companyNumber: "RCS Paris 123 456 789",
};
const MAX_DEV_BODY = 64 * 1024;

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > MAX_DEV_BODY) throw new Error("body too large");
    chunks.push(c as Buffer);
  }
  const parsed: unknown = JSON.parse(Buffer.concat(chunks).toString("utf8") || "{}");
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new Error("expected a JSON object");
  return parsed as Record<string, unknown>;
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
}

/**
 * The embedded default stack (DESIGN 3): DynamoDB Local, the table, a local JWT issuer, a mail
 * outbox, the bootstrap operator and the GraphQL endpoint, on one port.
 */
export async function startLocalStack(opts: LocalStackOptions = {}): Promise<LocalStack> {
  const dataDir = opts.inMemory ? undefined : opts.dataDir;
  // The port is taken first, so that a port in use is said at once, before DynamoDB Local starts.
  // Until the stack is ready every request gets 503.
  let handler: (req: IncomingMessage, res: ServerResponse) => void = (_req, res) =>
    send(res, 503, { error: "starting" });
  const http = createServer((req, res) => handler(req, res));
  const host = opts.host ?? "127.0.0.1";
  await listen(http, opts.port ?? 0, host);
  try {
    return await start(opts, dataDir, http, host, (h) => (handler = h));
  } catch (err) {
    http.close();
    throw err;
  }
}

async function start(
  opts: LocalStackOptions,
  dataDir: string | undefined,
  http: ReturnType<typeof createServer>,
  host: string,
  setHandler: (h: (req: IncomingMessage, res: ServerResponse) => void) => void,
): Promise<LocalStack> {
  if (dataDir) mkdirSync(dataDir, { recursive: true });
  let dynamo: LocalDynamo | undefined;
  if (!opts.dynamoEndpoint) dynamo = await startDynamoLocal(dataDir ? { dataDir } : {});
  const endpoint = opts.dynamoEndpoint ?? dynamo!.endpoint;
  const tableName = opts.tableName ?? "channel-partner";
  const client = createDocumentClient({
    region: "local",
    endpoint,
    ...(opts.dynamoRequestHandler ? { requestHandler: opts.dynamoRequestHandler } : {}),
  });
  await ensureTable(client, tableName);
  // Every function's DynamoDB requests are held to its deployed role's grant (local/iam.ts).
  enforceGrants(client);
  const store = new Store(client, tableName);
  const clock = new SettableClock();
  // The outbox is the local SES. As in AWS, plain mails (invitations, reminders) go through the
  // mail queue and its worker; invoice mails (with their PDF) are sent by the billing worker.
  const outbox = new OutboxMailer("no-reply@localhost", () => clock.now());
  // The mail queue exists once the local jobs run, which need `deps` first.
  const mail: { queue?: WorkQueue } = {};
  const ses = enforceMail(outbox);
  const mailer = routedMailer(() => mail.queue, ses);
  const integrations = new IntegrationStore(client, tableName);
  const apiKeys = opts.apiSigningKey ? createApiKeys(opts.apiSigningKey) : await localApiKeys(dataDir);
  // The delivery queue exists once the local jobs run (fauxqs), like the mail queue.
  const delivery: { queue?: WorkQueue } = {};
  const deliveries: WorkQueue = {
    send: (bodies) => {
      if (!delivery.queue) return Promise.reject(new Error("the delivery queue is not started"));
      return delivery.queue.send(bodies);
    },
  };
  // The local stack reaches receivers on this machine (http, loopback); a deployed stage never does.
  const network: NetworkPolicy = opts.webhookNetwork ?? { allowHttp: true, allowLoopback: true };
  const deps: Deps = {
    store,
    clock,
    mailer,
    portalUrl: "http://localhost:3000",
    ...(opts.telemetry ? { effectFailed: effectFailureReporter(opts.telemetry) } : {}),
    deviceKeys: await localDeviceKeys(dataDir),
    ...(opts.rateLimits ? { rateLimits: opts.rateLimits } : {}),
    integrations: {
      store: integrations,
      keys: apiKeys,
      deliveries,
      network,
      ...(opts.clientRequestsPerMinute ? { clientRequestsPerMinute: opts.clientRequestsPerMinute } : {}),
    },
  };
  await ensurePlatform(deps, opts.operatorEmail ?? "operator@example.com");
  await seedCatalog(deps);
  const jobs = await startLocalJobs(deps, {
    issuer: ISSUER,
    mailer: ses,
    ...(opts.telemetry ? { telemetry: opts.telemetry } : {}),
    ...(opts.billingChunkSize ? { billingChunkSize: opts.billingChunkSize } : {}),
    ...(opts.mailLeaseMs ? { mailLeaseMs: opts.mailLeaseMs } : {}),
    // Longer than an attempt: a message is not handed out again while its attempt runs.
    webhookVisibilitySeconds: Math.ceil((opts.webhookTimeoutMs ?? Webhooks.DELIVERY_TIMEOUT_MS) / 1000) + 20,
  });
  mail.queue = jobs.mailQueue;
  delivery.queue = new SqsWorkQueue(jobs.sqs, jobs.webhookUrls.queue);
  // The stream consumer, fed from DynamoDB Local's stream as Lambda's event source mapping feeds it in AWS.
  // In AWS the consumer is its own Lambda with its own DynamoDB client: here too, so the API's
  // client (which tests may instrument) sees only the API's and the jobs' requests.
  const consumerClient = createDocumentClient({ region: "local", endpoint });
  enforceGrants(consumerClient);
  const consumerDeps: Deps = {
    ...deps,
    store: new Store(consumerClient, tableName),
    integrations: { keys: apiKeys, store: new IntegrationStore(consumerClient, tableName), deliveries },
  };
  const stream = await startLocalChangeStream({
    endpoint,
    tableName,
    handle: (records) =>
      asFunction("streamConsumer", async () => {
        const { events: derived } = await Events.consume(consumerDeps, records);
        await Webhooks.fanOut(consumerDeps, derived);
      }),
  });
  // The delivery worker is its own Lambda too, with its own DynamoDB client.
  const workerClient = createDocumentClient({ region: "local", endpoint });
  enforceGrants(workerClient);
  const webhooks = startLocalWebhookWorker({
    deps: {
      ...deps,
      store: new Store(workerClient, tableName),
      integrations: { keys: apiKeys, store: new IntegrationStore(workerClient, tableName), deliveries, network },
    },
    runtime: {
      sender: createWebhookSender(network),
      timeoutMs: opts.webhookTimeoutMs ?? Webhooks.DELIVERY_TIMEOUT_MS,
      schedule: opts.webhookRetrySchedule ?? Webhooks.RETRY_SCHEDULE_SECONDS,
      // Signatures carry the real time: receivers check it against their own clock, whatever the stack's says.
      signingClock: systemClock,
    },
    sqs: jobs.sqs,
    queueUrl: jobs.webhookUrls.queue,
    inspect: () => jobs.inspect("webhooks"),
  });
  const events: LocalChangeStream = {
    ...stream,
    stats: stream.stats,
    failNext: (count, o) => stream.failNext(count, o),
    // Once more when a delivery disabled an endpoint: that wrote an audit entry, whose event the stream then carries.
    async drain() {
      for (let i = 0; i < 5; i++) {
        const disabled = webhooks.stats.outcomes["done:disabled"] ?? 0;
        await stream.drain();
        await webhooks.drain();
        if ((webhooks.stats.outcomes["done:disabled"] ?? 0) === disabled) return;
      }
    },
    stop: () => stream.stop(),
  };
  const cron = opts.cron === false ? undefined : startLocalCron(clock, jobs);

  // The HTTP server is already listening, so the issuer knows its URL; JWKS is fetched from it lazily.
  const port = (http.address() as AddressInfo).port;
  const reach = reachableHost(host);
  const url = `http://${reach === "127.0.0.1" ? "localhost" : reach}:${port}`;
  // Local tokens are minted and checked by the stack's clock; the jumps made after minting are taken
  // out at the check, so a token lasts one hour of real time across POST /dev/clock.
  const issuer = await createLocalIssuer({
    issuer: `${url}/`,
    audience: AUDIENCE,
    now: () => clock.now(),
    clockOffsetMs: () => clock.offsetMs,
    ...(dataDir ? { dataDir } : {}),
  });
  const verify = createTokenVerifier({
    jwksUrl: `http://${reach}:${port}/.well-known/jwks.json`,
    issuer: issuer.issuer,
    audience: AUDIENCE,
    algorithms: ["ES256"],
    now: (claims) => localTokenTime(clock, claims),
  });
  const yoga = createGraphQLServer({
    deps,
    authenticate: verify,
    graphiql: { render: renderGraphiQL, options: graphiqlOptions(url) },
    introspection: true,
    ...(opts.requestBudget ? { requestBudget: opts.requestBudget } : {}),
    ...(opts.telemetry ? { telemetry: opts.telemetry } : {}),
  });
  // The documents function's route (GET /invoices/<id>.pdf|.csv), on the same port. Like the deployed
  // function, it holds no device key: a PBX's credential is refused there as any unknown token is (401).
  const downloads = createServerAdapter(
    createDownloadsHandler({ deps: { ...deps, deviceKeys: undefined }, authenticate: verify, issuer: ISSUER }),
  );
  // The OAuth 2.0 token endpoint of API clients, as the API function serves it.
  const oauth = createServerAdapter(createTokenHandler(deps));

  setHandler((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    const route = `${req.method} ${path}`;
    const dev = async () => {
      switch (route) {
        case "GET /.well-known/jwks.json":
          return send(res, 200, issuer.jwks);
        case "POST /dev/token": {
          const body = await readJson(req);
          const email = typeof body.email === "string" ? body.email.trim() : "";
          if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email)) return send(res, 400, { error: "email is required" });
          return send(res, 200, { token: await issuer.mint(email, { emailVerified: body.emailVerified !== false }) });
        }
        case "GET /dev/clock":
          return send(res, 200, { now: clock.now().toISOString() });
        case "POST /dev/clock": {
          const body = await readJson(req);
          const now = typeof body.now === "string" ? new Date(body.now) : new Date(NaN);
          if (Number.isNaN(now.getTime())) return send(res, 400, { error: "now must be an ISO 8601 instant" });
          clock.set(now);
          return send(res, 200, { now: clock.now().toISOString() });
        }
        case "POST /dev/events/drain":
          // Answers once every change committed so far has gone through the stream consumer.
          await events.drain();
          return send(res, 200, { drained: true, ...events.stats });
        case "GET /dev/outbox":
          return send(res, 200, { messages: outbox.list() });
        case "POST /dev/outbox/fail": {
          // Makes the local SES refuse the next `count` sends, to see mail being retried.
          const body = await readJson(req);
          const count = body.count;
          if (typeof count !== "number" || !Number.isInteger(count) || count < 0 || count > 100)
            return send(res, 400, { error: "count must be an integer from 0 to 100" });
          outbox.failNext(count);
          return send(res, 200, { failing: count });
        }
        case "POST /dev/jobs/run": {
          const body = await readJson(req);
          if (body.job !== "billing" && body.job !== "lifecycle" && body.job !== "liveness")
            return send(res, 400, { error: 'job must be "billing", "lifecycle" or "liveness"' });
          if (body.period !== undefined && typeof body.period !== "string")
            return send(res, 400, { error: "period must be a month such as 2026-10" });
          try {
            return send(
              res,
              200,
              await jobs.run(body.job, typeof body.period === "string" ? { period: body.period } : {}),
            );
          } catch (err) {
            return send(res, 400, { error: err instanceof Error ? err.message : "run failed" });
          }
        }
        default:
          // Yoga refuses a content-length above MAX_BODY_BYTES (413); a body of unannounced length is refused here.
          if (req.method === "POST" && req.headers["content-length"] === undefined)
            return send(res, 411, { error: "Content-Length required" });
          // Refused unread (413): the rest of the body is still coming, so this connection closes after
          // the answer, and the client is told so rather than reusing a socket the server then resets.
          if (Number(req.headers["content-length"]) > MAX_BODY_BYTES) res.setHeader("connection", "close");
          // Each route runs as the function that serves it in AWS (local/iam.ts).
          if (path !== undefined && DOWNLOAD_PATH.test(path)) return asFunction("documents", () => downloads(req, res));
          if (req.method === "GET" && path?.startsWith(ASSET_PREFIX)) {
            const asset = await graphiqlAsset(path);
            if (!asset) return send(res, 404, { error: "not found" });
            res.writeHead(200, { "content-type": asset.type, "cache-control": "public, max-age=3600" });
            return res.end(asset.body);
          }
          if (path === TOKEN_PATH) return asFunction("graphql", () => oauth(req, res));
          return asFunction("graphql", () => yoga(req, res));
      }
    };
    dev().catch((err: unknown) => send(res, 400, { error: err instanceof Error ? err.message : "bad request" }));
  });
  // Tells `npm run billing` (and other local tools) that this stack holds DATA_DIR, and where it answers.
  const stackFile = dataDir ? join(dataDir, STACK_FILE) : undefined;
  if (stackFile) writeFileSync(stackFile, JSON.stringify({ url, pid: process.pid } satisfies StackFile));

  return {
    url,
    graphqlUrl: `${url}/graphql`,
    store,
    dynamo: client,
    clock,
    outbox,
    jobs,
    integrations,
    events,
    webhooks,
    mint: (email, o) => issuer.mint(email, o),
    async stop() {
      await new Promise<void>((resolve) => {
        http.closeAllConnections();
        http.close(() => resolve());
      });
      if (stackFile) rmSync(stackFile, { force: true });
      if (cron) clearInterval(cron);
      await events.stop();
      await webhooks.stop();
      await jobs.stop();
      consumerClient.destroy();
      workerClient.destroy();
      client.destroy();
      if (dynamo) await dynamo.stop();
    },
  };
}

/**
 * The EventBridge schedules, locally: every few seconds, runs each job whose schedule
 * (`JOB_SCHEDULES`, the stacks' own) fired on the stack's clock since the last check.
 * Moving the clock with POST /dev/clock therefore fires the runs the jump crossed.
 */
function startLocalCron(clock: SettableClock, jobs: LocalJobs): NodeJS.Timeout {
  let last = clock.now();
  let busy = false;
  // A job is due when its schedule fired in (last, now]: the clock may jump (POST /dev/clock).
  const crossed = (from: Date, to: Date, job: keyof typeof JOB_SCHEDULES) => nextRun(JOB_SCHEDULES[job], from) <= to;
  const timer = setInterval(() => {
    if (busy) return;
    const now = clock.now();
    const due = (["billing", "lifecycle", "liveness"] as const).filter((job) => crossed(last, now, job));
    last = now;
    if (due.length === 0) return;
    busy = true;
    (async () => {
      for (const job of due) {
        const r = await jobs.run(job);
        console.log(
          `local cron: ${job} run: ${r.scheduled} scheduled, ${r.processed} processed, ${r.deadLettered} dead-lettered`,
        );
      }
    })()
      .catch((err: unknown) => console.error(`local cron: ${err instanceof Error ? err.message : String(err)}`))
      .finally(() => {
        busy = false;
      });
  }, 5_000);
  timer.unref();
  return timer;
}
