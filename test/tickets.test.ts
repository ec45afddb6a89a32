/**
 * Support tickets (Circuit: "Report Issue to Partner", the partner support portal), over HTTP:
 * any member of a customer opens a ticket to its partner; the partner's writers (and those above
 * it) comment, move it through OPEN → IN_PROGRESS → WAITING_ON_CUSTOMER → RESOLVED → CLOSED and
 * escalate it to the vendor, which numbers it NA00000001, …; the opener is mailed on each state
 * change; a partner raises a ticket on a customer's behalf; a deleted customer's tickets stay with
 * the partner, anonymised.
 *
 *   Platform (operator)
 *   ├── Distributor D (owner d, seller)
 *   │   └── Reseller R (owner r, seller; VIEWER rv; partner admin pa, VIEWER on R)
 *   │       ├── Customer C1 (owner c1, VIEWER cv; opted in)
 *   │       ├── Customer C2 (owner c2)
 *   │       └── Customer C3 (owner c3): deleted at the end
 *   └── Distributor E (owner e): sees nothing of D's tree
 *
 * Every refusal is a typed error and writes nothing (the whole table is compared before and after).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OPERATOR, PLATFORM, expectError, expectForbidden, expectInvalid, ok, startTestStack } from "./harness.js";
import type { Result, TestStack } from "./harness.js";

// After the platform's creation (the stack's real clock): the daily run reads due days from then on.
const START = "2027-03-01T09:00:00.000Z";
/** START plus `h` hours, as ISO. */
const hoursIn = (h: number) => new Date(Date.parse(START) + h * 3_600_000).toISOString();
/** An instant within the minute of `iso` (the stack's clock runs on from where a test sets it). */
const around = (iso: string) => expect.stringMatching(new RegExp(`^${iso.slice(0, 16)}`));
const DAY = 86_400_000;
const D = "owner@tickets-d.example";
const R = "owner@tickets-r.example";
const RV = "viewer@tickets-r.example";
const PA = "pa@tickets-r.example";
const C1 = "owner@tickets-c1.example";
const CV = "viewer@tickets-c1.example";
const C2 = "owner@tickets-c2.example";
const C3 = "owner@tickets-c3.example";
const E = "owner@tickets-e.example";

const ids = { d: "", r: "", c1: "", c2: "", c3: "", e: "" };
let t: TestStack;

interface TicketView {
  readonly id: string;
  readonly state: string;
  readonly severity: number;
  readonly summary: string;
  readonly customerId: string;
  readonly customerName: string;
  readonly partnerId: string;
  readonly openedBy: string;
  readonly openedOnBehalf: boolean;
  readonly reportedAt: string;
  readonly firstResponseAt: string | null;
  readonly resolvedAt: string | null;
  readonly closedAt: string | null;
  readonly vendorTicketNumber: string | null;
  readonly commentCount: number;
  readonly comments: { edges: { node: { side: string; author: string; body: string } }[] };
}
const TICKET =
  "id state severity summary customerId customerName partnerId openedBy openedOnBehalf reportedAt firstResponseAt resolvedAt closedAt vendorTicketNumber commentCount comments(first: 50) { edges { node { side author body } } }";

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

const report = {
  summary: "No dial tone on reception phones",
  description: "Since this morning the phones at reception have no dial tone.\nOther floors work.",
  occurredAt: "2027-03-01T08:30:00.000Z",
  severity: 2,
  service: "Rainbow Hub Telephony",
};
const open = (as: string, accountId: string, input: Record<string, unknown> = {}) =>
  t.mutate<{ ticket: TicketView }>(
    as,
    "openTicket",
    "OpenTicketInput",
    { accountId, ...report, ...input },
    `ticket { ${TICKET} }`,
  );
const comment = (as: string, ticketId: string, body: string) =>
  t.mutate<{ ticket: TicketView; comment: { side: string } }>(
    as,
    "commentTicket",
    "CommentTicketInput",
    { ticketId, body },
    `ticket { ${TICKET} } comment { side }`,
  );
