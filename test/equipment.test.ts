/**
 * Equipment pairing (DESIGN 1 "Equipment pairing"; Rainbow "Declare a new device", "Manage
 * connection", multi-tenant equipment, phone numbers), over HTTP. A simulated PBX talks to the
 * API exactly as a real one would: it activates with the device id and code the admin got, then
 * calls with its device credential. Refusals are typed errors and write nothing: the operator
 * re-reads the accounts (equipment lists, history) before and after.
 *
 *   Platform (operator)
 *   ├── Distributor 1, USD (owner d1, a seller) ── owns the shared OTEC-S "bpOTEC51"
 *   │   ├── Customer 3 (owner c3; member brian) ── its OXO Connect "EventsCom HQ OXO"
 *   │   └── Customer 4 (owner c4)
 *   └── Distributor 2, USD (owner d2)
 *       └── Customer 9 (owner c9) ── outside Distributor 1's subtree
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ERR, OPERATOR, PLATFORM, expectError, expectInvalid, expectUnchanged, ok, startTestStack } from "./harness.js";
import type { Connection, Result, TestStack } from "./harness.js";

// ---------------------------------------------------------------- data

const START = "2026-11-02T09:00:00.000Z";
const D1 = "owner@d1.example";
const D2 = "owner@d2.example";
const C3 = "owner@c3.example";
const C4 = "owner@c4.example";
const C9 = "owner@c9.example";
const BRIAN = "brian@c3.example";
const UK_DDI = "+447848311690";

const ids = { d1: "", d2: "", c3: "", c4: "", c9: "" };
let t: TestStack;

// ---------------------------------------------------------------- shapes

interface IdOnly {
  readonly id: string;
}
interface EquipmentView {
  readonly id: string;
  readonly name: string;
  readonly serverType: { readonly id: string; readonly name: string; readonly multiTenant: boolean };
  readonly country: string;
  readonly outboundPrefix: string | null;
  readonly deviceId: string | null;
  readonly status: "PENDING" | "CONNECTED" | "DISCONNECTED";
  readonly locked: boolean;
  readonly connectedAt: string | null;
  readonly lastSeenAt: string | null;
  readonly shared: boolean;
  readonly companyPrefix: string | null;
  readonly tenantCount: number;
  readonly extensionCount: number;
  readonly reportedExtensions: string[];
}
interface Pairing {
  readonly equipment: EquipmentView;
  readonly deviceId: string;
  readonly activationCode: string;
}
interface AssignmentView {
  readonly equipmentId: string;
  readonly extension: string;
  readonly email: string;
  readonly publicNumber: string;
  readonly assignedBy: string;
}
interface AuditView {
  readonly action: string;
  readonly actor: string;
  readonly subjectId: string | null;
  readonly details: string | null;
}

const EQUIPMENT =
  "id name serverType { id name multiTenant } country outboundPrefix deviceId status locked connectedAt lastSeenAt shared companyPrefix tenantCount extensionCount reportedExtensions";
const ASSIGNMENT = "equipmentId extension email publicNumber assignedBy";

// ---------------------------------------------------------------- helpers

const createAccount = (as: string, input: Record<string, unknown>) =>
  t.mutate<{ account: IdOnly }>(
    as,
    "createAccount",
    "CreateAccountInput",
    { country: "GB", ...input },
    "account { id }",
  );
const inviteMember = (as: string, accountId: string, email: string, role: string) =>
  t.mutate<unknown>(as, "inviteMember", "InviteMemberInput", { accountId, email, role }, "member { email }");

const declare = (as: string, input: Record<string, unknown>) =>
  t.mutate<Pairing>(
    as,
    "declareEquipment",
    "DeclareEquipmentInput",
    { country: "GB", outboundPrefix: "0", ...input },
    `deviceId activationCode equipment { ${EQUIPMENT} }`,
  );
const regenerate = (as: string, equipmentId: string) =>
  t.mutate<Pairing>(
    as,
    "regenerateActivationCode",
    "EquipmentRefInput",
    { equipmentId },
    `deviceId activationCode equipment { ${EQUIPMENT} }`,
  );
const removeEquipment = (as: string, equipmentId: string) =>
  t.mutate<{ equipment: IdOnly }>(as, "removeEquipment", "EquipmentRefInput", { equipmentId }, "equipment { id }");
const attach = (as: string, equipmentId: string, customerId: string, companyPrefix: string) =>
  t.mutate<{ equipment: EquipmentView; companyPrefix: string; customerId: string }>(
    as,
    "attachEquipmentTenant",
    "AttachEquipmentTenantInput",
    { equipmentId, customerId, companyPrefix },
    `companyPrefix customerId equipment { ${EQUIPMENT} }`,
  );
const unassignExtension = (as: string, input: Record<string, unknown>) =>
  t.mutate<{ assignment: AssignmentView }>(
    as,
    "unassignExtension",
    "UnassignExtensionInput",
    input,
    `assignment { ${ASSIGNMENT} }`,
  );
const assignExtension = (as: string, input: Record<string, unknown>) =>
  t.mutate<{ assignment: AssignmentView }>(
    as,
    "assignExtension",
    "AssignExtensionInput",
    input,
    `assignment { ${ASSIGNMENT} }`,
  );

const ACTIVATE = `mutation Act($d: String!, $c: String!) { r: activateEquipment(deviceId: $d, activationCode: $c) {
  __typename ... on MutationActivateEquipmentSuccess { data { equipmentId credential connectedAt } } ${ERR} } }`;

async function activate(
  deviceId: string,
  activationCode: string,
): Promise<Result<{ equipmentId: string; credential: string; connectedAt: string }>> {
  const res = await t.device<{ r: Result<{ equipmentId: string; credential: string; connectedAt: string }> }>(
    null,
    ACTIVATE,
    { d: deviceId, c: activationCode },
  );
  expect(res.errors, JSON.stringify(res.errors)).toBeUndefined();
  return res.data!.r;
}

const REPORT = `mutation R($n: [String!]!) { r: reportExtensions(numbers: $n) { __typename ... on MutationReportExtensionsSuccess { data { count } } ${ERR} } }`;
const HEARTBEAT = `mutation { r: equipmentHeartbeat { __typename ... on MutationEquipmentHeartbeatSuccess { data { status lastSeenAt } } ${ERR} } }`;

async function equipmentOf(as: string, accountId: string, status?: string): Promise<EquipmentView[]> {
  const res = await t.read<{ account: Result<{ equipment: Connection<EquipmentView> }> }>(
    as,
    `query E($id: ID!, $status: EquipmentStatus) { account(id: $id) { __typename ... on QueryAccountSuccess { data { equipment(first: 100, status: $status) { edges { cursor node { ${EQUIPMENT} } } pageInfo { hasNextPage } } } } ${ERR} } }`,
    { id: accountId, status: status ?? null },
  );
  return ok<{ equipment: Connection<EquipmentView> }>(res.account).equipment.edges.map((e) => e.node);
}

async function history(as: string, accountId: string): Promise<AuditView[]> {
  const res = await t.read<{ account: Result<{ history: Connection<AuditView> }> }>(
    as,
    `query H($id: ID!) { account(id: $id) { __typename ... on QueryAccountSuccess { data { history(first: 100) { edges { node { action actor subjectId details } } } } } ${ERR} } }`,
    { id: accountId },
  );
  return ok<{ history: Connection<AuditView> }>(res.account).history.edges.map((e) => e.node);
}

async function assignmentsOf(as: string, accountId: string): Promise<AssignmentView[]> {
  const res = await t.read<{ account: Result<{ extensionAssignments: Connection<AssignmentView> }> }>(
    as,
    `query X($id: ID!) { account(id: $id) { __typename ... on QueryAccountSuccess { data { extensionAssignments(first: 100) { edges { node { ${ASSIGNMENT} } } } } } ${ERR} } }`,
    { id: accountId },
  );
  return ok<{ extensionAssignments: Connection<AssignmentView> }>(res.account).extensionAssignments.edges.map(
    (e) => e.node,
  );
}

/** Everything the operator can read about equipment on these accounts. */
async function snapshot(accountIds: readonly string[]): Promise<unknown> {
  return Promise.all(
    accountIds.map(async (id) => ({
      equipment: await equipmentOf(OPERATOR, id),
      history: await history(OPERATOR, id),
      assignments: await assignmentsOf(OPERATOR, id),
    })),
  );
}

