/**
 * The daily lifecycle run (DESIGN 1, "Account hierarchy" retention rule and "Catalog, orders,
 * subscriptions"), driven by the stack's clock and POST /dev/jobs/run through the real queue and
 * worker: a trial expires and releases its licences, its reminders go once, a prepaid term renews,
 * and an account without an active subscription is deleted with all its data 14 days later.
 *
 * The stack's clock is shared by the file, so each test lives in its own stretch of time, later
 * than the previous one and far enough from it that no marker of one is due in another's runs
 * (a run reads every day since the last run). Work happens at 09:00 and runs at noon, so markers written at 09:00
 * on a day are due by that day's run.
 */
import { QueryCommand } from "@aws-sdk/lib-dynamodb";
import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { createDocumentClient } from "../infra/dynamo.js";
import { createEntities } from "../infra/store.js";
import { OPERATOR, PLATFORM, ok, startTestStack } from "./harness.js";
import type { JobRun, Money, TestStack } from "./harness.js";

const DAY = 86_400_000;
const D_OWNER = "owner@lc-distributor.example";
const TRUNK = "RC-DRAAS-TRUNK-SUB";
const TRIAL = "RC-DRAAS-TRK-TRIAL";
const PREPAID = "RC-LC-TRUNK-1Y";
let t: TestStack;
let raw: DynamoDBDocumentClient;
let distributor = "";

interface Change {
  readonly kind: string;
  readonly from: number;
  readonly to: number;
  readonly delta: number;
  readonly actor: string;
  readonly reason: string | null;
  readonly version: number;
}
interface Sub {
  readonly id: string;
  readonly sku: string;
  readonly status: string;
  readonly quantity: number;
  readonly assigned: number;
  readonly version: number;
  readonly endsAt: string | null;
  readonly daysRemaining: number | null;
  readonly licences: { readonly edges: readonly { readonly node: { readonly email: string } }[] };
  readonly history: { readonly edges: readonly { readonly node: Change }[] };
}
const SUB =
  "id sku status quantity assigned version endsAt daysRemaining licences { edges { node { email } } } history { edges { node { kind from to delta actor reason version } } }";
interface OrderView {
  readonly id: string;
  readonly reference: string | null;
  readonly placedBy: string;
  readonly lines: readonly {
    readonly sku: string;
    readonly quantity: number;
    readonly unitPrice: Money | null;
    readonly amount: Money | null;
  }[];
  readonly total: Money | null;
}
const ORDER =
  "id reference placedBy lines { sku quantity unitPrice { amount currency } amount { amount currency } } total { amount currency }";
interface AccountView {
  readonly id: string;
  readonly childCount: number;
  readonly pendingDeletionAt: string | null;
  readonly subscriptions: { readonly edges: readonly { readonly node: Sub }[] };
  readonly orders: { readonly edges: readonly { readonly node: OrderView }[] };
}
const ACCOUNT = `id childCount pendingDeletionAt subscriptions { edges { node { ${SUB} } } } orders(first: 50) { edges { node { ${ORDER} } } }`;
interface Mail {
  readonly to: string;
  readonly subject: string;
  readonly text: string;
}

/** An instant `days` after `base` at `hour`:00 UTC. */
function at(base: string, days: number, hour: number): string {
  const d = new Date(Date.parse(base) + days * DAY);
  d.setUTCHours(hour, 0, 0, 0);
  return d.toISOString();
}
/** The table's id of an account from its global id. */
const localId = (globalId: string): string =>
  Buffer.from(globalId, "base64")
    .toString("utf8")
    .replace(/^Account:/, "");