const move = (as: string, ticketId: string, state: string) =>
  t.mutate<{ ticket: TicketView }>(
    as,
    "setTicketState",
    "SetTicketStateInput",
    { ticketId, state },
    `ticket { ${TICKET} }`,
  );
const escalate = (as: string, ticketId: string) =>
  t.mutate<{ ticket: TicketView }>(as, "escalateTicket", "EscalateTicketInput", { ticketId }, `ticket { ${TICKET} }`);
const ticket = async (as: string, id: string): Promise<Result<TicketView>> =>
  (
    await t.read<{ r: Result<TicketView> }>(
      as,
      `query T($id: ID!) { r: ticket(id: $id) { __typename ... on QueryTicketSuccess { data { ${TICKET} } } ... on Error { __typename code message } } }`,
      { id },
    )
  ).r;
const tickets = async (as: string, accountId: string, state?: string) =>
  ok<{ tickets: { edges: { node: TicketView }[] } }>(
    await t.account(
      as,
      accountId,
      `tickets(first: 50${state ? `, state: ${state}` : ""}) { edges { node { ${TICKET} } } }`,
    ),
  ).tickets.edges.map((e) => e.node);
const mailsTo = async (email: string) => (await t.outbox()).filter((m) => m.to === email);

beforeAll(async () => {
  t = await startTestStack();
  await t.setClock(START);
  ids.d = await mk(OPERATOR, {
    parentId: PLATFORM,
    kind: "DISTRIBUTOR",
    name: "Tickets D",
    currency: "USD",
    owner: { email: D },
  });
  ids.e = await mk(OPERATOR, {
    parentId: PLATFORM,
    kind: "DISTRIBUTOR",
    name: "Tickets E",
    currency: "USD",
    owner: { email: E },
  });
  await t.accept(D);
  await t.accept(E);
  ids.r = await mk(D, {
    parentId: ids.d,
    kind: "RESELLER",
    name: "Tickets R",
    owner: { email: R },
    canCreateAccounts: true,
  });
  await t.accept(R);
  await invite(R, ids.r, RV, "VIEWER");
  await invite(R, ids.r, PA, "VIEWER");
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
  ids.c1 = await mk(R, { parentId: ids.r, kind: "CUSTOMER", name: "Tickets C1", owner: { email: C1 } });
  await t.accept(C1);
  await invite(C1, ids.c1, CV, "VIEWER");
  await t.mutateOk(
    C1,
    "setPartnerAdminOptIn",
    "SetPartnerAdminOptInInput",
    { accountId: ids.c1, optIn: true },
    "account { id }",
  );
  ids.c2 = await mk(R, { parentId: ids.r, kind: "CUSTOMER", name: "Tickets C2", owner: { email: C2 } });
  await t.accept(C2);
  ids.c3 = await mk(R, { parentId: ids.r, kind: "CUSTOMER", name: "Tickets C3", owner: { email: C3 } });
  await t.accept(C3);
});

afterAll(async () => {
  await t?.stop();
});

