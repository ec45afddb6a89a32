import { execFile } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { build } from "esbuild";
import { discoverHandlers, sstBuildOptions } from "../bench/bundle-options.js";
import { inject } from "vitest";
import type { TestStack } from "./harness.js";

const root = fileURLToPath(new URL("..", import.meta.url));

/** A Lambda function as `sst deploy` ships it: bundled and minified with the stacks' options. */
export interface ShippedFunction {
  /** Runs the bundle in a fresh node with only `env`: one invocation per event, in order; the handler's results. */
  invoke(env: Record<string, string>, events: readonly unknown[]): Promise<unknown[]>;
  /** `invoke`, with what the function logged: one parsed JSON object per line it wrote to stdout or stderr. */
  run(env: Record<string, string>, events: readonly unknown[]): Promise<{ results: unknown[]; logs: unknown[] }>;
  remove(): void;
}

/** Files shipped beside the bundle, as a stack's `copyFiles` lists them (`from` under the repository, `to` under the bundle's root). */
export interface CopiedFile {
  readonly from: string;
  readonly to?: string;
}

export async function shipFunction(name: string, copyFiles: readonly CopiedFile[] = []): Promise<ShippedFunction> {
  const fn = discoverHandlers(root).find((h) => h.name === name);
  if (!fn) throw new Error(`functions/${name}.ts exports no handler`);
  mkdirSync(join(root, "node_modules", ".cache"), { recursive: true });
  const out = mkdtempSync(join(root, "node_modules", ".cache", `bundle-${name}-`));
  const bundle = join(out, `${name}.mjs`);
  await build({ ...sstBuildOptions({ entry: fn.file, outfile: bundle, minify: true }), absWorkingDir: root });
  for (const file of copyFiles) {
    const to = join(out, file.to ?? file.from);
    mkdirSync(dirname(to), { recursive: true });
    copyFileSync(join(root, file.from), to);
  }
  const run: ShippedFunction["run"] = async (env, events) => {
    const input = join(out, "events.json");
    const output = join(out, "results.json");
    writeFileSync(input, JSON.stringify(events));
    // Results go to a file: the functions log to stdout (Powertools, one JSON line per request).
    const script = [
      `import { readFileSync, writeFileSync } from "node:fs";`,
      `const { handler } = await import(${JSON.stringify(pathToFileURL(bundle).href)});`,
      `const results = [];`,
      `for (const e of JSON.parse(readFileSync(${JSON.stringify(input)}, "utf8"))) results.push(await handler(e));`,
      `writeFileSync(${JSON.stringify(output)}, JSON.stringify(results));`,
    ].join("\n");
    const { stdout, stderr } = await promisify(execFile)(process.execPath, ["--input-type=module", "-e", script], {
      cwd: out,
      // The bundle's directory is the function's root, as Lambda's LAMBDA_TASK_ROOT names it.
      env: { PATH: process.env.PATH ?? "", LAMBDA_TASK_ROOT: out, ...env },
      maxBuffer: 16 * 1024 * 1024,
    });
    const logs = `${stdout}\n${stderr}`
      .split("\n")
      .filter((line) => line.startsWith("{"))
      .map((line) => JSON.parse(line) as unknown);
    return { results: JSON.parse(readFileSync(output, "utf8")) as unknown[], logs };
  };
  return {
    run,
    invoke: async (env, events) => (await run(env, events)).results,
    remove: () => rmSync(out, { recursive: true, force: true }),
  };
}

/** A bundle's environment against a test stack: its table on the test engine, its token issuer, and local credentials. */
export function stackEnv(t: TestStack): Record<string, string> {
  return {
    TABLE_NAME: t.stack.store.tableName,
    DYNAMO_ENDPOINT: inject("dynamoEndpoint"),
    AWS_REGION: "eu-west-1",
    AWS_ACCESS_KEY_ID: "local",
    AWS_SECRET_ACCESS_KEY: "local",
    AUTH_JWKS_URL: `${t.url}/.well-known/jwks.json`,
    AUTH_ISSUER: `${t.url}/`,
    AUTH_AUDIENCE: "channel-partner-api",
  };
}