/** A customer (or reseller) under `parentId`, created by the distributor's owner, its owner joined; with a first order when `lines` are given. */
async function createAccount(
  parentId: string,
  name: string,
  owner: string,
  lines: { sku: string; quantity: number }[] = [],
  kind = "CUSTOMER",
): Promise<string> {
  const order = lines.length ? { order: { lines, idempotencyKey: `create-${name.replace(/\W+/g, "-")}` } } : {};
  const id = ok<{ account: { id: string } }>(
    await t.mutate(
      D_OWNER,
      "createAccount",
      "CreateAccountInput",
      { parentId, kind, name, country: "US", owner: { email: owner }, ...order },
      "account { id }",
    ),
  ).account.id;
  await t.accept(owner);
  return id;
}
async function invite(as: string, accountId: string, email: string, role: string): Promise<void> {
  ok(await t.mutate(as, "inviteMember", "InviteMemberInput", { accountId, email, role }, "member { email }"));
}
const place = (accountId: string, lines: { sku: string; quantity: number }[], idempotencyKey: string) =>
  t.mutate<{ order: OrderView }>(
    D_OWNER,
    "placeOrder",
    "PlaceOrderInput",
    { accountId, lines, idempotencyKey },
    `order { ${ORDER} }`,
  );
const assign = (as: string, subscriptionId: string, email: string) =>
  t.mutate<{ subscription: { assigned: number } }>(
    as,
    "assignLicence",
    "LicenceInput",
    { subscriptionId, email },
    "subscription { assigned }",
  );
const cancel = (subscriptionId: string) =>
  t.mutate<{ subscription: { status: string } }>(
    D_OWNER,
    "cancelSubscription",
    "CancelSubscriptionInput",
    { subscriptionId },
    "subscription { status }",
  );

/** The account as `as` sees it, or the typed error it gets. */
const account = (id: string, as = D_OWNER) => t.account<AccountView>(as, id, ACCOUNT);
const view = async (id: string, as = D_OWNER): Promise<AccountView> => ok<AccountView>(await account(id, as));
const subscription = async (accountId: string, sku: string): Promise<Sub> => {
  const found = (await view(accountId)).subscriptions.edges.find((e) => e.node.sku === sku)?.node;
  if (!found) throw new Error(`no ${sku} subscription`);
  return found;
};

async function runLifecycle(): Promise<JobRun> {
  const report = await t.runJob("lifecycle");
  expect(report.deadLettered).toBe(0);
  return report;
}
async function outbox(): Promise<Mail[]> {
  return ((await (await fetch(`${t.url}/dev/outbox`)).json()) as { messages: Mail[] }).messages;
}
/** Every item (any entity) left in one partition of the table, read directly. */
async function itemsIn(pk: string): Promise<Record<string, unknown>[]> {
  const out = await raw.send(
    new QueryCommand({
      TableName: t.stack.store.tableName,
      KeyConditionExpression: "#pk = :pk",
      ExpressionAttributeNames: { "#pk": "pk" },
      ExpressionAttributeValues: { ":pk": pk },
      ConsistentRead: true,
    }),
  );
  return out.Items ?? [];
}

beforeAll(async () => {
  // Prepare: a USD distributor with the trunk offer, its trial and a 12-month prepaid offer.
  t = await startTestStack();
  raw = createDocumentClient({ region: "local", endpoint: inject("dynamoEndpoint") });
  await t.setClock("2027-01-04T09:00:00.000Z");
  ok(
    await t.mutate(
      OPERATOR,
      "createOffer",
      "CreateOfferInput",
      {
        sku: PREPAID,
        name: "Trunk user, 1 year",
        kind: "PREPAID",
        termMonths: 12,
        unitPrice: "30.00",
        currency: "USD",
      },
      "offer { sku }",
    ),
  );
  distributor = ok<{ account: { id: string } }>(
    await t.mutate(
      OPERATOR,
      "createAccount",
      "CreateAccountInput",
      {
        parentId: PLATFORM,
        kind: "DISTRIBUTOR",
        name: "Lifecycle Distribution",
        country: "US",
        currency: "USD",
        owner: { email: D_OWNER },
      },
      "account { id }",
    ),
  ).account.id;
  await t.accept(D_OWNER);
  ok(
    await t.mutate(
      OPERATOR,
      "setAvailableOffers",
      "SetAvailableOffersInput",
      { accountId: distributor, skus: [TRUNK, TRIAL, PREPAID] },
      "account { id }",
    ),
  );
}, 60_000);
afterAll(async () => {
  raw?.destroy();
  await t?.stop();
});

