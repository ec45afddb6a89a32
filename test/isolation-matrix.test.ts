/**
 * Cross-branch isolation, driven by the schema. Two full branches are built over HTTP:
 *
 *   Platform (operator)
 *   ├── Branch1 Distribution, USD (owner-seller d1; shared OTEC-S PBX; invoice for October; pending invitation)
 *   │   └── Branch1 Reseller (owner-seller r1; PARTNER_ADMIN enabled; partner admin pa1; PBX subscription)
 *   │       └── Branch1 Customer (owner c1, user u1 holding a trunk licence; opted in; OXO PBX with
 *   │           extension 201 of u1; attached to the OTEC-S; pending invitation)
 *   └── Branch2 ... the same, with "2"
 *
 * Every Query and Mutation field that takes an id (an `ID` argument, an input object with `ID`
 * fields at any depth, or a subject reference such as a device id or an invitation token) gets an
 * operation generated from its type information: id slots are filled with branch-2 ids of the kind
 * inferred from the slot's name (or, for a bare `id`, from the node type the field returns), every
 * other required value from a small table. Each operation is then sent as four people of branch 1
 * (d1 owner-seller, r1 owner-seller, c1 owner, r1 partner admin) and must answer exactly like an
 * unknown id: NOT_FOUND (see CONTRACT below), with no branch-2 data anywhere in the response, and
 * nothing written (the whole table is scanned before and after; the mail outbox is counted).
 * A positive control then sends each operation with the matching branch-1 ids: it must not answer
 * NOT_FOUND, or the generator proves nothing.
 *
 * CONTRACT (as the server implements it):
 *  - fields returning a typed-result union (all mutations; Query.account, invoice, offers,
 *    previewOrder, previewSubscriptionChange): the `NotFoundError` member with code NOT_FOUND, no GraphQL error;
 *  - Query.node (nullable Node interface): null, no GraphQL error;
 *  - connection queries with an optional root id (searchAccounts(within), administeredCustomers(resellerId)):
 *    a GraphQL error with extensions.code NOT_FOUND on the field (the connection, nullable, is null).
 *  - UNIFORM_REFUSALS (recordUsage: operators only; activateEquipment: the PBX's unauthenticated
 *    call, "every failure is the same ForbiddenError"): ForbiddenError for any id.
 * In every case the answer (typename, code and message) must also be the one an unknown id of the
 * same kind gets, so it reveals nothing. Fields with several id slots are also sent "mixed" (one
 * slot branch-2, the others branch-1): refused exactly like the same call with an unknown id there
 * (unassignExtension with one's own account and a foreign PBX answers ValidationError "extension:
 * is not associated with a member of this account", as it does for an unknown PBX).
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { ScanCommand } from "@aws-sdk/lib-dynamodb";
import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import {
  getNamedType,
  isEnumType,
  isInputObjectType,
  isLeafType,
  isListType,
  isNonNullType,
  isObjectType,
  isScalarType,
  isUnionType,
} from "graphql";
import type { GraphQLField, GraphQLInputType, GraphQLNamedType, GraphQLOutputType } from "graphql";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { schema } from "../graphql/schema.js";
import { NODE_TYPE_BY_ID_SLOT, selection as select } from "./selection.js";
import { createDocumentClient } from "../infra/dynamo.js";
import { ERR, OPERATOR, PLATFORM, ok, startTestStack } from "./harness.js";
import type { Result, TestStack } from "./harness.js";

// ---------------------------------------------------------------- data

const TRUNK = "RC-DRAAS-TRUNK-SUB";
const PBX_SKU = "RC-DRAAS-PBX-SUB";
const TRUNK_TRIAL = "RC-DRAAS-TRK-TRIAL";
const OCTOBER = "2026-10-20T09:00:00.000Z";
const BILLING_DAY = "2026-11-01T00:05:00.000Z";
const NOW = "2026-11-02T09:00:00.000Z";

const people = (n: 1 | 2) => ({
  d: `owner@b${n}-distribution.example`,
  r: `owner@b${n}-reseller.example`,
  pa: `pa@b${n}-reseller.example`,
  c: `owner@b${n}-customer.example`,
  u: `user@b${n}-customer.example`,
  pendingD: `pending@b${n}-distribution.example`,
  pendingC: `pending@b${n}-customer.example`,
});
const B1 = people(1);
const B2 = people(2);

/** The branch-1 callers of the matrix. */
const CALLERS = [
  { label: "d1 owner-seller", email: B1.d },
  { label: "r1 owner-seller", email: B1.r },
  { label: "c1 owner", email: B1.c },
  { label: "r1 partner admin", email: B1.pa },
] as const;

/** The kinds of id a slot can hold: the Node types, plus string subject references. */
type Kind =
  | "Account"
  | "LicenceSubscription"
  | "Order"
  | "Invoice"
  | "Equipment"
  | "ApiClient"
  | "Event"
  | "WebhookEndpoint"
  | "WebhookDelivery"
  | "Ticket"
  | "DeviceId"
  | "Node"
  // Edge nodes, reached through node(id) only.
  | "Member"
  | "Invitation"
  | "AuditEvent"
  | "Offer"
  | "Licence"
  | "LicenceSubscriptionChange"
  | "InvoiceLine"
  | "EquipmentTenant"
  | "ExtensionAssignment"
  | "AdministeredCustomer"
  | "PartnerAction"
  | "TicketComment"
  | "PhoneNumber";

/** One real object of each branch, paired: the same role in branch 1 and in branch 2. */
interface Ref {
  readonly id: string;
  /** A member of the account the object belongs to (fills `email` next to this id). */
  readonly member: string;
}
interface Candidate {
  readonly label: string;
  readonly kind: Exclude<Kind, "Node">;
  readonly b1: Ref;
  readonly b2: Ref;
}

type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

// ---------------------------------------------------------------- the explicit tables (the only hand-kept parts)

/** Slot name → kind. A bare `id` is inferred from the node type the field returns. */
const KIND_BY_NAME: Readonly<Record<string, Kind>> = { ...NODE_TYPE_BY_ID_SLOT, deviceId: "DeviceId" };

/** String arguments that name a subject although their type is not ID. */
const STRING_REFERENCES = new Set(["deviceId", "token"]);

/**
 * Fields that take an id but are not in the matrix, with the reason. The coverage test fails on
 * any id-taking field that is neither exercised nor listed here, and on a stale entry.
 */
const EXCLUDED: Readonly<Record<string, string>> = {
  "Mutation.acceptInvitation":
    "its `token` is a bearer secret mailed to the invitee, not an id: holding it is the credential, and the e-mail binding (Forbidden for another signed-in address) is covered by rights.test.ts",
};

/**
 * Fields that refuse every caller without the right standing (operator, PBX) before any lookup:
 * for them the branch-2 answer must be identical to the unknown-id answer instead of NOT_FOUND.
 */
const UNIFORM_REFUSALS: Readonly<Record<string, string>> = {
  "Mutation.activateEquipment":
    "unauthenticated PBX entry point: documented 'every failure is the same ForbiddenError'",
  "Mutation.recordUsage":
    "operators only (the vendor's platform): Forbidden for any other caller, whatever the account",
};

/**
 * Mixed variants (one slot branch-2, the others branch-1) that are legitimate by design and would
 * write, so they are not sent: inviting an existing account needs only its id, "given to you by its owner".
 */
