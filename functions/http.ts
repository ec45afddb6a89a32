import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import { MAX_BODY_BYTES, tooLarge } from "../graphql/limits.js";

/** What serves a request: Yoga's `fetch`, or a plain fetch handler. */
export interface FetchServer {
  fetch(url: string, init: RequestInit): Response | Promise<Response>;
}

/** Converts an API Gateway HTTP API (v2) event to a Fetch request, runs the server, converts back. */
export async function handleEvent(
  server: FetchServer,
  event: APIGatewayProxyEventV2,
): Promise<APIGatewayProxyStructuredResultV2> {
  const host = event.headers?.host ?? "localhost";
  const url = `https://${host}${event.rawPath}${event.rawQueryString ? `?${event.rawQueryString}` : ""}`;
  const headers = new Headers();
  for (const [k, v] of Object.entries(event.headers ?? {})) if (v !== undefined) headers.set(k, v);
  // API Gateway's id of this request, for the logs (a client cannot choose it).
  headers.set("x-request-id", event.requestContext.requestId);
  const method = event.requestContext.http.method;
  const body =
    event.body === undefined || method === "GET" || method === "HEAD"
      ? undefined
      : event.isBase64Encoded
        ? Buffer.from(event.body, "base64")
        : event.body;
  // API Gateway hands over the whole body: its real size is checked before anything parses it.
  const response =
    body !== undefined && Buffer.byteLength(body) > MAX_BODY_BYTES
      ? tooLarge()
      : await server.fetch(url, { method, headers, ...(body !== undefined ? { body } : {}) });
  const out: Record<string, string> = {};
  response.headers.forEach((v, k) => {
    out[k] = v;
  });
  // Documents (invoice PDFs) travel base64-encoded through API Gateway; text stays text.
  const type = response.headers.get("content-type") ?? "";
  if (/^(text\/|application\/(json|graphql-response\+json))/.test(type) || type === "") {
    return { statusCode: response.status, headers: out, body: await response.text(), isBase64Encoded: false };
  }
  return {
    statusCode: response.status,
    headers: out,
    body: Buffer.from(await response.arrayBuffer()).toString("base64"),
    isBase64Encoded: true,
  };
}
