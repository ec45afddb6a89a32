import { RemovalPolicy } from "aws-cdk-lib";
import { BillingMode } from "aws-cdk-lib/aws-dynamodb";
import { Table } from "sst/constructs";
import type { StackContext, TableProps } from "sst/constructs";
import { tableSchema } from "../infra/table-schema.js";

/** Stages whose data is kept on removal (RETAIN) and protected against deletion. */
export const PRODUCTION_STAGES: readonly string[] = ["prod", "production"];

export function isProductionStage(stage: string): boolean {
  return PRODUCTION_STAGES.includes(stage);
}

/**
 * The single DynamoDB table, built from `infra/table-schema.ts` so that the deployed table,
 * the local table and the test tables all have exactly the same keys and indexes.
 */
export function Data({ stack, app }: StackContext) {
  const production = isProductionStage(app.stage);

  const globalIndexes: NonNullable<TableProps["globalIndexes"]> = {};
  const fields: NonNullable<TableProps["fields"]> = {
    [tableSchema.partitionKey]: "string",
    [tableSchema.sortKey]: "string",
  };
  for (const [indexName, index] of Object.entries(tableSchema.globalIndexes)) {
    fields[index.partitionKey] = "string";
    fields[index.sortKey] = "string";
    globalIndexes[indexName] = {
      partitionKey: index.partitionKey,
      sortKey: index.sortKey,
      projection: "all",
    };
  }

  const table = new Table(stack, "table", {
    // Only key attributes are declared; DynamoDB is schemaless for everything else
    // (including the TTL attribute).
    fields,
    primaryIndex: { partitionKey: tableSchema.partitionKey, sortKey: tableSchema.sortKey },
    globalIndexes,
    timeToLiveAttribute: tableSchema.timeToLiveAttribute,
    // The change stream events are derived from: old and new images of every item.
    stream: "new_and_old_images",
    cdk: {
      table: {
        billingMode: BillingMode.PAY_PER_REQUEST,
        // SST passes the deprecated `pointInTimeRecovery: true`; CDK refuses both props at
        // once, so clear it and use the current `pointInTimeRecoverySpecification`.
        pointInTimeRecovery: undefined,
        pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
        removalPolicy: production ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
        deletionProtection: production,
      },
    },
  });

  // Its consumer (events, webhook fan-out) is in the Webhooks stack, beside the delivery queue it sends to.
  stack.addOutputs({ TableName: table.tableName });

  return { table };
}
