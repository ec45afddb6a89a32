/**
 * Webhook delivery benchmark: N orders placed over HTTP on the local stack (in-memory
 * DynamoDB Local, fauxqs), each an `order.placed` event delivered to a receiver on loopback through
 * the whole path: commit → DynamoDB Local's stream → the stream consumer (events, fan-out) → the
 * delivery queue → the webhook worker (lease, sealed secret, standardwebhooks signature, POST,
 * attempt record) → the receiver.
 *
 * Reported:
 *  1. commit-to-delivery latency p50/p99 with the orders placed as fast as the API answers (commit:
 *     when placeOrder answered, an upper bound of the commit, so latencies are slightly under-stated),
 *     and the end-to-end rate (bounded by the placement rate);
 *  2. the delivery path's throughput on its own: the same N events queued at once as delivery messages
 *     (as the fan-out writes them) to a second endpoint, until all arrived (lease, signature, POST,
 *     attempt record, with the local worker's 4 pollers);
 *  3. a raw path of the same shape: the same signed bodies sent to a fresh fauxqs queue, 4 pollers
 *     receiving 10 at a time, POSTing them in parallel and deleting them; the ratio raw throughput /
 *     delivery throughput (issue's goal: at most 2);
 *  4. the raw path again with the delivery's minimal DynamoDB requests on raw items (an endpoint read and
 *     a lease per message before the POSTs, each attempt's record and lease end after), written by hand
 *     with the document client: the ratio of that to the product is the product's own overhead.
 */
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
} from "@aws-sdk/client-sqs";
import { BatchGetCommand, PutCommand, TransactWriteCommand } from "@aws-sdk/lib-dynamodb";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { performance } from "node:perf_hooks";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { startLocalStack } from "../local/stack.js";
import { invitationToken } from "./common.js";

export interface WebhooksOptions {
  readonly orders: number;
  /** Orders in flight at once. */
  readonly concurrency: number;
  /** Customers the orders are spread over (one subscription each: no two orders race on one item). */
  readonly customers: number;
  readonly log?: (line: string) => void;
}
export const webhooksDefaults: WebhooksOptions = { orders: 1000, concurrency: 10, customers: 50 };

export interface WebhooksResult {
  readonly options: WebhooksOptions;
  readonly latencyMs: { readonly p50: number; readonly p90: number; readonly p99: number; readonly max: number };
  readonly placementPerSecond: number;
  /** End to end, first to last delivery while orders were being placed. */
  readonly endToEndPerSecond: number;
  /** The delivery path alone (messages queued at once). */
  readonly deliveryPerSecond: number;
  readonly rawPerSecond: number;
  readonly ratio: number;
  /** Raw with the delivery's minimal DynamoDB requests (lease before, record and lease end after). */
  readonly rawWritesPerSecond: number;
  readonly writesRatio: number;
  readonly attempts: number;
  readonly totalMs: number;
}

const OPERATOR = "operator@example.com";
const OWNER = "owner@bench-hooks.example";
const TRUNK = "RC-DRAAS-TRUNK-SUB";

const quantile = (sorted: readonly number[], q: number) =>
  sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;