describe("trials", () => {
  it("a 30-day trial is ACTIVE on day 29 and EXPIRED on day 31, quantity 0, its members' licences released", async () => {
    // Prepare: day 0, a customer with a 5-licence trial; its owner and a member who joined hold two of them.
    const DAY0 = "2027-02-01T09:00:00.000Z";
    const OWNER = "owner@trial-expiry.example";
    const USER = "user@trial-expiry.example";
    await t.setClock(DAY0);
    const c = await createAccount(distributor, "Trial Expiry Inc", OWNER, [{ sku: TRIAL, quantity: 5 }]);
    await invite(OWNER, c, USER, "VIEWER");
    await t.accept(USER);
    const trial = await subscription(c, TRIAL);
    ok(await assign(OWNER, trial.id, OWNER));
    expect(ok<{ subscription: { assigned: number } }>(await assign(OWNER, trial.id, USER)).subscription.assigned).toBe(
      2,
    );

    // Act: the run of day 29.
    await t.setClock(at(DAY0, 29, 12));
    await runLifecycle();
    // Assess: still running, one day left.
    expect(await subscription(c, TRIAL)).toMatchObject({
      status: "ACTIVE",
      quantity: 5,
      assigned: 2,
      daysRemaining: 1,
    });

    // Act: the run of day 31.
    await t.setClock(at(DAY0, 31, 12));
    await runLifecycle();
    // Assess: expired, licences gone from the subscription, the members and the table.
    const expired = await subscription(c, TRIAL);
    expect(expired).toMatchObject({ status: "EXPIRED", quantity: 0, assigned: 0, version: trial.version + 1 });
    expect(expired.licences.edges).toEqual([]);
    expect(expired.history.edges[0]!.node).toEqual({
      kind: "EXPIRED",
      from: 5,
      to: 0,
      delta: -5,
      actor: "system:lifecycle",
      reason: "trial ended",
      version: trial.version + 1,
    });
    const store = t.stack.store;
    const id = localId(c);
    for (const email of [OWNER, USER]) {
      expect(await store.licencesOfMember(id, email)).toEqual([]);
      expect((await store.getMember(id, email))?.licenceCount).toBe(0);
    }
  });

  it("mails the owners 7 days and 1 day before the end, each reminder once even when the run is repeated that day", async () => {
    // Prepare: day 0, a customer with two owners and a viewer, and a 30-day trial.
    const DAY0 = "2027-04-01T09:00:00.000Z";
    const OWNER = "owner@trial-reminders.example";
    const OWNER2 = "second-owner@trial-reminders.example";
    const VIEWER = "viewer@trial-reminders.example";
    await t.setClock(DAY0);
    const c = await createAccount(distributor, "Trial Reminders Inc", OWNER, [{ sku: TRIAL, quantity: 3 }]);
    await invite(OWNER, c, OWNER2, "OWNER");
    await t.accept(OWNER2);
    await invite(OWNER, c, VIEWER, "VIEWER");
    await t.accept(VIEWER);
    const reminders = async () =>
      (await outbox())
        .filter((m) => [OWNER, OWNER2, VIEWER].includes(m.to) && m.subject.includes(`${TRIAL} trial ends`))
        .map((m) => `${m.to}: ${m.subject}`);

    // Act + Assess: day 22, nothing yet.
    await t.setClock(at(DAY0, 22, 12));
    await runLifecycle();
    expect(await reminders()).toEqual([]);

    // Act: day 23, the run twice.
    await t.setClock(at(DAY0, 23, 12));
    await runLifecycle();
    await runLifecycle();
    // Assess: one 7-day reminder per owner, none to the viewer.
    const week = [
      `${OWNER}: Your ${TRIAL} trial ends in 7 days`,
      `${OWNER2}: Your ${TRIAL} trial ends in 7 days`,
    ].sort();
    expect((await reminders()).sort()).toEqual(week);

    // Act: day 24 (a later run re-reads the day-23 marker) and day 29, twice.
    await t.setClock(at(DAY0, 24, 12));
    await runLifecycle();
    await t.setClock(at(DAY0, 29, 12));
    await runLifecycle();
    await runLifecycle();
    // Assess: one 1-day reminder per owner on top; nothing else.
    const day = [`${OWNER}: Your ${TRIAL} trial ends in 1 day`, `${OWNER2}: Your ${TRIAL} trial ends in 1 day`].sort();
    expect((await reminders()).sort()).toEqual([...day, ...week].sort());
    const last = (await outbox()).filter((m) => m.to === OWNER && m.subject.endsWith("ends in 1 day"));
    expect(last[0]!.text).toContain("Trial Reminders Inc");
    expect(last[0]!.text).toContain(at(DAY0, 30, 9).slice(0, 10));
    expect(await subscription(c, TRIAL)).toMatchObject({ status: "ACTIVE", daysRemaining: 1 });
  });
});

