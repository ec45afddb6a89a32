import { randomUUID } from "node:crypto";
import type { APIGatewayProxyEventV2 } from "aws-lambda";
import { DeleteTableCommand } from "@aws-sdk/client-dynamodb";
import { ScanCommand } from "@aws-sdk/lib-dynamodb";
import { expect, inject } from "vitest";
import { createDocumentClient } from "../infra/dynamo.js";
import { startLocalStack } from "../local/stack.js";
import type { LocalStack, LocalStackOptions } from "../local/stack.js";
import { takeRefusals } from "../local/iam.js";

/**
 * A local stack for one test file: its own table in the shared DynamoDB Local, its own HTTP port.
 * Tests talk to it over HTTP exactly as an integrator would.
 */
export async function startTestStack(
  options: Pick<
    LocalStackOptions,
    | "dynamoRequestHandler"
    | "telemetry"
    | "rateLimits"
    | "clientRequestsPerMinute"
    | "billingChunkSize"
    | "mailLeaseMs"
    | "requestBudget"
    | "webhookTimeoutMs"
    | "webhookRetrySchedule"
    | "webhookNetwork"
    | "apiSigningKey"
  > = {},
): Promise<TestStack> {
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

/** A top-level GraphQL error as the API sends it (coercion and connection-argument errors carry `issues`). */
export interface GraphQLError {
  readonly message: string;
  readonly path?: (string | number)[];
  readonly extensions?: { readonly code?: string; readonly issues?: Issue[] };
}

export interface GraphQLResponse<T = Record<string, unknown>> {
  readonly status: number;
  readonly data: T | null;
  readonly errors?: readonly GraphQLError[];
}

/** What a run of a job reports (POST /dev/jobs/run). */
export interface JobRun {
  readonly scheduled: number;
  readonly processed: number;
  readonly failedAttempts: number;
  readonly deadLettered: number;
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
  async setClock(now: string | Date): Promise<void> {
    const body = JSON.stringify({ now: typeof now === "string" ? now : now.toISOString() });
    const res = await fetch(`${this.stack.url}/dev/clock`, { method: "POST", body });
    if (!res.ok) throw new Error(`clock not set: ${res.status}`);
    this.#tokens.clear();
  }

  /** Runs a GraphQL operation as `email` (or anonymously with null). */
  async gql<T = Record<string, unknown>>(
    as: string | null,
    query: string,
    variables: Record<string, unknown> = {},
  ): Promise<GraphQLResponse<T>> {
    return this.#post<T>(as ? `Bearer ${await this.token(as)}` : null, query, variables);
  }

  /** Runs a GraphQL operation as a PBX: its device `credential` as the bearer token, or none (activation). */
  async device<T = Record<string, unknown>>(
    credential: string | null,
    query: string,
    variables: Record<string, unknown> = {},
  ): Promise<GraphQLResponse<T>> {
    return this.#post<T>(credential ? `Bearer ${credential}` : null, query, variables);
  }

  async #post<T>(
    authorization: string | null,
    query: string,
    variables: Record<string, unknown>,
  ): Promise<GraphQLResponse<T>> {
    const headers: Record<string, string> = { "content-type": "application/json" };
    if (authorization) headers.authorization = authorization;
    const res = await fetch(`${this.stack.url}/graphql`, {
      method: "POST",
      headers,
      body: JSON.stringify({ query, variables }),
    });
    const body = (await res.json()) as { data?: T | null; errors?: GraphQLResponse["errors"] };
    return { status: res.status, data: body.data ?? null, ...(body.errors ? { errors: body.errors } : {}) };
  }

  /** The token of the latest invitation mailed to `email`. */
  async invitationToken(email: string): Promise<string> {
    // Mails go through the mail queue: a first invitation may take a moment to reach the outbox.
    for (let waited = 0; ; waited += 50) {
      const res = await fetch(`${this.stack.url}/dev/outbox`);
      const { messages } = (await res.json()) as { messages: { to: string; text: string }[] };
      const mail = messages.filter((m) => m.to === email.toLowerCase()).at(-1);
      const token = mail && /Invitation token: (\S+)/.exec(mail.text)?.[1];
      if (token) return token;
      if (waited >= 5_000) throw new Error(`no invitation mailed to ${email}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Runs a query as `as` that must succeed without any top-level GraphQL error; returns its data. */
  async read<T = Record<string, unknown>>(
    as: string | null,
    query: string,
    variables: Record<string, unknown> = {},
  ): Promise<T> {
    const res = await this.gql<T>(as, query, variables);
    expect(res.errors, JSON.stringify(res.errors)).toBeUndefined();
    return res.data!;
  }

  /**
   * Runs the one-input mutation `field(input: $input)` as `as`: its typed result, the success's
   * `data { select }` or a typed error (ERR). Fails the test on any top-level GraphQL error.
   */
  async mutate<T>(
    as: string,
    field: string,
    inputType: string,
    input: Record<string, unknown>,
    select: string,
  ): Promise<Result<T>> {
    const res = await this.gql<{ r: Result<T> }>(as, mutationDocument(field, inputType, select), { input });
    expect(res.errors, JSON.stringify(res.errors)).toBeUndefined();
    return res.data!.r;
  }

  /** `account(id)` as `as` sees it, selecting `select` on success: the typed result. Fails on any top-level GraphQL error. */
  async account<T>(as: string, id: string, select: string): Promise<Result<T>> {
    const { r } = await this.read<{ r: Result<T> }>(
      as,
      `query Q($id: ID!) { r: account(id: $id) { __typename ... on QueryAccountSuccess { data { ${select} } } ${ERR} } }`,
      { id },
    );
    return r;
  }

  /** `mutate`, which must succeed: its success data (a typed error is thrown, naming it). */
  async mutateOk<T>(
    as: string,
    field: string,
    inputType: string,
    input: Record<string, unknown>,
    select: string,
  ): Promise<T> {
    return ok<T>(await this.mutate<T>(as, field, inputType, input, select));
  }

  /** `as` declares a PBX (`DeclareEquipmentInput`), which then activates itself: its ids and its device credential. */
  async pairEquipment(
    as: string,
    input: Record<string, unknown>,
  ): Promise<{ equipmentId: string; deviceId: string; credential: string }> {
    const declared = await this.mutateOk<{ deviceId: string; activationCode: string; equipment: { id: string } }>(
      as,
      "declareEquipment",
      "DeclareEquipmentInput",
      input,
      "deviceId activationCode equipment { id }",
    );
    const activated = await this.device<{ r: { data?: { credential: string } } }>(
      null,
      `mutation A($d: String!, $c: String!) { r: activateEquipment(deviceId: $d, activationCode: $c) { __typename ... on MutationActivateEquipmentSuccess { data { credential } } ${ERR} } }`,
      { d: declared.deviceId, c: declared.activationCode },
    );
    const credential = activated.data?.r.data?.credential;
    if (!credential) throw new Error(`the PBX did not pair: ${JSON.stringify(activated)}`);
    return { equipmentId: declared.equipment.id, deviceId: declared.deviceId, credential };
  }

  /** `as` accepts the invitation `token`, selecting `select` on success: the typed result. Fails on any top-level GraphQL error. */
  async acceptInvitation<T>(as: string, token: string, select: string): Promise<Result<T>> {
    const { r } = await this.read<{ r: Result<T> }>(
      as,
      `mutation A($token: String!) { r: acceptInvitation(token: $token) { __typename ... on MutationAcceptInvitationSuccess { data { ${select} } } ${ERR} } }`,
      { token },
    );
    return r;
  }

  /** `email` accepts the latest invitation mailed to them; it must succeed, with no top-level GraphQL error. */
  async accept(email: string): Promise<void> {
    const res = await this.gql<{ r: unknown }>(
      email,
      `mutation A($token: String!) { r: acceptInvitation(token: $token) { __typename ${ERR} } }`,
      {
        token: await this.invitationToken(email),
      },
    );
    expect(res.errors, JSON.stringify(res)).toBeUndefined();
    expect(res.data?.r, JSON.stringify(res)).toEqual({ __typename: "MutationAcceptInvitationSuccess" });
  }

  /**
   * Creates an account as `as` (the operator unless told), which must succeed: its id. With an owner,
   * the owner's invitation is accepted too. Distributors bill in `currency` (USD unless told).
   */
  async createAccount(
    input: {
      readonly parentId: string;
      readonly kind: "DISTRIBUTOR" | "RESELLER" | "CUSTOMER";
      readonly name: string;
      readonly country?: string;
      readonly currency?: string;
      readonly owner?: string;
    },
    as = OPERATOR,
  ): Promise<string> {
    const { owner, currency, country, ...rest } = input;
    const created = await this.mutateOk<{ account: { id: string } }>(
      as,
      "createAccount",
      "CreateAccountInput",
      {
        ...rest,
        country: country ?? "GB",
        ...(input.kind === "DISTRIBUTOR" ? { currency: currency ?? "USD" } : {}),
        ...(owner ? { owner: { email: owner } } : {}),
      },
      "account { id }",
    );
    if (owner) await this.accept(owner);
    return created.account.id;
  }

  /** The operator makes `skus` available to an account. */
  async offer(accountId: string, skus: readonly string[]): Promise<void> {
    await this.mutateOk(
      OPERATOR,
      "setAvailableOffers",
      "SetAvailableOffersInput",
      { accountId, skus },
      "account { id }",
    );
  }

  /** Runs `job` now through the queue and its worker (POST /dev/jobs/run; billing for `period` if given); it must answer 200. */
  async runJob(job: string, period?: string): Promise<JobRun> {
    const res = await fetch(`${this.stack.url}/dev/jobs/run`, {
      method: "POST",
      body: JSON.stringify({ job, ...(period ? { period } : {}) }),
    });
    expect(res.status, await res.clone().text()).toBe(200);
    return (await res.json()) as JobRun;
  }

  /** Runs an operation as `as` that must fail as a whole with exactly one top-level GraphQL error; returns it. */
  async failing(as: string | null, query: string, variables: Record<string, unknown> = {}): Promise<GraphQLError> {
    const res = await this.gql(as, query, variables);
    expect(res.errors, `expected a GraphQL error, got ${JSON.stringify(res.data)}`).toHaveLength(1);
    return res.errors![0]!;
  }

  /**
   * The whole table, item by item (`pk|sk` → the item's JSON with sorted keys), once the change
   * stream's consumer is idle: what "nothing was written" is checked against.
   */
  async snapshot(): Promise<Map<string, string>> {
    await this.stack.events.drain();
    const db = createDocumentClient({ region: "local", endpoint: inject("dynamoEndpoint") });
    const items: Record<string, unknown>[] = [];
    try {
      let start: Record<string, unknown> | undefined;
      do {
        const page = await db.send(
          new ScanCommand({
            TableName: this.stack.store.tableName,
            ConsistentRead: true,
            ...(start ? { ExclusiveStartKey: start } : {}),
          }),
        );
        items.push(...((page.Items ?? []) as Record<string, unknown>[]));
        start = page.LastEvaluatedKey as Record<string, unknown> | undefined;
      } while (start);
    } finally {
      db.destroy();
    }
    return new Map(items.map((i) => [`${String(i.pk)}|${String(i.sk)}`, JSON.stringify(i, Object.keys(i).sort())]));
  }

  /** Runs `fn` (calls that must be refused) and asserts that no item of the table changed, appeared or went. */
  async nothingWritten(fn: () => Promise<void>): Promise<void> {
    const before = await this.snapshot();
    await fn();
    const after = await this.snapshot();
    expect([...after.keys()].filter((k) => before.get(k) !== after.get(k))).toEqual([]);
    expect([...before.keys()].filter((k) => !after.has(k))).toEqual([]);
  }

  /**
   * Puts `numbers` in an account's pool the way the inventory works: an operator adds them to its
   * parent (a distributor or reseller) and allocates them down to it (assignExtension takes only
   * numbers of the account's pool).
   */
  async giveNumbers(accountId: string, parentId: string, numbers: readonly string[]): Promise<void> {
    await this.mutateOk(
      OPERATOR,
      "addNumbers",
      "AddNumbersInput",
      { accountId: parentId, numbers },
      "numbers { number }",
    );
    await this.mutateOk(OPERATOR, "allocateNumbers", "MoveNumbersInput", { accountId, numbers }, "numbers { number }");
  }

  /** The mails the stack has sent so far (the dev outbox), oldest first. */
  async outbox(): Promise<{ to: string; subject: string; text: string }[]> {
    const res = await fetch(`${this.stack.url}/dev/outbox`);
    return ((await res.json()) as { messages: { to: string; subject: string; text: string }[] }).messages;
  }

  /** How many mails the stack has sent so far (the dev outbox). */
  async outboxCount(): Promise<number> {
    const res = await fetch(`${this.stack.url}/dev/outbox`);
    return ((await res.json()) as { messages: unknown[] }).messages.length;
  }

  /** The operator's read of each account through `query` (an `account(id: $id)` query); each must be a QueryAccountSuccess. */
  async operatorAccounts(query: string, accountIds: readonly string[]): Promise<unknown[]> {
    return Promise.all(
      accountIds.map(async (id) => {
        const { account } = await this.read<{ account: { __typename: string } }>(OPERATOR, query, { id });
        expect(account.__typename).toBe("QueryAccountSuccess");
        return account;
      }),
    );
  }

  async stop(): Promise<void> {
    const table = this.stack.store.tableName;
    await this.stack.stop();
    // A request a deployed role would refuse fails the file, even if a retry or a catch hid it (local/iam.ts).
    const refused = takeRefusals();
    // Every file of the run shares one DynamoDB Local: a finished file's table, and its stream, go.
    const db = createDocumentClient({ region: "local", endpoint: inject("dynamoEndpoint") });
    try {
      await db.send(new DeleteTableCommand({ TableName: table }));
    } finally {
      db.destroy();
    }
    if (refused.length > 0) throw new Error(`refused as AWS would (AccessDenied): ${[...new Set(refused)].join("; ")}`);
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
export const ERR =
  "... on Error { __typename code message } ... on ValidationError { issues { path message } } ... on ForbiddenError { reason }";

/** A connection's edges, as selected with `edges { cursor node { … } }`. */
export interface Edges<N> {
  readonly edges: { readonly cursor: string; readonly node: N }[];
}
/** A connection with its `pageInfo { hasNextPage }` selected too. */
export interface Connection<N> extends Edges<N> {
  readonly pageInfo: { readonly hasNextPage: boolean };
}

/** The GraphQL Money type. */
export interface Money {
  readonly amount: string;
  readonly currency: string;
}

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
  /** ForbiddenError only: why (ForbiddenReason). */
  readonly reason?: string;
}
export interface Success<T> {
  readonly __typename: string;
  readonly data: T;
}
export type Result<T> = TypedError | Success<T>;

/** The success member of a mutation's result union: `MutationCreateAccountSuccess` for `createAccount`. */
export const successOf = (field: string): string => `Mutation${field[0]!.toUpperCase()}${field.slice(1)}Success`;

/** The document `TestStack.mutate` sends: `field(input: $input)`, aliased `r`, with its success data and typed errors. */
export const mutationDocument = (field: string, inputType: string, select: string): string =>
  `mutation M($input: ${inputType}!) { r: ${field}(input: $input) { __typename ... on ${successOf(field)} { data { ${select} } } ${ERR} } }`;

/** The code each typed error carries. */
export const CODES: Readonly<Record<ErrorName, string>> = {
  ValidationError: "INVALID",
  ForbiddenError: "FORBIDDEN",
  NotFoundError: "NOT_FOUND",
  ConflictError: "CONFLICT",
};

/** Whether a typed result is an error. */
export const isError = <T>(r: Result<T>): r is TypedError => "code" in r;

/** Asserts that `r` is the typed error `typename` with its code (and, if given, exactly `message`); returns it. */
export function expectError<T>(r: Result<T>, typename: ErrorName, message?: string): TypedError {
  expect({ __typename: r.__typename, code: isError(r) ? r.code : undefined }, JSON.stringify(r)).toEqual({
    __typename: typename,
    code: CODES[typename],
  });
  const e = r as TypedError;
  if (message !== undefined) expect(e.message).toBe(message);
  return e;
}

/** Asserts that `r` is a ForbiddenError with that `reason`; returns it. */
export function expectForbidden<T>(r: Result<T>, reason: string): TypedError {
  const e = expectError(r, "ForbiddenError");
  expect(e.reason, JSON.stringify(r)).toBe(reason);
  return e;
}

/** Asserts that `r` is a ValidationError with exactly one issue, on `path` (and, if given, with that message or matching it); returns it. */
export function expectInvalid<T>(r: Result<T>, path: string[], message?: string | RegExp): TypedError {
  const e = expectError(r, "ValidationError");
  expect(
    e.issues?.map((i) => i.path),
    JSON.stringify(e.issues),
  ).toEqual([path]);
  if (typeof message === "string") expect(e.issues![0]!.message).toBe(message);
  else if (message) expect(e.issues![0]!.message).toMatch(message);
  return e;
}

/** Runs `fn` (calls that must be refused) and asserts that `look()` reads the same before and after: nothing was written. */
export async function expectUnchanged(look: () => Promise<unknown>, fn: () => Promise<void>): Promise<void> {
  const before = await look();
  await fn();
  expect(await look()).toEqual(before);
}

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
      http: {
        method,
        path,
        protocol: "HTTP/1.1",
        sourceIp: "127.0.0.1",
        userAgent: opts.headers?.["user-agent"] ?? "test",
      },
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
