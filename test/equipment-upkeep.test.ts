/**
 * What the partner guides ask for: PBX upkeep (Rainbow "Equipment information", OTEC-S), over HTTP:
 *  - item 11: `updateEquipment` (name, country, outbound prefix) leaves the pairing alone;
 *    `detachEquipmentTenant` removes one company from a shared PBX: its extension associations
 *    there go (in one transaction, or in batches past what one holds), its prefix is freed;
 *  - item 13: the admins of a PBX see why it last failed to pair (wrong code, expired, locked; an
 *    attempt on a paired PBX notes nothing); the PBX itself keeps getting the one uniform refusal.
 *
 *   Platform (operator)
 *   ├── Distributor D, USD (owner d, seller)
 *   │   └── Reseller R (owner r, seller; VIEWER rv; partner admin pa) ── its shared OTEC-S
 *   │       ├── Customer C1 (owner c1, CONTRIBUTOR u1, VIEWER cv; opted in) ── its OXO Connects
 *   │       └── Customer C2 (owner c2)
 *   └── Distributor E, USD (owner e) ── sees nothing of D's tree
 *
 * Every refusal is a typed error and writes nothing: the whole table is scanned before and after.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ERR, OPERATOR, PLATFORM, expectError, expectForbidden, expectInvalid, ok, startTestStack } from "./harness.js";
import type { TestStack } from "./harness.js";

const START = "2026-11-02T09:00:00.000Z";
const D = "owner@upkeep-d.example";
const R = "owner@upkeep-r.example";
const RV = "viewer@upkeep-r.example";
const PA = "pa@upkeep-r.example";
const C1 = "owner@upkeep-c1.example";
const U1 = "user@upkeep-c1.example";
const CV = "viewer@upkeep-c1.example";
const C2 = "owner@upkeep-c2.example";
const E = "owner@upkeep-e.example";

const ids = { d: "", r: "", c1: "", c2: "", e: "" };
let t: TestStack;

// ---------------------------------------------------------------- helpers

const mk = async (as: string, input: Record<string, unknown>) =>
  (
    await t.mutateOk<{ account: { id: string } }>(
      as,
      "createAccount",
      "CreateAccountInput",
      { country: "GB", ...input },
      "account { id }",
    )
  ).account.id;
const invite = async (as: string, accountId: string, email: string, role: string) => {
  await t.mutateOk(as, "inviteMember", "InviteMemberInput", { accountId, email, role }, "member { email }");
  await t.accept(email);
};

interface Pairing {
  readonly deviceId: string;
  readonly activationCode: string;
  readonly equipment: { id: string };
}
const declare = (as: string, accountId: string, name: string, serverType = "OXO_CONNECT") =>
  t.mutateOk<Pairing>(
    as,
    "declareEquipment",
    "DeclareEquipmentInput",
    { accountId, name, country: "GB", serverType, outboundPrefix: "9" },
    "deviceId activationCode equipment { id }",
  );

async function activateRaw(deviceId: string, activationCode: string): Promise<{ body: string; credential?: string }> {
  const res = await t.device<{ r: { credential?: string } }>(
    null,
    `mutation A($d: String!, $c: String!) { r: activateEquipment(deviceId: $d, activationCode: $c) { __typename ... on MutationActivateEquipmentSuccess { data { credential } } ${ERR} } }`,
    { d: deviceId, c: activationCode },
  );
  const data = res.data?.r as { data?: { credential: string } } | undefined;
  return { body: JSON.stringify(res), ...(data?.data ? { credential: data.data.credential } : {}) };
}
/** C2's extensions on the shared PBX, in its company prefix 8220. */
const c2Extension = (i: number) => `8220${String(i).padStart(2, "0")}`;
const wrong = (code: string, i: number) => String((Number(code) + 1 + i) % 10 ** 8).padStart(8, "0");

interface EquipmentView {
  readonly name: string;
  readonly country: string;
  readonly outboundPrefix: string | null;
  readonly status: string;
  readonly tenantCount: number;
  readonly lastActivationFailure: { reason: string; at: string } | null;
}
const EQUIPMENT = "name country outboundPrefix status tenantCount lastActivationFailure { reason at }";
const equipment = async (as: string, id: string) =>
  (
    await t.read<{ node: EquipmentView | null }>(
      as,
      `query N($id: ID!) { node(id: $id) { ... on Equipment { ${EQUIPMENT} } } }`,
      { id },
    )
  ).node;

