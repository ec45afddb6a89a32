import { ArnFormat } from "aws-cdk-lib";
import { Effect, PolicyStatement } from "aws-cdk-lib/aws-iam";
import type { StackContext } from "sst/constructs";

/** DynamoDB item actions the GraphQL function needs on the base table. */
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

/**
 * SES authorises sending against the verified identity that covers the From address: the address
 * identity if that one is verified, else its domain identity. Grant both ARNs (and nothing else) so
 * either verification works. ses:SendEmail covers the SES v2 SendEmail API (all content types);
 * ses:SendRawEmail covers the v1 raw API. If a configuration set is ever passed, its ARN must be
 * added here as well. Shared by every function that mails.
 */
export function sesSendStatement(stack: StackContext["stack"], mailFrom: string): PolicyStatement {
  const sender = parseMailFrom(mailFrom);
  return new PolicyStatement({
    effect: Effect.ALLOW,
    actions: ["ses:SendEmail", "ses:SendRawEmail"],
    resources: [sender.domain, sender.address].map((identity) =>
      stack.formatArn({
        service: "ses",
        resource: "identity",
        resourceName: identity,
        arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
      }),
    ),
  });
}

export function parseMailFrom(mailFrom: string): { address: string; domain: string } {
  const address = (/<([^>]+)>/.exec(mailFrom)?.[1] ?? mailFrom).trim();
  const domain = address.split("@")[1];
  if (!domain) throw new Error(`MAIL_FROM must be an email address, got "${mailFrom}"`);
  return { address, domain };
}
