/**
 * Synthesises the SST stacks offline (no AWS credentials, no network) and checks the
 * CloudFormation they produce.
 *
 * How SST is initialised (mirrors `sst deploy`, see node_modules/sst/stacks/synth.js):
 * - `initProject({ stage })` loads sst.config.ts (name, region) into SST's project singleton.
 * - `new App({ mode: "deploy", ... })` with an explicit account, so nothing asks STS.
 * - the real `stacks(app)` of sst.config.ts runs (default removal policy, default function
 *   props, Data, Jobs, Webhooks, Api then Monitoring), then `app.finish()` runs SST's deferred tasks
 *   (function builds).
 * - NODE_ENV=test (vitest's default, forced here) makes `App.finish()` skip the bootstrap-stack
 *   lookup, which is the only AWS call on this path.
 *
 * Function code: SST bundles every function with esbuild during `finish()`. To keep this test
 * independent of the handler's contents, the Node.js build is replaced by a stub that writes a
 * one-line handler at the path SST would produce. Set STACKS_TEST_BUNDLE=1 to bundle the real
 * handlers (`functions/graphql.ts`, `functions/documents.ts`, `functions/scheduler.ts`,
 * `functions/*-worker.ts`) instead (run from the project root).
 *
 * Three synths: the "test" and "prod" stages with the optional settings unset, and the "test"
 * stage again with ALARM_EMAIL and GRAPHQL_INTROSPECTION=true (`opted`).
 */
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Stack } from "aws-cdk-lib";
import { Template } from "aws-cdk-lib/assertions";
import { App, getStack } from "sst/constructs";
import { initProject, useProject } from "sst/project.js";
import { useRuntimeHandlers } from "sst/runtime/handlers.js";
import type { RuntimeHandler } from "sst/runtime/handlers.js";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { SCHEDULED_THROUGH } from "../core/due.js";
import { counterPartitionKey } from "../infra/entities/billing.js";
import { tableSchema } from "../infra/table-schema.js";
import { FUNCTION_DEFAULTS } from "../stacks/function-defaults.js";
import sstConfig from "../sst.config.js";
import { Api } from "../stacks/Api.js";
import { INDEX_ACTIONS, TABLE_ACTIONS } from "../stacks/grants.js";
import { Data } from "../stacks/Data.js";
import { BILLING_MAX_CONCURRENCY, Jobs } from "../stacks/Jobs.js";
import { ALARMS, Monitoring } from "../stacks/Monitoring.js";
import { METRICS_NAMESPACE, SERVICE } from "../infra/telemetry.js";
import {
  DELIVERY_MAX_RECEIVE_COUNT,
  DELIVERY_RETENTION_DAYS,
  WEBHOOK_WORKER_TIMEOUT_SECONDS,
  Webhooks,
} from "../stacks/Webhooks.js";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const ACCOUNT = "123456789012";
const MAIL_DOMAIN = "mail.example.org";
const MAIL_ADDRESS = `no-reply@${MAIL_DOMAIN}`;
const ALARM_EMAIL = "oncall@example.org";
const TIMEOUT = 90_000;
/** A device signing key as the deploying shell would set it (a throwaway P-256 key, not a secret). */
const DEVICE_SIGNING_KEY = JSON.stringify({
  kty: "EC",
  crv: "P-256",
  x: "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
  y: "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0",
  d: "jpsQnnGQmL-YBIffH1136cLyK-Dk-9FShSTfYbZ6uGo",
});

type Json = Record<string, unknown>;
interface Resource {
  Type: string;
  Properties?: Json;
  DeletionPolicy?: string;
  UpdateReplacePolicy?: string;
}
interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: Record<string, Record<string, unknown>>;
}

/** The queue that records the stream batches Lambda gave up on. */
function streamFailuresQueueId(templates: Templates): string {
  const ids = Object.keys(templates.webhooks.findResources("AWS::SQS::Queue")).filter((id) =>
    id.startsWith("streamFailures"),
  );
  expect(ids).toHaveLength(1);
  return ids[0]!;
}

let stubbed = false;
/** The `nodejs` props SST's build step received for each handler (what its esbuild would be given). */
const buildOptions = new Map<string, unknown>();
/** Replaces SST's esbuild step for Node.js functions by a stub handler file. */
function stubNodeBuilds(): void {
  if (stubbed || process.env.STACKS_TEST_BUNDLE === "1") return;
  stubbed = true;
  const handlers = useRuntimeHandlers();
  const realFor = handlers.for;
  handlers.for = (runtime: string): RuntimeHandler => {
    const real = realFor(runtime);
    if (!runtime.startsWith("nodejs")) return real;
    return {
      ...real,
      build: async ({ out, props }) => {
        // Same layout as SST's node handler: "functions/graphql.handler" -> functions/graphql.mjs
        const handler = props.handler ?? "index.handler";
        buildOptions.set(handler, props.nodejs);
        const parsed = path.posix.parse(handler);
        await mkdir(path.join(out, parsed.dir), { recursive: true });
        await writeFile(
          path.join(out, parsed.dir, `${parsed.name}.mjs`),
          `export const ${parsed.ext.slice(1)} = async () => ({ statusCode: 200, body: "" });\n`,
        );
        return { type: "success", handler };
      },
    };
  };
}

interface Templates {
  data: Template;
  api: Template;
  jobs: Template;
  webhooks: Template;
  monitoring: Template;
  /** The app's stacks in creation order, by short name ("Data", ...). */
  order: string[];
  /** Each stack's dependencies, by short name. */
  dependsOn: Record<string, string[]>;
}

/** Settings the deploying shell may set; unset unless given (a developer's .env must not leak in). */
interface Optional {
  ALARM_EMAIL?: string;
  GRAPHQL_INTROSPECTION?: string;
  INVOICE_ISSUER_VAT_ID?: string;
  REQUEST_BUDGET?: string;
  PORTAL_URL?: string;
}

async function synth(stage: string, optional: Optional = {}): Promise<Templates> {
  await initProject({ stage, root: ROOT });
  // After initProject: it loads .env files with override, and these must win.
  vi.stubEnv("NODE_ENV", "test");
  vi.stubEnv("CDK_DEFAULT_ACCOUNT", ACCOUNT);
  vi.stubEnv("AWS_EC2_METADATA_DISABLED", "true");
  vi.stubEnv("MAIL_FROM", `Channel Partners <${MAIL_ADDRESS}>`);
  vi.stubEnv("AUTH_ISSUER", "https://issuer.test/");
  vi.stubEnv("AUTH_AUDIENCE", "test-audience");
  vi.stubEnv("AUTH_JWKS_URL", "https://issuer.test/jwks.json");
  vi.stubEnv("DEVICE_SIGNING_KEY", DEVICE_SIGNING_KEY);
  // Unset, so the Jobs stack's default issuer name is what gets checked.
  vi.stubEnv("INVOICE_ISSUER_NAME", undefined);
  vi.stubEnv("ALARM_EMAIL", optional.ALARM_EMAIL);
  vi.stubEnv("GRAPHQL_INTROSPECTION", optional.GRAPHQL_INTROSPECTION);
  for (const name of [
    "INVOICE_ISSUER_ADDRESS",
    "INVOICE_ISSUER_COMPANY_NUMBER",
    "AUTH_EMAIL_CLAIM",
    "AUTH_EMAIL_VERIFIED_CLAIM",
    "AUTH_MAX_TOKEN_LIFETIME_SECONDS",
  ])
    vi.stubEnv(name, undefined);
  vi.stubEnv("INVOICE_ISSUER_VAT_ID", optional.INVOICE_ISSUER_VAT_ID);
  vi.stubEnv("REQUEST_BUDGET", optional.REQUEST_BUDGET);
  vi.stubEnv("PORTAL_URL", optional.PORTAL_URL);
  stubNodeBuilds();

  const { config } = useProject();
  const app = new App({
    mode: "deploy",
    name: config.name,
    stage: config.stage,
    region: config.region,
    account: ACCOUNT,
  });
  await sstConfig.stacks(app);
  await app.finish();
  // getStack() reads the app of the last `app.stack()` call, so read them all before the next synth.
  const shortName = (s: Stack) => s.node.id.split("-").pop()!;
  const stacks = app.node.children.filter((c): c is Stack => Stack.isStack(c));
  return {
    data: Template.fromStack(getStack(Data)),
    jobs: Template.fromStack(getStack(Jobs)),
    webhooks: Template.fromStack(getStack(Webhooks)),
    api: Template.fromStack(getStack(Api)),
    monitoring: Template.fromStack(getStack(Monitoring)),
    order: stacks.map(shortName),
    dependsOn: Object.fromEntries(stacks.map((s) => [shortName(s), s.dependencies.map(shortName).sort()])),
  };
}

