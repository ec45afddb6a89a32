/**
 * What the partner guides ask for: trials and subscriptions, over HTTP:
 *  - item 7: `previewSubscriptionChange` answers the old and new quantity and what the next invoice
 *    carries (monthly: the month-end amount; prepaid: the prorated charge), prices only for those
 *    who see them, refusing exactly what `updateSubscriptionQuantity` would;
 *  - item 8: `LicenceSubscription.account`; an unknown subscription id answers "Subscription not found".
 *
 *   Platform (operator)
 *   ├── Distributor D, USD (owner d: seller, sees prices; VIEWER dv)
 *   │   └── Reseller R (owner r, a seller)
 *   │       └── Customer C (owner c, user u, VIEWER cv)
 *   ├── Distributor P, EUR (owner p) — prepaid
 *   │   └── Customer PC
 *   └── Distributor E, USD (owner e) — sees nothing of D's tree
 *
 * Every refusal is a typed error and writes nothing: the whole table is scanned before and after.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ERR, OPERATOR, PLATFORM, expectError, expectForbidden, expectInvalid, ok, startTestStack } from "./harness.js";
import type { Money, Result, TestStack } from "./harness.js";

// ---------------------------------------------------------------- data

const START = "2026-10-05T09:00:00.000Z";
const D = "owner@trials-d.example";
const DV = "viewer@trials-d.example";
const R = "owner@trials-r.example";
const C = "owner@trials-c.example";
const U = "user@trials-c.example";
const CV = "viewer@trials-c.example";
const P = "owner@trials-p.example";
const E = "owner@trials-e.example";

const TRUNK = "RC-DRAAS-TRUNK-SUB";
const TRUNK_TRIAL = "RC-DRAAS-TRK-TRIAL";
const PBX_TRIAL = "RC-DRAAS-PBX-TRIAL";
const PBX = "RC-DRAAS-PBX-SUB";
const BUSINESS = "3EY95002AA";
const BUSINESS_1Y = "3EY95101AB";
const CONFERENCE = "3EY95004AA";

const ids = { d: "", r: "", c: "", p: "", pc: "", e: "", c2: "", c3: "", c4: "" };
const subs = {
  trunk: "",
  trial: "",
  prepaid: "",
  conference: "",
  business: "",
  c2Trial: "",
  rTrial: "",
  rPbxTrial: "",
  cTrial: "",
};
let t: TestStack;

// ---------------------------------------------------------------- helpers

const mk = async (as: string, input: Record<string, unknown>) =>
  (
    await t.mutateOk<{ account: { id: string } }>(
      as,
      "createAccount",
      "CreateAccountInput",
      { country: "US", ...input },
      "account { id }",
    )
  ).account.id;

const order = (as: string, accountId: string, lines: { sku: string; quantity: number }[], key: string) =>
  t.mutateOk<{ order: { id: string } }>(
    as,
    "placeOrder",
    "PlaceOrderInput",
    { accountId, lines, idempotencyKey: key },
    "order { id }",
  );

interface SubView {
  readonly id: string;
  readonly sku: string;
  readonly quantity: number;
  readonly assigned: number;
  readonly status: string;
  readonly version: number;
}
const SUB = "id sku quantity assigned status version";

async function subscriptionOf(accountId: string, sku: string): Promise<SubView> {
  const a = ok<{ subscriptions: { edges: { node: SubView }[] } }>(
    await t.account(OPERATOR, accountId, `subscriptions(first: 100) { edges { node { ${SUB} } } }`),
  );
  const found = a.subscriptions.edges.find((e) => e.node.sku === sku)?.node;
  expect(found, `${sku} of ${accountId}`).toBeDefined();
  return found!;
}

interface PreviewView {
  readonly oldQuantity: number;
  readonly newQuantity: number;
  readonly nextInvoiceAmount: Money | null;
  readonly subscription: { id: string; version: number };
}
const previewChange = async (as: string, subscriptionId: string, quantity: number) =>
  (
    await t.read<{ r: Result<PreviewView> }>(
      as,
      `query P($id: ID!, $q: Int!) { r: previewSubscriptionChange(subscriptionId: $id, quantity: $q) { __typename ... on QueryPreviewSubscriptionChangeSuccess { data { oldQuantity newQuantity nextInvoiceAmount { amount currency } subscription { id version } } } ${ERR} } }`,
      { id: subscriptionId, q: quantity },
    )
  ).r;

const updateQuantity = (as: string, subscriptionId: string, quantity: number, expectedVersion: number) =>
  t.mutate<{ subscription: SubView }>(
    as,
    "updateSubscriptionQuantity",
    "UpdateSubscriptionQuantityInput",
    { subscriptionId, quantity, expectedVersion },
    `subscription { ${SUB} }`,
  );

/** A LicenceSubscription global id that names nothing (an account that does not exist). */
const UNKNOWN_SUB = Buffer.from(`LicenceSubscription:01ZZZZZZZZZZZZZZZZZZZZZZZZ:${TRUNK}`).toString("base64");

// ---------------------------------------------------------------- setup

