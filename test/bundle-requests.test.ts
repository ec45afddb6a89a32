import type { APIGatewayProxyEventV2 } from "aws-lambda";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MAX_ALIASES, MAX_TOKENS } from "../graphql/limits.js";
import { localSigningJwk } from "../local/device-key.js";
import { ERR, PLATFORM, lambdaEvent, startTestStack } from "./harness.js";
import type { TestStack } from "./harness.js";
import { shipFunction, stackEnv } from "./bundle-runner.js";
import type { ShippedFunction } from "./bundle-runner.js";

interface Answer {
  readonly statusCode?: number;
  readonly body?: string;
}

/**
 * The graphql function as `sst deploy` ships it (bundled and minified with the stacks' options,
 * bench/bundle-options.ts), run in a fresh node against the test stack's table and token issuer:
 * its answers (data, typed errors, input errors, refusals) are the local server's, byte for byte.
 * Minifying renames classes and functions; what the schema, the typed errors and the error
 * handling rely on must survive it.
 */
describe("the graphql function's minified bundle answers as the local server does", () => {
  let t: TestStack;
  let fn: ShippedFunction;
  /** The bundle's answers: status and body of each. */
  const invokeBundle = async (env: Record<string, string>, events: APIGatewayProxyEventV2[]) =>
    ((await fn.invoke(env, events)) as Answer[]).map((a) => ({ statusCode: a.statusCode, body: a.body }));

  beforeAll(async () => {
    [t, fn] = await Promise.all([startTestStack(), shipFunction("graphql")]);
  });
  /** The function's environment: the test stack's table, token issuer and nothing else reachable. */
  const bundleEnv = (): Record<string, string> => ({ ...stackEnv(t), MAIL_QUEUE_URL: "http://127.0.0.1:9/mail" });
  afterAll(async () => {
    await t?.stop();
    fn?.remove();
  });

  it("data, a typed error, an input error, a bad query, no token, a syntax error, each guard, bad variables, bad JSON: the same status and body", async () => {
    // Prepare
    const operator = "operator@example.com";
    const token = await t.token(operator);
    const me = await t.gql<{ viewer: { memberships: { account: { id: string } }[] } }>(
      operator,
      "{ viewer { memberships { account { id } } } }",
    );
    const platformId = me.data?.viewer.memberships[0]?.account.id;
    const distributorId = await t.createAccount({ parentId: PLATFORM, kind: "DISTRIBUTOR", name: "Bundle Numbers" });
    const requests: { readonly body: string; readonly token?: string }[] = [
      { body: JSON.stringify({ query: "{ viewer { email memberships { role account { name kind } } } }" }), token },
      {
        body: JSON.stringify({
          query: `query Q($id: ID!) { r: account(id: $id) { __typename ${ERR} } }`,
          variables: { id: "QWNjb3VudDpub25l" },
        }),
        token,
      },
      {
        body: JSON.stringify({
          query: `mutation M($input: CreateAccountInput!) { r: createAccount(input: $input) { __typename ${ERR} } }`,
          variables: { input: { parentId: platformId, kind: "DISTRIBUTOR", name: " ", country: "ZZ" } },
        }),
        token,
      },
      { body: JSON.stringify({ query: "{ viewer { nosuchfield } }" }), token },
      { body: JSON.stringify({ query: "{ viewer { email } }" }) },
      // Parsed by graphql-armor's token-counting parser: a syntax error and a document over the token limit.
      { body: JSON.stringify({ query: "{ viewer { email }" }), token },
      { body: JSON.stringify({ query: `{ ${"viewer { email } ".repeat(MAX_TOKENS / 4)} }` }), token },
      // The other guards and the request's own shape: each answered the same way by both.
      {
        body: JSON.stringify({ query: `{ ${"viewer { memberships { account { ".repeat(6)}id${" } } }".repeat(6)} }` }),
        token,
      },
      {
        body: JSON.stringify({
          query: `{ ${Array.from({ length: MAX_ALIASES + 1 }, (_v, i) => `a${i}: viewer { email }`).join(" ")} }`,
        }),
        token,
      },
      {
        body: JSON.stringify({
          query: "query Q($id: ID!) { account(id: $id) { __typename } }",
          variables: { id: 7.5 },
        }),
        token,
      },
      { body: "{ not json", token },
      // A number checked against the numbering plans, which the bundle loads on first use.
      {
        body: JSON.stringify({
          query: `mutation M($input: AddNumbersInput!) { r: addNumbers(input: $input) { __typename ${ERR} } }`,
          variables: { input: { accountId: distributorId, numbers: ["+99912345678"] } },
        }),
        token,
      },
    ];
    const headers = (r: { token?: string }): Record<string, string> =>
      r.token ? { authorization: `Bearer ${r.token}` } : {};
    // The API's own key (it signs client tokens): a fresh one, as no client here is ever let in.
    const apiKey = JSON.stringify(await localSigningJwk(undefined, "api-key.json", "api"));
    // Act
    const shipped = await invokeBundle(
      { ...bundleEnv(), API_SIGNING_KEY: apiKey },
      requests.map((r) => lambdaEvent({ body: r.body, headers: headers(r) })),
    );
    const local = await Promise.all(
      requests.map(async (r) => {
        const res = await fetch(`${t.url}/graphql`, {
          method: "POST",
          headers: { "content-type": "application/json", ...headers(r) },
          body: r.body,
        });
        return { statusCode: res.status, body: await res.text() };
      }),
    );
    // Assess
    expect(shipped).toEqual(local);
    const typenames = shipped
      .slice(1, 3)
      .map((a) => (JSON.parse(a.body ?? "{}") as { data: { r: { __typename: string } } }).data.r.__typename);
    expect(typenames).toEqual(["NotFoundError", "ValidationError"]);
    expect(JSON.parse(shipped[11]?.body ?? "{}")).toMatchObject({
      data: { r: { __typename: "ValidationError", issues: [{ path: ["numbers", "0"] }] } },
    });
    expect(shipped.map((a) => a.statusCode)).toEqual([200, 200, 200, 200, 401, 200, 200, 200, 200, 400, 400, 200]);
    const messages = shipped
      .slice(7, 11)
      .map((a) => (JSON.parse(a.body ?? "{}") as { errors?: { message: string }[] }).errors?.[0]?.message);
    expect(messages).toEqual([
      expect.stringMatching(/depth/i),
      expect.stringMatching(/alias/i),
      expect.stringMatching(/\$id/),
      expect.stringMatching(/JSON/i),
    ]);
    expect(JSON.parse(shipped[5]?.body ?? "{}")).toMatchObject({
      errors: [{ message: expect.stringMatching(/^Syntax Error: Expected Name, found <EOF>/) }],
    });
    expect(JSON.parse(shipped[6]?.body ?? "{}")).toMatchObject({
      errors: [{ message: `Syntax Error: Token limit of ${MAX_TOKENS} exceeded.` }],
    });
    expect(JSON.parse(shipped[3]?.body ?? "{}")).toMatchObject({
      errors: [{ message: expect.stringContaining("nosuchfield") }],
    });
  });
  it("a GET query, a GET mutation, a batch, a preflight, another content type, health, a bad client: the same", async () => {
    // Prepare
    const token = await t.token("operator@example.com");
    const auth = { authorization: `Bearer ${token}` };
    const requests: {
      readonly method: string;
      readonly path: string;
      readonly query?: string;
      readonly body?: string;
      readonly headers: Record<string, string>;
    }[] = [
      { method: "GET", path: "/graphql", query: `query=${encodeURIComponent("{ viewer { email } }")}`, headers: auth },
      {
        method: "GET",
        path: "/graphql",
        query: `query=${encodeURIComponent('mutation { setSupportEmail(input: { accountId: "x", email: null }) { __typename } }')}`,
        headers: auth,
      },
      {
        method: "POST",
        path: "/graphql",
        body: JSON.stringify([{ query: "{ viewer { email } }" }, { query: "{ viewer { email } }" }]),
        headers: { ...auth, "content-type": "application/json" },
      },
      {
        method: "OPTIONS",
        path: "/graphql",
        headers: { origin: "https://portal.example.com", "access-control-request-method": "POST" },
      },
      {
        method: "POST",
        path: "/graphql",
        body: "{ viewer { email } }",
        headers: { ...auth, "content-type": "text/plain" },
      },
      { method: "GET", path: "/health", headers: {} },
      {
        method: "POST",
        path: "/oauth/token",
        body: "grant_type=client_credentials&client_id=nobody&client_secret=wrong",
        headers: { "content-type": "application/x-www-form-urlencoded" },
      },
    ];
    // The API's own key (it signs client tokens): a fresh one, as no client here is ever let in.
    const apiKey = JSON.stringify(await localSigningJwk(undefined, "api-key.json", "api"));
    // Act
    const shipped = await invokeBundle(
      { ...bundleEnv(), API_SIGNING_KEY: apiKey },
      requests.map((r) =>
        lambdaEvent({
          method: r.method,
          path: r.path,
          headers: r.headers,
          ...(r.query ? { query: r.query } : {}),
          ...(r.body !== undefined ? { body: r.body } : {}),
        }),
      ),
    );
    const local = await Promise.all(
      requests.map(async (r) => {
        const res = await fetch(`${t.url}${r.path}${r.query ? `?${r.query}` : ""}`, {
          method: r.method,
          headers: r.headers,
          ...(r.body !== undefined ? { body: r.body } : {}),
        });
        return { statusCode: res.status, body: await res.text() };
      }),
    );
    // Assess
    expect(shipped.map((a) => ({ statusCode: a.statusCode, body: a.body ?? "" }))).toEqual(local);
    expect(shipped.map((a) => a.statusCode)).toEqual([200, 405, 400, 204, 415, 200, 401]);
    expect(JSON.parse(shipped[6]?.body ?? "{}")).toMatchObject({ error: "invalid_client" });
  });
});
