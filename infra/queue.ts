import type * as SqsSdk from "@aws-sdk/client-sqs";
import type { SQSClient } from "@aws-sdk/client-sqs";

/**
 * The SQS SDK, loaded on the first send: the GraphQL function sends only for some mutations
 * (invitations, webhook test events), so its cold start does not load the SQS client.
 */
let sqsSdk: Promise<typeof SqsSdk> | undefined;
const loadSqs = () => (sqsSdk ??= import("@aws-sdk/client-sqs"));

/** The work-queue port: the scheduler enqueues units of work; SQS in AWS, fauxqs locally. Bodies are JSON texts. */
export interface WorkQueue {
  send(bodies: readonly string[]): Promise<void>;
}

/**
 * A JSON text as SQS takes any: the characters SQS refuses in a message body (U+FFFE and U+FFFF,
 * which `JSON.stringify` leaves as they are) and those above U+FFFF (emoji; fauxqs refuses them
 * though SQS does not) written as JSON `\uXXXX` escapes, so `JSON.parse` reads the same value back.
 * Other text stays as it is (an escape is six bytes). An invitation to an account named "Pizza 🍕"
 * was refused this way after it had committed.
 */
export function sqsSafeJson(body: string): string {
  return body.replace(/[\ud800-\udfff\ufffe\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

/** Sends to one SQS queue in batches of 10, resending entries SQS reports as failed. */
export class SqsWorkQueue implements WorkQueue {
  readonly #client: () => Promise<SQSClient>;

  /** `client`: an SQS client, or a loader of one (`lazySqsClient`). */
  constructor(
    client: SQSClient | (() => Promise<SQSClient>),
    readonly url: string,
  ) {
    this.#client = typeof client === "function" ? client : () => Promise.resolve(client);
  }

  /** Sends one message; answers its SQS message id. */
  async sendOne(body: string): Promise<string> {
    const [{ SendMessageCommand }, client] = await Promise.all([loadSqs(), this.#client()]);
    const out = await client.send(new SendMessageCommand({ QueueUrl: this.url, MessageBody: sqsSafeJson(body) }));
    if (!out.MessageId) throw new Error("SQS answered no message id");
    return out.MessageId;
  }

  async send(bodies: readonly string[]): Promise<void> {
    if (bodies.length === 0) return;
    const [{ SendMessageBatchCommand }, client] = await Promise.all([loadSqs(), this.#client()]);
    for (let i = 0; i < bodies.length; i += 10) {
      let entries = bodies.slice(i, i + 10).map((body, j) => ({ Id: String(j), MessageBody: sqsSafeJson(body) }));
      for (let attempt = 0; entries.length > 0; attempt++) {
        if (attempt > 5) throw new Error(`SQS kept refusing ${entries.length} messages`);
        const out = await client.send(new SendMessageBatchCommand({ QueueUrl: this.url, Entries: entries }));
        const failed = new Set((out.Failed ?? []).map((f) => f.Id));
        entries = entries.filter((e) => failed.has(e.Id));
        if (entries.length) await new Promise((r) => setTimeout(r, 20 * 2 ** attempt));
      }
    }
  }
}

/** An SQS client made on first use, with the SDK loaded then (see `loadSqs`). */
export function lazySqsClient(opts: { region: string; endpoint?: string }): () => Promise<SQSClient> {
  let client: Promise<SQSClient> | undefined;
  return () => (client ??= loadSqs().then(({ SQSClient }) => new SQSClient(sqsConfig(opts))));
}

/** The client's settings: the region, and for a local emulator its endpoint with dummy credentials. */
export function sqsConfig(opts: { region: string; endpoint?: string }) {
  return {
    region: opts.region,
    ...(opts.endpoint
      ? { endpoint: opts.endpoint, credentials: { accessKeyId: "local", secretAccessKey: "local" } }
      : {}),
  };
}