const MIXED_BY_DESIGN = new Set(["Mutation.inviteExistingAccount:input.accountId"]);

/** Values of non-id arguments, by argument/input-field name; then by type. */
let serial = 0;
const VALUE_BY_NAME: Readonly<Record<string, () => Json>> = {
  country: () => "GB",
  name: () => "Probe Name",
  sku: () => TRUNK,
  skus: () => [TRUNK],
  idempotencyKey: () => `isolation-probe-${++serial}`,
  extension: () => "201",
  publicNumber: () => "+447848311699",
  companyPrefix: () => "8299",
  day: () => "2026-11-01",
  taxRatePercent: () => "21",
  serverType: () => "OXO_CONNECT",
  query: () => "Branch",
  activationCode: () => "00000000",
  quantity: () => 1,
  url: () => "https://hooks.example.com/probe",
  expectedVersion: () => 1,
  occurredAt: () => "2026-10-01T00:00:00.000Z",
  numbers: () => ["+447848311699"],
  number: () => "+447848311699",
};
/** Per-field overrides, keyed "<Type.field>:<path>". */
const VALUE_BY_PATH: Readonly<Record<string, Json>> = {
  "Mutation.inviteMember:input.email": "newcomer@probe.example",
  "Mutation.setSupportEmail:input.email": "support@probe.example",
  // Every field of updateEquipment is optional, and one must be given.
  "Mutation.updateEquipment:input.name": "Probe Name",
};
const ENUM_VALUE: Readonly<Record<string, string>> = { Role: "VIEWER", AccountKind: "CUSTOMER" };

/**
 * Which candidate fills a slot in the positive control and as the branch-1 side of mixed variants
 * (by candidate label; default: the first candidate of the kind), where the first would be refused
 * for an unrelated reason (e.g. a distributor where the field is about resellers).
 */
const PREFERRED: Readonly<Record<string, string>> = {
  "Query.administeredCustomers:resellerId": "R",
  "Mutation.setResellerRights:input.id": "R",
  "Mutation.setPartnerAdminCapability:input.accountId": "R",
  "Mutation.setMemberPartnerAdmin:input.accountId": "R",
  "Mutation.setPartnerAdminOptIn:input.accountId": "C",
  "Mutation.setDelegatedRights:input.accountId": "C",
  "Mutation.attachEquipmentTenant:input.customerId": "C",
  "Mutation.assignExtension:input.accountId": "C",
  "Mutation.assignExtension:input.equipmentId": "C OXO",
  "Mutation.unassignExtension:input.accountId": "C",
  "Mutation.unassignExtension:input.equipmentId": "C OXO",
  "Query.previewTrialConversion:subscriptionId": "C trunk trial",
  "Mutation.convertTrial:input.subscriptionId": "C trunk trial",
  "Mutation.detachEquipmentTenant:input.customerId": "C",
};

/** Positive control: the order the branch-1 calls are made in (writes that would spoil later calls go last). */
const POSITIVE_LAST = [
  "Mutation.convertTrial",
  "Mutation.detachEquipmentTenant",
  "Mutation.rotateWebhookSecret",
  "Mutation.sendTestEvent",
  "Mutation.redeliverEvent",
  "Mutation.updateWebhookEndpoint",
  "Mutation.deleteWebhookEndpoint",
  "Mutation.rotateApiClientSecret",
  "Mutation.revokePreviousApiClientSecret",
  "Mutation.revokeApiClient",
  "Mutation.unassignExtension",
  "Mutation.removeEquipment",
  "Mutation.unassignLicence",
  "Mutation.updateSubscriptionQuantity",
  "Mutation.cancelSubscription",
  "Mutation.setMemberRole",
  "Mutation.removeMember",
];

// ---------------------------------------------------------------- state

let t: TestStack;
let db: DynamoDBDocumentClient;
/** The webhook receiver of both branches' endpoints (it answers 200, so no delivery is retried meanwhile). */
const receiver = createServer((req, res) => {
  req.resume();
  req.on("end", () => res.end("ok"));
});
const candidates: Candidate[] = [];
/** Strings of branch 2 that no branch-1 response may contain (names, e-mails, ids, device ids, invoice number). */
const branch2Secrets = new Set<string>();
/** The same strings of branch 1: the positive control checks that the scan does see data when there is some. */
const branch1Secrets = new Set<string>();

// ---------------------------------------------------------------- HTTP helpers

/** A PBX's call: no user token (activation) or its device credential. */
async function device<T>(credential: string | null, query: string, variables: Record<string, unknown>): Promise<T> {
  return ok<T>((await t.device<{ r: Result<T> }>(credential, query, variables)).data?.r);
}

interface RawError {
  readonly message: string;
  readonly path?: ReadonlyArray<string | number>;
  readonly extensions?: { readonly code?: string };
}
interface RawResponse {
  readonly status: number;
  readonly text: string;
  readonly data: { readonly r?: unknown } | null;
  readonly errors: readonly RawError[];
}

async function raw(as: string, query: string, variables: Record<string, Json>): Promise<RawResponse> {
  const res = await fetch(`${t.url}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${await t.token(as)}` },
    body: JSON.stringify({ query, variables }),
  });
  const text = await res.text();
  const body = JSON.parse(text) as { data?: { r?: unknown } | null; errors?: RawError[] };
  return { status: res.status, text, data: body.data ?? null, errors: body.errors ?? [] };
}

/** Every item of the test table, sorted by key (strongly consistent scan). */
async function scanTable(): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await db.send(
      new ScanCommand({
        TableName: t.stack.store.tableName,
        ConsistentRead: true,
        ...(start ? { ExclusiveStartKey: start } : {}),
      }),
    );
    items.push(...((page.Items ?? []) as Record<string, unknown>[]));
    start = page.LastEvaluatedKey as Record<string, unknown> | undefined;
  } while (start);
  const key = (i: Record<string, unknown>) => `${String(i.pk)}|${String(i.sk)}`;
  return items.sort((a, b) => key(a).localeCompare(key(b)));
}

async function pool<T, R>(items: readonly T[], size: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array<R>(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(size, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i]!);
      }
    }),
  );
  return out;
}

// ---------------------------------------------------------------- the hierarchy

interface IdOnly {
  readonly id: string;
}
interface Pairing {
  readonly deviceId: string;
  readonly activationCode: string;
  readonly equipment: IdOnly;
}

async function declareAndConnect(
  as: string,
  accountId: string,
  name: string,
  serverType: string,
  extensions: string[],
): Promise<Pairing> {
  const pairing = await t.mutateOk<Pairing>(
    as,
    "declareEquipment",
    "DeclareEquipmentInput",
    { accountId, name, country: "US", serverType, outboundPrefix: "0" },
    "deviceId activationCode equipment { id }",
  );
  const activation = await device<{ credential: string }>(
    null,
    `mutation Act($d: String!, $c: String!) { r: activateEquipment(deviceId: $d, activationCode: $c) { __typename ... on MutationActivateEquipmentSuccess { data { credential } } ${ERR} } }`,
    { d: pairing.deviceId, c: pairing.activationCode },
  );
  if (extensions.length > 0) {
    await device(
      activation.credential,
      `mutation R($n: [String!]!) { r: reportExtensions(numbers: $n) { __typename ... on MutationReportExtensionsSuccess { data { count } } ${ERR} } }`,
      { n: extensions },
    );
  }
  return pairing;
}