function only(template: Template, type: string): [string, Resource] {
  const entries = Object.entries(template.findResources(type)) as [string, Resource][];
  expect(entries, type).toHaveLength(1);
  return entries[0]!;
}

const asArray = <T>(x: T | T[]): T[] => (Array.isArray(x) ? x : [x]);

let test: Templates;
let prod: Templates;
/** The "test" stage with ALARM_EMAIL set and GRAPHQL_INTROSPECTION=true. */
let opted: Templates;

beforeAll(async () => {
  test = await synth("test");
  prod = await synth("prod");
  opted = await synth("test", {
    ALARM_EMAIL,
    GRAPHQL_INTROSPECTION: "true",
    INVOICE_ISSUER_VAT_ID: "FR00123456789",
    REQUEST_BUDGET: "500",
    PORTAL_URL: "https://partners.example.net",
  });
}, TIMEOUT);

afterAll(() => {
  vi.unstubAllEnvs();
});

// ---- Shared helpers: functions, roles, queues and cross-stack references --------------------

const getAtt = (id: string, attribute = "Arn") => ({ "Fn::GetAtt": [id, attribute] });
const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
const SES_ACTIONS = ["ses:SendEmail", "ses:SendRawEmail"];
const CONSUME_ACTIONS = [
  "sqs:ChangeMessageVisibility",
  "sqs:DeleteMessage",
  "sqs:GetQueueAttributes",
  "sqs:GetQueueUrl",
  "sqs:ReceiveMessage",
];
/** Variables SST adds to every function; everything else in an environment is the stacks' own. */
const SST_ENV = ["AWS_NODEJS_CONNECTION_REUSE_ENABLED", "SST_APP", "SST_SSM_PREFIX", "SST_STAGE"];

function functionByHandler(template: Template, handler: string): [string, Resource] {
  const entries = Object.entries(template.findResources("AWS::Lambda::Function")).filter(
    ([, r]) => (r as Resource).Properties?.Handler === handler,
  ) as [string, Resource][];
  expect(entries, handler).toHaveLength(1);
  return entries[0]!;
}
const graphqlOf = (template: Template) => functionByHandler(template, "functions/graphql.handler");
const documentsOf = (template: Template) => functionByHandler(template, "functions/documents.handler");
const workerOf = (template: Template, job: string) => functionByHandler(template, `functions/${job}-worker.handler`);
const schedulerOf = (template: Template) => functionByHandler(template, "functions/scheduler.handler");

/** The function's environment without SST's own variables. */
function envOf(fn: Resource): Json {
  const variables = (fn.Properties!.Environment as { Variables: Json }).Variables;
  for (const name of SST_ENV) expect(variables, name).toHaveProperty(name);
  return Object.fromEntries(Object.entries(variables).filter(([name]) => !SST_ENV.includes(name)));
}

/** The queue a worker consumes (its one event source) and the dead-letter queue it redrives to. */
function queuesOf(template: Template, job: string): { queueId: string; queue: Resource; dlqId: string; dlq: Resource } {
  const [workerId] = workerOf(template, job);
  const mappings = (Object.values(template.findResources("AWS::Lambda::EventSourceMapping")) as Resource[]).filter(
    (m) => same(m.Properties?.FunctionName, { Ref: workerId }),
  );
  expect(mappings).toHaveLength(1);
  const queueId = (mappings[0]!.Properties!.EventSourceArn as { "Fn::GetAtt": [string, string] })["Fn::GetAtt"][0];
  const queues = template.findResources("AWS::SQS::Queue") as Record<string, Resource>;
  const queue = queues[queueId]!;
  expect(queue, queueId).toBeDefined();
  const redrive = queue.Properties?.RedrivePolicy as { deadLetterTargetArn: { "Fn::GetAtt": [string, string] } };
  const dlqId = redrive.deadLetterTargetArn["Fn::GetAtt"][0];
  const dlq = queues[dlqId]!;
  expect(dlq, dlqId).toBeDefined();
  return { queueId, queue, dlqId, dlq };
}

/** The webhook delivery queue (the webhook worker's event source) and its dead-letter queue. */
const deliveryQueues = (templates: Templates) => queuesOf(templates.webhooks, "webhook");

function roleStatements(template: Template, fn: Resource): Statement[] {
  const roleId = (fn.Properties!.Role as { "Fn::GetAtt": [string, string] })["Fn::GetAtt"][0];
  return (Object.values(template.findResources("AWS::IAM::Policy")) as Resource[])
    .filter((p) => JSON.stringify(p.Properties?.Roles).includes(JSON.stringify({ Ref: roleId })))
    .flatMap((p) => (p.Properties!.PolicyDocument as { Statement: Statement[] }).Statement);
}
const actionsOf = (statements: Statement[], prefix: string) =>
  [...new Set(statements.flatMap((s) => asArray(s.Action)).filter((a) => a.startsWith(prefix)))].sort();
const resourcesOf = (statements: Statement[], prefix: string) =>
  statements.filter((s) => asArray(s.Action).some((a) => a.startsWith(prefix))).flatMap((s) => asArray(s.Resource));
/** The resources of the statements that grant exactly this action. */
const resourcesFor = (statements: Statement[], action: string) =>
  statements.filter((s) => asArray(s.Action).includes(action)).flatMap((s) => asArray(s.Resource));

/**
 * What a cross-stack reference resolves to: `{ "Fn::ImportValue": name }` in one stack is the
 * Value of the output exported as `name` by another. Returns that stack and value.
 */
function resolveImport(templates: Templates, reference: unknown): { stack: string; value: unknown } {
  const name = (reference as { "Fn::ImportValue"?: unknown } | null)?.["Fn::ImportValue"];
  expect(name, JSON.stringify(reference)).toBeTypeOf("string");
  const found: { stack: string; value: unknown }[] = [];
  for (const stack of ["data", "jobs", "webhooks", "api", "monitoring"] as const) {
    const outputs = (templates[stack].toJSON().Outputs ?? {}) as Record<
      string,
      { Value: unknown; Export?: { Name: string } }
    >;
    for (const output of Object.values(outputs)) {
      if (output.Export?.Name === name) found.push({ stack, value: output.Value });
    }
  }
  expect(found, String(name)).toHaveLength(1);
  return found[0]!;
}

/** The table ARN as other stacks import it from the Data stack, and the index ARN pattern. */
function tableArns(templates: Templates): { tableArn: unknown; indexArn: unknown } {
  const tableId = only(templates.data, "AWS::DynamoDB::Table")[0];
  const outputs = templates.data.toJSON().Outputs as Record<string, { Value: unknown; Export?: { Name: string } }>;
  const arnExport = Object.values(outputs).find((o) => same(o.Value, getAtt(tableId)))?.Export?.Name;
  expect(arnExport).toBeTypeOf("string");
  const tableArn = { "Fn::ImportValue": arnExport };
  return { tableArn, indexArn: { "Fn::Join": ["", [tableArn, "/index/*"]] } };
}

/** DynamoDB: `tableActions` on the table, Query only on the indexes, nothing on anything else. */
function expectTableAccess(templates: Templates, statements: Statement[], tableActions: readonly string[]): void {
  const { tableArn, indexArn } = tableArns(templates);
  const dynamo = statements.filter((s) => asArray(s.Action).some((a) => a.startsWith("dynamodb:")));
  expect(actionsOf(dynamo, "dynamodb:")).toEqual([...new Set([...tableActions, ...INDEX_ACTIONS])].sort());
  for (const s of dynamo) {
    expect(s.Effect).toBe("Allow");
    for (const resource of asArray(s.Resource)) expect([tableArn, indexArn]).toContainEqual(resource);
  }
  const onTable = dynamo.filter((s) => asArray(s.Resource).some((r) => same(r, tableArn)));
  expect(actionsOf(onTable, "dynamodb:")).toEqual([...tableActions].sort());
  const onIndex = dynamo.filter((s) => asArray(s.Resource).some((r) => same(r, indexArn)));
  expect(actionsOf(onIndex, "dynamodb:")).toEqual(["dynamodb:Query"]);
}

/** Only the given services (X-Ray always); "*" only for X-Ray tracing. */
function expectOnlyServices(statements: Statement[], services: readonly string[]): void {
  const pattern = new RegExp(`^(${[...services, "xray"].join("|")}):\\w+$`);
  for (const s of statements) {
    expect(s.Effect).toBe("Allow");
    for (const action of asArray(s.Action)) expect(action).toMatch(pattern);
    if (asArray(s.Resource).includes("*")) {
      expect(asArray(s.Action).every((a) => a.startsWith("xray:"))).toBe(true);
    }
  }
}

