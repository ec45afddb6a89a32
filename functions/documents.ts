import type { APIGatewayProxyEventV2 } from "aws-lambda";
import { createDownloadsHandler } from "../graphql/downloads.js";
import { createTokenVerifier } from "../infra/auth.js";
import { systemClock } from "../infra/clock.js";
import { loadConfig } from "../infra/config.js";
import { createDocumentClient } from "../infra/dynamo.js";
import { IntegrationStore } from "../infra/integrations.js";
import { Store } from "../infra/store.js";
import { handleEvent } from "./http.js";
import type { FetchServer } from "./http.js";
import { apiKeysLoader } from "./secret-keys.js";

let server: FetchServer | undefined;

/**
 * `GET /invoices/{file}`: invoice PDFs and CSVs, for the tokens the GraphQL function takes and with
 * the same rights: a user's, and an API client's (checked with the API_SIGNING_KEY secret, counted
 * against the client's rate limit). A PBX's credential has no right to invoices and no key here: 401.
 */
function instance(): FetchServer {
  if (server) return server;
  const config = loadConfig();
  const client = createDocumentClient({
    region: config.region,
    ...(config.dynamoEndpoint ? { endpoint: config.dynamoEndpoint } : {}),
  });
  const download = createDownloadsHandler({
    deps: {
      store: new Store(client, config.tableName),
      clock: systemClock,
      // Downloads never mail.
      mailer: { send: () => Promise.reject(new Error("the documents function sends no mail")) },
      portalUrl: config.portalUrl,
      integrations: {
        store: new IntegrationStore(client, config.tableName),
        keys: apiKeysLoader(config.apiSigningKey),
      },
    },
    authenticate: createTokenVerifier(config.auth),
    issuer: config.invoiceIssuer,
  });
  server = { fetch: (url, init) => download(new Request(url, init)) };
  return server;
}

export const handler = (event: APIGatewayProxyEventV2) => handleEvent(instance(), event);