interface Branch {
  readonly d: string;
  readonly r: string;
  readonly c: string;
  readonly customerOrder: string;
  readonly resellerOrder: string;
  readonly trunkSub: string;
  readonly pbxSub: string;
  readonly trialSub: string;
  /** The distributor's API client (its owner manages it). */
  readonly client: string;
  invoice: string;
  invoiceNumber: string;
  oxo: Pairing | null;
  otec: Pairing | null;
  /** A support ticket the customer's owner opened to the reseller, with the reseller's comment. */
  ticket: string;
  readonly names: string[];
}

/** October: accounts, members, rights, opt-in, orders and a licence of one branch. */
async function buildBranch(n: 1 | 2): Promise<Branch> {
  const p = people(n);
  const names = [`Branch${n} Distribution`, `Branch${n} Reseller`, `Branch${n} Customer`];
  const d = (
    await t.mutateOk<{ account: IdOnly }>(
      OPERATOR,
      "createAccount",
      "CreateAccountInput",
      {
        parentId: PLATFORM,
        kind: "DISTRIBUTOR",
        name: names[0],
        country: "US",
        currency: "USD",
        owner: { email: p.d },
      },
      "account { id }",
    )
  ).account.id;
  await t.accept(p.d);
  await t.mutateOk(
    OPERATOR,
    "setAvailableOffers",
    "SetAvailableOffersInput",
    { accountId: d, skus: [TRUNK, PBX_SKU, TRUNK_TRIAL] },
    "account { id }",
  );
  const r = (
    await t.mutateOk<{ account: IdOnly }>(
      p.d,
      "createAccount",
      "CreateAccountInput",
      { parentId: d, kind: "RESELLER", name: names[1], country: "US", owner: { email: p.r } },
      "account { id }",
    )
  ).account.id;
  await t.accept(p.r);
  await t.mutateOk(
    p.d,
    "setResellerRights",
    "SetResellerRightsInput",
    { id: r, canCreateAccounts: true, canCreateEquipment: true },
    "account { id }",
  );
  await t.mutateOk(
    p.d,
    "setAvailableOffers",
    "SetAvailableOffersInput",
    { accountId: r, skus: [TRUNK, PBX_SKU, TRUNK_TRIAL] },
    "account { id }",
  );
  const created = await t.mutateOk<{ account: IdOnly; order: IdOnly }>(
    p.r,
    "createAccount",
    "CreateAccountInput",
    {
      parentId: r,
      kind: "CUSTOMER",
      name: names[2],
      country: "US",
      owner: { email: p.c },
      order: { lines: [{ sku: TRUNK, quantity: 5 }], idempotencyKey: `b${n}-customer` },
    },
    "account { id } order { id }",
  );
  const c = created.account.id;
  await t.accept(p.c);
  const resellerOrder = (
    await t.mutateOk<{ order: IdOnly }>(
      p.d,
      "placeOrder",
      "PlaceOrderInput",
      { accountId: r, lines: [{ sku: PBX_SKU, quantity: 2 }], idempotencyKey: `b${n}-reseller` },
      "order { id }",
    )
  ).order.id;
  // Partner administration: capability, a flagged member, the customer's opt-in.
  await t.mutateOk(
    OPERATOR,
    "setPartnerAdminCapability",
    "SetPartnerAdminCapabilityInput",
    { accountId: r, enabled: true },
    "account { id }",
  );
  await t.mutateOk(
    p.r,
    "inviteMember",
    "InviteMemberInput",
    { accountId: r, email: p.pa, role: "CONTRIBUTOR" },
    "member { email }",
  );
  await t.accept(p.pa);
  await t.mutateOk(
    p.r,
    "setMemberPartnerAdmin",
    "SetMemberPartnerAdminInput",
    { accountId: r, email: p.pa, partnerAdmin: true },
    "member { email }",
  );
  await t.mutateOk(
    p.c,
    "setPartnerAdminOptIn",
    "SetPartnerAdminOptInInput",
    { accountId: c, optIn: true },
    "account { id }",
  );
  // A user with a licence.
  await t.mutateOk(
    p.c,
    "inviteMember",
    "InviteMemberInput",
    { accountId: c, email: p.u, role: "CONTRIBUTOR" },
    "member { email }",
  );
  await t.accept(p.u);
  const subOf = async (accountId: string, sku: string) => {
    const res = await t.read<{
      account: Result<{ subscriptions: { edges: { node: { id: string; sku: string } }[] } }>;
    }>(
      OPERATOR,
      `query S($id: ID!) { account(id: $id) { __typename ... on QueryAccountSuccess { data { subscriptions(first: 100) { edges { node { id sku } } } } } ${ERR} } }`,
      { id: accountId },
    );
    const sub = ok<{ subscriptions: { edges: { node: { id: string; sku: string } }[] } }>(
      res.account,
    ).subscriptions.edges.find((e) => e.node.sku === sku);
    expect(sub, `${sku} subscription of ${accountId}`).toBeDefined();
    return sub!.node.id;
  };
  // A trial of the customer (the Trials view, its conversion).
  await t.mutateOk(
    p.r,
    "placeOrder",
    "PlaceOrderInput",
    { accountId: c, lines: [{ sku: TRUNK_TRIAL, quantity: 2 }], idempotencyKey: `b${n}-trial` },
    "order { id }",
  );
  const trialSub = await subOf(c, TRUNK_TRIAL);
  const trunkSub = await subOf(c, TRUNK);
  const pbxSub = await subOf(r, PBX_SKU);
  await t.mutateOk(p.c, "assignLicence", "LicenceInput", { subscriptionId: trunkSub, email: p.u }, "licence { email }");
  const client = (
    await t.mutateOk<{ client: IdOnly }>(
      p.d,
      "createApiClient",
      "CreateApiClientInput",
      { accountId: d, name: `Branch${n} ERP`, role: "CONTRIBUTOR", seller: true },
      "client { id }",
    )
  ).client.id;
  return {
    d,
    r,
    c,
    customerOrder: created.order.id,
    resellerOrder,
    trunkSub,
    pbxSub,
    trialSub,
    client,
    invoice: "",
    invoiceNumber: "",
    oxo: null,
    otec: null,
    ticket: "",
    names,
  };
}

