import type { JWK } from "jose";
import * as z from "zod";
import { isDeviceSigningJwk } from "./device-keys.js";
import type { Issuer } from "./documents.js";
import { DEFAULT_REQUEST_BUDGET } from "./request-budget.js";

/** Runtime configuration: read from the environment once, here, and nowhere else. */
export interface Config {
  readonly stage: string;
  readonly region: string;
  readonly tableName: string;
  /** Set for DynamoDB Local; absent in AWS. */
  readonly dynamoEndpoint?: string;
  readonly auth: {
    readonly jwksUrl: string;
    readonly issuer: string;
    readonly audience: string;
    /** Claim names for IdPs that differ (AUTH_EMAIL_CLAIM, AUTH_EMAIL_VERIFIED_CLAIM). */
    readonly claims: { readonly email: string; readonly emailVerified: string };
    /** AUTH_MAX_TOKEN_LIFETIME_SECONDS (default 24 h): longer-lived tokens are refused. */
    readonly maxLifetimeSeconds: number;
  };
  readonly mailFrom: string;
  /** Base URL used in mailed links (the partner portal's accept page). */
  readonly portalUrl: string;
  readonly bootstrapOperatorEmail: string;
  /** The service's equipment key (private ES256 JWK): signs device credentials, keys activation-code digests. */
  readonly deviceSigningKey?: JWK;
  /** GRAPHQL_INTROSPECTION=true: schema introspection on the endpoint (off by default). */
  readonly introspection: boolean;
  /** The mail queue: invitation mails are queued there and sent by the mail worker (the GraphQL function requires it). */
  readonly mailQueueUrl?: string;
  /** The vendor's name on invoices (documents function). */
  readonly invoiceIssuerName: string;
  /** The API's own key (private ES256 JWK): signs API client access tokens, seals webhook secrets. */
  readonly apiSigningKey?: JWK;
  /** The webhook delivery queue (test events and redeliveries are queued there). */
  readonly deliveryQueueUrl?: string;
  /** The vendor's legal identity on invoices: name, address, VAT and company registration numbers. */
  readonly invoiceIssuer: Issuer;
  /** REQUEST_BUDGET (default 300): DynamoDB requests one GraphQL request may make. */
  readonly requestBudget: number;
}

/** The issuer's details a VAT auditor looks for, per stage; the address takes "\n" or " | " between lines. */
const issuerEnv = {
  INVOICE_ISSUER_NAME: z.string().min(1).default("Channel Partner Platform"),
  INVOICE_ISSUER_ADDRESS: z.string().min(1).optional(),
  INVOICE_ISSUER_VAT_ID: z.string().min(1).optional(),
  INVOICE_ISSUER_COMPANY_NUMBER: z.string().min(1).optional(),
};

function issuerOf(e: {
  INVOICE_ISSUER_NAME: string;
  INVOICE_ISSUER_ADDRESS?: string | undefined;
  INVOICE_ISSUER_VAT_ID?: string | undefined;
  INVOICE_ISSUER_COMPANY_NUMBER?: string | undefined;
}): Issuer {
  return {
    name: e.INVOICE_ISSUER_NAME,
    ...(e.INVOICE_ISSUER_ADDRESS ? { address: e.INVOICE_ISSUER_ADDRESS.split(/\s*\|\s*|\\n|\n/).join("\n") } : {}),
    ...(e.INVOICE_ISSUER_VAT_ID ? { vatId: e.INVOICE_ISSUER_VAT_ID } : {}),
    ...(e.INVOICE_ISSUER_COMPANY_NUMBER ? { companyNumber: e.INVOICE_ISSUER_COMPANY_NUMBER } : {}),
  };
}

/** DEVICE_SIGNING_KEY: a private EC P-256 JWK, as JSON. */
const deviceSigningKey = z.string().transform((v, ctx) => {
  try {
    const jwk: unknown = JSON.parse(v);
    if (isDeviceSigningJwk(jwk)) return jwk;
  } catch {
    // reported below
  }
  ctx.addIssue({ code: "custom", message: "must be a private EC P-256 JWK (JSON)" });
  return z.NEVER;
});

