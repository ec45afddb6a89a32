/**
 * Synthesises the SST stacks offline (no AWS credentials, no network) and checks the
 * CloudFormation they produce.
 *
 * How SST is initialised (mirrors `sst deploy`, see node_modules/sst/stacks/synth.js):
 * - `initProject({ stage })` loads sst.config.ts (name, region) into SST's project singleton.
 * - `new App({ mode: "deploy", ... })` with an explicit account, so nothing asks STS.
 * - the real `stacks(app)` of sst.config.ts runs (default removal policy, default function
 *   props, Data, Api then Jobs), then `app.finish()` runs SST's deferred tasks (function builds).
 * - NODE_ENV=test (vitest's default, forced here) makes `App.finish()` skip the bootstrap-stack
 *   lookup, which is the only AWS call on this path.
 *
 * Function code: SST bundles every function with esbuild during `finish()`. To keep this test
 * independent of the handler's contents, the Node.js build is replaced by a stub that writes a
 * one-line handler at the path SST would produce. Set STACKS_TEST_BUNDLE=1 to bundle the real
 * handlers (`functions/graphql.ts`, `functions/scheduler.ts`, `functions/*-worker.ts`) instead
 * (run from the project root).
 */
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Template } from "aws-cdk-lib/assertions";
import { App, getStack } from "sst/constructs";
import { initProject, useProject } from "sst/project.js";
import { useRuntimeHandlers } from "sst/runtime/handlers.js";
import type { RuntimeHandler } from "sst/runtime/handlers.js";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { tableSchema } from "../infra/table-schema.js";
import sstConfig from "../sst.config.js";
import { Api, INDEX_ACTIONS, TABLE_ACTIONS } from "../stacks/Api.js";
import { Data } from "../stacks/Data.js";
import { Jobs } from "../stacks/Jobs.js";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const ACCOUNT = "123456789012";
const MAIL_DOMAIN = "mail.example.org";
const MAIL_ADDRESS = `no-reply@${MAIL_DOMAIN}`;
const TIMEOUT = 60_000;
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
}

let stubbed = false;
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
}

