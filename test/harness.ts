import { randomUUID } from "node:crypto";
import type { APIGatewayProxyEventV2 } from "aws-lambda";
import { inject } from "vitest";
import { startLocalStack } from "../local/stack.js";
import type { LocalStack, LocalStackOptions } from "../local/stack.js";

/**
 * A local stack for one test file: its own table in the shared DynamoDB Local, its own HTTP port.
 * Tests talk to it over HTTP exactly as an integrator would.
 */
export async function startTestStack(options: Pick<LocalStackOptions, "dynamoRequestHandler" | "telemetry" | "rateLimits"> = {}): Promise<TestStack> {
  const stack = await startLocalStack({
    ...options,
    dynamoEndpoint: inject("dynamoEndpoint"),
    tableName: `t-${randomUUID()}`,
    inMemory: true,
    operatorEmail: "operator@example.com",
    // Tests drive runs with POST /dev/jobs/run; no background schedule.
    cron: false,
  });
  return new TestStack(stack);
}

export interface GraphQLResponse<T = Record<string, unknown>> {
  readonly status: number;
  readonly data: T | null;
  readonly errors?: ReadonlyArray<{ message: string; extensions?: { code?: string } }>;
}

export class TestStack {
  readonly #tokens = new Map<string, string>();
  constructor(readonly stack: LocalStack) {}

  get url(): string {
    return this.stack.url;
  }

  async token(email: string): Promise<string> {
    let t = this.#tokens.get(email);
    if (!t) {
      const res = await fetch(`${this.stack.url}/dev/token`, { method: "POST", body: JSON.stringify({ email }) });
      t = ((await res.json()) as { token: string }).token;
      this.#tokens.set(email, t);
    }
    return t;
  }

  /** Sets the stack's clock (it runs on from there). Tokens are minted again: old ones may have expired in stack time. */
  async setClock(now: string): Promise<void> {
    const res = await fetch(`${this.stack.url}/dev/clock`, { method: "POST", body: JSON.stringify({ now }) });
    if (!res.ok) throw new Error(`clock not set: ${res.status}`);
    this.#tokens.clear();
  }

  /** Runs a GraphQL operation as `email` (or anonymously with null). */
  async gql<T = Record<string, unknown>>(as: string | null, query: string, variables: Record<string, unknown> = {}): Promise<GraphQLResponse<T>> {
    const headers: Record<string, string> = { "content-type": "application/json" };
    if (as) headers.authorization = `Bearer ${await this.token(as)}`;
    const res = await fetch(`${this.stack.url}/graphql`, { method: "POST", headers, body: JSON.stringify({ query, variables }) });
    const body = (await res.json()) as { data?: T | null; errors?: GraphQLResponse["errors"] };
    return { status: res.status, data: body.data ?? null, ...(body.errors ? { errors: body.errors } : {}) };
  }

  /** The token of the latest invitation mailed to `email`. */
  async invitationToken(email: string): Promise<string> {
    const res = await fetch(`${this.stack.url}/dev/outbox`);
    const { messages } = (await res.json()) as { messages: { to: string; text: string }[] };
    const mail = messages.filter((m) => m.to === email.toLowerCase()).at(-1);
    const token = mail && /Invitation token: (\S+)/.exec(mail.text)?.[1];
    if (!token) throw new Error(`no invitation mailed to ${email}`);
    return token;
  }

  async stop(): Promise<void> {
    await this.stack.stop();
  }
}

/** Result payload helper: the success data, or a thrown error naming the typed error. */
export function ok<T>(result: unknown): T {
  const r = result as { __typename?: string; data?: T; code?: string; message?: string };
  if (r && typeof r === "object" && "data" in r) return r.data as T;
  throw new Error(`expected success, got ${r?.__typename}: ${r?.code} ${r?.message}`);
}

export const PLATFORM = Buffer.from("Account:PLATFORM").toString("base64");
export const OPERATOR = "operator@example.com";

/** GraphQL fragment selecting a typed-error union. */
export const ERR = "... on Error { __typename code message } ... on ValidationError { issues { path message } }";

/** Shapes of the typed mutation results, shared by the suites. */
export type ErrorName = "NotFoundError" | "ForbiddenError" | "ValidationError" | "ConflictError";
export interface Issue {
  readonly path: string[];
  readonly message: string;
}
export interface TypedError {
  readonly __typename: ErrorName;
  readonly code: string;
  readonly message: string;
  readonly issues?: Issue[];
}
export interface Success<T> {
  readonly __typename: string;
  readonly data: T;
}
export type Result<T> = TypedError | Success<T>;

/** An API Gateway HTTP API (v2) event, as Lambda hands it to functions/graphql.ts (the Lambda path in tests). */
export function lambdaEvent(opts: {
  readonly body?: string;
  readonly headers?: Record<string, string>;
  readonly method?: string;
  readonly path?: string;
  readonly query?: string;
  readonly requestId?: string;
  readonly isBase64Encoded?: boolean;
}): APIGatewayProxyEventV2 {
  const method = opts.method ?? "POST";
  const path = opts.path ?? "/graphql";
  const host = opts.headers?.host ?? "api.example.com";
  return {
    version: "2.0",
    routeKey: "$default",
    rawPath: path,
    rawQueryString: opts.query ?? "",
    // JSON unless told otherwise, for a request with a body; as given otherwise.
    headers: { host, ...(opts.body !== undefined ? { "content-type": "application/json" } : {}), ...opts.headers },
    requestContext: {
      accountId: "123456789012",
      apiId: "api",
      domainName: host,
      domainPrefix: "api",
      http: { method, path, protocol: "HTTP/1.1", sourceIp: "127.0.0.1", userAgent: opts.headers?.["user-agent"] ?? "test" },
      requestId: opts.requestId ?? randomUUID(),
      routeKey: "$default",
      stage: "$default",
      time: "22/Nov/2026:00:00:00 +0000",
      timeEpoch: 0,
    },
    ...(opts.body !== undefined ? { body: opts.body } : {}),
    isBase64Encoded: opts.isBase64Encoded ?? false,
  };
}
