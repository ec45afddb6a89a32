import * as z from "zod";
import { accountOfClientId, newClientId, newClientSecret, secretDigest } from "../infra/api-keys.js";
import { sameDigest } from "../infra/ids.js";
import type { ApiKeys } from "../infra/api-keys.js";
import { clientRoles } from "../infra/entities/integration.js";
import type { ApiClientRecord, IntegrationStore } from "../infra/integrations.js";
import type { Page } from "../infra/store.js";
import { actorLabel } from "./actor.js";
import type { ClientActor, Deps, Integrations, Session } from "./context.js";
import * as Audit from "./audit.js";
import { Conflict, Invalid, NotFound, RateLimited, Unauthenticated, VisibleError } from "./errors.js";
import { paged } from "./paging.js";
import type { PageArgs } from "./paging.js";
import { authorize } from "./rights.js";
import * as Tx from "./tx.js";
import * as V from "./validation.js";
import { DAY_MS } from "./time.js";
import * as Cond from "../infra/store/conditions.js";

/** A client as its owners see it: never a secret, nor a digest of one. */
export type Info = Omit<ApiClientRecord, "secretHash" | "previousSecretHash" | "window" | "windowCount">;

/** Access tokens live 15 minutes; a revoked client is refused at its next request anyway. */
export const ACCESS_TOKEN_SECONDS = 15 * 60;
/** After a rotation the previous secret stays valid this long, unless revoked sooner. */
export const ROTATION_OVERLAP_MS = DAY_MS;
/** Requests per client per minute when the deployment sets nothing else. */
export const CLIENT_REQUESTS_PER_MINUTE = 600;
const WINDOW_MS = 60_000;

/** The integration features need their wiring (the local stack and the API function provide it). */
export class NotConfigured extends VisibleError {
  readonly code = "NOT_CONFIGURED";
  constructor() {
    super("API clients and webhooks are not configured on this deployment");
    this.name = "NotConfigured";
  }
}

export function integrations(deps: Deps): Integrations {
  if (!deps.integrations) throw new NotConfigured();
  return deps.integrations;
}

/** The API's own key, loaded on first use. */
export async function apiKeys(deps: Deps): Promise<ApiKeys> {
  const k = integrations(deps).keys;
  const keys = typeof k === "function" ? await k() : k;
  if (!keys) throw new NotConfigured();
  return keys;
}

function toInfo(r: ApiClientRecord): Info {
  const { secretHash: _s, previousSecretHash: _p, window: _w, windowCount: _c, ...info } = r;
  return info;
}

const createInput = z.object({
  accountId: z.string().min(1),
  name: V.name,
  role: z.enum(clientRoles),
  seller: z.boolean().default(false),
});

/** An account's OWNERs create a client; its secret is answered once and only its digest is kept. */
export async function create(s: Session, raw: z.input<typeof createInput>): Promise<{ client: Info; secret: string }> {
  s.principal();
  const input = V.parse(createInput, raw);
  const store = integrations(s.deps).store;
  const { account } = await s.authorized(input.accountId, "apiClient.manage");
  if (input.seller && account!.kind === "CUSTOMER") throw Invalid.field("seller", "only partner accounts have sellers");
  const secret = newClientSecret();
  const at = s.now.toISOString();
  const record: ApiClientRecord = {
    accountId: account!.id,
    clientId: newClientId(account!.id),
    name: input.name,
    role: input.role,
    seller: input.seller,
    status: "ACTIVE",
    secretHash: secretDigest(secret),
    generation: 1,
    createdAt: at,
    createdBy: actorLabel(s.actor),
  };
  await Tx.run(store, (e) => [
    e.apiClient.create(record).commit(),
    Audit.entry(e, {
      accountId: record.accountId,
      action: "apiClient.created",
      actor: s.actor,
      at: s.now,
      subjectId: record.clientId,
    }).commit(),
  ]);
  return { client: toInfo(record), secret };
}

/** Clients of an account, for those who manage them. */
export async function list(s: Session, accountId: string, args: PageArgs): Promise<Page<Info>> {
  const store = integrations(s.deps).store;
  const { account } = await s.authorized(accountId, "apiClient.manage");
  const page = await paged(args, (limit, cursor) => store.listClients(account!.id, limit, cursor));
  return { hasNextPage: page.hasNextPage, items: page.items.map((i) => ({ node: toInfo(i.node), cursor: i.cursor })) };
}