beforeAll(async () => {
  t = await startTestStack();
  await t.setClock(START);
  ids.d = await mk(OPERATOR, {
    parentId: PLATFORM,
    kind: "DISTRIBUTOR",
    name: "Trials D",
    currency: "USD",
    owner: { email: D },
  });
  ids.e = await mk(OPERATOR, {
    parentId: PLATFORM,
    kind: "DISTRIBUTOR",
    name: "Trials E",
    currency: "USD",
    owner: { email: E },
  });
  ids.p = await mk(OPERATOR, {
    parentId: PLATFORM,
    kind: "DISTRIBUTOR",
    name: "Trials P",
    currency: "EUR",
    country: "FR",
    owner: { email: P },
  });
  for (const email of [D, E, P]) await t.accept(email);
  await t.mutateOk(
    D,
    "inviteMember",
    "InviteMemberInput",
    { accountId: ids.d, email: DV, role: "VIEWER" },
    "member { email }",
  );
  await t.accept(DV);
  await t.mutateOk(
    OPERATOR,
    "setAvailableOffers",
    "SetAvailableOffersInput",
    { accountId: ids.d, skus: [TRUNK, TRUNK_TRIAL, PBX, PBX_TRIAL] },
    "account { id }",
  );
  await t.mutateOk(
    OPERATOR,
    "setAvailableOffers",
    "SetAvailableOffersInput",
    { accountId: ids.e, skus: [TRUNK, TRUNK_TRIAL] },
    "account { id }",
  );
  await t.mutateOk(
    OPERATOR,
    "setAvailableOffers",
    "SetAvailableOffersInput",
    { accountId: ids.p, skus: [BUSINESS, BUSINESS_1Y, CONFERENCE] },
    "account { id }",
  );
  ids.r = await mk(D, {
    parentId: ids.d,
    kind: "RESELLER",
    name: "Trials R",
    owner: { email: R },
    canCreateAccounts: true,
  });
  await t.accept(R);
  await t.mutateOk(
    D,
    "setAvailableOffers",
    "SetAvailableOffersInput",
    { accountId: ids.r, skus: [TRUNK, TRUNK_TRIAL, PBX, PBX_TRIAL] },
    "account { id }",
  );
  ids.c = await mk(R, { parentId: ids.r, kind: "CUSTOMER", name: "Trials C", owner: { email: C } });
  await t.accept(C);
  await t.mutateOk(
    C,
    "inviteMember",
    "InviteMemberInput",
    { accountId: ids.c, email: U, role: "CONTRIBUTOR" },
    "member { email }",
  );
  await t.accept(U);
  await t.mutateOk(
    C,
    "inviteMember",
    "InviteMemberInput",
    { accountId: ids.c, email: CV, role: "VIEWER" },
    "member { email }",
  );
  await t.accept(CV);
  await order(
    R,
    ids.c,
    [
      { sku: TRUNK, quantity: 5 },
      { sku: PBX_TRIAL, quantity: 3 },
    ],
    "c-first",
  );
  subs.trunk = (await subscriptionOf(ids.c, TRUNK)).id;
  subs.trial = (await subscriptionOf(ids.c, PBX_TRIAL)).id;
  await t.mutateOk(C, "assignLicence", "LicenceInput", { subscriptionId: subs.trunk, email: U }, "licence { email }");
  ids.pc = await mk(P, { parentId: ids.p, kind: "CUSTOMER", name: "Trials PC", country: "FR" });
  await order(
    P,
    ids.pc,
    [
      { sku: BUSINESS_1Y, quantity: 10 },
      { sku: CONFERENCE, quantity: 1 },
      { sku: BUSINESS, quantity: 4 },
    ],
    "pc-first",
  );
  subs.prepaid = (await subscriptionOf(ids.pc, BUSINESS_1Y)).id;
  subs.conference = (await subscriptionOf(ids.pc, CONFERENCE)).id;
  subs.business = (await subscriptionOf(ids.pc, BUSINESS)).id;
}, 120_000);

afterAll(async () => {
  await t?.stop();
});

// ---------------------------------------------------------------- item 8

describe("LicenceSubscription.account and unknown subscription ids", () => {
  it("a subscription names its account; its sellers and owners read it there", async () => {
    for (const as of [C, R, D, OPERATOR]) {
      const r = await t.read<{ node: { sku: string; account: { id: string; name: string } } }>(
        as,
        `query N($id: ID!) { node(id: $id) { ... on LicenceSubscription { sku account { id name } } } }`,
        { id: subs.trunk },
      );
      expect(r.node).toEqual({ sku: TRUNK, account: { id: ids.c, name: "Trials C" } });
    }
  });

  it("an unknown, malformed or foreign subscription id is NotFoundError 'Subscription not found' everywhere, nothing written", async () => {
    const malformed = [
      UNKNOWN_SUB,
      "garbage",
      Buffer.from("LicenceSubscription:nocolon").toString("base64"),
      Buffer.from(`Account:${ids.c}`).toString("base64"),
    ];
    await t.nothingWritten(async () => {
      for (const id of malformed) {
        expectError(await previewChange(D, id, 3), "NotFoundError", "Subscription not found");
        expectError(await updateQuantity(D, id, 3, 1), "NotFoundError", "Subscription not found");
        expectError(
          await t.mutate(
            D,
            "cancelSubscription",
            "CancelSubscriptionInput",
            { subscriptionId: id },
            "subscription { id }",
          ),
          "NotFoundError",
          "Subscription not found",
        );
        expectError(
          await t.mutate(C, "assignLicence", "LicenceInput", { subscriptionId: id, email: U }, "licence { email }"),
          "NotFoundError",
          "Subscription not found",
        );
      }
      // A real subscription outside the caller's reach answers exactly the same.
      expectError(await previewChange(E, subs.trunk, 3), "NotFoundError", "Subscription not found");
      expectError(await updateQuantity(E, subs.trunk, 3, 1), "NotFoundError", "Subscription not found");
      expectError(
        await t.mutate(
          E,
          "cancelSubscription",
          "CancelSubscriptionInput",
          { subscriptionId: subs.trunk },
          "subscription { id }",
        ),
        "NotFoundError",
        "Subscription not found",
      );
      expectError(
        await t.mutate(
          E,
          "unassignLicence",
          "LicenceInput",
          { subscriptionId: subs.trunk, email: U },
          "licence { email }",
        ),
        "NotFoundError",
        "Subscription not found",
      );
      // A sku the visible account does not hold, too.
      const otherSku = Buffer.from(
        `LicenceSubscription:${Buffer.from(ids.c, "base64").toString("utf8").split(":")[1]}:NOPE-SKU`,
      ).toString("base64");
      expectError(await previewChange(D, otherSku, 3), "NotFoundError", "Subscription not found");
    });
  });
});

// ---------------------------------------------------------------- item 7