const update = (as: string, input: Record<string, unknown>) =>
  t.mutate<{ equipment: EquipmentView }>(
    as,
    "updateEquipment",
    "UpdateEquipmentInput",
    input,
    `equipment { ${EQUIPMENT} }`,
  );
const detach = (as: string, equipmentId: string, customerId: string) =>
  t.mutate<{
    customerId: string;
    companyPrefix: string;
    extensionAssignmentsRemoved: number;
    equipment: { tenantCount: number };
  }>(
    as,
    "detachEquipmentTenant",
    "DetachEquipmentTenantInput",
    { equipmentId, customerId },
    "customerId companyPrefix extensionAssignmentsRemoved equipment { tenantCount }",
  );
const attach = (as: string, equipmentId: string, customerId: string, companyPrefix: string) =>
  t.mutate(
    as,
    "attachEquipmentTenant",
    "AttachEquipmentTenantInput",
    { equipmentId, customerId, companyPrefix },
    "companyPrefix",
  );
const assignExtension = (
  as: string,
  accountId: string,
  email: string,
  equipmentId: string,
  extension: string,
  n: number,
) =>
  t.mutate(
    as,
    "assignExtension",
    "AssignExtensionInput",
    { accountId, email, equipmentId, extension, publicNumber: `+4478483${String(10000 + n)}` },
    "assignment { extension }",
  );
const history = async (accountId: string) =>
  ok<{ history: { edges: { node: { action: string; actor: string; details: string | null } }[] } }>(
    await t.account(OPERATOR, accountId, "history(first: 50) { edges { node { action actor details } } }"),
  ).history.edges.map((e) => e.node);
const accountEquipment = async (as: string, accountId: string) =>
  ok<{
    equipment: { edges: { node: { id: string; shared: boolean } }[] };
    extensionAssignments: { edges: { node: { extension: string } }[] };
  }>(
    await t.account(
      as,
      accountId,
      "equipment(first: 50) { edges { node { id shared } } } extensionAssignments(first: 100) { edges { node { extension } } }",
    ),
  );

// ---------------------------------------------------------------- setup

let otec: Pairing;
let otecCredential = "";

beforeAll(async () => {
  t = await startTestStack();
  await t.setClock(START);
  ids.d = await mk(OPERATOR, {
    parentId: PLATFORM,
    kind: "DISTRIBUTOR",
    name: "Upkeep D",
    currency: "USD",
    owner: { email: D },
  });
  ids.e = await mk(OPERATOR, {
    parentId: PLATFORM,
    kind: "DISTRIBUTOR",
    name: "Upkeep E",
    currency: "USD",
    owner: { email: E },
  });
  await t.accept(D);
  await t.accept(E);
  ids.r = await mk(D, {
    parentId: ids.d,
    kind: "RESELLER",
    name: "Upkeep R",
    owner: { email: R },
    canCreateAccounts: true,
    canCreateEquipment: true,
  });
  await t.accept(R);
  await invite(R, ids.r, RV, "VIEWER");
  await invite(R, ids.r, PA, "CONTRIBUTOR");
  await t.mutateOk(
    OPERATOR,
    "setPartnerAdminCapability",
    "SetPartnerAdminCapabilityInput",
    { accountId: ids.r, enabled: true },
    "account { id }",
  );
  await t.mutateOk(
    R,
    "setMemberPartnerAdmin",
    "SetMemberPartnerAdminInput",
    { accountId: ids.r, email: PA, partnerAdmin: true },
    "member { email }",
  );
  ids.c1 = await mk(R, { parentId: ids.r, kind: "CUSTOMER", name: "Upkeep C1", owner: { email: C1 } });
  await t.accept(C1);
  await invite(C1, ids.c1, U1, "CONTRIBUTOR");
  await invite(C1, ids.c1, CV, "VIEWER");
  await t.mutateOk(
    C1,
    "setPartnerAdminOptIn",
    "SetPartnerAdminOptInInput",
    { accountId: ids.c1, optIn: true },
    "account { id }",
  );
  ids.c2 = await mk(R, { parentId: ids.r, kind: "CUSTOMER", name: "Upkeep C2", owner: { email: C2 } });
  await t.accept(C2);
  // The public numbers of the associations below, from each customer's pool.
  const ddi = (n: number) => `+4478483${String(10000 + n)}`;
  await t.giveNumbers(ids.c1, ids.r, [1, 2, 4].map(ddi));
  await t.giveNumbers(ids.c2, ids.r, [3, ...Array.from({ length: 89 }, (_v, i) => 101 + i)].map(ddi));
  // R's shared OTEC-S, paired, with its extensions: C1's in 8210, C2's in 8220 (90 of them).
  otec = await declare(R, ids.r, "Upkeep OTEC", "OTEC_S");
  otecCredential = (await activateRaw(otec.deviceId, otec.activationCode)).credential!;
  const c2Extensions = Array.from({ length: 90 }, (_v, i) => c2Extension(i));
  await t.device(otecCredential, `mutation R($n: [String!]!) { r: reportExtensions(numbers: $n) { __typename } }`, {
    n: ["82101", "82102", ...c2Extensions],
  });
  ok(await attach(R, otec.equipment.id, ids.c1, "8210"));
  ok(await attach(R, otec.equipment.id, ids.c2, "8220"));
}, 120_000);

