/**
 * Activation security (DESIGN 1 "Equipment pairing"): `activateEquipment` is called without a
 * token, so it is the one place where a stranger can guess.
 *
 * Guessing probability: an activation code has 8 digits (10^8 values) and at most 5 codes are
 * ever evaluated per issued code, so a guesser who knows a device id succeeds with probability
 * at most 5 / 10^8 = 1 in 20,000,000 per device and issued code (the bar is 1 in 1,000,000).
 * The device id itself carries 128 random bits, and only an admin's regeneration grants 5 new
 * attempts (with a new code).
 *
 * What is checked, over HTTP against DynamoDB Local:
 * - attempts are reserved (a conditional increment, fewer than 5) before any evaluation:
 *   1,000 wrong codes (20 in a row, then 20 lanes), 100 aliased fields in one request and 40 parallel requests
 *   each leave exactly 5 reserved attempts and 5 audit entries, and the right code is then refused;
 * - codes expire after 7 days, are single use, and the answer never tells whether the device
 *   exists: every refusal is the same bytes;
 * - device credentials: a forged one and a revoked one are 401;
 * - codes and credentials never appear in the history, the outbox or the stored items.
 */
import { SignJWT, generateKeyPair } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ERR, OPERATOR, PLATFORM, ok, startTestStack } from "./harness.js";
import type { GraphQLResponse, Result, TestStack } from "./harness.js";

const START = "2026-11-02T09:00:00.000Z";
const D1 = "owner@d1.example";
const C3 = "owner@c3.example";

let t: TestStack;
let customerId = "";

interface IdOnly {
  readonly id: string;
}
interface Pairing {
  readonly equipment: { readonly id: string };
  readonly deviceId: string;
  readonly activationCode: string;
}
interface Activation {
  readonly equipmentId: string;
  readonly credential: string;
}

/** Every code and credential the suite has seen: none may show up where it should not. */
const secrets = new Set<string>();

// ---------------------------------------------------------------- helpers

async function declare(name: string): Promise<Pairing> {
  const p = ok<Pairing>(
    await t.mutate(
      D1,
      "declareEquipment",
      "DeclareEquipmentInput",
      { accountId: customerId, name, serverType: "OXO_CONNECT", country: "GB" },
      "deviceId activationCode equipment { id }",
    ),
  );
  secrets.add(p.activationCode);
  return p;
}

async function regenerate(equipmentId: string): Promise<Pairing> {
  const p = ok<Pairing>(
    await t.mutate(
      C3,
      "regenerateActivationCode",
      "EquipmentRefInput",
      { equipmentId },
      "deviceId activationCode equipment { id }",
    ),
  );
  secrets.add(p.activationCode);
  return p;
}

const ACTIVATE = `mutation Act($d: String!, $c: String!) { r: activateEquipment(deviceId: $d, activationCode: $c) {
  __typename ... on MutationActivateEquipmentSuccess { data { equipmentId credential } } ${ERR} } }`;

