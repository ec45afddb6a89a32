import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestStack } from "./harness.js";
import type { TestStack } from "./harness.js";

/** `npm run demo` against a running local stack: the whole path to an invoice, printed as HTTP calls. */
const root = fileURLToPath(new URL("..", import.meta.url));
const run = promisify(execFile);

let t: TestStack;
let out: string;
let stdout = "";
beforeAll(async () => {
  t = await startTestStack();
  out = mkdtempSync(join(tmpdir(), "demo-"));
  await t.setClock("2026-10-05T10:00:00.000Z");
  ({ stdout } = await run(process.execPath, ["--import", "tsx", "local/demo.ts", "--url", t.url, "--out", out], {
    cwd: root,
  }));
}, 180_000);
afterAll(async () => {
  await t?.stop();
  rmSync(out, { recursive: true, force: true });
});

describe("npm run demo", () => {
  it("walks the path in order, one numbered step each", () => {
    const steps = [...stdout.matchAll(/^== \d+\. (.*)$/gm)].map((m) => m[1]!);
    expect(steps).toEqual([
      "The operator signs in (a local token from the stack's issuer)",
      "The operator creates a distributor billed in EUR, inviting its owner",
      "The operator sets the distributor's tax rate (20 % VAT)",
      "The operator makes two offers available to the distributor",
      "The distributor's owner signs in and accepts the invitation with their own token",
      "The distributor's owner creates a reseller (allowed to create accounts), inviting its owner",
      "The reseller's owner accepts the invitation",
      "The reseller's owner creates a customer and orders licences for it",
      "The clock moves to the next month (local only)",
      "Billing runs for 2026-10 (as the monthly schedule would: queue, workers, invoices, mails)",
      "The distributor's owner reads the invoice",
      "The distributor's owner downloads the invoice as PDF and CSV",
      "The events the path left, as the distributor's owner reads them (once the change stream is drained)",
    ]);
    expect(stdout).toMatch(/-> \d+ events: .*invoice\.issued x1/);
  });

  it("prints each call as a curl command against the stack", () => {
    const curls = stdout.split("\n").filter((l) => /\bcurl -s /.test(l));
    expect(curls.length).toBeGreaterThanOrEqual(16);
    for (const c of curls) expect(c).toContain(t.url);
    expect(stdout).toContain(`curl -s -X POST ${t.url}/dev/clock -d '{"now":"2026-11-01T00:10:00.000Z"}'`);
  });

  it("keeps each person's token in its own shell variable, and each call uses the right one", () => {
    const signIns = [...stdout.matchAll(/^(\w+_TOKEN)=\$\(curl .*"email":"([^"]+)"/gm)].map((m) => [m[1], m[2]]);
    expect(signIns.map(([v]) => v)).toEqual(["OPERATOR_TOKEN", "DISTRIBUTOR_OWNER_TOKEN", "RESELLER_OWNER_TOKEN"]);
    // The invoice is read and downloaded by the distributor's owner.
    const after = stdout.slice(stdout.indexOf("The distributor's owner reads the invoice"), stdout.indexOf("== 13."));
    const used = [...after.matchAll(/Bearer \$(\w+)/g)].map((m) => m[1]);
    expect(new Set(used)).toEqual(new Set(["DISTRIBUTOR_OWNER_TOKEN"]));
  });

  it("ends with the invoice total: 20 Enterprise and 10 Business for October at 20 % VAT, EUR 81.60", () => {
    // Rainbow's reseller prices (test/billing-flow.test.ts): 20 x Enterprise 56.00, 10 x Business 12.00.
    expect(stdout).toMatch(/net 68\.00, VAT 13\.60, total EUR 81\.60/);
    expect(stdout.trimEnd().split("\n").at(-1)).toMatch(/^Invoice INV\d{8} total: EUR 81\.60$/);
  });

  it("downloaded the invoice's PDF and CSV", () => {
    const files = [...stdout.matchAll(/^-> (\S+\.(?:pdf|csv)) \(/gm)].map((m) => m[1]!);
    expect(files).toHaveLength(2);
    const pdf = files.find((f) => f.endsWith(".pdf"))!;
    const csv = files.find((f) => f.endsWith(".csv"))!;
    expect(readFileSync(pdf).subarray(0, 5).toString()).toBe("%PDF-");
    expect(readFileSync(csv, "utf8")).toContain("56.00");
  });

  it("refuses clearly when no stack answers at --url", async () => {
    const r = await run(process.execPath, ["--import", "tsx", "local/demo.ts", "--url", "http://127.0.0.1:9"], {
      cwd: root,
    }).catch((e: { code: number; stderr: string }) => e);
    expect("code" in r ? r.code : 0).toBe(1);
    expect(r.stderr).toContain("No local stack answers at http://127.0.0.1:9 (GET /health). Start one with npm start.");
  });
});
