/**
 * Schema-driven fuzz over HTTP. Every field of Query and Mutation (`node` included) is read from the
 * executable schema; its variables are generated from its argument types (fast-check, fixed seed)
 * and sent as five callers. The world, built in October and billed for it:
 *
 *   Platform (operator)
 *   ├── Aurora Distribution 🌍 (owner dA; shared OTEC-S, API client, webhook endpoint, invoice)   branch A
 *   │   └── Aurora Reseller 東京 🎉 (owner rA)
 *   │       └── Aurora Customer (owner cA, VIEWER vA; orders, a trial, a PBX, a ticket, a pending invitation)
 *   └── Zephyr Distribution 🌍 … the same, branch B (customer owner cB)
 *
 * Callers: dA (OWNER of a distributor), cB (OWNER of a customer in the other branch), vA (a member
 * with the lowest role), the operator, and no token at all. Half the requests are calm (valid values
 * almost everywhere, so that they get past validation and write), half wild. Id slots mix the
 * caller's own ids, the other branch's, real ids of other types, retyped ids (another type's name
 * over a real local id), malformed base64, empty and 5,000-character strings; strings get empty,
 * blank, 10,000-character, control, bidi, zero-width, emoji, non-BMP, lone-surrogate, NUL and
 * noncharacter values; Int gets negatives, 0 and 2^31-1; money-like strings NaN, Infinity, huge
 * and negative amounts; enums every value; input objects drop optional fields or send null; lists
 * are empty, one item, a few or 200 items; now and then a value of the wrong type (a coercion error).
 *
 * Properties of every answer: no 5xx; no INTERNAL_SERVER_ERROR or "Unexpected error"; no error
 * without a code; every top-level error code is one of the API's (ALLOWED_CODES); a typed-result
 * union answers its Success member or a typed error with that error's code; no string of the other
 * branch (names, local ids) that the caller did not send; no success for a request naming an object
 * of the other branch. Phases: dA, vA and the anonymous caller, after which branch B must read the
 * same to its own owners (accounts, members, invitations, subscriptions, orders, equipment, tickets,
 * API clients, webhook endpoints, numbers, history); cB, after which branch A must; the operator.
 * Positive controls: every field's resolver is reached, and the scan does see data of the caller's
 * own branch; the oracle itself is tested against bad answers.
 *
 * Replay: FUZZ_SEED and FUZZ_RUNS (requests per field for dA, cB and the operator; fewer for vA and
 * the anonymous caller) pick the inputs; FUZZ_DUMP=<file> appends every request and answer. A
 * failure prints, per field and problem, the caller, the exact variables and the answer, and the
 * names and frames of the errors the server logged as unexpected.
 */
import { appendFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import fc from "fast-check";
import {
  getNamedType,
  isEnumType,
  isInputObjectType,
  isLeafType,
  isListType,
  isNonNullType,
  isScalarType,
} from "graphql";
import type { GraphQLField, GraphQLInputType, GraphQLObjectType, GraphQLOutputType } from "graphql";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { schema } from "../graphql/schema.js";
import { NODE_TYPE_BY_ID_SLOT, selection as select } from "./selection.js";
import type { LogFields, Telemetry } from "../infra/telemetry.js";
import { ERR, OPERATOR, PLATFORM, startTestStack } from "./harness.js";
import type { TestStack } from "./harness.js";

// ---------------------------------------------------------------- knobs

const SEED = Number(process.env.FUZZ_SEED ?? 20_261_102);
const RUNS = Number(process.env.FUZZ_RUNS ?? 4);
/** Requests in flight at once (two cores: the stack, DynamoDB Local and vitest share them). */
const CONCURRENCY = 6;
/** A file to append every request and answer to (JSON lines), for studying a run. */
const DUMP = process.env.FUZZ_DUMP;

const OCTOBER = "2026-10-20T09:00:00.000Z";
const BILLING_DAY = "2026-11-01T00:05:00.000Z";
/** Half a day from the trials' day boundaries (they started on October 20th at 09:00). */
const NOW = "2026-11-15T21:00:00.000Z";
const TRUNK = "RC-DRAAS-TRUNK-SUB";
const PBX_SKU = "RC-DRAAS-PBX-SUB";
const TRUNK_TRIAL = "RC-DRAAS-TRK-TRIAL";

/** Every code a top-level GraphQL error of this API may carry (graphql/server.ts, graphql-armor, Yoga). */
const ALLOWED_CODES = new Set([
  "BAD_USER_INPUT",
  "GRAPHQL_VALIDATION_FAILED",
  "GRAPHQL_PARSE_FAILED",
  "UNAUTHENTICATED",
  "FORBIDDEN",
  "NOT_FOUND",
  "CONFLICT",
  "RATE_LIMITED",
  "BUDGET_EXCEEDED",
  "PAYLOAD_TOO_LARGE",
]);
/** The typed errors of the result unions and their codes (graphql/errors.ts). */
const TYPED_ERRORS: Readonly<Record<string, string>> = {
  NotFoundError: "NOT_FOUND",
  ForbiddenError: "FORBIDDEN",
  ValidationError: "INVALID",
  ConflictError: "CONFLICT",
};

/**
 * Slots that legitimately take another branch's id, so no foreign id is put there: inviting an
 * existing account needs only its id, "given to you by its owner" (core/move.ts); it mails that
 * account's owners and records the id in the inviter's history, by design.
 */
const FOREIGN_BY_DESIGN = new Set(["Mutation.inviteExistingAccount:input.accountId"]);

/** Id slot name → the node type it names; a bare `id` is named by its field. */
const KIND_BY_NAME: Readonly<Record<string, string>> = NODE_TYPE_BY_ID_SLOT;
const ID_KIND_BY_FIELD: Readonly<Record<string, string>> = {
  "Query.account": "Account",
  "Query.invoice": "Invoice",
  "Query.ticket": "Ticket",
  "Mutation.updateAccount": "Account",
  "Mutation.setResellerRights": "Account",
};

/** Mutations that destroy what later requests would use: sent last. */
const DESTRUCTIVE = new Set([
  "removeEquipment",
  "revokeApiClient",
  "deleteWebhookEndpoint",
  "cancelSubscription",
  "removeMember",
  "setMemberRole",
  "releaseNumbers",
  "detachEquipmentTenant",
]);

// ---------------------------------------------------------------- types

type Json = string | number | boolean | null | Json[] | { [key: string]: Json };
type Vars = Record<string, Json>;

/** What one branch of the world holds: ids by node type, and the strings no other branch may read. */
interface Branch {
  readonly label: "A" | "B";
  readonly d: string;
  readonly r: string;
  readonly c: string;
  /** Global ids by node type (from the global id itself). */
  readonly ids: Map<string, string[]>;
  readonly emails: string[];
  /** Names, summaries and local ids of this branch: none may reach a caller of the other branch. */
  readonly secrets: Set<string>;
  /** Local ids of this branch's objects (a request naming one names this branch). */
  readonly locals: Set<string>;
  readonly deviceIds: string[];
  readonly tokens: string[];
  readonly cursors: string[];
}

interface Caller {
  readonly label: string;
  readonly email: string | null;
  /** Ids the caller may legitimately hold. */
  readonly own: readonly Branch[];
  /** The branches whose data it must never see. */
  readonly foreign: readonly Branch[];
}

interface RawError {
  readonly message?: unknown;
  readonly path?: ReadonlyArray<string | number>;
  readonly extensions?: { readonly code?: unknown };
}
interface Answer {
  readonly status: number;
  readonly text: string;
  readonly body: { readonly data?: { readonly r?: unknown } | null; readonly errors?: readonly RawError[] } | null;
}

interface Probe {
  readonly key: string;
  readonly root: "Query" | "Mutation";
  readonly field: GraphQLField<unknown, unknown>;
  readonly caller: Caller;
  readonly query: string;
  readonly variables: Vars;
}

interface Violation {
  readonly key: string;
  readonly caller: string;
  readonly problem: string;
  readonly variables: string;
  readonly response: string;
}

// ---------------------------------------------------------------- state

let t: TestStack;
/** The webhook receiver of every endpoint (it answers 200, so no delivery fails or is retried). */
const receiver = createServer((req, res) => {
  req.resume();
  req.on("end", () => res.end("ok"));
});
let hooks = "";
const branches: { A?: Branch; B?: Branch } = {};
/** "unexpected error" lines the server logged (error name and frames), in order. */
const serverErrors: LogFields[] = [];
const telemetry: Telemetry = {
  info: () => undefined,
  warn: () => undefined,
  error: (message, fields) => {
    if (message === "unexpected error") serverErrors.push(fields ?? {});
  },
  count: () => undefined,
  beginInvocation: () => undefined,
  endInvocation: () => undefined,
};

const b64 = (s: string) => Buffer.from(s, "utf8").toString("base64");
const unb64 = (s: string) => Buffer.from(s, "base64").toString("utf8");
/** The node type and local id of a global id, or undefined when it is not one. */
function decode(globalId: string): { type: string; local: string } | undefined {
  const text = unb64(globalId);
  const at = text.indexOf(":");
  if (at <= 0 || b64(text) !== globalId) return undefined;
  return { type: text.slice(0, at), local: text.slice(at + 1) };
}

// ---------------------------------------------------------------- HTTP

async function send(email: string | null, query: string, variables: Vars): Promise<Answer> {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (email) headers.authorization = `Bearer ${await t.token(email)}`;
  const res = await fetch(`${t.url}/graphql`, { method: "POST", headers, body: JSON.stringify({ query, variables }) });
  const text = await res.text();
  let body: Answer["body"] = null;
  try {
    body = JSON.parse(text) as Answer["body"];
  } catch {
    // reported by the oracle
  }
  return { status: res.status, text, body };
}

async function pool<T>(items: readonly T[], size: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(size, items.length) }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

/** A query as `as` that must answer without errors: its data. */
async function read<T>(as: string, query: string, variables: Vars = {}): Promise<T> {
  const res = await t.gql<T>(as, query, variables);
  expect(res.errors, JSON.stringify(res.errors)).toBeUndefined();
  return res.data!;
}

interface IdOnly {
  readonly id: string;
}
async function mutateOk<T>(as: string, field: string, inputType: string, input: Vars, select: string): Promise<T> {
  return t.mutateOk<T>(as, field, inputType, input, select);
}

// ---------------------------------------------------------------- the world

function people(label: "A" | "B") {
  const word = label === "A" ? "aurora" : "zephyr";
  return {
    word,
    Word: label === "A" ? "Aurora" : "Zephyr",
    d: `owner@${word}-distribution.example`,
    r: `owner@${word}-reseller.example`,
    c: `owner@${word}-customer.example`,
    v: `viewer@${word}-customer.example`,
    pending: `pending@${word}-customer.example`,
  };
}

async function buildBranch(label: "A" | "B"): Promise<Branch> {
  const p = people(label);
  const names = [`${p.Word} Distribution`, `${p.Word} Reseller`, `${p.Word} Customer`];
  const d = await t.createAccount({
    parentId: PLATFORM,
    kind: "DISTRIBUTOR",
    name: names[0]!,
    currency: "USD",
    owner: p.d,
  });
  await t.offer(d, [TRUNK, PBX_SKU, TRUNK_TRIAL]);
  const r = await t.createAccount({ parentId: d, kind: "RESELLER", name: names[1]!, owner: p.r }, p.d);
  await mutateOk(
    p.d,
    "setResellerRights",
    "SetResellerRightsInput",
    { id: r, canCreateAccounts: true, canCreateEquipment: true },
    "account { id }",
  );
  await mutateOk(
    p.d,
    "setAvailableOffers",
    "SetAvailableOffersInput",
    { accountId: r, skus: [TRUNK, PBX_SKU, TRUNK_TRIAL] },
    "account { id }",
  );
  const created = await mutateOk<{ account: IdOnly; order: IdOnly }>(
    p.r,
    "createAccount",
    "CreateAccountInput",
    {
      parentId: r,
      kind: "CUSTOMER",
      name: names[2]!,
      country: "GB",
      owner: { email: p.c },
      order: { lines: [{ sku: TRUNK, quantity: 5 }], idempotencyKey: `${p.word}-first` },
    },
    "account { id } order { id }",
  );
  const c = created.account.id;
  await t.accept(p.c);
  const trial = await mutateOk<{ order: IdOnly }>(
    p.r,
    "placeOrder",
    "PlaceOrderInput",
    { accountId: c, lines: [{ sku: TRUNK_TRIAL, quantity: 2 }], idempotencyKey: `${p.word}-trial` },
    "order { id }",
  );
  const resellerOrder = await mutateOk<{ order: IdOnly }>(
    p.d,
    "placeOrder",
    "PlaceOrderInput",
    { accountId: r, lines: [{ sku: PBX_SKU, quantity: 2 }], idempotencyKey: `${p.word}-reseller` },
    "order { id }",
  );
  await mutateOk(
    p.c,
    "inviteMember",
    "InviteMemberInput",
    { accountId: c, email: p.v, role: "VIEWER" },
    "member { email }",
  );
  await t.accept(p.v);
  await mutateOk(
    p.c,
    "inviteMember",
    "InviteMemberInput",
    { accountId: c, email: p.pending, role: "CONTRIBUTOR" },
    "member { email }",
  );
  const equipment = await mutateOk<{ deviceId: string; equipment: IdOnly }>(
    p.c,
    "declareEquipment",
    "DeclareEquipmentInput",
    { accountId: c, name: `${p.Word} HQ PBX`, country: "GB", serverType: "OXO_CONNECT", outboundPrefix: "0" },
    "deviceId equipment { id }",
  );
  const shared = await mutateOk<{ deviceId: string; equipment: IdOnly }>(
    p.d,
    "declareEquipment",
    "DeclareEquipmentInput",
    { accountId: d, name: `${p.Word} Shared OTEC`, country: "GB", serverType: "OTEC_S" },
    "deviceId equipment { id }",
  );
  const ticket = await mutateOk<{ ticket: IdOnly }>(
    p.c,
    "openTicket",
    "OpenTicketInput",
    {
      accountId: c,
      summary: `${p.Word} ticket summary`,
      description: `${p.Word} has no dial tone`,
      occurredAt: "2026-10-19T08:00:00.000Z",
      severity: 2,
      service: "Trunk",
    },
    "ticket { id }",
  );
  const client = await mutateOk<{ client: IdOnly }>(
    p.d,
    "createApiClient",
    "CreateApiClientInput",
    { accountId: d, name: `${p.Word} ERP client`, role: "CONTRIBUTOR", seller: true },
    "client { id }",
  );
  const endpoint = await mutateOk<{ endpoint: IdOnly }>(
    p.d,
    "createWebhookEndpoint",
    "CreateWebhookEndpointInput",
    { accountId: d, url: `${hooks}/${p.word}`, description: `${p.Word} hook` },
    "endpoint { id }",
  );
  const ids = new Map<string, string[]>();
  const add = (...globalIds: string[]) => {
    for (const id of globalIds) {
      const type = decode(id)?.type;
      if (!type) throw new Error(`not a global id: ${id}`);
      ids.set(type, [...(ids.get(type) ?? []), id]);
    }
  };
  add(d, r, c, created.order.id, trial.order.id, resellerOrder.order.id);
  add(equipment.equipment.id, shared.equipment.id, ticket.ticket.id, client.client.id, endpoint.endpoint.id);
  return {
    label,
    d,
    r,
    c,
    ids,
    emails: [p.d, p.r, p.c, p.v, p.pending],
    secrets: new Set([
      ...names,
      `${p.Word} HQ PBX`,
      `${p.Word} Shared OTEC`,
      `${p.Word} ticket summary`,
      `${p.Word} has no dial tone`,
      `${p.Word} ERP client`,
      `${p.Word} hook`,
    ]),
    locals: new Set(),
    deviceIds: [equipment.deviceId, shared.deviceId],
    tokens: [],
    cursors: [],
  };
}

interface EdgeList {
  readonly edges: { readonly cursor: string; readonly node: { readonly id: string } }[];
}
const onAccount = (selection: string) =>
  `query N($id: ID!) { r: account(id: $id) { __typename ... on QueryAccountSuccess { data { ${selection} } } ${ERR} } }`;

/** The ids only lists show (subscriptions, members, invitations, history, licences, events), and a few cursors. */
async function gatherIds(b: Branch): Promise<void> {
  const p = people(b.label);
  const add = (...globalIds: (string | undefined)[]) => {
    for (const id of globalIds) {
      if (!id) continue;
      const type = decode(id)?.type;
      if (type) b.ids.set(type, [...new Set([...(b.ids.get(type) ?? []), id])]);
    }
  };
  const lists = ["subscriptions", "members", "invitations", "history"];
  for (const [as, account, more] of [
    [p.c, b.c, []],
    [p.d, b.d, ["children"]],
    [p.d, b.r, ["children"]],
  ] as const) {
    const data = await read<{ r: { data: Record<string, EdgeList> } }>(
      as,
      onAccount([...lists, ...more].map((f) => `${f}(first: 3) { edges { cursor node { id } } }`).join(" ")),
      { id: account },
    );
    for (const list of Object.values(data.r.data)) {
      add(...list.edges.map((e) => e.node.id));
      b.cursors.push(...list.edges.slice(0, 1).map((e) => e.cursor));
    }
  }
  const subs = b.ids.get("LicenceSubscription") ?? [];
  for (const id of subs.slice(0, 1)) {
    const data = await read<{ r: { licences?: EdgeList; history?: EdgeList } | null }>(
      p.c,
      `query L($id: ID!) { r: node(id: $id) { ... on LicenceSubscription { history(first: 2) { edges { cursor node { id } } } } } }`,
      { id },
    );
    add(...(data.r?.history?.edges.map((e) => e.node.id) ?? []));
  }
  const events = await read<{ r: EdgeList | null }>(
    p.c,
    `query E($id: ID!) { r: events(accountId: $id, first: 3) { edges { cursor node { id } } } }`,
    { id: b.c },
  );
  add(...(events.r?.edges.map((e) => e.node.id) ?? []));
  b.cursors.push(...(events.r?.edges.slice(0, 1).map((e) => e.cursor) ?? []));
  const comments = await read<{ r: { comments?: EdgeList } | null }>(
    p.c,
    `query C($id: ID!) { r: node(id: $id) { ... on Ticket { comments(first: 2) { edges { node { id } } } } } }`,
    { id: b.ids.get("Ticket")![0]! },
  );
  add(...(comments.r?.comments?.edges.map((e) => e.node.id) ?? []));
  const invoices = await read<{ r: { data: { invoices: EdgeList } } }>(
    p.d,
    onAccount("invoices(first: 3) { edges { cursor node { id } } }"),
    { id: b.d },
  );
  const invoice = invoices.r.data.invoices.edges[0]?.node.id;
  expect(invoice, `an invoice of branch ${b.label}`).toBeDefined();
  const lines = await read<{ r: { lines?: EdgeList } | null }>(
    p.d,
    `query I($id: ID!) { r: node(id: $id) { ... on Invoice { lines(first: 2) { edges { node { id } } } } } }`,
    { id: invoice! },
  );
  add(invoice, ...(lines.r?.lines?.edges.map((e) => e.node.id) ?? []));
  b.tokens.push(await t.invitationToken(p.pending));
  for (const list of b.ids.values()) {
    for (const id of list) {
      const local = decode(id)!.local;
      b.locals.add(local);
      // A scoped or composite local id names its account: the account's local id is the secret.
      b.secrets.add(local.length <= 40 && !local.includes('"') ? local : (decode(b.d)?.local ?? local));
    }
  }
  for (const account of [b.d, b.r, b.c]) b.secrets.add(decode(account)!.local);
  // Long, distinctive strings only: short ones (a key such as "1") could occur anywhere.
  for (const s of [...b.secrets]) if (s.length < 8) b.secrets.delete(s);
}

// ---------------------------------------------------------------- arbitraries

const HOSTILE_STRINGS: readonly string[] = [
  "",
  " ",
  "  \t\n  ",
  "\u0000",
  "a\u0000b",
  "\u0001\u0002\u001b[31m\u007f\u0085",
  "\r\n\r\n",
  "\u202eevil\u202c.exe",
  "\u200b\u200c\u200d\ufeff",
  "\u2066\u2067\u2068\u2069",
  "👩‍👩‍👧‍👦🔥💥",
  "\ud800",
  "x\udfffy",
  "\ufffe\uffff",
  "مرحبا بالعالم",
  "Ǆ̵̡̛̟̻̩̗ͨͩ̈́ͫ͑",
  "<script>alert(1)</script>",
  "' OR '1'='1' --",
  "\u0024{7*7}{{7*7}}#{7*7}",
  "../../../etc/passwd",
  "%00%0a%0d",
  "null",
  "undefined",
  "__proto__",
  "constructor",
  "NaN",
  "-0",
  "1e309",
  "Account:PLATFORM",
  "x".repeat(10_000),
  "é".repeat(3_000),
];
const SHORT_HOSTILE = HOSTILE_STRINGS.filter((s) => s.length <= 64);
const MONEY = [
  "0",
  "0.00",
  "12.50",
  "21",
  "-1",
  "-0.01",
  "NaN",
  "Infinity",
  "1e308",
  "1e-7",
  "0.005",
  "1,5",
  " 3 ",
  "99999999999999999999.99",
  "0x10",
  "3.000000000000000001",
];
const INTS = [-2_147_483_648, -1, 0, 1, 2, 5, 20, 100, 101, 10_000, 2_147_483_647];
/** Values a coercion must refuse (BAD_USER_INPUT), never a resolver. */
const WRONG_TYPED: readonly Json[] = [1.5, "7", 2_147_483_648, true, { a: 1 }, ["x"], -1e21];
const DATES = [
  "2026-11-02T09:00:00.000Z",
  "2026-12-01T00:00:00Z",
  "1970-01-01T00:00:00.000Z",
  "2026-13-45T99:99:99Z",
  "0000-00-00T00:00:00Z",
  "+275760-09-13T00:00:00.000Z",
  "2026-02-30T00:00:00Z",
  "yesterday",
];
const NUMBERS = [
  "+447848311690",
  "+447848311699",
  "+442071838750",
  "+33142685300",
  "+4478483116",
  "0044 7848",
  "+99999999999999999",
];
const NAMES = ["Fuzz Co", "Zürich GmbH", "Café 🎉", "東京株式会社", "שלום בע״מ", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 Ltd"];

/** A few retyped forms of a real id: another type's name over the same local id (type confusion). */
function retyped(globalId: string): string[] {
  const d = decode(globalId);
  if (!d) return [];
  return ["Account", "LicenceSubscription", "Member", "Equipment", "Order", "Invoice", "Ticket"]
    .filter((ty) => ty !== d.type)
    .map((ty) => b64(`${ty}:${d.local}`));
}

function malformedIds(pool: readonly Branch[]): string[] {
  const anyAccount = pool[0] ? decode(pool[0].d)!.local : "01ZZZZZZZZZZZZZZZZZZZZZZZZ";
  return [
    "",
    " ",
    "\u0000",
    "x".repeat(5_000),
    b64(`Account:${"A".repeat(5_000)}`),
    "!!!not base64!!!",
    "====",
    "Zm9v",
    b64("Account:"),
    b64(":abc"),
    b64("Account:\u0000"),
    b64("Account:🔥"),
    b64("Account:../../x"),
    b64(`Account:${anyAccount}\n`),
    b64("LicenceSubscription:nocolon"),
    b64("LicenceSubscription::"),
    b64(`LicenceSubscription:${anyAccount}:`),
    b64("Member:not json"),
    b64('Member:["a"]'),
    b64("Member:[1,2]"),
    b64(`Member:${JSON.stringify(["x".repeat(300), "y@example.com"])}`),
    b64('Member:{"__proto__":{"x":1}}'),
    b64("__proto__:x"),
    b64("Node:1"),
    b64("Query:1"),
    anyAccount,
    "QWNjb3VudDpQTEFURk9STQ",
    "QWNjb3VudDpQTEFURk9STQ==\n",
    PLATFORM,
  ];
}

/** The ids of `pool` of node type `kind` (any type when undefined). */
function idsOf(pool: readonly Branch[], kind: string | undefined): string[] {
  return pool.flatMap((b) => (kind ? (b.ids.get(kind) ?? []) : [...b.ids.values()].flat()));
}

const oneOf = (...options: { weight: number; arbitrary: fc.Arbitrary<Json> | undefined }[]): fc.Arbitrary<Json> =>
  fc.oneof(...options.filter((o): o is { weight: number; arbitrary: fc.Arbitrary<Json> } => o.arbitrary !== undefined));
const from = (values: readonly Json[]): fc.Arbitrary<Json> | undefined =>
  values.length > 0 ? fc.constantFrom(...values) : undefined;

/** Everything generation needs to know of one (field, caller). */
interface Gen {
  readonly key: string;
  readonly caller: Caller;
}

function idArb(gen: Gen, path: string, name: string, mode: Mode): fc.Arbitrary<Json> {
  const kind = KIND_BY_NAME[name] ?? (name === "id" ? ID_KIND_BY_FIELD[gen.key] : undefined);
  const { own, foreign } = gen.caller;
  const noForeign = FOREIGN_BY_DESIGN.has(`${gen.key}:${path}`) && gen.caller.email !== OPERATOR;
  const foreignPool = noForeign ? [] : foreign;
  const wrong = [...idsOf(own, undefined), ...idsOf(foreignPool, undefined)].filter(
    (id) => !kind || decode(id)?.type !== kind,
  );
  return oneOf(
    { weight: mode.calm ? 12 : 6, arbitrary: from(idsOf(own, kind)) },
    { weight: mode.calm ? 2 : 4, arbitrary: from(idsOf(foreignPool, kind)) },
    { weight: 1, arbitrary: from(wrong) },
    { weight: 1, arbitrary: from(idsOf([...own, ...foreignPool], kind).flatMap(retyped)) },
    { weight: mode.calm ? 1 : 2, arbitrary: from(malformedIds([...own, ...foreign])) },
  );
}

/**
 * A string: `valid` values (what a careful client sends), `odd` ones (plausible but wrong), the
 * hostile set and random code points. Calm requests mostly send valid ones; wild ones anything.
 */
function textArb(valid: readonly string[], mode: Mode, odd: readonly string[] = []): fc.Arbitrary<Json> {
  return oneOf(
    { weight: mode.calm ? 30 : 3, arbitrary: from(valid) },
    { weight: mode.calm ? 0 : 2, arbitrary: from(odd) },
    { weight: mode.calm ? 1 : 3, arbitrary: from(mode.short || mode.calm ? SHORT_HOSTILE : HOSTILE_STRINGS) },
    { weight: 1, arbitrary: fc.string({ unit: mode.calm ? "grapheme" : "binary", maxLength: 40 }) },
  );
}

/** A scalar the schema validates (a bad value is a coercion error): mostly plausible, never bad in a list. */
function checkedArb(plausible: readonly string[], bad: readonly string[], mode: Mode): fc.Arbitrary<Json> {
  return mode.clean || mode.calm
    ? fc.constantFrom(...plausible)
    : oneOf({ weight: 10, arbitrary: from(plausible) }, { weight: 1, arbitrary: from(bad) });
}

/** Strings by argument or input-field name: plausible values first (so resolvers run), hostile ones too. */
/** Strings by argument or input-field name: valid values first (so that resolvers run and write), odd and hostile ones too. */
function stringArb(gen: Gen, name: string, mode: Mode): fc.Arbitrary<Json> {
  const { own, foreign } = gen.caller;
  const all = [...own, ...foreign];
  switch (name) {
    case "sku":
    case "skus":
    case "convertsTo":
      return textArb([TRUNK, PBX_SKU, TRUNK_TRIAL, "FUZZ-OFFER-1"], mode, [
        "RC-DRAAS-PBX-TRIAL",
        "C2TU",
        "NO-SUCH-SKU",
      ]);
    case "country":
      return textArb(["GB", "US", "fr"], mode, [" de ", "UK", "GBR"]);
    case "currency":
      return textArb(["USD", "GBP", "EUR"], mode, ["usd", "XXX", "US$"]);
    case "idempotencyKey":
      return oneOf(
        { weight: 6, arbitrary: fc.integer({ min: 1, max: 1_000_000 }).map((n) => `fuzz-${n}`) },
        { weight: 2, arbitrary: from(["fuzz-replayed", "aurora-first", "zephyr-first"]) },
        { weight: mode.calm ? 0 : 2, arbitrary: from(mode.short ? SHORT_HOSTILE : HOSTILE_STRINGS) },
      );
    case "extension":
      return textArb(["201", "202", "9999"], mode, ["0", "123456789", "20 1"]);
    case "companyPrefix":
      return textArb(["8299", "82", "1"], mode, ["123456789", "-1"]);
    case "outboundPrefix":
      return textArb(["0", "9"], mode, ["00000", "+"]);
    case "number":
    case "numbers":
    case "publicNumber":
    case "first":
    case "last":
      return textArb(NUMBERS.slice(0, 4), mode, NUMBERS.slice(4));
    case "serverType":
      return textArb(["OXO_CONNECT", "OTEC_S", "OMNIPCX_OFFICE"], mode, ["oxo_connect", "PBX"]);
    case "day":
      return textArb(["2026-11-01", "2026-10-31"], mode, ["2026-02-30", "2026-1-1", "2100-01-01"]);
    case "unitPrice":
    case "taxRatePercent":
      return textArb(MONEY.slice(0, 4), mode, MONEY.slice(4));
    case "url":
      // Accepted URLs reach the receiver (answers 200): a failing endpoint would change on its own between snapshots.
      return textArb([`${hooks}/fuzz`, `${hooks}/fuzz?q=🎉`], mode, [
        "http://169.254.169.254/latest/meta-data",
        "http://10.0.0.1/x",
        "http://user:pass@127.0.0.1:9/",
        "file:///etc/passwd",
        "javascript:alert(1)",
        "ftp://127.0.0.1/",
      ]);
    case "eventTypes":
    case "types":
      return textArb(["order.placed", "account.created"], mode, ["subscription.updated", "*", "order.*"]);
    case "token":
      return textArb([...all.flatMap((b) => b.tokens), "deadbeef"], mode);
    case "deviceId":
      return textArb([...all.flatMap((b) => b.deviceIds), "PBX0000-0000-0000-0000-0000-0000-0000-0000"], mode);
    case "activationCode":
      return textArb(["00000000", "12345678"], mode, ["1", "1234-5678", "１２３４５６７８"]);
    case "after":
      return textArb([...all.flatMap((b) => b.cursors), "YWJj", "eyJhIjoxfQ"], mode);
    case "query":
    case "search":
      return textArb(["Aurora", "Zephyr", "Fuzz"], mode, ["Z", "%", "*"]);
    case "vatId":
      return textArb(["GB123456789", "DE123456789"], mode, ["XX1", "GB 123"]);
    default:
      // Real names: accents, CJK, right-to-left scripts, emoji and other characters beyond the BMP.
      return textArb(NAMES, mode, ["Fuzz  Ltd.", "a".repeat(121), "-"]);
  }
}

function scalarArb(gen: Gen, typeName: string, name: string, path: string, mode: Mode): fc.Arbitrary<Json> {
  switch (typeName) {
    case "ID":
      return idArb(gen, path, name, mode);
    case "Int":
      return mode.calm
        ? oneOf({ weight: 10, arbitrary: fc.integer({ min: 1, max: 5 }) }, { weight: 1, arbitrary: from(INTS) })
        : oneOf({ weight: 5, arbitrary: from(INTS) }, { weight: 1, arbitrary: fc.integer() });
    case "Float":
      return oneOf(
        { weight: 3, arbitrary: from([0, -1, 1.5, 1e308, -1e308, 5e-324]) },
        { weight: 1, arbitrary: fc.double({ noNaN: true, noDefaultInfinity: true }) },
      );
    case "Boolean":
      return fc.boolean();
    case "DateTime":
      return checkedArb(DATES.slice(0, 3), [...DATES.slice(3), ...SHORT_HOSTILE], mode);
    case "EmailAddress": {
      const all = [...gen.caller.own, ...gen.caller.foreign];
      return checkedArb(
        [...all.flatMap((b) => b.emails), "newcomer@fuzz.example", "OWNER@AURORA-DISTRIBUTION.EXAMPLE"],
        ["a@b", `x@${"y".repeat(300)}.example`, "a b@c.example", "\u0000@x.example", ...SHORT_HOSTILE],
        mode,
      );
    }
    default:
      return stringArb(gen, name, mode);
  }
}

/** How hostile a position may be: lists' items are short and never break coercion (or 200 items always would). */
interface Mode {
  readonly short: boolean;
  readonly clean: boolean;
  /** Half the requests: plausible values almost everywhere, so that they pass validation and write. */
  readonly calm: boolean;
}

/**
 * The arbitrary of one input position. `undefined` means "left out". Non-null positions rarely get
 * null or a value of the wrong type (a coercion error); nullable ones are often left out or null.
 */
function inputArb(
  gen: Gen,
  type: GraphQLInputType,
  name: string,
  path: string,
  mode: Mode,
  depth = 0,
): fc.Arbitrary<Json | undefined> {
  if (isNonNullType(type)) {
    const inner = valueArb(gen, type.ofType, name, path, mode, depth);
    if (mode.clean || mode.calm) return inner;
    return fc.oneof(
      { weight: 80, arbitrary: inner },
      { weight: 1, arbitrary: fc.constant(null) },
      { weight: 1, arbitrary: fc.constantFrom(...WRONG_TYPED) },
    );
  }
  return fc.oneof(
    { weight: 5, arbitrary: valueArb(gen, type, name, path, mode, depth) },
    { weight: mode.calm ? 5 : 2, arbitrary: fc.constant(undefined) },
    { weight: mode.calm ? 0 : 1, arbitrary: fc.constant(null) },
  );
}

function valueArb(
  gen: Gen,
  type: GraphQLInputType,
  name: string,
  path: string,
  mode: Mode,
  depth: number,
): fc.Arbitrary<Json> {
  if (isNonNullType(type)) throw new Error(`${gen.key}: doubly non-null at ${path}`);
  if (isListType(type)) {
    const item = (m: Mode) =>
      inputArb(gen, type.ofType, name, `${path}[]`, m, depth + 1).map((v): Json => (v === undefined ? null : v));
    const few = item({ ...mode, clean: true });
    const many = item({ ...mode, short: true, clean: true });
    return fc.oneof(
      { weight: mode.calm ? 1 : 2, arbitrary: fc.constant<Json>([]) },
      { weight: mode.calm ? 6 : 4, arbitrary: item(mode).map((v): Json => [v]) },
      { weight: mode.calm ? 1 : 2, arbitrary: fc.array(few, { minLength: 2, maxLength: 4 }) },
      { weight: mode.calm ? 0 : 1, arbitrary: fc.array(many, { minLength: 200, maxLength: 200 }) },
    );
  }
  if (isInputObjectType(type)) {
    if (depth > 4) return fc.constant<Json>({});
    const parts = Object.values(type.getFields()).map((f) =>
      inputArb(gen, f.type, f.name, `${path}.${f.name}`, mode, depth + 1).map((v) => [f.name, v] as const),
    );
    return fc.tuple(...parts).map((entries): Json => {
      const obj: Record<string, Json> = {};
      for (const [k, v] of entries) if (v !== undefined) obj[k] = v;
      return obj;
    });
  }
  if (isEnumType(type)) {
    const values = type.getValues().map((v) => v.name);
    return mode.clean || mode.calm
      ? fc.constantFrom(...values)
      : oneOf({ weight: 40, arbitrary: from(values) }, { weight: 1, arbitrary: fc.constant("NOT_A_VALUE") });
  }
  if (isScalarType(type)) return scalarArb(gen, type.name, name, path, mode);
  throw new Error(`${gen.key}: unexpected input type at ${path}`);
}

/** The variables of one request: calm (plausible, so that writes happen) or wild, half and half. */
function argsArb(gen: Gen, field: GraphQLField<unknown, unknown>): fc.Arbitrary<Vars> {
  const of = (calm: boolean) =>
    fc
      .tuple(
        ...field.args.map((a) =>
          inputArb(gen, a.type, a.name, a.name, { short: false, clean: false, calm }).map((v) => [a.name, v] as const),
        ),
      )
      .map((entries) => {
        const vars: Vars = {};
        for (const [k, v] of entries) if (v !== undefined) vars[k] = v;
        return vars;
      });
  return fc.oneof(of(true), of(false));
}

/** A 32-bit hash of a string: each (field, caller) gets its own stream of the one seed. */
function hash(s: string): number {
  let h = 2_166_136_261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16_777_619);
  return h | 0;
}

// ---------------------------------------------------------------- selections

/** Leaves to `depth` levels of objects, skipping fields with arguments (nested lists) below the root. */
const selection = (type: GraphQLOutputType, depth: number) => select(schema, type, depth, (f) => f.args.length > 0);

function document(root: "Query" | "Mutation", field: GraphQLField<unknown, unknown>, vars: Vars): string {
  const given = field.args.filter((a) => a.name in vars);
  const defs = given.map((a) => `$${a.name}: ${String(a.type)}`);
  const call = given.map((a) => `${a.name}: $${a.name}`);
  const depth = field.name === "node" ? 1 : 3;
  return `${root === "Query" ? "query" : "mutation"} Fuzz${defs.length ? `(${defs.join(", ")})` : ""} { r: ${field.name}${call.length ? `(${call.join(", ")})` : ""} { ${selection(field.type, depth)} } }`.replace(
    /\{\s+\}/g,
    "",
  );
}

// ---------------------------------------------------------------- the oracle

/** Every string sent, and the decoded forms of the global ids among them. */
function sentStrings(vars: Json): string[] {
  const out: string[] = [];
  const walk = (v: Json) => {
    if (typeof v === "string") {
      out.push(v.toLowerCase());
      const d = decode(v);
      if (d) out.push(d.local.toLowerCase(), `${d.type}:${d.local}`.toLowerCase());
    } else if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === "object") Object.values(v).forEach(walk);
  };
  walk(vars);
  return out;
}