async function synth(stage: string): Promise<Templates> {
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
  return {
    data: Template.fromStack(getStack(Data)),
    api: Template.fromStack(getStack(Api)),
    jobs: Template.fromStack(getStack(Jobs)),
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

beforeAll(async () => {
  test = await synth("test");
  prod = await synth("prod");
}, TIMEOUT);

afterAll(() => {
  vi.unstubAllEnvs();
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
    expect(props.StreamSpecification).toBeUndefined();
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
  function graphqlFunction(template: Template): [string, Resource] {
    const entries = Object.entries(template.findResources("AWS::Lambda::Function")).filter(
      ([, r]) => (r as Resource).Properties?.Handler === "functions/graphql.handler",
    ) as [string, Resource][];
    expect(entries).toHaveLength(1);
    return entries[0]!;
  }

  it("routes POST /graphql, GET /graphql, GET /health and the invoice documents to the one graphql function", () => {
    const routes = Object.values(test.api.findResources("AWS::ApiGatewayV2::Route")) as Resource[];
    expect(routes.map((r) => r.Properties?.RouteKey).sort()).toEqual([
      "GET /graphql",
      "GET /health",
      "GET /invoices/{file}",
      "POST /graphql",
    ]);
    expect(routes.every((r) => r.Properties?.AuthorizationType === "NONE")).toBe(true);

    const [functionId] = graphqlFunction(test.api);
    const integrations = Object.values(test.api.findResources("AWS::ApiGatewayV2::Integration")) as Resource[];
    expect(integrations).toHaveLength(4);
    for (const integration of integrations) {
      expect(integration.Properties?.IntegrationType).toBe("AWS_PROXY");
      expect(integration.Properties?.PayloadFormatVersion).toBe("2.0");
      expect(integration.Properties?.IntegrationUri).toEqual({ "Fn::GetAtt": [functionId, "Arn"] });
    }
  });

  it("configures the graphql function (runtime, architecture, limits, environment)", () => {
    const [, fn] = graphqlFunction(test.api);
    const props = fn.Properties ?? {};
    expect(props.Runtime).toBe("nodejs22.x");
    expect(props.Architectures).toEqual(["arm64"]);
    expect(props.Timeout).toBe(10);
    expect(props.MemorySize).toBe(1024);
    const env = (props.Environment as { Variables: Json }).Variables;
    expect(env).toMatchObject({
      STAGE: "test",
      AUTH_ISSUER: "https://issuer.test/",
      AUTH_AUDIENCE: "test-audience",
      AUTH_JWKS_URL: "https://issuer.test/jwks.json",
      MAIL_FROM: `Channel Partners <${MAIL_ADDRESS}>`,
      DEVICE_SIGNING_KEY,
    });
    expect(JSON.stringify(env.TABLE_NAME)).toContain("Fn::ImportValue");

    const [, prodFn] = graphqlFunction(prod.api);
    expect((prodFn.Properties?.Environment as { Variables: Json }).Variables.STAGE).toBe("prod");
  });

  it("grants the graphql function only the table, its indexes and SES sending", () => {
    // The Data stack exports the table ARN; the Api stack must import exactly that.
    const tableId = only(test.data, "AWS::DynamoDB::Table")[0];
    const outputs = test.data.toJSON().Outputs as Record<string, { Value: unknown; Export?: { Name: string } }>;
    const arnExport = Object.values(outputs).find(
      (o) => JSON.stringify(o.Value) === JSON.stringify({ "Fn::GetAtt": [tableId, "Arn"] }),
    )?.Export?.Name;
    expect(arnExport).toBeTypeOf("string");
    const tableArn = { "Fn::ImportValue": arnExport };
    const indexArn = { "Fn::Join": ["", [tableArn, "/index/*"]] };

    const [, fn] = graphqlFunction(test.api);
    const roleId = (fn.Properties?.Role as { "Fn::GetAtt": [string, string] })["Fn::GetAtt"][0];
    const policies = Object.values(test.api.findResources("AWS::IAM::Policy")) as Resource[];
    const statements = policies
      .filter((p) => JSON.stringify(p.Properties?.Roles).includes(JSON.stringify({ Ref: roleId })))
      .flatMap((p) => (p.Properties?.PolicyDocument as { Statement: Statement[] }).Statement);

    const dynamo = statements.filter((s) => asArray(s.Action).some((a) => a.startsWith("dynamodb:")));
    const dynamoActions = dynamo.flatMap((s) => asArray(s.Action));
    expect(dynamoActions).not.toContain("dynamodb:*");
    expect(dynamoActions).not.toContain("dynamodb:Scan");
    expect([...new Set(dynamoActions)].sort()).toEqual([...new Set([...TABLE_ACTIONS, ...INDEX_ACTIONS])].sort());
    for (const s of dynamo) {
      expect(s.Effect).toBe("Allow");
      for (const resource of asArray(s.Resource)) {
        expect(resource).not.toBe("*");
        expect([tableArn, indexArn]).toContainEqual(resource);
      }
    }
    // Item actions on the table only; the indexes can only be queried.
    const onIndex = dynamo.filter((s) => asArray(s.Resource).some((r) => JSON.stringify(r) === JSON.stringify(indexArn)));
    expect(onIndex.flatMap((s) => asArray(s.Action))).toEqual(["dynamodb:Query"]);

    const ses = statements.filter((s) => asArray(s.Action).some((a) => a.startsWith("ses:")));
    expect(ses.flatMap((s) => asArray(s.Action)).sort()).toEqual(["ses:SendEmail", "ses:SendRawEmail"]);
    const sesResources = JSON.stringify(ses.flatMap((s) => asArray(s.Resource)));
    expect(sesResources).not.toContain('"*"');
    expect(sesResources).toContain(`:ses:eu-west-1:${ACCOUNT}:identity/${MAIL_DOMAIN}`);
    expect(sesResources).toContain(`:ses:eu-west-1:${ACCOUNT}:identity/${MAIL_ADDRESS}`);

    // No statement of the function grants anything on "*" except X-Ray tracing.
    for (const s of statements) {
      if (asArray(s.Resource).includes("*")) {
        expect(asArray(s.Action).every((a) => a.startsWith("xray:"))).toBe(true);
      }
    }

    // Nothing in either stack, for any role, may Scan or hold dynamodb:*.
    for (const template of [test.data, test.api, prod.data, prod.api]) {
      const json = JSON.stringify(template.toJSON());
      expect(json).not.toContain('"dynamodb:*"');
      expect(json).not.toContain('"dynamodb:Scan"');
      expect(json).not.toMatch(/AmazonDynamoDB\w*Access/);
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
  const SCHEDULES = { billing: "cron(5 0 1 * ? *)", lifecycle: "cron(15 0 * * ? *)" } as const;
  const JOB_NAMES = Object.keys(SCHEDULES) as (keyof typeof SCHEDULES)[];
  const WORKER_TIMEOUT = 60;
  const CONSUME_ACTIONS = [
    "sqs:ChangeMessageVisibility",
    "sqs:DeleteMessage",
    "sqs:GetQueueAttributes",
    "sqs:GetQueueUrl",
    "sqs:ReceiveMessage",
  ];
  const SES_ACTIONS = ["ses:SendEmail", "ses:SendRawEmail"];

  const getAtt = (id: string, attribute = "Arn") => ({ "Fn::GetAtt": [id, attribute] });
  const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

  function functionByHandler(template: Template, handler: string): [string, Resource] {
    const entries = Object.entries(template.findResources("AWS::Lambda::Function")).filter(
      ([, r]) => (r as Resource).Properties?.Handler === handler,
    ) as [string, Resource][];
    expect(entries, handler).toHaveLength(1);
    return entries[0]!;
  }
  const workerOf = (template: Template, job: string) => functionByHandler(template, `functions/${job}-worker.handler`);
  const schedulerOf = (template: Template) => functionByHandler(template, "functions/scheduler.handler");

  /** The job's work queue (the one its worker consumes) and the dead-letter queue it redrives to. */
  function queuesOf(template: Template, job: string): { queueId: string; queue: Resource; dlqId: string; dlq: Resource } {
    const [workerId] = workerOf(template, job);
    const mappings = (Object.values(template.findResources("AWS::Lambda::EventSourceMapping")) as Resource[]).filter(
      (m) => same(m.Properties?.FunctionName, { Ref: workerId }),
    );
    expect(mappings).toHaveLength(1);
    const queueId = (mappings[0]!.Properties?.EventSourceArn as { "Fn::GetAtt": [string, string] })["Fn::GetAtt"][0];
    const queues = template.findResources("AWS::SQS::Queue") as Record<string, Resource>;
    const queue = queues[queueId]!;
    expect(queue, queueId).toBeDefined();
    const redrive = queue.Properties?.RedrivePolicy as { deadLetterTargetArn: { "Fn::GetAtt": [string, string] } };
    const dlqId = redrive.deadLetterTargetArn["Fn::GetAtt"][0];
    const dlq = queues[dlqId]!;
    expect(dlq, dlqId).toBeDefined();
    return { queueId, queue, dlqId, dlq };
  }

  function roleStatements(template: Template, fn: Resource): Statement[] {
    const roleId = (fn.Properties?.Role as { "Fn::GetAtt": [string, string] })["Fn::GetAtt"][0];
    return (Object.values(template.findResources("AWS::IAM::Policy")) as Resource[])
      .filter((p) => JSON.stringify(p.Properties?.Roles).includes(JSON.stringify({ Ref: roleId })))
      .flatMap((p) => (p.Properties?.PolicyDocument as { Statement: Statement[] }).Statement);
  }
  const actionsOf = (statements: Statement[], prefix: string) =>
    [...new Set(statements.flatMap((s) => asArray(s.Action)).filter((a) => a.startsWith(prefix)))].sort();
  const resourcesOf = (statements: Statement[], prefix: string) =>
    statements.filter((s) => asArray(s.Action).some((a) => a.startsWith(prefix))).flatMap((s) => asArray(s.Resource));

  /** The table ARN as the Jobs stack imports it from the Data stack, and the index ARN pattern. */
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

  /** Only DynamoDB, SES, SQS and X-Ray; "*" only for X-Ray tracing. */
  function expectOnlyKnownServices(statements: Statement[]): void {
    for (const s of statements) {
      expect(s.Effect).toBe("Allow");
      for (const action of asArray(s.Action)) expect(action).toMatch(/^(dynamodb|ses|sqs|xray):\w+$/);
      if (asArray(s.Resource).includes("*")) {
        expect(asArray(s.Action).every((a) => a.startsWith("xray:"))).toBe(true);
      }
    }
  }

  it("starts the one scheduler function from two cron rules: monthly billing, daily lifecycle", () => {
    for (const templates of [test, prod]) {
      const [schedulerId] = schedulerOf(templates.jobs);
      const rules = Object.values(templates.jobs.findResources("AWS::Events::Rule")) as Resource[];
      expect(rules).toHaveLength(2);
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
      });
      // Each rule may invoke the scheduler (and only the scheduler).
      const permissions = Object.values(templates.jobs.findResources("AWS::Lambda::Permission")) as Resource[];
      const fromEvents = permissions.filter((p) => p.Properties?.Principal === "events.amazonaws.com");
      expect(fromEvents).toHaveLength(2);
      for (const p of fromEvents) expect(p.Properties?.FunctionName).toEqual(getAtt(schedulerId));
    }
  });

  it("gives each job a work queue and its own dead-letter queue (5 receives, 14 days, visibility >= 6x timeout)", () => {
    for (const templates of [test, prod]) {
      expect(Object.keys(templates.jobs.findResources("AWS::SQS::Queue"))).toHaveLength(4);
      const dlqIds = new Set<string>();
      for (const job of JOB_NAMES) {
        const { queue, dlqId, dlq } = queuesOf(templates.jobs, job);
        const [, worker] = workerOf(templates.jobs, job);
        const workerTimeout = worker.Properties?.Timeout as number;
        expect(workerTimeout).toBe(WORKER_TIMEOUT);
        expect(queue.Properties?.VisibilityTimeout as number).toBeGreaterThanOrEqual(6 * workerTimeout);
        expect((queue.Properties?.RedrivePolicy as Json).maxReceiveCount).toBe(5);
        expect(dlq.Properties?.MessageRetentionPeriod).toBe(14 * 24 * 60 * 60);
        // A dead-letter queue is the end of the line.
        expect(dlq.Properties?.RedrivePolicy).toBeUndefined();
        dlqIds.add(dlqId);
      }
      expect(dlqIds.size).toBe(2);
    }
  });

  it("destroys the queues with a non-production stage and retains them on prod", () => {
    for (const [templates, policy] of [
      [test, "Delete"],
      [prod, "Retain"],
    ] as const) {
      for (const queue of Object.values(templates.jobs.findResources("AWS::SQS::Queue")) as Resource[]) {
        expect(queue.DeletionPolicy).toBe(policy);
        expect(queue.UpdateReplacePolicy).toBe(policy);
      }
    }
  });

  it("feeds each worker from its queue with partial batch responses", () => {
    for (const templates of [test, prod]) {
      const mappings = Object.values(templates.jobs.findResources("AWS::Lambda::EventSourceMapping")) as Resource[];
      expect(mappings).toHaveLength(2);
      for (const job of JOB_NAMES) {
        const [workerId] = workerOf(templates.jobs, job);
        const { queueId } = queuesOf(templates.jobs, job);
        const mapping = mappings.find((m) => same(m.Properties?.FunctionName, { Ref: workerId }))!;
        expect(mapping.Properties?.EventSourceArn).toEqual(getAtt(queueId));
        expect(mapping.Properties?.FunctionResponseTypes).toEqual(["ReportBatchItemFailures"]);
        expect(mapping.Properties?.BatchSize).toBe(10);
        const window = mapping.Properties?.MaximumBatchingWindowInSeconds as number;
        expect(window).toBeGreaterThanOrEqual(1);
        expect(window).toBeLessThanOrEqual(10);
      }
    }
  });

  it("configures the workers and the scheduler (limits, environment)", () => {
    const graphqlEnv = (
      functionByHandler(test.api, "functions/graphql.handler")[1].Properties?.Environment as { Variables: Json }
    ).Variables;
    for (const [templates, stage] of [
      [test, "test"],
      [prod, "prod"],
    ] as const) {
      const billing = queuesOf(templates.jobs, "billing");
      const lifecycle = queuesOf(templates.jobs, "lifecycle");
      for (const [fn, timeout] of [
        [workerOf(templates.jobs, "billing")[1], WORKER_TIMEOUT],
        [workerOf(templates.jobs, "lifecycle")[1], WORKER_TIMEOUT],
        [schedulerOf(templates.jobs)[1], 300],
      ] as const) {
        const props = fn.Properties ?? {};
        expect(props.Runtime).toBe("nodejs22.x");
        expect(props.Architectures).toEqual(["arm64"]);
        expect(props.Timeout).toBe(timeout);
        expect(props.MemorySize).toBe(1024);
        const env = (props.Environment as { Variables: Json }).Variables;
        expect(env).toMatchObject({
          STAGE: stage,
          // The same sender as the API, from the same MAIL_FROM.
          MAIL_FROM: graphqlEnv.MAIL_FROM,
          INVOICE_ISSUER_NAME: "Channel Partner Platform",
          BILLING_QUEUE_URL: { Ref: billing.queueId },
          LIFECYCLE_QUEUE_URL: { Ref: lifecycle.queueId },
        });
        // The equipment key stays with the API function.
        expect(env.DEVICE_SIGNING_KEY).toBeUndefined();
        expect(JSON.stringify(env.TABLE_NAME)).toContain("Fn::ImportValue");
      }
    }
  });

  it("grants each worker only the table, its indexes (Query), SES sending and consuming its own queue", () => {
    for (const templates of [test, prod]) {
      for (const job of JOB_NAMES) {
        const statements = roleStatements(templates.jobs, workerOf(templates.jobs, job)[1]);
        expectOnlyKnownServices(statements);
        expectTableAccess(templates, statements, [...TABLE_ACTIONS, "dynamodb:BatchWriteItem"]);

        expect(actionsOf(statements, "ses:")).toEqual(SES_ACTIONS);
        const sesResources = JSON.stringify(resourcesOf(statements, "ses:"));
        expect(sesResources).not.toContain('"*"');
        expect(sesResources).toContain(`:ses:eu-west-1:${ACCOUNT}:identity/${MAIL_DOMAIN}`);
        expect(sesResources).toContain(`:ses:eu-west-1:${ACCOUNT}:identity/${MAIL_ADDRESS}`);
        expect(resourcesOf(statements, "ses:")).toHaveLength(2);

        // Consume (from the event source), never send, and only on the job's own work queue.
        const { queueId } = queuesOf(templates.jobs, job);
        expect(actionsOf(statements, "sqs:")).toEqual(CONSUME_ACTIONS);
        expect(resourcesOf(statements, "sqs:")).toEqual([getAtt(queueId)]);
      }
    }
  });

  it("lets the scheduler read the table and send to the work queues, never to the dead-letter queues", () => {
    for (const templates of [test, prod]) {
      const statements = roleStatements(templates.jobs, schedulerOf(templates.jobs)[1]);
      expectOnlyKnownServices(statements);
      expectTableAccess(templates, statements, ["dynamodb:BatchGetItem", "dynamodb:GetItem", "dynamodb:Query"]);
      expect(actionsOf(statements, "ses:")).toEqual([]);

      expect(actionsOf(statements, "sqs:")).toEqual(["sqs:SendMessage"]);
      const sqsResources = resourcesOf(statements, "sqs:");
      const work = JOB_NAMES.map((job) => getAtt(queuesOf(templates.jobs, job).queueId));
      const dead = JOB_NAMES.map((job) => getAtt(queuesOf(templates.jobs, job).dlqId));
      expect(sqsResources).toHaveLength(2);
      for (const arn of work) expect(sqsResources).toContainEqual(arn);
      for (const arn of dead) expect(sqsResources).not.toContainEqual(arn);
    }
  });

  it("grants no dynamodb:*, Scan or sqs:* in any stack, and no managed access policies", () => {
    for (const templates of [test, prod]) {
      for (const template of [templates.data, templates.api, templates.jobs]) {
        const json = JSON.stringify(template.toJSON());
        expect(json).not.toContain('"dynamodb:*"');
        expect(json).not.toContain('"dynamodb:Scan"');
        expect(json).not.toContain('"sqs:*"');
        expect(json).not.toMatch(/Amazon(DynamoDB|SQS|SES)\w*Access/);
      }
    }
  });

  it("outputs the queue URLs", () => {
    const billing = queuesOf(test.jobs, "billing");
    const lifecycle = queuesOf(test.jobs, "lifecycle");
    test.jobs.hasOutput("BillingQueueUrl", { Value: { Ref: billing.queueId } });
    test.jobs.hasOutput("LifecycleQueueUrl", { Value: { Ref: lifecycle.queueId } });
    test.jobs.hasOutput("BillingDeadLetterQueueUrl", { Value: { Ref: billing.dlqId } });
    test.jobs.hasOutput("LifecycleDeadLetterQueueUrl", { Value: { Ref: lifecycle.dlqId } });
  });
});