describe("previewSubscriptionChange", () => {
  it("monthly: old and new quantity, and the month-end amount the next invoice carries; the billed party's owner sees it, the seller below does not", async () => {
    const forOwner = ok<PreviewView>(await previewChange(D, subs.trunk, 8));
    expect(forOwner).toMatchObject({
      oldQuantity: 5,
      newQuantity: 8,
      nextInvoiceAmount: { amount: "24.00", currency: "USD" },
      subscription: { id: subs.trunk, version: 1 },
    });
    // R sells to C but is not the billed party (D is): the same answer without the price.
    expect(ok<PreviewView>(await previewChange(R, subs.trunk, 8))).toMatchObject({
      oldQuantity: 5,
      newQuantity: 8,
      nextInvoiceAmount: null,
    });
    // Operators see prices; a decrease is the new, smaller month-end amount.
    expect(ok<PreviewView>(await previewChange(OPERATOR, subs.trunk, 2))).toMatchObject({
      oldQuantity: 5,
      newQuantity: 2,
      nextInvoiceAmount: { amount: "6.00", currency: "USD" },
    });
    // Cancelling (0) carries nothing; the same quantity carries what it does now.
    expect(ok<PreviewView>(await previewChange(D, subs.trunk, 1))).toMatchObject({
      newQuantity: 1,
      nextInvoiceAmount: { amount: "3.00" },
    });
    expect(ok<PreviewView>(await previewChange(D, subs.trunk, 5))).toMatchObject({
      oldQuantity: 5,
      newQuantity: 5,
      nextInvoiceAmount: { amount: "15.00" },
    });
  });

  it("a trial carries nothing; a usage offer is billed from recorded usage (null even for the billed party's owner)", async () => {
    expect(ok<PreviewView>(await previewChange(D, subs.trial, 4))).toMatchObject({
      oldQuantity: 3,
      newQuantity: 4,
      nextInvoiceAmount: { amount: "0.00", currency: "USD" },
    });
    expect(ok<PreviewView>(await previewChange(P, subs.conference, 2))).toMatchObject({
      oldQuantity: 1,
      newQuantity: 2,
      nextInvoiceAmount: null,
    });
  });

  it("prepaid: licences added mid-term are charged for the whole months left, at the original price; placing the change charges exactly that", async () => {
    // Ordered 2026-10-05 for 12 months (ends 2027-10-05); on 2027-01-10, 9 months are left (a started month counts).
    await t.setClock("2027-01-10T09:00:00.000Z");
    const p = ok<PreviewView>(await previewChange(P, subs.prepaid, 12));
    // 2 × 13.00 × 9 / 12 = 19.50
    expect(p).toMatchObject({
      oldQuantity: 10,
      newQuantity: 12,
      nextInvoiceAmount: { amount: "19.50", currency: "EUR" },
    });
    const done = ok<{ subscription: SubView }>(await updateQuantity(P, subs.prepaid, 12, p.subscription.version));
    expect(done.subscription).toMatchObject({ quantity: 12, version: p.subscription.version + 1 });
    const orders = ok<{ orders: { edges: { node: { reference: string | null; total: Money | null } }[] } }>(
      await t.account(P, ids.pc, "orders(first: 1) { edges { node { reference total { amount currency } } } }"),
    );
    expect(orders.orders.edges[0]!.node).toEqual({
      reference: "quantity update",
      total: { amount: "19.50", currency: "EUR" },
    });
    // The same quantity again adds nothing: zero.
    expect(ok<PreviewView>(await previewChange(P, subs.prepaid, 12))).toMatchObject({
      oldQuantity: 12,
      newQuantity: 12,
      nextInvoiceAmount: { amount: "0.00", currency: "EUR" },
    });
  });

  it("refuses what the change would refuse, as typed errors, and writes nothing", async () => {
    await t.nothingWritten(async () => {
      // A prepaid subscription only grows; never below the licences assigned; not negative.
      expectInvalid(await previewChange(P, subs.prepaid, 3), ["quantity"], "a prepaid subscription may only increase");
      expectInvalid(
        await previewChange(D, subs.trunk, 0),
        ["quantity"],
        "1 licences are assigned; unassign some first",
      );
      expectInvalid(await previewChange(D, subs.trunk, -1), ["quantity"], "must not be negative");
      expectInvalid(await previewChange(D, subs.trunk, 100_001), ["quantity"]);
      // Rights: the customer's own owner has no delegated rights; a viewer of the distributor sees but may not.
      expectForbidden(await previewChange(C, subs.trunk, 6), "NOT_DELEGATED");
      expectForbidden(await previewChange(CV, subs.trunk, 6), "ROLE");
      // D's viewer has no seller flag: C is not in its reach at all.
      expectError(await previewChange(DV, subs.trunk, 6), "NotFoundError", "Subscription not found");
    });
  });

  it("delegated rights let the customer's admins preview increases, and decreases only with canDecreaseSubscriptions", async () => {
    await t.mutateOk(
      R,
      "setDelegatedRights",
      "SetDelegatedRightsInput",
      { accountId: ids.c, canUpdateSubscriptions: true, canDecreaseSubscriptions: false },
      "account { id }",
    );
    // The customer's owner is not the billed party's: no prices.
    expect(ok<PreviewView>(await previewChange(C, subs.trunk, 6))).toMatchObject({
      oldQuantity: 5,
      newQuantity: 6,
      nextInvoiceAmount: null,
    });
    expectForbidden(await previewChange(C, subs.trunk, 4), "NOT_DELEGATED");
    await t.mutateOk(
      R,
      "setDelegatedRights",
      "SetDelegatedRightsInput",
      { accountId: ids.c, canUpdateSubscriptions: true, canDecreaseSubscriptions: true },
      "account { id }",
    );
    expect(ok<PreviewView>(await previewChange(C, subs.trunk, 4))).toMatchObject({ newQuantity: 4 });
    await t.mutateOk(
      R,
      "setDelegatedRights",
      "SetDelegatedRightsInput",
      { accountId: ids.c, canUpdateSubscriptions: false, canDecreaseSubscriptions: false },
      "account { id }",
    );
  });

  it("a cancelled subscription cannot be changed: ConflictError", async () => {
    const business = await subscriptionOf(ids.pc, BUSINESS);
    ok(
      await t.mutate(
        P,
        "cancelSubscription",
        "CancelSubscriptionInput",
        { subscriptionId: subs.business, expectedVersion: business.version },
        "subscription { id }",
      ),
    );
    await t.nothingWritten(async () => {
      expectError(
        await previewChange(P, subs.business, 2),
        "ConflictError",
        "The subscription is cancelled; place an order to subscribe again",
      );
    });
  });
});

// ---------------------------------------------------------------- item 5: the Trials view

const C2 = "owner@trials-c2.example";
const U2 = "user@trials-c2.example";
const RC = "buyer@trials-r.example";
const D2 = "second-owner@trials-d.example";
const T1 = "2027-02-02T09:00:00.000Z";

