/**
 * Pieces every benchmark uses: latency statistics, API Gateway events for the Lambda handler,
 * readable names of DynamoDB calls, a loopback JWKS server with the timed production verifier,
 * seeded account records, and cleanups.
 */
import { createServer } from "node:http";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { APIGatewayProxyEventV2 } from "aws-lambda";
import { searchKey } from "../core/validation.js";
import type { Authenticate } from "../graphql/server.js";
import { createTokenVerifier } from "../infra/auth.js";
import type { AccountRecord } from "../infra/store.js";
import { createLocalIssuer } from "../local/issuer.js";
import type { LocalIssuer } from "../local/issuer.js";

export interface Stats {
  readonly median: number;
  readonly p90: number;
  readonly min: number;
  readonly max: number;
}

/** The token of the last invitation the outbox mailed to `email` (the seeding accepts it as the invitee would). */
export function invitationToken(outbox: { list(): readonly { to: string; text: string }[] }, email: string): string {
  const mail = outbox
    .list()
    .filter((m) => m.to === email)
    .at(-1);
  const token = mail && /Invitation token: (\S+)/.exec(mail.text)?.[1];
  if (!token) throw new Error(`seed: no invitation mailed to ${email}`);
  return token;
}

export function stats(samples: readonly number[]): Stats {
  const s = [...samples].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]!;
  const median = s.length % 2 === 1 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
  return { median, p90: at(0.9), min: s[0]!, max: s[s.length - 1]! };
}

/** Describes a DynamoDB command for the call log. */
export function describeCall(commandName: string | undefined, input: unknown): string {
  const i = (input ?? {}) as {
    IndexName?: string;
    Limit?: number;
    ScanIndexForward?: boolean;
    TransactItems?: unknown[];
    RequestItems?: Record<string, { Keys?: unknown[] }>;
  };
  const name = (commandName ?? "?").replace(/Command$/, "");
  if (i.RequestItems) {
    const keys = Object.values(i.RequestItems).reduce((n, r) => n + (r.Keys?.length ?? 0), 0);
    return `${name}(${keys} keys)`;
  }
  if (i.TransactItems) return `${name}(${i.TransactItems.length} items)`;
  if (name === "Query")
    return `Query(${i.IndexName ?? "table"}, Limit ${i.Limit ?? "-"}${i.ScanIndexForward === false ? ", desc" : ""})`;
  return name;
}