/** November: the invoice of October, equipment with an extension and a tenant, pending invitations. */
async function finishBranch(n: 1 | 2, b: Branch): Promise<void> {
  const p = people(n);
  const inv = await t.read<{ account: Result<{ invoices: { edges: { node: { id: string; number: string } }[] } }> }>(
    p.d,
    `query I($id: ID!) { account(id: $id) { __typename ... on QueryAccountSuccess { data { invoices(first: 10) { edges { node { id number } } } } } ${ERR} } }`,
    { id: b.d },
  );
  const invoice = ok<{ invoices: { edges: { node: { id: string; number: string } }[] } }>(inv.account).invoices.edges[0]
    ?.node;
  expect(invoice, `branch ${n} invoice`).toBeDefined();
  b.invoice = invoice!.id;
  b.invoiceNumber = invoice!.number;
  b.oxo = await declareAndConnect(p.c, b.c, `Branch${n} HQ OXO`, "OXO_CONNECT", ["201", "202"]);
  await t.giveNumbers(b.c, b.r, [`+44784831169${n}`]);
  await t.mutateOk(
    p.c,
    "assignExtension",
    "AssignExtensionInput",
    { accountId: b.c, email: p.u, equipmentId: b.oxo.equipment.id, extension: "201", publicNumber: `+44784831169${n}` },
    "assignment { extension }",
  );
  b.otec = await declareAndConnect(p.d, b.d, `Branch${n} OTEC`, "OTEC_S", []);
  await t.mutateOk(
    p.d,
    "attachEquipmentTenant",
    "AttachEquipmentTenantInput",
    { equipmentId: b.otec.equipment.id, customerId: b.c, companyPrefix: `82${n}0` },
    "companyPrefix",
  );
  await t.mutateOk(
    p.d,
    "inviteMember",
    "InviteMemberInput",
    { accountId: b.d, email: p.pendingD, role: "VIEWER" },
    "member { email }",
  );
  await t.mutateOk(
    p.c,
    "inviteMember",
    "InviteMemberInput",
    { accountId: b.c, email: p.pendingC, role: "VIEWER" },
    "member { email }",
  );
  b.ticket = (
    await t.mutateOk<{ ticket: IdOnly }>(
      p.c,
      "openTicket",
      "OpenTicketInput",
      {
        accountId: b.c,
        summary: `Branch${n} ticket`,
        description: "No dial tone",
        occurredAt: "2026-11-01T08:00:00.000Z",
        severity: 2,
        service: "Trunk",
      },
      "ticket { id }",
    )
  ).ticket.id;
  await t.mutateOk(
    p.r,
    "commentTicket",
    "CommentTicketInput",
    { ticketId: b.ticket, body: `Branch${n} reply` },
    "comment { id }",
  );
  // Something the partner admin did on behalf of the customer (its partnerActions).
  await t.mutateOk(
    p.pa,
    "setSupportEmail",
    "SetSupportEmailInput",
    { accountId: b.c, email: `support@b${n}-customer.example` },
    "account { id }",
  );
}

/** The first node of a connection read by `as` (the edge nodes of every connection are Nodes). */
async function firstNode(
  as: string,
  query: string,
  variables: Record<string, unknown>,
  path: (data: Record<string, unknown>) => unknown,
): Promise<string> {
  const data = await t.read(as, query, variables);
  const id = (path(data) as { edges?: { node: { id: string } }[] } | undefined)?.edges?.[0]?.node.id;
  expect(id, `a node of ${query}`).toBeDefined();
  return id!;
}
const onAccount = (selection: string) =>
  `query N($id: ID!) { r: account(id: $id) { ... on QueryAccountSuccess { data { ${selection} } } } }`;
const onNode = (type: string, selection: string) =>
  `query N($id: ID!) { r: node(id: $id) { ... on ${type} { ${selection} } } }`;
const first = (field: string) => (d: Record<string, unknown>) =>
  ((d.r as { data?: Record<string, unknown> } | null)?.data ?? (d.r as Record<string, unknown> | null))?.[field];

/** One id of every edge-node type of a branch, read from the lists that show them. */
async function edgeNodes(n: 1 | 2, b: Branch): Promise<Record<string, string>> {
  const p = people(n);
  const offers = await t.read<{ r: { data?: { id: string }[] } }>(
    p.c,
    `query O($id: ID!) { r: offers(accountId: $id) { ... on QueryOffersSuccess { data { id } } } }`,
    { id: b.c },
  );
  expect(offers.r.data?.[0]?.id, "an offer seen from the customer").toBeDefined();
  return {
    Member: await firstNode(
      p.c,
      onAccount("members(first: 1) { edges { node { id } } }"),
      { id: b.c },
      first("members"),
    ),
    Invitation: await firstNode(
      p.d,
      onAccount("invitations(first: 1) { edges { node { id } } }"),
      { id: b.d },
      first("invitations"),
    ),
    AuditEvent: await firstNode(
      p.c,
      onAccount("history(first: 1) { edges { node { id } } }"),
      { id: b.c },
      first("history"),
    ),
    Offer: offers.r.data![0]!.id,
    Licence: await firstNode(
      p.c,
      onNode("LicenceSubscription", "licences(first: 1) { edges { node { id } } }"),
      { id: b.trunkSub },
      first("licences"),
    ),
    LicenceSubscriptionChange: await firstNode(
      p.c,
      onAccount("subscriptionHistory(first: 1) { edges { node { id } } }"),
      { id: b.c },
      first("subscriptionHistory"),
    ),
    InvoiceLine: await firstNode(
      p.d,
      onNode("Invoice", "lines(first: 1) { edges { node { id } } }"),
      { id: b.invoice },
      first("lines"),
    ),
    EquipmentTenant: await firstNode(
      p.d,
      onNode("Equipment", "tenants(first: 1) { edges { node { id } } }"),
      { id: b.otec!.equipment.id },
      first("tenants"),
    ),
    ExtensionAssignment: await firstNode(
      p.c,
      onAccount("extensionAssignments(first: 1) { edges { node { id } } }"),
      { id: b.c },
      first("extensionAssignments"),
    ),
    AdministeredCustomer: await firstNode(
      p.pa,
      `query { r: administeredCustomers(first: 1) { edges { node { id } } } }`,
      {},
      (d) => d.r,
    ),
    PartnerAction: await firstNode(
      p.c,
      onAccount("partnerActions(first: 1) { edges { node { id } } }"),
      { id: b.c },
      first("partnerActions"),
    ),
    PhoneNumber: await firstNode(
      p.c,
      onAccount("numbers(first: 1) { edges { node { id } } }"),
      { id: b.c },
      first("numbers"),
    ),
    TicketComment: await firstNode(
      p.c,
      onNode("Ticket", "comments(first: 1) { edges { node { id } } }"),
      { id: b.ticket },
      first("comments"),
    ),
  };
}

// ---------------------------------------------------------------- schema walk

type RootName = "Query" | "Mutation";
interface Slot {
  /** "id", "input.accountId", ... */
  readonly path: string;
  readonly kind: Kind;
}
interface FieldPlan {
  readonly key: string;
  readonly root: RootName;
  readonly field: GraphQLField<unknown, unknown>;
  readonly slots: readonly Slot[];
  /** "errs": answers a refusal with a GraphQL error on the field (non-null fields, and connections). */
  readonly shape: "union" | "nullable" | "errs";
}

const named = (t: GraphQLNamedType) => t.name;

/** Whether an input type holds an ID (or a string subject reference) anywhere inside. */
function holdsReference(type: GraphQLInputType, name: string, seen = new Set<string>()): boolean {
  const n = getNamedType(type);
  if (isScalarType(n)) return n.name === "ID" || (n.name === "String" && STRING_REFERENCES.has(name));
  if (isInputObjectType(n)) {
    if (seen.has(n.name)) return false;
    seen.add(n.name);
    return Object.values(n.getFields()).some((f) => holdsReference(f.type, f.name, seen));
  }
  return false;
}

function takesReference(field: GraphQLField<unknown, unknown>): boolean {
  return field.args.some((a) => holdsReference(a.type, a.name));
}