/** The client by id, for its account's owners; NotFound for any id the caller may not manage. */
async function loadManaged(s: Session, clientId: string): Promise<ApiClientRecord> {
  s.principal();
  const store = integrations(s.deps).store;
  const accountId = accountOfClientId(clientId);
  if (!accountId) throw new NotFound("ApiClient");
  const [ms, account] = await Promise.all([s.memberships(), s.account(accountId)]);
  try {
    authorize(s.actor, ms, account, "apiClient.manage", s.now);
  } catch (err) {
    // An account the caller cannot see: the client is as unknown as a made-up id.
    if (err instanceof NotFound) throw new NotFound("ApiClient");
    throw err;
  }
  const client = await store.getClient(accountId, clientId);
  if (!client) throw new NotFound("ApiClient");
  return client;
}

const clientRef = z.object({ clientId: z.string().min(1).max(200) });

/** A new secret; the previous one stays valid for 24 hours (or until revokePreviousSecret). */
export async function rotateSecret(
  s: Session,
  raw: z.input<typeof clientRef>,
): Promise<{ client: Info; secret: string }> {
  const { clientId } = V.parse(clientRef, raw);
  const client = await loadManaged(s, clientId);
  if (client.status !== "ACTIVE") throw new Conflict("This client is revoked");
  const secret = newClientSecret();
  const until = new Date(s.now.getTime() + ROTATION_OVERLAP_MS).toISOString();
  const store = integrations(s.deps).store;
  await Tx.run(
    store,
    (e) => [
      e.apiClient
        .patch({ accountId: client.accountId, clientId })
        .set({
          secretHash: secretDigest(secret),
          previousSecretHash: client.secretHash,
          previousValidUntil: until,
          generation: client.generation + 1,
        })
        // Two rotations at once: one wins, the other is told.
        .where(Cond.activeAtGeneration(client.generation))
        .commit(),
      Audit.entry(e, {
        accountId: client.accountId,
        action: "apiClient.secretRotated",
        actor: s.actor,
        at: s.now,
        subjectId: clientId,
      }).commit(),
    ],
    { otherwise: () => new Conflict("The client changed meanwhile; try again") },
  );
  const updated = (await store.getClient(client.accountId, clientId))!;
  return { client: toInfo(updated), secret };
}

/** Ends the previous secret's overlap now (its tokens stop working at their next request). */
export async function revokePreviousSecret(s: Session, raw: z.input<typeof clientRef>): Promise<Info> {
  const { clientId } = V.parse(clientRef, raw);
  const client = await loadManaged(s, clientId);
  const store = integrations(s.deps).store;
  await Tx.run(store, (e) => [
    e.apiClient
      .patch({ accountId: client.accountId, clientId })
      .remove(["previousSecretHash", "previousValidUntil"])
      .commit(),
    Audit.entry(e, {
      accountId: client.accountId,
      action: "apiClient.previousSecretRevoked",
      actor: s.actor,
      at: s.now,
      subjectId: clientId,
    }).commit(),
  ]);
  return toInfo((await store.getClient(client.accountId, clientId))!);
}

/** Revokes a client: its tokens stop working at their next request, and it gets no new ones. */
export async function revoke(s: Session, raw: z.input<typeof clientRef>): Promise<Info> {
  const { clientId } = V.parse(clientRef, raw);
  const client = await loadManaged(s, clientId);
  if (client.status === "REVOKED") return toInfo(client);
  const store = integrations(s.deps).store;
  await Tx.run(store, (e) => [
    e.apiClient
      .patch({ accountId: client.accountId, clientId })
      .set({ status: "REVOKED", revokedAt: s.now.toISOString() })
      .remove(["previousSecretHash", "previousValidUntil"])
      .commit(),
    Audit.entry(e, {
      accountId: client.accountId,
      action: "apiClient.revoked",
      actor: s.actor,
      at: s.now,
      subjectId: clientId,
    }).commit(),
  ]);
  return toInfo((await store.getClient(client.accountId, clientId))!);
}