/** SES sending on exactly the MAIL_FROM address identity and its domain identity. */
function expectSesSend(statements: Statement[]): void {
  expect(actionsOf(statements, "ses:")).toEqual(SES_ACTIONS);
  const resources = resourcesOf(statements, "ses:");
  expect(resources).toHaveLength(2);
  const json = JSON.stringify(resources);
  expect(json).not.toContain('"*"');
  expect(json).toContain(`:ses:eu-west-1:${ACCOUNT}:identity/${MAIL_DOMAIN}"`);
  expect(json).toContain(`:ses:eu-west-1:${ACCOUNT}:identity/${MAIL_ADDRESS}"`);
}

describe("App", () => {
  it("creates the stacks in the order Data, Jobs, Webhooks, Api, Monitoring (the Api queues mail on the Jobs stack, deliveries on the Webhooks stack)", () => {
    for (const templates of [test, prod, opted]) {
      expect(templates.order).toEqual(["Data", "Jobs", "Webhooks", "Api", "Monitoring"]);
      expect(templates.dependsOn).toEqual({
        Data: [],
        Jobs: ["Data"],
        Webhooks: ["Data", "Jobs"],
        Api: ["Data", "Jobs", "Webhooks"],
        Monitoring: ["Api", "Data", "Jobs", "Webhooks"],
      });
    }
  });

  it("builds every Node.js function with the stacks' esbuild options (minified ESM, the graphql parser alias, no keepNames)", () => {
    // The props SST's node handler spreads into esbuild: sst.config.ts's defaults, merged per function.
    expect(buildOptions.size).toBeGreaterThanOrEqual(8);
    for (const [handler, nodejs] of buildOptions) {
      expect(nodejs, handler).toMatchObject({
        format: "esm",
        minify: true,
        esbuild: {
          external: [...FUNCTION_DEFAULTS.nodejs.esbuild.external],
          keepNames: false,
          alias: FUNCTION_DEFAULTS.nodejs.esbuild.alias,
        },
      });
    }
  });
});

describe("Data stack", () => {
  it("creates the table described by infra/table-schema.ts", () => {
    const [, table] = only(test.data, "AWS::DynamoDB::Table");
    const props = table.Properties ?? {};

    expect(props.KeySchema).toEqual([
      { AttributeName: tableSchema.partitionKey, KeyType: "HASH" },
      { AttributeName: tableSchema.sortKey, KeyType: "RANGE" },
    ]);

    const indexes = Object.entries(tableSchema.globalIndexes);
    expect(indexes.map(([name]) => name)).toEqual(["gsi1", "gsi2", "gsi3"]);
    const gsis = props.GlobalSecondaryIndexes as Json[];
    expect(gsis).toHaveLength(indexes.length);
    for (const [name, index] of indexes) {
      expect(gsis).toContainEqual({
        IndexName: name,
        KeySchema: [
          { AttributeName: index.partitionKey, KeyType: "HASH" },
          { AttributeName: index.sortKey, KeyType: "RANGE" },
        ],
        Projection: { ProjectionType: "ALL" },
      });
    }

    const keyAttributes = [
      tableSchema.partitionKey,
      tableSchema.sortKey,
      ...indexes.flatMap(([, index]) => [index.partitionKey, index.sortKey]),
    ];
    const definitions = props.AttributeDefinitions as { AttributeName: string; AttributeType: string }[];
    expect(definitions.map((d) => d.AttributeName).sort()).toEqual([...keyAttributes].sort());
    expect(definitions.every((d) => d.AttributeType === "S")).toBe(true);

    expect(props.TimeToLiveSpecification).toEqual({
      AttributeName: tableSchema.timeToLiveAttribute,
      Enabled: true,
    });
    expect(props.PointInTimeRecoverySpecification).toEqual({ PointInTimeRecoveryEnabled: true });
    expect(props.BillingMode).toBe("PAY_PER_REQUEST");
    expect(props.ProvisionedThroughput).toBeUndefined();
    // The change stream of the webhooks and the event feed: old and new images, for the events consumer.
    expect(props.StreamSpecification).toEqual({ StreamViewType: "NEW_AND_OLD_IMAGES" });
  });

  it("has no function of its own: the stream's consumer is in the Webhooks stack", () => {
    for (const templates of [test, prod]) {
      expect(Object.keys(templates.data.findResources("AWS::Lambda::EventSourceMapping"))).toEqual([]);
      const handlers = (Object.values(templates.data.findResources("AWS::Lambda::Function")) as Resource[]).map((f) =>
        String(f.Properties?.Handler),
      );
      expect(handlers.filter((h) => h.startsWith("functions/"))).toEqual([]);
    }
  });

  it("destroys the table with a non-production stage", () => {
    const [, table] = only(test.data, "AWS::DynamoDB::Table");
    expect(table.DeletionPolicy).toBe("Delete");
    expect(table.UpdateReplacePolicy).toBe("Delete");
    expect(table.Properties?.DeletionProtectionEnabled).toBeFalsy();
  });

  it("retains and protects the table on the prod stage", () => {
    const [, table] = only(prod.data, "AWS::DynamoDB::Table");
    expect(table.DeletionPolicy).toBe("Retain");
    expect(table.UpdateReplacePolicy).toBe("Retain");
    expect(table.Properties?.DeletionProtectionEnabled).toBe(true);
  });
});