/** The raw HTTP answer to one activation, as the PBX (no token) gets it. */
async function activateRaw(deviceId: string, activationCode: string): Promise<{ status: number; body: string }> {
  const res = await fetch(`${t.url}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ query: ACTIVATE, variables: { d: deviceId, c: activationCode } }),
  });
  return { status: res.status, body: await res.text() };
}

async function activate(deviceId: string, activationCode: string): Promise<Result<Activation>> {
  const { body } = await activateRaw(deviceId, activationCode);
  const r = (JSON.parse(body) as { data: { r: Result<Activation> } }).data.r;
  if ("data" in r) secrets.add(r.data.credential);
  return r;
}

const REFUSED = {
  __typename: "ForbiddenError",
  code: "FORBIDDEN",
  message: "Unknown device id or invalid activation code",
  reason: "IDENTITY",
};
/** The same refusal where the query does not select `reason`. */
const { reason: _reason, ...REFUSED_UNREASONED } = REFUSED;

/** A code that is surely not `code`. */
const wrong = (code: string, i: number) => String((Number(code) + 1 + i) % 10 ** 8).padStart(8, "0");

/** The stored equipment behind a global id (the suite's view of what the table holds). */
async function stored(globalId: string) {
  const [, accountId, equipmentId] = Buffer.from(globalId, "base64").toString("utf8").split(":");
  const item = await t.stack.store.getEquipment(accountId!, equipmentId!);
  expect(item).toBeDefined();
  return item!;
}

interface AuditView {
  readonly action: string;
  readonly actor: string;
  readonly subjectId: string | null;
  readonly details: string | null;
}
interface HistoryPage {
  readonly edges: { readonly cursor: string; readonly node: AuditView }[];
  readonly pageInfo: { readonly hasNextPage: boolean };
}

async function historyOf(accountId: string): Promise<AuditView[]> {
  const out: AuditView[] = [];
  let after: string | null = null;
  for (;;) {
    const res: GraphQLResponse<{ account: { data: { history: HistoryPage } } }> = await t.gql(
      OPERATOR,
      `query H($id: ID!, $after: String) { account(id: $id) { ... on QueryAccountSuccess { data { history(first: 100, after: $after) { edges { cursor node { action actor subjectId details } } pageInfo { hasNextPage } } } } } }`,
      { id: accountId, after },
    );
    const h: HistoryPage = res.data!.account.data.history;
    out.push(...h.edges.map((e) => e.node));
    if (!h.pageInfo.hasNextPage) return out;
    after = h.edges.at(-1)!.cursor;
  }
}

const attemptsOn = async (equipmentGlobalId: string) => {
  const { equipmentId } = await stored(equipmentGlobalId);
  return (await historyOf(customerId)).filter(
    (h) => h.action === "equipment.activationAttempted" && h.subjectId === equipmentId,
  ).length;
};

async function heartbeat(credential: string): Promise<number> {
  const res = await fetch(`${t.url}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${credential}` },
    body: JSON.stringify({ query: "mutation { equipmentHeartbeat { __typename } }" }),
  });
  return res.status;
}

// ---------------------------------------------------------------- setup

beforeAll(async () => {
  t = await startTestStack();
  await t.setClock(START);
  const d1 = ok<{ account: IdOnly }>(
    await t.mutate(
      OPERATOR,
      "createAccount",
      "CreateAccountInput",
      {
        parentId: PLATFORM,
        kind: "DISTRIBUTOR",
        name: "Distributor 1",
        country: "GB",
        currency: "USD",
        owner: { email: D1 },
      },
      "account { id }",
    ),
  ).account.id;
  await t.accept(D1);
  customerId = ok<{ account: IdOnly }>(
    await t.mutate(
      D1,
      "createAccount",
      "CreateAccountInput",
      { parentId: d1, kind: "CUSTOMER", name: "Customer 3", country: "GB", owner: { email: C3 } },
      "account { id }",
    ),
  ).account.id;
  await t.accept(C3);
}, 120_000);

afterAll(async () => {
  await t?.stop();
});

// ---------------------------------------------------------------- tests

describe("attempts are reserved before evaluation", () => {
  it("a code that cannot be a code never counts and writes nothing; spaces and dashes as people type them are accepted (security rule 16)", async () => {
    // Prepare
    const p = await declare("Malformed codes");
    const before = await stored(p.equipment.id);
    // Act: 20 malformed codes, more than the 5 attempts.
    const malformed = [
      "",
      "1",
      "1234567",
      "123456789",
      "abcdefgh",
      "1234567a",
      "12.34.56.78",
      "１２３４５６７８",
      "0x1234567",
      "+12345678",
    ];
    const answers = [];
    for (const c of [...malformed, ...malformed]) answers.push(await activate(p.deviceId, c));
    // Assess: refused alike, nothing counted or written.
    for (const a of answers) expect(a).toMatchObject(REFUSED);
    expect(await stored(p.equipment.id)).toEqual(before);
    expect(await attemptsOn(p.equipment.id)).toBe(0);
    // Act: the right code typed in groups pairs.
    const typed = `${p.activationCode.slice(0, 4)}-${p.activationCode.slice(4)}`.replace("-", " - ");
    const paired = ok<Activation>(await activate(p.deviceId, typed));
    expect(paired.equipmentId).toBe(p.equipment.id);
  });

  it("1,000 wrong codes, the first 20 in a row: 5 evaluated, then locked; the right code is refused until regenerated", async () => {
    // Prepare
    const p = await declare("Brute force target");
    // Act
    const answers = new Set<string>();
    // The first 20 one after another (through the lock), the other 980 in 20 sequential lanes: the same
    // 1,000 refused attempts without 1,000 round trips in a row (the suite shares two cores).
    const attempt = async (i: number) =>
      answers.add(JSON.stringify(await activateRaw(p.deviceId, wrong(p.activationCode, i))));
    for (let i = 0; i < 20; i++) await attempt(i);
    await Promise.all(
      Array.from({ length: 20 }, async (_lane, lane) => {
        for (let i = 20 + lane; i < 1000; i += 20) await attempt(i);
      }),
    );
    const right = await activate(p.deviceId, p.activationCode);
    const item = await stored(p.equipment.id);
    // Assess
    expect(answers.size).toBe(1);
    expect(JSON.parse(JSON.parse([...answers][0]!).body)).toEqual({ data: { r: REFUSED } });
    expect(right).toEqual(REFUSED);
    expect(item.failedAttempts).toBe(5);
    expect(item.status).toBe("PENDING");
    expect(await attemptsOn(p.equipment.id)).toBe(5);

    // Act: the admin regenerates; the device is unlocked and pairs with the new code.
    const fresh = await regenerate(p.equipment.id);
    const unlocked = await stored(p.equipment.id);
    const paired = ok<Activation>(await activate(fresh.deviceId, fresh.activationCode));
    // Assess
    expect(unlocked.failedAttempts).toBe(0);
    expect(paired.equipmentId).toBe(p.equipment.id);
    expect((await stored(p.equipment.id)).status).toBe("CONNECTED");
  }, 180_000);

  it("100 aliased activateEquipment fields in one request: 5 evaluated, the right code (6th) refused", async () => {
    // Prepare
    const p = await declare("Alias target");
    const fields = Array.from({ length: 100 }, (_, i) => {
      const code = i === 5 || i === 99 ? p.activationCode : wrong(p.activationCode, i);
      return `a${i}: activateEquipment(deviceId: "${p.deviceId}", activationCode: "${code}") { __typename ... on Error { code message } ... on MutationActivateEquipmentSuccess { data { credential } } }`;
    });
    // Act
    const res = await fetch(`${t.url}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ query: `mutation { ${fields.join("\n")} }` }),
    });
    const body = (await res.json()) as { data: Record<string, unknown> };
    // Assess
    expect(Object.values(body.data)).toEqual(Array.from({ length: 100 }, () => REFUSED_UNREASONED));
    expect((await stored(p.equipment.id)).failedAttempts).toBe(5);
    expect(await attemptsOn(p.equipment.id)).toBe(5);
  });

  it("40 parallel requests: still 5 evaluated, and the right code among them is refused once 5 are reserved", async () => {
    // Prepare
    const p = await declare("Parallel target");
    // Act
    const answers = await Promise.all(
      Array.from({ length: 40 }, (_, i) => activate(p.deviceId, wrong(p.activationCode, i))),
    );
    const right = await activate(p.deviceId, p.activationCode);
    // Assess
    expect(answers).toEqual(Array.from({ length: 40 }, () => REFUSED));
    expect(right).toEqual(REFUSED);
    expect((await stored(p.equipment.id)).failedAttempts).toBe(5);
    expect(await attemptsOn(p.equipment.id)).toBe(5);
  });

  it("an attempt sent with a person's token (of another tenant here) is recorded without naming anyone", async () => {
    const p = await declare("Token-bearing attempt");
    const res = await t.gql<{ r: Result<Activation> }>("stranger@elsewhere.example", ACTIVATE, {
      d: p.deviceId,
      c: wrong(p.activationCode, 1),
    });
    expect(res.data?.r).toEqual(REFUSED);
    const { equipmentId } = await stored(p.equipment.id);
    const attempts = (await historyOf(customerId)).filter(
      (h) => h.action === "equipment.activationAttempted" && h.subjectId === equipmentId,
    );
    expect(attempts.map((h) => h.actor)).toEqual(["public"]);
  });

  it("the right code within the 5 attempts pairs the device", async () => {
    // Prepare
    const p = await declare("Typo then right");
    // Act
    const typos = [
      await activate(p.deviceId, wrong(p.activationCode, 0)),
      await activate(p.deviceId, wrong(p.activationCode, 1)),
    ];
    const right = await activate(p.deviceId, p.activationCode);
    // Assess
    expect(typos).toEqual([REFUSED, REFUSED]);
    expect(ok<Activation>(right).equipmentId).toBe(p.equipment.id);
    expect(await stored(p.equipment.id)).toMatchObject({ status: "CONNECTED", failedAttempts: 0 });
  });
});

