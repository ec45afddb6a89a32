import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { sstSecret } from "./secrets.js";

/**
 * SSM has no local engine: a loopback endpoint answers GetParameters as SSM's JSON protocol does,
 * holding SecureString values by path, and records what was asked.
 */
const stored = new Map<string, string>();
const asked: { target: string; names: string[]; decrypt: boolean }[] = [];
const server = createServer((req, res) => {
  let body = "";
  req.on("data", (c: Buffer) => (body += c.toString()));
  req.on("end", () => {
    const input = JSON.parse(body) as { Names: string[]; WithDecryption: boolean };
    asked.push({ target: String(req.headers["x-amz-target"]), names: input.Names, decrypt: input.WithDecryption });
    res.writeHead(200, { "content-type": "application/x-amz-json-1.1" });
    res.end(
      JSON.stringify({
        Parameters: input.Names.filter((n) => stored.has(n)).map((n) => ({
          Name: n,
          Type: "SecureString",
          Value: stored.get(n),
        })),
        InvalidParameters: input.Names.filter((n) => !stored.has(n)),
      }),
    );
  });
});
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  // The SDK's credential chain reads the process environment (Lambda's role credentials are there too).
  vi.stubEnv("AWS_ACCESS_KEY_ID", "local");
  vi.stubEnv("AWS_SECRET_ACCESS_KEY", "local");
  env = {
    AWS_REGION: "eu-west-1",
    AWS_ENDPOINT_URL_SSM: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    SST_APP: "channel-partner-api",
    SST_SSM_PREFIX: "/sst/channel-partner-api/prod/",
    SST_Secret_value_DEVICE_SIGNING_KEY: "__FETCH_FROM_SSM__",
  };
});
afterAll(async () => {
  vi.unstubAllEnvs();
  await new Promise<void>((r) => server.close(() => r()));
});

describe("SST secrets", () => {
  it("are read only when bound to the function", async () => {
    expect(
      await sstSecret("DEVICE_SIGNING_KEY", { ...env, SST_Secret_value_DEVICE_SIGNING_KEY: undefined }),
    ).toBeUndefined();
    expect(asked).toEqual([]);
  });

  it("are the stage's decrypted value, else the app-wide fallback, as SST resolves them", async () => {
    stored.set("/sst/channel-partner-api/.fallback/Secret/DEVICE_SIGNING_KEY/value", "fallback-key");
    expect(await sstSecret("DEVICE_SIGNING_KEY", env)).toBe("fallback-key");
    stored.set("/sst/channel-partner-api/prod/Secret/DEVICE_SIGNING_KEY/value", "stage-key");
    expect(await sstSecret("DEVICE_SIGNING_KEY", env)).toBe("stage-key");
    expect(asked.at(-1)).toEqual({
      target: "AmazonSSM.GetParameters",
      names: [
        "/sst/channel-partner-api/prod/Secret/DEVICE_SIGNING_KEY/value",
        "/sst/channel-partner-api/.fallback/Secret/DEVICE_SIGNING_KEY/value",
      ],
      decrypt: true,
    });
  });

  it("a bound secret that was never set is a clear error", async () => {
    stored.clear();
    await expect(sstSecret("DEVICE_SIGNING_KEY", env)).rejects.toThrow(/DEVICE_SIGNING_KEY is not set for this stage/);
  });
});