describe("Api stack", () => {
  const API_TIMEOUT = 10;

  /** The mail queue as the Jobs stack defines it: the queue the mail worker consumes. */
  const mailQueueId = (templates: Templates) => queuesOf(templates.jobs, "mail").queueId;

  it("routes POST /graphql, GET /graphql, GET /health and POST /oauth/token to graphql, GET /invoices/{file} to documents", () => {
    for (const templates of [test, prod]) {
      const routes = Object.values(templates.api.findResources("AWS::ApiGatewayV2::Route")) as Resource[];
      expect(routes.map((r) => r.Properties?.RouteKey).sort()).toEqual([
        "GET /graphql",
        "GET /health",
        "GET /invoices/{file}",
        "POST /graphql",
        "POST /oauth/token",
      ]);
      expect(routes.every((r) => r.Properties?.AuthorizationType === "NONE")).toBe(true);

      const integrations = templates.api.findResources("AWS::ApiGatewayV2::Integration") as Record<string, Resource>;
      expect(Object.keys(integrations)).toHaveLength(5);
      const targetOf = (route: Resource) => {
        const target = route.Properties?.Target as { "Fn::Join": [string, [string, { Ref: string }]] };
        expect(target["Fn::Join"][1][0]).toBe("integrations/");
        const integration = integrations[target["Fn::Join"][1][1].Ref]!;
        expect(integration).toBeDefined();
        expect(integration.Properties?.IntegrationType).toBe("AWS_PROXY");
        expect(integration.Properties?.PayloadFormatVersion).toBe("2.0");
        return integration.Properties?.IntegrationUri;
      };
      const [graphqlId] = graphqlOf(templates.api);
      const [documentsId] = documentsOf(templates.api);
      const byRoute = Object.fromEntries(routes.map((r) => [r.Properties?.RouteKey as string, targetOf(r)]));
      expect(byRoute).toEqual({
        "POST /graphql": getAtt(graphqlId),
        "GET /graphql": getAtt(graphqlId),
        "GET /health": getAtt(graphqlId),
        "POST /oauth/token": getAtt(graphqlId),
        "GET /invoices/{file}": getAtt(documentsId),
      });
    }
  });

  it("configures the graphql function (runtime, architecture, limits, environment: no MAIL_FROM, the mail queue URL)", () => {
    for (const [templates, stage] of [
      [test, "test"],
      [prod, "prod"],
    ] as const) {
      const [, fn] = graphqlOf(templates.api);
      const props = fn.Properties ?? {};
      expect(props.Runtime).toBe("nodejs22.x");
      expect(props.Architectures).toEqual(["arm64"]);
      expect(props.Timeout).toBe(API_TIMEOUT);
      expect(props.MemorySize).toBe(1024);
      const env = envOf(fn);
      expect(Object.keys(env).sort()).toEqual([
        "AUTH_AUDIENCE",
        "AUTH_ISSUER",
        "AUTH_JWKS_URL",
        "DELIVERY_QUEUE_URL",
        "MAIL_QUEUE_URL",
        "SST_Secret_value_API_SIGNING_KEY",
        "SST_Secret_value_CURSOR_SECRET",
        "SST_Secret_value_DEVICE_SIGNING_KEY",
        "STAGE",
        "TABLE_NAME",
      ]);
      expect(env).toMatchObject({
        STAGE: stage,
        AUTH_ISSUER: "https://issuer.test/",
        AUTH_AUDIENCE: "test-audience",
        AUTH_JWKS_URL: "https://issuer.test/jwks.json",
        // The equipment key is an SST secret, fetched from SSM at cold start: never its value in the
        // configuration, even when the deploying shell has it in DEVICE_SIGNING_KEY.
        SST_Secret_value_DEVICE_SIGNING_KEY: "__FETCH_FROM_SSM__",
        // The API's own key (client access tokens, sealed webhook secrets): an SST secret too.
        SST_Secret_value_API_SIGNING_KEY: "__FETCH_FROM_SSM__",
        // The cursor secret likewise (seals the cursors of paged lists).
        SST_Secret_value_CURSOR_SECRET: "__FETCH_FROM_SSM__",
      });
      expect(JSON.stringify(fn.Properties)).not.toContain(DEVICE_SIGNING_KEY.slice(20, 60));
      // The table's name from the Data stack, the mail queue's URL (not its DLQ's) from the Jobs stack.
      const tableId = only(templates.data, "AWS::DynamoDB::Table")[0];
      expect(resolveImport(templates, env.TABLE_NAME)).toEqual({ stack: "data", value: { Ref: tableId } });
      expect(resolveImport(templates, env.MAIL_QUEUE_URL)).toEqual({
        stack: "jobs",
        value: { Ref: mailQueueId(templates) },
      });
      expect(resolveImport(templates, env.DELIVERY_QUEUE_URL)).toEqual({
        stack: "webhooks",
        value: { Ref: deliveryQueues(templates).queueId },
      });
    }
  });

  it("turns GraphQL introspection on only when GRAPHQL_INTROSPECTION=true at synth", () => {
    for (const templates of [test, prod]) {
      expect(envOf(graphqlOf(templates.api)[1]).GRAPHQL_INTROSPECTION).toBeUndefined();
      expect(envOf(documentsOf(templates.api)[1]).GRAPHQL_INTROSPECTION).toBeUndefined();
    }
    expect(envOf(graphqlOf(opted.api)[1]).GRAPHQL_INTROSPECTION).toBe("true");
  });

  it("configures the documents function like graphql, without the mail queue, the device key, the cursor secret and the portal URL, plus the invoice issuer's name", () => {
    for (const templates of [test, prod, opted]) {
      const [, graphql] = graphqlOf(templates.api);
      const [, fn] = documentsOf(templates.api);
      const props = fn.Properties ?? {};
      expect(props.Runtime).toBe("nodejs22.x");
      expect(props.Architectures).toEqual(["arm64"]);
      expect(props.Timeout).toBe(API_TIMEOUT);
      expect(props.MemorySize).toBe(1024);
      const {
        MAIL_QUEUE_URL: _queue,
        DELIVERY_QUEUE_URL: _deliveries,
        SST_Secret_value_DEVICE_SIGNING_KEY: _key,
        SST_Secret_value_CURSOR_SECRET: _cursors,
        GRAPHQL_INTROSPECTION: _introspection,
        REQUEST_BUDGET: _budget,
        PORTAL_URL: _portal,
        ...common
      } = envOf(graphql);
      expect(envOf(fn)).toEqual({
        ...common,
        INVOICE_ISSUER_NAME: "Channel Partner Platform",
        ...(templates === opted ? { INVOICE_ISSUER_VAT_ID: "FR00123456789" } : {}),
      });
    }
  });

  it("passes the optional stage settings set at synth (issuer VAT id to documents, request budget to graphql, the portal URL to every function that mails a link), and none unset", () => {
    expect(envOf(graphqlOf(opted.api)[1]).REQUEST_BUDGET).toBe("500");
    expect(envOf(documentsOf(opted.api)[1]).INVOICE_ISSUER_VAT_ID).toBe("FR00123456789");
    const mailing = (templates: Templates) => [
      graphqlOf(templates.api)[1],
      workerOf(templates.jobs, "billing")[1],
      workerOf(templates.jobs, "lifecycle")[1],
      functionByHandler(templates.webhooks, "functions/webhook-worker.handler")[1],
    ];
    for (const fn of mailing(opted)) expect(envOf(fn).PORTAL_URL).toBe("https://partners.example.net");
    for (const templates of [test, prod]) {
      expect(envOf(graphqlOf(templates.api)[1]).REQUEST_BUDGET).toBeUndefined();
      expect(envOf(documentsOf(templates.api)[1]).INVOICE_ISSUER_VAT_ID).toBeUndefined();
      for (const fn of mailing(templates)) expect(envOf(fn).PORTAL_URL).toBeUndefined();
    }
  });

  it("grants the graphql function only the table (BatchWriteItem included), its indexes, sending to the mail and delivery queues (no SES) and reading its three secrets", () => {
    for (const templates of [test, prod]) {
      const statements = roleStatements(templates.api, graphqlOf(templates.api)[1]);
      expectOnlyServices(statements, ["dynamodb", "sqs", "ssm"]);
      // The device key's and the cursor secret's SSM parameters (and SST's fallback paths), nothing else of SSM.
      expect(actionsOf(statements, "ssm:")).toEqual(["ssm:GetParameters"]);
      const parameters = JSON.stringify(resourcesOf(statements, "ssm:"));
      expect(parameters).toContain("/Secret/DEVICE_SIGNING_KEY/value");
      expect(parameters).toContain("/Secret/API_SIGNING_KEY/value");
      expect(parameters).toContain("/Secret/CURSOR_SECRET/value");
      expect(resourcesOf(statements, "ssm:")).toHaveLength(6);
      // BatchWriteItem: removing a PBX, and a detach with many extension associations, delete in batches.
      expectTableAccess(templates, statements, [...TABLE_ACTIONS, "dynamodb:BatchWriteItem"]);
      expect(actionsOf(statements, "dynamodb:")).not.toContain("dynamodb:Scan");

      // Mail is queued, not sent: no SES at all.
      expect(actionsOf(statements, "ses:")).toEqual([]);

      // SendMessage on the mail queue and the delivery queue (test events, redeliveries), nothing else on SQS, and never on a dead-letter queue.
      expect(actionsOf(statements, "sqs:")).toEqual(["sqs:SendMessage"]);
      const sqsResources = resourcesOf(statements, "sqs:");
      expect(sqsResources).toHaveLength(2);
      expect(sqsResources.map((r) => resolveImport(templates, r))).toEqual([
        { stack: "jobs", value: getAtt(mailQueueId(templates)) },
        { stack: "webhooks", value: getAtt(deliveryQueues(templates).queueId) },
      ]);
    }
  });

  it("grants the documents function reads (GetItem, BatchGetItem, Query; Query on the indexes), UpdateItem for API clients' rate counters, and the API key's secret only", () => {
    for (const templates of [test, prod]) {
      const statements = roleStatements(templates.api, documentsOf(templates.api)[1]);
      expectOnlyServices(statements, ["dynamodb", "ssm"]);
      expectTableAccess(templates, statements, [
        "dynamodb:BatchGetItem",
        "dynamodb:GetItem",
        "dynamodb:Query",
        "dynamodb:UpdateItem",
      ]);
      // API client tokens are checked with the API key; the device key and the cursor secret are not readable.
      expect(actionsOf(statements, "ssm:")).toEqual(["ssm:GetParameters"]);
      const parameters = JSON.stringify(resourcesOf(statements, "ssm:"));
      expect(parameters).toContain("/Secret/API_SIGNING_KEY/value");
      expect(resourcesOf(statements, "ssm:")).toHaveLength(2);
      expect(actionsOf(statements, "ses:")).toEqual([]);
      expect(actionsOf(statements, "sqs:")).toEqual([]);
    }
  });

  it("throttles the default stage and allows CORS for GET/POST with Authorization/Content-Type", () => {
    test.api.hasResourceProperties("AWS::ApiGatewayV2::Stage", {
      StageName: "$default",
      DefaultRouteSettings: { ThrottlingBurstLimit: 200, ThrottlingRateLimit: 100 },
    });
    const [, httpApi] = only(test.api, "AWS::ApiGatewayV2::Api");
    const cors = httpApi.Properties?.CorsConfiguration as Json;
    expect(cors.AllowMethods).toEqual(["GET", "POST"]);
    expect((cors.AllowHeaders as string[]).map((h) => h.toLowerCase()).sort()).toEqual([
      "authorization",
      "content-type",
    ]);
  });

  it("outputs the API URL", () => {
    test.api.hasOutput("ApiUrl", {});
  });
});

