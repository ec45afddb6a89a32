/**
 * Security rules 4 to 7, over HTTP: consent never travels, revocation is linear, no lost updates on
 * accounts, and what a partner admin may not do to owners' invitations.
 *
 * Races are made deterministic with a gate in the stack's DynamoDB HTTP layer: the write of one
 * request is held after its reads (and its authorisation) are done, another request commits, then
 * the held write goes out. A rule that holds only "usually" fails here every time.
 *
 *   Platform
 *   └── D (distributor)
 *       ├── R1 (reseller, PARTNER_ADMIN; partner admin pa1)
 *       │   ├── C1 (customer, opted in)         ├── C2 (customer, opted in; moved to R2 below)
 *       └── R2 (reseller, PARTNER_ADMIN; partner admin pa2)
 */
import type { NodeHttpHandler } from "@smithy/node-http-handler";
import { NodeHttpHandler as RealHandler } from "@smithy/node-http-handler";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OPERATOR, PLATFORM, expectError, expectForbidden, ok, startTestStack } from "./harness.js";
import type { Result, TestStack } from "./harness.js";

type HandleArgs = Parameters<NodeHttpHandler["handle"]>;

/** Holds the first DynamoDB request matching a predicate until released; everything else goes through. */
class GateHandler
  implements Pick<NodeHttpHandler, "handle" | "updateHttpClientConfig" | "httpHandlerConfigs" | "destroy">
{
  readonly #real = new RealHandler();
  #gate: { match: (op: string, body: string) => boolean; reached: () => void; opened: Promise<void> } | undefined;

  /** Arms the gate: resolves `reached` when a matching request arrives; it waits until `release()`. */
  hold(match: (op: string, body: string) => boolean): { reached: Promise<void>; release: () => void } {
    let reached!: () => void;
    let release!: () => void;
    const reachedP = new Promise<void>((r) => (reached = r));
    const opened = new Promise<void>((r) => (release = r));
    this.#gate = { match, reached, opened };
    return { reached: reachedP, release };
  }

  async handle(request: HandleArgs[0], options?: HandleArgs[1]) {
    const target = Object.entries(request.headers).find(([k]) => k.toLowerCase() === "x-amz-target")?.[1] ?? "";
    const op = target.split(".").at(-1) ?? "";
    const gate = this.#gate;
    const body: unknown = request.body;
    const text = typeof body === "string" ? body : body instanceof Uint8Array ? Buffer.from(body).toString("utf8") : "";
    if (gate?.match(op, text)) {
      this.#gate = undefined;
      gate.reached();
      await gate.opened;
    }
    return this.#real.handle(request, options);
  }

  updateHttpClientConfig(...args: Parameters<NodeHttpHandler["updateHttpClientConfig"]>): void {
    this.#real.updateHttpClientConfig(...args);
  }
  httpHandlerConfigs(): ReturnType<NodeHttpHandler["httpHandlerConfigs"]> {
    return this.#real.httpHandlerConfigs();
  }
  destroy(): void {
    this.#real.destroy();
  }
}

const TRUNK = "RC-DRAAS-TRUNK-SUB";
const P = {
  d: "owner@consent-d.example",
  r1: "owner@consent-r1.example",
  r2: "owner@consent-r2.example",
  pa1: "pa@consent-r1.example",
  pa2: "pa@consent-r2.example",
  c1: "owner@consent-c1.example",
  c2: "owner@consent-c2.example",
};

const gate = new GateHandler();
let t: TestStack;
const id = { d: "", r1: "", r2: "", c1: "", c2: "" };

const create = async (as: string, parentId: string, kind: string, name: string, owner: string) => {
  const a = (
    await t.mutateOk<{ account: { id: string } }>(
      as,
      "createAccount",
      "CreateAccountInput",
      {
        parentId,
        kind,
        name,
        country: "US",
        ...(kind === "DISTRIBUTOR" ? { currency: "USD" } : {}),
        owner: { email: owner },
      },
      "account { id }",
    )
  ).account.id;
  await t.accept(owner);
  return a;
};
const partnerAdmin = async (resellerId: string, owner: string, pa: string) => {
  await t.mutateOk(
    OPERATOR,
    "setPartnerAdminCapability",
    "SetPartnerAdminCapabilityInput",
    { accountId: resellerId, enabled: true },
    "account { id }",
  );
  await t.mutateOk(
    owner,
    "inviteMember",
    "InviteMemberInput",
    { accountId: resellerId, email: pa, role: "CONTRIBUTOR" },
    "member { email }",
  );
  await t.accept(pa);
  await t.mutateOk(
    owner,
    "setMemberPartnerAdmin",
    "SetMemberPartnerAdminInput",
    { accountId: resellerId, email: pa, partnerAdmin: true },
    "member { email }",
  );
};
const optIn = (as: string, accountId: string, on: boolean) =>
  t.mutateOk(as, "setPartnerAdminOptIn", "SetPartnerAdminOptInInput", { accountId, optIn: on }, "account { id }");
