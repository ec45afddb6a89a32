import DataLoader from "dataloader";
import type { Clock } from "../infra/clock.js";
import type { DeviceKeys } from "../infra/device-keys.js";
import type { Mailer } from "../infra/mail.js";
import type {
  AccountRecord,
  ItemKey,
  LoadedItem,
  Membership,
  OfferRecord,
  OrderKeyRecord,
  PersonRecord,
  Store,
  SubscriptionRecord,
} from "../infra/store.js";
import type { ApiKeys } from "../infra/api-keys.js";
import type { IntegrationStore } from "../infra/integrations.js";
import type { NetworkPolicy } from "../infra/ssrf.js";
import type { WorkQueue } from "../infra/queue.js";
import type { Actor, ClientActor, UserActor } from "./actor.js";
import type { RateLimits } from "./limits.js";
import { Unauthenticated } from "./errors.js";
import { ensureBound } from "./identity.js";
import { authorize } from "./rights.js";
import * as Tx from "./tx.js";
import type { Action, Reach } from "./rights.js";

/** What the use cases need from the outside world, wired once per process by functions/ or local/. */
export interface Deps {
  readonly store: Store;
  readonly clock: Clock;
  readonly mailer: Mailer;
  /** Where mailed links point (the partner portal). */
  readonly portalUrl: string;
  /**
   * Signs device credentials and keys activation-code digests; without it equipment cannot be
   * paired. May be a loader (the Lambda reads the key from SSM on first use, not at every cold start).
   */
  readonly deviceKeys?: DeviceKeys | (() => Promise<DeviceKeys | undefined>);
  /** Per-account allowances (invitations, activation attempts); core/limits.ts's defaults when absent. */
  readonly rateLimits?: RateLimits;
  /** API clients, events and webhooks; without them those features answer "not configured". */
  readonly integrations?: Integrations;
  /** Jitter of optimistic retries, a number in [0, 1) (crypto when absent; tests may fix it). */
  readonly random?: Tx.Random;
  /**
   * Told of an after-commit effect (a mail to queue) that failed once its write had committed: the
   * write stands and the request succeeds, so a client does not retry a change that was made (a
   * second account, say). The adapters log it by error name and count it (EffectsFailed, alarmed); an
   * invitation whose mail was lost is sent again by inviting the same person again.
   */
  readonly effectFailed?: Tx.EffectReporter;
}

/** What API clients, the event feed and webhooks need. */
export interface Integrations {
  readonly store: IntegrationStore;
  /** The API's own key (access tokens, sealed webhook secrets); may be a loader like `deviceKeys`. */
  readonly keys: ApiKeys | (() => Promise<ApiKeys | undefined>);
  /** Requests per client per minute (default 600). */
  readonly clientRequestsPerMinute?: number;
  /** The webhook delivery queue (the stream consumer's fan-out, test events, redeliveries); absent where nothing is sent from. */
  readonly deliveries?: WorkQueue;
  /** Which webhook URLs are accepted (production's https-only, public-address policy when absent; the local stack allows loopback). */
  readonly network?: NetworkPolicy;
}

/** Keys are case-insensitive in the table (ElectroDB lower-cases them), so in the cache too. */
function cacheKey(k: ItemKey): string {
  switch (k.type) {
    case "account":
      return `a:${k.id}`.toLowerCase();
    case "person":
      return `p:${k.email}`.toLowerCase();
    case "offer":
      return `o:${k.sku}`.toLowerCase();
    case "subscription":
      return `s:${k.accountId}:${k.sku}`.toLowerCase();
    case "orderKey":
      // Idempotency keys are case-sensitive.
      return `k:${k.accountId.toLowerCase()}:${k.key}`;
  }
}

export type { UserActor, ClientActor } from "./actor.js";

/**
 * One request (or one job step): the actor and a per-request loader that batches every
 * GetItem of the same tick into one BatchGetItem (the caller's person item and the accounts
 * a query touches travel together).
 */
export class Session {
  readonly #loader: DataLoader<ItemKey, LoadedItem, string>;
  /** Reads other than item gets (list pages), shared by key within the request; cleared with the loader. */
  readonly #reads = new Map<string, Promise<unknown>>();
  #bound: Promise<void> | undefined;