describe("prepaid terms", () => {
  it("renews at term end for 12 months with a renewal order, once even when the run is repeated", async () => {
    // Prepare: day 0, a customer with 4 licences of the 12-month prepaid offer.
    const DAY0 = "2027-06-01T09:00:00.000Z";
    const OWNER = "owner@prepaid.example";
    await t.setClock(DAY0);
    const c = await createAccount(distributor, "Prepaid Renewal Inc", OWNER, [{ sku: PREPAID, quantity: 4 }]);
    const before = await subscription(c, PREPAID);
    expect(before.endsAt!.slice(0, 10)).toBe("2028-06-01");

    // Act + Assess: the day before the end, nothing renews.
    await t.setClock("2028-05-31T12:00:00.000Z");
    await runLifecycle();
    expect(await subscription(c, PREPAID)).toMatchObject({
      status: "ACTIVE",
      endsAt: before.endsAt,
      version: before.version,
    });

    // Act: the term's last day, the run twice.
    await t.setClock("2028-06-01T12:00:00.000Z");
    await runLifecycle();
    await runLifecycle();

    // Assess: the end moved 12 months to the millisecond, one RENEWED entry, one renewal order.
    const renewed = await subscription(c, PREPAID);
    expect(renewed).toMatchObject({ status: "ACTIVE", quantity: 4, version: before.version + 1 });
    expect(renewed.endsAt).toBe(`2029${before.endsAt!.slice(4)}`);
    expect(renewed.history.edges.map((e) => e.node)).toEqual([
      {
        kind: "RENEWED",
        from: 4,
        to: 4,
        delta: 0,
        actor: "system:lifecycle",
        reason: "prepaid renewal",
        version: before.version + 1,
      },
      { kind: "CREATED", from: 0, to: 4, delta: 4, actor: `user:${D_OWNER}`, reason: "order", version: before.version },
    ]);
    const orders = (await view(c)).orders.edges.map((e) => e.node);
    const renewals = orders.filter((o) => o.reference === "renewal");
    expect(renewals).toHaveLength(1);
    // The distributor's owner is the billed party's owner: the prices show.
    expect(renewals[0]).toMatchObject({
      placedBy: "system:lifecycle",
      lines: [
        {
          sku: PREPAID,
          quantity: 4,
          unitPrice: { amount: "30.00", currency: "USD" },
          amount: { amount: "120.00", currency: "USD" },
        },
      ],
      total: { amount: "120.00", currency: "USD" },
    });
    expect(orders).toHaveLength(2);
  });
});

