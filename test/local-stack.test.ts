import { execFile, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import type { Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { Client, fetchExchange } from "@urql/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inject } from "vitest";
import { startLocalStack } from "../local/stack.js";
import type { LocalStack } from "../local/stack.js";
import { STACK_FILE } from "../local/stack-file.js";
import { OPERATOR, startTestStack } from "./harness.js";
import type { TestStack } from "./harness.js";

/**
 * The local stack as a person (and a plain HTTP client) meets it: the health check, GET queries,
 * the test clock with its tokens, `npm run billing` next to a running stack, a port already taken.
 */
const root = fileURLToPath(new URL("..", import.meta.url));
const run = promisify(execFile);

let t: TestStack;
beforeAll(async () => {
  t = await startTestStack();
});
afterAll(async () => {
  await t?.stop();
});

const viewer = async (token: string) => {
  const res = await fetch(`${t.url}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    body: JSON.stringify({ query: "{ viewer { email } }" }),
  });
  return {
    status: res.status,
    body: (await res.json()) as {
      data?: { viewer: { email: string } } | null;
      errors?: { extensions?: { code?: string } }[];
    },
  };
};

describe("GET /health", () => {
  it("answers 200 with a small JSON body, without a token", async () => {
    const res = await fetch(`${t.url}/health`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    expect(await res.json()).toEqual({ status: "ok" });
  });
});

describe("GET queries", () => {
  it("work with urql's defaults (GET for queries) when the client sends its bearer token", async () => {
    const methods: string[] = [];
    const client = new Client({
      url: `${t.url}/graphql`,
      exchanges: [fetchExchange],
      fetch: (input, init) => {
        methods.push(init?.method ?? "GET");
        return fetch(input, init);
      },
      fetchOptions: { headers: { authorization: `Bearer ${await t.token(OPERATOR)}` } },
    });
    const result = await client.query("query Viewer { viewer { email } }", {}).toPromise();
    expect(result.error).toBeUndefined();
    expect(result.data).toEqual({ viewer: { email: OPERATOR } });
    expect(methods).toEqual(["GET"]);
  });

  it("without a token or the x-graphql-yoga-csrf header, a GET is refused with 403 (CSRF prevention); with the header it runs", async () => {
    const url = `${t.url}/graphql?query=${encodeURIComponent("{ __typename }")}`;
    expect((await fetch(url, { headers: { accept: "application/json" } })).status).toBe(403);
    const ok = await fetch(url, { headers: { accept: "application/json", "x-graphql-yoga-csrf": "1" } });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ data: { __typename: "Query" } });
  });

  it("a mutation over GET is refused even with a token", async () => {
    const url = `${t.url}/graphql?query=${encodeURIComponent("mutation { __typename }")}`;
    const res = await fetch(url, {
      headers: { accept: "application/json", authorization: `Bearer ${await t.token(OPERATOR)}` },
    });
    expect(res.status).toBe(405);
  });
});

describe("the test clock", () => {
  it("GET /dev/clock tells the stack's time; POST moves it", async () => {
    await t.setClock("2030-01-15T10:00:00.000Z");
    const { now } = (await (await fetch(`${t.url}/dev/clock`)).json()) as { now: string };
    expect(Date.parse(now) - Date.parse("2030-01-15T10:00:00.000Z")).toBeGreaterThanOrEqual(0);
    expect(Date.parse(now) - Date.parse("2030-01-15T10:00:00.000Z")).toBeLessThan(60_000);
  });

  it("a token from /dev/token stays valid across clock jumps, forward and back", async () => {
    await t.setClock("2030-01-15T10:00:00.000Z");
    const res = await fetch(`${t.url}/dev/token`, { method: "POST", body: JSON.stringify({ email: OPERATOR }) });
    const { token } = (await res.json()) as { token: string };
    for (const at of [
      "2030-02-20T00:10:00.000Z",
      "2031-07-01T00:00:00.000Z",
      "2029-12-31T23:00:00.000Z",
      "2030-01-15T10:00:00.000Z",
    ]) {
      await t.setClock(at);
      const r = await viewer(token);
      expect(r.status, at).toBe(200);
      expect(r.body.data?.viewer.email, at).toBe(OPERATOR);
    }
  });

  it("an expired token stays refused, whatever the clock does", async () => {
    await t.setClock("2030-01-15T10:00:00.000Z");
    const expired = await t.stack.mint(OPERATOR, { ttlSeconds: -60 });
    for (const at of ["2030-01-15T10:00:00.000Z", "2029-01-01T00:00:00.000Z"]) {
      await t.setClock(at);
      const r = await viewer(expired);
      expect(r.status, at).toBe(401);
      expect(r.body.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
    }
  });

  it("a token whose clock claim was altered is refused (the claim is signed)", async () => {
    const token = await t.token(OPERATOR);
    const [h, p, s] = token.split(".");
    const claims = JSON.parse(Buffer.from(p!, "base64url").toString()) as Record<string, unknown>;
    const forged = `${h}.${Buffer.from(JSON.stringify({ ...claims, local_clock_offset_ms: -10 * 365 * 86_400_000 })).toString("base64url")}.${s}`;
    expect((await viewer(forged)).status).toBe(401);
  });
});

describe("ports", () => {
  let busy: Server;
  let port: number;
  beforeAll(async () => {
    busy = createServer();
    await new Promise<void>((resolve) => busy.listen(0, "127.0.0.1", () => resolve()));
    port = (busy.address() as { port: number }).port;
  });
  afterAll(() => new Promise<void>((resolve) => busy.close(() => resolve())));

  it("a port in use is refused at once, naming the port and suggesting PORT=", async () => {
    const started = Date.now();
    const attempt = startLocalStack({
      port,
      dynamoEndpoint: inject("dynamoEndpoint"),
      tableName: "never-created",
      inMemory: true,
      cron: false,
    });
    await expect(attempt).rejects.toThrow(
      new RegExp(`Port ${port} on 127\\.0\\.0\\.1 is already in use.*PORT=${port + 1} npm start`),
    );
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it("`npm start` says the same and exits 1", async () => {
    const r = await run(process.execPath, ["--import", "tsx", "local/main.ts", "--in-memory", "--quiet"], {
      cwd: root,
      env: { ...process.env, PORT: String(port) },
    }).catch((e: { code: number; stderr: string }) => e);
    expect("code" in r ? r.code : 0).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`Port ${port} .*already in use.*PORT=`));
  });

  it("listens on 127.0.0.1 by default, on HOST when told", async () => {
    const url = new URL(t.url);
    // The stack answers on loopback (the default interface).
    expect((await fetch(`http://127.0.0.1:${url.port}/health`)).status).toBe(200);
    const wide = await startLocalStack({
      host: "0.0.0.0",
      dynamoEndpoint: inject("dynamoEndpoint"),
      tableName: `t-host-${Date.now()}`,
      inMemory: true,
      cron: false,
    });
    try {
      expect((await fetch(`${wide.url}/health`)).status).toBe(200);
      // Tokens verify through the JWKS on the reachable address.
      const { token } = (await (
        await fetch(`${wide.url}/dev/token`, { method: "POST", body: JSON.stringify({ email: OPERATOR }) })
      ).json()) as { token: string };
      const res = await fetch(`${wide.graphqlUrl}`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
        body: JSON.stringify({ query: "{ viewer { email } }" }),
      });
      expect(await res.json()).toEqual({ data: { viewer: { email: OPERATOR } } });
    } finally {
      await wide.stop();
    }
  });
});