/** Why a token request is refused (RFC 6749 §5.2): the OAuth endpoint turns it into its JSON error. */
export class TokenRequestRefused extends Error {
  constructor(
    readonly error: "invalid_client" | "rate_limited",
    readonly retryAfterSeconds?: number,
  ) {
    super(error);
    this.name = "TokenRequestRefused";
  }
}

/** Which secret generation a presented secret is: the current one, the previous one within its overlap, or none. */
function generationOf(client: ApiClientRecord, secret: string, now: Date): number | undefined {
  const digest = secretDigest(secret);
  if (sameDigest(digest, client.secretHash)) return client.generation;
  if (
    client.previousSecretHash &&
    client.previousValidUntil &&
    new Date(client.previousValidUntil) > now &&
    sameDigest(digest, client.previousSecretHash)
  )
    return client.generation - 1;
  return undefined;
}

function windowStart(now: Date): string {
  return new Date(Math.floor(now.getTime() / WINDOW_MS) * WINDOW_MS).toISOString();
}

async function hit(store: IntegrationStore, deps: Deps, accountId: string, clientId: string, now: Date) {
  const max = integrations(deps).clientRequestsPerMinute ?? CLIENT_REQUESTS_PER_MINUTE;
  return store.hitClient(accountId, clientId, windowStart(now), max, now.toISOString());
}

const retryAfter = (now: Date) => Math.max(1, Math.ceil((WINDOW_MS - (now.getTime() % WINDOW_MS)) / 1000));

/**
 * The client credentials grant (RFC 6749 §4.4): an active client with a valid secret gets a
 * 15-minute access token for the secret's generation. Unknown id, wrong secret and revoked client
 * are one answer (invalid_client).
 */
export async function issueToken(
  deps: Deps,
  clientId: string,
  secret: string,
): Promise<{ accessToken: string; expiresIn: number }> {
  const store = integrations(deps).store;
  const keys = await apiKeys(deps);
  const accountId = accountOfClientId(clientId);
  if (!accountId || secret.length === 0 || secret.length > 200) throw new TokenRequestRefused("invalid_client");
  const now = deps.clock.now();
  const client = await store.getClient(accountId, clientId);
  const generation = client?.status === "ACTIVE" ? generationOf(client, secret, now) : undefined;
  if (!client || generation === undefined) throw new TokenRequestRefused("invalid_client");
  const counted = await hit(store, deps, accountId, clientId, now);
  if (counted.kind === "limited") throw new TokenRequestRefused("rate_limited", retryAfter(now));
  if (counted.kind === "inactive") throw new TokenRequestRefused("invalid_client");
  return {
    accessToken: await keys.accessToken({ accountId, clientId, generation }, now, ACCESS_TOKEN_SECONDS),
    expiresIn: ACCESS_TOKEN_SECONDS,
  };
}

/**
 * The actor of a client access token, checked on every request: signature and expiry, the client
 * still active (revocation bites at the next request), the token's secret generation still valid
 * (a rotated-out secret's tokens end with its overlap), and the client's per-minute allowance.
 */
export async function authenticate(deps: Deps, token: string): Promise<ClientActor> {
  const store = integrations(deps).store;
  const keys = await apiKeys(deps);
  const now = deps.clock.now();
  const claims = await keys.verify(token, now);
  const counted = await hit(store, deps, claims.accountId, claims.clientId, now);
  if (counted.kind === "limited")
    throw new RateLimited("Too many requests from this API client; try again later", retryAfter(now));
  if (counted.kind === "inactive") throw new Unauthenticated("This API client is revoked");
  const c = counted.client;
  const current = claims.generation === c.generation;
  const previous =
    claims.generation === c.generation - 1 &&
    !!c.previousSecretHash &&
    !!c.previousValidUntil &&
    new Date(c.previousValidUntil) > now;
  if (!current && !previous) throw new Unauthenticated("This token's client secret was rotated out");
  return { type: "client", clientId: c.clientId, accountId: c.accountId, name: c.name, role: c.role, seller: c.seller };
}

/** A client by id for `node(id)`: undefined unless the caller manages it. */
export async function find(s: Session, clientId: string): Promise<Info | undefined> {
  if (s.actor.type !== "user" && s.actor.type !== "client") return undefined;
  try {
    return toInfo(await loadManaged(s, clientId));
  } catch (err) {
    if (err instanceof VisibleError) return undefined;
    throw err;
  }
}
