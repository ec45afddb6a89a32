/**
 * Cold start of the Lambda functions: `npx tsx bench/cold-start.ts [--samples N] [--no-unminified]`.
 *
 * Every `functions/*.ts` that exports `handler` is bundled exactly as SST v2 bundles it (see
 * bench/bundle-options.ts), plus an empty handler (`export const handler = async () => ({})`) built
 * the same way. For each bundle the report gives its size, the ten inputs that take most of it
 * (esbuild metafile, bytes in the output) and the packages that do, and its module initialisation
 * time: a fresh `node` per sample imports the bundle and times the import with performance.now().
 * Samples are interleaved (every round runs every bundle once, in a shuffled order) so machine
 * noise hits all bundles alike; the ratio is each median over the empty handler's median of the
 * same run. For graphql, whose schema is built at module load but whose Yoga server (config, stores,
 * clients) is built on the first invocation, the first call (GET /health) is timed separately, as it
 * adds to the cold invocation.
 *
 * The stacks deploy minified bundles (stacks/function-defaults.ts; SST's own default is not to
 * minify). The unminified variant is measured as well, for comparison, unless --no-unminified.
 *
 * Bundles are written under node_modules/.cache/cold-start/ (ignored by git) so that anything left
 * external resolves from the repository's node_modules. SST leaves `sharp` and `pg-native` external
 * for an ESM function, and our stacks add `@aws-sdk/*` (provided by the Lambda runtime): the import
 * time measured therefore includes loading the SDK from node_modules, as Lambda loads it from the runtime.
 *
 * Exits 1 when the graphql bundle is over 1.6 MiB minified, or a bundle does not build or load. Its
 * module initialisation against the 3 × target is reported as a miss but does not fail the run (a
 * timing on a shared machine, like the other benchmarks' latency ratios).
 */
import { execFile } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { build } from "esbuild";
import type { Metafile } from "esbuild";
import { FUNCTION_DEFAULTS } from "../stacks/function-defaults.js";
import { stats } from "./common.js";
import type { Stats } from "./common.js";
import {
  EMPTY_HANDLER_SOURCE,
  MINIMAL_PEER_SOURCE,
  PEER_MAX_INIT_RATIO,
  GRAPHQL_MAX_BYTES,
  GRAPHQL_MAX_INIT_RATIO,
  discoverHandlers,
  forbiddenInputs,
  mainOutput,
  sstBuildOptions,
  sstEsbuild,
} from "./bundle-options.js";

export interface ColdStartOptions {
  /** Repository root (default: the parent of bench/). */
  readonly root?: string;
  /** Fresh processes per bundle (default 15). */
  readonly samples?: number;
  /** Also build and time the unminified bundles, SST's default (default true). */
  readonly unminified?: boolean;
  /** Where the bundles go (default <root>/node_modules/.cache/cold-start). */
  readonly outDir?: string;
  /** Progress lines on stderr. */
  readonly log?: (line: string) => void;
}

export const coldStartDefaults = { samples: 15, unminified: true } as const;

type Variant = "minified" | "unminified";
const EMPTY = "(empty handler)";
const PEER = "(minimal peer)";

interface Built {
  readonly name: string;
  readonly variant: Variant;
  readonly outfile: string;
  readonly bytes: number;
  readonly topInputs: readonly { path: string; bytes: number }[];
  readonly topPackages: readonly { name: string; bytes: number; files: number }[];
  readonly forbidden: readonly { label: string; inputs: string[] }[];
}

interface Sample {
  /** performance.now() before the import: node's own start-up, since the process's time origin. */
  readonly bootMs: number;
  readonly importMs: number;
  readonly firstCallMs?: number;
  readonly firstCallStatus?: number;
  readonly firstCallError?: string;
  readonly rssMb: number;
}

/** A fresh process: imports the bundle, optionally calls the handler once, prints the timings. */
const RUNNER = `
const [bundle, call] = process.argv.slice(2);
const t0 = performance.now();
const mod = await import(bundle);
const importMs = performance.now() - t0;
const rssMb = process.memoryUsage().rss / 1048576;
const out = { bootMs: t0, importMs, rssMb };
if (call) {
  const t1 = performance.now();
  try {
    const res = await mod.handler(JSON.parse(call));
    out.firstCallMs = performance.now() - t1;
    if (res && typeof res.statusCode === "number") out.firstCallStatus = res.statusCode;
  } catch (err) {
    out.firstCallError = String(err && err.message || err).split("\\n")[0];
  }
}
process.stdout.write(JSON.stringify(out));
process.exit(0);
`;

