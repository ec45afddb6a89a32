import { execFile } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { codegen } from "@graphql-codegen/core";
import * as typescriptOperationsPlugin from "@graphql-codegen/typescript-operations";
import { buildSchema, parse } from "graphql";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

/**
 * The clients integrators use accept schema.graphql without a warning: representative operations
 * (an account page with paginated, refetchable children; placeOrder; an invoice with its lines) are
 * compiled with relay-compiler and with GraphQL Code Generator (typescript-operations), and what they
 * generate is type-checked (strict) together with code using it. Versions are pinned in package.json.
 * The operations live in test/clients/.
 */
const root = fileURLToPath(new URL("..", import.meta.url));
const fixtures = join(root, "test", "clients");
const run = promisify(execFile);
// Under node_modules so that the generated code resolves `relay-runtime` (@types/relay-runtime) as an app would.
mkdirSync(join(root, "node_modules", ".cache"), { recursive: true });
const dir = mkdtempSync(join(root, "node_modules", ".cache", "clients-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const WARNING = /\bwarn(ing)?\b|\[WARN\]|deprecat/i;

describe("relay-compiler", () => {
  let output = "";
  let generated: string[] = [];
  beforeAll(async () => {
    mkdirSync(join(dir, "src"), { recursive: true });
    for (const f of ["AccountPage.ts", "PlaceOrder.ts", "InvoiceView.ts"])
      copyFileSync(join(fixtures, f), join(dir, "src", f));
    writeFileSync(
      join(dir, "relay.config.json"),
      JSON.stringify({
        src: "./src",
        schema: join(root, "schema.graphql"),
        language: "typescript",
        eagerEsModules: true,
        excludes: ["**/__generated__/**"],
      }),
    );
    const bin = join(root, "node_modules", "relay-compiler", "cli.js");
    const r = await run(process.execPath, [bin], { cwd: dir, env: { ...process.env, NO_COLOR: "1" } }).catch(
      (e: { code: number; stdout: string; stderr: string }) => e,
    );
    output = `${r.stdout}${r.stderr}`;
    expect("code" in r ? r.code : 0, output).toBe(0);
    generated = readdirSync(join(dir, "src", "__generated__")).sort();
  }, 120_000);

  it("compiles the account page (@connection, @refetchable), placeOrder and the invoice without a warning", () => {
    expect(output).toMatch(/Compilation completed/);
    expect(output, output).not.toMatch(WARNING);
    expect(output, output).not.toMatch(/\[ERROR\]/);
    expect(generated).toEqual([
      "AccountPageChildrenPaginationQuery.graphql.ts",
      "AccountPageQuery.graphql.ts",
      "AccountPage_children.graphql.ts",
      "InvoiceViewQuery.graphql.ts",
      "PlaceOrderMutation.graphql.ts",
    ]);
  });

  it("makes the children refetchable through Query.node (Account is a Node)", () => {
    const refetch = readFileSync(
      join(dir, "src", "__generated__", "AccountPageChildrenPaginationQuery.graphql.ts"),
      "utf8",
    );
    expect(refetch).toMatch(/node\(id: \$id\)/);
    expect(refetch).toMatch(/"name": "node"/);
  });
});

describe("GraphQL Code Generator (typescript-operations)", () => {
  const warnings: unknown[] = [];
  let output = "";
  beforeAll(async () => {
    const schemaText = readFileSync(join(root, "schema.graphql"), "utf8");
    const document = parse(readFileSync(join(fixtures, "operations.graphql"), "utf8"));
    const original = { warn: console.warn, log: console.log, error: console.error };
    console.warn = (...a: unknown[]) => void warnings.push(a);
    console.error = (...a: unknown[]) => void warnings.push(a);
    try {
      output = await codegen({
        filename: "operations.ts",
        schema: parse(schemaText),
        schemaAst: buildSchema(schemaText),
        documents: [{ location: "operations.graphql", document }],
        plugins: [{ typescriptOperations: {} }],
        pluginMap: { typescriptOperations: typescriptOperationsPlugin },
        config: {
          defaultScalarType: "unknown",
          scalars: { Currency: "string", CountryCode: "string", DateTime: "string", EmailAddress: "string" },
          useTypeImports: true,
        },
      });
    } finally {
      Object.assign(console, original);
    }
    mkdirSync(join(dir, "codegen"), { recursive: true });
    writeFileSync(join(dir, "codegen", "operations.ts"), output);
  }, 120_000);

  it("generates the operations' types without a warning", () => {
    expect(warnings).toEqual([]);
    for (const t of [
      "AccountPageQuery",
      "AccountPageQueryVariables",
      "PlaceOrderMutation",
      "PlaceOrderMutationVariables",
      "InvoiceViewQuery",
      "InvoiceViewQueryVariables",
    ]) {
      expect(output).toMatch(new RegExp(`export type ${t}\\b`));
    }
  });
});

describe("the generated code", () => {
  it("type-checks (strict), with code using it", async () => {
    copyFileSync(join(fixtures, "usage.ts"), join(dir, "usage.ts"));
    writeFileSync(
      join(dir, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: {
          target: "ES2022",
          module: "ESNext",
          moduleResolution: "Bundler",
          strict: true,
          noEmit: true,
          skipLibCheck: true,
          types: [],
          noUnusedLocals: true,
        },
        include: ["src/__generated__/*.ts", "codegen/*.ts", "usage.ts"],
      }),
    );
    const tsc = join(root, "node_modules", "typescript", "bin", "tsc");
    const r = await run(process.execPath, [tsc, "-p", join(dir, "tsconfig.json")], { cwd: dir }).catch(
      (e: { code: number; stdout: string; stderr: string }) => e,
    );
    expect(`${r.stdout}${r.stderr}`).toBe("");
    expect("code" in r ? r.code : 0).toBe(0);
  }, 120_000);
});