describe("openTicket: any member of a customer reports to its partner", () => {
  let id = "";

  it("a VIEWER of the customer opens a ticket: OPEN, addressed to the customer's parent, in both accounts' lists", async () => {
    const opened = ok<{ ticket: TicketView }>(await open(CV, ids.c1)).ticket;
    id = opened.id;
    expect(opened).toMatchObject({
      state: "OPEN",
      severity: 2,
      summary: report.summary,
      customerId: ids.c1,
      customerName: "Tickets C1",
      partnerId: ids.r,
      openedBy: `user:${CV}`,
      openedOnBehalf: false,
      reportedAt: around(START),
      firstResponseAt: null,
      vendorTicketNumber: null,
      commentCount: 0,
    });
    expect((await tickets(C1, ids.c1)).map((x) => x.id)).toEqual([id]);
    expect((await tickets(R, ids.r)).map((x) => x.id)).toEqual([id]);
    // The distributor above sees its reseller's tickets through the reseller, and each ticket by id.
    expect((await tickets(D, ids.r)).map((x) => x.id)).toEqual([id]);
    expect(ok<TicketView>(await ticket(D, id)).summary).toBe(report.summary);
    expect(ok<TicketView>(await ticket(RV, id)).state).toBe("OPEN");
    // A Node: fetched again by node(id).
    const node = await t.read<{ node: { summary: string } | null }>(
      CV,
      `query N($id: ID!) { node(id: $id) { ... on Ticket { summary } } }`,
      { id },
    );
    expect(node.node).toEqual({ summary: report.summary });
  });

  it("is invisible outside: another customer of the same partner, another distributor, get NotFound as for an unknown id", async () => {
    const unknown = await ticket(C2, Buffer.from(`Ticket:${ids.r}:01J0000000000000000000000`).toString("base64"));
    expectError(unknown, "NotFoundError", "Ticket not found");
    for (const as of [C2, E]) {
      expectError(await ticket(as, id), "NotFoundError", "Ticket not found");
      await t.nothingWritten(async () => {
        expectError(await comment(as, id, "hello"), "NotFoundError", "Ticket not found");
        expectError(await move(as, id, "CLOSED"), "NotFoundError", "Ticket not found");
        expectError(await escalate(as, id), "NotFoundError", "Ticket not found");
      });
    }
    await t.nothingWritten(async () => {
      expectError(await open(E, ids.c1), "NotFoundError");
    });
    expect(
      ok<{ tickets: { edges: unknown[] } }>(await t.account(C2, ids.c2, "tickets(first: 5) { edges { cursor } }"))
        .tickets.edges,
    ).toEqual([]);
  });

  it("refuses bad input with a typed error on the field, writing nothing", async () => {
    await t.nothingWritten(async () => {
      expectInvalid(await open(C1, ids.c1, { severity: 0 }), ["severity"]);
      expectInvalid(await open(C1, ids.c1, { severity: 6 }), ["severity"]);
      expectInvalid(await open(C1, ids.c1, { summary: "   " }), ["summary"]);
      expectInvalid(await open(C1, ids.c1, { service: "" }), ["service"]);
      expectInvalid(await open(C1, ids.c1, { description: "" }), ["description"]);
      expectInvalid(await open(C1, ids.c1, { description: "x".repeat(5001) }), ["description"]);
      expectInvalid(await open(C1, ids.c1, { description: "bell\u0007" }), ["description", "0"]);
      expectInvalid(await open(C1, ids.c1, { summary: "evil\u202Etxt" }), ["summary"]);
      expectInvalid(
        await open(C1, ids.c1, { occurredAt: new Date(Date.parse(START) + DAY).toISOString() }),
        ["occurredAt"],
        "must not be in the future",
      );
      // A ticket goes from a customer to its partner: a partner account opens none (Forbidden, saying why).
      expectForbidden(await open(R, ids.r), "NOT_APPLICABLE");
      expectForbidden(await open(D, ids.d), "NOT_APPLICABLE");
    });
  });
});