/** The environment of the deployed functions (values are placeholders: nothing is called). */
const LAMBDA_ENV: Record<string, string> = {
  AWS_REGION: "eu-west-1",
  AWS_ACCESS_KEY_ID: "AKIDCOLDSTART",
  AWS_SECRET_ACCESS_KEY: "cold-start",
  AWS_EC2_METADATA_DISABLED: "true",
  STAGE: "bench",
  TABLE_NAME: "cold-start",
  AUTH_JWKS_URL: "https://auth.example.com/.well-known/jwks.json",
  AUTH_ISSUER: "https://auth.example.com/",
  AUTH_AUDIENCE: "channel-partner-api",
  MAIL_FROM: "no-reply@example.com",
  INVOICE_ISSUER_NAME: "Channel Partner Platform",
  BILLING_QUEUE_URL: "https://sqs.eu-west-1.amazonaws.com/123456789012/billing",
  LIFECYCLE_QUEUE_URL: "https://sqs.eu-west-1.amazonaws.com/123456789012/lifecycle",
  MAIL_QUEUE_URL: "https://sqs.eu-west-1.amazonaws.com/123456789012/mail",
  DOCUMENTS_QUEUE_URL: "https://sqs.eu-west-1.amazonaws.com/123456789012/documents",
  NODE_ENV: "production",
};

/** GET /health through API Gateway v2: builds the server, touches no network. */
function healthEvent(): unknown {
  return {
    version: "2.0",
    routeKey: "GET /health",
    rawPath: "/health",
    rawQueryString: "",
    headers: { host: "api.example.com", accept: "application/json" },
    requestContext: {
      accountId: "123456789012",
      apiId: "cold-start",
      domainName: "api.example.com",
      domainPrefix: "api",
      http: { method: "GET", path: "/health", protocol: "HTTP/1.1", sourceIp: "127.0.0.1", userAgent: "cold-start" },
      requestId: "cold-start",
      routeKey: "GET /health",
      stage: "$default",
      time: new Date(0).toISOString(),
      timeEpoch: 0,
    },
    isBase64Encoded: false,
  };
}

function packageOf(input: string): string | undefined {
  const i = input.lastIndexOf("node_modules/");
  if (i < 0) return undefined;
  const rest = input.slice(i + "node_modules/".length).split("/");
  return rest[0]?.startsWith("@") ? `${rest[0]}/${rest[1] ?? ""}` : rest[0];
}

function summarise(metafile: Metafile): Pick<Built, "bytes" | "topInputs" | "topPackages" | "forbidden"> {
  const out = mainOutput(metafile);
  const inputs = Object.entries(out.inputs).map(([path, { bytesInOutput }]) => ({ path, bytes: bytesInOutput }));
  const byPackage = new Map<string, { bytes: number; files: number }>();
  for (const { path, bytes } of inputs) {
    const name = packageOf(path) ?? "(project sources)";
    const p = byPackage.get(name) ?? { bytes: 0, files: 0 };
    byPackage.set(name, { bytes: p.bytes + bytes, files: p.files + 1 });
  }
  return {
    bytes: out.bytes,
    topInputs: inputs.sort((a, b) => b.bytes - a.bytes).slice(0, 10),
    topPackages: [...byPackage]
      .map(([name, p]) => ({ name, ...p }))
      .sort((a, b) => b.bytes - a.bytes)
      .slice(0, 10),
    forbidden: forbiddenInputs(metafile),
  };
}

