import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { basename, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { build } from "esbuild";
import type { Metafile } from "esbuild";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FUNCTION_DEFAULTS } from "../stacks/function-defaults.js";
import {
  GRAPHQL_MAX_BYTES,
  discoverHandlers,
  forbiddenInputs,
  mainOutput,
  sstBuildOptions,
  sstEsbuild,
} from "../bench/bundle-options.js";

/**
 * The Lambda bundles, built as SST v2 builds them (bench/bundle-options.ts), minified. The graphql
 * function is built alone, exactly as SST does; the others in one esbuild call with the same options
 * (no splitting, so each output is still self-contained) to keep the test fast.
 */
const root = fileURLToPath(new URL("..", import.meta.url));
const handlers = discoverHandlers(root);
const graphql = handlers.find((h) => h.name === "graphql");
const others = handlers.filter((h) => h.name !== "graphql");
// Inside the repository (node_modules/.cache, ignored by git), so that what the stacks leave
// external (`@aws-sdk/*`, which the Lambda runtime provides) resolves as it does on Lambda.
mkdirSync(join(root, "node_modules", ".cache"), { recursive: true });
const out = mkdtempSync(join(root, "node_modules", ".cache", "bundle-test-"));

/** One esbuild call for several entries: SST's options with outdir instead of outfile. */
function manyOptions(files: readonly string[], outdir: string, minify: boolean) {
  const { outfile: _outfile, ...options } = sstBuildOptions({
    entry: files[0] ?? "",
    outfile: join(outdir, "x.mjs"),
    minify,
  });
  return { ...options, entryPoints: [...files], outdir, outExtension: { ".js": ".mjs" }, absWorkingDir: root };
}

describe("Lambda bundles (esbuild, as SST v2 builds them)", () => {
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it("finds the graphql function among the handlers", () => {
    expect(handlers.map((h) => h.name)).toContain("graphql");
  });

  describe("graphql", () => {
    let metafile: Metafile;
    beforeAll(async () => {
      if (!graphql) throw new Error("functions/graphql.ts exports no handler");
      const result = await build({
        ...sstBuildOptions({ entry: graphql.file, outfile: join(out, "graphql.mjs"), minify: true }),
        absWorkingDir: root,
        write: false,
      });
      metafile = result.metafile;
    });

    it("is at most 1.6 MiB minified", () => {
      const { bytes } = mainOutput(metafile);
      expect(bytes, `graphql bundle ${(bytes / 1024 / 1024).toFixed(3)} MB`).toBeLessThanOrEqual(GRAPHQL_MAX_BYTES);
    });

    it("leaves the heavy modules (PDF, CSV, SES mail) to their own functions", () => {
      const found = forbiddenInputs(metafile).map(
        (f) => `${f.label} (${f.inputs.length} inputs, e.g. ${f.inputs[0] ?? ""})`,
      );
      expect(found).toEqual([]);
    });

    it("loads the SQS and SSM clients only when it first uses them, not at cold start", () => {
      const output = Object.entries(metafile.outputs).find(([path]) => !path.endsWith(".map"))![1];
      const sdk = output.imports.filter((i) => /^@aws-sdk\/client-(sqs|ssm)$/.test(i.path));
      expect(sdk.map((i) => i.path).sort()).toEqual(["@aws-sdk/client-sqs", "@aws-sdk/client-ssm"]);
      expect(sdk.filter((i) => i.kind !== "dynamic-import")).toEqual([]);
      // The clients it needs on every request stay static.
      expect(output.imports.some((i) => i.path === "@aws-sdk/lib-dynamodb" && i.kind === "import-statement")).toBe(
        true,
      );
    });
  });

  it("builds every other function without errors", async () => {
    const result = await build({
      ...manyOptions(
        others.map((h) => h.file),
        join(out, "others"),
        true,
      ),
      write: false,
    });
    expect(result.errors).toEqual([]);
    const built = Object.entries(result.metafile.outputs)
      .filter(([path, o]) => !path.endsWith(".map") && o.bytes > 0)
      .map(([path]) => basename(path, ".mjs"))
      .sort();
    expect(built).toEqual(others.map((h) => h.name).sort());
    // The change-stream consumer runs on every committed write: it derives events (equipment.locked
    // included) without loading the equipment use cases or their phone-number metadata.
    const consumer = Object.entries(result.metafile.outputs).find(([path]) => basename(path) === "stream-consumer.mjs");
    const heavy = Object.keys(consumer?.[1].inputs ?? {}).filter(
      (p) =>
        p.includes("node_modules/libphonenumber-js/") ||
        (p.startsWith("core/equipment") && p !== "core/equipment/codes.ts"),
    );
    expect(consumer).toBeDefined();
    expect(heavy).toEqual([]);
  });

  /**
   * `sst deploy` bundles with SST's own esbuild (0.18), which leaves glob-style dynamic requires
   * (i18n-iso-countries' `require("./langs/" + l + ".json")`) in the bundle: the function then fails
   * at init on Lambda. Build every function with that esbuild and import each in a fresh node.
   */
  describe("as SST's own esbuild bundles them", () => {
    const dir = join(out, "sst");
    let version = "?";
    beforeAll(async () => {
      const sst = await sstEsbuild(root);
      version = sst.version;
      await sst.build({
        ...manyOptions(
          handlers.map((h) => h.file),
          dir,
          FUNCTION_DEFAULTS.nodejs.minify,
        ),
        sourcemap: false,
      });
    });

    it.concurrent.each(handlers.map((h) => [h.name] as const))("%s loads", async (name) => {
      const url = pathToFileURL(join(dir, `${name}.mjs`)).href;
      const loaded = await promisify(execFile)(
        process.execPath,
        [
          "--input-type=module",
          "-e",
          `const m = await import(${JSON.stringify(url)}); process.stdout.write(typeof m.handler);`,
        ],
        {
          cwd: dir,
          env: { PATH: process.env.PATH ?? "" },
        },
      ).then(
        ({ stdout }) => stdout,
        (err: Error & { stderr?: string }) =>
          `fails: ${(err.stderr ?? err.message).split("\n").find((l) => /^(\w*Error\b|Error \[)/.test(l.trim())) ?? err.message}`,
      );
      expect(loaded, `${name} bundled by SST's esbuild ${version}: ${loaded}`).toBe("function");
    });
  });
});
