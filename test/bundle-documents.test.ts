import type { APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { localSigningJwk } from "../local/device-key.js";
import { INVOICE_FONTS } from "../stacks/function-defaults.js";
import { PLATFORM, lambdaEvent, ok, startTestStack } from "./harness.js";
import type { TestStack } from "./harness.js";
import { shipFunction, stackEnv } from "./bundle-runner.js";
import type { ShippedFunction } from "./bundle-runner.js";

/** One answer, whichever served it: status, the headers a client reads, the body's bytes. */
interface Download {
  readonly status: number;
  readonly type: string | null;
  readonly disposition: string | null;
  readonly body: Buffer;
}

const OWNER = "owner@documents-d.example";
const TRUNK = "RC-DRAAS-TRUNK-SUB";

/**
 * The documents function as `sst deploy` ships it (bundled, minified, the invoice fonts copied beside
 * it), run in a fresh node against the test stack's table with the same API key: every caller the
 * GraphQL function takes (a person, an API client) gets the same invoice files and the same refusals
 * as from the local server's downloads route, and an API client's downloads count against its rate
 * limit there too.
 */
describe("the documents function's minified bundle serves invoices as the local server does", () => {
  let t: TestStack;
  let fn: ShippedFunction;
  let apiKey: string;
  const ids = { d: "", invoice: "", pbxCredential: "" };
  const clients: Record<"owner" | "viewer" | "revoked", { id: string; clientId: string; secret: string }> = {
    owner: { id: "", clientId: "", secret: "" },
    viewer: { id: "", clientId: "", secret: "" },
    revoked: { id: "", clientId: "", secret: "" },
  };

  const clientToken = async (clientId: string, secret: string): Promise<string> => {
    const res = await fetch(`${t.url}/oauth/token`, {
      method: "POST",
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        authorization: `Basic ${Buffer.from(`${clientId}:${secret}`).toString("base64")}`,
      },
      body: "grant_type=client_credentials",
    });
    expect(res.status).toBe(200);
    return ((await res.json()) as { access_token: string }).access_token;
  };

  beforeAll(async () => {
    const jwk = await localSigningJwk(undefined, "api-key.json", "api");
    apiKey = JSON.stringify(jwk);
    [t, fn] = await Promise.all([startTestStack({ apiSigningKey: jwk }), shipFunction("documents", INVOICE_FONTS)]);
    await t.setClock("2026-10-05T09:00:00.000Z");
    ids.d = await t.createAccount({
      parentId: PLATFORM,
      kind: "DISTRIBUTOR",
      name: "Documents Distribution",
      owner: OWNER,
    });
    await t.offer(ids.d, [TRUNK]);
    await t.mutateOk(
      OWNER,
      "placeOrder",
      "PlaceOrderInput",
      { accountId: ids.d, lines: [{ sku: TRUNK, quantity: 2 }], idempotencyKey: "documents-own" },
      "order { id }",
    );
    for (const [key, role] of [
      ["owner", "OWNER"],
      ["viewer", "VIEWER"],
      ["revoked", "OWNER"],
    ] as const) {
      const created = await t.mutateOk<{ clientSecret: string; client: { id: string; clientId: string } }>(
        OWNER,
        "createApiClient",
        "CreateApiClientInput",
        { accountId: ids.d, name: `Documents ${key}`, role },
        "clientSecret client { id clientId }",
      );
      clients[key] = { id: created.client.id, clientId: created.client.clientId, secret: created.clientSecret };
    }
    // A PBX of the distributor's, paired: its credential is good for the device calls, never for invoices.
    ids.pbxCredential = (
      await t.pairEquipment(OWNER, {
        accountId: ids.d,
        name: "Documents OTEC",
        country: "US",
        serverType: "OTEC_S",
        outboundPrefix: "0",
      })
    ).credential;
    await t.setClock("2026-11-01T00:05:00.000Z");
    expect(await t.runJob("billing", "2026-10")).toMatchObject({ deadLettered: 0 });
    const invoices = ok<{ invoices: { edges: { node: { id: string } }[] } }>(
      await t.account(OWNER, ids.d, "invoices(first: 1) { edges { node { id } } }"),
    );
    ids.invoice = invoices.invoices.edges[0]?.node.id ?? "";
    expect(ids.invoice).not.toBe("");
    // The bundle checks tokens by the system clock: the stack issues them by the same time from here on.
    await t.setClock(new Date().toISOString());
  }, 120_000);
  afterAll(async () => {
    await t?.stop();
    fn?.remove();
  });

  /** The function's environment: the test stack's table, token issuer and API key, nothing else. */
  const bundleEnv = (): Record<string, string> => ({ ...stackEnv(t), API_SIGNING_KEY: apiKey });
  const fromBundle = (a: APIGatewayProxyStructuredResultV2): Download => ({
    status: a.statusCode ?? 0,
    type: a.headers?.["content-type"]?.toString() ?? null,
    disposition: a.headers?.["content-disposition"]?.toString() ?? null,
    body: Buffer.from(a.body ?? "", a.isBase64Encoded ? "base64" : "utf8"),
  });
  const fromServer = async (path: string, headers: Record<string, string>): Promise<Download> => {
    const res = await fetch(`${t.url}${path}`, { headers });
    return {
      status: res.status,
      type: res.headers.get("content-type"),
      disposition: res.headers.get("content-disposition"),
      body: Buffer.from(await res.arrayBuffer()),
    };
  };
  /** The owner client's rate counter: its window's start, the requests counted in it, when last used. */
  const usage = async () => {
    const c = await t.stack.integrations.getClient(
      Buffer.from(ids.d, "base64").toString("utf8").split(":")[1]!,
      clients.owner.clientId,
    );
    return { window: c?.window, count: c?.windowCount ?? 0, lastUsedAt: c?.lastUsedAt ?? "" };
  };

  it("a person, an OWNER client: the same CSV and PDF; a VIEWER client, a revoked client, a bad token, none, a PBX: the same refusals", async () => {
    // Prepare
    const revokedToken = await clientToken(clients.revoked.clientId, clients.revoked.secret);
    await t.mutateOk(OWNER, "revokeApiClient", "ApiClientRefInput", { clientId: clients.revoked.id }, "client { id }");
    const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
    const owner = bearer(await clientToken(clients.owner.clientId, clients.owner.secret));
    const file = (format: string) => `/invoices/${ids.invoice}.${format}`;
    const requests: { readonly path: string; readonly headers: Record<string, string> }[] = [
      { path: file("csv"), headers: owner },
      { path: file("pdf"), headers: owner },
      { path: file("csv"), headers: bearer(await t.token(OWNER)) },
      { path: file("csv"), headers: bearer(await clientToken(clients.viewer.clientId, clients.viewer.secret)) },
      { path: file("csv"), headers: bearer(revokedToken) },
      { path: file("csv"), headers: bearer("not-a-token") },
      { path: file("csv"), headers: {} },
      { path: file("csv"), headers: bearer(ids.pbxCredential) },
    ];
    const before = await usage();

    // Act
    const shipped = (
      (await fn.invoke(
        bundleEnv(),
        requests.map((r) => lambdaEvent({ method: "GET", path: r.path, headers: r.headers })),
      )) as APIGatewayProxyStructuredResultV2[]
    ).map(fromBundle);
    const after = await usage();
    const local = await Promise.all(requests.map((r) => fromServer(r.path, r.headers)));

    // Assert: the client got its files from the bundle, and its two requests were counted there.
    expect(shipped.map((d) => d.status)).toEqual([200, 200, 200, 404, 401, 401, 401, 401]);
    // (In the same minute's window as the token request, or in a new one if a minute began meanwhile.)
    expect(after.count - (after.window === before.window ? before.count : 0)).toBeGreaterThanOrEqual(1);
    expect(after.lastUsedAt > before.lastUsedAt).toBe(true);
    expect(shipped[0]?.body.toString("utf8")).toMatch(/^invoice_number/);
    expect(shipped[1]?.body.subarray(0, 5).toString("latin1")).toBe("%PDF-");
    expect(shipped[1]?.disposition).toMatch(/^attachment; filename=".+\.pdf"$/);
    // The same answers as the local server: every text body byte for byte; the PDF's type and name.
    expect(shipped.map(({ status, type, disposition }) => ({ status, type, disposition }))).toEqual(
      local.map(({ status, type, disposition }) => ({ status, type, disposition })),
    );
    for (const i of [0, 2, 3, 4, 5, 6, 7])
      expect(shipped[i]?.body.toString("utf8")).toBe(local[i]?.body.toString("utf8"));
  });
});
