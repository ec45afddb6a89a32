import type { APIGatewayProxyEventV2 } from "aws-lambda";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { handleEvent } from "../functions/http.js";
import { createGraphQLServer } from "../graphql/server.js";
import type { GraphQLServer } from "../graphql/server.js";
import { createTokenVerifier } from "../infra/auth.js";
import { lambdaEvent, startTestStack } from "./harness.js";
import type { TestStack } from "./harness.js";

/** The Lambda path: API Gateway v2 events through the same Yoga and the same JWT verification. */
describe("functions/graphql handler", () => {
  let t: TestStack;
  let server: GraphQLServer;

  beforeAll(async () => {
    t = await startTestStack();
    // The Lambda instance verifies tokens against the local issuer's JWKS over HTTP, as it would against a real IdP.
    server = createGraphQLServer({
      deps: {
        store: t.stack.store,
        clock: t.stack.clock,
        mailer: t.stack.outbox,
        portalUrl: "https://portal.example.com",
      },
      authenticate: createTokenVerifier({
        jwksUrl: `${t.url}/.well-known/jwks.json`,
        issuer: `${t.url}/`,
        audience: "channel-partner-api",
        algorithms: ["ES256"],
      }),
      graphiql: false,
    });
  });
  afterAll(async () => {
    await t?.stop();
  });

  const event = (body: string, headers: Record<string, string> = {}): APIGatewayProxyEventV2 =>
    lambdaEvent({ body, headers });

  const query = JSON.stringify({ query: "{ viewer { email memberships { role account { name kind } } } }" });

  it("answers a valid token exactly as the local server does", async () => {
    const token = await t.token("operator@example.com");
    const res = await handleEvent(server, event(query, { authorization: `Bearer ${token}` }));
    const local = await t.gql(
      "operator@example.com",
      "{ viewer { email memberships { role account { name kind } } } }",
    );
    expect(res.statusCode).toBe(200);
    expect(JSON.parse(res.body ?? "")).toEqual({ data: local.data });
    expect(local.data).toEqual({
      viewer: {
        email: "operator@example.com",
        memberships: [{ role: "OWNER", account: { name: "Platform", kind: "PLATFORM" } }],
      },
    });
  });

  it("accepts a base64-encoded body", async () => {
    const token = await t.token("operator@example.com");
    const e = {
      ...event(Buffer.from(query).toString("base64"), { authorization: `Bearer ${token}` }),
      isBase64Encoded: true,
    };
    const res = await handleEvent(server, e);
    expect(res.statusCode).toBe(200);
    expect(JSON.parse(res.body ?? "").data.viewer.email).toBe("operator@example.com");
  });

  it("gives 401 without a token for an operation that needs one", async () => {
    const res = await handleEvent(server, event(query));
    expect(res.statusCode).toBe(401);
    expect(JSON.parse(res.body ?? "").errors[0].extensions.code).toBe("UNAUTHENTICATED");
  });

  it("gives 401 for a bad, tampered or expired token, and never reaches a resolver", async () => {
    const good = await t.token("operator@example.com");
    const [h, p, s] = good.split(".");
    const payload = JSON.parse(Buffer.from(p!, "base64url").toString()) as Record<string, unknown>;
    const tampered = `${h}.${Buffer.from(JSON.stringify({ ...payload, email: "someone@else.example" })).toString("base64url")}.${s}`;
    const expired = await t.stack.mint("operator@example.com", { ttlSeconds: -60 });
    for (const bad of ["not-a-jwt", tampered, expired, `${h}.${p}.`]) {
      const res = await handleEvent(server, event(query, { authorization: `Bearer ${bad}` }));
      expect(res.statusCode).toBe(401);
      expect(JSON.parse(res.body ?? "")).toMatchObject({ errors: [{ extensions: { code: "UNAUTHENTICATED" } }] });
      expect(JSON.parse(res.body ?? "").data ?? null).toBeNull();
    }
    const basic = await handleEvent(server, event(query, { authorization: "Basic b3A6cGFzcw==" }));
    expect(basic.statusCode).toBe(401);
  });

  it("serves the health check", async () => {
    const e = event("");
    const res = await handleEvent(server, {
      ...e,
      rawPath: "/health",
      requestContext: { ...e.requestContext, http: { ...e.requestContext.http, method: "GET", path: "/health" } },
    });
    expect(res.statusCode).toBe(200);
    expect(res.headers?.["content-type"]).toMatch(/^application\/json/);
    expect(JSON.parse(res.body ?? "")).toEqual({ status: "ok" });
  });
});