  constructor(
    readonly deps: Deps,
    readonly actor: Actor,
  ) {
    this.#loader = new DataLoader((keys) => deps.store.batchGet(keys), {
      cacheKeyFn: cacheKey,
      maxBatchSize: 100,
    });
  }

  get now(): Date {
    return this.deps.clock.now();
  }

  /** The signed-in user, or Unauthenticated. */
  user(): UserActor {
    if (this.actor.type !== "user") throw new Unauthenticated();
    return this.actor;
  }

  /**
   * The signed-in user whose verified address is bound to this token's identity (checked once per
   * request): what acting on memberships or invitations needs. Unauthenticated for another identity.
   */
  async boundUser(): Promise<UserActor> {
    const user = this.user();
    this.#bound ??= ensureBound(this.deps, user);
    await this.#bound;
    return user;
  }

  async account(id: string): Promise<AccountRecord | undefined> {
    return (await this.#loader.load({ type: "account", id })) as AccountRecord | undefined;
  }

  async accounts(ids: readonly string[]): Promise<(AccountRecord | undefined)[]> {
    const items = await this.#loader.loadMany(ids.map((id) => ({ type: "account" as const, id })));
    return items.map((i) => {
      if (i instanceof Error) throw i;
      return i as AccountRecord | undefined;
    });
  }

  async offers(skus: readonly string[]): Promise<(OfferRecord | undefined)[]> {
    return this.#many(skus.map((sku) => ({ type: "offer" as const, sku }))) as Promise<(OfferRecord | undefined)[]>;
  }

  async subscription(accountId: string, sku: string): Promise<SubscriptionRecord | undefined> {
    return (await this.#loader.load({ type: "subscription", accountId, sku })) as SubscriptionRecord | undefined;
  }

  /** The idempotency record of an order key (read in the same batch as the caller and the account). */
  async orderKey(accountId: string, key: string): Promise<OrderKeyRecord | undefined> {
    return (await this.#loader.load({ type: "orderKey", accountId, key })) as OrderKeyRecord | undefined;
  }

  async #many(keys: ItemKey[]): Promise<LoadedItem[]> {
    const items = await this.#loader.loadMany(keys);
    return items.map((i) => {
      if (i instanceof Error) throw i;
      return i;
    });
  }

  /**
   * One read per key within the request: a use case that starts a page early (beside the rights
   * check that guards it) and the one that hands it out after the check share the same request.
   */
  shared<T>(key: string, read: () => Promise<T>): Promise<T> {
    let p = this.#reads.get(key) as Promise<T> | undefined;
    if (!p) {
      p = read();
      this.#reads.set(key, p);
    }
    return p;
  }

  #clear(): void {
    this.#loader.clearAll();
    this.#reads.clear();
  }

  async person(email: string): Promise<PersonRecord | undefined> {
    return (await this.#loader.load({ type: "person", email })) as PersonRecord | undefined;
  }

  /**
   * A signed-in caller that may act on accounts: a person, or an API client (which the rights
   * treat like a member of its account, minus people and client management); else Unauthenticated.
   */
  principal(): UserActor | ClientActor {
    if (this.actor.type !== "user" && this.actor.type !== "client") throw new Unauthenticated();
    return this.actor;
  }

  /**
   * Active memberships of the caller (empty for the public; jobs use the system actor). An unverified
   * address has none (security rule 1): it may only learn that it is unverified. An API client holds
   * one seat: its role and seller flag on its own account, never partner admin.
   */
  /**
   * An account the caller may do `action` on, with how it reaches it: the load-and-authorise
   * preamble of a use case in one call (NotFound for an account it may not know, Forbidden otherwise).
   */
  async authorized(
    accountId: string,
    action: Action,
  ): Promise<{ account: AccountRecord; reach: Reach; memberships: Readonly<Record<string, Membership>> }> {
    const [memberships, account] = await Promise.all([this.memberships(), this.account(accountId)]);
    const reach = authorize(this.actor, memberships, account, action, this.now);
    return { account: account!, reach, memberships };
  }

  async memberships(): Promise<Readonly<Record<string, Membership>>> {
    if (this.actor.type === "client")
      return { [this.actor.accountId]: { role: this.actor.role, seller: this.actor.seller, partnerAdmin: false } };
    if (this.actor.type !== "user" || !this.actor.emailVerified) return {};
    const [person] = await Promise.all([this.person(this.actor.email), this.boundUser()]);
    return person?.memberships ?? {};
  }

  /**
   * Runs one transaction (see core/tx.ts): a failed guarded step throws its own error, any other
   * failed condition `opts.otherwise` (false for "skip"); the request's cache is cleared either way, so what the use
   * case reads next is fresh; `opts.after` runs only once the write committed, and its failure is
   * reported (`Deps.effectFailed`), not thrown.
   */
  async transact(build: Tx.Build, opts: Tx.TransactOptions = {}): Promise<boolean> {
    let committed: boolean;
    try {
      committed = await Tx.run(this.deps.store, build, { otherwise: opts.otherwise });
    } finally {
      this.#clear();
    }
    // After the cache is cleared: an effect that reads sees the write.
    if (committed) await Tx.afterCommit(opts.after, this.deps.effectFailed);
    return committed;
  }

  /**
   * Reads and writes again while `body` loses to concurrent changes (`Contention`), with jitter
   * from `Deps.random`; every attempt reads fresh state.
   */
  optimistic<T>(policy: Tx.RetryPolicy, body: (attempt: number) => Promise<T>): Promise<T> {
    const onRetry = () => {
      this.#clear();
      policy.onRetry?.();
    };
    return Tx.optimistic(this.deps.random ?? Tx.cryptoRandom, { ...policy, onRetry }, body);
  }
}