describe("codes expire and are single use", () => {
  it("the right code after 8 days is refused without spending an attempt", async () => {
    // Prepare
    const p = await declare("Expiry target");
    // Act
    await t.setClock(new Date(new Date(START).getTime() + 8 * 86_400_000).toISOString());
    const late = await activate(p.deviceId, p.activationCode);
    // Assess
    expect(late).toEqual(REFUSED);
    expect(await stored(p.equipment.id)).toMatchObject({ status: "PENDING", failedAttempts: 0 });
    await t.setClock(START);
  });

  it("a replay after success is refused, and the credential stays the one issued", async () => {
    // Prepare
    const p = await declare("Replay target");
    const first = ok<Activation>(await activate(p.deviceId, p.activationCode));
    // Act
    const replay = await activate(p.deviceId, p.activationCode);
    // Assess
    expect(replay).toEqual(REFUSED);
    expect(await heartbeat(first.credential)).toBe(200);
  });
});

describe("the answer never tells whether the device exists", () => {
  it("unknown, wrong, locked, expired, used and malformed all answer the same bytes", async () => {
    // Prepare: a device with a wrong code (fresh), a locked one, a used one, an expired one.
    const fresh = await declare("Fresh");
    const locked = await declare("Locked");
    for (let i = 0; i < 5; i++) await activateRaw(locked.deviceId, wrong(locked.activationCode, i));
    const used = await declare("Used");
    ok(await activate(used.deviceId, used.activationCode));
    const expired = await declare("Expired");
    const unknown = `PBX${"0123-4567-89ab-cdef-0123-4567-89ab-cdef"}`;
    // Act
    const answers = [
      await activateRaw(unknown, "12345678"),
      await activateRaw(fresh.deviceId, wrong(fresh.activationCode, 0)),
      await activateRaw(locked.deviceId, locked.activationCode),
      await activateRaw(used.deviceId, used.activationCode),
      await activateRaw("not-a-device", "12345678"),
      await activateRaw(fresh.deviceId, "12ab"),
    ];
    await t.setClock(new Date(new Date(START).getTime() + 8 * 86_400_000).toISOString());
    answers.push(await activateRaw(expired.deviceId, expired.activationCode));
    await t.setClock(START);
    // Assess
    expect(new Set(answers.map((a) => a.status))).toEqual(new Set([200]));
    expect(new Set(answers.map((a) => a.body)).size).toBe(1);
    expect(JSON.parse(answers[0]!.body)).toEqual({ data: { r: REFUSED } });
  });

  it("unknown and known-but-locked ids cost alike (same round trips, same digest)", async () => {
    // Prepare
    const locked = await declare("Timing");
    for (let i = 0; i < 5; i++) await activateRaw(locked.deviceId, wrong(locked.activationCode, i));
    const unknown = "PBXffff-eeee-dddd-cccc-bbbb-aaaa-9999-8888";
    const time = async (deviceId: string) => {
      const at = performance.now();
      await activateRaw(deviceId, "00000000");
      return performance.now() - at;
    };
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    // Act: interleaved, so drift in the machine's load hits both alike.
    const a: number[] = [];
    const b: number[] = [];
    for (let i = 0; i < 30; i++) {
      a.push(await time(unknown));
      b.push(await time(locked.deviceId));
    }
    // Assess: a loose bound (a shared CI machine is noisy); the paths differ by no round trip.
    const ratio = median(a) / median(b);
    expect(ratio).toBeGreaterThan(1 / 3);
    expect(ratio).toBeLessThan(3);
  });
});

