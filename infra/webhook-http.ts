import { lookup as dnsLookup } from "node:dns";
import type { LookupAddress } from "node:dns";
import http from "node:http";
import https from "node:https";
import type { LookupFunction } from "node:net";
import { performance } from "node:perf_hooks";
import { addressRefusal, urlRefusal } from "./ssrf.js";
import type { NetworkPolicy } from "./ssrf.js";

/** What one delivery attempt got back. */
export interface PostResult {
  /** The HTTP status, when a response came. */
  readonly statusCode?: number;
  /** The start of the response body (at most RESPONSE_BODY_CHARS characters). */
  readonly body?: string;
  /** Why no response came (network error, timeout, refused address). */
  readonly error?: string;
  readonly timedOut?: boolean;
  /** The SSRF guard refused the URL or an address it resolves to: nothing was sent. */
  readonly refused?: boolean;
  readonly latencyMs: number;
}

/** The HTTP port of webhook deliveries: POSTs a signed payload and reports what happened, never throws. */
export interface WebhookSender {
  post(url: string, headers: Readonly<Record<string, string>>, body: string, timeoutMs: number): Promise<PostResult>;
}

/** Kept of a response body, for the endpoint's owners to read in its deliveries. */
export const RESPONSE_BODY_CHARS = 1024;
/** Read of a response body at most; the rest is dropped with the connection. */
const MAX_READ_BYTES = 64 * 1024;

class RefusedAddress extends Error {
  constructor(message: string) {
    super(message);
    this.name = "RefusedAddress";
  }
}

/** Resolves a host name to all its addresses (the system's resolver; tests give a fixed one). */
export type Resolver = (
  hostname: string,
  family: number,
  callback: (err: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void,
) => void;

const systemResolver: Resolver = (hostname, family, callback) =>
  dnsLookup(hostname, { all: true, ...(family ? { family } : {}) }, callback);

/**
 * A DNS lookup that refuses a host name if any of its addresses is refused by the policy, and hands
 * the connection exactly the addresses it checked: the socket connects to a checked address, so a
 * name that resolves differently a moment later (DNS rebinding) changes nothing.
 */
export function guardedLookup(policy: NetworkPolicy, resolve: Resolver = systemResolver): LookupFunction {
  return (hostname, options, callback) => {
    resolve(hostname, options.family ? Number(options.family) : 0, (err, addresses) => {
      if (err) return callback(err, "", 4);
      const refused = addresses.map((a) => addressRefusal(a.address, policy)).find((r) => r !== undefined);
      if (refused || addresses.length === 0)
        return callback(new RefusedAddress(`${hostname} resolves to a refused address: ${refused ?? "none"}`), "", 4);
      // Node 20 asks for every address (`all`, happy eyeballs); older callers for one.
      if ((options as { all?: boolean }).all)
        return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, addresses);
      return callback(null, addresses[0]!.address, addresses[0]!.family);
    });
  };
}

/**
 * POSTs over node:http(s) under a network policy: the URL is checked (scheme, credentials, IP
 * literals) and every resolved address is checked before connecting; redirects are not followed;
 * the whole exchange (connect, headers, body) is bounded by the timeout.
 */
export function createWebhookSender(policy: NetworkPolicy, opts: { resolve?: Resolver } = {}): WebhookSender {
  const lookup = guardedLookup(policy, opts.resolve);
  // Keep-alive: deliveries to one receiver reuse their (checked) connection.
  const agents = {
    http: new http.Agent({ keepAlive: true, lookup }),
    https: new https.Agent({ keepAlive: true, lookup }),
  };
  return {
    post(url, headers, body, timeoutMs) {
      const started = performance.now();
      const elapsed = () => Math.round(performance.now() - started);
      const refusal = urlRefusal(url, policy);
      if (refusal) return Promise.resolve({ error: `refused: ${refusal}`, refused: true, latencyMs: 0 });
      const target = new URL(url);
      const client = target.protocol === "https:" ? https : http;
      return new Promise<PostResult>((resolve) => {
        let settled = false;
        const done = (r: PostResult) => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          resolve(r);
        };
        const req = client.request(
          target,
          {
            method: "POST",
            agent: target.protocol === "https:" ? agents.https : agents.http,
            headers: {
              ...headers,
              "content-type": "application/json",
              "content-length": String(Buffer.byteLength(body)),
              "user-agent": "channel-partner-api-webhooks/1",
            },
          },
          (res) => {
            const chunks: Buffer[] = [];
            let size = 0;
            res.on("data", (c: Buffer) => {
              if (size < MAX_READ_BYTES) chunks.push(c);
              size += c.length;
              if (size >= MAX_READ_BYTES) res.destroy();
            });
            const finish = () =>
              done({
                statusCode: res.statusCode ?? 0,
                body: Buffer.concat(chunks).toString("utf8").slice(0, RESPONSE_BODY_CHARS),
                latencyMs: elapsed(),
              });
            res.on("end", finish);
            res.on("close", finish);
            res.on("error", finish);
          },
        );
        const timer = setTimeout(() => {
          done({ error: `timed out after ${timeoutMs} ms`, timedOut: true, latencyMs: elapsed() });
          req.destroy();
        }, timeoutMs);
        req.on("error", (err: Error) => {
          if (err instanceof RefusedAddress)
            return done({ error: `refused: ${err.message}`, refused: true, latencyMs: elapsed() });
          const code = (err as NodeJS.ErrnoException).code;
          done({
            error: code ? `${code}: ${err.message}`.slice(0, 300) : err.message.slice(0, 300),
            latencyMs: elapsed(),
          });
        });
        req.end(body);
      });
    },
  };
}
