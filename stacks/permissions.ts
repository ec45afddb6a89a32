import { ArnFormat } from "aws-cdk-lib";
import { Effect, PolicyStatement } from "aws-cdk-lib/aws-iam";
import type { StackContext } from "sst/constructs";
import type { QueueName, Grant } from "./grants.js";

/**
 * A role's table statements from its grant (stacks/grants.ts): its actions on the table, Query on
 * the indexes if granted, and the actions held only on given partitions (`dynamodb:LeadingKeys`).
 * Explicit actions instead of `bind([table])`, which would grant `dynamodb:*`.
 */
export function tableStatements(tableArn: string, grant: Grant): PolicyStatement[] {
  return [
    new PolicyStatement({ effect: Effect.ALLOW, actions: [...grant.table], resources: [tableArn] }),
    ...(grant.index.length > 0
      ? [new PolicyStatement({ effect: Effect.ALLOW, actions: [...grant.index], resources: [`${tableArn}/index/*`] })]
      : []),
    ...(grant.partitions
      ? [
          new PolicyStatement({
            effect: Effect.ALLOW,
            actions: [...grant.partitions.actions],
            resources: [tableArn],
            conditions: { "ForAllValues:StringEquals": { "dynamodb:LeadingKeys": [...grant.partitions.keys] } },
          }),
        ]
      : []),
  ];
}

/**
 * A role's SendMessage statement from its grant (stacks/grants.ts): the queues it sends to, by name,
 * and nothing else (no dead-letter queue: SQS's redrive fills them). SendMessage also authorises
 * SendMessageBatch.
 */
export function sendStatements(grant: Grant, queueArns: Partial<Record<QueueName, string>>): PolicyStatement[] {
  if (grant.sends.length === 0) return [];
  const resources = grant.sends.map((queue) => {
    const arn = queueArns[queue];
    if (arn === undefined) throw new Error(`the ${queue} queue's ARN was not passed`);
    return arn;
  });
  return [new PolicyStatement({ effect: Effect.ALLOW, actions: ["sqs:SendMessage"], resources })];
}

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