/** Whether `vars` name an object of `branch` (a global id whose local part holds one of its local ids, or a device id). */
function namesBranch(vars: Vars, branch: Branch): boolean {
  const locals = [...branch.locals].filter((l) => l.length >= 8);
  return sentStrings(vars).some(
    (s) => locals.some((l) => s.includes(l.toLowerCase())) || branch.deviceIds.some((d) => s === d.toLowerCase()),
  );
}

/** Whether the root field answered with data (a Success member, a node, a list) rather than a refusal. */
function succeeded(res: Answer): boolean {
  const r = res.body?.data?.r;
  if (r === null || r === undefined) return false;
  if (Array.isArray(r)) return r.length > 0;
  const typename = (r as { __typename?: unknown }).__typename;
  if (typeof typename === "string" && typename in TYPED_ERRORS) return false;
  const edges = (r as { edges?: unknown }).edges;
  if (Array.isArray(edges)) return edges.length > 0;
  return true;
}

/** Fields whose success with another branch's reference is the design (see FOREIGN_BY_DESIGN; PBX entry points). */
const FOREIGN_SUCCESS_OK = new Set(["Mutation.activateEquipment", "Mutation.acceptInvitation"]);

/** Every broken property of one response (empty when it is fine). */
function check(req: Pick<Probe, "key" | "caller" | "variables">, res: Answer): string[] {
  const problems: string[] = [];
  if (res.status >= 500) problems.push(`HTTP ${res.status}`);
  if (!res.body || typeof res.body !== "object") {
    problems.push(`not a JSON object: ${res.text.slice(0, 200)}`);
    return problems;
  }
  for (const e of res.body.errors ?? []) {
    const code = e.extensions?.code;
    const message = typeof e.message === "string" ? e.message : "";
    if (code === "INTERNAL_SERVER_ERROR" || /unexpected error/i.test(message))
      problems.push(`internal error (${String(code)}): ${message}`);
    else if (typeof code !== "string") problems.push(`error without a code: ${message}`);
    else if (!ALLOWED_CODES.has(code)) problems.push(`error code ${code}: ${message}`);
  }
  const r = res.body.data?.r;
  if (r && typeof r === "object" && !Array.isArray(r)) {
    const v = r as { __typename?: unknown; code?: unknown };
    const typename = typeof v.__typename === "string" ? v.__typename : "";
    const expected = TYPED_ERRORS[typename];
    if (expected !== undefined && v.code !== expected) problems.push(`${typename} with code ${String(v.code)}`);
    if ("code" in v && expected === undefined) problems.push(`unknown typed error ${typename}`);
  }
  const sent = sentStrings(req.variables);
  const text = res.text.toLowerCase();
  for (const branch of req.caller.foreign) {
    const seen = [...branch.secrets].filter(
      (s) => text.includes(s.toLowerCase()) && !sent.some((x) => x.includes(s.toLowerCase())),
    );
    if (seen.length > 0) problems.push(`branch ${branch.label} data in the answer: ${seen.join(", ")}`);
    if (succeeded(res) && !FOREIGN_SUCCESS_OK.has(req.key) && namesBranch(req.variables, branch))
      problems.push(`success for a request naming branch ${branch.label}`);
  }
  return problems;
}