const administered = async (as: string) =>
  (
    await t.read<{ r: { edges: { node: { accountId: string } }[] } }>(
      as,
      `{ r: administeredCustomers(first: 50) { edges { node { accountId } } } }`,
    )
  ).r.edges.map((e) => e.node.accountId);
const supportEmail = (as: string, accountId: string, email: string) =>
  t.mutate<{ account: { id: string } }>(
    as,
    "setSupportEmail",
    "SetSupportEmailInput",
    { accountId, email },
    "account { id }",
  );
const inviteOnBehalf = (as: string, accountId: string, email: string, role = "CONTRIBUTOR") =>
  t.mutate<{ member: { email: string } }>(
    as,
    "inviteMember",
    "InviteMemberInput",
    { accountId, email, role },
    "member { email }",
  );
/** Moves `accountId` under `parentId`: the new parent's owner invites, the account's owner accepts. */
const move = async (inviter: string, accountId: string, parentId: string, owner: string) => {
  await t.mutateOk(
    inviter,
    "inviteExistingAccount",
    "InviteExistingAccountInput",
    { accountId, parentId },
    "invitationsSent",
  );
  const r = await t.acceptInvitation<{ account: { id: string } }>(
    owner,
    await t.invitationToken(owner),
    "account { id }",
  );
  ok(r);
};
const account = async (as: string, accountId: string) =>
  (
    await t.read<{ r: { data?: { partnerAdminOptIn: boolean; partnerAdminEnabled: boolean; name: string } } }>(
      as,
      `query A($id: ID!) { r: account(id: $id) { ... on QueryAccountSuccess { data { partnerAdminOptIn partnerAdminEnabled name } } } }`,
      { id: accountId },
    )
  ).r.data;

beforeAll(async () => {
  t = await startTestStack({ dynamoRequestHandler: gate });
  id.d = await create(OPERATOR, PLATFORM, "DISTRIBUTOR", "Consent D", P.d);
  await t.mutateOk(
    OPERATOR,
    "setAvailableOffers",
    "SetAvailableOffersInput",
    { accountId: id.d, skus: [TRUNK] },
    "account { id }",
  );
  id.r1 = await create(P.d, id.d, "RESELLER", "Consent R1", P.r1);
  id.r2 = await create(P.d, id.d, "RESELLER", "Consent R2", P.r2);
  for (const r of [id.r1, id.r2])
    await t.mutateOk(
      P.d,
      "setResellerRights",
      "SetResellerRightsInput",
      { id: r, canCreateAccounts: true, canCreateEquipment: true },
      "account { id }",
    );
  await partnerAdmin(id.r1, P.r1, P.pa1);
  await partnerAdmin(id.r2, P.r2, P.pa2);
  id.c1 = await create(P.r1, id.r1, "CUSTOMER", "Consent C1", P.c1);
  id.c2 = await create(P.r1, id.r1, "CUSTOMER", "Consent C2", P.c2);
  await optIn(P.c1, id.c1, true);
  await optIn(P.c2, id.c2, true);
}, 120_000);

afterAll(async () => {
  await t?.stop();
});

describe("rule 4: consent never travels", () => {
  it("control: R1's partner admin administers both customers; R2's administers none", async () => {
    expect((await administered(P.pa1)).sort()).toEqual([id.c1, id.c2].sort());
    expect(await administered(P.pa2)).toEqual([]);
  });

  it("a customer moved to another reseller: its opt-in lapses; neither reseller's partner admins keep or gain it", async () => {
    await move(P.r2, id.c2, id.r2, P.c2);
    expect((await account(P.c2, id.c2))?.partnerAdminOptIn).toBe(false);
    expect(await administered(P.pa1)).toEqual([id.c1]);
    expect(await administered(P.pa2)).toEqual([]);
    expectError(await supportEmail(P.pa1, id.c2, "x@consent-c2.example"), "NotFoundError");
    expectError(await supportEmail(P.pa2, id.c2, "x@consent-c2.example"), "NotFoundError");
  });

  it("a reseller moved under another reseller: its customers' opt-ins stay with it; the new parent's partner admins get no customer", async () => {
    await move(P.r2, id.r1, id.r2, P.r1);
    expect((await account(P.c1, id.c1))?.partnerAdminOptIn).toBe(true);
    // R1 is still above C1: its partner admin keeps the consent C1 gave.
    expect(await administered(P.pa1)).toEqual([id.c1]);
    ok(await supportEmail(P.pa1, id.c1, "help@consent-c1.example"));
    // R2 is above C1 now, but C1 never consented to R2.
    expect(await administered(P.pa2)).toEqual([]);
    const refused = await supportEmail(P.pa2, id.c1, "x@consent-c1.example");
    expect(["NotFoundError", "ForbiddenError"]).toContain(refused.__typename);
    expectError(
      await inviteOnBehalf(P.pa2, id.c1, "intruder@consent-c1.example"),
      refused.__typename as "NotFoundError",
    );
  });
});