interface TrialView {
  readonly id: string;
  readonly sku: string;
  readonly quantity: number;
  readonly daysRemaining: number | null;
  readonly endsAt: string;
  readonly account: { id: string; name: string };
  readonly offer: { name: string; kind: string; convertsTo: string | null } | null;
}
const TRIAL = "id sku quantity daysRemaining endsAt account { id name } offer { name kind convertsTo }";
const TRIALS = `query T($id: ID!, $first: Int, $after: String) { trials(accountId: $id, first: $first, after: $after) { edges { cursor node { ${TRIAL} } } pageInfo { hasNextPage endCursor } } }`;
interface TrialsPage {
  readonly edges: { cursor: string; node: TrialView }[];
  readonly pageInfo: { hasNextPage: boolean; endCursor: string | null };
}
const trials = async (as: string, accountId: string, first?: number, after?: string) =>
  (
    await t.read<{ trials: TrialsPage }>(as, TRIALS, {
      id: accountId,
      ...(first ? { first } : {}),
      ...(after ? { after } : {}),
    })
  ).trials;
/** A compact row of the view: "<account name> <sku> ×<quantity> <days>d". */
const rows = (p: TrialsPage) =>
  p.edges.map((e) => `${e.node.account.name} ${e.node.sku} ×${e.node.quantity} ${e.node.daysRemaining}d`);

const setDigest = (as: string, accountId: string, enabled: boolean) =>
  t.mutate<{ member: { email: string; trialDigest: boolean } }>(
    as,
    "setTrialDigest",
    "SetTrialDigestInput",
    { accountId, enabled },
    "member { email trialDigest }",
  );

interface Mail {
  readonly to: string;
  readonly subject: string;
  readonly text: string;
}
async function outbox(): Promise<Mail[]> {
  const res = await fetch(`${t.url}/dev/outbox`);
  return ((await res.json()) as { messages: Mail[] }).messages;
}
const digests = async () => (await outbox()).filter((m) => m.subject.startsWith("Trials ending within"));

describe("the Trials view across the subtree", () => {
  beforeAll(async () => {
    await t.setClock(T1);
    // The PBX trial ordered in October ended long ago (no lifecycle run in this file until March): R cancels it.
    const pbxTrial = await subscriptionOf(ids.c, PBX_TRIAL);
    ok(
      await t.mutate(
        R,
        "cancelSubscription",
        "CancelSubscriptionInput",
        { subscriptionId: subs.trial, expectedVersion: pbxTrial.version },
        "subscription { id }",
      ),
    );
    ids.c2 = await mk(D, { parentId: ids.d, kind: "CUSTOMER", name: "Trials C2", owner: { email: C2 } });
    await t.accept(C2);
    await t.mutateOk(
      C2,
      "inviteMember",
      "InviteMemberInput",
      { accountId: ids.c2, email: U2, role: "CONTRIBUTOR" },
      "member { email }",
    );
    await t.accept(U2);
    await t.mutateOk(
      R,
      "inviteMember",
      "InviteMemberInput",
      { accountId: ids.r, email: RC, role: "CONTRIBUTOR" },
      "member { email }",
    );
    await t.accept(RC);
    // A second owner of D without the seller flag.
    await t.mutateOk(
      D,
      "inviteMember",
      "InviteMemberInput",
      { accountId: ids.d, email: D2, role: "OWNER" },
      "member { email }",
    );
    await t.accept(D2);
    // Three trials a day apart: C2's (below D), R's own, C's (below R).
    await order(D, ids.c2, [{ sku: TRUNK_TRIAL, quantity: 4 }], "c2-trial");
    await t.setClock("2027-02-03T09:00:00.000Z");
    await order(
      R,
      ids.r,
      [
        { sku: TRUNK_TRIAL, quantity: 3 },
        { sku: PBX_TRIAL, quantity: 1 },
      ],
      "r-trial",
    );
    await t.setClock("2027-02-04T09:00:00.000Z");
    await order(R, ids.c, [{ sku: TRUNK_TRIAL, quantity: 2 }], "c-trial");
    subs.c2Trial = (await subscriptionOf(ids.c2, TRUNK_TRIAL)).id;
    subs.rTrial = (await subscriptionOf(ids.r, TRUNK_TRIAL)).id;
    subs.rPbxTrial = (await subscriptionOf(ids.r, PBX_TRIAL)).id;
    subs.cTrial = (await subscriptionOf(ids.c, TRUNK_TRIAL)).id;
    // C2's people hold trial licences.
    for (const email of [C2, U2])
      await t.mutateOk(
        C2,
        "assignLicence",
        "LicenceInput",
        { subscriptionId: subs.c2Trial, email },
        "licence { email }",
      );
    // Read the views three hours later: whole days remaining are rounded up.
    await t.setClock("2027-02-04T12:00:00.000Z");
  });

  it("a distributor's seller sees every trial below it, soonest end first, with account, offer, quantity and days remaining", async () => {
    const page = await trials(D, ids.d);
    expect(rows(page)).toEqual([
      `Trials C2 ${TRUNK_TRIAL} ×4 28d`,
      `Trials R ${PBX_TRIAL} ×1 29d`,
      `Trials R ${TRUNK_TRIAL} ×3 29d`,
      `Trials C ${TRUNK_TRIAL} ×2 30d`,
    ]);
    expect(page.edges[0]!.node).toMatchObject({
      id: subs.c2Trial,
      endsAt: expect.stringMatching(/^2027-03-04T09:00:/),
      account: { id: ids.c2 },
      offer: { kind: "TRIAL", convertsTo: TRUNK },
    });
    expect(page.pageInfo.hasNextPage).toBe(false);
    // Operators see the same from the distributor.
    expect(rows(await trials(OPERATOR, ids.d))).toEqual(rows(page));
  });

  it("a reseller's seller sees its own trial and its customers', not its siblings'; the customer sees its own", async () => {
    expect(rows(await trials(R, ids.r))).toEqual([
      `Trials R ${PBX_TRIAL} ×1 29d`,
      `Trials R ${TRUNK_TRIAL} ×3 29d`,
      `Trials C ${TRUNK_TRIAL} ×2 30d`,
    ]);
    expect(rows(await trials(C, ids.c))).toEqual([`Trials C ${TRUNK_TRIAL} ×2 30d`]);
    expect(rows(await trials(U2, ids.c2))).toEqual([`Trials C2 ${TRUNK_TRIAL} ×4 28d`]);
  });

  it("without the seller flag a partner's member sees the partner's own trials only", async () => {
    expect(rows(await trials(RC, ids.r))).toEqual([`Trials R ${PBX_TRIAL} ×1 29d`, `Trials R ${TRUNK_TRIAL} ×3 29d`]);
    expect(rows(await trials(DV, ids.d))).toEqual([]);
    expect(rows(await trials(D2, ids.d))).toEqual([]);
  });

  it("pages forward with sealed cursors, on both paths", async () => {
    const first = await trials(D, ids.d, 3);
    expect(rows(first)).toHaveLength(3);
    expect(first.pageInfo.hasNextPage).toBe(true);
    const rest = await trials(D, ids.d, 3, first.pageInfo.endCursor!);
    expect(rows(rest)).toEqual([`Trials C ${TRUNK_TRIAL} ×2 30d`]);
    expect(rest.pageInfo.hasNextPage).toBe(false);
    // The own-trials path (R's member without the seller flag) pages the same way.
    const own = await trials(RC, ids.r, 1);
    expect(rows(own)).toEqual([`Trials R ${PBX_TRIAL} ×1 29d`]);
    expect(own.pageInfo.hasNextPage).toBe(true);
    const ownRest = await trials(RC, ids.r, 1, own.pageInfo.endCursor!);
    expect(rows(ownRest)).toEqual([`Trials R ${TRUNK_TRIAL} ×3 29d`]);
    expect(ownRest.pageInfo.hasNextPage).toBe(false);
    // A cursor of another list, or of another path of this one, is refused; so is a page size out of range.
    for (const [as, id, after] of [
      [D, ids.r, first.pageInfo.endCursor],
      [RC, ids.r, first.pageInfo.endCursor],
      [D, ids.d, own.pageInfo.endCursor],
      [D, ids.d, "garbage"],
    ] as const) {
      expect((await t.failing(as, TRIALS, { id, first: 1, after })).extensions?.code, `${as} ${after}`).toBe(
        "BAD_USER_INPUT",
      );
    }
    expect((await t.failing(D, TRIALS, { id: ids.d, first: 0 })).extensions?.code).toBe("BAD_USER_INPUT");
    expect((await t.failing(D, TRIALS, { id: ids.d, first: 101 })).extensions?.code).toBe("BAD_USER_INPUT");
  });

  it("an account outside your reach is NOT_FOUND, like an unknown one", async () => {
    for (const [as, id] of [
      [E, ids.d],
      [C, ids.r],
      [C2, ids.c],
      [RC, ids.c],
    ] as const) {
      expect((await t.failing(as, TRIALS, { id })).extensions?.code).toBe("NOT_FOUND");
    }
    expect(
      (await t.failing(D, TRIALS, { id: Buffer.from("Account:01ZZZZZZZZZZZZZZZZZZZZZZZZ").toString("base64") }))
        .extensions?.code,
    ).toBe("NOT_FOUND");
  });

  it("a cancelled trial has left the view (the PBX trial R cancelled)", async () => {
    const all = await trials(OPERATOR, ids.c);
    expect(all.edges.map((e) => e.node.sku)).not.toContain(PBX_TRIAL);
  });
});

