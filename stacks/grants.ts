import { SCHEDULED_THROUGH } from "../core/due.js";
import { counterPartitionKey } from "../infra/entities/billing.js";

/**
 * What each function's role may do on the table, as data: the stacks build their IAM policies from
 * it, and the local stack enforces it on every DynamoDB request a function makes (local/iam.ts), so
 * a request the deployed role would refuse (AccessDenied) fails the tests instead. No CDK here: the
 * local stack loads this module.
 */
export interface TableGrant {
  /** Item actions on the base table, anywhere in it. */
  readonly table: readonly string[];
  /** Actions on the global secondary indexes (only Query exists for them). */
  readonly index: readonly string[];
  /** Item actions allowed only on items of these partitions (`dynamodb:LeadingKeys`). */
  readonly partitions?: { readonly actions: readonly string[]; readonly keys: readonly string[] };
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

/** Every function with table access, by role. No Scan anywhere: every access path is a key lookup or a Query. */
export const GRANTS = {
  /**
   * The API: items one by one and in transactions, plus BatchWriteItem: removing a PBX deletes its
   * tenants and extension associations, and a detach deletes a tenant's many associations, in
   * batches (core/equipment/pairing.ts, tenants.ts).
   */
  graphql: { table: [...TABLE_ACTIONS, "dynamodb:BatchWriteItem"], index: INDEX_ACTIONS },
  /** Invoice files: reads, and the UpdateItem of an API client's rate counter. */
  documents: {
    table: ["dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query", "dynamodb:UpdateItem"],
    index: INDEX_ACTIONS,
  },
  /** The billing and lifecycle workers: invoice lines and expired items go in batches. */
  worker: { table: [...TABLE_ACTIONS, "dynamodb:BatchWriteItem"], index: INDEX_ACTIONS },
  /** The mail worker sends what its queue holds: no table access. */
  mailWorker: { table: [], index: [] },
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
  },
  /** The webhook worker: leases, attempts and endpoint state, one by one and in transactions. */
  webhookWorker: { table: TABLE_ACTIONS, index: INDEX_ACTIONS },
} as const satisfies Record<string, TableGrant>;

export type FunctionRole = keyof typeof GRANTS;