/** The Node type a field answers with (for a bare `id` slot): the union's success `data`, or a payload's single node field. */
function returnedNodeKind(field: GraphQLField<unknown, unknown>): Kind | undefined {
  const nodeOf = (t: GraphQLOutputType): Kind | undefined => {
    const n = getNamedType(t);
    if (n.name === "Node") return "Node";
    if (isObjectType(n) && n.getInterfaces().some((i) => i.name === "Node")) return n.name as Kind;
    return undefined;
  };
  const direct = nodeOf(field.type);
  if (direct) return direct;
  const n = getNamedType(field.type);
  if (!isUnionType(n)) return undefined;
  const success = n.getTypes().find((m) => m.name.endsWith("Success"));
  const data = success?.getFields().data;
  if (!data) return undefined;
  const fromData = nodeOf(data.type);
  if (fromData) return fromData;
  const payload = getNamedType(data.type);
  if (!isObjectType(payload)) return undefined;
  const kinds = Object.values(payload.getFields())
    .map((f) => nodeOf(f.type))
    .filter((k): k is Kind => k !== undefined);
  return kinds.length === 1 ? kinds[0] : undefined;
}

function kindOf(fieldKey: string, field: GraphQLField<unknown, unknown>, path: string, name: string): Kind {
  const byName = KIND_BY_NAME[name];
  if (byName) return byName;
  if (name === "id") {
    const k = returnedNodeKind(field);
    if (k) return k;
  }
  throw new Error(`${fieldKey}: cannot tell which kind of id ${path} holds: add it to KIND_BY_NAME`);
}

function collectSlots(fieldKey: string, field: GraphQLField<unknown, unknown>): Slot[] {
  const slots: Slot[] = [];
  const walk = (type: GraphQLInputType, name: string, path: string) => {
    const n = getNamedType(type);
    if (isScalarType(n)) {
      if (n.name === "ID" || (n.name === "String" && STRING_REFERENCES.has(name)))
        slots.push({ path, kind: kindOf(fieldKey, field, path, name) });
    } else if (isInputObjectType(n)) {
      for (const f of Object.values(n.getFields())) walk(f.type, f.name, `${path}.${f.name}`);
    }
  };
  for (const a of field.args) walk(a.type, a.name, a.name);
  return slots;
}

function shapeOf(field: GraphQLField<unknown, unknown>): FieldPlan["shape"] {
  if (isUnionType(getNamedType(field.type))) return "union";
  return isNonNullType(field.type) || getNamedType(field.type).name.endsWith("Connection") ? "errs" : "nullable";
}

/** Query fields that take no id at all (or only optional ones, left out here): nothing of branch 2 may show through them either. */
function idlessQueries(): FieldPlan[] {
  return Object.values(schema.getQueryType()!.getFields())
    .filter((f) => f.args.every((a) => !isNonNullType(a.type) || !holdsReference(a.type, a.name)))
    .map((field) => ({ key: `Query.${field.name}`, root: "Query" as const, field, slots: [], shape: shapeOf(field) }));
}

function plans(): { plans: FieldPlan[]; detected: string[] } {
  const out: FieldPlan[] = [];
  const detected: string[] = [];
  for (const root of ["Query", "Mutation"] as const) {
    const type = root === "Query" ? schema.getQueryType() : schema.getMutationType();
    for (const field of Object.values(type!.getFields())) {
      if (!takesReference(field)) continue;
      const key = `${root}.${field.name}`;
      detected.push(key);
      if (EXCLUDED[key]) continue;
      const shape = shapeOf(field);
      out.push({ key, root, field, slots: collectSlots(key, field), shape });
    }
  }
  return { plans: out, detected };
}

// ---------------------------------------------------------------- operation generation

/** A filled slot: the id sent and the member e-mail that goes with it. */
type Assignment = ReadonlyMap<string, Ref>;

function candidatesOf(kind: Kind): Candidate[] {
  const found =
    kind === "Node" ? candidates.filter((c) => c.kind !== "DeviceId") : candidates.filter((c) => c.kind === kind);
  if (found.length === 0) throw new Error(`no candidate of kind ${kind}`);
  return found;
}

function leafValue(
  plan: FieldPlan,
  type: GraphQLNamedType,
  name: string,
  path: string,
  context: Ref | undefined,
): Json {
  const override = VALUE_BY_PATH[`${plan.key}:${path}`];
  if (override !== undefined) return override;
  const byName = VALUE_BY_NAME[name];
  if (byName) return byName();
  if (isEnumType(type)) return ENUM_VALUE[type.name] ?? type.getValues()[0]!.name;
  switch (named(type)) {
    case "EmailAddress":
      return context?.member ?? "nobody@unknown.example";
    case "Boolean":
      return true;
    case "Int":
      return 1;
    case "DateTime":
      return "2027-01-01T00:00:00.000Z";
    case "String":
      return "probe";
    default:
      throw new Error(`${plan.key}: no value for ${path} (${named(type)}): add it to VALUE_BY_NAME`);
  }
}

/** Builds the variables of one operation: every id slot from `assignment`, required values from the tables. */
function buildArgs(plan: FieldPlan, assignment: Assignment): Record<string, Json> {
  const context = [...assignment.values()][0];
  const fill = (type: GraphQLInputType, name: string, path: string): Json | undefined => {
    const required = isNonNullType(type);
    const inner = isNonNullType(type) ? type.ofType : type;
    const slot = assignment.get(path);
    if (slot) return slot.id;
    if (isScalarType(inner) && (inner.name === "ID" || STRING_REFERENCES.has(name))) {
      if (required) throw new Error(`${plan.key}: ${path} is a required id without a value`);
      return undefined;
    }
    const pinned = VALUE_BY_PATH[`${plan.key}:${path}`] !== undefined;
    if (!required && !pinned && !holdsReference(inner, name)) return undefined;
    if (isListType(inner)) {
      if (VALUE_BY_NAME[name]) return VALUE_BY_NAME[name]();
      const item = fill(inner.ofType, name, path);
      return item === undefined ? [] : [item];
    }
    if (isInputObjectType(inner)) {
      const obj: Record<string, Json> = {};
      for (const f of Object.values(inner.getFields())) {
        const v = fill(f.type, f.name, `${path}.${f.name}`);
        if (v !== undefined) obj[f.name] = v;
      }
      return obj;
    }
    if (isLeafType(inner)) return leafValue(plan, inner, name, path, context);
    throw new Error(`${plan.key}: unexpected input at ${path}`);
  };
  const vars: Record<string, Json> = {};
  for (const a of plan.field.args) {
    const v = fill(a.type, a.name, a.name);
    if (v !== undefined) vars[a.name] = v;
  }
  return vars;
}

/** Everything readable in the answer (leaves to `depth` levels): success data, errors, nodes. */
const selection = (type: GraphQLOutputType, depth: number) =>
  select(schema, type, depth, (f) => f.args.some((a) => isNonNullType(a.type) && a.defaultValue === undefined));

interface Operation {
  readonly plan: FieldPlan;
  readonly label: string;
  readonly query: string;
  readonly variables: Record<string, Json>;
}

function operation(plan: FieldPlan, label: string, assignment: Assignment): Operation {
  const variables = buildArgs(plan, assignment);
  const defs = plan.field.args.filter((a) => a.name in variables).map((a) => `$${a.name}: ${String(a.type)}`);
  const call = plan.field.args.filter((a) => a.name in variables).map((a) => `${a.name}: $${a.name}`);
  const op = plan.root === "Query" ? "query" : "mutation";
  const query = `${op} Probe${defs.length ? `(${defs.join(", ")})` : ""} { r: ${plan.field.name}${call.length ? `(${call.join(", ")})` : ""} { ${selection(plan.field.type, 2)} } }`;
  return { plan, label, query, variables };
}

