/**
 * The scheduler's IAM role, checked against what the scheduler does. DynamoDB Local and fauxqs
 * have no IAM, so a grant the role lacks only shows once deployed (AccessDenied on every run). Here
 * every DynamoDB request of the scheduled runs (billing, lifecycle twice, liveness) is recorded as
 * the IAM actions it needs, item by item for transactions, and must fall within the role's grants
 * (stacks/grants.ts): reads anywhere, writes only to the lifecycle watermark's partition, which the
 * role's `dynamodb:LeadingKeys` condition names.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { SCHEDULED_THROUGH } from "../core/due.js";
import type { Deps } from "../core/context.js";
import { schedule } from "../core/jobs.js";
import { createDocumentClient } from "../infra/dynamo.js";
import { counterPartitionKey } from "../infra/entities/billing.js";
import { Store } from "../infra/store.js";
import { authorisationsOf } from "../local/iam.js";
import type { Authorisation } from "../local/iam.js";
import { GRANTS } from "../stacks/grants.js";
import { PLATFORM, startTestStack } from "./harness.js";
import type { TestStack } from "./harness.js";

describe("the scheduler's role allows what the scheduled runs do, and no write but the watermark", () => {
  let t: TestStack;
  const seen: Authorisation[] = [];
  let deps: Deps;
  const sent: Record<"billing" | "lifecycle", string[]> = { billing: [], lifecycle: [] };
  const queues = {
    billing: { send: async (bodies: readonly string[]) => void sent.billing.push(...bodies) },
    lifecycle: { send: async (bodies: readonly string[]) => void sent.lifecycle.push(...bodies) },
  };

  // Tomorrow; the first of the next month (its month is then closed); the day its idle customer's deletion is due and the next.
  const tomorrow = new Date(Date.now() + 86_400_000);
  const monthEnd = new Date(Date.UTC(tomorrow.getUTCFullYear(), tomorrow.getUTCMonth() + 1, 1));
  const at = {
    created: new Date(Date.UTC(tomorrow.getUTCFullYear(), tomorrow.getUTCMonth(), tomorrow.getUTCDate(), 9)),
    billing: new Date(monthEnd.getTime() + 5 * 60_000),
    period: tomorrow.toISOString().slice(0, 7),
    lifecycle: new Date(monthEnd.getTime() + 15 * 86_400_000 + 15 * 60_000),
    nextDay: new Date(monthEnd.getTime() + 16 * 86_400_000 + 15 * 60_000),
  };

  beforeAll(async () => {
    t = await startTestStack();
    // After the platform's creation (today): the first lifecycle run reads from that day on.
    await t.setClock(at.created);
    // Prepare: a billed party with a reseller and an idle customer below it (its deletion comes due).
    const distributorId = await t.createAccount({
      parentId: PLATFORM,
      kind: "DISTRIBUTOR",
      name: "Scheduler Distribution",
    });
    const resellerId = await t.createAccount({ parentId: distributorId, kind: "RESELLER", name: "Scheduler Reseller" });
    await t.createAccount({ parentId: resellerId, kind: "CUSTOMER", name: "Scheduler Customer" });
    // The scheduler's store records every request it sends, as the IAM actions it needs.
    const client = createDocumentClient({ region: "local", endpoint: inject("dynamoEndpoint") });
    client.middlewareStack.add(
      (next, context) => async (args) => {
        seen.push(...authorisationsOf(context.commandName ?? "", args.input as Record<string, unknown>));
        return next(args);
      },
      { step: "initialize", name: "recordAuthorisations" },
    );
    deps = {
      store: new Store(client, t.stack.store.tableName),
      clock: t.stack.clock,
      mailer: t.stack.outbox,
      portalUrl: "",
    };
  });
  afterAll(async () => {
    await t?.stop();
  });

  it("billing, lifecycle (first run, then the next day), liveness, a given month: reads, and Put/Update of the watermark only", async () => {
    // Act
    await t.setClock(at.billing);
    const billed = await schedule(deps, queues, "billing");
    await schedule(deps, queues, "billing", { period: at.period });
    await t.setClock(at.lifecycle);
    await schedule(deps, queues, "lifecycle");
    await t.setClock(at.nextDay);
    await schedule(deps, queues, "lifecycle");
    await schedule(deps, queues, "liveness");

    // Assess: the runs did their work (so their requests were recorded)...
    expect(billed).toBeGreaterThan(0);
    expect(sent.lifecycle.some((m) => m.includes('"retention"'))).toBe(true);
    expect(await t.stack.store.counterValue(SCHEDULED_THROUGH)).toBe(Math.floor(at.nextDay.getTime() / 86_400_000));
    // ...and each request is one the role grants: reads on the table, Query on the indexes...
    const writes = new Set<string>(GRANTS.scheduler.partitions.actions);
    const reads = seen.filter((a) => !writes.has(a.action));
    for (const a of reads) {
      if (a.index) expect(a.action).toBe("dynamodb:Query");
      else expect(GRANTS.scheduler.table).toContain(a.action);
    }
    // ...and writes (the watermark's Put on the first run, its Update on the next) to its partition only.
    const written = seen.filter((a) => writes.has(a.action));
    expect(written.map((a) => a.action)).toEqual(["dynamodb:PutItem", "dynamodb:UpdateItem"]);
    for (const a of written) expect(a.pk).toBe(counterPartitionKey(SCHEDULED_THROUGH));
  });
});