export async function runWebhooksBench(options: Partial<WebhooksOptions> = {}): Promise<WebhooksResult> {
  const opts: WebhooksOptions = { ...webhooksDefaults, ...options };
  const log = opts.log ?? (() => undefined);
  const started = performance.now();
  // The receiver: arrival time by webhook-id, and the order each delivery names.
  const arrivals = new Map<string, { at: number; order: string; body: string; headers: Record<string, string> }>();
  let workerArrivals = 0;
  let onWorker: (() => void) | undefined;
  let onRaw: (() => void) | undefined;
  const receiver = createServer({ keepAliveTimeout: 30_000 }, (req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString()));
    req.on("end", () => {
      const at = performance.now();
      if (req.url === "/worker") {
        workerArrivals += 1;
        onWorker?.();
      } else if (req.url === "/raw") {
        onRaw?.();
      } else {
        const id = String(req.headers["webhook-id"]);
        const payload = JSON.parse(body) as { data: { resourceId: string } };
        if (!arrivals.has(id)) {
          const headers = Object.fromEntries(
            ["webhook-id", "webhook-timestamp", "webhook-signature"].map((h) => [h, String(req.headers[h])]),
          );
          arrivals.set(id, { at, order: payload.data.resourceId, body, headers });
        }
      }
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => receiver.listen(0, "127.0.0.1", r));
  const base = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
  const stack = await startLocalStack({
    inMemory: true,
    cron: false,
    tableName: `hooks-${Date.now().toString(36)}`,
    operatorEmail: OPERATOR,
  });
  try {
    const gql = async <T>(email: string, query: string, variables: Record<string, unknown>): Promise<T> => {
      const res = await fetch(stack.graphqlUrl, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${await token(email)}` },
        body: JSON.stringify({ query, variables }),
      });
      const out = (await res.json()) as {
        data?: { r?: { data?: T; code?: string; message?: string } };
        errors?: unknown;
      };
      if (!out.data?.r?.data) throw new Error(`${query.slice(0, 40)}: ${JSON.stringify(out).slice(0, 300)}`);
      return out.data.r.data;
    };
    const tokens = new Map<string, Promise<string>>();
    const token = (email: string) => {
      let t = tokens.get(email);
      if (!t) {
        t = stack.mint(email);
        tokens.set(email, t);
      }
      return t;
    };
    const mutation = (field: string, input: string, select: string) =>
      `mutation M($input: ${input}!) { r: ${field}(input: $input) { ... on Mutation${field[0]!.toUpperCase()}${field.slice(1)}Success { data { ${select} } } ... on Error { code message } } }`;

    // --- Seed: a distributor (its owner is a seller), customers below it, an endpoint taking order.placed.
    const platform = Buffer.from("Account:PLATFORM").toString("base64");
    const d = (
      await gql<{ account: { id: string } }>(
        OPERATOR,
        mutation("createAccount", "CreateAccountInput", "account { id }"),
        {
          input: {
            parentId: platform,
            kind: "DISTRIBUTOR",
            name: "Bench Hooks",
            country: "US",
            currency: "USD",
            owner: { email: OWNER },
          },
        },
      )
    ).account.id;
    const invitation = invitationToken(stack.outbox, OWNER);
    await gql(
      OWNER,
      `mutation A($t: String!) { r: acceptInvitation(token: $t) { ... on MutationAcceptInvitationSuccess { data { __typename } } ... on Error { code message } } }`,
      { t: invitation },
    );
    await gql(OPERATOR, mutation("setAvailableOffers", "SetAvailableOffersInput", "account { id }"), {
      input: { accountId: d, skus: [TRUNK] },
    });
    const customers: string[] = [];
    for (let c = 0; c < opts.customers; c++) {
      customers.push(
        (
          await gql<{ account: { id: string } }>(
            OWNER,
            mutation("createAccount", "CreateAccountInput", "account { id }"),
            { input: { parentId: d, kind: "CUSTOMER", name: `Bench customer ${c + 1}`, country: "US" } },
          )
        ).account.id,
      );
    }
    await gql(OWNER, mutation("createWebhookEndpoint", "CreateWebhookEndpointInput", "endpoint { id }"), {
      input: { accountId: d, url: `${base}/hooks`, eventTypes: ["order.placed"] },
    });
    await stack.events.drain();
    arrivals.clear();
    log(
      `webhooks: seeded 1 distributor, ${opts.customers} customers, 1 endpoint; placing ${opts.orders} orders, ${opts.concurrency} at a time`,
    );

    // --- Measure: orders placed as fast as the API answers; each committed order's time is its answer's.
    const committed = new Map<string, number>();
    let next = 0;
    const placeStart = performance.now();
    await Promise.all(
      Array.from({ length: opts.concurrency }, async () => {
        while (next < opts.orders) {
          const i = next++;
          const placed = await gql<{ order: { id: string } }>(
            OWNER,
            mutation("placeOrder", "PlaceOrderInput", "order { id }"),
            {
              input: {
                accountId: customers[i % customers.length],
                lines: [{ sku: TRUNK, quantity: 1 }],
                idempotencyKey: `bench-${i}`,
              },
            },
          );
          committed.set(placed.order.id, performance.now());
        }
      }),
    );
    const placeMs = performance.now() - placeStart;
    const deadline = Date.now() + 120_000;
    while (arrivals.size < opts.orders && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    if (arrivals.size < opts.orders)
      throw new Error(`only ${arrivals.size} of ${opts.orders} deliveries arrived in 2 minutes`);
    const latencies = [...arrivals.values()].map((a) => a.at - committed.get(a.order)!).sort((a, b) => a - b);
    const times = [...arrivals.values()].map((a) => a.at).sort((a, b) => a - b);
    const endToEndPerSecond = (opts.orders - 1) / ((times.at(-1)! - times[0]!) / 1000);
    const attempts = Object.values(stack.webhooks.stats.outcomes).reduce((a, b) => a + b, 0);
    log(
      `webhooks: ${opts.orders} delivered; p50 ${quantile(latencies, 0.5).toFixed(0)} ms, p99 ${quantile(latencies, 0.99).toFixed(0)} ms`,
    );

    // --- The delivery path alone: the same events queued at once for a second endpoint (it takes no event type
    // that happens here, so the fan-out sends it nothing else), as the fan-out would queue them.
    const second = (
      await gql<{ endpoint: { id: string } }>(
        OWNER,
        mutation("createWebhookEndpoint", "CreateWebhookEndpointInput", "endpoint { id }"),
        { input: { accountId: d, url: `${base}/worker`, eventTypes: ["usage.recorded"] } },
      )
    ).endpoint.id;
    const [, endpointId] = Buffer.from(second, "base64").toString("utf8").split(":").slice(1);
    await stack.events.drain();
    const stored = await Promise.all([...arrivals.keys()].map((eventId) => stack.integrations.getEvent(eventId)));
    const messages = stored.map((e) =>
      JSON.stringify({
        v: 1,
        accountId: Buffer.from(d, "base64").toString("utf8").split(":")[1],
        endpointId,
        eventId: e!.eventId,
        event: {
          type: e!.type,
          occurredAt: e!.occurredAt,
          accountId: e!.accountId,
          resourceType: e!.resourceType,
          resourceId: e!.resourceId,
        },
      }),
    );
    const workerDone = new Promise<void>((resolve) => {
      onWorker = () => {
        if (workerArrivals >= messages.length) resolve();
      };
    });
    const workerStart = performance.now();
    for (let i = 0; i < messages.length; i += 10) {
      await stack.jobs.sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: stack.jobs.webhookUrls.queue,
          Entries: messages.slice(i, i + 10).map((MessageBody, j) => ({ Id: String(j), MessageBody })),
        }),
      );
    }
    await workerDone;
    const deliveryPerSecond = messages.length / ((performance.now() - workerStart) / 1000);
    log(`webhooks: the delivery path alone: ${deliveryPerSecond.toFixed(0)}/s`);

    // --- Raw: the same bodies and headers, through a fresh fauxqs queue and one poller, POSTed in parallel per batch of 10.
    const payloads = [...arrivals.values()].map((a) => JSON.stringify({ body: a.body, headers: a.headers }));
    /**
     * The same bodies through a fresh fauxqs queue: 4 pollers receiving 10, POSTing them in parallel,
     * deleting them. With `writes`, each batch also makes the delivery's minimal DynamoDB requests on
     * raw items of the same table (no product code): one endpoint read and one TransactWriteItems
     * taking a conditional lease per message before the POSTs; one TransactWriteItems with each
     * message's attempt record and lease end after them.
     */
    const rawRun = async (writes: boolean): Promise<number> => {
      const sqs = stack.jobs.sqs;
      const queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: `raw-${Date.now().toString(36)}` })))
        .QueueUrl!;
      let arrived = 0;
      const done = new Promise<void>((resolve) => {
        onRaw = () => {
          arrived += 1;
          if (arrived >= payloads.length) resolve();
        };
      });
      const table = stack.store.tableName;
      const epKey = { pk: `raw-endpoint#${Date.now()}`, sk: "endpoint" };
      await stack.dynamo.send(
        new PutCommand({ TableName: table, Item: { ...epKey, url: `${base}/raw`, status: "ENABLED" } }),
      );
      const rawStart = performance.now();
      const sending = (async () => {
        for (let i = 0; i < payloads.length; i += 10) {
          await sqs.send(
            new SendMessageBatchCommand({
              QueueUrl: queueUrl,
              Entries: payloads.slice(i, i + 10).map((MessageBody, j) => ({ Id: String(j), MessageBody })),
            }),
          );
        }
      })();
      let handled = 0;
      const polling = Array.from({ length: 4 }, async () => {
        while (handled < payloads.length) {
          const out = await sqs.send(
            new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
          );
          const messages = out.Messages ?? [];
          if (messages.length === 0) {
            await new Promise((r) => setTimeout(r, 5));
            continue;
          }
          const now = new Date().toISOString();
          const lease = (m: (typeof messages)[number]) => ({ pk: `raw-lease#${m.MessageId}`, sk: "lease" });
          if (writes)
            await Promise.all([
              stack.dynamo.send(
                new BatchGetCommand({ RequestItems: { [table]: { Keys: [epKey], ConsistentRead: true } } }),
              ),
              stack.dynamo.send(
                new TransactWriteCommand({
                  TransactItems: messages.map((m) => ({
                    Update: {
                      TableName: table,
                      Key: lease(m),
                      UpdateExpression: "SET leaseToken = :t, leaseUntil = :u",
                      ConditionExpression:
                        "attribute_not_exists(deliveredAt) AND (attribute_not_exists(leaseUntil) OR leaseUntil < :now)",
                      ExpressionAttributeValues: { ":t": m.MessageId, ":u": now, ":now": now },
                    },
                  })),
                }),
              ),
            ]);
          await Promise.all(
            messages.map(async (m) => {
              const { body, headers } = JSON.parse(m.Body!) as { body: string; headers: Record<string, string> };
              const res = await fetch(`${base}/raw`, {
                method: "POST",
                headers: { ...headers, "content-type": "application/json" },
                body,
              });
              await res.arrayBuffer();
            }),
          );
          if (writes)
            await stack.dynamo.send(
              new TransactWriteCommand({
                TransactItems: messages.flatMap((m) => [
                  {
                    Put: {
                      TableName: table,
                      Item: {
                        pk: `raw-delivery#${epKey.pk}`,
                        sk: `${now}#${m.MessageId}`,
                        eventId: m.MessageId,
                        statusCode: 200,
                        latencyMs: 1,
                        succeeded: true,
                      },
                    },
                  },
                  {
                    Update: {
                      TableName: table,
                      Key: lease(m),
                      UpdateExpression: "SET deliveredAt = :now REMOVE leaseToken, leaseUntil",
                      ConditionExpression: "leaseToken = :t",
                      ExpressionAttributeValues: { ":t": m.MessageId, ":now": now },
                    },
                  },
                ]),
              }),
            );
          await sqs.send(
            new DeleteMessageBatchCommand({
              QueueUrl: queueUrl,
              Entries: messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })),
            }),
          );
          handled += messages.length;
        }
      });
      await Promise.all([sending, ...polling, done]);
      return payloads.length / ((performance.now() - rawStart) / 1000);
    };
    const rawPerSecond = await rawRun(false);
    const rawWritesPerSecond = await rawRun(true);
    return {
      options: opts,
      latencyMs: {
        p50: quantile(latencies, 0.5),
        p90: quantile(latencies, 0.9),
        p99: quantile(latencies, 0.99),
        max: latencies.at(-1)!,
      },
      placementPerSecond: opts.orders / (placeMs / 1000),
      endToEndPerSecond,
      deliveryPerSecond,
      rawPerSecond,
      ratio: rawPerSecond / deliveryPerSecond,
      rawWritesPerSecond,
      writesRatio: rawWritesPerSecond / deliveryPerSecond,
      attempts,
      totalMs: performance.now() - started,
    };
  } finally {
    await stack.stop();
    receiver.closeAllConnections();
    await new Promise<void>((r) => receiver.close(() => r()));
  }
}

