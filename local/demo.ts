import { mkdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";

/**
 * `npm run demo`: the whole partner path on the local stack, as HTTP calls a reader can copy: the
 * operator creates a distributor (currency, tax rate) and its offers, the owner accepts the invitation
 * with their own token, creates a reseller, whose owner creates a customer and orders for it; the
 * clock moves to the next month, billing runs, the invoice's PDF and CSV are downloaded. Each step
 * prints its curl command and what came back; the last line is the invoice total.
 *
 * Drives the stack at --url (default http://localhost:4000, `npm start`); when none answers there,
 * starts one in memory for the run. Names and e-mails carry a run id, so it can run again and again.
 */

const USAGE = "usage: npm run demo [-- --url http://localhost:4000] [--out DIR]";
const BUSINESS = "3EY95002AA"; // Rainbow Business, monthly, EUR
const ENTERPRISE = "3EY95003AA"; // Rainbow Enterprise, monthly, EUR
const OPERATOR = process.env.BOOTSTRAP_OPERATOR_EMAIL ?? "operator@example.com";
const PLATFORM = Buffer.from("Account:PLATFORM").toString("base64");

type Json = Record<string, unknown>;

/** A string as one single-quoted shell word. */
const sh = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

class Demo {
  #step = 0;
  readonly #tokens = new Map<string, string>();
  /** The shell variable each signed-in e-mail's token is kept in, by role (OPERATOR_TOKEN...). */
  readonly #vars = new Map<string, string>();
  constructor(readonly url: string) {}

  #var(email: string): string {
    const v = this.#vars.get(email);
    if (!v) throw new Error(`no token for ${email}`);
    return v;
  }

  heading(title: string): void {
    this.#step += 1;
    console.log(`\n== ${this.#step}. ${title}`);
  }

  show(command: string): void {
    console.log(command);
  }

  result(text: string): void {
    console.log(`-> ${text}`);
  }

  async http(method: string, path: string, body?: Json): Promise<Json> {
    const res = await fetch(`${this.url}${path}`, { method, ...(body ? { body: JSON.stringify(body) } : {}) });
    const json = (await res.json()) as Json;
    if (!res.ok) throw new Error(`${method} ${path} answered ${res.status}: ${JSON.stringify(json)}`);
    return json;
  }

  /** A token for `email` from the local issuer, kept in the shell variable `<role>_TOKEN`. */
  async signIn(email: string, role: string): Promise<void> {
    const v = `${role}_TOKEN`;
    this.#vars.set(email, v);
    this.show(
      `${v}=$(curl -s -X POST ${this.url}/dev/token -d ${sh(JSON.stringify({ email }))} | sed -E 's/.*"token":"([^"]+)".*/\\1/')`,
    );
    const { token } = (await this.http("POST", "/dev/token", { email })) as { token: string };
    this.#tokens.set(email, token);
    this.result(`$${v} holds ${email}'s bearer token (one hour)`);
  }

  /** Runs `query` as `email`; shows the curl; returns the `r` field, which must be a success member (its `data`). */
  async gql(email: string, query: string, variables: Json): Promise<Json> {
    const token = this.#tokens.get(email);
    if (!token) throw new Error(`no token for ${email}`);
    const body = JSON.stringify({ query, variables });
    this.show(
      `curl -s ${this.url}/graphql -H "authorization: Bearer $${this.#var(email)}" -H 'content-type: application/json' \\\n  -d ${sh(body)}`,
    );
    const res = await fetch(`${this.url}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
      body,
    });
    const json = (await res.json()) as { data?: { r?: Json } | null; errors?: unknown[] };
    if (json.errors || !json.data?.r) throw new Error(`GraphQL error: ${JSON.stringify(json.errors ?? json)}`);
    const r = json.data.r;
    if (!("__typename" in r)) return r;
    if (typeof r.__typename === "string" && !r.__typename.endsWith("Success"))
      throw new Error(`${r.__typename}: ${JSON.stringify(r)}`);
    return r.data as Json;
  }

  /** The latest invitation token mailed to `email` (the local outbox). */
  async invitationToken(email: string): Promise<string> {
    this.show(`curl -s ${this.url}/dev/outbox`);
    const { messages } = (await this.http("GET", "/dev/outbox")) as { messages: { to: string; text: string }[] };
    const token = messages
      .filter((m) => m.to === email.toLowerCase())
      .map((m) => /Invitation token: (\S+)/.exec(m.text)?.[1])
      .filter((t): t is string => t !== undefined)
      .at(-1);
    if (!token) throw new Error(`no invitation mailed to ${email}`);
    this.result(`the invitation mailed to ${email} carries token ${token}`);
    return token;
  }

  async download(email: string, path: string, dir: string): Promise<{ file: string; type: string; bytes: number }> {
    const file = join(dir, path.split("/").at(-1)!);
    this.show(`curl -s ${this.url}${path} -H "authorization: Bearer $${this.#var(email)}" -o ${sh(file)}`);
    const res = await fetch(`${this.url}${path}`, { headers: { authorization: `Bearer ${this.#tokens.get(email)}` } });
    if (!res.ok) throw new Error(`GET ${path} answered ${res.status}`);
    const bytes = Buffer.from(await res.arrayBuffer());
    writeFileSync(file, bytes);
    return { file, type: res.headers.get("content-type") ?? "", bytes: bytes.length };
  }
}

const ERR = "... on Error { code message }";
const mutation = (field: string, input: string, select: string) =>
  `mutation($input: ${input}!) { r: ${field}(input: $input) { __typename ... on Mutation${field[0]!.toUpperCase()}${field.slice(1)}Success { data { ${select} } } ${ERR} } }`;
const ACCEPT = `mutation($token: String!) { r: acceptInvitation(token: $token) { __typename ... on MutationAcceptInvitationSuccess { data { account { id name } } } ${ERR} } }`;
const INVOICES = `query($id: ID!) { r: account(id: $id) { __typename ... on QueryAccountSuccess { data { invoices(first: 5) { edges { node { id number period billedTo net { amount currency } vat { amount currency } total { amount currency } pdfPath csvPath lines(first: 20) { edges { node { customer tier1 sku quantity amount { amount currency } } } } } } } } } ${ERR} } }`;

const EVENTS = `query($id: ID!) { r: events(accountId: $id, first: 50) { edges { node { type occurredAt resourceType } } } }`;

interface Invoice {
  number: string;
  period: string;
  billedTo: string;
  net: { amount: string; currency: string };
  vat: { amount: string; currency: string };
  total: { amount: string; currency: string };
  pdfPath: string;
  csvPath: string;
  lines: { edges: { node: { customer: string; sku: string; quantity: number; amount: { amount: string } } }[] };
}

/** The month after `d`'s, at 00:10 UTC on the 1st (after the 00:05 billing schedule). */
const nextMonth = (d: Date) => new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1, 0, 10));
const monthOf = (d: Date) => d.toISOString().slice(0, 7);