const envSchema = z.object({
  STAGE: z.string().default("local"),
  AWS_REGION: z.string().default("eu-west-1"),
  TABLE_NAME: z.string().min(1),
  DYNAMO_ENDPOINT: z.string().url().optional(),
  AUTH_JWKS_URL: z.string().url(),
  AUTH_ISSUER: z.string().min(1),
  AUTH_AUDIENCE: z.string().min(1),
  AUTH_EMAIL_CLAIM: z.string().min(1).default("email"),
  AUTH_EMAIL_VERIFIED_CLAIM: z.string().min(1).default("email_verified"),
  AUTH_MAX_TOKEN_LIFETIME_SECONDS: z.coerce
    .number()
    .int()
    .positive()
    .max(30 * 86_400)
    .default(86_400),
  MAIL_FROM: z.string().email().default("no-reply@example.com"),
  PORTAL_URL: z.string().url().default("https://portal.example.com"),
  BOOTSTRAP_OPERATOR_EMAIL: z.string().email().default("operator@example.com"),
  DEVICE_SIGNING_KEY: deviceSigningKey.optional(),
  GRAPHQL_INTROSPECTION: z.string().optional(),
  MAIL_QUEUE_URL: z.string().url().optional(),
  API_SIGNING_KEY: deviceSigningKey.optional(),
  DELIVERY_QUEUE_URL: z.string().url().optional(),
  REQUEST_BUDGET: z.coerce.number().int().min(10).max(100_000).default(DEFAULT_REQUEST_BUDGET),
  ...issuerEnv,
});

/** A signing key secret's value (a private EC P-256 JWK as JSON), or a readable error that never shows the value. */
export function parseSigningKey(name: string, value: string): JWK {
  const parsed = deviceSigningKey.safeParse(value);
  if (!parsed.success) throw new Error(`Invalid configuration: ${name}`);
  return parsed.data;
}

/** Parses an environment with `schema`; throws a readable error naming the variables at fault (never their values). */
function parseEnv<S extends z.ZodType>(schema: S, env: NodeJS.ProcessEnv): z.output<S> {
  const parsed = schema.safeParse(env);
  if (!parsed.success)
    throw new Error(`Invalid configuration: ${parsed.error.issues.map((i) => i.path.join(".")).join(", ")}`);
  return parsed.data;
}

/** Parses the process environment; throws a readable error naming the missing variables. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const e = parseEnv(envSchema, env);
  return {
    stage: e.STAGE,
    region: e.AWS_REGION,
    tableName: e.TABLE_NAME,
    ...(e.DYNAMO_ENDPOINT ? { dynamoEndpoint: e.DYNAMO_ENDPOINT } : {}),
    auth: {
      jwksUrl: e.AUTH_JWKS_URL,
      issuer: e.AUTH_ISSUER,
      audience: e.AUTH_AUDIENCE,
      claims: { email: e.AUTH_EMAIL_CLAIM, emailVerified: e.AUTH_EMAIL_VERIFIED_CLAIM },
      maxLifetimeSeconds: e.AUTH_MAX_TOKEN_LIFETIME_SECONDS,
    },
    mailFrom: e.MAIL_FROM,
    portalUrl: e.PORTAL_URL,
    bootstrapOperatorEmail: e.BOOTSTRAP_OPERATOR_EMAIL.toLowerCase(),
    ...(e.DEVICE_SIGNING_KEY ? { deviceSigningKey: e.DEVICE_SIGNING_KEY } : {}),
    introspection: e.GRAPHQL_INTROSPECTION === "true",
    ...(e.MAIL_QUEUE_URL ? { mailQueueUrl: e.MAIL_QUEUE_URL } : {}),
    invoiceIssuerName: e.INVOICE_ISSUER_NAME,
    ...(e.API_SIGNING_KEY ? { apiSigningKey: e.API_SIGNING_KEY } : {}),
    ...(e.DELIVERY_QUEUE_URL ? { deliveryQueueUrl: e.DELIVERY_QUEUE_URL } : {}),
    invoiceIssuer: issuerOf(e),
    requestBudget: e.REQUEST_BUDGET,
  };
}

/** Configuration of the scheduled-run functions (scheduler and workers): no token checks there. */
export interface JobsConfig {
  readonly stage: string;
  readonly region: string;
  readonly tableName: string;
  readonly dynamoEndpoint?: string;
  readonly mailFrom: string;
  readonly portalUrl: string;
  readonly billingQueueUrl?: string;
  readonly lifecycleQueueUrl?: string;
  /** Trial reminders are queued for the mail worker like invitations. */
  readonly mailQueueUrl?: string;
  readonly invoiceIssuerName: string;
  readonly invoiceIssuer: Issuer;
  /** Accounts per billing chunk message (BILLING_CHUNK_SIZE; default 1,000). */
  readonly billingChunkSize?: number;
  /** The webhook delivery queue: the stream consumer fans events out to it; its worker holds messages there between attempts. */
  readonly deliveryQueueUrl?: string;
}

