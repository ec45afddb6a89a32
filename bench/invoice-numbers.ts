/**
 * Invoice numbers under contention: `npx tsx bench/invoice-numbers.ts --parties 500 --concurrency 500`.
 *
 * Every issuer's invoices take the next number of one counter, in the same transaction as the
 * invoice, conditioned on the counter being where the finaliser read it (gap-free by
 * construction). This measures what that costs when many parties' months are finalised at once,
 * as the billing workers do on the 1st: N distributors, each with one customer and one monthly
 * subscription, are seeded through the core functions and planned and billed (one chunk each);
 * then the N finalisers run with the given concurrency against DynamoDB Local. Reported: retries
 * of the number transaction per invoice, the finalisers that gave up (their SQS message would be
 * redelivered), the wall time, and whether the numbers are contiguous.
 */
import { parseArgs } from "node:util";
import { performance } from "node:perf_hooks";
import { invitationToken } from "./common.js";

const { values } = parseArgs({
  options: {
    parties: { type: "string", default: "500" },
    concurrency: { type: "string", default: "500" },
  },
});
const parties = Number(values.parties);
const concurrency = Number(values.concurrency);
if (!Number.isInteger(parties) || parties < 1) throw new Error("--parties must be an integer >= 1");
if (!Number.isInteger(concurrency) || concurrency < 1) throw new Error("--concurrency must be an integer >= 1");

const OPERATOR = "operator@numbers.bench.example";
const SKU = "NUM-BENCH-SEAT";
const PERIOD = "2026-10";

const [{ startLocalStack }, Account, Acceptance, Billing, Catalog, { Session }, { PLATFORM_ID }] = await Promise.all([
  import("../local/stack.js"),
  import("../core/account.js"),
  import("../core/acceptance.js"),
  import("../core/billing.js"),
  import("../core/catalog.js"),
  import("../core/context.js"),
  import("../core/rights.js"),
]);

const stack = await startLocalStack({
  inMemory: true,
  cron: false,
  tableName: `numbers-${Date.now().toString(36)}`,
  operatorEmail: OPERATOR,
});
try {
  await stack.clock.set(new Date("2026-10-02T09:00:00.000Z"));
  const deps = {
    store: stack.store,
    clock: stack.clock,
    mailer: stack.outbox,
    portalUrl: "http://localhost:3000",
    // The seeding invites one owner per distributor from the platform account: past its hourly allowance.
    rateLimits: { invitation: { max: 1_000_000, windowSeconds: 3600 } },
  };
  const as = (email: string) =>
    new Session(deps, { type: "user", subject: `local|${email}`, email, emailVerified: true });
  const system = new Session(deps, { type: "system", job: "billing" });
  const accept = (email: string) => Acceptance.accept(as(email), invitationToken(stack.outbox, email));

  const t0 = performance.now();
  await Catalog.seed(deps, [
    { sku: SKU, name: "Numbers bench seat", kind: "MONTHLY", family: SKU, unitPrice: "3.00", currency: "EUR" },
  ]);
  const ids: string[] = [];
  // Seeded a few parties at a time (the platform's child count is one item).
  for (let i = 0; i < parties; i += 10) {
    const batch = Array.from({ length: Math.min(10, parties - i) }, (_v, k) => i + k);
    for (const n of batch) {
      const owner = `owner@d${n}.numbers.bench.example`;
      const d = (
        await Account.create(as(OPERATOR), {
          parentId: PLATFORM_ID,
          kind: "DISTRIBUTOR",
          name: `Numbers Distributor ${n}`,
          country: "GB",
          currency: "EUR",
          owner: { email: owner },
        })
      ).account;
      await Catalog.setAvailable(as(OPERATOR), { accountId: d.id, skus: [SKU] });
      ids.push(d.id);
    }
    await Promise.all(
      batch.map(async (n) => {
        const owner = `owner@d${n}.numbers.bench.example`;
        await accept(owner);
        await Account.create(as(owner), {
          parentId: ids[n]!,
          kind: "CUSTOMER",
          name: `Numbers Customer ${n}`,
          country: "GB",
          owner: { email: `owner@c${n}.numbers.bench.example` },
          order: { lines: [{ sku: SKU, quantity: 1 + (n % 7) }], idempotencyKey: `numbers-${n}` },
        });
      }),
    );
  }
  // October ends; each party's month is planned and billed (one chunk each), not yet finalised.
  await stack.clock.set(new Date("2026-11-01T00:05:00.000Z"));
  for (const id of ids) {
    const p = await Billing.plan(system, id, PERIOD, Billing.DEFAULT_CHUNK_SIZE);
    if (p.outcome !== "planned") throw new Error(`plan ${id}: ${p.outcome}`);
    const r = await Billing.billChunk(system, id, PERIOD, 0);
    if (!r.allDone) throw new Error(`party ${id}: more than one chunk`);
  }
  const seedMs = performance.now() - t0;

  // The finalisers, `concurrency` at a time; each takes the next number.
  Billing.numberContention.invoices = 0;
  Billing.numberContention.retries = 0;
  let gaveUp = 0;
  const queue = [...ids];
  const t1 = performance.now();
  await Promise.all(
    Array.from({ length: Math.min(concurrency, ids.length) }, async () => {
      for (let id = queue.shift(); id !== undefined; id = queue.shift()) {
        try {
          await Billing.finalise(system, id, PERIOD);
        } catch {
          gaveUp += 1;
        }
      }
    }),
  );
  const finaliseMs = performance.now() - t1;
  const numbers = (await Promise.all(ids.map((id) => stack.store.getInvoice(id, PERIOD))))
    .flatMap((inv) => (inv ? [Number(inv.number.replace(/\D/g, ""))] : []))
    .sort((a, b) => a - b);
  const contiguous =
    numbers.length > 0 &&
    numbers.at(-1)! - numbers[0]! + 1 === numbers.length &&
    new Set(numbers).size === numbers.length;
  const { invoices, retries } = Billing.numberContention;
  console.log(
    `Invoice numbers: ${parties} parties finalised ${concurrency} at a time (DynamoDB Local, ${process.version})`,
  );
  console.log(`  seeding and billing the chunks: ${(seedMs / 1000).toFixed(1)} s`);
  console.log(
    `  finalisers: ${(finaliseMs / 1000).toFixed(1)} s; ${invoices} attempts to issue, ${numbers.length} invoices`,
  );
  console.log(`  number-transaction retries: ${retries} (${(retries / Math.max(1, invoices)).toFixed(2)} per invoice)`);
  console.log(`  finalisers that gave up (SQS would redeliver them): ${gaveUp}`);
  console.log(`  numbers contiguous and unique: ${contiguous ? "yes" : "NO"} (${numbers[0]}..${numbers.at(-1)})`);
  if (!contiguous || numbers.length + gaveUp !== parties) process.exitCode = 1;
} finally {
  await stack.stop();
}
