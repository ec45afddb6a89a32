import { Lexer, Source, TokenKind, parse, validate } from "graphql";
import { costLimitRule } from "@escape.tech/graphql-armor-cost-limit";
import { describe, expect, it } from "vitest";
import type { Deps } from "../core/context.js";
import type { Store } from "../infra/store.js";
import { MAX_ALIASES, MAX_BODY_BYTES, MAX_COST, MAX_DEPTH, MAX_DIRECTIVES, MAX_TOKENS } from "../graphql/limits.js";
import { schema } from "../graphql/schema.js";
import { createGraphQLServer } from "../graphql/server.js";
import { handleEvent } from "../functions/http.js";
import { lambdaEvent } from "./harness.js";

/** A store whose every call fails as an unexpected infrastructure fault would (a test double of our port). */
const brokenStore = new Proxy(
  {},
  { get: () => () => Promise.reject(new Error("dynamo exploded at /var/task/secret.js:42")) },
) as unknown as Store;
const deps = {
  store: brokenStore,
  clock: { now: () => new Date() },
  mailer: { send: () => Promise.resolve() },
  portalUrl: "https://portal.example.com",
} as unknown as Deps;
const authenticate = () =>
  Promise.resolve({ issuer: "test", subject: "u1", email: "u1@example.com", emailVerified: true });

const open = createGraphQLServer({ deps, authenticate, graphiql: false, introspection: true });
const closed = createGraphQLServer({ deps, authenticate, graphiql: false });

interface Body {
  data?: unknown;
  errors?: { message: string; extensions?: Record<string, unknown> }[];
}
async function post(
  query: string,
  server = open,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: Body }> {
  const res = await server.fetch("http://localhost/graphql", {
    method: "POST",
    headers: { "content-type": "application/json", authorization: "Bearer t", ...headers },
    body: JSON.stringify({ query }),
  });
  return { status: res.status, body: (await res.json()) as Body };
}
const messages = (b: Body) => (b.errors ?? []).map((e) => e.message).join(" | ");

/** `{ __type(name: "Query") { ofType { … { name } } } }`, `levels` fields deep. */
const deep = (levels: number) =>
  `{ __type(name: "Query") ${"{ ofType ".repeat(levels - 2)}{ name }${" }".repeat(levels - 2)} }`;
const aliased = (n: number) =>
  `{ ${Array.from({ length: n }, (_, i) => `a${i}: __type(name: "Query") { name }`).join(" ")} }`;
const directed = (n: number) => `{ ${Array.from({ length: n }, () => "__typename @include(if: true)").join(" ")} }`;
/** A document of exactly `n` lexer tokens (`{`, n - 2 × `__typename`, `}`). */
const tokens = (n: number) => `{ ${"__typename ".repeat(n - 2)}}`;
const countTokens = (q: string) => {
  const lexer = new Lexer(new Source(q));
  let n = 0;
  while (lexer.advance().kind !== TokenKind.EOF) n += 1;
  return n;
};
/** children(first: N): armor's cost grows with the literal page size. */
const costly = (n: number) =>
  `{ account(id: "x") { ... on QueryAccountSuccess { data { children(first: ${n}) { edges { node { id name } } } } } } }`;
const costOf = (q: string) => {
  let found = NaN;
  validate(schema, parse(q), [
    costLimitRule({
      maxCost: Number.MAX_SAFE_INTEGER,
      ignoreIntrospection: true,
      flattenFragments: true,
      onAccept: [(_c, d: { n: number }) => (found = d.n)],
    }),
  ]);
  return found;
};

describe("operation guards (graphql/limits.ts)", () => {
  const cases: [string, (n: number) => string, number, RegExp][] = [
    ["depth", deep, MAX_DEPTH, /depth limit/i],
    ["aliases", aliased, MAX_ALIASES, /aliases limit/i],
    ["directives", directed, MAX_DIRECTIVES, /directives limit/i],
    ["tokens", tokens, MAX_TOKENS, /token limit/i],
  ];
  it.each(cases)("%s: at the limit passes, one above is refused", async (_name, make, limit, error) => {
    const below = await post(make(limit));
    expect(messages(below.body)).not.toMatch(error);
    const above = await post(make(limit + 1));
    expect(above.body.data).toBeUndefined();
    expect(messages(above.body)).toMatch(error);
    expect(messages(above.body)).toContain(String(limit));
  });

  it("tokens helper counts what it says", () => {
    expect(countTokens(tokens(MAX_TOKENS))).toBe(MAX_TOKENS);
  });

  it("cost: the largest page size under the limit passes validation, the next is refused", async () => {
    let n = 1;
    while (costOf(costly(n * 2)) <= MAX_COST) n *= 2;
    let hi = n * 2;
    while (hi - n > 1) {
      const mid = Math.floor((n + hi) / 2);
      if (costOf(costly(mid)) <= MAX_COST) n = mid;
      else hi = mid;
    }
    const below = await post(costly(n));
    expect(messages(below.body)).not.toMatch(/cost limit/i);
    const above = await post(costly(n + 1));
    expect(above.body.data).toBeUndefined();
    expect(messages(above.body)).toMatch(/Query Cost limit of 10000000 exceeded/);
  });
});