const jobsEnvSchema = z.object({
  STAGE: z.string().default("local"),
  AWS_REGION: z.string().default("eu-west-1"),
  TABLE_NAME: z.string().min(1),
  DYNAMO_ENDPOINT: z.string().url().optional(),
  MAIL_FROM: z.string().min(3).default("no-reply@example.com"),
  PORTAL_URL: z.string().url().default("https://portal.example.com"),
  BILLING_QUEUE_URL: z.string().url().optional(),
  LIFECYCLE_QUEUE_URL: z.string().url().optional(),
  MAIL_QUEUE_URL: z.string().url().optional(),
  ...issuerEnv,
  BILLING_CHUNK_SIZE: z.coerce.number().int().min(1).max(5_000).optional(),
  DELIVERY_QUEUE_URL: z.string().url().optional(),
});

export function loadJobsConfig(env: NodeJS.ProcessEnv = process.env): JobsConfig {
  const e = parseEnv(jobsEnvSchema, env);
  return {
    stage: e.STAGE,
    region: e.AWS_REGION,
    tableName: e.TABLE_NAME,
    ...(e.DYNAMO_ENDPOINT ? { dynamoEndpoint: e.DYNAMO_ENDPOINT } : {}),
    mailFrom: e.MAIL_FROM,
    portalUrl: e.PORTAL_URL,
    ...(e.BILLING_QUEUE_URL ? { billingQueueUrl: e.BILLING_QUEUE_URL } : {}),
    ...(e.LIFECYCLE_QUEUE_URL ? { lifecycleQueueUrl: e.LIFECYCLE_QUEUE_URL } : {}),
    ...(e.MAIL_QUEUE_URL ? { mailQueueUrl: e.MAIL_QUEUE_URL } : {}),
    invoiceIssuerName: e.INVOICE_ISSUER_NAME,
    invoiceIssuer: issuerOf(e),
    ...(e.BILLING_CHUNK_SIZE ? { billingChunkSize: e.BILLING_CHUNK_SIZE } : {}),
    ...(e.DELIVERY_QUEUE_URL ? { deliveryQueueUrl: e.DELIVERY_QUEUE_URL } : {}),
  };
}

/** The mail worker's configuration: the sender and the region. */
export function loadMailConfig(env: NodeJS.ProcessEnv = process.env): {
  readonly region: string;
  readonly mailFrom: string;
} {
  const e = parseEnv(
    z.object({
      AWS_REGION: z.string().default("eu-west-1"),
      MAIL_FROM: z.string().min(3).default("no-reply@example.com"),
    }),
    env,
  );
  return { region: e.AWS_REGION, mailFrom: e.MAIL_FROM };
}