describe("Jobs stack", () => {
  // The issue's schedules, written out rather than imported so the test checks the spec.
  const SCHEDULES = {
    billing: "cron(5 0 1 * ? *)",
    lifecycle: "cron(15 0 * * ? *)",
    liveness: "cron(0/5 * * * ? *)",
  } as const;
  /** The jobs with a queue and a worker (the liveness sweep goes through the lifecycle queue). */
  const JOB_NAMES = ["billing", "lifecycle"] as const;
  /** Every queue with a worker: the scheduled jobs and the mail queue. */
  const QUEUE_NAMES = [...JOB_NAMES, "mail"] as const;
  const WORKER_TIMEOUT = 60;
  const MAIL_WORKER_TIMEOUT = 30;
  const MAIL_FROM = `Channel Partners <${MAIL_ADDRESS}>`;

  it("starts the one scheduler function from three cron rules: monthly billing, daily lifecycle, the liveness sweep every 5 minutes", () => {
    for (const templates of [test, prod]) {
      const [schedulerId] = schedulerOf(templates.jobs);
      const rules = Object.values(templates.jobs.findResources("AWS::Events::Rule")) as Resource[];
      expect(rules).toHaveLength(3);
      const byExpression = Object.fromEntries(
        rules.map((rule) => {
          expect(rule.Properties?.State).toBe("ENABLED");
          const targets = rule.Properties?.Targets as { Arn: unknown; Input?: string }[];
          expect(targets).toHaveLength(1);
          expect(targets[0]!.Arn).toEqual(getAtt(schedulerId));
          return [rule.Properties?.ScheduleExpression as string, JSON.parse(targets[0]!.Input ?? "null") as unknown];
        }),
      );
      expect(byExpression).toEqual({
        [SCHEDULES.billing]: { job: "billing" },
        [SCHEDULES.lifecycle]: { job: "lifecycle" },
        [SCHEDULES.liveness]: { job: "liveness" },
      });
      // Each rule may invoke the scheduler (and only the scheduler).
      const permissions = Object.values(templates.jobs.findResources("AWS::Lambda::Permission")) as Resource[];
      const fromEvents = permissions.filter((p) => p.Properties?.Principal === "events.amazonaws.com");
      expect(fromEvents).toHaveLength(3);
      for (const p of fromEvents) expect(p.Properties?.FunctionName).toEqual(getAtt(schedulerId));
    }
  });

  it("gives each job and the mail its own work queue and dead-letter queue (5 receives, 14 days, SQS-managed encryption)", () => {
    for (const templates of [test, prod]) {
      const all = templates.jobs.findResources("AWS::SQS::Queue") as Record<string, Resource>;
      expect(Object.keys(all)).toHaveLength(6);
      // Encrypted at rest with SQS-managed keys (no KMS key, so no KMS grants on any role).
      for (const queue of Object.values(all)) {
        expect(queue.Properties?.SqsManagedSseEnabled).toBe(true);
        expect(queue.Properties?.KmsMasterKeyId).toBeUndefined();
      }
      const ids = new Set<string>();
      for (const name of QUEUE_NAMES) {
        const { queueId, queue, dlqId, dlq } = queuesOf(templates.jobs, name);
        const workerTimeout = workerOf(templates.jobs, name)[1].Properties?.Timeout as number;
        expect(workerTimeout).toBe(name === "mail" ? MAIL_WORKER_TIMEOUT : WORKER_TIMEOUT);
        expect(queue.Properties?.VisibilityTimeout as number).toBeGreaterThanOrEqual(6 * workerTimeout);
        expect((queue.Properties!.RedrivePolicy as Json).maxReceiveCount).toBe(5);
        expect(dlq.Properties?.MessageRetentionPeriod).toBe(14 * 24 * 60 * 60);
        // A dead-letter queue is the end of the line.
        expect(dlq.Properties?.RedrivePolicy).toBeUndefined();
        ids.add(queueId).add(dlqId);
      }
      // Six distinct queues: no job shares a queue or a dead-letter queue with another.
      expect(ids.size).toBe(6);
      // The mail queue: visibility exactly 6 x the mail worker's timeout.
      expect(queuesOf(templates.jobs, "mail").queue.Properties?.VisibilityTimeout).toBe(6 * MAIL_WORKER_TIMEOUT);
    }
  });

  it("destroys the queues with a non-production stage and retains them on prod", () => {
    for (const [templates, policy] of [
      [test, "Delete"],
      [prod, "Retain"],
    ] as const) {
      const queues = Object.values(templates.jobs.findResources("AWS::SQS::Queue")) as Resource[];
      expect(queues).toHaveLength(6);
      for (const queue of queues) {
        expect(queue.DeletionPolicy).toBe(policy);
        expect(queue.UpdateReplacePolicy).toBe(policy);
      }
    }
  });

  it("feeds each worker (billing, lifecycle, mail) from its queue with partial batch responses", () => {
    for (const templates of [test, prod]) {
      const mappings = Object.values(templates.jobs.findResources("AWS::Lambda::EventSourceMapping")) as Resource[];
      expect(mappings).toHaveLength(3);
      for (const name of QUEUE_NAMES) {
        const [workerId] = workerOf(templates.jobs, name);
        const { queueId } = queuesOf(templates.jobs, name);
        const mapping = mappings.find((m) => same(m.Properties?.FunctionName, { Ref: workerId }))!;
        expect(mapping.Properties?.EventSourceArn).toEqual(getAtt(queueId));
        expect(mapping.Properties?.FunctionResponseTypes).toEqual(["ReportBatchItemFailures"]);
        expect(mapping.Properties?.BatchSize).toBe(10);
        const window = mapping.Properties?.MaximumBatchingWindowInSeconds as number;
        expect(window).toBeGreaterThanOrEqual(1);
        expect(window).toBeLessThanOrEqual(10);
        // Billing finalisers contend for the issuer's invoice counter: their concurrency is bounded.
        expect(mapping.Properties?.ScalingConfig).toEqual(
          name === "billing" ? { MaximumConcurrency: BILLING_MAX_CONCURRENCY } : undefined,
        );
      }
    }
  });

  it("configures the billing and lifecycle workers and the scheduler (limits, environment)", () => {
    for (const [templates, stage] of [
      [test, "test"],
      [prod, "prod"],
    ] as const) {
      const billing = queuesOf(templates.jobs, "billing");
      const lifecycle = queuesOf(templates.jobs, "lifecycle");
      const mail = queuesOf(templates.jobs, "mail");
      for (const [name, fn, timeout] of [
        ["billing", workerOf(templates.jobs, "billing")[1], WORKER_TIMEOUT],
        ["lifecycle", workerOf(templates.jobs, "lifecycle")[1], WORKER_TIMEOUT],
        ["scheduler", schedulerOf(templates.jobs)[1], 300],
      ] as const) {
        const props = fn.Properties ?? {};
        expect(props.Runtime).toBe("nodejs22.x");
        expect(props.Architectures).toEqual(["arm64"]);
        expect(props.Timeout).toBe(timeout);
        expect(props.MemorySize).toBe(1024);
        const env = envOf(fn);
        const tableId = only(templates.data, "AWS::DynamoDB::Table")[0];
        expect(resolveImport(templates, env.TABLE_NAME)).toEqual({ stack: "data", value: { Ref: tableId } });
        // Exactly these; in particular the equipment key stays with the API functions, and only
        // the lifecycle worker (trial reminders) queues mail.
        expect(env).toEqual({
          TABLE_NAME: env.TABLE_NAME,
          STAGE: stage,
          MAIL_FROM,
          INVOICE_ISSUER_NAME: "Channel Partner Platform",
          BILLING_QUEUE_URL: { Ref: billing.queueId },
          LIFECYCLE_QUEUE_URL: { Ref: lifecycle.queueId },
          ...(name === "lifecycle" ? { MAIL_QUEUE_URL: { Ref: mail.queueId } } : {}),
        });
      }
    }
  });

  it("configures the mail worker (30 s, 256 MB, only STAGE and MAIL_FROM)", () => {
    for (const [templates, stage] of [
      [test, "test"],
      [prod, "prod"],
    ] as const) {
      const props = workerOf(templates.jobs, "mail")[1].Properties ?? {};
      expect(props.Runtime).toBe("nodejs22.x");
      expect(props.Architectures).toEqual(["arm64"]);
      expect(props.Timeout).toBe(MAIL_WORKER_TIMEOUT);
      expect(props.MemorySize).toBe(256);
      expect(envOf(workerOf(templates.jobs, "mail")[1])).toEqual({ STAGE: stage, MAIL_FROM });
    }
  });

  it("grants the billing worker only the table, its indexes (Query), SES sending, and consuming and sending on its own queue", () => {
    for (const templates of [test, prod]) {
      const statements = roleStatements(templates.jobs, workerOf(templates.jobs, "billing")[1]);
      expectOnlyServices(statements, ["dynamodb", "ses", "sqs"]);
      expectTableAccess(templates, statements, [...TABLE_ACTIONS, "dynamodb:BatchWriteItem"]);
      expectSesSend(statements);
      // Consume (from the event source) and send (a run's next chunks, its finaliser, the next month
      // of a catch-up), both on its own work queue only.
      expect(actionsOf(statements, "sqs:")).toEqual([...CONSUME_ACTIONS, "sqs:SendMessage"].sort());
      const own = getAtt(queuesOf(templates.jobs, "billing").queueId);
      for (const resource of resourcesOf(statements, "sqs:")) expect(resource).toEqual(own);
      expect(resourcesFor(statements, "sqs:SendMessage")).toEqual([own]);
    }
  });

  it("grants the lifecycle worker the same, plus sending to the mail queue only", () => {
    for (const templates of [test, prod]) {
      const statements = roleStatements(templates.jobs, workerOf(templates.jobs, "lifecycle")[1]);
      expectOnlyServices(statements, ["dynamodb", "ses", "sqs"]);
      expectTableAccess(templates, statements, [...TABLE_ACTIONS, "dynamodb:BatchWriteItem"]);
      expectSesSend(statements);

      expect(actionsOf(statements, "sqs:")).toEqual([...CONSUME_ACTIONS, "sqs:SendMessage"].sort());
      const own = getAtt(queuesOf(templates.jobs, "lifecycle").queueId);
      const mail = getAtt(queuesOf(templates.jobs, "mail").queueId);
      // Consume statements on its own queue only; SendMessage on the mail queue only.
      for (const s of statements.filter((s) => asArray(s.Action).some((a) => CONSUME_ACTIONS.includes(a)))) {
        expect(asArray(s.Resource)).toEqual([own]);
        expect(asArray(s.Action)).not.toContain("sqs:SendMessage");
      }
      expect(resourcesFor(statements, "sqs:SendMessage")).toEqual([mail]);
    }
  });

  it("grants the mail worker only SES sending and consuming the mail queue: no DynamoDB", () => {
    for (const templates of [test, prod]) {
      const statements = roleStatements(templates.jobs, workerOf(templates.jobs, "mail")[1]);
      expectOnlyServices(statements, ["ses", "sqs"]);
      expect(actionsOf(statements, "dynamodb:")).toEqual([]);
      expectSesSend(statements);
      expect(actionsOf(statements, "sqs:")).toEqual(CONSUME_ACTIONS);
      expect(resourcesOf(statements, "sqs:")).toEqual([getAtt(queuesOf(templates.jobs, "mail").queueId)]);
    }
  });

  it("lets the scheduler read the table, write its lifecycle watermark's partition only, and send to the two job queues, never to the mail queue or a dead-letter queue", () => {
    for (const templates of [test, prod]) {
      const statements = roleStatements(templates.jobs, schedulerOf(templates.jobs)[1]);
      expectOnlyServices(statements, ["dynamodb", "sqs"]);
      // Put (the watermark's first run) and Update (every later one): no Delete, no batch writes.
      expectTableAccess(templates, statements, [
        "dynamodb:BatchGetItem",
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:Query",
        "dynamodb:UpdateItem",
      ]);
      // The writes hold only for items whose partition key is the watermark's; the reads hold anywhere.
      for (const s of statements.filter((s) => asArray(s.Action).some((a) => a.startsWith("dynamodb:")))) {
        const writes = asArray(s.Action).filter((a) => a === "dynamodb:PutItem" || a === "dynamodb:UpdateItem");
        if (writes.length === 0) {
          expect(s.Condition).toBeUndefined();
          continue;
        }
        expect(asArray(s.Action).sort()).toEqual(["dynamodb:PutItem", "dynamodb:UpdateItem"]);
        expect(s.Condition).toEqual({
          "ForAllValues:StringEquals": { "dynamodb:LeadingKeys": [counterPartitionKey(SCHEDULED_THROUGH)] },
        });
      }
      expect(actionsOf(statements, "ses:")).toEqual([]);

      expect(actionsOf(statements, "sqs:")).toEqual(["sqs:SendMessage"]);
      const sqsResources = resourcesOf(statements, "sqs:");
      expect(sqsResources).toHaveLength(2);
      for (const job of JOB_NAMES) expect(sqsResources).toContainEqual(getAtt(queuesOf(templates.jobs, job).queueId));
    }
  });

  it("lets no role in any stack send to a dead-letter queue (SQS's redrive fills them)", () => {
    for (const templates of [test, prod]) {
      const dlqs = [
        ...QUEUE_NAMES.map((name) => getAtt(queuesOf(templates.jobs, name).dlqId)),
        getAtt(deliveryQueues(templates).dlqId),
      ];
      for (const stack of ["data", "jobs", "webhooks", "api", "monitoring"] as const) {
        const policies = Object.values(templates[stack].findResources("AWS::IAM::Policy")) as Resource[];
        const statements = policies.flatMap(
          (p) => (p.Properties!.PolicyDocument as { Statement: Statement[] }).Statement,
        );
        for (const resource of resourcesFor(statements, "sqs:SendMessage")) {
          const target =
            "Fn::ImportValue" in (resource as object) ? resolveImport(templates, resource).value : resource;
          expect(dlqs).not.toContainEqual(target);
        }
      }
    }
  });

  it("grants no dynamodb:*, Scan or sqs:* in any stack, and no managed access policies", () => {
    for (const templates of [test, prod, opted]) {
      for (const template of [
        templates.data,
        templates.jobs,
        templates.webhooks,
        templates.api,
        templates.monitoring,
      ]) {
        const json = JSON.stringify(template.toJSON());
        expect(json).not.toContain('"dynamodb:*"');
        expect(json).not.toContain('"dynamodb:Scan"');
        expect(json).not.toContain('"sqs:*"');
        expect(json).not.toContain('"ses:*"');
        expect(json).not.toMatch(/Amazon(DynamoDB|SQS|SES|SNS)\w*Access/);
      }
    }
  });

  it("outputs the queue URLs", () => {
    const billing = queuesOf(test.jobs, "billing");
    const lifecycle = queuesOf(test.jobs, "lifecycle");
    const mail = queuesOf(test.jobs, "mail");
    test.jobs.hasOutput("BillingQueueUrl", { Value: { Ref: billing.queueId } });
    test.jobs.hasOutput("LifecycleQueueUrl", { Value: { Ref: lifecycle.queueId } });
    test.jobs.hasOutput("MailQueueUrl", { Value: { Ref: mail.queueId } });
    test.jobs.hasOutput("BillingDeadLetterQueueUrl", { Value: { Ref: billing.dlqId } });
    test.jobs.hasOutput("LifecycleDeadLetterQueueUrl", { Value: { Ref: lifecycle.dlqId } });
    test.jobs.hasOutput("MailDeadLetterQueueUrl", { Value: { Ref: mail.dlqId } });
  });
});