async function answers(url: string): Promise<boolean> {
  try {
    return (await fetch(`${url}/health`, { signal: AbortSignal.timeout(2000) })).ok;
  } catch {
    return false;
  }
}

async function runDemo(url: string, outDir: string): Promise<Invoice> {
  const d = new Demo(url);
  const run = Date.now().toString(36);
  const dOwner = `owner-${run}@distributor.example`;
  const rOwner = `owner-${run}@reseller.example`;
  console.log(`Channel Partner API demo against ${url} (run ${run}). Each step: the HTTP call, then what came back.`);

  d.heading("The operator signs in (a local token from the stack's issuer)");
  await d.signIn(OPERATOR, "OPERATOR");

  d.heading("The operator creates a distributor billed in EUR, inviting its owner");
  const dist = (await d.gql(OPERATOR, mutation("createAccount", "CreateAccountInput", "account { id name currency }"), {
    input: {
      parentId: PLATFORM,
      kind: "DISTRIBUTOR",
      name: `Demo Distribution ${run}`,
      country: "FR",
      currency: "EUR",
      owner: { email: dOwner },
    },
  })) as { account: { id: string; name: string } };
  const distId = dist.account.id;
  d.result(`distributor ${dist.account.name}: ${distId}`);

  d.heading("The operator sets the distributor's tax rate (20 % VAT)");
  await d.gql(OPERATOR, mutation("setTaxRate", "SetTaxRateInput", "account { id }"), {
    input: { accountId: distId, taxRatePercent: "20" },
  });
  d.result("tax rate 20 %");

  d.heading("The operator makes two offers available to the distributor");
  await d.gql(OPERATOR, mutation("setAvailableOffers", "SetAvailableOffersInput", "account { id }"), {
    input: { accountId: distId, skus: [BUSINESS, ENTERPRISE] },
  });
  d.result(`offers ${BUSINESS} (Rainbow Business) and ${ENTERPRISE} (Rainbow Enterprise)`);

  d.heading("The distributor's owner signs in and accepts the invitation with their own token");
  const dInvite = await d.invitationToken(dOwner);
  await d.signIn(dOwner, "DISTRIBUTOR_OWNER");
  await d.gql(dOwner, ACCEPT, { token: dInvite });
  d.result(`${dOwner} is OWNER of the distributor`);

  d.heading("The distributor's owner creates a reseller (allowed to create accounts), inviting its owner");
  const reseller = (await d.gql(dOwner, mutation("createAccount", "CreateAccountInput", "account { id name }"), {
    input: {
      parentId: distId,
      kind: "RESELLER",
      name: `Demo Reseller ${run}`,
      country: "FR",
      owner: { email: rOwner },
      canCreateAccounts: true,
    },
  })) as { account: { id: string; name: string } };
  d.result(`reseller ${reseller.account.name}: ${reseller.account.id}`);

  d.heading("The reseller's owner accepts the invitation");
  const rInvite = await d.invitationToken(rOwner);
  await d.signIn(rOwner, "RESELLER_OWNER");
  await d.gql(rOwner, ACCEPT, { token: rInvite });
  d.result(`${rOwner} is OWNER of the reseller`);

  d.heading("The reseller's owner creates a customer and orders licences for it");
  const customer = (await d.gql(rOwner, mutation("createAccount", "CreateAccountInput", "account { id name }"), {
    input: { parentId: reseller.account.id, kind: "CUSTOMER", name: `Demo Customer ${run}`, country: "FR" },
  })) as { account: { id: string; name: string } };
  const order = (await d.gql(rOwner, mutation("placeOrder", "PlaceOrderInput", "order { id lines { sku quantity } }"), {
    input: {
      accountId: customer.account.id,
      lines: [
        { sku: ENTERPRISE, quantity: 20 },
        { sku: BUSINESS, quantity: 10 },
      ],
      idempotencyKey: `demo-${run}`,
    },
  })) as { order: { id: string } };
  d.result(
    `customer ${customer.account.name}: ${customer.account.id}; order ${order.order.id}: 20 x ${ENTERPRISE}, 10 x ${BUSINESS}`,
  );

  d.heading("The clock moves to the next month (local only)");
  d.show(`curl -s ${url}/dev/clock`);
  const now = new Date(((await d.http("GET", "/dev/clock")) as { now: string }).now);
  const period = monthOf(now);
  const next = nextMonth(now).toISOString();
  d.show(`curl -s -X POST ${url}/dev/clock -d ${sh(JSON.stringify({ now: next }))}`);
  await d.http("POST", "/dev/clock", { now: next });
  d.result(`the stack's clock: ${now.toISOString()} -> ${next}`);

  d.heading(`Billing runs for ${period} (as the monthly schedule would: queue, workers, invoices, mails)`);
  d.show(`curl -s -X POST ${url}/dev/jobs/run -d ${sh(JSON.stringify({ job: "billing", period }))}`);
  const report = (await d.http("POST", "/dev/jobs/run", { job: "billing", period })) as {
    scheduled: number;
    processed: number;
    deadLettered: number;
  };
  d.result(
    `${report.scheduled} billed parties scheduled, ${report.processed} processed, ${report.deadLettered} dead-lettered`,
  );

  d.heading("The distributor's owner reads the invoice");
  const { invoices } = (await d.gql(dOwner, INVOICES, { id: distId })) as {
    invoices: { edges: { node: Invoice }[] } | null;
  };
  const invoice = invoices?.edges.map((e) => e.node).find((i) => i.period === period);
  if (!invoice) throw new Error(`no invoice for ${period}`);
  d.result(
    `${invoice.number} to ${invoice.billedTo} for ${invoice.period}: net ${invoice.net.amount}, VAT ${invoice.vat.amount}, total ${invoice.total.currency} ${invoice.total.amount}`,
  );
  for (const { node: l } of invoice.lines.edges)
    console.log(`   ${l.customer}: ${l.quantity} x ${l.sku} = ${l.amount.amount}`);

  d.heading("The distributor's owner downloads the invoice as PDF and CSV");
  mkdirSync(outDir, { recursive: true });
  for (const path of [invoice.pdfPath, invoice.csvPath]) {
    const got = await d.download(dOwner, path, outDir);
    d.result(`${got.file} (${got.type}, ${got.bytes} bytes)`);
  }

  d.heading("The events the path left, as the distributor's owner reads them (once the change stream is drained)");
  d.show(`curl -s -X POST ${url}/dev/events/drain`);
  await d.http("POST", "/dev/events/drain");
  const events = (await d.gql(dOwner, EVENTS, { id: distId })) as { edges: { node: { type: string } }[] };
  const counts = new Map<string, number>();
  for (const { node } of events.edges) counts.set(node.type, (counts.get(node.type) ?? 0) + 1);
  d.result(`${events.edges.length} events: ${[...counts].map(([type, n]) => `${type} x${n}`).join(", ")}`);

  console.log(`\nInvoice ${invoice.number} total: ${invoice.total.currency} ${invoice.total.amount}`);
  return invoice;
}

async function main() {
  const { values } = parseArgs({
    options: { url: { type: "string" }, out: { type: "string" }, help: { type: "boolean" } },
  });
  if (values.help) return console.log(USAGE);
  const url = (values.url ?? process.env.API_URL ?? `http://localhost:${process.env.PORT ?? 4000}`).replace(/\/+$/, "");
  const outDir = values.out ?? join(tmpdir(), "channel-partner-demo");
  if (await answers(url)) {
    await runDemo(url, outDir);
    return;
  }
  if (values.url) throw new Error(`No local stack answers at ${url} (GET /health). Start one with npm start.`);
  console.log(`No stack answers at ${url}: starting one in memory for this run (npm start keeps one running).`);
  const { startLocalStack } = await import("./stack.js");
  const stack = await startLocalStack({ inMemory: true, cron: false, operatorEmail: OPERATOR });
  try {
    await runDemo(stack.url, outDir);
  } finally {
    await stack.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
