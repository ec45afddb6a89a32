import * as ApiClient from "../core/api-client.js";
import type { Deps } from "../core/context.js";

/** Where API clients get access tokens. */
export const TOKEN_PATH = "/oauth/token";
const MAX_BODY = 4096;

/** An RFC 6749 §5.2 error response (never cached, like every token response). */
function oauthError(
  status: number,
  error: string,
  description: string,
  headers: Record<string, string> = {},
): Response {
  return Response.json(
    { error, error_description: description },
    { status, headers: { "cache-control": "no-store", pragma: "no-cache", ...headers } },
  );
}

/** The client credentials in an `Authorization: Basic` header (RFC 6749 §2.3.1: form-urlencoded id and secret). */
function basicCredentials(header: string): { id: string; secret: string } | undefined {
  const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
  if (!m) return undefined;
  const decoded = Buffer.from(m[1]!, "base64").toString("utf8");
  const at = decoded.indexOf(":");
  if (at <= 0) return undefined;
  try {
    const plus = (v: string) => decodeURIComponent(v.replace(/\+/g, " "));
    return { id: plus(decoded.slice(0, at)), secret: plus(decoded.slice(at + 1)) };
  } catch {
    return undefined;
  }
}

/**
 * `POST /oauth/token`: the OAuth 2.0 client credentials grant (RFC 6749 §4.4). The client
 * authenticates with HTTP Basic or with `client_id`/`client_secret` in the form body (one method,
 * not both); errors are §5.2 JSON (invalid_request, invalid_client with 401, unsupported_grant_type).
 */
export function createTokenHandler(deps: Deps): (request: Request) => Promise<Response> {
  return async (request) => {
    if (request.method !== "POST") return oauthError(405, "invalid_request", "use POST", { allow: "POST" });
    const type = (request.headers.get("content-type") ?? "").split(";")[0]!.trim().toLowerCase();
    if (type !== "application/x-www-form-urlencoded")
      return oauthError(400, "invalid_request", "the body must be application/x-www-form-urlencoded");
    const text = await request.text();
    if (text.length > MAX_BODY) return oauthError(400, "invalid_request", "the body is too large");
    const form = new URLSearchParams(text);
    for (const name of ["grant_type", "client_id", "client_secret", "scope"]) {
      if (form.getAll(name).length > 1) return oauthError(400, "invalid_request", `${name} is repeated`);
    }
    const header = request.headers.get("authorization");
    const basic = header !== null ? basicCredentials(header) : undefined;
    if (header !== null && !basic)
      return oauthError(401, "invalid_client", "malformed Basic credentials", {
        "www-authenticate": 'Basic realm="oauth"',
      });
    const inBody = form.has("client_secret");
    if (basic && inBody) return oauthError(400, "invalid_request", "use one client authentication method");
    const grant = form.get("grant_type");
    if (!grant) return oauthError(400, "invalid_request", "grant_type is required");
    if (grant !== "client_credentials")
      return oauthError(400, "unsupported_grant_type", "only client_credentials is supported");
    const id = basic?.id ?? form.get("client_id") ?? "";
    const secret = basic?.secret ?? form.get("client_secret") ?? "";
    if (!id || !secret)
      return oauthError(401, "invalid_client", "client authentication is required", {
        "www-authenticate": 'Basic realm="oauth"',
      });
    try {
      const { accessToken, expiresIn } = await ApiClient.issueToken(deps, id, secret);
      return Response.json(
        { access_token: accessToken, token_type: "Bearer", expires_in: expiresIn },
        { headers: { "cache-control": "no-store", pragma: "no-cache" } },
      );
    } catch (err) {
      if (err instanceof ApiClient.TokenRequestRefused) {
        if (err.error === "rate_limited")
          return oauthError(429, "invalid_request", "too many token requests; retry later", {
            "retry-after": String(err.retryAfterSeconds ?? 60),
          });
        return oauthError(
          401,
          "invalid_client",
          "client authentication failed",
          basic ? { "www-authenticate": 'Basic realm="oauth"' } : {},
        );
      }
      if (err instanceof ApiClient.NotConfigured)
        return oauthError(503, "temporarily_unavailable", "API clients are not configured");
      throw err;
    }
  };
}
