/**
 * After-commit effects (the mail of an invitation) that fail once their write committed: the write
 * stands, the use case answers success, and the failure is reported to the adapter (logged by name
 * and counted there), never thrown. A thrown error would tell the client the change failed, and
 * its retry would make it twice (createAccount has no key to recognise the repeat). Inviting the
 * same person again sends the mail again.
 */
import { randomUUID } from "node:crypto";
import { beforeAll, describe, expect, inject, it } from "vitest";
import * as Account from "../core/account.js";
import * as Audit from "../core/audit.js";
import { ensurePlatform } from "../core/bootstrap.js";
import { Session } from "../core/context.js";
import type { Deps } from "../core/context.js";
import * as Member from "../core/member.js";
import { PLATFORM_ID } from "../core/rights.js";
import { SettableClock } from "../infra/clock.js";
import { createDocumentClient, ensureTable } from "../infra/dynamo.js";
import { OutboxMailer } from "../infra/mail.js";
import type { MailMessage } from "../infra/mail.js";
import { Store } from "../infra/store.js";

const OPERATOR = "operator@example.com";
const client = createDocumentClient({ region: "local", endpoint: inject("dynamoEndpoint") });
const table = `t-${randomUUID()}`;
const store = new Store(client, table);
const clock = new SettableClock();
const outbox = new OutboxMailer("no-reply@localhost", () => clock.now());
const reported: unknown[] = [];
let refuseMail = false;
const deps: Deps = {
  store,
  clock,
  mailer: {
    async send(m: MailMessage) {
      if (refuseMail) throw new Error(`the queue refused a mail to ${m.to}`);
      await outbox.send(m);
    },
  },
  portalUrl: "http://localhost:3000",
  effectFailed: (err) => reported.push(err),
};
const operator = new Session(deps, { type: "user", subject: "op", email: OPERATOR, emailVerified: true });

beforeAll(async () => {
  await ensureTable(client, table);
  await ensurePlatform(deps, OPERATOR);
});

describe("an after-commit mail that fails", () => {
  it("createAccount with an owner: one account, success answered, the failure reported; inviting again mails", async () => {
    const owner = `owner-${randomUUID()}@example.com`;
    refuseMail = true;
    const created = await Account.create(operator, {
      parentId: PLATFORM_ID,
      kind: "DISTRIBUTOR",
      name: "After Commit Distribution",
      country: "FR",
      currency: "EUR",
      owner: { email: owner },
    });
    refuseMail = false;
    expect(created.account.name).toBe("After Commit Distribution");
    expect(reported).toHaveLength(1);
    expect(String(reported[0])).toContain("the queue refused");
    const children = await store.listChildren(PLATFORM_ID, { limit: 100 });
    expect(children.items.filter((c) => c.node.name === "After Commit Distribution")).toHaveLength(1);
    expect(outbox.list().filter((m) => m.to === owner)).toHaveLength(0);

    // The invitation exists; inviting the same person again sends its mail.
    const again = await Member.invite(operator, { accountId: created.account.id, email: owner, role: "OWNER" });
    expect(again.member.status).toBe("INVITED");
    expect(outbox.list().filter((m) => m.to === owner)).toHaveLength(1);
    expect(reported).toHaveLength(1);
  });

  it("several effects refused together (an account move mails each owner): each failure reported once", async () => {
    const before = reported.length;
    const committed = await operator.transact(
      (e) => [
        Audit.entry(e, {
          accountId: PLATFORM_ID,
          action: "account.updated",
          actor: operator.actor,
          at: clock.now(),
        }).commit(),
      ],
      {
        after: async () => {
          throw new AggregateError([new Error("first refused"), new Error("second refused")], "mails refused");
        },
      },
    );
    expect(committed).toBe(true);
    expect(reported.slice(before).map(String)).toEqual(["Error: first refused", "Error: second refused"]);
  });
});