describe("Webhooks stack", () => {
  const consumerOf = (template: Template) => functionByHandler(template, "functions/stream-consumer.handler");

  it("feeds the table's stream to the events consumer: from the trim horizon, bisecting and retrying failed batches", () => {
    for (const templates of [test, prod]) {
      const [consumerId, consumer] = consumerOf(templates.webhooks);
      const mappings = (
        Object.values(templates.webhooks.findResources("AWS::Lambda::EventSourceMapping")) as Resource[]
      ).filter((m) => same(m.Properties?.FunctionName, { Ref: consumerId }));
      expect(mappings).toHaveLength(1);
      const m = mappings[0]!.Properties ?? {};
      expect(m).toMatchObject({
        StartingPosition: "TRIM_HORIZON",
        BatchSize: 100,
        BisectBatchOnFunctionError: true,
        MaximumRetryAttempts: 10,
        FunctionResponseTypes: ["ReportBatchItemFailures"],
      });
      const tableId = only(templates.data, "AWS::DynamoDB::Table")[0];
      expect(resolveImport(templates, m.EventSourceArn)).toEqual({
        stack: "data",
        value: getAtt(tableId, "StreamArn"),
      });
      expect(consumer.Properties?.Timeout).toBe(60);
      expect(Object.keys(envOf(consumer)).sort()).toEqual(["DELIVERY_QUEUE_URL", "STAGE", "TABLE_NAME"]);
      expect(envOf(consumer).DELIVERY_QUEUE_URL).toEqual({ Ref: deliveryQueues(templates).queueId });
    }
  });

  it("lets the consumer read the table, write events and send to the delivery queue only", () => {
    for (const templates of [test, prod]) {
      const all = roleStatements(templates.webhooks, consumerOf(templates.webhooks)[1]);
      // The event source's grant: ListStreams takes no resource (IAM allows only "*"); reading the stream, on its ARN.
      const listStreams = all.filter((s) => same(asArray(s.Action), ["dynamodb:ListStreams"]));
      expect(listStreams.map((s) => s.Resource)).toEqual(["*"]);
      const streamRead = all.filter((s) => asArray(s.Action).includes("dynamodb:GetRecords"));
      expect(streamRead.map((s) => [...asArray(s.Action)].sort())).toEqual([
        ["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator"],
      ]);
      const tableId = only(templates.data, "AWS::DynamoDB::Table")[0];
      expect(resolveImport(templates, streamRead[0]!.Resource)).toEqual({
        stack: "data",
        value: getAtt(tableId, "StreamArn"),
      });
      const statements = all.filter((s) => !listStreams.includes(s) && !streamRead.includes(s));
      expectOnlyServices(statements, ["dynamodb", "sqs"]);
      const { tableArn } = tableArns(templates);
      const onTable = statements.filter((s) => asArray(s.Resource).some((r) => same(r, tableArn)));
      expect(actionsOf(onTable, "dynamodb:")).toEqual([
        "dynamodb:BatchGetItem",
        "dynamodb:BatchWriteItem",
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:Query",
      ]);
      // SendMessage: deliveries, and (Lambda's own use of the role) the batches it gave up on.
      const failures = getAtt(streamFailuresQueueId(templates));
      const sendTargets = resourcesFor(statements, "sqs:SendMessage");
      expect(sendTargets).toHaveLength(2);
      expect(sendTargets).toContainEqual(getAtt(deliveryQueues(templates).queueId));
      expect(sendTargets).toContainEqual(failures);
      for (const st of statements.filter((x) =>
        asArray(x.Action).some((a) => a.startsWith("sqs:") && a !== "sqs:SendMessage"),
      )) {
        expect(asArray(st.Resource)).toEqual([failures]);
      }
    }
  });

  it("records a stream batch Lambda gives up on (after 10 retries, bisected) on its own queue, kept 14 days", () => {
    for (const templates of [test, prod]) {
      const mappings = Object.values(templates.webhooks.findResources("AWS::Lambda::EventSourceMapping")) as Resource[];
      const stream = mappings.filter((m) => m.Properties?.StartingPosition === "TRIM_HORIZON");
      expect(stream).toHaveLength(1);
      expect(stream[0]!.Properties).toMatchObject({
        BisectBatchOnFunctionError: true,
        MaximumRetryAttempts: 10,
        DestinationConfig: { OnFailure: { Destination: getAtt(streamFailuresQueueId(templates)) } },
      });
      const queue = templates.webhooks.findResources("AWS::SQS::Queue")[streamFailuresQueueId(templates)] as Resource;
      expect(queue.Properties?.MessageRetentionPeriod).toBe(14 * 86_400);
      expect(queue.Properties?.SqsManagedSseEnabled).toBe(true);
    }
  });

  it("gives deliveries their own queue and dead-letter queue (20 receives: nine attempts, then leases and crashes; 4 days kept)", () => {
    for (const templates of [test, prod]) {
      const { queue, dlq } = deliveryQueues(templates);
      expect(queue.Properties?.VisibilityTimeout).toBe(6 * WEBHOOK_WORKER_TIMEOUT_SECONDS);
      expect(queue.Properties?.MessageRetentionPeriod).toBe(DELIVERY_RETENTION_DAYS * 86_400);
      expect((queue.Properties!.RedrivePolicy as { maxReceiveCount: number }).maxReceiveCount).toBe(
        DELIVERY_MAX_RECEIVE_COUNT,
      );
      expect(DELIVERY_MAX_RECEIVE_COUNT).toBeGreaterThan(9);
      expect(queue.Properties?.SqsManagedSseEnabled).toBe(true);
      expect(dlq.Properties?.SqsManagedSseEnabled).toBe(true);
      expect(dlq.Properties?.MessageRetentionPeriod).toBe(14 * 86_400);
    }
  });

  it("runs the webhook worker from its queue with partial batch responses, the API key as an SST secret, and least privilege", () => {
    for (const templates of [test, prod]) {
      const [workerId, worker] = workerOf(templates.webhooks, "webhook");
      expect(worker.Properties?.Timeout).toBe(WEBHOOK_WORKER_TIMEOUT_SECONDS);
      const mapping = (
        Object.values(templates.webhooks.findResources("AWS::Lambda::EventSourceMapping")) as Resource[]
      ).find((m) => same(m.Properties?.FunctionName, { Ref: workerId }))!;
      expect(mapping.Properties).toMatchObject({ BatchSize: 10, FunctionResponseTypes: ["ReportBatchItemFailures"] });
      const env = envOf(worker);
      expect(Object.keys(env).sort()).toEqual([
        "DELIVERY_QUEUE_URL",
        "MAIL_QUEUE_URL",
        "SST_Secret_value_API_SIGNING_KEY",
        "STAGE",
        "TABLE_NAME",
      ]);
      expect(env.SST_Secret_value_API_SIGNING_KEY).toBe("__FETCH_FROM_SSM__");
      expect(resolveImport(templates, env.MAIL_QUEUE_URL)).toEqual({
        stack: "jobs",
        value: { Ref: mailQueueOf(templates) },
      });
      const statements = roleStatements(templates.webhooks, worker);
      expectOnlyServices(statements, ["dynamodb", "sqs", "ssm"]);
      expectTableAccess(templates, statements, TABLE_ACTIONS);
      expect(actionsOf(statements, "ses:")).toEqual([]);
      // Consuming its own queue (ChangeMessageVisibility holds a retry); SendMessage to the mail queue only.
      for (const s of statements.filter((s) => asArray(s.Action).some((a) => CONSUME_ACTIONS.includes(a))))
        expect(asArray(s.Resource)).toEqual([getAtt(deliveryQueues(templates).queueId)]);
      expect(actionsOf(statements, "sqs:")).toEqual([...CONSUME_ACTIONS, "sqs:SendMessage"].sort());
      expect(resourcesFor(statements, "sqs:SendMessage").map((r) => resolveImport(templates, r))).toEqual([
        { stack: "jobs", value: getAtt(mailQueueOf(templates)) },
      ]);
      expect(JSON.stringify(resourcesOf(statements, "ssm:"))).toContain("/Secret/API_SIGNING_KEY/value");
    }
  });

  it("outputs the delivery queue URLs", () => {
    const { queueId, dlqId } = deliveryQueues(test);
    test.webhooks.hasOutput("DeliveryQueueUrl", { Value: { Ref: queueId } });
    test.webhooks.hasOutput("DeliveryDeadLetterQueueUrl", { Value: { Ref: dlqId } });
  });
});