/** Runs `fn` (refused calls) and asserts that nothing the operator can read about equipment on these accounts has changed. */
const unchanged = (accountIds: readonly string[], fn: () => Promise<void>) =>
  expectUnchanged(() => snapshot(accountIds), fn);

// ---------------------------------------------------------------- setup

beforeAll(async () => {
  t = await startTestStack();
  await t.setClock(START);
  ids.d1 = ok<{ account: IdOnly }>(
    await createAccount(OPERATOR, {
      parentId: PLATFORM,
      kind: "DISTRIBUTOR",
      name: "Distributor 1",
      currency: "USD",
      owner: { email: D1 },
    }),
  ).account.id;
  await t.accept(D1);
  ids.d2 = ok<{ account: IdOnly }>(
    await createAccount(OPERATOR, {
      parentId: PLATFORM,
      kind: "DISTRIBUTOR",
      name: "Distributor 2",
      currency: "USD",
      owner: { email: D2 },
    }),
  ).account.id;
  await t.accept(D2);
  for (const [key, parent, owner, as] of [
    ["c3", "d1", C3, D1],
    ["c4", "d1", C4, D1],
    ["c9", "d2", C9, D2],
  ] as const) {
    ids[key] = ok<{ account: IdOnly }>(
      await createAccount(as, {
        parentId: ids[parent],
        kind: "CUSTOMER",
        name: `Customer ${key.slice(1)}`,
        owner: { email: owner },
      }),
    ).account.id;
    await t.accept(owner);
  }
  // Public numbers come from the customers' pools (EXPO.e "Adding Numbers").
  await t.giveNumbers(ids.c3, ids.d1, [UK_DDI, "+447848311691", "+447848311699"]);
  await t.giveNumbers(ids.c4, ids.d1, ["+33390676862"]);
}, 120_000);