function* product(lists: readonly (readonly Candidate[])[]): Generator<Candidate[]> {
  if (lists.length === 0) {
    yield [];
    return;
  }
  for (const head of lists[0]!) for (const rest of product(lists.slice(1))) yield [head, ...rest];
}

function unknownOf(kind: Kind): Ref {
  const model = candidatesOf(kind)[0]!;
  if (model.kind === "DeviceId")
    return { id: "PBX0000-0000-0000-0000-0000-0000-0000-0000", member: "nobody@unknown.example" };
  const decoded = Buffer.from(model.b2.id, "base64").toString("utf8");
  const [type, ...rest] = decoded.split(":");
  const local =
    rest.length > 1 ? `01ZZZZZZZZZZZZZZZZZZZZZZZZ:${rest.slice(1).join(":")}` : "01ZZZZZZZZZZZZZZZZZZZZZZZZ";
  return { id: Buffer.from(`${type}:${local}`).toString("base64"), member: "nobody@unknown.example" };
}

/** A branch-2 operation and its twin: the same call with the branch-2 id(s) replaced by unknown ids. */
interface Probe {
  readonly op: Operation;
  readonly twin: Operation;
  readonly mixed: boolean;
}

/** Branch-2 variants: every combination of branch-2 candidates; plus, with several slots, each slot alone in branch 2. */
function isolationProbes(plan: FieldPlan): Probe[] {
  const probes: Probe[] = [];
  const unknown = new Map(plan.slots.map((s) => [s.path, unknownOf(s.kind)] as const));
  for (const combo of product(plan.slots.map((s) => candidatesOf(s.kind)))) {
    const assignment = new Map(plan.slots.map((s, i) => [s.path, combo[i]!.b2] as const));
    const op = operation(plan, `b2[${plan.slots.map((s, i) => `${s.path}=${combo[i]!.label}`).join(",")}]`, assignment);
    probes.push({ op, twin: operation(plan, "unknown ids", unknown), mixed: false });
  }
  if (plan.slots.length > 1) {
    for (const mixed of plan.slots) {
      if (MIXED_BY_DESIGN.has(`${plan.key}:${mixed.path}`)) continue;
      const base = (ref: Ref) =>
        new Map(plan.slots.map((s) => [s.path, s === mixed ? ref : preferred(plan, s).b1] as const));
      probes.push({
        op: operation(plan, `mixed[${mixed.path}=b2, others b1]`, base(candidatesOf(mixed.kind)[0]!.b2)),
        twin: operation(plan, `mixed[${mixed.path}=unknown, others b1]`, base(unknownOf(mixed.kind))),
        mixed: true,
      });
    }
  }
  return probes;
}

function preferred(plan: FieldPlan, slot: Slot): Candidate {
  const label = PREFERRED[`${plan.key}:${slot.path}`];
  const all = candidatesOf(slot.kind);
  const found = label ? all.find((c) => c.label === label) : all[0];
  if (!found) throw new Error(`${plan.key}:${slot.path}: no candidate ${label}`);
  return found;
}

const positiveOperation = (plan: FieldPlan) =>
  operation(plan, "b1", new Map(plan.slots.map((s) => [s.path, preferred(plan, s).b1] as const)));

// ---------------------------------------------------------------- outcomes

interface Outcome {
  /** "NotFoundError:NOT_FOUND", "error:NOT_FOUND", "null", "ForbiddenError:FORBIDDEN", "MutationXSuccess", ... */
  readonly kind: string;
  readonly message: string;
}

function outcomeOf(res: RawResponse): Outcome {
  const rootErrors = res.errors.filter((e) => !e.path || e.path.length <= 1);
  if (rootErrors.length > 0)
    return {
      kind: `error:${rootErrors.map((e) => e.extensions?.code ?? "?").join(",")}`,
      message: rootErrors.map((e) => e.message).join(" | "),
    };
  const value = res.data?.r;
  if (value === null || value === undefined) return { kind: "null", message: "" };
  const v = value as { __typename?: string; code?: string; message?: string };
  if (v.code) return { kind: `${v.__typename}:${v.code}`, message: v.message ?? "" };
  return { kind: v.__typename ?? "data", message: "" };
}

/** The NOT_FOUND answer of the server's contract, for a field of this shape. */
function notFoundFor(plan: FieldPlan): string {
  return plan.shape === "union" ? "NotFoundError:NOT_FOUND" : plan.shape === "nullable" ? "null" : "error:NOT_FOUND";
}
const isNotFound = (o: Outcome) =>
  o.kind === "NotFoundError:NOT_FOUND" || o.kind === "error:NOT_FOUND" || o.kind === "null";

/** Branch-2 strings found in a response that were not sent in the request (or derived from what was sent). */
function leaks(
  res: RawResponse,
  variables: Record<string, Json>,
  secrets: ReadonlySet<string> = branch2Secrets,
): string[] {
  const sent: string[] = [];
  const collect = (v: Json) => {
    if (typeof v === "string") {
      sent.push(v);
      const decoded = Buffer.from(v, "base64").toString("utf8");
      if (/^[A-Za-z]+:/.test(decoded)) sent.push(decoded, ...decoded.split(":"));
    } else if (Array.isArray(v)) v.forEach(collect);
    else if (v && typeof v === "object") Object.values(v).forEach(collect);
  };
  collect(variables);
  const text = res.text.toLowerCase();
  return [...secrets].filter(
    (s) => text.includes(s.toLowerCase()) && !sent.some((x) => x.toLowerCase().includes(s.toLowerCase())),
  );
}

// ---------------------------------------------------------------- setup

let allPlans: FieldPlan[] = [];
let detected: string[] = [];