describe("npm run billing", () => {
  const cli = (env: Record<string, string>, ...args: string[]) =>
    run(process.execPath, ["--import", "tsx", "local/billing-cli.ts", ...args], {
      cwd: root,
      env: { ...process.env, ...env },
    }).catch((e: { code: number; stdout: string; stderr: string }) => e);

  let dataDir: string;
  let held: LocalStack;
  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), "billing-cli-"));
    held = await startLocalStack({
      dataDir,
      dynamoEndpoint: inject("dynamoEndpoint"),
      tableName: `t-billing-${Date.now()}`,
      cron: false,
    });
  });
  afterAll(async () => {
    await held?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("a stack holding DATA_DIR says so in DATA_DIR/local-stack.json, removed when it stops", () => {
    expect(JSON.parse(readFileSync(join(dataDir, STACK_FILE), "utf8"))).toEqual({ url: held.url, pid: process.pid });
  });

  it("bills through the running stack (its clock and data), starting in under 5 s", async () => {
    held.clock.set(new Date("2031-03-01T00:10:00.000Z"));
    const started = Date.now();
    // Started: the moment it says it bills through the stack (it has found it and sent the run).
    const child = spawn(process.execPath, ["--import", "tsx", "local/billing-cli.ts", "--period", "2031-02"], {
      cwd: root,
      env: { ...process.env, DATA_DIR: dataDir },
    });
    let stdout = "";
    let stderr = "";
    let startedMs: number | undefined;
    child.stdout.on("data", (d: Buffer) => {
      startedMs ??= Date.now() - started;
      stdout += d.toString();
    });
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
    expect(stderr).toBe("");
    expect(code).toBe(0);
    expect(stdout).toContain(`billing 2031-02 through the running local stack at ${held.url}`);
    expect(stdout).toMatch(/billed 2031-02: \d+ parties scheduled, \d+ processed, 0 failed attempts, 0 dead-lettered/);
    expect(startedMs, `started after ${startedMs} ms`).toBeLessThan(5000);
  });

  it("the running stack's clock decides: a month not yet ended there is refused, as by POST /dev/jobs/run", async () => {
    held.clock.set(new Date("2031-03-01T00:10:00.000Z"));
    const r = await cli({ DATA_DIR: dataDir }, "--period", "2031-05");
    expect("code" in r ? r.code : 0).toBe(1);
    expect(r.stderr).toMatch(/the stack refused the run \(400\)/);
  });

  it("refuses clearly when DATA_DIR is held by a live process that does not answer", async () => {
    const other = mkdtempSync(join(tmpdir(), "billing-cli-held-"));
    try {
      // This test's own process is alive; nothing answers on port 9 (discard).
      writeFileSync(join(other, STACK_FILE), JSON.stringify({ url: "http://127.0.0.1:9", pid: process.pid }));
      const r = await cli({ DATA_DIR: other }, "--period", "2031-02");
      expect("code" in r ? r.code : 0).toBe(1);
      expect(r.stderr).toContain(
        `DATA_DIR ${other} is held by a local stack (pid ${process.pid}) that does not answer at http://127.0.0.1:9`,
      );
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
  });

  it("refuses a malformed period with its usage", async () => {
    const r = await cli({ DATA_DIR: dataDir }, "--period", "2031-13");
    expect("code" in r ? r.code : 0).toBe(1);
    expect(r.stderr).toMatch(/usage: npm run billing -- --period YYYY-MM/);
  });
});