afterAll(async () => {
  await t?.stop();
});

// ---------------------------------------------------------------- tests

describe("Query.serverTypes", () => {
  it("lists the catalog of server types", async () => {
    // Act
    const { serverTypes } = await t.read<{ serverTypes: { id: string; name: string; multiTenant: boolean }[] }>(
      C3,
      "{ serverTypes { id name multiTenant } }",
    );
    // Assess
    expect(serverTypes).toEqual([
      { id: "OXO_CONNECT", name: "OXO Connect", multiTenant: false },
      { id: "OMNIPCX_OFFICE", name: "OmniPCX Office", multiTenant: false },
      { id: "OMNIPCX_ENTERPRISE", name: "OmniPCX Enterprise", multiTenant: false },
      { id: "OTEC_S", name: "OTEC-S", multiTenant: true },
    ]);
  });
});

describe("a customer's PBX, from declaration to phone numbers", () => {
  let oxo: Pairing;
  let credential = "";

  it("Distributor 1 declares an OXO Connect for Customer 3: a device id and a numeric code, shown once", async () => {
    // Act
    oxo = ok<Pairing>(await declare(D1, { accountId: ids.c3, name: "EventsCom HQ OXO", serverType: "OXO_CONNECT" }));
    // Assess
    expect(oxo.deviceId).toMatch(/^PBX[0-9a-f]{4}(-[0-9a-f]{4}){7}$/);
    expect(oxo.activationCode).toMatch(/^[0-9]{8}$/);
    expect(oxo.equipment).toMatchObject({
      name: "EventsCom HQ OXO",
      serverType: { id: "OXO_CONNECT", name: "OXO Connect", multiTenant: false },
      country: "GB",
      outboundPrefix: "0",
      deviceId: oxo.deviceId,
      status: "PENDING",
      locked: false,
      connectedAt: null,
      shared: false,
      tenantCount: 0,
    });
    const list = await equipmentOf(C3, ids.c3);
    expect(list.map((e) => [e.name, e.status])).toEqual([["EventsCom HQ OXO", "PENDING"]]);
    expect(JSON.stringify(list)).not.toContain(oxo.activationCode);
    expect((await history(C3, ids.c3)).filter((h) => h.action.startsWith("equipment."))).toEqual([
      {
        action: "equipment.declared",
        actor: `user:${D1}`,
        subjectId: expect.any(String),
        details: JSON.stringify({ name: "EventsCom HQ OXO", serverType: "OXO_CONNECT" }),
      },
    ]);
  });

  it("the PBX activates with the pair (no user token): CONNECTED, with a device credential", async () => {
    // Act
    const r = ok<{ equipmentId: string; credential: string; connectedAt: string }>(
      await activate(oxo.deviceId, oxo.activationCode),
    );
    credential = r.credential;
    // Assess
    expect(r.equipmentId).toBe(oxo.equipment.id);
    expect(r.connectedAt).toBe(new Date(r.connectedAt).toISOString());
    const [header, payload] = credential
      .split(".")
      .slice(0, 2)
      .map((p) => JSON.parse(Buffer.from(p, "base64url").toString("utf8")) as Record<string, unknown>);
    expect(header).toMatchObject({ alg: "ES256" });
    expect(payload).toMatchObject({ aud: "device", sub: expect.any(String), ver: 1 });
    const [e] = await equipmentOf(C3, ids.c3);
    expect(e).toMatchObject({
      status: "CONNECTED",
      connectedAt: r.connectedAt,
      lastSeenAt: r.connectedAt,
      locked: false,
    });
  });

  it("the PBX reports extensions 100-119 and heartbeats with its credential", async () => {
    // Prepare
    const numbers = Array.from({ length: 20 }, (_, i) => String(100 + i));
    // Act
    const report = await t.device<{ r: Result<{ count: number }> }>(credential, REPORT, { n: [...numbers, "105"] });
    const beat = await t.device<{ r: Result<{ status: string; lastSeenAt: string }> }>(credential, HEARTBEAT);
    // Assess
    expect(ok<{ count: number }>(report.data!.r)).toEqual({ count: 20 });
    expect(ok<{ status: string }>(beat.data!.r).status).toBe("CONNECTED");
    const [e] = await equipmentOf(C3, ids.c3);
    expect(e).toMatchObject({ extensionCount: 20, reportedExtensions: numbers });
  });

  it("a bad report is a ValidationError and changes nothing", async () => {
    await unchanged([ids.c3], async () => {
      // Act
      const res = await t.device<{ r: Result<unknown> }>(credential, REPORT, { n: ["100", "1", "123456789", "12a"] });
      // Assess
      const e = expectError(res.data!.r, "ValidationError");
      expect(e.issues?.map((i) => i.path)).toEqual([
        ["numbers", "1"],
        ["numbers", "2"],
        ["numbers", "3"],
      ]);
    });
  });

  it("only the PBX reports: a person's token is refused, no token is 401", async () => {
    // Act
    const asUser = await t.gql<{ r: Result<unknown> }>(C3, REPORT, { n: ["100"] });
    const anonymous = await t.device<{ r: Result<unknown> }>(null, HEARTBEAT);
    // Assess
    expectError(asUser.data!.r, "ForbiddenError");
    expect(anonymous.status).toBe(401);
  });

  it("the status is DISCONNECTED after 11 minutes without a heartbeat, CONNECTED again at the next one", async () => {
    // Prepare
    const [before] = await equipmentOf(C3, ids.c3);
    // Act
    await t.setClock(new Date(new Date(before!.lastSeenAt!).getTime() + 11 * 60_000).toISOString());
    const late = await equipmentOf(C3, ids.c3);
    const disconnected = await equipmentOf(C3, ids.c3, "DISCONNECTED");
    const connected = await equipmentOf(C3, ids.c3, "CONNECTED");
    const beat = await t.device<{ r: Result<{ status: string }> }>(credential, HEARTBEAT);
    const after = await equipmentOf(C3, ids.c3, "CONNECTED");
    // Assess
    expect(late.map((e) => e.status)).toEqual(["DISCONNECTED"]);
    expect(disconnected.map((e) => e.name)).toEqual(["EventsCom HQ OXO"]);
    expect(connected).toEqual([]);
    expect(ok<{ status: string }>(beat.data!.r).status).toBe("CONNECTED");
    expect(after.map((e) => e.name)).toEqual(["EventsCom HQ OXO"]);
    expect(await equipmentOf(C3, ids.c3, "PENDING")).toEqual([]);
  });

  it("Customer 3's admin associates a member with extension 110 and +447848311690 (the only PBX is preselected)", async () => {
    // Prepare
    for (const email of [BRIAN, "david@c3.example"]) {
      ok(await inviteMember(C3, ids.c3, email, "VIEWER"));
      await t.accept(email);
    }
    // Act
    const r = ok<{ assignment: AssignmentView }>(
      await assignExtension(C3, { accountId: ids.c3, extension: "110", email: BRIAN, publicNumber: UK_DDI }),
    );
    // Assess
    expect(r.assignment).toEqual({
      equipmentId: oxo.equipment.id,
      extension: "110",
      email: BRIAN,
      publicNumber: UK_DDI,
      assignedBy: `user:${C3}`,
    });
    expect(await assignmentsOf(C3, ids.c3)).toEqual([r.assignment]);
    const h = (await history(C3, ids.c3)).find((x) => x.action === "equipment.extensionAssigned");
    expect(h).toMatchObject({ actor: `user:${C3}`, subjectId: BRIAN });
  });

  it("bad input is a typed error and writes nothing", async () => {
    await unchanged([ids.c3, ids.d1], async () => {
      // Act, Assess
      expectInvalid(await declare(D1, { accountId: ids.c3, name: "X", serverType: "PANASONIC_KX" }), ["serverType"]);
      expectInvalid(await declare(D1, { accountId: ids.c3, name: "Shared", serverType: "OTEC_S" }), ["serverType"]);
      expectInvalid(await declare(D1, { accountId: ids.c3, name: "X", serverType: "OXO_CONNECT", country: "XX" }), [
        "country",
      ]);
      expectInvalid(
        await declare(D1, { accountId: ids.c3, name: "X", serverType: "OXO_CONNECT", outboundPrefix: "0a" }),
        ["outboundPrefix"],
      );
      for (const publicNumber of ["07848311690", "+44 7848 311690", "+4478483116901234", "+44123"]) {
        expectInvalid(await assignExtension(C3, { accountId: ids.c3, extension: "111", email: BRIAN, publicNumber }), [
          "publicNumber",
        ]);
      }
      expectInvalid(
        await assignExtension(C3, { accountId: ids.c3, extension: "120", email: BRIAN, publicNumber: UK_DDI }),
        ["extension"],
      );
      expectInvalid(
        await assignExtension(C3, { accountId: ids.c3, extension: "1", email: BRIAN, publicNumber: UK_DDI }),
        ["extension"],
      );
      expectError(
        await assignExtension(C3, {
          accountId: ids.c3,
          extension: "111",
          email: "nobody@c3.example",
          publicNumber: UK_DDI,
        }),
        "NotFoundError",
      );
      // One member per extension.
      expectError(
        await assignExtension(C3, {
          accountId: ids.c3,
          extension: "110",
          email: "david@c3.example",
          publicNumber: "+447848311691",
        }),
        "ConflictError",
      );
    });
  });

  it("rights: a customer's plain member cannot declare nor assign; another distributor does not see the customer", async () => {
    await unchanged([ids.c3], async () => {
      expectError(await declare(BRIAN, { accountId: ids.c3, name: "X", serverType: "OXO_CONNECT" }), "ForbiddenError");
      expectError(
        await assignExtension(BRIAN, { accountId: ids.c3, extension: "111", email: BRIAN, publicNumber: UK_DDI }),
        "ForbiddenError",
      );
      expectError(await declare(D2, { accountId: ids.c3, name: "X", serverType: "OXO_CONNECT" }), "NotFoundError");
      expectError(await regenerate(D2, oxo.equipment.id), "NotFoundError");
    });
  });

  it("regenerating the code disconnects the old credential; the PBX pairs again with the new code", async () => {
    // Act
    const fresh = ok<Pairing>(await regenerate(C3, oxo.equipment.id));
    const oldBeat = await t.device<{ r: Result<unknown> }>(credential, HEARTBEAT);
    const oldReport = await t.device<{ r: Result<unknown> }>(credential, REPORT, { n: ["100"] });
    const oldCode = await activate(oxo.deviceId, oxo.activationCode);
    const again = ok<{ credential: string }>(await activate(fresh.deviceId, fresh.activationCode));
    const newBeat = await t.device<{ r: Result<{ status: string }> }>(again.credential, HEARTBEAT);
    const stillOld = await t.device<{ r: Result<unknown> }>(credential, HEARTBEAT);
    // Assess
    expect(fresh.deviceId).toBe(oxo.deviceId);
    expect(fresh.activationCode).not.toBe(oxo.activationCode);
    expect(fresh.equipment).toMatchObject({ status: "PENDING", connectedAt: null, locked: false });
    for (const res of [oldBeat, oldReport, stillOld]) {
      expect(res.status).toBe(401);
      expect(res.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
    }
    expectError(oldCode, "ForbiddenError");
    expect(ok<{ status: string }>(newBeat.data!.r).status).toBe("CONNECTED");
    expect(JSON.parse(Buffer.from(again.credential.split(".")[1]!, "base64url").toString("utf8"))).toMatchObject({
      ver: 2,
    });
    // Associations survive a re-pairing.
    expect((await assignmentsOf(C3, ids.c3)).map((a) => a.extension)).toEqual(["110"]);
    expect((await history(C3, ids.c3)).map((h) => h.action)).toContain("equipment.activationCodeRegenerated");
  });
});

describe("freeing an extension", () => {
  it("unassignExtension frees it for another member; only the member's account may", async () => {
    // Prepare
    const [oxo] = await equipmentOf(C3, ids.c3);
    const ref = { accountId: ids.c3, equipmentId: oxo!.id, extension: "110" };
    // Act
    const foreign = await unassignExtension(C4, ref);
    const freed = ok<{ assignment: AssignmentView }>(await unassignExtension(C3, ref));
    const again = await unassignExtension(C3, ref);
    const reassigned = ok<{ assignment: AssignmentView }>(
      await assignExtension(C3, {
        accountId: ids.c3,
        extension: "110",
        email: "david@c3.example",
        publicNumber: UK_DDI,
      }),
    );
    // Assess
    expectError(foreign, "NotFoundError");
    expect(freed.assignment).toMatchObject({ extension: "110", email: BRIAN });
    expectInvalid(again, ["extension"]);
    expect(reassigned.assignment).toMatchObject({ extension: "110", email: "david@c3.example" });
    expect((await history(C3, ids.c3)).map((h) => h.action)).toContain("equipment.extensionUnassigned");
  });

  it("removing a member frees the member's extension", async () => {
    // Prepare: a member who joins and takes extension 111.
    const erin = "erin@c3.example";
    ok(await inviteMember(C3, ids.c3, erin, "VIEWER"));
    await t.accept(erin);
    ok(await assignExtension(C3, { accountId: ids.c3, extension: "111", email: erin, publicNumber: "+447848311699" }));
    // Act
    ok(await t.mutate(C3, "removeMember", "MemberRefInput", { accountId: ids.c3, email: erin }, "member { email }"));
    // Assess
    expect((await assignmentsOf(C3, ids.c3)).filter((a) => a.email === erin || a.extension === "111")).toEqual([]);
  });
});

describe("a partner's multi-tenant PBX", () => {
  let otec: Pairing;
  let credential = "";

  it("is declared on the distributor; customers cannot be attached before it connects", async () => {
    // Prepare
    otec = ok<Pairing>(await declare(D1, { accountId: ids.d1, name: "bpOTEC51", serverType: "OTEC_S", country: "FR" }));
    // Act
    const early = await attach(D1, otec.equipment.id, ids.c3, "8210");
    // Assess
    expect(otec.equipment.serverType.multiTenant).toBe(true);
    expectError(early, "ConflictError");
  });

  it("attaches Customer 3 and Customer 4 with their company prefixes; the partner sees two companies", async () => {
    // Prepare
    credential = ok<{ credential: string }>(await activate(otec.deviceId, otec.activationCode)).credential;
    ok(
      await t
        .device<{ r: Result<unknown> }>(credential, REPORT, { n: ["821001", "821002", "821201", "821202", "9000"] })
        .then((r) => r.data!.r),
    );
    // Act
    const a3 = ok<{ equipment: EquipmentView; companyPrefix: string }>(
      await attach(D1, otec.equipment.id, ids.c3, "8210"),
    );
    const a4 = ok<{ equipment: EquipmentView }>(await attach(D1, otec.equipment.id, ids.c4, "8212"));
    // Assess
    expect(a3.equipment.tenantCount).toBe(1);
    expect(a4.equipment.tenantCount).toBe(2);
    const partner = await equipmentOf(D1, ids.d1);
    expect(partner.map((e) => [e.name, e.tenantCount, e.shared, e.status])).toEqual([
      ["bpOTEC51", 2, false, "CONNECTED"],
    ]);
    const tenants = await t.read<{ node: { tenants: Connection<{ companyPrefix: string; customer: IdOnly | null }> } }>(
      D1,
      `query T($id: ID!) { node(id: $id) { ... on Equipment { tenants(first: 10) { edges { node { companyPrefix customer { id } } } pageInfo { hasNextPage } } } } }`,
      { id: otec.equipment.id },
    );
    expect(
      tenants.node.tenants.edges.map((e) => e.node).sort((a, b) => a.companyPrefix.localeCompare(b.companyPrefix)),
    ).toEqual([
      { companyPrefix: "8210", customer: { id: ids.c3 } },
      { companyPrefix: "8212", customer: { id: ids.c4 } },
    ]);
    expect((await history(D1, ids.d1)).filter((h) => h.action === "equipment.tenantAttached")).toHaveLength(2);
    expect((await history(C3, ids.c3)).filter((h) => h.action === "equipment.attached")).toHaveLength(1);
  });

  it("each customer sees the shared PBX in its equipment list, with its own prefix and extensions", async () => {
    // Act
    const c3 = await equipmentOf(C3, ids.c3);
    const c4 = await equipmentOf(C4, ids.c4);
    // Assess
    expect(c3.map((e) => [e.name, e.shared, e.companyPrefix])).toEqual([
      ["EventsCom HQ OXO", false, null],
      ["bpOTEC51", true, "8210"],
    ]);
    const shared = c3[1]!;
    expect(shared).toMatchObject({
      deviceId: null,
      tenantCount: 0,
      status: "CONNECTED",
      reportedExtensions: ["821001", "821002"],
    });
    expect(c4).toMatchObject([
      { name: "bpOTEC51", shared: true, companyPrefix: "8212", reportedExtensions: ["821201", "821202"] },
    ]);
    expect(await equipmentOf(C4, ids.c4, "PENDING")).toEqual([]);
  });

  it("a customer associates members within its prefix; with two PBXs it must say which", async () => {
    // Act
    const noChoice = await assignExtension(C3, {
      accountId: ids.c3,
      extension: "821001",
      email: BRIAN,
      publicNumber: UK_DDI,
    });
    const outside = await assignExtension(C4, {
      accountId: ids.c4,
      equipmentId: otec.equipment.id,
      extension: "821001",
      email: C4,
      publicNumber: "+33390676862",
    });
    const inside = await assignExtension(C4, {
      accountId: ids.c4,
      equipmentId: otec.equipment.id,
      extension: "821201",
      email: C4,
      publicNumber: "+33390676862",
    });
    // Assess
    expectInvalid(noChoice, ["equipmentId"]);
    expectInvalid(outside, ["extension"]);
    expect(ok<{ assignment: AssignmentView }>(inside).assignment).toMatchObject({
      equipmentId: otec.equipment.id,
      extension: "821201",
      email: C4,
    });
    expect((await assignmentsOf(C4, ids.c4)).map((a) => a.extension)).toEqual(["821201"]);
    // Another tenant's extension is not Customer 3's to free.
    expectInvalid(
      await unassignExtension(C3, { accountId: ids.c3, equipmentId: otec.equipment.id, extension: "821201" }),
      ["extension"],
    );
  });

  it("refuses a duplicate or overlapping prefix, a second attach, a customer outside the subtree: typed errors, nothing written", async () => {
    // Prepare
    const c5 = ok<{ account: IdOnly }>(
      await createAccount(D1, {
        parentId: ids.d1,
        kind: "CUSTOMER",
        name: "Customer 5",
        owner: { email: "owner@c5.example" },
      }),
    ).account.id;
    await unchanged([ids.d1, ids.c3, ids.c4, c5, ids.c9], async () => {
      // Act, Assess
      expectError(await attach(D1, otec.equipment.id, c5, "8210"), "ConflictError");
      expectError(await attach(D1, otec.equipment.id, c5, "821"), "ConflictError");
      expectError(await attach(D1, otec.equipment.id, c5, "82101"), "ConflictError");
      expectError(await attach(D1, otec.equipment.id, ids.c3, "8299"), "ConflictError");
      expectInvalid(await attach(D1, otec.equipment.id, c5, "82a"), ["companyPrefix"]);
      // Outside the partner's subtree: invisible to the partner, and refused for the operator who sees it.
      expectError(await attach(D1, otec.equipment.id, ids.c9, "8299"), "NotFoundError");
      expectInvalid(await attach(OPERATOR, otec.equipment.id, ids.c9, "8299"), ["customerId"]);
      // Not a customer; not a multi-tenant PBX.
      expectInvalid(await attach(D1, otec.equipment.id, ids.d1, "8299"), ["customerId"]);
      const [oxo] = await equipmentOf(C3, ids.c3);
      expectInvalid(await attach(D1, oxo!.id, ids.c3, "8299"), ["equipmentId"]);
      // A customer does not manage the partner's PBX.
      expectError(await attach(C3, otec.equipment.id, ids.c3, "8299"), "NotFoundError");
    });
  });

  it("removing the shared PBX removes its tenants and associations", async () => {
    // Act
    ok(await removeEquipment(D1, otec.equipment.id));
    // Assess
    expect(await equipmentOf(D1, ids.d1)).toEqual([]);
    expect((await equipmentOf(C3, ids.c3)).map((e) => e.name)).toEqual(["EventsCom HQ OXO"]);
    expect(await equipmentOf(C4, ids.c4)).toEqual([]);
    expect(await assignmentsOf(C4, ids.c4)).toEqual([]);
    expect((await t.device<{ r: Result<unknown> }>(credential, HEARTBEAT)).status).toBe(401);
    expect((await history(D1, ids.d1)).find((h) => h.action === "equipment.removed")?.details).toBe(
      JSON.stringify({ name: "bpOTEC51", tenants: 2, extensionAssignments: 1 }),
    );
    expectError(await removeEquipment(D1, otec.equipment.id), "NotFoundError");
    // Customer 3 is back to one PBX: it is preselected again.
    ok(
      await assignExtension(C3, {
        accountId: ids.c3,
        extension: "111",
        email: "david@c3.example",
        publicNumber: "+447848311691",
      }),
    );
  });
});

describe("a reseller's partner admin on behalf of an opted-in customer", () => {
  it("declares and manages the customer's PBX; the history says on whose behalf", async () => {
    // Prepare: Reseller R1 with PARTNER_ADMIN, a flagged member, and Customer 6 that opted in.
    const r1 = ok<{ account: IdOnly }>(
      await createAccount(D1, {
        parentId: ids.d1,
        kind: "RESELLER",
        name: "Reseller R1",
        owner: { email: "owner@r1.example" },
      }),
    ).account.id;
    await t.accept("owner@r1.example");
    const c6 = ok<{ account: IdOnly }>(
      await createAccount(D1, {
        parentId: r1,
        kind: "CUSTOMER",
        name: "Customer 6",
        owner: { email: "owner@c6.example" },
      }),
    ).account.id;
    await t.accept("owner@c6.example");
    ok(
      await t.mutate(
        OPERATOR,
        "setPartnerAdminCapability",
        "SetPartnerAdminCapabilityInput",
        { accountId: r1, enabled: true },
        "account { id }",
      ),
    );
    ok(await inviteMember("owner@r1.example", r1, "pa@r1.example", "CONTRIBUTOR"));
    await t.accept("pa@r1.example");
    ok(
      await t.mutate(
        "owner@r1.example",
        "setMemberPartnerAdmin",
        "SetMemberPartnerAdminInput",
        { accountId: r1, email: "pa@r1.example", partnerAdmin: true },
        "member { email }",
      ),
    );
    const before = await declare("pa@r1.example", { accountId: c6, name: "Before opt-in", serverType: "OXO_CONNECT" });
    ok(
      await t.mutate(
        "owner@c6.example",
        "setPartnerAdminOptIn",
        "SetPartnerAdminOptInInput",
        { accountId: c6, optIn: true },
        "account { id }",
      ),
    );
    // Act
    const p = ok<Pairing>(await declare("pa@r1.example", { accountId: c6, name: "C6 OXO", serverType: "OXO_CONNECT" }));
    const fresh = ok<Pairing>(await regenerate("pa@r1.example", p.equipment.id));
    // Assess
    expectError(before, "NotFoundError");
    expect(fresh.deviceId).toBe(p.deviceId);
    const h = await t.read<{
      account: Result<{ history: Connection<{ action: string; actor: string; onBehalfOf: string | null }> }>;
    }>(
      "owner@c6.example",
      `query H($id: ID!) { account(id: $id) { __typename ... on QueryAccountSuccess { data { history(first: 100) { edges { node { action actor onBehalfOf } } } } } ${ERR} } }`,
      { id: c6 },
    );
    const entries = ok<{ history: Connection<{ action: string; actor: string; onBehalfOf: string | null }> }>(h.account)
      .history.edges.map((e) => e.node)
      .filter((e) => e.action.startsWith("equipment."));
    const reseller = Buffer.from(r1, "base64").toString("utf8").slice("Account:".length);
    expect(entries).toEqual([
      {
        action: "equipment.activationCodeRegenerated",
        actor: "user:pa@r1.example",
        onBehalfOf: `reseller:${reseller}`,
      },
      { action: "equipment.declared", actor: "user:pa@r1.example", onBehalfOf: `reseller:${reseller}` },
    ]);
  });
});

describe("paging", () => {
  it("pages through own and shared equipment with cursors", async () => {
    // Prepare: Customer 4 gets three PBXs of its own and one shared.
    for (const name of ["A", "B", "C"])
      ok(await declare(D1, { accountId: ids.c4, name, serverType: "OMNIPCX_OFFICE" }));
    const shared = ok<Pairing>(await declare(D1, { accountId: ids.d1, name: "bpOTEC52", serverType: "OTEC_S" }));
    ok(await activate(shared.deviceId, shared.activationCode));
    ok(await attach(D1, shared.equipment.id, ids.c4, "7"));
    // Act
    const names: string[] = [];
    let after: string | null = null;
    for (let i = 0; i < 5; i++) {
      const res: { account: Result<{ equipment: Connection<{ name: string }> }> } = await t.read(
        C4,
        `query P($id: ID!, $after: String) { account(id: $id) { __typename ... on QueryAccountSuccess { data { equipment(first: 2, after: $after) { edges { cursor node { name } } pageInfo { hasNextPage } } } } ${ERR} } }`,
        { id: ids.c4, after },
      );
      const page: Connection<{ name: string }> = ok<{ equipment: Connection<{ name: string }> }>(res.account).equipment;
      names.push(...page.edges.map((e) => e.node.name));
      if (!page.pageInfo.hasNextPage) break;
      after = page.edges.at(-1)!.cursor;
    }
    const bad = await t.gql<{ account: Result<unknown> }>(
      C4,
      `query { account(id: "${ids.c4}") { ... on QueryAccountSuccess { data { equipment(after: "x!") { edges { cursor } } } } } }`,
    );
    // Assess
    expect(names).toEqual(["A", "B", "C", "bpOTEC52"]);
    expect(bad.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
  });
});