afterAll(async () => {
  await t?.stop();
});

// ---------------------------------------------------------------- item 11: updateEquipment

describe("updateEquipment", () => {
  let oxo: Pairing;
  beforeAll(async () => {
    oxo = await declare(C1, ids.c1, "HQ OXO");
  });

  it("the customer's admin renames it and corrects its country and prefix; the pairing is untouched (its code still activates it)", async () => {
    const r = ok<{ equipment: EquipmentView }>(
      await update(C1, { equipmentId: oxo.equipment.id, name: "Head office OXO", country: "FR", outboundPrefix: "0" }),
    );
    expect(r.equipment).toMatchObject({
      name: "Head office OXO",
      country: "FR",
      outboundPrefix: "0",
      status: "PENDING",
    });
    // null removes the prefix; fields left out stay.
    expect(
      ok<{ equipment: EquipmentView }>(await update(U1, { equipmentId: oxo.equipment.id, outboundPrefix: null }))
        .equipment,
    ).toMatchObject({ name: "Head office OXO", country: "FR", outboundPrefix: null });
    expect(
      (await history(ids.c1))
        .filter((h) => h.action === "equipment.updated")
        .map((h) => [h.actor, JSON.parse(h.details!) as unknown]),
    ).toEqual([
      [`user:${U1}`, { outboundPrefix: null }],
      [`user:${C1}`, { name: "Head office OXO", country: "FR", outboundPrefix: "0" }],
    ]);
    expect((await activateRaw(oxo.deviceId, oxo.activationCode)).credential).toBeDefined();
  });

  it("the sellers above and a partner admin on behalf may too; the same values again write nothing", async () => {
    ok(await update(R, { equipmentId: oxo.equipment.id, name: "HQ OXO (R)" }));
    ok(await update(PA, { equipmentId: oxo.equipment.id, name: "HQ OXO (PA)" }));
    expect((await history(ids.c1)).find((h) => h.action === "equipment.updated")!.actor).toContain(PA);
    await t.nothingWritten(async () => {
      ok(await update(C1, { equipmentId: oxo.equipment.id, name: "HQ OXO (PA)", country: "FR" }));
    });
  });

  it("refuses as typed errors, writing nothing: viewers, outsiders, bad values, nothing to change", async () => {
    await t.nothingWritten(async () => {
      expectForbidden(await update(CV, { equipmentId: oxo.equipment.id, name: "X" }), "ROLE");
      expectError(await update(E, { equipmentId: oxo.equipment.id, name: "X" }), "NotFoundError");
      expectError(await update(C2, { equipmentId: oxo.equipment.id, name: "X" }), "NotFoundError");
      expectError(await update(C1, { equipmentId: "garbage", name: "X" }), "NotFoundError", "Equipment not found");
      expectInvalid(await update(C1, { equipmentId: oxo.equipment.id, name: "" }), ["name"]);
      expectInvalid(await update(C1, { equipmentId: oxo.equipment.id, country: "XX" }), ["country"]);
      expectInvalid(await update(C1, { equipmentId: oxo.equipment.id, outboundPrefix: "12345" }), ["outboundPrefix"]);
      expectInvalid(
        await update(C1, { equipmentId: oxo.equipment.id }),
        ["name"],
        "give a name, country or outboundPrefix to change",
      );
    });
  });
});

