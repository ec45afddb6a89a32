/**
 * Pieces every benchmark uses: latency statistics, API Gateway events for the Lambda handler,
 * readable names of DynamoDB calls, and a loopback JWKS server.
 */
import { createServer } from "node:http";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { APIGatewayProxyEventV2 } from "aws-lambda";

export interface Stats {
  readonly median: number;
  readonly p90: number;
  readonly min: number;
  readonly max: number;
}

export function stats(samples: readonly number[]): Stats {
  const s = [...samples].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]!;
  const median = s.length % 2 === 1 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
  return { median, p90: at(0.9), min: s[0]!, max: s[s.length - 1]! };
}

/** Describes a DynamoDB command for the call log. */
export function describeCall(commandName: string | undefined, input: unknown): string {
  const i = (input ?? {}) as { IndexName?: string; Limit?: number; ScanIndexForward?: boolean; TransactItems?: unknown[]; RequestItems?: Record<string, { Keys?: unknown[] }> };
  const name = (commandName ?? "?").replace(/Command$/, "");
  if (i.RequestItems) {
    const keys = Object.values(i.RequestItems).reduce((n, r) => n + (r.Keys?.length ?? 0), 0);
    return `${name}(${keys} keys)`;
  }
  if (i.TransactItems) return `${name}(${i.TransactItems.length} items)`;
  if (name === "Query") return `Query(${i.IndexName ?? "table"}, Limit ${i.Limit ?? "-"}${i.ScanIndexForward === false ? ", desc" : ""})`;
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
export function apiGatewayEvent(token: string, body: string, n: number, requestPrefix = "bench"): APIGatewayProxyEventV2 {
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