describe("the weekly trial digest", () => {
  beforeAll(async () => {
    await t.setClock("2027-02-25T09:00:00.000Z");
  });

  it("who may not opt in: typed errors with reasons, nothing written", async () => {
    // An API client of D with the OWNER role and the seller flag: a machine has no mailbox.
    const client = await t.mutateOk<{ clientSecret: string; client: { clientId: string } }>(
      D,
      "createApiClient",
      "CreateApiClientInput",
      { accountId: ids.d, name: "Trials ERP", role: "OWNER", seller: true },
      "clientSecret client { clientId }",
    );
    const res = await fetch(`${t.url}/oauth/token`, {
      method: "POST",
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        authorization: `Basic ${Buffer.from(`${client.client.clientId}:${client.clientSecret}`).toString("base64")}`,
      },
      body: "grant_type=client_credentials",
    });
    const token = ((await res.json()) as { access_token: string }).access_token;
    // (Outside the scan: every request of a client records its lastUsedAt.)
    const byClient = await t.device<{ r: Result<unknown> }>(
      token,
      `mutation M($input: SetTrialDigestInput!) { r: setTrialDigest(input: $input) { __typename ${ERR} } }`,
      { input: { accountId: ids.d, enabled: true } },
    );
    expectForbidden(byClient.data!.r, "ROLE");
    await t.nothingWritten(async () => {
      expectForbidden(await setDigest(DV, ids.d, true), "ROLE");
      expectForbidden(await setDigest(D2, ids.d, true), "NOT_SELLER");
      expectForbidden(await setDigest(RC, ids.r, true), "ROLE");
      expectForbidden(await setDigest(C, ids.c, true), "NOT_APPLICABLE");
      // Seen from above (a seller, an operator): it is the account's own owners' setting.
      expectForbidden(await setDigest(D, ids.r, true), "ROLE");
      expectForbidden(await setDigest(OPERATOR, ids.d, true), "ROLE");
      expectError(await setDigest(E, ids.d, true), "NotFoundError", "Account not found");
      expectError(await setDigest(D, "garbage", true), "NotFoundError", "Account not found");
    });
  });

  it("D's selling owner opts in; opting in again changes nothing", async () => {
    expect(ok<{ member: { email: string; trialDigest: boolean } }>(await setDigest(D, ids.d, true)).member).toEqual({
      email: D,
      trialDigest: true,
    });
    await t.nothingWritten(async () => {
      ok(await setDigest(D, ids.d, true));
    });
    const members = ok<{ members: { edges: { node: { email: string; trialDigest: boolean } }[] } }>(
      await t.account(D, ids.d, "members { edges { node { email trialDigest } } }"),
    );
    expect(members.members.edges.map((e) => e.node).filter((m) => m.trialDigest)).toEqual([
      { email: D, trialDigest: true },
    ]);
  });

  it("Monday's lifecycle run mails D's owner the trials of its reach ending within 7 days, once", async () => {
    await t.setClock("2027-03-01T07:05:00.000Z");
    const before = (await digests()).length;
    await t.runJob("lifecycle");
    const sent = (await digests()).slice(before);
    expect(sent.map((m) => [m.to, m.subject])).toEqual([[D, "Trials ending within 7 days: 4"]]);
    const lines = sent[0]!.text.split("\n").filter((l) => l.startsWith("- "));
    expect(lines).toEqual([
      `- Trials C2: Trial licence for trunk users (${TRUNK_TRIAL}) × 4, ends 2027-03-04 (in 4 days)`,
      `- Trials R: Trial licence for PBX users (${PBX_TRIAL}) × 1, ends 2027-03-05 (in 5 days)`,
      `- Trials R: Trial licence for trunk users (${TRUNK_TRIAL}) × 3, ends 2027-03-05 (in 5 days)`,
      `- Trials C: Trial licence for trunk users (${TRUNK_TRIAL}) × 2, ends 2027-03-06 (in 6 days)`,
    ]);
    // Run again the same morning: no second mail.
    await t.runJob("lifecycle");
    expect((await digests()).length).toBe(before + 1);
  });
});