// ---------------------------------------------------------------- item 11: detachEquipmentTenant

describe("detachEquipmentTenant", () => {
  it("refuses as typed errors, writing nothing: the customer's own people, viewers, outsiders, a customer not attached", async () => {
    await t.nothingWritten(async () => {
      // The PBX is R's: C1's owner cannot see it.
      expectError(await detach(C1, otec.equipment.id, ids.c1), "NotFoundError");
      expectError(await detach(E, otec.equipment.id, ids.c1), "NotFoundError");
      expectForbidden(await detach(RV, otec.equipment.id, ids.c1), "ROLE");
      expectInvalid(await detach(R, otec.equipment.id, ids.r), ["customerId"], "is not attached to this equipment");
      expectError(await detach(R, otec.equipment.id, ids.e), "NotFoundError", "Account not found");
    });
  });

  it("removes C1 from the shared PBX in one go: its extension associations there, its prefix (free again), the PBX from its equipment", async () => {
    ok(await assignExtension(C1, ids.c1, U1, otec.equipment.id, "82101", 1));
    ok(await assignExtension(C1, ids.c1, C1, otec.equipment.id, "82102", 2));
    ok(await assignExtension(C2, ids.c2, C2, otec.equipment.id, c2Extension(0), 3));
    expect((await accountEquipment(C1, ids.c1)).extensionAssignments.edges).toHaveLength(2);
    const r = ok<{
      customerId: string;
      companyPrefix: string;
      extensionAssignmentsRemoved: number;
      equipment: { tenantCount: number };
    }>(await detach(R, otec.equipment.id, ids.c1));
    expect(r).toEqual({
      customerId: ids.c1,
      companyPrefix: "8210",
      extensionAssignmentsRemoved: 2,
      equipment: { tenantCount: 1 },
    });
    const c1 = await accountEquipment(C1, ids.c1);
    expect(c1.equipment.edges.filter((e) => e.node.shared)).toEqual([]);
    expect(c1.extensionAssignments.edges).toEqual([]);
    // C2 keeps its tenancy and its association.
    expect((await accountEquipment(C2, ids.c2)).extensionAssignments.edges.map((e) => e.node.extension)).toEqual([
      c2Extension(0),
    ]);
    // Both sides are audited.
    expect((await history(ids.r)).map((h) => h.action)).toContain("equipment.tenantDetached");
    expect((await history(ids.c1)).map((h) => h.action)).toContain("equipment.detached");
    // C1 can no longer associate extensions there; the prefix is free: C1 is attached again with it.
    expectError(await assignExtension(C1, ids.c1, U1, otec.equipment.id, "82101", 4), "NotFoundError");
    ok(await attach(R, otec.equipment.id, ids.c1, "8210"));
    expect((await accountEquipment(C1, ids.c1)).extensionAssignments.edges).toEqual([]);
  });

  it("past what one transaction holds (90 associations), the tenancy is flagged, the associations go in batches, then the tenancy", async () => {
    for (let i = 1; i < 90; i++) ok(await assignExtension(C2, ids.c2, C2, otec.equipment.id, c2Extension(i), 100 + i));
    expect((await accountEquipment(C2, ids.c2)).extensionAssignments.edges.length).toBe(90);
    const r = ok<{ extensionAssignmentsRemoved: number; equipment: { tenantCount: number } }>(
      await detach(R, otec.equipment.id, ids.c2),
    );
    expect(r).toMatchObject({ extensionAssignmentsRemoved: 90, equipment: { tenantCount: 1 } });
    expect((await accountEquipment(C2, ids.c2)).extensionAssignments.edges).toEqual([]);
    const left = [...(await t.snapshot()).values()]
      .map((v) => JSON.parse(v) as { __edb_e__?: string; customerId?: string })
      .filter(
        (i) =>
          i.__edb_e__ === "extensionAssignment" &&
          i.customerId === Buffer.from(ids.c2, "base64").toString().split(":")[1],
      );
    expect(left).toEqual([]);
    await t.nothingWritten(async () => {
      expectInvalid(await detach(R, otec.equipment.id, ids.c2), ["customerId"], "is not attached to this equipment");
    });
  });
});

