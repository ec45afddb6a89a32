import { createHmac, randomUUID } from "node:crypto";
import { createServer } from "node:http";
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { SignJWT, UnsecuredJWT, exportJWK, exportSPKI, generateKeyPair } from "jose";
import type { JWK, JWTPayload, CryptoKey } from "jose";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { ensurePlatform } from "../core/bootstrap.js";
import type { Deps } from "../core/context.js";
import { createGraphQLServer } from "../graphql/server.js";
import { createTokenVerifier } from "../infra/auth.js";
import { SettableClock } from "../infra/clock.js";
import { createDocumentClient, ensureTable } from "../infra/dynamo.js";
import { OutboxMailer } from "../infra/mail.js";
import { Store } from "../infra/store.js";
import { localDeviceKeys } from "../local/device-key.js";

/**
 * The JWT negative matrix: bearer tokens the verifier must refuse, through the real
 * GraphQL server, against a JWKS served by this file (so it can fail, hang or redirect). Every
 * refusal is a 401 UNAUTHENTICATED before any resolver runs (the store sees no request).
 */

const ISSUER = "https://issuer.test/";
const AUDIENCE = "channel-partner-api";
const KID = "k1";
const QUERY = "{ viewer { email } }";

type JwksMode = "ok" | "500" | "hang" | "redirect";

interface Listening {
  readonly server: Server;
  readonly url: string;
  close(): Promise<void>;
}