describe("the partner handles it; the opener hears of each state change", () => {
  let id = "";

  beforeAll(async () => {
    id = ok<{ ticket: TicketView }>(await open(CV, ids.c1, { summary: "Calls drop after 30 seconds" })).ticket.id;
  });

  it("a partner VIEWER reads but does not take part; the customer's side does not run the ticket", async () => {
    await t.nothingWritten(async () => {
      expectForbidden(await comment(RV, id, "looking"), "ROLE");
      expectForbidden(await move(RV, id, "IN_PROGRESS"), "ROLE");
      expectForbidden(await escalate(RV, id), "ROLE");
      expectForbidden(await move(CV, id, "RESOLVED"), "ROLE");
      expectForbidden(await escalate(C1, id), "ROLE");
    });
  });

  it("the partner's first comment is its first response; waiting on the customer, the customer's comment puts it back in progress", async () => {
    await t.setClock(hoursIn(1));
    const first = ok<{ ticket: TicketView; comment: { side: string } }>(
      await comment(R, id, "We are looking into it."),
    );
    expect(first.comment.side).toBe("PARTNER");
    expect(first.ticket).toMatchObject({ state: "OPEN", firstResponseAt: around(hoursIn(1)), commentCount: 1 });

    const mailsBefore = (await mailsTo(CV)).length;
    await t.setClock(hoursIn(2));
    expect(ok<{ ticket: TicketView }>(await move(R, id, "WAITING_ON_CUSTOMER")).ticket).toMatchObject({
      state: "WAITING_ON_CUSTOMER",
      firstResponseAt: around(hoursIn(1)),
    });
    const answered = ok<{ ticket: TicketView; comment: { side: string } }>(
      await comment(CV, id, "It happens on every call to mobiles."),
    );
    expect(answered.comment.side).toBe("CUSTOMER");
    expect(answered.ticket.state).toBe("IN_PROGRESS");
    const mails = (await mailsTo(CV)).slice(mailsBefore);
    expect(mails.map((m) => m.subject)).toEqual([
      'Your ticket "Calls drop after 30 seconds" is waiting on you',
      'Your ticket "Calls drop after 30 seconds" is in progress',
    ]);
  });

  it("the partner resolves it; the customer closes it; nothing is added to a closed ticket", async () => {
    await t.setClock(hoursIn(24));
    expect(ok<{ ticket: TicketView }>(await move(R, id, "RESOLVED")).ticket).toMatchObject({
      state: "RESOLVED",
      resolvedAt: around(hoursIn(24)),
    });
    expect(ok<{ ticket: TicketView }>(await move(CV, id, "CLOSED")).ticket).toMatchObject({
      state: "CLOSED",
      closedAt: around(hoursIn(24)),
    });
    await t.nothingWritten(async () => {
      expectError(await comment(R, id, "one more thing"), "ConflictError");
      expectInvalid(await move(R, id, "OPEN"), ["state"], "a CLOSED ticket cannot move to OPEN");
      expectError(await escalate(R, id), "ConflictError");
    });
    const seen = ok<TicketView>(await ticket(C1, id));
    expect(seen.comments.edges.map((e) => [e.node.side, e.node.author])).toEqual([
      ["PARTNER", `user:${R}`],
      ["CUSTOMER", `user:${CV}`],
    ]);
    expect((await mailsTo(CV)).map((m) => m.subject)).toContain('Your ticket "Calls drop after 30 seconds" is closed');
    expect((await tickets(R, ids.r, "CLOSED")).map((x) => x.id)).toEqual([id]);
    expect((await tickets(R, ids.r, "OPEN")).map((x) => x.id)).not.toContain(id);
  });

  it("refuses a move the state machine does not have (OPEN → OPEN is no change; RESOLVED → WAITING is not a move)", async () => {
    const other = ok<{ ticket: TicketView }>(await open(C1, ids.c1, { summary: "Voicemail greeting" })).ticket.id;
    ok(await move(R, other, "RESOLVED"));
    await t.nothingWritten(async () => {
      expectInvalid(await move(R, other, "WAITING_ON_CUSTOMER"), ["state"]);
    });
    // The customer reopens a resolved ticket: it is back IN_PROGRESS.
    expect(ok<{ ticket: TicketView }>(await move(C1, other, "IN_PROGRESS")).ticket.state).toBe("IN_PROGRESS");
  });
});