beforeAll(async () => {
  // The generated operations select everything to depth 2 (every connection at its default page
  // size): far over the default budget of DynamoDB requests, which request-budget.test.ts covers.
  t = await startTestStack({ requestBudget: 1_000_000 });
  db = createDocumentClient({ region: "local", endpoint: inject("dynamoEndpoint") });
  await t.setClock(OCTOBER);
  const b1 = await buildBranch(1);
  const b2 = await buildBranch(2);
  await t.setClock(BILLING_DAY);
  await t.runJob("billing", "2026-10");
  await t.setClock(NOW);
  await finishBranch(1, b1);
  await finishBranch(2, b2);
  // A webhook endpoint of each distributor (a local receiver answering 200) with one delivery: a test event.
  await new Promise<void>((r) => receiver.listen(0, "127.0.0.1", r));
  const hooks = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
  const endpointOf = async (p: ReturnType<typeof people>, b: Branch, n: 1 | 2) => {
    const id = (
      await t.mutateOk<{ endpoint: IdOnly }>(
        p.d,
        "createWebhookEndpoint",
        "CreateWebhookEndpointInput",
        { accountId: b.d, url: `${hooks}/branch${n}` },
        "endpoint { id }",
      )
    ).endpoint.id;
    await t.mutateOk(p.d, "sendTestEvent", "WebhookEndpointRefInput", { endpointId: id }, "webhookId");
    return id;
  };
  const webhookEndpoints = { b1: await endpointOf(B1, b1, 1), b2: await endpointOf(B2, b2, 2) };

  // Every committed change has gone through the change stream before the table is compared.
  await fetch(`${t.url}/dev/events/drain`, { method: "POST", headers: { "content-length": "0" } });
  const orderEvent = async (p: ReturnType<typeof people>, b: Branch) => {
    const r = await t.read<{ events: { edges: { node: { id: string; type: string } }[] } }>(
      p.c,
      `query E($id: ID!) { events(accountId: $id, types: ["order.placed"], first: 5) { edges { node { id type } } } }`,
      { id: b.c },
    );
    const id = r.events.edges[0]?.node.id;
    expect(id, "an order.placed event of the customer").toBeDefined();
    return id!;
  };
  const events = { b1: await orderEvent(B1, b1), b2: await orderEvent(B2, b2) };
  const deliveryOf = async (p: ReturnType<typeof people>, endpointId: string) => {
    const r = await t.read<{ node: { deliveries: { edges: { node: { id: string } }[] } } }>(
      p.d,
      `query D($id: ID!) { node(id: $id) { ... on WebhookEndpoint { deliveries(first: 5) { edges { node { id } } } } } }`,
      { id: endpointId },
    );
    const id = r.node.deliveries.edges[0]?.node.id;
    expect(id, "a delivery of the test event").toBeDefined();
    return id!;
  };
  const deliveries = { b1: await deliveryOf(B1, webhookEndpoints.b1), b2: await deliveryOf(B2, webhookEndpoints.b2) };
  const pair = (
    label: string,
    kind: Candidate["kind"],
    pick: (b: Branch, p: ReturnType<typeof people>) => Ref,
  ): Candidate => ({ label, kind, b1: pick(b1, B1), b2: pick(b2, B2) });
  candidates.push(
    pair("D", "Account", (b, p) => ({ id: b.d, member: p.d })),
    pair("R", "Account", (b, p) => ({ id: b.r, member: p.pa })),
    pair("C", "Account", (b, p) => ({ id: b.c, member: p.u })),
    pair("C trunk subscription", "LicenceSubscription", (b, p) => ({ id: b.trunkSub, member: p.u })),
    pair("R PBX subscription", "LicenceSubscription", (b, p) => ({ id: b.pbxSub, member: p.r })),
    pair("C trunk trial", "LicenceSubscription", (b, p) => ({ id: b.trialSub, member: p.u })),
    pair("C order", "Order", (b, p) => ({ id: b.customerOrder, member: p.c })),
    pair("R order", "Order", (b, p) => ({ id: b.resellerOrder, member: p.r })),
    pair("D invoice", "Invoice", (b, p) => ({ id: b.invoice, member: p.d })),
    pair("D shared OTEC-S", "Equipment", (b, p) => ({ id: b.otec!.equipment.id, member: p.d })),
    pair("C OXO", "Equipment", (b, p) => ({ id: b.oxo!.equipment.id, member: p.u })),
    pair("C OXO device", "DeviceId", (b, p) => ({ id: b.oxo!.deviceId, member: p.u })),
    pair("D OTEC-S device", "DeviceId", (b, p) => ({ id: b.otec!.deviceId, member: p.d })),
    pair("D API client", "ApiClient", (b, p) => ({ id: b.client, member: p.d })),
    pair("C order.placed event", "Event", (b, p) => ({ id: b === b1 ? events.b1 : events.b2, member: p.c })),
    pair("D webhook endpoint", "WebhookEndpoint", (b, p) => ({
      id: b === b1 ? webhookEndpoints.b1 : webhookEndpoints.b2,
      member: p.d,
    })),
    pair("C ticket", "Ticket", (b, p) => ({ id: b.ticket, member: p.c })),
    pair("D webhook delivery", "WebhookDelivery", (b, p) => ({
      id: b === b1 ? deliveries.b1 : deliveries.b2,
      member: p.d,
    })),
  );
  const edges = { b1: await edgeNodes(1, b1), b2: await edgeNodes(2, b2) };
  const readers: Record<string, (p: ReturnType<typeof people>) => string> = {
    Invitation: (p) => p.d,
    InvoiceLine: (p) => p.d,
    EquipmentTenant: (p) => p.d,
    AdministeredCustomer: (p) => p.pa,
  };
  for (const kind of Object.keys(edges.b1) as Candidate["kind"][]) {
    candidates.push(
      pair(`edge ${kind}`, kind, (b, p) => ({
        id: (b === b1 ? edges.b1 : edges.b2)[kind]!,
        member: (readers[kind] ?? ((x) => x.c))(p),
      })),
    );
  }
  const secrets = (n: 1 | 2, b: Branch, into: Set<string>) => {
    for (const c of candidates) {
      const id = n === 1 ? c.b1.id : c.b2.id;
      into.add(id);
      // The local parts that are generated ids (ULIDs: accounts, orders, equipment), not shared names such as skus.
      for (const part of Buffer.from(id, "base64").toString("utf8").split(":").slice(1))
        if (/^[0-9A-HJKMNP-TV-Z]{26}$/.test(part)) into.add(part);
    }
    for (const s of [
      ...b.names,
      ...Object.values(people(n)),
      b.invoiceNumber,
      `Branch${n} HQ OXO`,
      `Branch${n} OTEC`,
      `Branch${n} ticket`,
      `Branch${n} reply`,
      `+44784831169${n}`,
      `${hooks}/branch${n}`,
    ])
      into.add(s);
  };
  secrets(1, b1, branch1Secrets);
  secrets(2, b2, branch2Secrets);

  ({ plans: allPlans, detected } = plans());
}, 120_000);

afterAll(async () => {
  await t?.stop();
  receiver.closeAllConnections();
  await new Promise<void>((r) => receiver.close(() => r()));
});

// ---------------------------------------------------------------- the matrix

