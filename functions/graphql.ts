import type { APIGatewayProxyEventV2 } from "aws-lambda";
import { systemClock } from "../infra/clock.js";
import { loadConfig } from "../infra/config.js";
import { createTokenVerifier } from "../infra/auth.js";
import { createDeviceKeys } from "../infra/device-keys.js";
import { createDocumentClient } from "../infra/dynamo.js";
import { QueuedMailer } from "../infra/mail-queue.js";
import { SqsWorkQueue, createSqsClient } from "../infra/queue.js";
import { Store } from "../infra/store.js";
import { createGraphQLServer } from "../graphql/server.js";
import type { GraphQLServer } from "../graphql/server.js";
import { handleEvent } from "./http.js";

export { handleEvent } from "./http.js";

let server: GraphQLServer | undefined;

/**
 * Built once per container (cold start): config, clients, schema. Mail (invitations) is queued
 * for the mail worker; documents are served by the documents function: neither SES nor the PDF
 * renderer is in this bundle.
 */
function instance(): GraphQLServer {
  if (server) return server;
  const config = loadConfig();
  if (!config.mailQueueUrl) throw new Error("Invalid configuration: MAIL_QUEUE_URL");
  const client = createDocumentClient({ region: config.region, ...(config.dynamoEndpoint ? { endpoint: config.dynamoEndpoint } : {}) });
  server = createGraphQLServer({
    deps: {
      store: new Store(client, config.tableName),
      clock: systemClock,
      mailer: new QueuedMailer(new SqsWorkQueue(createSqsClient({ region: config.region }), config.mailQueueUrl)),
      portalUrl: config.portalUrl,
      // Signs and checks device credentials (equipment pairing); from the DEVICE_SIGNING_KEY secret.
      ...(config.deviceSigningKey ? { deviceKeys: createDeviceKeys(config.deviceSigningKey) } : {}),
    },
    authenticate: createTokenVerifier({ jwksUrl: config.auth.jwksUrl, issuer: config.auth.issuer, audience: config.auth.audience }),
    graphiql: process.env.GRAPHIQL === "true",
    introspection: config.introspection,
  });
  return server;
}

export const handler = (event: APIGatewayProxyEventV2) => handleEvent(instance(), event);