// ---------------------------------------------------------------- the run

type RootName = "Query" | "Mutation";
const ROOTS: readonly RootName[] = ["Query", "Mutation"];
const fieldsOf = (root: RootName) =>
  Object.values((root === "Query" ? schema.getQueryType() : schema.getMutationType())!.getFields());

function requests(callers: readonly Caller[], runs: (c: Caller) => number): Probe[] {
  const out: Probe[] = [];
  const destructive: Probe[] = [];
  for (const root of ROOTS)
    for (const field of fieldsOf(root)) {
      const key = `${root}.${field.name}`;
      for (const caller of callers) {
        const gen: Gen = { key, caller };
        const arb = argsArb(gen, field);
        const samples = fc.sample(arb, { seed: hash(`${SEED}:${key}:${caller.label}`), numRuns: runs(caller) });
        for (const variables of samples) {
          const req = { key, root, field, caller, query: document(root, field, variables), variables };
          (root === "Mutation" && DESTRUCTIVE.has(field.name) ? destructive : out).push(req);
        }
      }
    }
  return [...out, ...destructive];
}

interface Stats {
  sent: number;
  /** Per field: requests whose root resolver ran (a typed result, data, or an error on the field). */
  readonly reached: Map<string, number>;
  /** Per caller label: answers holding data of the caller's own branch (the leak scan sees data). */
  readonly ownData: Map<string, number>;
  readonly codes: Map<string, number>;
}
const stats: Stats = { sent: 0, reached: new Map(), ownData: new Map(), codes: new Map() };
const violations: Violation[] = [];