describe("cross-branch isolation matrix, generated from the schema", () => {
  it("covers every Query and Mutation field that takes an id: exercised, or excluded with a reason", () => {
    const exercised = allPlans.map((p) => p.key);
    const staleExclusions = Object.keys(EXCLUDED).filter((k) => !detected.includes(k));
    expect(staleExclusions, "exclusions of fields that no longer take an id").toEqual([]);
    expect([...exercised, ...Object.keys(EXCLUDED)].sort()).toEqual([...detected].sort());
    const stalePreferred = Object.keys(PREFERRED).filter(
      (k) => !allPlans.some((p) => p.slots.some((s) => `${p.key}:${s.path}` === k)),
    );
    expect(stalePreferred, "PREFERRED entries naming no slot").toEqual([]);
    const staleUniform = Object.keys(UNIFORM_REFUSALS).filter((k) => !exercised.includes(k));
    expect(staleUniform, "uniform refusals that are not exercised").toEqual([]);
    // Every id-bearing type of the schema has a real branch-2 id.
    for (const type of schema.getPossibleTypes(
      schema.getType("Node") as Parameters<typeof schema.getPossibleTypes>[0],
    )) {
      expect(
        candidates.some((c) => c.kind === type.name),
        `a branch-2 ${type.name}`,
      ).toBe(true);
    }
    console.info(
      `isolation matrix: ${exercised.length} fields exercised (${exercised.join(", ")}); excluded: ${Object.keys(EXCLUDED).join(", ")}`,
    );
    expect(exercised.length).toBeGreaterThanOrEqual(30);
  });

  it("branch-1 people get NOT_FOUND (as for an unknown id) for every branch-2 id, see no branch-2 data, and write nothing", async () => {
    const tableBefore = await scanTable();
    const outboxBefore = await t.outboxCount();

    const calls = allPlans.flatMap((plan) =>
      isolationProbes(plan).flatMap((probe) => CALLERS.map((caller) => ({ probe, caller }))),
    );
    const failures: string[] = [];
    const observations: string[] = [];
    const contract = new Map<string, Set<string>>();
    await pool(calls, 12, async ({ probe, caller }) => {
      const { op, twin } = probe;
      const [res, twinRes] = [
        await raw(caller.email, op.query, op.variables),
        await raw(caller.email, twin.query, twin.variables),
      ];
      const got = outcomeOf(res);
      const u = outcomeOf(twinRes);
      const where = `${op.plan.key} ${op.label} as ${caller.label}`;
      const refused = /Error:/.test(got.kind) || isNotFound(got);
      if (!refused) failures.push(`${where}: not refused: ${got.kind}`);
      // Indistinguishable from an unknown id: same answer, same words.
      if (got.kind !== u.kind || got.message !== u.message)
        failures.push(
          `${where}: ${got.kind} "${got.message}" differs from the unknown-id answer ${u.kind} "${u.message}"`,
        );
      if (probe.mixed) {
        if (!isNotFound(got)) observations.push(`${where}: ${got.kind} "${got.message}" (same as with an unknown id)`);
      } else {
        const seen = contract.get(op.plan.key) ?? new Set<string>();
        seen.add(got.kind);
        contract.set(op.plan.key, seen);
        const expected = notFoundFor(op.plan);
        if (UNIFORM_REFUSALS[op.plan.key] === undefined && got.kind !== expected)
          failures.push(`${where}: expected ${expected}, got ${got.kind} "${got.message}"`);
      }
      const leaked = leaks(res, op.variables);
      if (leaked.length > 0)
        failures.push(`${where}: branch-2 data in the response: ${leaked.join(", ")}: ${res.text.slice(0, 400)}`);
    });

    const tableAfter = await scanTable();
    const outboxAfter = await t.outboxCount();
    console.info(
      `isolation matrix: ${calls.length} branch-2 calls (${calls.length / CALLERS.length} operations × ${CALLERS.length} callers), each with its unknown-id twin; answers per field: ${[...contract].map(([k, v]) => `${k}=${[...v].join("/")}`).join("; ")}`,
    );
    console.info(
      `mixed variants answered otherwise than NOT_FOUND (like an unknown id):\n${[...new Set(observations)].join("\n")}`,
    );
    expect(failures).toEqual([]);
    const changed = diffTables(tableBefore, tableAfter);
    expect(changed, "items written by the refused calls").toEqual([]);
    expect(outboxAfter).toBe(outboxBefore);
    expect(calls.length).toBeGreaterThanOrEqual(100 * CALLERS.length);
  }, 120_000);

  it("queries that take no id show branch-1 people nothing of branch 2", async () => {
    const idless = idlessQueries();
    expect(idless.map((p) => p.key)).toEqual(
      expect.arrayContaining(["Query.viewer", "Query.searchAccounts", "Query.administeredCustomers"]),
    );
    const failures: string[] = [];
    for (const plan of idless) {
      const op = operation(plan, "no ids", new Map());
      for (const caller of CALLERS) {
        const res = await raw(caller.email, op.query, op.variables);
        const leaked = leaks(res, op.variables);
        if (res.errors.some((e) => e.extensions?.code === "GRAPHQL_VALIDATION_FAILED"))
          failures.push(`${plan.key}: ${res.text.slice(0, 300)}`);
        if (leaked.length > 0) failures.push(`${plan.key} as ${caller.label}: ${leaked.join(", ")}`);
      }
    }
    expect(failures).toEqual([]);
  });

  it("every Node of branch 1 (every kind, edge nodes included) is fetched again by node(id) by a branch-1 person who sees it", async () => {
    const missing: string[] = [];
    for (const c of candidates.filter((x) => x.kind !== "DeviceId")) {
      // Twice in one request: a client may select the same node in two places.
      const res = await raw(
        c.b1.member,
        `query N($id: ID!) { r: node(id: $id) { __typename id } again: node(id: $id) { __typename id } }`,
        { id: c.b1.id },
      );
      const body = JSON.parse(res.text) as { data?: { r?: unknown; again?: unknown } };
      for (const node of [body.data?.r, body.data?.again] as (
        | { __typename: string; id: string }
        | null
        | undefined
      )[]) {
        if (node?.__typename !== c.kind || node.id !== c.b1.id)
          missing.push(`${c.label} as ${c.b1.member}: ${res.text.slice(0, 200)}`);
      }
    }
    expect(missing).toEqual([]);
    // Ids are unique across kinds.
    const ids = candidates.flatMap((c) => [c.b1.id, c.b2.id]);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it("positive control: the same operations with branch-1 ids are not NOT_FOUND for some branch-1 person", async () => {
    const ordered = [...allPlans].sort((a, b) => POSITIVE_LAST.indexOf(a.key) - POSITIVE_LAST.indexOf(b.key));
    const results: string[] = [];
    const notFound: string[] = [];
    let showingBranch1Data = 0;
    for (const plan of ordered) {
      const op = positiveOperation(plan);
      let answered: string | undefined;
      for (const caller of CALLERS) {
        const res = await raw(caller.email, op.query, op.variables);
        const got = outcomeOf(res);
        const leaked = leaks(res, op.variables);
        expect(leaked, `${plan.key} as ${caller.label}: branch-2 data in a branch-1 answer`).toEqual([]);
        if (leaks(res, op.variables, branch1Secrets).length > 0) showingBranch1Data += 1;
        if (!isNotFound(got)) {
          answered = `${plan.key}=${got.kind} (${caller.label})`;
          break;
        }
      }
      if (answered) results.push(answered);
      else notFound.push(plan.key);
    }
    console.info(
      `positive control: ${results.join("; ")}; NOT_FOUND for every branch-1 person: ${notFound.join(", ") || "none"}`,
    );
    // Every field answers something else than NOT_FOUND with branch-1 ids to at least one branch-1 person.
    expect(notFound).toEqual([]);
    // The response scan is not blind: the same selections carry branch-1 names, e-mails or ids to branch-1 people.
    expect(showingBranch1Data).toBeGreaterThanOrEqual(10);
  }, 60_000);
});

function diffTables(before: Record<string, unknown>[], after: Record<string, unknown>[]): string[] {
  const key = (i: Record<string, unknown>) => `${String(i.pk)}|${String(i.sk)}`;
  const a = new Map(before.map((i) => [key(i), JSON.stringify(i)]));
  const b = new Map(after.map((i) => [key(i), JSON.stringify(i)]));
  const out: string[] = [];
  for (const [k, v] of b) if (a.get(k) !== v) out.push(`${a.has(k) ? "changed" : "added"} ${k}: ${v.slice(0, 300)}`);
  for (const k of a.keys()) if (!b.has(k)) out.push(`removed ${k}`);
  return out;
}
