/**
 * Security rule 17: deleting an account (retention, 14 days without an active subscription)
 * removes every trace of it on a partner's shared PBX: its members' extension associations (e-mail
 * and public number), its tenancy and company prefix, so the prefix and the extensions are free for
 * another customer. And a tenant's extensionCount counts its own extensions only.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ERR, OPERATOR, PLATFORM, ok, startTestStack } from "./harness.js";
import type { TestStack } from "./harness.js";

const TRUNK = "RC-DRAAS-TRUNK-SUB";
const DAY0 = "2028-09-01T09:00:00.000Z";
const DAY = 86_400_000;
const P = { d: "owner@traces-d.example", gone: "owner@traces-gone.example", next: "owner@traces-next.example" };

let t: TestStack;
const id = { d: "", gone: "", next: "", pbx: "" };

interface EquipmentView {
  readonly id: string;
  readonly tenantCount: number;
  readonly extensionCount: number;
  readonly tenants: { readonly edges: { readonly node: { readonly companyPrefix: string } }[] };
  readonly extensionAssignments: {
    readonly edges: {
      readonly node: { readonly extension: string; readonly email: string; readonly publicNumber: string };
    }[];
  };
}
const EQUIPMENT =
  "id tenantCount extensionCount tenants(first: 10) { edges { node { companyPrefix } } } extensionAssignments(first: 10) { edges { node { extension email publicNumber } } }";
const pbx = async (as: string) =>
  (
    await t.read<{ node: EquipmentView | null }>(
      as,
      `query E($id: ID!) { node(id: $id) { ... on Equipment { ${EQUIPMENT} } } }`,
      { id: id.pbx },
    )
  ).node;
const customerAccount = async (name: string, owner: string) => {
  const a = ok<{ account: { id: string } }>(
    await t.mutate(
      P.d,
      "createAccount",
      "CreateAccountInput",
      {
        parentId: id.d,
        kind: "CUSTOMER",
        name,
        country: "US",
        owner: { email: owner },
        order: { lines: [{ sku: TRUNK, quantity: 1 }], idempotencyKey: name.replace(/\W+/g, "-") },
      },
      "account { id }",
    ),
  ).account.id;
  await t.accept(owner);
  return a;
};
const attach = (customerId: string, companyPrefix: string) =>
  t.mutate(
    P.d,
    "attachEquipmentTenant",
    "AttachEquipmentTenantInput",
    { equipmentId: id.pbx, customerId, companyPrefix },
    "companyPrefix",
  );
const assignExtension = (as: string, accountId: string, email: string, extension: string, publicNumber: string) =>
  t.mutate(
    as,
    "assignExtension",
    "AssignExtensionInput",
    { accountId, email, equipmentId: id.pbx, extension, publicNumber },
    "assignment { extension }",
  );

beforeAll(async () => {
  t = await startTestStack();
  await t.setClock(DAY0);
  id.d = ok<{ account: { id: string } }>(
    await t.mutate(
      OPERATOR,
      "createAccount",
      "CreateAccountInput",
      {
        parentId: PLATFORM,
        kind: "DISTRIBUTOR",
        name: "Traces D",
        country: "US",
        currency: "USD",
        owner: { email: P.d },
      },
      "account { id }",
    ),
  ).account.id;
  await t.accept(P.d);
  ok(
    await t.mutate(
      OPERATOR,
      "setAvailableOffers",
      "SetAvailableOffersInput",
      { accountId: id.d, skus: [TRUNK] },
      "account { id }",
    ),
  );
  // The distributor's multi-tenant PBX, paired, reporting extensions of two company prefixes.
  const pbx = await t.pairEquipment(P.d, {
    accountId: id.d,
    name: "Traces OTEC",
    country: "US",
    serverType: "OTEC_S",
    outboundPrefix: "0",
  });
  id.pbx = pbx.equipmentId;
  const credential = pbx.credential;
  const report = await t.device(
    credential,
    `mutation R($n: [String!]!) { r: reportExtensions(numbers: $n) { __typename ${ERR} } }`,
    { n: ["8210201", "8210202", "8220301"] },
  );
  expect(report.errors).toBeUndefined();
  id.gone = await customerAccount("Traces Gone", P.gone);
  await t.giveNumbers(id.gone, id.d, ["+14155550101"]);
  ok(await attach(id.gone, "8210"));
  ok(await assignExtension(P.gone, id.gone, P.gone, "8210201", "+14155550101"));
}, 60_000);

afterAll(async () => {
  await t?.stop();
});

describe("rule 17: deleting an account removes every trace of it elsewhere", () => {
  it("a tenant's extensionCount counts its own extensions only (the owner's, all of them)", async () => {
    const asTenant = await t.read<{
      account: { data: { equipment: { edges: { node: { extensionCount: number; reportedExtensions: string[] } }[] } } };
    }>(
      P.gone,
      `query A($id: ID!) { account(id: $id) { ... on QueryAccountSuccess { data { equipment(first: 10) { edges { node { extensionCount reportedExtensions } } } } } } }`,
      { id: id.gone },
    );
    expect(asTenant.account.data.equipment.edges.map((e) => e.node)).toEqual([
      { extensionCount: 2, reportedExtensions: ["8210201", "8210202"] },
    ]);
    expect((await pbx(P.d))?.extensionCount).toBe(3);
  });

  it("after retention deletes the customer: its extension association, tenancy and prefix are gone, and both are free again", async () => {
    const before = await pbx(P.d);
    expect(before).toMatchObject({ tenantCount: 1, tenants: { edges: [{ node: { companyPrefix: "8210" } }] } });
    expect(before?.extensionAssignments.edges.map((e) => e.node)).toEqual([
      { extension: "8210201", email: P.gone, publicNumber: "+14155550101" },
    ]);

    // The customer's only subscription is cancelled; 15 days later the daily run deletes it.
    const subs = await t.read<{ account: { data: { subscriptions: { edges: { node: { id: string } }[] } } } }>(
      P.d,
      `query S($id: ID!) { account(id: $id) { ... on QueryAccountSuccess { data { subscriptions(first: 5) { edges { node { id } } } } } } }`,
      { id: id.gone },
    );
    ok(
      await t.mutate(
        P.d,
        "cancelSubscription",
        "CancelSubscriptionInput",
        { subscriptionId: subs.account.data.subscriptions.edges[0]!.node.id },
        "subscription { id }",
      ),
    );
    await t.setClock(new Date(Date.parse(DAY0) + DAY).toISOString());
    await t.runJob("lifecycle");
    await t.setClock(new Date(Date.parse(DAY0) + 16 * DAY).toISOString());
    expect(await t.runJob("lifecycle")).toMatchObject({ deadLettered: 0 });
    const gone = await t.read<{ account: { __typename: string } }>(
      P.d,
      `query A($id: ID!) { account(id: $id) { __typename } }`,
      { id: id.gone },
    );
    expect(gone.account.__typename).toBe("NotFoundError");

    const after = await pbx(P.d);
    expect(after).toMatchObject({
      tenantCount: 0,
      tenants: { edges: [] },
      extensionAssignments: { edges: [] },
      extensionCount: 3,
    });
    // No item anywhere still names the customer's member or number.
    // No association item on the PBX still names the customer's member or number.
    const stored = JSON.stringify((await t.stack.store.listEquipmentAssignments(rawOwner(), rawPbx(), 100)).items);
    expect(stored).not.toContain(P.gone);
    expect(stored).not.toContain("+14155550101");

    // The prefix and the extension are free for the next customer.
    id.next = await customerAccount("Traces Next", P.next);
    await t.giveNumbers(id.next, id.d, ["+14155550102"]);
    ok(await attach(id.next, "8210"));
    ok(await assignExtension(P.next, id.next, P.next, "8210201", "+14155550102"));
  });
});

/** The table's ids behind the PBX's global id ("Equipment:<owner>:<equipment>"). */
function rawParts(): [string, string] {
  const [, owner, equipment] = Buffer.from(id.pbx, "base64").toString("utf8").split(":");
  return [owner!, equipment!];
}
const rawOwner = () => rawParts()[0];
const rawPbx = () => rawParts()[1];