function reachedResolver(res: Answer): boolean {
  const data = res.body?.data;
  if (data && data.r !== undefined && data.r !== null) return true;
  return (res.body?.errors ?? []).some((e) => e.path?.[0] === "r");
}

const clip = (s: string, n = 600) => (s.length > n ? `${s.slice(0, n)}… (${s.length} chars)` : s);
const showVars = (v: Vars) =>
  clip(
    JSON.stringify(v, (_k, x: unknown) =>
      typeof x === "string" && x.length > 80 ? `<${x.length} chars: ${JSON.stringify(x.slice(0, 20))}…>` : x,
    ),
    1_200,
  );

async function runPhase(reqs: readonly Probe[]): Promise<void> {
  await pool(reqs, CONCURRENCY, async (req) => {
    const res = await send(req.caller.email, req.query, req.variables);
    stats.sent++;
    if (reachedResolver(res)) stats.reached.set(req.key, (stats.reached.get(req.key) ?? 0) + 1);
    if (DUMP)
      appendFileSync(
        DUMP,
        `${JSON.stringify({ key: req.key, caller: req.caller.label, vars: req.variables, text: res.text })}\n`,
      );
    for (const e of res.body?.errors ?? []) {
      const c = `${String(e.extensions?.code)}`;
      stats.codes.set(c, (stats.codes.get(c) ?? 0) + 1);
    }
    const text = res.text.toLowerCase();
    if (req.caller.own.length === 1 && [...req.caller.own[0]!.secrets].some((s) => text.includes(s.toLowerCase())))
      stats.ownData.set(req.caller.label, (stats.ownData.get(req.caller.label) ?? 0) + 1);
    for (const problem of check(req, res))
      violations.push({
        key: req.key,
        caller: req.caller.label,
        problem,
        variables: showVars(req.variables),
        response: clip(res.text),
      });
  });
}