// ---------------------------------------------------------------- item 6: converting a trial

const BIZ_TRIAL = "RB-BIZ-TRIAL";

interface ConversionView {
  readonly order: {
    id: string;
    idempotencyKey: string;
    reference: string | null;
    total: Money | null;
    lines: { sku: string; kind: string; quantity: number; amount: Money | null }[];
  };
  readonly trial: SubView;
  readonly subscription: SubView & { endsAt: string | null };
}
const CONVERSION = `order { id idempotencyKey reference total { amount currency } lines { sku kind quantity amount { amount currency } } } trial { ${SUB} } subscription { ${SUB} endsAt }`;
const convert = (as: string, subscriptionId: string, quantity: number, idempotencyKey: string) =>
  t.mutate<ConversionView>(
    as,
    "convertTrial",
    "ConvertTrialInput",
    { subscriptionId, quantity, idempotencyKey },
    CONVERSION,
  );

interface ConversionPreviewView {
  readonly licences: number;
  readonly trial: { id: string; quantity: number };
  readonly order: {
    currency: string;
    total: Money | null;
    lines: { sku: string; kind: string; quantity: number; amount: Money | null }[];
  };
}
const previewConversion = async (as: string, subscriptionId: string, quantity: number) =>
  (
    await t.read<{ r: Result<ConversionPreviewView> }>(
      as,
      `query P($id: ID!, $q: Int!) { r: previewTrialConversion(subscriptionId: $id, quantity: $q) { __typename ... on QueryPreviewTrialConversionSuccess { data { licences trial { id quantity } order { currency total { amount currency } lines { sku kind quantity amount { amount currency } } } } } ${ERR} } }`,
      { id: subscriptionId, q: quantity },
    )
  ).r;

interface LedgerView {
  readonly kind: string;
  readonly from: number;
  readonly to: number;
  readonly reason: string | null;
}
const ledger = async (subscriptionId: string) =>
  (
    await t.read<{ node: { history: { edges: { node: LedgerView }[] } } }>(
      OPERATOR,
      `query L($id: ID!) { node(id: $id) { ... on LicenceSubscription { history(first: 20) { edges { node { kind from to reason } } } } } }`,
      { id: subscriptionId },
    )
  ).node.history.edges.map((e) => e.node);
const licenceHolders = async (subscriptionId: string) =>
  (
    await t.read<{ node: { licences: { edges: { node: { email: string; sku: string } }[] } } }>(
      OPERATOR,
      `query L($id: ID!) { node(id: $id) { ... on LicenceSubscription { licences(first: 100) { edges { node { email sku } } } } } }`,
      { id: subscriptionId },
    )
  ).node.licences.edges.map((e) => e.node);
const ordersOf = async (accountId: string) =>
  ok<{ orders: { edges: { node: { id: string; reference: string | null; idempotencyKey: string } }[] } }>(
    await t.account(OPERATOR, accountId, "orders(first: 50) { edges { node { id reference idempotencyKey } } }"),
  ).orders.edges.map((e) => e.node);

