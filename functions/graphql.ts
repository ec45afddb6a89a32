import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from "aws-lambda";
import { systemClock } from "../infra/clock.js";
import { loadConfig } from "../infra/config.js";
import { createTokenVerifier } from "../infra/auth.js";
import { IntegrationStore } from "../infra/integrations.js";
import { createDocumentClient } from "../infra/dynamo.js";
import { QueuedMailer } from "../infra/mail-queue.js";
import { SqsWorkQueue, lazySqsClient } from "../infra/queue.js";
import { sstSecret } from "../infra/secrets.js";
import { Store } from "../infra/store.js";
import { correlationIdOf, effectFailureReporter, powertoolsTelemetry } from "../infra/telemetry.js";
import type { Telemetry } from "../infra/telemetry.js";
import { TOKEN_PATH, createTokenHandler } from "../graphql/oauth.js";
import { createGraphQLServer } from "../graphql/server.js";
import { handleEvent } from "./http.js";
import { apiKeysLoader, deviceKeysLoader } from "./secret-keys.js";
import type { FetchServer } from "./http.js";

let server: FetchServer | undefined;
const telemetry = powertoolsTelemetry();

/**
 * Built once per container (cold start): config, clients, schema. Mail (invitations) is queued
 * for the mail worker; documents are served by the documents function: neither SES nor the PDF
 * renderer is in this bundle.
 */
function instance(): FetchServer {
  server ??= build();
  return server;
}

function build(): FetchServer {
  const config = loadConfig();
  if (!config.mailQueueUrl) throw new Error("Invalid configuration: MAIL_QUEUE_URL");
  const client = createDocumentClient({
    region: config.region,
    ...(config.dynamoEndpoint ? { endpoint: config.dynamoEndpoint } : {}),
  });
  const sqs = lazySqsClient({ region: config.region });
  const deps = {
    store: new Store(client, config.tableName),
    clock: systemClock,
    mailer: new QueuedMailer(new SqsWorkQueue(sqs, config.mailQueueUrl)),
    portalUrl: config.portalUrl,
    effectFailed: effectFailureReporter(telemetry),
    // Signs and checks device credentials (equipment pairing); from the DEVICE_SIGNING_KEY secret.
    deviceKeys: deviceKeysLoader(config.deviceSigningKey),
    // API clients, events and webhooks; the API key from the API_SIGNING_KEY secret.
    integrations: {
      store: new IntegrationStore(client, config.tableName),
      keys: apiKeysLoader(config.apiSigningKey),
      ...(config.deliveryQueueUrl ? { deliveries: new SqsWorkQueue(sqs, config.deliveryQueueUrl) } : {}),
    },
  };
  const token = createTokenHandler(deps);
  const yoga = createGraphQLServer({
    deps,
    authenticate: createTokenVerifier(config.auth),
    // GraphiQL is the local stack's (its assets would not fit this bundle); in AWS use any client against the endpoint.
    graphiql: false,
    introspection: config.introspection,
    requestBudget: config.requestBudget,
    telemetry,
    // Seals the cursors of paged lists: the SST secret CURSOR_SECRET, read on the first paged list.
    cursorSecret: async () => {
      const secret = await sstSecret("CURSOR_SECRET");
      if (secret === undefined) throw new Error("Invalid configuration: the CURSOR_SECRET secret is not bound");
      return secret;
    },
  });
  // POST /oauth/token (API clients) beside the GraphQL endpoint, same function.
  return {
    fetch: (url, init) =>
      new URL(url).pathname === TOKEN_PATH ? token(new Request(url, init)) : yoga.fetch(url, init),
  };
}

/** One invocation: its request and correlation ids on every log line, its metrics published at the end. */
export async function serve(
  s: FetchServer,
  t: Telemetry,
  event: APIGatewayProxyEventV2,
  context?: Context,
): Promise<APIGatewayProxyStructuredResultV2> {
  const requestId = event.requestContext.requestId;
  t.beginInvocation({
    requestId,
    correlationId: correlationIdOf(event.headers?.["x-correlation-id"]) ?? requestId,
    ...(context ? { lambdaContext: context } : {}),
  });
  try {
    return await handleEvent(s, event);
  } finally {
    t.endInvocation();
  }
}

export const handler = (event: APIGatewayProxyEventV2, context?: Context) =>
  serve(instance(), telemetry, event, context);
