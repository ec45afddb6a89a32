/**
 * Observability: structured JSON logs with request and correlation ids, metrics as
 * CloudWatch EMF, and nothing personal or secret in what is logged. Everything the process writes to
 * stdout and stderr while a whole story runs (accounts, invitations, orders, a PBX pairing with a
 * wrong and a right code, bad tokens, a billing run with its mails, one Lambda invocation) is
 * captured and scanned for every e-mail, name, token, code and credential that went through.
 */
import { randomUUID } from "node:crypto";
import type { APIGatewayProxyEventV2, Context } from "aws-lambda";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { serve } from "../functions/graphql.js";
import { createGraphQLServer } from "../graphql/server.js";
import { createTokenVerifier } from "../infra/auth.js";
import { powertoolsTelemetry } from "../infra/telemetry.js";
import type { Telemetry } from "../infra/telemetry.js";
import { ERR, OPERATOR, PLATFORM, lambdaEvent, ok, startTestStack } from "./harness.js";
import type { Result, TestStack } from "./harness.js";

const D_OWNER = "dana.owner@observed.example";
const MEMBER = "morgan.member@observed.example";
const SECRET_NAMES = ["Dananame", "Secretsurname"];

let t: TestStack;
let telemetry: Telemetry;
const captured: string[] = [];
/** Everything secret or personal that went through the API during the story. */
const secrets = new Set<string>([D_OWNER, MEMBER, OPERATOR, ...SECRET_NAMES]);
let restore: () => void = () => undefined;

function capture(): () => void {
  const out = process.stdout.write.bind(process.stdout);
  const err = process.stderr.write.bind(process.stderr);
  const grab = (chunk: unknown) => {
    captured.push(typeof chunk === "string" ? chunk : Buffer.from(chunk as Uint8Array).toString("utf8"));
    return true;
  };
  process.stdout.write = grab as typeof process.stdout.write;
  process.stderr.write = grab as typeof process.stderr.write;
  return () => {
    process.stdout.write = out;
    process.stderr.write = err;
  };
}

async function gql<T>(as: string | null, query: string, variables: Record<string, unknown> = {}) {
  if (as) secrets.add(await t.token(as));
  return t.gql<T>(as, query, variables);
}

async function mutate<T>(
  as: string,
  name: string,
  inputType: string,
  input: Record<string, unknown>,
  select: string,
): Promise<Result<T>> {
  const r = await gql<Record<string, Result<T>>>(
    as,
    `mutation Do($input: ${inputType}!) { ${name}(input: $input) { __typename ... on Mutation${name[0]!.toUpperCase()}${name.slice(1)}Success { data { ${select} } } ${ERR} } }`,
    { input },
  );
  expect(r.errors, `${name}: ${JSON.stringify(r.errors)}`).toBeUndefined();
  return r.data![name]!;
}

async function accept(email: string): Promise<void> {
  const token = await t.invitationToken(email);
  secrets.add(token);
  const r = await gql<{ acceptInvitation: { __typename: string } }>(
    email,
    `mutation Accept($token: String!) { acceptInvitation(token: $token) { __typename } }`,
    { token },
  );
  expect(r.data?.acceptInvitation.__typename).toBe("MutationAcceptInvitationSuccess");
}

const lines = () =>
  captured
    .join("")
    .split("\n")
    .filter((l) => l.trim() !== "");