describe("retention", () => {
  it("deletes a customer 14 days after its last subscription was cancelled, with all its data; keeps one that ordered again and a reseller with a child", async () => {
    // Prepare: day 0, a reseller without subscriptions and two customers under it, each with a
    // monthly subscription; one customer has a second member and a pending invitation.
    const DAY0 = "2028-08-01T09:00:00.000Z";
    const R_OWNER = "owner@retention-reseller.example";
    const G_OWNER = "owner@retention-gone.example";
    const G_USER = "user@retention-gone.example";
    const G_INVITED = "invited@retention-gone.example";
    const K_OWNER = "owner@retention-kept.example";
    await t.setClock(DAY0);
    const r = await createAccount(distributor, "Retention Reseller", R_OWNER, [], "RESELLER");
    const gone = await createAccount(r, "Retention Gone Inc", G_OWNER, [{ sku: TRUNK, quantity: 2 }]);
    const kept = await createAccount(r, "Retention Kept Inc", K_OWNER, [{ sku: TRUNK, quantity: 1 }]);
    await invite(G_OWNER, gone, G_USER, "VIEWER");
    await t.accept(G_USER);
    await invite(G_OWNER, gone, G_INVITED, "VIEWER");
    ok(await cancel((await subscription(gone, TRUNK)).id));
    ok(await cancel((await subscription(kept, TRUNK)).id));
    expect((await view(r)).childCount).toBe(2);

    // Act: the next run (day 0, 10:00).
    await t.setClock(at(DAY0, 0, 10));
    await runLifecycle();
    // Assess: both customers show their deletion instant, exactly 14 days after the cancellation (security rule 18), not after the run.
    const cancelledAt = Date.parse(DAY0);
    for (const id of [gone, kept]) {
      const pending = Date.parse((await view(id)).pendingDeletionAt!);
      // (the test clock runs on from where it was set: a few seconds)
      expect(Math.abs(pending - (cancelledAt + 14 * DAY))).toBeLessThan(60_000);
    }
    // ...the reseller, without subscriptions but with children, is not to be deleted.
    expect((await view(r)).pendingDeletionAt).toBeNull();

    // Act + Assess: day 10, one customer orders again: its deletion is called off at once and stays off.
    await t.setClock(at(DAY0, 10, 9));
    ok(await place(kept, [{ sku: TRUNK, quantity: 1 }], "kept-again"));
    expect((await view(kept)).pendingDeletionAt).toBeNull();
    await t.setClock(at(DAY0, 10, 12));
    await runLifecycle();
    expect((await view(kept)).pendingDeletionAt).toBeNull();

    // Act + Assess: day 13, nothing is deleted yet.
    await t.setClock(at(DAY0, 13, 12));
    await runLifecycle();
    expect((await account(gone)).__typename).toBe("QueryAccountSuccess");

    // Prepare: what the deletion must remove.
    const store = t.stack.store;
    const entities = createEntities(raw, store.tableName);
    const goneId = localId(gone);
    const goneRecord = (await store.getAccount(goneId))!;
    expect(goneRecord.path).toEqual(["PLATFORM", localId(distributor), localId(r)]);
    const partitions = [store.accountPartition(goneId), store.ledgerPartition(goneId, TRUNK)];
    for (const pk of partitions) expect((await itemsIn(pk)).length).toBeGreaterThan(0);
    for (const ancestorId of goneRecord.path)
      expect((await entities.subtree.get({ ancestorId, accountId: goneId }).go()).data).not.toBeNull();
    expect((await store.allInvitations(goneId)).length).toBe(3);
    expect((await store.getPerson(G_OWNER))?.memberships[goneId]).toBeDefined();
    const creationKey = "new-account:create-Retention-Gone-Inc";
    expect((await store.getOrderKey(localId(r), creationKey))?.childId).toBe(goneId);

    // Act: day 15, and the run again (it re-reads the marker of an account now gone).
    await t.setClock(at(DAY0, 15, 12));
    await runLifecycle();
    expect(await runLifecycle()).toMatchObject({ failedAttempts: 0, deadLettered: 0 });

    // Assess: the customer and everything it owned are gone from the table.
    for (const pk of partitions) expect(await itemsIn(pk)).toEqual([]);
    for (const ancestorId of goneRecord.path)
      expect((await entities.subtree.get({ ancestorId, accountId: goneId }).go()).data).toBeNull();
    expect(await store.getAccount(goneId)).toBeUndefined();
    expect(await itemsIn(entities.account.get({ id: goneId }).params().Key.pk as string)).toEqual([]);
    expect(await store.allInvitations(goneId)).toEqual([]);
    // ...with the key of its creation (kept in the parent's partition).
    expect(await store.getOrderKey(localId(r), creationKey)).toBeUndefined();
    for (const email of [G_OWNER, G_USER]) expect((await store.getPerson(email))?.memberships[goneId]).toBeUndefined();
    // ...for its former owner too, and the reseller counts one child less.
    expect(await account(gone, G_OWNER)).toMatchObject({ __typename: "NotFoundError" });
    expect(await account(gone)).toMatchObject({ __typename: "NotFoundError" });
    const reseller = await view(r);
    expect(reseller.childCount).toBe(1);
    // The customer that ordered again is kept, active, not pending.
    const keptView = await view(kept);
    expect(keptView.pendingDeletionAt).toBeNull();
    expect(keptView.subscriptions.edges.map((e) => [e.node.sku, e.node.status])).toEqual([[TRUNK, "ACTIVE"]]);
    // The reseller has no subscription but a child: never deleted.
    expect(reseller.subscriptions.edges).toEqual([]);
    expect(reseller.pendingDeletionAt).toBeNull();
    expect(await store.getAccount(localId(r))).toBeDefined();
  });

  it("a reseller whose last child was deleted is flagged by the next run and deleted 14 days later", async () => {
    // Prepare: day 0, a reseller without subscriptions and its one customer, whose subscription is cancelled.
    const DAY0 = "2028-10-02T09:00:00.000Z";
    const R_OWNER = "owner@retention-last-child.example";
    const C_OWNER = "owner@retention-only-child.example";
    await t.setClock(DAY0);
    const r = await createAccount(distributor, "Retention Last Child Reseller", R_OWNER, [], "RESELLER");
    const c = await createAccount(r, "Retention Only Child Inc", C_OWNER, [{ sku: TRUNK, quantity: 1 }]);
    ok(await cancel((await subscription(c, TRUNK)).id));
    const distributorChildren = (await view(distributor)).childCount;
    await t.setClock(at(DAY0, 0, 12));
    await runLifecycle();
    expect((await view(r)).pendingDeletionAt).toBeNull();
    expect((await view(c)).pendingDeletionAt).not.toBeNull();

    // Act: day 15, the customer goes; day 16, the next run.
    await t.setClock(at(DAY0, 15, 12));
    await runLifecycle();
    expect(await account(c)).toMatchObject({ __typename: "NotFoundError" });
    expect(await view(r)).toMatchObject({ childCount: 0, pendingDeletionAt: null });
    await t.setClock(at(DAY0, 16, 12));
    await runLifecycle();

    // Assess: the reseller is now pending deletion, 14 days on...
    const pending = Date.parse((await view(r)).pendingDeletionAt!);
    expect(Math.abs(pending - (Date.parse(at(DAY0, 16, 12)) + 14 * DAY))).toBeLessThan(60_000);
    // ...and deleted after that.
    await t.setClock(at(DAY0, 29, 12));
    await runLifecycle();
    expect((await account(r)).__typename).toBe("QueryAccountSuccess");
    await t.setClock(at(DAY0, 31, 12));
    await runLifecycle();
    expect(await account(r, R_OWNER)).toMatchObject({ __typename: "NotFoundError" });
    expect(await t.stack.store.getAccount(localId(r))).toBeUndefined();
    expect(await itemsIn(t.stack.store.accountPartition(localId(r)))).toEqual([]);
    expect((await view(distributor)).childCount).toBe(distributorChildren - 1);
  });
});
