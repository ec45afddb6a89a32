import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from "aws-lambda";
import type { JWK } from "jose";
import { systemClock } from "../infra/clock.js";
import { loadConfig } from "../infra/config.js";
import { createTokenVerifier } from "../infra/auth.js";
import { createApiKeys } from "../infra/api-keys.js";
import type { ApiKeys } from "../infra/api-keys.js";
import { createDeviceKeys } from "../infra/device-keys.js";
import { IntegrationStore } from "../infra/integrations.js";
import type { DeviceKeys } from "../infra/device-keys.js";
import { createDocumentClient } from "../infra/dynamo.js";
import { QueuedMailer } from "../infra/mail-queue.js";
import { SqsWorkQueue, lazySqsClient } from "../infra/queue.js";
import { sstSecret } from "../infra/secrets.js";
import { Store } from "../infra/store.js";
import { correlationIdOf, powertoolsTelemetry } from "../infra/telemetry.js";
import type { Telemetry } from "../infra/telemetry.js";
import { TOKEN_PATH, createTokenHandler } from "../graphql/oauth.js";
import { createGraphQLServer } from "../graphql/server.js";
import { handleEvent } from "./http.js";
import type { FetchServer } from "./http.js";

let server: FetchServer | undefined;
const telemetry = powertoolsTelemetry();

/**
 * The equipment key, read once per container when first needed (equipment calls only). Deployed, it
 * is the SST secret DEVICE_SIGNING_KEY (bound by the Api stack, an SSM SecureString); elsewhere the
 * DEVICE_SIGNING_KEY variable, if any. A failed read is retried by the next call that needs it.
 */
function deviceKeysLoader(fromEnvironment: JWK | undefined): () => Promise<DeviceKeys | undefined> {
  let loading: Promise<DeviceKeys | undefined> | undefined;
  const load = async (): Promise<DeviceKeys | undefined> => {
    const secret = await sstSecret("DEVICE_SIGNING_KEY");
    if (secret === undefined) return fromEnvironment ? createDeviceKeys(fromEnvironment) : undefined;
    const config = loadConfig({ ...process.env, DEVICE_SIGNING_KEY: secret });
    return config.deviceSigningKey ? createDeviceKeys(config.deviceSigningKey) : undefined;
  };
  return () =>
    (loading ??= load().catch((err: unknown) => {
      loading = undefined;
      throw err;
    }));
}

/** The API's own key (API client tokens, sealed webhook secrets): the SST secret API_SIGNING_KEY, read on first use. */
function apiKeysLoader(fromEnvironment: JWK | undefined): () => Promise<ApiKeys | undefined> {
  let loading: Promise<ApiKeys | undefined> | undefined;
  const load = async (): Promise<ApiKeys | undefined> => {
    const secret = await sstSecret("API_SIGNING_KEY");
    if (secret === undefined) return fromEnvironment ? createApiKeys(fromEnvironment) : undefined;
    const config = loadConfig({ ...process.env, API_SIGNING_KEY: secret });
    return config.apiSigningKey ? createApiKeys(config.apiSigningKey) : undefined;
  };
  return () =>
    (loading ??= load().catch((err: unknown) => {
      loading = undefined;
      throw err;
    }));
}

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