beforeAll(async () => {
  telemetry = powertoolsTelemetry();
  t = await startTestStack({ telemetry });
  restore = capture();
  try {
    await t.setClock("2026-10-05T10:00:00.000Z");
    const d = ok<{ account: { id: string } }>(
      await mutate(
        OPERATOR,
        "createAccount",
        "CreateAccountInput",
        {
          parentId: PLATFORM,
          kind: "DISTRIBUTOR",
          name: "Observed Distribution",
          country: "FR",
          currency: "EUR",
          owner: { email: D_OWNER, firstName: SECRET_NAMES[0], lastName: SECRET_NAMES[1] },
        },
        "account { id }",
      ),
    ).account.id;
    await accept(D_OWNER);
    ok(
      await mutate(
        D_OWNER,
        "inviteMember",
        "InviteMemberInput",
        { accountId: d, email: MEMBER, role: "CONTRIBUTOR" },
        "member { email }",
      ),
    );
    secrets.add(await t.invitationToken(MEMBER));
    // A refused invitation (already a member) and a validation error: their messages name the e-mail.
    await mutate(
      D_OWNER,
      "inviteMember",
      "InviteMemberInput",
      { accountId: d, email: D_OWNER, role: "VIEWER" },
      "member { email }",
    );
    const invalid = await gql(
      D_OWNER,
      `mutation Bad($input: InviteMemberInput!) { inviteMember(input: $input) { __typename } }`,
      { input: { accountId: d, email: "not-an-email@", role: "VIEWER" } },
    );
    expect(invalid.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
    ok(
      await mutate(
        OPERATOR,
        "setAvailableOffers",
        "SetAvailableOffersInput",
        { accountId: d, skus: ["3EY95002AA"] },
        "account { id }",
      ),
    );
    ok(
      await mutate(
        D_OWNER,
        "placeOrder",
        "PlaceOrderInput",
        { accountId: d, lines: [{ sku: "3EY95002AA", quantity: 3 }], idempotencyKey: "observed-1" },
        "order { id }",
      ),
    );
    const pairing = ok<{ deviceId: string; activationCode: string }>(
      await mutate(
        D_OWNER,
        "declareEquipment",
        "DeclareEquipmentInput",
        { accountId: d, name: "Observed OXO", serverType: "OXO_CONNECT", country: "FR", outboundPrefix: "0" },
        "deviceId activationCode",
      ),
    );
    secrets.add(pairing.deviceId).add(pairing.activationCode);
    const activate = (code: string) =>
      gql<{ r: Result<{ credential: string }> }>(
        null,
        `mutation Act($d: String!, $c: String!) { r: activateEquipment(deviceId: $d, activationCode: $c) { __typename ... on MutationActivateEquipmentSuccess { data { credential } } ${ERR} } }`,
        { d: pairing.deviceId, c: code },
      );
    const wrong = pairing.activationCode === "00000000" ? "11111111" : "00000000";
    expect((await activate(wrong)).data?.r.__typename).toBe("ForbiddenError");
    const credential = ok<{ credential: string }>((await activate(pairing.activationCode)).data?.r).credential;
    secrets.add(credential);
    // Bad credentials: 401 before any resolver.
    for (const bad of ["Bearer not.a.jwt", `Bearer ${credential}x`]) {
      const res = await fetch(`${t.url}/graphql`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: bad },
        body: JSON.stringify({ query: "{ viewer { email } }" }),
      });
      expect(res.status).toBe(401);
    }
    // The month is billed and its invoice mailed to the owner (the billing worker's records).
    await t.setClock("2026-11-01T06:00:00.000Z");
    const run = (await (
      await fetch(`${t.url}/dev/jobs/run`, {
        method: "POST",
        body: JSON.stringify({ job: "billing", period: "2026-10" }),
      })
    ).json()) as { processed: number };
    expect(run.processed).toBe(1);
    secrets.add(await t.token(D_OWNER));

    // One Lambda invocation, with its context, through the function's own `serve`.
    const server = createGraphQLServer({
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
        now: () => t.stack.clock.now(),
      }),
      graphiql: false,
      telemetry,
    });
    const token = await t.token(D_OWNER);
    const event: APIGatewayProxyEventV2 = lambdaEvent({
      body: JSON.stringify({ query: "query Viewer { viewer { email } }" }),
      headers: { authorization: `Bearer ${token}`, "x-correlation-id": "portal-7f3a" },
      requestId: "apigw-request-1",
    });
    const context = {
      functionName: "graphql",
      functionVersion: "$LATEST",
      invokedFunctionArn: "arn:aws:lambda:eu-west-1:123456789012:function:graphql",
      memoryLimitInMB: "1024",
      awsRequestId: randomUUID(),
      logGroupName: "g",
      logStreamName: "s",
      callbackWaitsForEmptyEventLoop: false,
      getRemainingTimeInMillis: () => 10_000,
      done: () => undefined,
      fail: () => undefined,
      succeed: () => undefined,
    } satisfies Context;
    const res = await serve(server, telemetry, event, context);
    expect(res.statusCode).toBe(200);
    // Publishes the metrics counted so far (the local server never ends an invocation itself).
    telemetry.endInvocation();
  } finally {
    restore();
  }
}, 120_000);

afterAll(async () => {
  restore();
  await t?.stop();
});