/** Serves the issuer's JWKS once over loopback HTTP and counts the fetches. */
export async function serveJwks(jwks: () => unknown): Promise<{ server: Server; url: string; fetches: () => number }> {
  let fetches = 0;
  const server = createServer((req, res) => {
    if (req.url === "/.well-known/jwks.json") {
      fetches += 1;
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify(jwks()));
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return { server, url: `http://127.0.0.1:${port}`, fetches: () => fetches };
}

/** A hand-built API Gateway HTTP API (v2) event, as the Lambda receives it. */
export function apiGatewayEvent(
  token: string,
  body: string,
  n: number,
  requestPrefix = "bench",
): APIGatewayProxyEventV2 {
  const now = Date.now();
  return {
    version: "2.0",
    routeKey: "POST /graphql",
    rawPath: "/graphql",
    rawQueryString: "",
    headers: {
      host: "api.bench.example.com",
      authorization: `Bearer ${token}`,
      "content-type": "application/json",
      accept: "application/json",
      "content-length": String(Buffer.byteLength(body)),
    },
    requestContext: {
      accountId: "123456789012",
      apiId: "bench",
      domainName: "api.bench.example.com",
      domainPrefix: "api",
      http: { method: "POST", path: "/graphql", protocol: "HTTP/1.1", sourceIp: "127.0.0.1", userAgent: "bench" },
      requestId: `${requestPrefix}-${n}`,
      routeKey: "POST /graphql",
      stage: "$default",
      time: new Date(now).toISOString(),
      timeEpoch: now,
    },
    body,
    isBase64Encoded: false,
  };
}

/** Runs the cleanups registered while a benchmark started things, last first; one failing does not stop the others. */
export async function runCleanups(cleanups: Array<() => unknown>): Promise<void> {
  for (const c of cleanups.reverse()) {
    try {
      await c();
    } catch {
      // keep stopping the rest
    }
  }
}

/**
 * Authentication as in production: `createTokenVerifier` (ES256) against a local issuer's JWKS
 * served over loopback; `authenticate` adds the time it spends to `auth.ms`. The JWKS server is
 * closed by the cleanups.
 */
export async function timedAuth(opts: { audience: string; now: () => Date; cleanups: Array<() => unknown> }): Promise<{
  issuer: LocalIssuer;
  verify: Authenticate;
  authenticate: Authenticate;
  auth: { ms: number };
  /** How many times the JWKS was fetched (once, then jose's cache). */
  jwksFetches: () => number;
}> {
  const jwksHost = await serveJwks(() => issuer.jwks);
  opts.cleanups.push(() => new Promise<void>((resolve) => jwksHost.server.close(() => resolve())));
  const issuer = await createLocalIssuer({ issuer: `${jwksHost.url}/`, audience: opts.audience, now: opts.now });
  const verify = createTokenVerifier({
    jwksUrl: `${jwksHost.url}/.well-known/jwks.json`,
    issuer: issuer.issuer,
    audience: opts.audience,
    algorithms: ["ES256"],
  });
  const auth = { ms: 0 };
  const authenticate: Authenticate = async (token) => {
    const t0 = performance.now();
    try {
      return await verify(token);
    } finally {
      auth.ms += performance.now() - t0;
    }
  };
  return { issuer, verify, authenticate, auth, jwksFetches: () => jwksHost.fetches() };
}

/** An account record exactly as core/account.ts `create` builds it (no reference), for seeding in bulk. */
export function seededAccount(
  a: Pick<
    AccountRecord,
    "id" | "kind" | "name" | "country" | "parentId" | "path" | "childCount" | "ownerCount" | "offers" | "createdAt"
  > &
    Partial<Pick<AccountRecord, "currency" | "taxRate">>,
): AccountRecord {
  return {
    id: a.id,
    kind: a.kind,
    name: a.name,
    nameKey: searchKey(a.name),
    referenceKey: "",
    country: a.country,
    parentId: a.parentId,
    path: a.path,
    status: "ACTIVE",
    canCreateAccounts: false,
    canCreateEquipment: false,
    canUpdateSubscriptions: false,
    canDecreaseSubscriptions: false,
    billable: a.kind === "DISTRIBUTOR",
    offers: a.offers,
    childCount: a.childCount,
    ownerCount: a.ownerCount,
    createdAt: a.createdAt,
    updatedAt: a.createdAt,
    version: 1,
    ...(a.currency ? { currency: a.currency } : {}),
    ...(a.taxRate !== undefined ? { taxRate: a.taxRate } : {}),
  };
}

/** Wall time during which at least one tracked call is in flight (overlapping calls count once). */
export class Busy {
  #depth = 0;
  #since = 0;
  ms = 0;
  /** Times the tracker went from idle to busy: sequential waves of calls. */
  waves = 0;
  /** Between the first and the last call started in the latest wave (how long a fan-out takes to send). */
  spread = 0;
  enter(): void {
    const now = performance.now();
    if (this.#depth++ === 0) {
      this.#since = now;
      this.waves += 1;
    }
    this.spread = now - this.#since;
  }
  exit(): void {
    if (--this.#depth === 0) this.ms += performance.now() - this.#since;
  }
  reset(): void {
    if (this.#depth !== 0) throw new Error("Busy.reset while calls are in flight");
    this.ms = 0;
    this.waves = 0;
    this.spread = 0;
  }
}
