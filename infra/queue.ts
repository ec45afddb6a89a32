import { SQSClient, SendMessageBatchCommand, SendMessageCommand } from "@aws-sdk/client-sqs";

/** The work-queue port: the scheduler enqueues units of work; SQS in AWS, fauxqs locally. */
export interface WorkQueue {
  send(bodies: readonly string[]): Promise<void>;
}

/** Sends to one SQS queue in batches of 10, resending entries SQS reports as failed. */
export class SqsWorkQueue implements WorkQueue {
  constructor(
    private readonly client: SQSClient,
    readonly url: string,
  ) {}

  /** Sends one message; answers its SQS message id. */
  async sendOne(body: string): Promise<string> {
    const out = await this.client.send(new SendMessageCommand({ QueueUrl: this.url, MessageBody: body }));
    if (!out.MessageId) throw new Error("SQS answered no message id");
    return out.MessageId;
  }

  async send(bodies: readonly string[]): Promise<void> {
    for (let i = 0; i < bodies.length; i += 10) {
      let entries = bodies.slice(i, i + 10).map((body, j) => ({ Id: String(j), MessageBody: body }));
      for (let attempt = 0; entries.length > 0; attempt++) {
        if (attempt > 5) throw new Error(`SQS kept refusing ${entries.length} messages`);
        const out = await this.client.send(new SendMessageBatchCommand({ QueueUrl: this.url, Entries: entries }));
        const failed = new Set((out.Failed ?? []).map((f) => f.Id));
        entries = entries.filter((e) => failed.has(e.Id));
        if (entries.length) await new Promise((r) => setTimeout(r, 20 * 2 ** attempt));
      }
    }
  }
}

export function createSqsClient(opts: { region: string; endpoint?: string }): SQSClient {
  return new SQSClient({
    region: opts.region,
    ...(opts.endpoint
      ? { endpoint: opts.endpoint, credentials: { accessKeyId: "local", secretAccessKey: "local" } }
      : {}),
  });
}