describe("logs", () => {
  it("are JSON lines, one per GraphQL operation, with the operation's name, fields, outcome and error codes", () => {
    const parsed = lines().map((l) => JSON.parse(l) as Record<string, unknown>);
    const ops = parsed.filter((l) => l.message === "graphql operation");
    // createAccount, acceptInvitation, inviteMember x2, the invalid one (never executed), setAvailableOffers,
    // placeOrder, declareEquipment, activateEquipment x2, two refused tokens, the Lambda viewer.
    expect(ops).toHaveLength(13);
    // Variables the schema refuses: the operation is logged with its code, never with the value.
    expect(ops.find((o) => o.operation === "Bad")).toMatchObject({ outcome: "error", errorCodes: ["BAD_USER_INPUT"] });
    expect(ops.filter((o) => (o.errorCodes as string[]).includes("UNAUTHENTICATED"))).toHaveLength(2);
    for (const op of ops) {
      expect(op).toMatchObject({
        level: "INFO",
        service: "channel-partner-api",
        type: expect.stringMatching(/^(query|mutation|not-executed)$/),
        outcome: expect.stringMatching(/^(ok|error)$/),
      });
      expect(typeof op.requestId).toBe("string");
      expect(typeof op.durationMs).toBe("number");
    }
    expect(ops.some((o) => o.operation === "Do" && (o.fields as string[]).includes("placeOrder"))).toBe(true);
  });

  it("log a client's own GraphQL errors (variables the schema refuses) as its operation's outcome, not as an unexpected error", () => {
    const parsed = lines().map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(parsed.find((o) => o.operation === "Bad")).toBeDefined();
    expect(parsed.filter((l) => l.message === "unexpected error")).toEqual([]);
    expect(parsed.filter((l) => l.level === "ERROR")).toEqual([]);
  });

  it("carry API Gateway's request id, the client's correlation id and the Lambda context in Lambda", () => {
    const lambda = lines()
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .find((l) => l.message === "graphql operation" && l.operation === "Viewer");
    expect(lambda).toMatchObject({
      requestId: "apigw-request-1",
      correlationId: "portal-7f3a",
      function_name: "graphql",
      cold_start: expect.any(Boolean),
    });
  });

  it("record each job record with its queue, outcome and receive count", () => {
    const jobs = lines()
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((l) => l.message === "record processed");
    expect(jobs).toContainEqual(
      expect.objectContaining({ queue: "billing", outcome: "billing issued", receiveCount: 1 }),
    );
    // The two invitations (the refused one sends nothing).
    expect(jobs.filter((j) => j.queue === "mail")).toHaveLength(2);
  });

  it("contain no e-mail, name, invitation token, activation code, device id, credential or bearer token", () => {
    const text = captured.join("").toLowerCase();
    expect(secrets.size).toBeGreaterThan(10);
    for (const secret of secrets)
      expect(text.includes(secret.toLowerCase()), `a secret of ${secret.length} characters is in the logs`).toBe(false);
    // Nothing that looks like an e-mail address or a JWT at all.
    expect(text).not.toMatch(/[a-z0-9._%+-]+@[a-z0-9.-]+\.[a-z]{2,}/);
    expect(text).not.toMatch(/ey[a-z0-9_-]{10,}\.ey[a-z0-9_-]{10,}\./);
  });
});

describe("metrics", () => {
  it("are CloudWatch EMF: requests, errors, orders, invitations, activations, invoices, mails", () => {
    const emf = lines()
      .map(
        (l) =>
          JSON.parse(l) as Record<string, unknown> & {
            _aws?: { CloudWatchMetrics: Array<{ Namespace: string; Metrics: Array<{ Name: string }> }> };
          },
      )
      .filter((l) => l._aws !== undefined);
    expect(emf.length).toBeGreaterThanOrEqual(1);
    const names = new Set(emf.flatMap((l) => l._aws!.CloudWatchMetrics.flatMap((m) => m.Metrics.map((x) => x.Name))));
    for (const name of [
      "Requests",
      "Errors",
      "OrdersPlaced",
      "InvitationsSent",
      "ActivationsSucceeded",
      "ActivationsRefused",
      "InvoicesIssued",
      "JobsProcessed",
      "MailsSent",
    ])
      expect(names).toContain(name);
    expect(emf.every((l) => l._aws!.CloudWatchMetrics.every((m) => m.Namespace === "ChannelPartnerApi"))).toBe(true);
    const sum = (name: string) =>
      emf
        .map((l) => l[name])
        .reduce<number>(
          (a, v) =>
            a + (Array.isArray(v) ? v.reduce((x: number, y: number) => x + y, 0) : typeof v === "number" ? v : 0),
          0,
        );
    expect({
      orders: sum("OrdersPlaced"),
      activated: sum("ActivationsSucceeded"),
      refused: sum("ActivationsRefused"),
      invitations: sum("InvitationsSent"),
      invoices: sum("InvoicesIssued"),
    }).toEqual({ orders: 1, activated: 1, refused: 1, invitations: 2, invoices: 1 });
  });
});