/**
 * The violations, one example per (field, problem) with how often it occurred, and every distinct
 * internal error the server logged (its name and frames: the server never logs variables).
 */
function report(): string {
  const groups = new Map<string, { first: Violation; count: number; callers: Set<string> }>();
  for (const v of violations) {
    const key = `${v.key}: ${v.problem.replace(/: .*$/s, "")}`;
    const g = groups.get(key) ?? { first: v, count: 0, callers: new Set<string>() };
    g.count++;
    g.callers.add(v.caller);
    groups.set(key, g);
  }
  const examples = [...groups.entries()].map(
    ([key, g]) =>
      `${key} (${g.count}x; ${[...g.callers].join(", ")})\n  e.g. as ${g.first.caller}: ${g.first.problem}\n  variables: ${g.first.variables}\n  answer: ${g.first.response}`,
  );
  // Input errors without an original error are logged too (errorName "undefined"): counted, not listed.
  const internal = serverErrors.filter((f) => f.errorName !== "undefined");
  const logged = [...new Set(internal.map((f) => `${String(f.errorName)}\n${String(f.frames)}`))];
  return `${violations.length} violations (seed ${SEED}, ${RUNS} runs):\n${examples.join("\n")}\n\nserver-side unexpected errors (${internal.length}, plus ${serverErrors.length - internal.length} logged for input errors):\n${logged.join("\n\n")}`;
}