async function listen(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<Listening> {
  const server = createServer(handler);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    server,
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A JWKS endpoint whose behaviour is fixed at start: serve the keys, 500, never answer, or 302 to `location`. */
async function jwksServer(
  jwks: { keys: JWK[] },
  mode: JwksMode,
  location?: string,
): Promise<Listening & { hits: number }> {
  const state = { hits: 0 };
  const l = await listen((_req, res) => {
    state.hits += 1;
    switch (mode) {
      case "ok":
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify(jwks));
        return;
      case "500":
        res.writeHead(500, { "content-type": "application/json" });
        res.end(JSON.stringify({ error: "boom" }));
        return;
      case "redirect":
        res.writeHead(302, { location: location ?? "/" });
        res.end();
        return;
      case "hang":
        return; // never answers
    }
  });
  return {
    ...l,
    get hits() {
      return state.hits;
    },
  };
}

const b64u = (v: unknown) => Buffer.from(typeof v === "string" ? v : JSON.stringify(v)).toString("base64url");

let deps: Deps;
let store: Store;
let client: ReturnType<typeof createDocumentClient>;
let privateKey: CryptoKey;
let otherKey: CryptoKey;
let publicPem: string;
let jwks: { keys: JWK[] };
const closers: Array<() => Promise<void>> = [];

/** A GraphQL server (the real one) whose verifier fetches its JWKS from `jwksUrl`. */
async function app(jwksUrl: string): Promise<Listening> {
  const authenticate = createTokenVerifier({
    jwksUrl,
    issuer: ISSUER,
    audience: AUDIENCE,
    algorithms: ["ES256"],
    now: () => deps.clock.now(),
  });
  const yoga = createGraphQLServer({ deps, authenticate, graphiql: false });
  const l = await listen((req, res) => void yoga(req, res));
  closers.push(l.close);
  return l;
}

async function gql(
  base: string,
  authorization: string | null,
): Promise<{
  status: number;
  body: {
    data?: { viewer?: { email: string } } | null;
    errors?: { message: string; extensions?: { code?: string } }[];
  };
}> {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (authorization !== null) headers.authorization = authorization;
  const res = await fetch(`${base}/graphql`, { method: "POST", headers, body: JSON.stringify({ query: QUERY }) });
  return { status: res.status, body: (await res.json()) as never };
}

const nowSec = () => Math.floor(Date.now() / 1000);

/** A token with the given claims (defaults: valid), signed ES256 with `key` under `kid`. */
function token(
  over: {
    claims?: JWTPayload;
    iss?: string | null;
    aud?: string | null;
    exp?: number | null;
    nbf?: number;
    iat?: number;
    kid?: string;
    key?: CryptoKey;
  } = {},
): Promise<string> {
  const email = `user-${randomUUID().slice(0, 8)}@example.com`;
  const jwt = new SignJWT({ email, email_verified: true, ...over.claims })
    .setProtectedHeader({ alg: "ES256", kid: over.kid ?? KID, typ: "JWT" })
    .setSubject(`idp|${email}`)
    .setIssuedAt(over.iat);
  if (over.iss !== null) jwt.setIssuer(over.iss ?? ISSUER);
  if (over.aud !== null) jwt.setAudience(over.aud ?? AUDIENCE);
  if (over.exp !== null) jwt.setExpirationTime(over.exp ?? nowSec() + 600);
  if (over.nbf !== undefined) jwt.setNotBefore(over.nbf);
  return jwt.sign(over.key ?? privateKey);
}

/** Sends `authorization`, expects 401 UNAUTHENTICATED and no store request. */
async function refused(base: string, authorization: string): Promise<void> {
  const before = store.requests;
  const r = await gql(base, authorization);
  expect(r.status).toBe(401);
  expect(r.body.data ?? null).toBeNull();
  expect(r.body.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
  expect(store.requests).toBe(before);
}

let main: Listening;
let mainJwks: Listening & { hits: number };

beforeAll(async () => {
  client = createDocumentClient({ region: "local", endpoint: inject("dynamoEndpoint") });
  const tableName = `t-${randomUUID()}`;
  await ensureTable(client, tableName);
  store = new Store(client, tableName);
  const clock = new SettableClock();
  deps = {
    store,
    clock,
    mailer: new OutboxMailer("no-reply@localhost", () => clock.now()),
    portalUrl: "http://localhost:3000",
    deviceKeys: await localDeviceKeys(),
  };
  await ensurePlatform(deps, "operator@example.com");

  const pair = await generateKeyPair("ES256", { extractable: true });
  privateKey = pair.privateKey;
  otherKey = (await generateKeyPair("ES256")).privateKey;
  publicPem = await exportSPKI(pair.publicKey);
  jwks = { keys: [{ ...(await exportJWK(pair.publicKey)), kid: KID, alg: "ES256", use: "sig" }] };

  mainJwks = await jwksServer(jwks, "ok");
  closers.push(mainJwks.close);
  main = await app(`${mainJwks.url}/.well-known/jwks.json`);
});

afterAll(async () => {
  for (const close of closers.reverse()) await close();
  client?.destroy();
});

describe("bearer JWT verification", () => {
  it("accepts a valid token (positive control) and its resolver reads the store", async () => {
    const t = await token({ claims: { email: "Valid.User@Example.com" } });
    const before = store.requests;
    const r = await gql(main.url, `Bearer ${t}`);
    expect(r.status).toBe(200);
    expect(r.body.errors).toBeUndefined();
    expect(r.body.data?.viewer?.email).toBe("valid.user@example.com");
    // The probe the negative cases rely on: a resolved viewer costs store requests.
    expect(store.requests).toBeGreaterThan(before);
  });

  it("refuses a wrong issuer", async () => {
    await refused(main.url, `Bearer ${await token({ iss: "https://evil.test/" })}`);
  });

  it("refuses a missing issuer", async () => {
    await refused(main.url, `Bearer ${await token({ iss: null })}`);
  });

  it("refuses a wrong audience", async () => {
    await refused(main.url, `Bearer ${await token({ aud: "another-api" })}`);
  });

  it("refuses a missing audience", async () => {
    await refused(main.url, `Bearer ${await token({ aud: null })}`);
  });

  it("refuses an expired token (beyond the 5 s tolerance)", async () => {
    await refused(main.url, `Bearer ${await token({ exp: nowSec() - 60 })}`);
  });

  it("refuses a token without exp", async () => {
    await refused(main.url, `Bearer ${await token({ exp: null })}`);
  });

  it("refuses a token not valid yet (future nbf)", async () => {
    await refused(main.url, `Bearer ${await token({ nbf: nowSec() + 60 })}`);
  });

  it("refuses a lifetime over 24 h (security rule 3), accepts 24 h", async () => {
    await refused(main.url, `Bearer ${await token({ exp: nowSec() + 86_400 + 120 })}`);
    expect((await gql(main.url, `Bearer ${await token({ exp: nowSec() + 86_400 - 5 })}`)).status).toBe(200);
    // Without iat the remaining lifetime counts.
    const noIat = await new SignJWT({ email: "no-iat@example.com", email_verified: true })
      .setProtectedHeader({ alg: "ES256", kid: KID })
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setSubject("idp|no-iat")
      .setExpirationTime(nowSec() + 2 * 86_400)
      .sign(privateKey);
    await refused(main.url, `Bearer ${noIat}`);
  });

  it("refuses iat in the future beyond the skew (security rule 3)", async () => {
    await refused(main.url, `Bearer ${await token({ iat: nowSec() + 600 })}`);
    expect((await gql(main.url, `Bearer ${await token({ iat: nowSec() + 10 })}`)).status).toBe(200);
  });

  it('reads the configured claim names, and email_verified as true or "true" only', async () => {
    const verify = createTokenVerifier({
      jwksUrl: `${mainJwks.url}/.well-known/jwks.json`,
      issuer: ISSUER,
      audience: AUDIENCE,
      algorithms: ["ES256"],
      claims: { email: "upn", emailVerified: "upn_verified" },
    });
    const custom = await verify(
      await token({
        claims: { upn: "Custom@Example.com", upn_verified: "true", email: "other@example.com", email_verified: false },
      }),
    );
    expect(custom).toMatchObject({ issuer: ISSUER, email: "custom@example.com", emailVerified: true });
    const plain = createTokenVerifier({
      jwksUrl: `${mainJwks.url}/.well-known/jwks.json`,
      issuer: ISSUER,
      audience: AUDIENCE,
      algorithms: ["ES256"],
    });
    for (const flag of [false, "false", 1, "yes", undefined]) {
      expect((await plain(await token({ claims: { email_verified: flag } }))).emailVerified, String(flag)).toBe(false);
    }
  });

  it("refuses alg none (unsigned)", async () => {
    const unsigned = new UnsecuredJWT({ email: "operator@example.com", email_verified: true })
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setSubject("idp|x")
      .setIssuedAt()
      .setExpirationTime("10m")
      .encode();
    await refused(main.url, `Bearer ${unsigned}`);
    // Same, hand-made with the kid of a real key.
    const hand = `${b64u({ alg: "none", kid: KID, typ: "JWT" })}.${b64u({ iss: ISSUER, aud: AUDIENCE, sub: "idp|x", email: "operator@example.com", exp: nowSec() + 600 })}.`;
    await refused(main.url, `Bearer ${hand}`);
  });

  it("refuses HS256 signed with the public key bytes (algorithm confusion)", async () => {
    const header = b64u({ alg: "HS256", kid: KID, typ: "JWT" });
    const payload = b64u({
      iss: ISSUER,
      aud: AUDIENCE,
      sub: "idp|x",
      email: "operator@example.com",
      email_verified: true,
      iat: nowSec(),
      exp: nowSec() + 600,
    });
    for (const secret of [publicPem, JSON.stringify(jwks.keys[0])]) {
      const sig = createHmac("sha256", secret).update(`${header}.${payload}`).digest("base64url");
      await refused(main.url, `Bearer ${header}.${payload}.${sig}`);
    }
  });

  it("refuses an unknown kid (signed by a key not in the JWKS)", async () => {
    await refused(main.url, `Bearer ${await token({ kid: "k2", key: otherKey })}`);
    // A known kid with the wrong key is no better.
    await refused(main.url, `Bearer ${await token({ key: otherKey })}`);
  });

  it("refuses a tampered payload (another token's valid signature spliced in)", async () => {
    const [h, , sig] = (await token()).split(".");
    const [, forged] = (await token({ claims: { email: "operator@example.com" } })).split(".");
    await refused(main.url, `Bearer ${h}.${forged}.${sig}`);
    // And the payload edited in place.
    const [h2, p2, s2] = (await token()).split(".");
    const edited = b64u({
      ...(JSON.parse(Buffer.from(p2!, "base64url").toString("utf8")) as object),
      email: "operator@example.com",
    });
    await refused(main.url, `Bearer ${h2}.${edited}.${s2}`);
  });

  it("refuses malformed Authorization headers", async () => {
    const t = await token();
    for (const h of [
      "Basic dXNlcjpwYXNz",
      "Bearer",
      "Bearer ",
      `Bearer ${t} extra`,
      `bearer${t}`,
      `Token ${t}`,
      `Bearer "${t}"`,
      "Bearer not-a-jwt",
      "Bearer a.b.c",
      `Bearer ${t.split(".").slice(0, 2).join(".")}`,
    ]) {
      await refused(main.url, h);
    }
  });

  it("refuses every token while the JWKS endpoint answers 500", async () => {
    const failing = await jwksServer(jwks, "500");
    closers.push(failing.close);
    const a = await app(`${failing.url}/.well-known/jwks.json`);
    await refused(a.url, `Bearer ${await token()}`);
    expect(failing.hits).toBeGreaterThan(0);
  });

  it("refuses within the 3 s fetch timeout (5 s bound for loaded machines) while the JWKS endpoint hangs", async () => {
    const hanging = await jwksServer(jwks, "hang");
    closers.push(hanging.close);
    const a = await app(`${hanging.url}/.well-known/jwks.json`);
    const t = await token();
    const started = performance.now();
    await refused(a.url, `Bearer ${t}`);
    const elapsed = performance.now() - started;
    expect(hanging.hits).toBe(1);
    expect(elapsed).toBeGreaterThanOrEqual(2_900);
    expect(elapsed).toBeLessThan(5_000);
  });

  it("does not follow a JWKS redirect, even to a server with the right keys", async () => {
    const target = await jwksServer(jwks, "ok");
    closers.push(target.close);
    const redirecting = await jwksServer(jwks, "redirect", `${target.url}/.well-known/jwks.json`);
    closers.push(redirecting.close);
    const a = await app(`${redirecting.url}/.well-known/jwks.json`);
    await refused(a.url, `Bearer ${await token()}`);
    expect(redirecting.hits).toBeGreaterThan(0);
    expect(target.hits).toBe(0);
  });

  it("keeps accepting valid tokens with a warm cache after the JWKS server stops", async () => {
    const own = await jwksServer(jwks, "ok");
    closers.push(own.close);
    const a = await app(`${own.url}/.well-known/jwks.json`);
    const first = await token();
    const warm = await gql(a.url, `Bearer ${first}`);
    expect(warm.status).toBe(200);
    expect(own.hits).toBe(1);
    await own.close();

    // The same token: the verified-token cache.
    const again = await gql(a.url, `Bearer ${first}`);
    expect(again.status).toBe(200);
    expect(again.body.errors).toBeUndefined();
    // A new token with the same kid: jose's cached JWKS.
    const fresh = await token({ claims: { email: "fresh@example.com" } });
    const r = await gql(a.url, `Bearer ${fresh}`);
    expect(r.status).toBe(200);
    expect(r.body.data?.viewer?.email).toBe("fresh@example.com");
    // Still refused: a bad token does not slip through the caches.
    await refused(a.url, `Bearer ${await token({ aud: "another-api" })}`);
  });
});
