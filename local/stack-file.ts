import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";

/** The file in DATA_DIR telling other local tools (`npm run billing`) that a stack holds it, and where it answers. */
export const STACK_FILE = "local-stack.json";

export interface StackFile {
  readonly url: string;
  readonly pid: number;
}

/** Whether process `pid` is alive on this machine. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * The local stack holding `dataDir`, if one runs: its URL when it answers, undefined when none runs
 * (no file, or a file left by a process that has ended). A live process that does not answer is refused
 * with an error: two processes must not open the same DynamoDB Local files.
 */
export async function runningStack(dataDir: string): Promise<string | undefined> {
  const file = join(dataDir, STACK_FILE);
  if (!existsSync(file)) return undefined;
  let held: StackFile;
  try {
    held = JSON.parse(readFileSync(file, "utf8")) as StackFile;
  } catch {
    return undefined;
  }
  if (typeof held.pid !== "number" || typeof held.url !== "string" || !alive(held.pid)) return undefined;
  try {
    const res = await fetch(`${held.url}/health`, { signal: AbortSignal.timeout(3000) });
    if (res.ok) return held.url;
  } catch {
    // refused below
  }
  throw new Error(
    `DATA_DIR ${dataDir} is held by a local stack (pid ${held.pid}) that does not answer at ${held.url}. ` +
      "Two processes must not open the same DynamoDB Local files: wait until it is ready (then this bills through it), or stop it.",
  );
}
