import { ArnFormat } from "aws-cdk-lib";
import { Effect, PolicyStatement } from "aws-cdk-lib/aws-iam";
import { Api as HttpApi, Function as LambdaFunction, use } from "sst/constructs";
import type { StackContext } from "sst/constructs";
import { Data } from "./Data.js";

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

/** Extracts the bare address from `no-reply@x.com` or `Name <no-reply@x.com>`. */
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
      stack.formatArn({ service: "ses", resource: "identity", resourceName: identity, arnFormat: ArnFormat.SLASH_RESOURCE_NAME }),
    ),
  });
}

export function parseMailFrom(mailFrom: string): { address: string; domain: string } {
  const address = (/<([^>]+)>/.exec(mailFrom)?.[1] ?? mailFrom).trim();
  const domain = address.split("@")[1];
  if (!domain) throw new Error(`MAIL_FROM must be an email address, got "${mailFrom}"`);
  return { address, domain };
}

export function Api({ stack, app }: StackContext) {
  const { table } = use(Data);

  const mailFrom = process.env.MAIL_FROM ?? "no-reply@example.com";

  // One Lambda function serves every route: the GraphQL endpoint (POST for queries and
  // mutations, GET for persisted/GET queries) and the health check.
  const graphql = new LambdaFunction(stack, "graphql", {
    handler: "functions/graphql.handler",
    timeout: 10,
    memorySize: 1024,
    environment: {
      TABLE_NAME: table.tableName,
      STAGE: app.stage,
      AUTH_JWKS_URL: process.env.AUTH_JWKS_URL ?? "https://auth.example.com/.well-known/jwks.json",
      AUTH_ISSUER: process.env.AUTH_ISSUER ?? "https://auth.example.com/",
      AUTH_AUDIENCE: process.env.AUTH_AUDIENCE ?? "channel-partner-api",
      MAIL_FROM: mailFrom,
      // The equipment key (private ES256 JWK) for device credentials; set it in the deploying shell.
      ...(process.env.DEVICE_SIGNING_KEY ? { DEVICE_SIGNING_KEY: process.env.DEVICE_SIGNING_KEY } : {}),
    },
  });

  // Least privilege. `bind([table])` would grant `dynamodb:*` on the table, so grant the
  // exact actions instead. No Scan: every access path is a key lookup or a Query.
  graphql.attachPermissions([
    new PolicyStatement({
      effect: Effect.ALLOW,
      actions: [...TABLE_ACTIONS],
      resources: [table.tableArn],
    }),
    new PolicyStatement({
      effect: Effect.ALLOW,
      actions: [...INDEX_ACTIONS],
      resources: [`${table.tableArn}/index/*`],
    }),
    sesSendStatement(stack, mailFrom),
  ]);

  const api = new HttpApi(stack, "api", {
    cors: {
      allowMethods: ["GET", "POST"],
      allowHeaders: ["authorization", "content-type"],
      allowOrigins: (process.env.CORS_ALLOW_ORIGINS ?? "*").split(",").map((origin) => origin.trim()),
      maxAge: "1 day",
    },
    defaults: {
      // Default route throttling on the $default stage (requests per second / burst).
      throttle: { rate: 100, burst: 200 },
    },
    routes: {
      "POST /graphql": graphql,
      "GET /graphql": graphql,
      "GET /health": graphql,
      // Invoice documents (PDF, CSV) beside /graphql, same function, same bearer token.
      "GET /invoices/{file}": graphql,
    },
  });

  stack.addOutputs({ ApiUrl: api.url });

  return { api, graphql };
}