describe("error hygiene", () => {
  it("an internal error in a resolver reaches the client masked, without a stack", async () => {
    const { body } = await post(`{ account(id: "QWNjb3VudDpQTEFURk9STQ==") { __typename } }`);
    expect(body.errors?.[0]?.message).toBe("Unexpected error.");
    const text = JSON.stringify(body);
    expect(text).not.toMatch(/exploded|secret\.js|stack|originalError/);
  });

  it("no field suggestions", async () => {
    const { body } = await post(`{ acount(id: "x") { __typename } }`);
    expect(messages(body)).toMatch(/acount/);
    expect(messages(body)).not.toMatch(/Did you mean/i);
  });

  it("introspection is refused unless enabled; __typename stays allowed", async () => {
    expect((await post(`{ __schema { queryType { name } } }`, closed)).body.errors?.[0]?.message).toMatch(
      /introspection/i,
    );
    expect((await post(`{ __type(name: "Query") { name } }`, closed)).body.errors?.[0]?.message).toMatch(
      /introspection/i,
    );
    expect((await post(`{ __typename }`, closed)).body).toEqual({ data: { __typename: "Query" } });
    expect((await post(`{ __schema { queryType { name } } }`, open)).body).toEqual({
      data: { __schema: { queryType: { name: "Query" } } },
    });
  });
});

describe("transport", () => {
  it("CSRF: a GET or a simple-content-type POST needs the x-graphql-yoga-csrf header", async () => {
    const get = await closed.fetch("http://localhost/graphql?query=%7B__typename%7D");
    expect(get.status).toBe(403);
    const getWithHeader = await closed.fetch("http://localhost/graphql?query=%7B__typename%7D", {
      headers: { "x-graphql-yoga-csrf": "1" },
    });
    expect(getWithHeader.status).toBe(200);
    const form = await closed.fetch("http://localhost/graphql", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "query=%7B__typename%7D",
    });
    expect(form.status).toBe(403);
    expect((await post(`{ __typename }`, closed)).status).toBe(200);
  });

  it(`a body above ${MAX_BODY_BYTES} bytes is refused with 413`, async () => {
    const pad = " ".repeat(MAX_BODY_BYTES);
    const big = await closed.fetch("http://localhost/graphql", {
      method: "POST",
      headers: { "content-type": "application/json", "content-length": String(MAX_BODY_BYTES + 100) },
      body: JSON.stringify({ query: `{ __typename }${pad}` }),
    });
    expect(big.status).toBe(413);
    const small = await closed.fetch("http://localhost/graphql", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ query: "{ __typename }" }),
    });
    expect(small.status).toBe(200);
  });

  it("the Lambda path measures the body API Gateway hands over (no Content-Length to trust): 413 above the limit, base64 included", async () => {
    const event = (body: string, isBase64Encoded = false) => lambdaEvent({ body, isBase64Encoded });
    const atLimit = JSON.stringify({ query: "{ __typename }" }).padEnd(MAX_BODY_BYTES, " ");
    expect((await handleEvent(closed, event(atLimit))).statusCode).toBe(200);
    const over = await handleEvent(closed, event(`${atLimit} `));
    expect(over.statusCode).toBe(413);
    expect(JSON.parse(over.body ?? "{}")).toMatchObject({ errors: [{ extensions: { code: "PAYLOAD_TOO_LARGE" } }] });
    // Base64 is decoded before measuring: the decoded size counts.
    expect((await handleEvent(closed, event(Buffer.from(`${atLimit} `).toString("base64"), true))).statusCode).toBe(
      413,
    );
    expect((await handleEvent(closed, event(Buffer.from(atLimit).toString("base64"), true))).statusCode).toBe(200);
  });
});