describe("device credentials", () => {
  it("a credential signed by another key, or with no signature, is 401", async () => {
    // Prepare
    const p = await declare("Forgery target");
    const real = ok<Activation>(await activate(p.deviceId, p.activationCode));
    const claims = JSON.parse(Buffer.from(real.credential.split(".")[1]!, "base64url").toString("utf8")) as Record<
      string,
      unknown
    >;
    const { privateKey } = await generateKeyPair("ES256");
    const forged = await new SignJWT(claims).setProtectedHeader({ alg: "ES256" }).sign(privateKey);
    const unsigned = `${Buffer.from(JSON.stringify({ alg: "none", typ: "JWT" })).toString("base64url")}.${real.credential.split(".")[1]}.`;
    const tampered = `${real.credential.split(".")[0]}.${Buffer.from(JSON.stringify({ ...claims, ver: 99 })).toString("base64url")}.${real.credential.split(".")[2]}`;
    // Act, Assess
    expect(await heartbeat(real.credential)).toBe(200);
    expect(await heartbeat(forged)).toBe(401);
    expect(await heartbeat(unsigned)).toBe(401);
    expect(await heartbeat(tampered)).toBe(401);
  });
});

describe("secrets stay secret", () => {
  it("no code or credential appears in the history, the outbox or the stored items", async () => {
    // Prepare
    expect(secrets.size).toBeGreaterThan(10);
    // Act
    const history = JSON.stringify(await historyOf(customerId));
    const outbox = await (await fetch(`${t.url}/dev/outbox`)).text();
    const items = JSON.stringify(await t.stack.store.listEquipment(customerId, { connectedSince: START, limit: 100 }));
    // Assess
    expect(history).toContain("equipment.activated");
    for (const secret of secrets) {
      expect(history).not.toContain(secret);
      expect(outbox).not.toContain(secret);
      expect(items).not.toContain(secret);
    }
  });
});