describe("convertTrial", () => {
  beforeAll(async () => {
    await t.setClock("2027-03-01T08:00:00.000Z");
  });

  it("previews the conversion: the paid offer's order and its charge; prices only for the billed party's owners", async () => {
    const p = ok<ConversionPreviewView>(await previewConversion(D, subs.c2Trial, 5));
    expect(p).toEqual({
      licences: 2,
      trial: { id: subs.c2Trial, quantity: 4 },
      order: {
        currency: "USD",
        total: { amount: "15.00", currency: "USD" },
        lines: [{ sku: TRUNK, kind: "MONTHLY", quantity: 5, amount: { amount: "15.00", currency: "USD" } }],
      },
    });
    // R sells to C, but D is its billed party: no prices.
    expect(ok<ConversionPreviewView>(await previewConversion(R, subs.cTrial, 2)).order).toMatchObject({
      total: null,
      lines: [{ sku: TRUNK, quantity: 2, amount: null }],
    });
  });

  it("refuses, as typed errors, and writes nothing: rights, quantities, keys, what is not a trial", async () => {
    await t.nothingWritten(async () => {
      // Outside the reach: the same NotFound as an unknown subscription.
      for (const as of [E, DV, RC]) {
        expectError(await convert(as, subs.c2Trial, 5, "x-1"), "NotFoundError", "Subscription not found");
        expectError(await previewConversion(as, subs.c2Trial, 5), "NotFoundError", "Subscription not found");
      }
      expectError(await convert(D, UNKNOWN_SUB, 5, "x-1"), "NotFoundError", "Subscription not found");
      // The customer's own people do not order: Forbidden with the reason.
      expectForbidden(await convert(C2, subs.c2Trial, 5, "x-1"), "ROLE");
      expectForbidden(await previewConversion(U2, subs.c2Trial, 5), "ROLE");
      // Two members hold trial licences: fewer paid ones would cut one of them off.
      expectInvalid(
        await convert(D, subs.c2Trial, 1, "x-1"),
        ["quantity"],
        "2 members hold licences of the trial; convert at least that many",
      );
      expectInvalid(
        await previewConversion(D, subs.c2Trial, 1),
        ["quantity"],
        "2 members hold licences of the trial; convert at least that many",
      );
      expectInvalid(await convert(D, subs.c2Trial, 0, "x-1"), ["quantity"], "must be at least 1");
      expectInvalid(await convert(D, subs.c2Trial, 100_001, "x-1"), ["quantity"]);
      expectInvalid(await convert(D, subs.c2Trial, 5, ""), ["idempotencyKey"]);
      expectInvalid(await convert(D, subs.c2Trial, 5, "with space"), ["idempotencyKey"]);
      // A paid subscription is not a trial.
      expectInvalid(
        await convert(R, subs.trunk, 5, "x-1"),
        ["subscriptionId"],
        "is a monthly subscription, not a trial",
      );
      // A cancelled trial is over.
      expectError(
        await convert(R, subs.trial, 5, "x-1"),
        "ConflictError",
        "The trial is cancelled; it can no longer be converted",
      );
    });
  });

  it("converts C2's trial: the paid subscription is created, the members' licences move to it, the ledger records CONVERTED, an order charges it", async () => {
    const r = ok<ConversionView>(await convert(D, subs.c2Trial, 5, "c2-convert"));
    expect(r.trial).toMatchObject({ id: subs.c2Trial, status: "CONVERTED", quantity: 0, assigned: 0 });
    expect(r.subscription).toMatchObject({
      sku: TRUNK,
      status: "ACTIVE",
      quantity: 5,
      assigned: 2,
      version: 1,
      endsAt: null,
    });
    expect(r.order).toMatchObject({
      idempotencyKey: "conversion:c2-convert",
      reference: "trial conversion",
      total: { amount: "15.00", currency: "USD" },
      lines: [{ sku: TRUNK, kind: "MONTHLY", quantity: 5, amount: { amount: "15.00", currency: "USD" } }],
    });
    // No member lost service: the same people hold licences, now of the paid offer.
    expect(await licenceHolders(r.subscription.id)).toEqual([
      { email: C2, sku: TRUNK },
      { email: U2, sku: TRUNK },
    ]);
    expect(await licenceHolders(subs.c2Trial)).toEqual([]);
    expect(await ledger(subs.c2Trial)).toEqual([
      { kind: "CONVERTED", from: 4, to: 0, reason: `converted to ${TRUNK}` },
      { kind: "CREATED", from: 0, to: 4, reason: "order" },
    ]);
    expect(await ledger(r.subscription.id)).toEqual([{ kind: "CREATED", from: 0, to: 5, reason: "trial conversion" }]);
    // It left the Trials views.
    expect((await trials(D, ids.d)).edges.map((e) => e.node.id)).not.toContain(subs.c2Trial);
    // The members can still be given licences up to the paid quantity (assigned <= quantity holds).
    expect(
      ok<{ r: unknown }>(
        await t.mutate(
          C2,
          "unassignLicence",
          "LicenceInput",
          { subscriptionId: r.subscription.id, email: U2 },
          "licence { email }",
        ),
      ),
    ).toBeDefined();
    ok(
      await t.mutate(
        C2,
        "assignLicence",
        "LicenceInput",
        { subscriptionId: r.subscription.id, email: U2 },
        "licence { email }",
      ),
    );
  });

  it("the same key again answers the first conversion; the key with another request, or another key, is a ConflictError; nothing written", async () => {
    const first = (await ordersOf(ids.c2)).find((o) => o.reference === "trial conversion")!;
    await t.nothingWritten(async () => {
      expect(ok<ConversionView>(await convert(D, subs.c2Trial, 5, "c2-convert")).order.id).toBe(first.id);
      expectError(
        await convert(D, subs.c2Trial, 6, "c2-convert"),
        "ConflictError",
        "This idempotency key was used for a different conversion",
      );
      expectError(
        await convert(D, subs.c2Trial, 5, "c2-convert-again"),
        "ConflictError",
        "The trial is converted; it can no longer be converted",
      );
      expectError(
        await previewConversion(D, subs.c2Trial, 5),
        "ConflictError",
        "The trial is converted; it can no longer be converted",
      );
      // Ordering the trial again is refused too: it has been used.
      expectInvalid(
        await t.mutate(
          D,
          "placeOrder",
          "PlaceOrderInput",
          { accountId: ids.c2, lines: [{ sku: TRUNK_TRIAL, quantity: 1 }], idempotencyKey: "again" },
          "order { id }",
        ),
        ["lines", "0", "sku"],
      );
    });
  });

  it("converting into a paid subscription the account holds increases it (C: trunk 5 + 2)", async () => {
    const before = await subscriptionOf(ids.c, TRUNK);
    const r = ok<ConversionView>(await convert(R, subs.cTrial, 2, "c-convert"));
    expect(r.subscription).toMatchObject({
      id: subs.trunk,
      quantity: before.quantity + 2,
      assigned: before.assigned,
      version: before.version + 1,
    });
    expect((await ledger(subs.trunk))[0]).toEqual({
      kind: "INCREASED",
      from: before.quantity,
      to: before.quantity + 2,
      reason: "trial conversion",
    });
    // R does not see D's prices.
    expect(r.order.total).toBeNull();
  });

  it("client keys live in their own namespace: an order and a conversion with the same key are two things", async () => {
    ids.c3 = await mk(D, { parentId: ids.d, kind: "CUSTOMER", name: "Trials C3" });
    await order(D, ids.c3, [{ sku: TRUNK_TRIAL, quantity: 2 }], "shared-key");
    const trial = await subscriptionOf(ids.c3, TRUNK_TRIAL);
    const r = ok<ConversionView>(await convert(D, trial.id, 2, "shared-key"));
    expect(r.trial.status).toBe("CONVERTED");
    expect((await ordersOf(ids.c3)).map((o) => o.idempotencyKey).sort()).toEqual([
      "conversion:shared-key",
      "shared-key",
    ]);
    // …and a client key that looks like a system key is just a key.
    ids.c4 = await mk(D, { parentId: ids.d, kind: "CUSTOMER", name: "Trials C4" });
    await order(D, ids.c4, [{ sku: TRUNK_TRIAL, quantity: 1 }], "conversion:k");
    const t4 = await subscriptionOf(ids.c4, TRUNK_TRIAL);
    expect(ok<ConversionView>(await convert(D, t4.id, 1, "k")).order.idempotencyKey).toBe("conversion:k");
  });

  it("a trial converting to a prepaid offer is charged for the whole term, and the term starts", async () => {
    await t.mutateOk(
      OPERATOR,
      "createOffer",
      "CreateOfferInput",
      {
        sku: BIZ_TRIAL,
        name: "Business trial",
        kind: "TRIAL",
        unitPrice: "0",
        currency: "EUR",
        trialDays: 30,
        convertsTo: BUSINESS_1Y,
      },
      "offer { sku }",
    );
    await t.mutateOk(
      OPERATOR,
      "setAvailableOffers",
      "SetAvailableOffersInput",
      { accountId: ids.p, skus: [BUSINESS, BUSINESS_1Y, CONFERENCE, BIZ_TRIAL] },
      "account { id }",
    );
    const pc2 = await mk(P, { parentId: ids.p, kind: "CUSTOMER", name: "Trials PC2", country: "FR" });
    await order(P, pc2, [{ sku: BIZ_TRIAL, quantity: 3 }], "pc2-trial");
    const trial = await subscriptionOf(pc2, BIZ_TRIAL);
    expect(ok<ConversionPreviewView>(await previewConversion(P, trial.id, 3)).order.total).toEqual({
      amount: "39.00",
      currency: "EUR",
    });
    const r = ok<ConversionView>(await convert(P, trial.id, 3, "pc2-convert"));
    expect(r.order).toMatchObject({
      total: { amount: "39.00", currency: "EUR" },
      lines: [{ sku: BUSINESS_1Y, kind: "PREPAID", quantity: 3 }],
    });
    expect(r.subscription).toMatchObject({
      sku: BUSINESS_1Y,
      quantity: 3,
      endsAt: expect.stringMatching(/^2028-03-01T08:00:/),
    });
  });
});