// ---------------------------------------------------------------- foreign snapshots

/** What a branch's owner reads of each of its accounts (activation bookkeeping of a PBX left out: anyone may try a code). */
function snapshotQuery(): string {
  const account = schema.getType("Account") as GraphQLObjectType;
  const leaves = (typeName: string, skip: readonly string[] = []) => {
    const type = schema.getType(typeName) as GraphQLObjectType;
    return Object.values(type.getFields())
      .filter((f) => f.args.length === 0 && isLeafType(getNamedType(f.type)) && !skip.includes(f.name))
      .map((f) => f.name)
      .join(" ");
  };
  const lists: Record<string, string> = {
    children: leaves("Account"),
    members: leaves("Member"),
    invitations: leaves("Invitation"),
    // daysRemaining is derived from endsAt and the clock, which runs on.
    subscriptions: leaves("LicenceSubscription", ["daysRemaining"]),
    orders: leaves("Order"),
    equipment: leaves("Equipment", ["locked", "lastActivationFailure", "updatedAt"]),
    tickets: leaves("Ticket"),
    apiClients: leaves("ApiClient"),
    webhookEndpoints: leaves("WebhookEndpoint"),
    numbers: leaves("PhoneNumber"),
    history: leaves("AuditEvent"),
  };
  const present = Object.entries(lists).filter(([name]) => account.getFields()[name]);
  return onAccount(
    `${leaves("Account")} ${present.map(([name, sel]) => `${name}(first: 100) { edges { node { ${sel} } } }`).join(" ")}`,
  );
}

/**
 * History entries anyone may cause on another account, by design: an activation attempt on a PBX
 * (an unauthenticated entry point) is recorded for the PBX's admins, naming no one (actor "public",
 * core/equipment/activation.ts; test/equipment-security.test.ts checks it).
 */
const BY_DESIGN_ACTIONS = new Set(["equipment.activationAttempted"]);

/** `value` without the history edges of BY_DESIGN_ACTIONS. */
function withoutByDesign(value: unknown): unknown {
  if (Array.isArray(value))
    return value
      .filter((e) => !BY_DESIGN_ACTIONS.has(String((e as { node?: { action?: unknown } } | null)?.node?.action)))
      .map(withoutByDesign);
  if (value && typeof value === "object")
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, withoutByDesign(v)]));
  return value;
}

async function snapshotOf(b: Branch): Promise<unknown[]> {
  await t.stack.events.drain();
  const query = snapshotQuery();
  const out: unknown[] = [];
  const p = people(b.label);
  for (const [as, id] of [
    [p.d, b.d],
    [p.r, b.r],
    [p.c, b.c],
  ] as const) {
    // A list the reader may not see (a customer's children) answers the same refusal before and after.
    const res = await t.gql(as, query, { id });
    out.push({
      data: withoutByDesign(res.data),
      refused: res.errors?.map((e) => [e.path?.join("."), e.extensions?.code]) ?? [],
    });
  }
  return out;
}