function runOnce(runner: string, bundle: string, call: unknown): Promise<Sample> {
  const args = [runner, pathToFileURL(bundle).href, ...(call === undefined ? [] : [JSON.stringify(call)])];
  const env = { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", ...LAMBDA_ENV };
  return new Promise((resolvePromise, reject) => {
    execFile(
      process.execPath,
      args,
      { env, cwd: dirname(bundle), maxBuffer: 1 << 20, timeout: 60_000 },
      (error, stdout, stderr) => {
        if (error) return reject(new Error(`${bundle}: ${error.message}\n${stderr}`));
        try {
          resolvePromise(JSON.parse(stdout) as Sample);
        } catch {
          reject(new Error(`${bundle}: unreadable runner output ${JSON.stringify(stdout)}\n${stderr}`));
        }
      },
    );
  });
}

/** The first line that says what went wrong (the runner's stderr ends with the error). */
function firstError(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  const line = text.split("\n").find((l) => /^\w*Error\b|Cannot find|ERR_/.test(l.trim()));
  return (line ?? text.split("\n")[0] ?? "").trim().slice(0, 300);
}

function shuffle<T>(items: readonly T[]): T[] {
  const a = [...items];
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}

const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(3);
const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} kB`.padStart(10);
const f1 = (v: number) => v.toFixed(1).padStart(8);

export async function runColdStartBench(
  opts: ColdStartOptions = {},
): Promise<{ text: string; failures: string[]; misses: string[] }> {
  const root = resolve(opts.root ?? join(dirname(fileURLToPath(import.meta.url)), ".."));
  const samples = opts.samples ?? coldStartDefaults.samples;
  const variants: Variant[] =
    (opts.unminified ?? coldStartDefaults.unminified) ? ["minified", "unminified"] : ["minified"];
  const outDir = resolve(opts.outDir ?? join(root, "node_modules", ".cache", "cold-start"));
  const log = opts.log ?? (() => undefined);
  const lines: string[] = [];
  const failures: string[] = [];
  /** Latency targets missed: reported, not failing the run (machine noise; like the other benchmarks' ratios). */
  const misses: string[] = [];
  const say = (line = "") => lines.push(line);

  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  const runner = join(outDir, "runner.mjs");
  writeFileSync(runner, RUNNER);

  const handlers = discoverHandlers(root);
  log(`cold-start: bundling ${handlers.map((h) => h.name).join(", ")} and the empty handler (${variants.join(", ")})`);

  const built: Built[] = [];
  for (const variant of variants) {
    const targets = [
      {
        name: EMPTY,
        entry: { contents: EMPTY_HANDLER_SOURCE, resolveDir: join(root, "functions"), sourcefile: "empty-handler.ts" },
      },
      {
        name: PEER,
        entry: { contents: MINIMAL_PEER_SOURCE, resolveDir: join(root, "functions"), sourcefile: "minimal-peer.ts" },
      },
      ...handlers.map((h) => ({ name: h.name, entry: h.file })),
    ];
    for (const t of targets) {
      const outfile = join(
        outDir,
        variant,
        `${t.name === EMPTY ? "empty-handler" : t.name === PEER ? "minimal-peer" : t.name}.mjs`,
      );
      try {
        const result = await build({
          ...sstBuildOptions({ entry: t.entry, outfile, minify: variant === "minified" }),
          absWorkingDir: root,
        });
        built.push({ name: t.name, variant, outfile, ...summarise(result.metafile) });
      } catch (err) {
        const message = err instanceof Error ? err.message.split("\n").slice(0, 6).join("\n") : String(err);
        failures.push(`${t.name} (${variant}): build failed: ${message}`);
      }
    }
  }

  // What `sst deploy` ships today: SST's own esbuild, its defaults (not minified). Does it load?
  const shipped: { name: string; bytes?: number; error?: string }[] = [];
  let sstVersion = "?";
  try {
    const sst = await sstEsbuild(root);
    sstVersion = sst.version;
    for (const h of handlers) {
      const outfile = join(outDir, `sst-esbuild-${sst.version}`, `${h.name}.mjs`);
      try {
        const result = await sst.build({
          ...sstBuildOptions({ entry: h.file, outfile, minify: FUNCTION_DEFAULTS.nodejs.minify }),
          absWorkingDir: root,
        });
        const bytes = mainOutput(result.metafile).bytes;
        try {
          await runOnce(runner, outfile, undefined);
          shipped.push({ name: h.name, bytes });
        } catch (err) {
          shipped.push({ name: h.name, bytes, error: firstError(err) });
        }
      } catch (err) {
        shipped.push({ name: h.name, error: `build failed: ${firstError(err)}` });
      }
    }
  } catch (err) {
    shipped.push({ name: "(sst's esbuild)", error: `not loadable: ${firstError(err)}` });
  }
  for (const f of shipped.filter((x) => x.error))
    failures.push(`${f.name} as SST's esbuild ${sstVersion} bundles it: ${f.error ?? ""}`);

  // Interleaved sampling: each round runs every bundle once, in a fresh order.
  const times = new Map<Built, Sample[]>(built.map((b) => [b, []]));
  const runErrors = new Map<Built, string>();
  for (let round = 0; round < samples; round++) {
    log(`cold-start: round ${round + 1}/${samples}`);
    for (const b of shuffle(built)) {
      if (runErrors.has(b)) continue;
      const call = b.name === "graphql" ? healthEvent() : b.name === EMPTY ? {} : undefined;
      try {
        times.get(b)!.push(await runOnce(runner, b.outfile, call));
      } catch (err) {
        runErrors.set(b, err instanceof Error ? err.message : String(err));
      }
    }
  }

  say(
    `Cold start: Lambda bundles as SST v2 builds them (esm, node, esnext, keepNames and @aws-sdk/* external as the stacks set them), ${samples} fresh node processes per bundle, interleaved`,
  );
  say(`node ${process.version}, ${process.platform}/${process.arch}. Times in ms, median / p90.`);
  say(
    `  init    = node process start -> handler module loaded (node boot + import): the local analogue of Lambda's Init Duration`,
  );
  say(
    `  import  = the bundle's import alone (module initialisation; the empty handler's is ~0, so its ratio is not meaningful)`,
  );
  say(
    `  ratio   = median / the empty handler's median, same run and variant. The ${GRAPHQL_MAX_INIT_RATIO}x target is checked on init.`,
  );
  const processInit = (x: Sample) => x.bootMs + x.importMs;
  for (const variant of variants) {
    const ofVariant = built.filter((b) => b.variant === variant);
    const empty = ofVariant.find((b) => b.name === EMPTY);
    const es = empty ? times.get(empty)! : [];
    const emptyInit = es.length > 0 ? stats(es.map(processInit)).median : Number.NaN;
    const emptyImport = es.length > 0 ? stats(es.map((x) => x.importMs)).median : Number.NaN;
    const emptyCold = es.length > 0 ? stats(es.map((x) => processInit(x) + (x.firstCallMs ?? 0))).median : Number.NaN;
    say();
    say(`== ${variant}${variant === "unminified" ? " (SST's default; the stacks set minify: true)" : ""} ==`);
    say(
      `  ${"function".padEnd(18)}${"bytes".padStart(10)}${"MB".padStart(7)}  ${"init".padStart(8)}${"p90".padStart(8)}${"ratio".padStart(8)}  ${"import".padStart(8)}${"p90".padStart(8)}${"ratio".padStart(9)}  rss MB`,
    );
    for (const b of ofVariant) {
      const s = times.get(b)!;
      const err = runErrors.get(b);
      if (err || s.length === 0) {
        say(
          `  ${b.name.padEnd(18)}${String(b.bytes).padStart(10)}${mb(b.bytes).padStart(7)}  does not load: ${(err ?? "no samples").split("\n")[0]}`,
        );
        failures.push(`${b.name} (${variant}): the bundle does not load: ${(err ?? "no samples").split("\n")[0]}`);
        continue;
      }
      const init: Stats = stats(s.map(processInit));
      const imp: Stats = stats(s.map((x) => x.importMs));
      const rss = stats(s.map((x) => x.rssMb)).median;
      say(
        `  ${b.name.padEnd(18)}${String(b.bytes).padStart(10)}${mb(b.bytes).padStart(7)}  ${f1(init.median)}${f1(init.p90)}${`${(init.median / emptyInit).toFixed(2)}x`.padStart(8)}` +
          `  ${f1(imp.median)}${f1(imp.p90)}${`${(imp.median / emptyImport).toFixed(1)}x`.padStart(9)}  ${rss.toFixed(0).padStart(6)}`,
      );
      if (b.name === "graphql" && variant === "minified" && init.median / emptyInit > GRAPHQL_MAX_INIT_RATIO) {
        misses.push(
          `graphql init ${init.median.toFixed(1)} ms = ${(init.median / emptyInit).toFixed(2)}x the empty handler's ${emptyInit.toFixed(1)} ms (target <= ${GRAPHQL_MAX_INIT_RATIO}x)`,
        );
      }
    }
    const graphql = ofVariant.find((b) => b.name === "graphql");
    const gs = graphql && !runErrors.has(graphql) ? times.get(graphql)! : [];
    const peer = ofVariant.find((b) => b.name === PEER);
    const ps = peer && !runErrors.has(peer) ? times.get(peer)! : [];
    if (gs.length > 0 && ps.length > 0) {
      const gInit = stats(gs.map(processInit)).median;
      const pInit = stats(ps.map(processInit)).median;
      say(
        `  graphql init over the minimal peer's (yoga + one document client + a one-field schema): ${gInit.toFixed(1)} / ${pInit.toFixed(1)} ms = ${(gInit / pInit).toFixed(2)}x (goal <= ${PEER_MAX_INIT_RATIO}x)`,
      );
      if (variant === "minified" && gInit / pInit > PEER_MAX_INIT_RATIO)
        misses.push(`graphql init ${(gInit / pInit).toFixed(2)}x the minimal peer's (goal <= ${PEER_MAX_INIT_RATIO}x)`);
    }
    const callError = gs.find((x) => x.firstCallError !== undefined)?.firstCallError;
    if (callError !== undefined) {
      say(`  graphql first call failed (${callError}): first-call timing not reported`);
      failures.push(`graphql (${variant}): the first call fails: ${callError}`);
    } else if (gs.length > 0) {
      const first = stats(gs.map((x) => x.firstCallMs ?? 0));
      const cold = stats(gs.map((x) => processInit(x) + (x.firstCallMs ?? 0)));
      const status = gs[0]?.firstCallStatus;
      say(
        `  graphql first call (builds the Yoga server: config, stores, clients; GET /health -> ${status ?? "?"}): ${first.median.toFixed(1)} / ${first.p90.toFixed(1)} ms`,
      );
      say(
        `  graphql init + first call: ${cold.median.toFixed(1)} ms = ${(cold.median / emptyCold).toFixed(2)}x the empty handler's init + first call (${emptyCold.toFixed(1)} ms)`,
      );
    }
    if (variant === "minified") {
      if (!graphql) failures.push("graphql (minified): no bundle");
      else if (graphql.bytes > GRAPHQL_MAX_BYTES)
        failures.push(
          `graphql bundle ${graphql.bytes} bytes (${mb(graphql.bytes)} MB) > ${GRAPHQL_MAX_BYTES} bytes (1.5 MB) minified`,
        );
    }
  }

  say();
  say(
    `== as \`sst deploy\` bundles today: SST's own esbuild ${sstVersion} (node_modules/sst/node_modules/esbuild), not minified; imported once ==`,
  );
  for (const f of shipped) {
    say(
      `  ${f.name.padEnd(18)}${(f.bytes === undefined ? "-" : String(f.bytes)).padStart(10)}${(f.bytes === undefined ? "" : mb(f.bytes)).padStart(7)}  ${f.error ? `FAILS: ${f.error}` : "loads"}`,
    );
  }

  for (const b of built.filter((x) => x.variant === "minified" && x.name !== EMPTY)) {
    say();
    say(`-- ${b.name} (minified, ${mb(b.bytes)} MB): top inputs by bytes in the bundle --`);
    for (const i of b.topInputs) say(`  ${kb(i.bytes)}  ${i.path}`);
    say(`   top packages:`);
    for (const p of b.topPackages) say(`  ${kb(p.bytes)}  ${p.name} (${p.files} files)`);
    if (b.name === "graphql") {
      say(
        b.forbidden.length === 0
          ? "   heavy modules: none of pdf-lib, csv-stringify, @aws-sdk/client-sesv2, infra/documents.ts, infra/mail.ts"
          : `   heavy modules still in graphql: ${b.forbidden.map((f) => `${f.label} (${f.inputs.length} inputs)`).join(", ")}`,
      );
    }
  }

  say();
  say(
    failures.length === 0 && misses.length === 0
      ? "Targets met."
      : `Target misses:\n${[...failures, ...misses].map((f) => `  - ${f}`).join("\n")}`,
  );
  return { text: lines.join("\n"), failures, misses };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: { samples: { type: "string" }, "no-unminified": { type: "boolean" } } });
  const samples = values.samples === undefined ? coldStartDefaults.samples : Number(values.samples);
  if (!Number.isInteger(samples) || samples < 1) throw new Error("--samples must be an integer >= 1");
  const { text, failures } = await runColdStartBench({
    samples,
    unminified: !values["no-unminified"],
    log: (l) => process.stderr.write(`${l}\n`),
  });
  process.stdout.write(`${text}\n`);
  process.exitCode = failures.length > 0 ? 1 : 0;
}