describe("escalation to the vendor and tickets raised on a customer's behalf", () => {
  it("numbers escalations NA00000001, NA00000002… with no gap or duplicate under concurrency; a ticket escalates once", async () => {
    const a = ok<{ ticket: TicketView }>(await open(C2, ids.c2, { summary: "Escalate A" })).ticket.id;
    const b = ok<{ ticket: TicketView }>(await open(C2, ids.c2, { summary: "Escalate B" })).ticket.id;
    const c = ok<{ ticket: TicketView }>(await open(C2, ids.c2, { summary: "Escalate C" })).ticket.id;
    const numbers = (await Promise.all([escalate(R, a), escalate(D, b), escalate(OPERATOR, c)])).map(
      (r) => ok<{ ticket: TicketView }>(r).ticket.vendorTicketNumber,
    );
    expect([...numbers].sort()).toEqual(["NA00000001", "NA00000002", "NA00000003"]);
    // Everyone on the ticket sees the vendor's number, the customer too.
    expect(ok<TicketView>(await ticket(C2, a)).vendorTicketNumber).toBe(numbers[0]);
    // The same ticket twice at once: exactly one escalation.
    const d = ok<{ ticket: TicketView }>(await open(C2, ids.c2, { summary: "Escalate D" })).ticket.id;
    const twice = await Promise.all([escalate(R, d), escalate(R, d)]);
    const won = twice.filter((r) => r.__typename === "MutationEscalateTicketSuccess");
    expect(won).toHaveLength(1);
    expectError(twice.find((r) => r !== won[0])!, "ConflictError");
    expect(ok<{ ticket: TicketView }>(won[0]).ticket.vendorTicketNumber).toBe("NA00000004");
  });

  it("a seller above raises a ticket for a customer; a partner admin on behalf takes part from the customer's side", async () => {
    const raised = ok<{ ticket: TicketView }>(await open(R, ids.c1, { summary: "Raised by the partner" })).ticket;
    expect(raised).toMatchObject({ openedOnBehalf: true, openedBy: `user:${R}`, partnerId: ids.r });
    expect((await tickets(C1, ids.c1)).map((x) => x.id)).toContain(raised.id);
    // PA is a VIEWER on R (reads there), and C1 opted in: it acts on C1's side.
    const byPa = ok<{ ticket: TicketView }>(await open(PA, ids.c1, { summary: "Raised by the partner admin" })).ticket;
    expect(byPa.openedOnBehalf).toBe(true);
    expect(ok<{ comment: { side: string } }>(await comment(PA, byPa.id, "details")).comment.side).toBe("CUSTOMER");
    // C2 did not opt in: PA reaches it only as a reader of R's tickets.
    await t.nothingWritten(async () => {
      expectError(await open(PA, ids.c2), "NotFoundError");
    });
  });
});

describe("a deleted customer's tickets stay with the partner, anonymised", () => {
  it("after the idle customer is deleted, its partner still reads the ticket without the customer's people", async () => {
    const id = ok<{ ticket: TicketView }>(await open(C3, ids.c3, { summary: "Before we leave" })).ticket.id;
    ok(await comment(C3, id, "Our number is +44 20 7946 0000, call me."));
    ok(await comment(R, id, "Noted."));
    // 14 days without an active subscription: the daily run deletes C3 (and C1, C2, which have none either).
    await t.setClock(new Date(Date.parse(START) + 2 * DAY).toISOString());
    await t.runJob("lifecycle");
    await t.setClock(new Date(Date.parse(START) + 20 * DAY).toISOString());
    expect(await t.runJob("lifecycle")).toMatchObject({ deadLettered: 0 });
    expectError(
      (
        await t.read<{ r: Result<unknown> }>(
          C3,
          `query A($id: ID!) { r: account(id: $id) { __typename ... on Error { __typename code message } } }`,
          { id: ids.c3 },
        )
      ).r,
      "NotFoundError",
    );

    const kept = ok<TicketView>(await ticket(R, id));
    expect(kept).toMatchObject({
      customerId: ids.c3,
      customerName: "Deleted account",
      openedBy: "a deleted customer's user",
    });
    expect(kept.comments.edges.map((e) => [e.node.side, e.node.author])).toEqual([
      ["CUSTOMER", "a deleted customer's user"],
      ["PARTNER", `user:${R}`],
    ]);
    const ticketItems = [...(await t.snapshot()).values()].filter((v) => /"__edb_e__":"ticket(Comment)?"/.test(v));
    expect(ticketItems.length).toBeGreaterThan(0);
    expect(ticketItems.filter((v) => v.includes(C3))).toEqual([]);
    // The former owner sees nothing any more.
    expectError(await ticket(C3, id), "NotFoundError");
    expect((await tickets(R, ids.r)).map((x) => x.id)).toContain(id);
  });
});