// ---------------------------------------------------------------- setup

type Callers = Record<"dA" | "cB" | "vA" | "operator" | "anonymous", Caller>;
let callers: Callers;

beforeAll(async () => {
  await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
  hooks = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
  t = await startTestStack({ telemetry, webhookTimeoutMs: 1_000, webhookRetrySchedule: [1] });
  // October: the world; November: October's invoices; then the fuzz, a fortnight later.
  await t.setClock(OCTOBER);
  const [a, b] = await Promise.all([buildBranch("A"), buildBranch("B")]);
  await t.setClock(BILLING_DAY);
  await t.runJob("billing", "2026-10");
  await t.setClock(NOW);
  await t.stack.events.drain();
  await Promise.all([gatherIds(a), gatherIds(b)]);
  // Real names carry characters beyond the BMP (emoji): given once the owners have joined, so that
  // every later mail naming these accounts carries them.
  for (const branch of [a, b])
    for (const [as, id, name] of [
      [people(branch.label).d, branch.d, `${people(branch.label).Word} Distribution 🌍`],
      [people(branch.label).r, branch.r, `${people(branch.label).Word} Reseller 東京 🎉`],
    ] as const)
      await mutateOk(as, "updateAccount", "UpdateAccountInput", { id, name }, "account { id }");
  branches.A = a;
  branches.B = b;
  callers = {
    dA: { label: "dA (distributor owner, branch A)", email: people("A").d, own: [a], foreign: [b] },
    cB: { label: "cB (customer owner, branch B)", email: people("B").c, own: [b], foreign: [a] },
    vA: { label: "vA (customer VIEWER, branch A)", email: people("A").v, own: [a], foreign: [b] },
    operator: { label: "operator", email: OPERATOR, own: [a, b], foreign: [] },
    anonymous: { label: "anonymous", email: null, own: [], foreign: [a, b] },
  };
}, 60_000);

afterAll(async () => {
  await t?.stop();
  await new Promise((resolve) => receiver.close(resolve));
});

// ---------------------------------------------------------------- tests

describe("the oracle", () => {
  it("flags 5xx, internal errors, unknown codes, foreign data and foreign successes", () => {
    const foreign: Branch = {
      label: "B",
      d: b64("Account:01FOREIGNFOREIGNFOREIGNFOR"),
      r: "",
      c: "",
      ids: new Map(),
      emails: [],
      secrets: new Set(["Zephyr Customer", "01FOREIGNFOREIGNFOREIGNFOR"]),
      locals: new Set(["01FOREIGNFOREIGNFOREIGNFOR"]),
      deviceIds: [],
      tokens: [],
      cursors: [],
    };
    const caller: Caller = { label: "probe", email: "probe@example.com", own: [], foreign: [foreign] };
    const req = { key: "Query.account", caller, variables: { id: b64("Account:01OWNOWNOWNOWNOWNOWNOWNOWN") } };
    const answer = (status: number, body: unknown): Answer => ({
      status,
      text: JSON.stringify(body),
      body: body as Answer["body"],
    });
    expect(check(req, answer(200, { data: { r: { __typename: "NotFoundError", code: "NOT_FOUND" } } }))).toEqual([]);
    expect(check(req, answer(500, { errors: [{ message: "x", extensions: { code: "NOT_FOUND" } }] }))).toEqual([
      "HTTP 500",
    ]);
    expect(
      check(
        req,
        answer(200, { errors: [{ message: "Unexpected error.", extensions: { code: "INTERNAL_SERVER_ERROR" } }] }),
      ),
    ).toEqual(["internal error (INTERNAL_SERVER_ERROR): Unexpected error."]);
    expect(check(req, answer(200, { errors: [{ message: "boom" }] }))).toEqual(["error without a code: boom"]);
    expect(check(req, answer(200, { errors: [{ message: "x", extensions: { code: "THROTTLED" } }] }))).toEqual([
      "error code THROTTLED: x",
    ]);
    expect(check(req, answer(200, { data: { r: { __typename: "NotFoundError", code: "FORBIDDEN" } } }))).toHaveLength(
      1,
    );
    expect(
      check(
        req,
        answer(200, { data: { r: { __typename: "QueryAccountSuccess", data: { name: "Zephyr Customer" } } } }),
      ),
    ).toEqual(["branch B data in the answer: Zephyr Customer"]);
    const foreignReq = { ...req, variables: { id: foreign.d } };
    expect(
      check(foreignReq, answer(200, { data: { r: { __typename: "QueryAccountSuccess", data: { id: foreign.d } } } })),
    ).toEqual(["success for a request naming branch B"]);
    expect(check(foreignReq, answer(200, { data: { r: null } }))).toEqual([]);
    expect(check(req, { status: 502, text: "Bad Gateway", body: null })).toHaveLength(2);
  });
});

describe("schema fuzz", () => {
  it("every field, every caller: typed answers only, nothing of the other branch, the other branch unchanged", async () => {
    const started = performance.now();
    // Phase 1: branch A's callers and the anonymous one; branch B must read the same afterwards.
    const bBefore = await snapshotOf(branches.B!);
    const phase1 = requests([callers.dA, callers.vA, callers.anonymous], (c) =>
      c === callers.dA ? RUNS : Math.ceil(RUNS / (c.email ? 2 : 3)),
    );
    await runPhase(phase1);
    const bAfter = await snapshotOf(branches.B!);
    // Phase 2: branch B's customer owner; branch A must read the same afterwards.
    const aBefore = await snapshotOf(branches.A!);
    const phase2 = requests([callers.cB], () => RUNS);
    await runPhase(phase2);
    const aAfter = await snapshotOf(branches.A!);
    // Phase 3: the operator, who may change anything.
    const phase3 = requests([callers.operator], () => RUNS);
    await runPhase(phase3);

    const fields = ROOTS.flatMap((root) => fieldsOf(root).map((f) => `${root}.${f.name}`));
    const neverReached = fields.filter((f) => !stats.reached.get(f));
    console.info(
      `schema fuzz: ${stats.sent} requests, ${fields.length} fields, ${Math.round(performance.now() - started)} ms; codes ${JSON.stringify(Object.fromEntries(stats.codes))}`,
    );
    expect(violations.length, report()).toBe(0);
    expect(bAfter, "branch B changed while branch A's callers fuzzed").toEqual(bBefore);
    expect(aAfter, "branch A changed while branch B's caller fuzzed").toEqual(aBefore);
    // The generator reaches the resolvers of every field, and the leak scan sees data when there is some.
    expect(neverReached, "fields whose resolver no request reached").toEqual([]);
    expect(stats.ownData.get(callers.dA.label) ?? 0).toBeGreaterThan(0);
    expect(stats.ownData.get(callers.cB.label) ?? 0).toBeGreaterThan(0);
  }, 120_000);
});
