import { SCHEDULED_THROUGH } from "../core/due.js";
import { counterPartitionKey } from "../infra/entities/billing.js";

/**
 * What each function's role may do on the table and the queues, as data: the stacks build their IAM
 * policies from it, and the local stack enforces it on every DynamoDB request and every message a
 * function sends (local/iam.ts), so a request the deployed role would refuse (AccessDenied) fails
 * the tests instead. No CDK here: the local stack loads this module.
 */
/** The work queues a function may send to (sqs:SendMessage, which also covers SendMessageBatch). */
export type QueueName = "billing" | "lifecycle" | "mail" | "deliveries";

/** One function's grant: its DynamoDB actions, the queues it sends to, whether it mails through SES. */
export interface Grant {
  /** Item actions on the base table, anywhere in it. */
  readonly table: readonly string[];
  /** Actions on the global secondary indexes (only Query exists for them). */
  readonly index: readonly string[];
  /** Item actions allowed only on items of these partitions (`dynamodb:LeadingKeys`). */
  readonly partitions?: { readonly actions: readonly string[]; readonly keys: readonly string[] };
  /** The queues it sends to (never a dead-letter queue: SQS's redrive fills those). */
  readonly sends: readonly QueueName[];
  /** Whether it sends mail through SES itself (the others queue their mails for the mail worker). */
  readonly mails?: true;
}

/** DynamoDB item actions of a function that reads and writes items one by one and in transactions. */
export const TABLE_ACTIONS = [
  "dynamodb:GetItem",
  "dynamodb:BatchGetItem",
  "dynamodb:Query",
  "dynamodb:PutItem",
  "dynamodb:UpdateItem",
  "dynamodb:DeleteItem",
  // TransactWriteItems / TransactGetItems are not IAM actions: a transaction is authorised
  // item by item through Put/Update/DeleteItem, GetItem and ConditionCheckItem.
  "dynamodb:ConditionCheckItem",
] as const;

/** Actions on the global secondary indexes: they can only be queried. */
export const INDEX_ACTIONS = ["dynamodb:Query"] as const;

/** Every function's grant, by role. No Scan anywhere: every access path is a key lookup or a Query. */
export const GRANTS = {
  /**
   * The API: items one by one and in transactions, plus BatchWriteItem: removing a PBX deletes its
   * tenants and extension associations, and a detach deletes a tenant's many associations, in
   * batches (core/equipment/pairing.ts, tenants.ts).
   */
  graphql: {
    table: [...TABLE_ACTIONS, "dynamodb:BatchWriteItem"],
    index: INDEX_ACTIONS,
    // Invitation mails; test events and redeliveries.
    sends: ["mail", "deliveries"],
  },
  /** Invoice files: reads, and the UpdateItem of an API client's rate counter. */
  documents: {
    table: ["dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query", "dynamodb:UpdateItem"],
    index: INDEX_ACTIONS,
    sends: [],
  },
  /**
   * The billing worker: invoice lines go in batches; a run goes on from message to message (each
   * chunk enqueues the next, the departed accounts' chunks, the finaliser, a catch-up's next month).
   */
  billingWorker: {
    table: [...TABLE_ACTIONS, "dynamodb:BatchWriteItem"],
    index: INDEX_ACTIONS,
    sends: ["billing"],
    // Each invoice with its PDF attached, through SES.
    mails: true,
  },
  /** The lifecycle worker: expired items go in batches; reminders are queued mails. */
  lifecycleWorker: {
    table: [...TABLE_ACTIONS, "dynamodb:BatchWriteItem"],
    index: INDEX_ACTIONS,
    sends: ["mail"],
    mails: true,
  },
  /** The mail worker sends what its queue holds through SES: no table access, no queue. */
  mailWorker: { table: [], index: [], sends: [], mails: true },
  /**
   * The scheduler reads to find what is due, and writes one item: the lifecycle watermark
   * (core/lifecycle.ts `dueSinceLastRun`'s commit, a Put the first time, then an Update, in a
   * TransactWriteItems, which IAM checks item by item). The workers do all the other writing.
   */
  scheduler: {
    table: ["dynamodb:Query", "dynamodb:GetItem", "dynamodb:BatchGetItem"],
    index: INDEX_ACTIONS,
    partitions: {
      actions: ["dynamodb:PutItem", "dynamodb:UpdateItem"],
      keys: [counterPartitionKey(SCHEDULED_THROUGH)],
    },
    // One message per unit of work.
    sends: ["billing", "lifecycle"],
  },
  /** The stream consumer reads accounts, people, clients and endpoints, and writes events. */
  streamConsumer: {
    table: [
      "dynamodb:BatchGetItem",
      "dynamodb:GetItem",
      "dynamodb:Query",
      "dynamodb:BatchWriteItem",
      "dynamodb:PutItem",
    ],
    index: [],
    // Each event's deliveries, one message per endpoint.
    sends: ["deliveries"],
  },
  /**
   * The webhook worker: leases, attempts and endpoint state, one by one and in transactions; the
   * owners of an endpoint it disables are mailed through the mail queue.
   */
  webhookWorker: { table: TABLE_ACTIONS, index: INDEX_ACTIONS, sends: ["mail"] },
} as const satisfies Record<string, Grant>;

export type FunctionRole = keyof typeof GRANTS;
