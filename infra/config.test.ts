import { describe, expect, it } from "vitest";
import { loadConfig, loadJobsConfig, loadMailConfig } from "./config.js";

const api = {
  TABLE_NAME: "t",
  AUTH_JWKS_URL: "https://idp.example.com/.well-known/jwks.json",
  AUTH_ISSUER: "https://idp.example.com/",
  AUTH_AUDIENCE: "channel-partner-api",
  MAIL_QUEUE_URL: "https://sqs.eu-west-1.amazonaws.com/123456789012/mail",
};

describe("configuration", () => {
  it("reads the API function's environment, with defaults", () => {
    expect(loadConfig(api)).toMatchObject({
      stage: "local",
      region: "eu-west-1",
      tableName: "t",
      mailQueueUrl: api.MAIL_QUEUE_URL,
      introspection: false,
      invoiceIssuerName: "Channel Partner Platform",
    });
    expect(loadConfig({ ...api, GRAPHQL_INTROSPECTION: "true" }).introspection).toBe(true);
  });

  it("names the variables at fault, never their values", () => {
    expect(() => loadConfig({ ...api, TABLE_NAME: undefined, AUTH_JWKS_URL: "not a url" })).toThrow(
      "Invalid configuration: TABLE_NAME, AUTH_JWKS_URL",
    );
    const secret = JSON.stringify({ kty: "EC", crv: "P-256", x: "x", y: "y" });
    expect(() => loadConfig({ ...api, DEVICE_SIGNING_KEY: secret })).toThrow(
      /^Invalid configuration: DEVICE_SIGNING_KEY$/,
    );
    expect(() => loadJobsConfig({ BILLING_QUEUE_URL: "nope" })).toThrow(
      "Invalid configuration: TABLE_NAME, BILLING_QUEUE_URL",
    );
  });

  it("gives the mail worker only its sender and region", () => {
    expect(loadMailConfig({})).toEqual({ region: "eu-west-1", mailFrom: "no-reply@example.com" });
    expect(loadMailConfig({ AWS_REGION: "us-east-1", MAIL_FROM: "Partners <no-reply@p.example>" })).toEqual({
      region: "us-east-1",
      mailFrom: "Partners <no-reply@p.example>",
    });
    expect(() => loadMailConfig({ MAIL_FROM: "x" })).toThrow("Invalid configuration: MAIL_FROM");
  });
});