describe("convertTrial under concurrency", () => {
  const freshTrial = async (name: string, quantity: number) => {
    const slug = name.toLowerCase().replace(/ /g, "-");
    const id = await mk(D, { parentId: ids.d, kind: "CUSTOMER", name, owner: { email: `owner@${slug}.example` } });
    await order(D, id, [{ sku: TRUNK_TRIAL, quantity }], `${slug}-trial`);
    return { accountId: id, trial: (await subscriptionOf(id, TRUNK_TRIAL)).id };
  };

  it("two conversions with different keys at once: exactly one converts, the other is a ConflictError", async () => {
    const { accountId, trial } = await freshTrial("Race One", 3);
    const results = await Promise.all([convert(D, trial, 3, "race-a"), convert(D, trial, 4, "race-b")]);
    const wins = results.filter((r) => r.__typename === "MutationConvertTrialSuccess");
    expect(wins, JSON.stringify(results)).toHaveLength(1);
    expectError(
      results.find((r) => r.__typename !== "MutationConvertTrialSuccess")!,
      "ConflictError",
      "The trial is converted; it can no longer be converted",
    );
    const won = ok<ConversionView>(wins[0]!);
    const paid = await subscriptionOf(accountId, TRUNK);
    expect(paid.quantity).toBe(won.order.lines[0]!.quantity);
    expect((await ledger(trial)).filter((l) => l.kind === "CONVERTED")).toHaveLength(1);
    expect((await ordersOf(accountId)).filter((o) => o.reference === "trial conversion")).toHaveLength(1);
  });

  it("the same conversion sent twice at once (same key): both answer the one conversion", async () => {
    const { accountId, trial } = await freshTrial("Race Two", 2);
    const results = await Promise.all([convert(D, trial, 2, "same"), convert(D, trial, 2, "same")]);
    const [a, b] = results.map((r) => ok<ConversionView>(r));
    expect(a!.order.id).toBe(b!.order.id);
    expect((await subscriptionOf(accountId, TRUNK)).quantity).toBe(2);
    expect((await ordersOf(accountId)).filter((o) => o.reference === "trial conversion")).toHaveLength(1);
  });
});

describe("after the conversions", () => {
  it("a trial left to end expires at its end and leaves the views; an opted-out owner gets no digest and the weekly run stops", async () => {
    expect(ok<{ member: { trialDigest: boolean } }>(await setDigest(D, ids.d, false)).member.trialDigest).toBe(false);
    await t.setClock("2027-03-08T07:05:00.000Z");
    const before = (await digests()).length;
    await t.runJob("lifecycle");
    expect((await digests()).length).toBe(before);
    // R's own trials ended on 2027-03-05 and expired.
    expect((await subscriptionOf(ids.r, TRUNK_TRIAL)).status).toBe("EXPIRED");
    expect(rows(await trials(D, ids.d)).filter((r) => r.startsWith("Trials R "))).toEqual([]);
    // No digest marker for next week: nobody asked.
    const markers = [...(await t.snapshot()).values()]
      .map((v) => JSON.parse(v) as { __edb_e__?: string; what?: string; at?: string })
      .filter((i) => i.__edb_e__ === "due" && i.what === "trial-digest");
    expect(markers.map((m) => m.at).filter((at) => at! > "2027-03-08T08:00:00.000Z")).toEqual([]);
  });

  it("the converted monthly licences are billed at month end like any other (C2: 5 trunk licences in March)", async () => {
    await t.setClock("2027-04-01T00:05:00.000Z");
    await t.runJob("billing", "2027-03");
    const inv = ok<{
      invoices: {
        edges: {
          node: {
            period: string;
            lines: { edges: { node: { sku: string; quantity: number; customer: string; amount: Money } }[] };
          };
        }[];
      };
    }>(
      await t.account(
        D,
        ids.d,
        "invoices(first: 5) { edges { node { period lines(first: 100) { edges { node { sku quantity customer amount { amount currency } } } } } } }",
      ),
    );
    const march = inv.invoices.edges.find((e) => e.node.period === "2027-03")!.node;
    expect(march.lines.edges.map((e) => e.node).filter((l) => l.customer === "Trials C2")).toEqual([
      { sku: TRUNK, quantity: 5, customer: "Trials C2", amount: { amount: "15.00", currency: "USD" } },
    ]);
    // Trials are never billed.
    expect(march.lines.edges.map((e) => e.node.sku)).not.toContain(TRUNK_TRIAL);
  });
});

describe("a move carries its trials", () => {
  it("a customer moved from R up to D leaves R's Trials view and stays in D's", async () => {
    const C5 = "owner@trials-c5.example";
    const c5 = await mk(R, { parentId: ids.r, kind: "CUSTOMER", name: "Trials C5", owner: { email: C5 } });
    await t.accept(C5);
    await order(R, c5, [{ sku: TRUNK_TRIAL, quantity: 2 }], "c5-trial");
    const trial = (await subscriptionOf(c5, TRUNK_TRIAL)).id;
    expect((await trials(R, ids.r)).edges.map((e) => e.node.id)).toContain(trial);
    expect((await trials(D, ids.d)).edges.map((e) => e.node.id)).toContain(trial);
    ok(
      await t.mutate(
        D,
        "inviteExistingAccount",
        "InviteExistingAccountInput",
        { accountId: c5, parentId: ids.d },
        "invitationsSent",
      ),
    );
    await t.accept(C5);
    expect((await trials(R, ids.r)).edges.map((e) => e.node.id)).not.toContain(trial);
    expect((await trials(D, ids.d)).edges.map((e) => e.node.id)).toContain(trial);
    expect((await trials(C5, c5)).edges.map((e) => e.node.id)).toEqual([trial]);
  });
});