/** The mail queue's id in the Jobs stack. */
const mailQueueOf = (templates: Templates) => queuesOf(templates.jobs, "mail").queueId;

describe("Monitoring stack", () => {
  const FIVE_MINUTES = 300;
  /** Every function of the app, by the alarm's name, with the stack that defines it and its handler. */
  const FUNCTIONS = {
    graphql: ["api", "functions/graphql.handler"],
    documents: ["api", "functions/documents.handler"],
    scheduler: ["jobs", "functions/scheduler.handler"],
    mailWorker: ["jobs", "functions/mail-worker.handler"],
    billingWorker: ["jobs", "functions/billing-worker.handler"],
    lifecycleWorker: ["jobs", "functions/lifecycle-worker.handler"],
    webhookWorker: ["webhooks", "functions/webhook-worker.handler"],
    streamConsumer: ["webhooks", "functions/stream-consumer.handler"],
  } as const;

  interface MetricStat {
    Metric: { Namespace: string; MetricName: string; Dimensions: { Name: string; Value: unknown }[] };
    Period: number;
    Stat: string;
  }
  interface MetricQuery {
    Id: string;
    Expression?: string;
    MetricStat?: MetricStat;
    ReturnData?: boolean;
  }

  const alarmsOf = (templates: Templates) =>
    Object.values(templates.monitoring.findResources("AWS::CloudWatch::Alarm")) as Resource[];
  const dimension = (dimensions: unknown, name: string) => {
    const found = (dimensions as { Name: string; Value: unknown }[]).filter((d) => d.Name === name);
    expect(found, name).toHaveLength(1);
    return found[0]!.Value;
  };

  it("sends every alarm to the one SNS topic, alarming at or above the threshold, missing data not breaching", () => {
    for (const templates of [test, prod, opted]) {
      const [topicId] = only(templates.monitoring, "AWS::SNS::Topic");
      const alarms = alarmsOf(templates);
      // Four dead-letter queues, the stream's failed batches, the API's 5xx rate, failed after-commit
      // effects, the table's throttles, eight functions' throttles.
      expect(alarms).toHaveLength(4 + 1 + 1 + 1 + 1 + 8);
      for (const alarm of alarms) {
        expect(alarm.Properties?.AlarmActions).toEqual([{ Ref: topicId }]);
        expect(alarm.Properties?.OKActions).toBeUndefined();
        expect(alarm.Properties?.TreatMissingData).toBe("notBreaching");
        expect(alarm.Properties?.ComparisonOperator).toBe("GreaterThanOrEqualToThreshold");
        expect(alarm.Properties?.EvaluationPeriods).toBe(1);
        expect(alarm.Properties?.ActionsEnabled ?? true).toBe(true);
      }
      templates.monitoring.hasOutput("AlarmTopicArn", { Value: { Ref: topicId } });
    }
  });

  it("alarms on any failed after-commit effect, on the metric the functions publish (EffectsFailed)", () => {
    for (const templates of [test, prod]) {
      const effects = alarmsOf(templates).filter((a) => a.Properties?.MetricName === "EffectsFailed");
      expect(effects).toHaveLength(1);
      expect(effects[0]!.Properties).toMatchObject({
        Namespace: METRICS_NAMESPACE,
        Dimensions: [{ Name: "service", Value: SERVICE }],
        Statistic: "Sum",
        Period: 300,
        Threshold: ALARMS.effectsFailed,
      });
    }
  });

  it("subscribes ALARM_EMAIL to the topic only when it is set at synth", () => {
    for (const templates of [test, prod]) {
      expect(Object.keys(templates.monitoring.findResources("AWS::SNS::Subscription"))).toHaveLength(0);
      expect(only(templates.monitoring, "AWS::SNS::Topic")[1].Properties?.Subscription).toBeUndefined();
    }
    const [topicId] = only(opted.monitoring, "AWS::SNS::Topic");
    const [, subscription] = only(opted.monitoring, "AWS::SNS::Subscription");
    expect(subscription.Properties).toMatchObject({
      Protocol: "email",
      Endpoint: ALARM_EMAIL,
      TopicArn: { Ref: topicId },
    });
  });

  it("alarms on any message in each dead-letter queue (billing, lifecycle, mail, webhook deliveries) and the stream's failed batches, and on no work queue", () => {
    for (const templates of [test, prod]) {
      const sqsAlarms = alarmsOf(templates).filter((a) => a.Properties?.Namespace === "AWS/SQS");
      expect(sqsAlarms).toHaveLength(5);
      const watched = sqsAlarms.map((alarm) => {
        const props = alarm.Properties ?? {};
        expect(props.MetricName).toBe("ApproximateNumberOfMessagesVisible");
        expect(props.Statistic).toBe("Maximum");
        expect(props.Period).toBe(FIVE_MINUTES);
        expect(props.Threshold).toBe(ALARMS.deadLetters);
        expect(props.Threshold).toBe(1);
        expect(props.Dimensions).toHaveLength(1);
        const { stack, value } = resolveImport(templates, dimension(props.Dimensions, "QueueName"));
        expect(["jobs", "webhooks"]).toContain(stack);
        return value;
      });
      const dlqNames = [
        ...["billing", "lifecycle", "mail"].map((name) => getAtt(queuesOf(templates.jobs, name).dlqId, "QueueName")),
        getAtt(deliveryQueues(templates).dlqId, "QueueName"),
        getAtt(streamFailuresQueueId(templates), "QueueName"),
      ];
      expect(watched).toHaveLength(dlqNames.length);
      for (const name of dlqNames) expect(watched).toContainEqual(name);
    }
  });

  it("alarms on the API's 5xx rate: 100 x 5xx / Count of the HTTP API's $default stage, once there are enough requests", () => {
    for (const templates of [test, prod]) {
      const apiAlarms = alarmsOf(templates).filter((a) =>
        JSON.stringify(a.Properties?.Metrics ?? []).includes('"AWS/ApiGateway"'),
      );
      expect(apiAlarms).toHaveLength(1);
      const props = apiAlarms[0]!.Properties ?? {};
      expect(props.Threshold).toBe(ALARMS.serverErrorPercent);
      expect(props.MetricName).toBeUndefined();
      const queries = props.Metrics as MetricQuery[];
      expect(queries).toHaveLength(3);

      const [httpApiId] = only(templates.api, "AWS::ApiGatewayV2::Api");
      const stats = queries.filter((q) => q.MetricStat);
      expect(stats).toHaveLength(2);
      const idOf: Record<string, string> = {};
      for (const q of stats) {
        const stat = q.MetricStat!;
        expect(q.ReturnData).toBe(false);
        expect(stat.Metric.Namespace).toBe("AWS/ApiGateway");
        expect(stat.Stat).toBe("Sum");
        expect(stat.Period).toBe(FIVE_MINUTES);
        expect(stat.Metric.Dimensions).toHaveLength(2);
        expect(dimension(stat.Metric.Dimensions, "Stage")).toBe("$default");
        expect(resolveImport(templates, dimension(stat.Metric.Dimensions, "ApiId"))).toEqual({
          stack: "api",
          value: { Ref: httpApiId },
        });
        idOf[stat.Metric.MetricName] = q.Id;
      }
      expect(Object.keys(idOf).sort()).toEqual(["5xx", "Count"]);

      const expressions = queries.filter((q) => q.Expression !== undefined);
      expect(expressions).toHaveLength(1);
      expect(expressions[0]!.ReturnData ?? true).toBe(true);
      const expression = expressions[0]!.Expression!.replace(/\s+/g, " ");
      expect(expression).toContain(`100 * ${idOf["5xx"]} / ${idOf.Count}`);
      expect(expression).toContain(`${idOf.Count} >= ${ALARMS.serverErrorMinRequests}`);
    }
  });

  it("alarms on DynamoDB throttled requests of the table, summed over the operations the functions use", () => {
    for (const templates of [test, prod]) {
      const dynamoAlarms = alarmsOf(templates).filter((a) =>
        JSON.stringify(a.Properties ?? {}).includes('"AWS/DynamoDB"'),
      );
      expect(dynamoAlarms).toHaveLength(1);
      const props = dynamoAlarms[0]!.Properties ?? {};
      expect(props.Threshold).toBe(ALARMS.tableThrottles);
      const queries = props.Metrics as MetricQuery[];
      const tableId = only(templates.data, "AWS::DynamoDB::Table")[0];
      const stats = queries.filter((q) => q.MetricStat);
      const operations = stats.map((q) => {
        const stat = q.MetricStat!;
        expect(q.ReturnData).toBe(false);
        expect(stat.Metric.Namespace).toBe("AWS/DynamoDB");
        expect(stat.Metric.MetricName).toBe("ThrottledRequests");
        expect(stat.Stat).toBe("Sum");
        expect(stat.Period).toBe(FIVE_MINUTES);
        expect(resolveImport(templates, dimension(stat.Metric.Dimensions, "TableName"))).toEqual({
          stack: "data",
          value: { Ref: tableId },
        });
        return dimension(stat.Metric.Dimensions, "Operation") as string;
      });
      // Every operation granted to some function (transactions are authorised per item but throttled as TransactWriteItems).
      for (const op of [
        "GetItem",
        "BatchGetItem",
        "Query",
        "PutItem",
        "UpdateItem",
        "DeleteItem",
        "BatchWriteItem",
        "TransactWriteItems",
      ]) {
        expect(operations).toContain(op);
      }
      expect(operations).not.toContain("Scan");
      // The alarm watches the sum of them all, each term FILLed with 0: DynamoDB publishes the
      // metric only for throttled operations, and a sum with a missing term has no value.
      const expressions = queries.filter((q) => q.Expression !== undefined);
      expect(expressions).toHaveLength(1);
      expect(expressions[0]!.ReturnData ?? true).toBe(true);
      const terms = expressions[0]!
        .Expression!.split("+")
        .map((t) => t.trim())
        .sort();
      expect(terms).toEqual(stats.map((q) => `FILL(${q.Id}, 0)`).sort());
    }
  });

  it("alarms on Lambda throttles of every function: graphql, documents, scheduler, the four workers and the stream consumer", () => {
    for (const templates of [test, prod]) {
      const lambdaAlarms = alarmsOf(templates).filter((a) => a.Properties?.Namespace === "AWS/Lambda");
      expect(lambdaAlarms).toHaveLength(Object.keys(FUNCTIONS).length);
      const watched = lambdaAlarms.map((alarm) => {
        const props = alarm.Properties ?? {};
        expect(props.MetricName).toBe("Throttles");
        expect(props.Statistic).toBe("Sum");
        expect(props.Period).toBe(FIVE_MINUTES);
        expect(props.Threshold).toBe(ALARMS.lambdaThrottles);
        expect(props.Dimensions).toHaveLength(1);
        return resolveImport(templates, dimension(props.Dimensions, "FunctionName"));
      });
      for (const [name, [stack, handler]] of Object.entries(FUNCTIONS)) {
        const [functionId] = functionByHandler(templates[stack], handler);
        expect(watched, name).toContainEqual({ stack, value: { Ref: functionId } });
      }
      // No application function without its throttle alarm (SST's own custom-resource handler aside).
      const appFunctions = (["api", "jobs", "webhooks"] as const).flatMap((stack) =>
        (Object.values(templates[stack].findResources("AWS::Lambda::Function")) as Resource[])
          .map((fn) => fn.Properties?.Handler as string)
          .filter((handler) => handler.startsWith("functions/")),
      );
      expect(appFunctions.sort()).toEqual(
        Object.values(FUNCTIONS)
          .map(([, handler]) => handler)
          .sort(),
      );
    }
  });
});