// ---------------------------------------------------------------- item 13: why pairing failed

describe("the last activation failure, for the PBX's admins", () => {
  it("a wrong code, five (locked), an expired code: the admins see each reason; the PBX gets the same refusal every time", async () => {
    const a = await declare(C1, ids.c1, "Failing OXO");
    const answers = new Set<string>();
    expect(await equipment(C1, a.equipment.id)).toMatchObject({ lastActivationFailure: null });
    answers.add((await activateRaw(a.deviceId, wrong(a.activationCode, 0))).body);
    expect((await equipment(C1, a.equipment.id))!.lastActivationFailure).toMatchObject({ reason: "WRONG_CODE" });
    for (let i = 1; i < 5; i++) answers.add((await activateRaw(a.deviceId, wrong(a.activationCode, i))).body);
    // Locked: even the right code is refused, and the admins are told why.
    answers.add((await activateRaw(a.deviceId, a.activationCode)).body);
    expect((await equipment(C1, a.equipment.id))!.lastActivationFailure).toMatchObject({ reason: "LOCKED" });
    // A code left 8 days expires.
    const b = await declare(C1, ids.c1, "Late OXO");
    await t.setClock("2026-11-10T10:00:00.000Z");
    answers.add((await activateRaw(b.deviceId, b.activationCode)).body);
    expect((await equipment(C1, b.equipment.id))!.lastActivationFailure).toMatchObject({
      reason: "EXPIRED",
      at: expect.stringMatching(/^2026-11-10T10:00/),
    });
    // Paired after a wrong code: the failure is cleared; a later attempt finds no code.
    const c = await declare(C1, ids.c1, "Good OXO");
    answers.add((await activateRaw(c.deviceId, wrong(c.activationCode, 0))).body);
    expect((await activateRaw(c.deviceId, c.activationCode)).credential).toBeDefined();
    expect(await equipment(C1, c.equipment.id)).toMatchObject({ status: "CONNECTED", lastActivationFailure: null });
    // Attempts on a paired PBX note nothing on it.
    answers.add((await activateRaw(c.deviceId, c.activationCode)).body);
    expect((await equipment(C1, c.equipment.id))!.lastActivationFailure).toBeNull();
    // An unknown device: the same answer, nothing to note anywhere.
    answers.add((await activateRaw("PBX0123-4567-89ab-cdef-0123-4567-89ab-cdef", "12345678")).body);
    expect(answers.size).toBe(1);
  });

  it("those who manage the PBX see it (its admins, the seller above, a partner admin on behalf); viewers and tenants do not", async () => {
    const a = await declare(C1, ids.c1, "Seen OXO");
    await activateRaw(a.deviceId, wrong(a.activationCode, 0));
    for (const as of [C1, U1, R, PA, OPERATOR])
      expect((await equipment(as, a.equipment.id))!.lastActivationFailure, as).toMatchObject({ reason: "WRONG_CODE" });
    expect((await equipment(CV, a.equipment.id))!.lastActivationFailure).toBeNull();
    expect(await equipment(E, a.equipment.id)).toBeNull();
    // A shared PBX's tenant never sees its pairing.
    const b = await declare(R, ids.r, "Second OTEC", "OTEC_S");
    await activateRaw(b.deviceId, wrong(b.activationCode, 0));
    expect((await equipment(R, b.equipment.id))!.lastActivationFailure).toMatchObject({ reason: "WRONG_CODE" });
    expect((await equipment(RV, b.equipment.id))!.lastActivationFailure).toBeNull();
  });
});

// A query on the shared PBX in the tenant's view (Account.equipment) never carries the owner's pairing state.
describe("the tenant's view of a shared PBX", () => {
  it("shows no activation failure", async () => {
    const r = ok<{ equipment: { edges: { node: { shared: boolean; lastActivationFailure: unknown } }[] } }>(
      await t.account(
        C1,
        ids.c1,
        "equipment(first: 50) { edges { node { shared lastActivationFailure { reason } } } }",
      ),
    );
    const shared = r.equipment.edges.filter((e) => e.node.shared);
    expect(shared.length).toBe(1);
    expect(shared.map((e) => e.node.lastActivationFailure)).toEqual([null]);
  });
});
