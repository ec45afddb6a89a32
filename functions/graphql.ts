import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import { systemClock } from "../infra/clock.js";
import { loadConfig } from "../infra/config.js";
import { createTokenVerifier } from "../infra/auth.js";
import { createDeviceKeys } from "../infra/device-keys.js";
import { createDocumentClient } from "../infra/dynamo.js";
import { SesMailer } from "../infra/mail.js";
import { Store } from "../infra/store.js";
import { MAX_BODY_BYTES } from "../graphql/limits.js";
import { createGraphQLServer, tooLarge } from "../graphql/server.js";
import type { GraphQLServer } from "../graphql/server.js";

/** Converts an API Gateway HTTP API (v2) event to a Fetch request, runs Yoga, converts back. */
export async function handleEvent(server: GraphQLServer, event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> {
  const host = event.headers?.host ?? "localhost";
  const url = `https://${host}${event.rawPath}${event.rawQueryString ? `?${event.rawQueryString}` : ""}`;
  const headers = new Headers();
  for (const [k, v] of Object.entries(event.headers ?? {})) if (v !== undefined) headers.set(k, v);
  const method = event.requestContext.http.method;
  const body = event.body === undefined || method === "GET" || method === "HEAD" ? undefined : event.isBase64Encoded ? Buffer.from(event.body, "base64") : event.body;
  // API Gateway hands over the whole body: its real size is checked before Yoga parses anything.
  const response = body !== undefined && Buffer.byteLength(body) > MAX_BODY_BYTES ? tooLarge() : await server.fetch(url, { method, headers, ...(body !== undefined ? { body } : {}) });
  const out: Record<string, string> = {};
  response.headers.forEach((v, k) => {
    out[k] = v;
  });
  // Documents (invoice PDFs) travel base64-encoded through API Gateway; text stays text.
  const type = response.headers.get("content-type") ?? "";
  if (/^(text\/|application\/(json|graphql-response\+json))/.test(type) || type === "") {
    return { statusCode: response.status, headers: out, body: await response.text(), isBase64Encoded: false };
  }
  return { statusCode: response.status, headers: out, body: Buffer.from(await response.arrayBuffer()).toString("base64"), isBase64Encoded: true };
}

let server: GraphQLServer | undefined;

/** Built once per container (cold start): config, clients, schema. */
function instance(): GraphQLServer {
  if (server) return server;
  const config = loadConfig();
  const client = createDocumentClient({ region: config.region, ...(config.dynamoEndpoint ? { endpoint: config.dynamoEndpoint } : {}) });
  server = createGraphQLServer({
    deps: {
      store: new Store(client, config.tableName),
      clock: systemClock,
      mailer: new SesMailer(config.mailFrom, config.region),
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