/** The result as `npm run bench` prints it. */
export function reportWebhooks(r: WebhooksResult): string {
  return [
    "",
    `Webhooks: ${r.options.orders} orders (${r.options.concurrency} in flight, over ${r.options.customers} customers), each an order.placed delivery to a loopback receiver`,
    `  commit → delivery latency (ms): p50 ${r.latencyMs.p50.toFixed(0)}, p90 ${r.latencyMs.p90.toFixed(0)}, p99 ${r.latencyMs.p99.toFixed(0)}, max ${r.latencyMs.max.toFixed(0)}`,
    `  orders placed: ${r.placementPerSecond.toFixed(0)}/s; delivered end to end meanwhile: ${r.endToEndPerSecond.toFixed(0)}/s (${r.attempts} worker receives)`,
    `  the delivery path alone (${r.options.orders} messages queued at once, 4 pollers): ${r.deliveryPerSecond.toFixed(0)}/s`,
    `  raw SQS send + receive (4 pollers) + HTTP POST of the same payloads: ${r.rawPerSecond.toFixed(0)}/s`,
    `  ratio raw / delivery throughput: ${r.ratio.toFixed(2)} (goal <= 2: ${r.ratio <= 2 ? "met" : "NOT MET"})`,
    `  raw with the delivery's minimal DynamoDB requests (a lease per message before the POSTs, its record and end after): ${r.rawWritesPerSecond.toFixed(0)}/s`,
    `  ratio raw-with-writes / delivery throughput: ${r.writesRatio.toFixed(2)} (the product's own overhead over the same DynamoDB work)`,
    `  whole run ${(r.totalMs / 1000).toFixed(1)} s`,
    "",
  ].join("\n");
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const { values } = parseArgs({
    options: { orders: { type: "string" }, concurrency: { type: "string" }, customers: { type: "string" } },
  });
  const result = await runWebhooksBench({
    ...(values.orders ? { orders: Number(values.orders) } : {}),
    ...(values.concurrency ? { concurrency: Number(values.concurrency) } : {}),
    ...(values.customers ? { customers: Number(values.customers) } : {}),
    log: (l) => console.log(l),
  });
  console.log(reportWebhooks(result));
}
