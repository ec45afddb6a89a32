import { API_SETTINGS, INVOICE_FONTS, ISSUER_SETTINGS, PORTAL_SETTINGS, stageSettings } from "./function-defaults.js";
import { Config, Api as HttpApi, Function as LambdaFunction, use } from "sst/constructs";
import type { StackContext } from "sst/constructs";
import { Data } from "./Data.js";
import { GRANTS } from "./grants.js";
import { sendStatements, tableStatements } from "./permissions.js";
import { Jobs } from "./Jobs.js";
import { Webhooks } from "./Webhooks.js";

/** The GraphQL function's timeout; API Gateway's own limit is 30 s. */
export const API_TIMEOUT_SECONDS = 10;

export function Api({ stack, app }: StackContext) {
  const { table } = use(Data);
  const { mail } = use(Jobs);
  const webhooks = use(Webhooks);

  // What both API functions need: the table and the token checks.
  const common = {
    TABLE_NAME: table.tableName,
    STAGE: app.stage,
    AUTH_JWKS_URL: process.env.AUTH_JWKS_URL ?? "https://auth.example.com/.well-known/jwks.json",
    AUTH_ISSUER: process.env.AUTH_ISSUER ?? "https://auth.example.com/",
    AUTH_AUDIENCE: process.env.AUTH_AUDIENCE ?? "channel-partner-api",
  };
  const environment = {
    ...common,
    // Invitation mails are queued; the mail worker (Jobs stack) sends them.
    MAIL_QUEUE_URL: mail.queue.queueUrl,
    // Test events and redeliveries are queued for the webhook worker (Webhooks stack).
    DELIVERY_QUEUE_URL: webhooks.queue.queueUrl,
    ...(process.env.GRAPHQL_INTROSPECTION === "true" ? { GRAPHQL_INTROSPECTION: "true" } : {}),
    ...stageSettings(API_SETTINGS),
    ...stageSettings(PORTAL_SETTINGS),
  };

  // One function serves the GraphQL endpoint (POST for queries and mutations, GET for GET
  // queries) and the health check. It bundles neither SES nor the PDF renderer.
  const graphql = new LambdaFunction(stack, "graphql", {
    handler: "functions/graphql.handler",
    timeout: API_TIMEOUT_SECONDS,
    memorySize: 1024,
    environment,
  });

  // Invoice documents (PDF, CSV): their own function, so pdf-lib never weighs on GraphQL cold starts.
  const documents = new LambdaFunction(stack, "documents", {
    handler: "functions/documents.handler",
    copyFiles: INVOICE_FONTS,
    timeout: API_TIMEOUT_SECONDS,
    memorySize: 1024,
    // No mail queue and no device key: documents neither mail nor pair equipment.
    environment: {
      ...common,
      INVOICE_ISSUER_NAME: process.env.INVOICE_ISSUER_NAME ?? "Channel Partner Platform",
      ...stageSettings(ISSUER_SETTINGS),
    },
  });

  // The equipment key (private ES256 JWK: signs device credentials, keys activation-code digests)
  // is an SST secret: an SSM SecureString set with `npx sst secrets set DEVICE_SIGNING_KEY '<jwk>'`,
  // fetched and decrypted at cold start. Never an environment variable, which anyone allowed to read
  // the function's configuration could read.
  graphql.bind([new Config.Secret(stack, "DEVICE_SIGNING_KEY")]);
  // The API's own key: signs API client access tokens and seals webhook secrets. Same
  // kind of secret as the device key, set with `npx sst secrets set API_SIGNING_KEY '<jwk>'`.
  graphql.bind([webhooks.signingKey]);
  // The cursor secret (seals the cursors of paged lists) likewise, read on the first paged list.
  graphql.bind([new Config.Secret(stack, "CURSOR_SECRET")]);
  // Least privilege (stacks/grants.ts); no Scan: every access path is a key lookup or a Query.
  graphql.attachPermissions([
    ...tableStatements(table.tableArn, GRANTS.graphql),
    ...sendStatements(GRANTS.graphql, { mail: mail.queue.queueArn, deliveries: webhooks.queue.queueArn }),
  ]);
  // Documents take API clients' tokens too: the API key checks them, and each request counts
  // against the client's rate limit (one conditional UpdateItem on the client's item). Otherwise
  // they only read. No device key: a PBX has no right to invoices.
  documents.bind([webhooks.signingKey]);
  documents.attachPermissions(tableStatements(table.tableArn, GRANTS.documents));

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
      // OAuth 2.0 client credentials grant of API clients (RFC 6749 §4.4).
      "POST /oauth/token": graphql,
      // Invoice documents (PDF, CSV) beside /graphql, same bearer token.
      "GET /invoices/{file}": documents,
    },
  });

  stack.addOutputs({ ApiUrl: api.url });

  return { api, graphql, documents };
}