describe("rule 5: revocation is linear", () => {
  it("an on-behalf write authorised before the opt-out but committing after it is refused, and writes nothing", async () => {
    const email = "late@consent-c1.example";
    const held = gate.hold((op, body) => op === "TransactWriteItems" && body.includes(email));
    const write = inviteOnBehalf(P.pa1, id.c1, email);
    await held.reached;
    await optIn(P.c1, id.c1, false);
    held.release();
    const r = await write;
    expect(["ConflictError", "ForbiddenError", "NotFoundError"]).toContain(r.__typename);
    const members = await t.read<{ r: { data: { members: { edges: { node: { email: string } }[] } } } }>(
      P.c1,
      `query M($id: ID!) { r: account(id: $id) { ... on QueryAccountSuccess { data { members(first: 50) { edges { node { email } } } } } } }`,
      { id: id.c1 },
    );
    expect(members.r.data.members.edges.map((e) => e.node.email)).not.toContain(email);
    await expect(t.invitationToken(email)).rejects.toThrow(/no invitation mailed/);
    // And after the opt-out, plainly refused.
    expect(["ForbiddenError", "NotFoundError"]).toContain(
      (await inviteOnBehalf(P.pa1, id.c1, "later@consent-c1.example")).__typename,
    );
    await optIn(P.c1, id.c1, true);
  });
});

describe("rule 6: no lost updates on accounts", () => {
  it("an update that read the account before a capability was disabled cannot restore it", async () => {
    const held = gate.hold((op, body) => op === "TransactWriteItems" && body.includes("Consent R2 renamed"));
    const rename = t.mutate<{ account: { name: string } }>(
      P.d,
      "updateAccount",
      "UpdateAccountInput",
      { id: id.r2, name: "Consent R2 renamed" },
      "account { name }",
    );
    await held.reached;
    await t.mutateOk(
      OPERATOR,
      "setPartnerAdminCapability",
      "SetPartnerAdminCapabilityInput",
      { accountId: id.r2, enabled: false },
      "account { id }",
    );
    held.release();
    expectError(await rename, "ConflictError");
    const after = await account(OPERATOR, id.r2);
    expect(after).toMatchObject({ partnerAdminEnabled: false, name: "Consent R2" });
    // Reloaded and sent again, the rename applies and keeps the capability off.
    ok(
      await t.mutate(
        P.d,
        "updateAccount",
        "UpdateAccountInput",
        { id: id.r2, name: "Consent R2 renamed" },
        "account { name }",
      ),
    );
    expect(await account(OPERATOR, id.r2)).toMatchObject({ partnerAdminEnabled: false, name: "Consent R2 renamed" });
  });
});

describe("rule 7: partner admins and owners' invitations", () => {
  const pendingOwner = "owner2@consent-c1.example";

  beforeAll(async () => {
    await t.mutateOk(
      P.c1,
      "inviteMember",
      "InviteMemberInput",
      { accountId: id.c1, email: pendingOwner, role: "OWNER" },
      "member { email }",
    );
  });

  it("a partner admin cannot replace, downgrade or withdraw a pending OWNER invitation", async () => {
    expectForbidden(await inviteOnBehalf(P.pa1, id.c1, pendingOwner, "CONTRIBUTOR"), "ON_BEHALF_LIMIT");
    expectForbidden(
      await t.mutate(
        P.pa1,
        "setMemberRole",
        "SetMemberRoleInput",
        { accountId: id.c1, email: pendingOwner, role: "VIEWER" },
        "member { email }",
      ),
      "ON_BEHALF_LIMIT",
    );
    expectForbidden(
      await t.mutate(
        P.pa1,
        "removeMember",
        "MemberRefInput",
        { accountId: id.c1, email: pendingOwner },
        "member { email }",
      ),
      "ON_BEHALF_LIMIT",
    );
    // The owner's invitation still works.
    await t.accept(pendingOwner);
  });

  it("an invitation a partner admin sent lapses when the opt-in ends, and stays lapsed after a new opt-in", async () => {
    const invitee = "user@consent-c1.example";
    ok(await inviteOnBehalf(P.pa1, id.c1, invitee));
    await optIn(P.c1, id.c1, false);
    const token = await t.invitationToken(invitee);
    const lapsed: Result<unknown> = await t.acceptInvitation(invitee, token, "account { id }");
    expectError(
      lapsed,
      "ConflictError",
      "This invitation lapsed: the partner administration it was sent under has ended",
    );
    await optIn(P.c1, id.c1, true);
    expectError(
      await t.acceptInvitation(invitee, token, "account { id }"),
      "ConflictError",
      "This invitation lapsed: the partner administration it was sent under has ended",
    );
    // The customer's own invitation of the same person works.
    ok(
      await t.mutate(
        P.c1,
        "inviteMember",
        "InviteMemberInput",
        { accountId: id.c1, email: invitee, role: "CONTRIBUTOR" },
        "member { email }",
      ),
    );
    ok(await t.acceptInvitation(invitee, await t.invitationToken(invitee), "account { id }"));
  });

  it("an invitation sent on behalf, accepted while the opt-in holds, joins", async () => {
    const invitee = "user2@consent-c1.example";
    ok(await inviteOnBehalf(P.pa1, id.c1, invitee));
    ok(await t.acceptInvitation(invitee, await t.invitationToken(invitee), "account { id }"));
  });
});
