import * as z from "zod";
import { offerKinds } from "../infra/entities/offer.js";
import type { AccountRecord, OfferRecord, Page } from "../infra/store.js";
import * as AccountSettings from "./account-settings.js";
import * as Audit from "./audit.js";
import { Session } from "./context.js";
import type { Deps } from "./context.js";
import { Conflict, Forbidden, Invalid, NotFound, unlessHidden } from "./errors.js";
import * as Money from "./money.js";
import { paged } from "./paging.js";
import type { PageArgs } from "./paging.js";
import { PLATFORM_ID, allowed, isOperator, seesPrices } from "./rights.js";
import * as V from "./validation.js";
import * as Cond from "../infra/store/conditions.js";

export type Kind = (typeof offerKinds)[number];

/** An offer as a caller sees it: `unitPrice` is null unless the caller sees the billed party's prices. */
export type Info = Omit<OfferRecord, "unitPrice"> & { readonly unitPrice: number | null };

/** Default trial length (DESIGN 1: TRIAL expires after `trialDays`, default 30). */
export const DEFAULT_TRIAL_DAYS = 30;
/** Prepaid terms on sale (Rainbow: one year or three years). */
export const PREPAID_TERMS = [12, 36] as const;
/** Most offers one account can have available (keeps `offers(accountId)` one bounded list). */
export const MAX_AVAILABLE = 100;

/** SKUs: upper-case commercial references such as RC-DRAAS-TRUNK-SUB or 3EY95002AA. */
export const sku = z
  .string()
  .trim()
  .transform((v) => v.toUpperCase())
  .refine((v) => /^[A-Z0-9][A-Z0-9._-]{0,39}$/.test(v), "must be 1 to 40 letters, digits, '.', '_' or '-'");

export const currency = z
  .string()
  .trim()
  .transform((v) => v.toUpperCase())
  .refine((v) => Money.isCurrency(v), "must be an ISO 4217 currency code such as USD");

const createInput = z
  .object({
    sku,
    name: V.name,
    kind: z.enum(offerKinds),
    family: V.absentIfNull(sku),
    unitPrice: z.string(),
    currency,
    termMonths: V.absentIfNull(z.number().int()),
    trialDays: V.absentIfNull(z.number().int().min(1, "must be at least 1").max(365, "must be at most 365")),
    convertsTo: V.absentIfNull(sku),
    unit: V.absentIfNull(V.name),
    internalOnly: z.boolean().default(false),
  })
  .superRefine((o, ctx) => {
    const only = (field: "termMonths" | "trialDays" | "convertsTo" | "unit", kind: Kind) => {
      if (o[field] !== undefined && o.kind !== kind)
        ctx.addIssue({ code: "custom", path: [field], message: `only ${kind} offers have ${field}` });
    };
    only("termMonths", "PREPAID");
    only("trialDays", "TRIAL");
    only("convertsTo", "TRIAL");
    only("unit", "USAGE");
    if (o.kind === "PREPAID" && !PREPAID_TERMS.includes(o.termMonths as 12 | 36)) {
      ctx.addIssue({ code: "custom", path: ["termMonths"], message: "a prepaid term is 12 or 36 months" });
    }
    if (o.kind === "TRIAL" && !o.convertsTo)
      ctx.addIssue({ code: "custom", path: ["convertsTo"], message: "a trial names the paid offer it converts to" });
  });
export type CreateInput = z.input<typeof createInput>;

/** Hides prices from callers who may not see them. */
export function present(offer: OfferRecord, showPrices: boolean): Info {
  return showPrices ? offer : { ...offer, unitPrice: null };
}

/** The billed party of an account: the nearest ancestor-or-self that is billable (DESIGN 1, "Billing"). */
export async function billedParty(s: Session, account: AccountRecord): Promise<AccountRecord | undefined> {
  if (account.billable) return account;
  const path = await s.accounts(partnersAbove(account));
  return path.reverse().find((a) => a?.billable);
}

/** The ancestors that matter commercially: the platform neither narrows offers nor is billed. */
export function partnersAbove(account: Pick<AccountRecord, "path">): string[] {
  return account.path.filter((id) => id !== PLATFORM_ID);
}

/** Whether the caller sees unit prices and totals for this account's orders. */
export async function showsPrices(s: Session, account: AccountRecord): Promise<boolean> {
  const [ms, party] = await Promise.all([s.memberships(), billedParty(s, account)]);
  return seesPrices(s.actor, ms, party?.id);
}

/**
 * SKUs an account can order: what its parent made available to it, and still available at
 * every level above (a parent withdrawing an offer withdraws it from its whole subtree).
 */
export async function availableSkus(s: Session, account: Pick<AccountRecord, "path" | "offers">): Promise<Set<string>> {
  const ancestors = await s.accounts(partnersAbove(account));
  const set = new Set(account.offers);
  for (const a of ancestors) {
    if (!a) continue;
    const theirs = new Set(a.offers);
    for (const sku of set) if (!theirs.has(sku)) set.delete(sku);
  }
  return set;
}

async function platform(s: Session, action: "catalog.manage") {
  const [ms, p] = await Promise.all([s.memberships(), s.account(PLATFORM_ID)]);
  // The catalog is no secret account: a partner is told "not allowed", not "not found".
  if (!allowed(s.actor, ms, p!, action, s.now))
    throw new Forbidden("Only platform operators manage the catalog", "OPERATOR_ONLY");
}

/** Operators add an offer to the catalog. */
export async function create(s: Session, raw: CreateInput): Promise<Info> {
  if (s.actor.type !== "system") s.user();
  const input = V.parse(createInput, raw);
  await platform(s, "catalog.manage");
  const unitPrice = Money.parseAmount(input.unitPrice, input.currency, "unitPrice");
  let family = input.family ?? input.sku;
  if (input.kind === "TRIAL") {
    if (unitPrice !== 0) throw Invalid.field("unitPrice", "a trial is free");
    const [target] = await s.deps.store.getOffers([input.convertsTo!]);
    if (!target) throw Invalid.field("convertsTo", "no such offer");
    if (target.kind !== "MONTHLY" && target.kind !== "PREPAID")
      throw Invalid.field("convertsTo", "a trial converts to a monthly or prepaid offer");
    if (target.currency !== input.currency)
      throw Invalid.field("currency", `must be the currency of ${target.sku} (${target.currency})`);
    // A trial licence and the paid licence it becomes are the same family: one per member.
    family = input.family ?? target.family;
  }
  const now = s.now.toISOString();
  const offer: OfferRecord = {
    sku: input.sku,
    name: input.name,
    kind: input.kind,
    family,
    unitPrice,
    currency: input.currency,
    ...(input.kind === "PREPAID" ? { termMonths: input.termMonths! } : {}),
    ...(input.kind === "TRIAL"
      ? { trialDays: input.trialDays ?? DEFAULT_TRIAL_DAYS, convertsTo: input.convertsTo! }
      : {}),
    ...(input.unit ? { unit: input.unit } : {}),
    internalOnly: input.internalOnly,
    status: "ACTIVE",
    catalog: "catalog",
    createdAt: now,
    updatedAt: now,
    version: 1,
  };
  await s.transact(
    (e) => [
      e.offer.create(offer).commit(),
      Audit.entry(e, {
        accountId: PLATFORM_ID,
        action: "offer.created",
        actor: s.actor,
        at: s.now,
        subjectId: offer.sku,
        details: { price: Money.format(unitPrice, offer.currency), currency: offer.currency },
      }).commit(),
    ],
    { otherwise: () => new Conflict(`An offer ${offer.sku} already exists`) },
  );
  return offer;
}

async function loadForChange(s: Session, rawSku: string): Promise<OfferRecord> {
  s.principal();
  const code = V.parse(sku, rawSku, ["sku"]);
  await platform(s, "catalog.manage");
  const [offer] = await s.deps.store.getOffers([code]);
  if (!offer) throw new NotFound("Offer");
  return offer;
}

/** Changes the price of future orders; existing subscriptions keep theirs. */
export async function updatePrice(s: Session, input: { sku: string; unitPrice: string }): Promise<Info> {
  const offer = await loadForChange(s, input.sku);
  const unitPrice = Money.parseAmount(input.unitPrice, offer.currency, "unitPrice");
  if (offer.kind === "TRIAL" && unitPrice !== 0) throw Invalid.field("unitPrice", "a trial is free");
  if (offer.status === "RETIRED") throw new Conflict("The offer is retired");
  if (unitPrice === offer.unitPrice) return offer;
  const next: OfferRecord = { ...offer, unitPrice, updatedAt: s.now.toISOString(), version: offer.version + 1 };
  await s.transact(
    (e) => [
      e.offer
        .patch({ sku: offer.sku })
        .set({ unitPrice, updatedAt: next.updatedAt, version: next.version })
        .where(Cond.atVersion(offer.version))
        .commit(),
      Audit.entry(e, {
        accountId: PLATFORM_ID,
        action: "offer.priceChanged",
        actor: s.actor,
        at: s.now,
        subjectId: offer.sku,
        details: { from: Money.format(offer.unitPrice, offer.currency), to: Money.format(unitPrice, offer.currency) },
      }).commit(),
    ],
    { otherwise: () => new Conflict("The offer changed meanwhile; reload and try again") },
  );
  return next;
}

/** Retires an offer: no new orders or availability; existing subscriptions continue. */
export async function retire(s: Session, input: { sku: string }): Promise<Info> {
  const offer = await loadForChange(s, input.sku);
  if (offer.status === "RETIRED") return offer;
  const next: OfferRecord = { ...offer, status: "RETIRED", updatedAt: s.now.toISOString(), version: offer.version + 1 };
  await s.transact(
    (e) => [
      e.offer
        .patch({ sku: offer.sku })
        .set({ status: "RETIRED", updatedAt: next.updatedAt, version: next.version })
        .where(Cond.atVersion(offer.version))
        .commit(),
      Audit.entry(e, {
        accountId: PLATFORM_ID,
        action: "offer.retired",
        actor: s.actor,
        at: s.now,
        subjectId: offer.sku,
      }).commit(),
    ],
    { otherwise: () => new Conflict("The offer changed meanwhile; reload and try again") },
  );
  return next;
}

/** The whole catalog, by sku (operators). */
export async function catalog(s: Session, args: PageArgs & { includeRetired?: boolean | null }): Promise<Page<Info>> {
  s.principal();
  await platform(s, "catalog.manage");
  const page = await paged(args, (limit, cursor) => s.deps.store.listCatalog(limit, cursor));
  return args.includeRetired ? page : { ...page, items: page.items.filter((i) => i.node.status === "ACTIVE") };
}

/** `offers(accountId)`: what the account can order now, by sku; prices only for those who see them. */
export async function available(s: Session, accountId: string): Promise<Info[]> {
  const { account, memberships: ms } = await s.authorized(accountId, "account.read");
  const a = account!;
  // The platform's offers are the whole catalog: prices to operators only (security rule 8).
  if (a.id === PLATFORM_ID)
    return (await s.deps.store.allCatalog())
      .filter((o) => o.status === "ACTIVE")
      .map((o) => present(o, isOperator(s.actor, ms)));
  const [skus, show] = await Promise.all([availableSkus(s, a), showsPrices(s, a)]);
  const offers = await s.offers([...skus].sort());
  return offers.filter((o): o is OfferRecord => o?.status === "ACTIVE").map((o) => present(o, show));
}

const availabilityInput = z.object({
  accountId: z.string().min(1),
  skus: z
    .array(sku)
    .max(MAX_AVAILABLE, `at most ${MAX_AVAILABLE} offers`)
    .superRefine((list, ctx) => {
      const seen = new Set<string>();
      list.forEach((v, i) => {
        if (seen.has(v)) ctx.addIssue({ code: "custom", path: [i], message: `${v} is listed twice` });
        seen.add(v);
      });
    }),
});

/**
 * "Edit Available Services": the sellers above an account choose which offers it may order,
 * among those available to its parent (the whole catalog for a distributor's operators).
 */
export async function setAvailable(s: Session, raw: z.input<typeof availabilityInput>): Promise<AccountRecord> {
  s.principal();
  const input = V.parse(availabilityInput, raw);
  const { account } = await s.authorized(input.accountId, "offers.setAvailable");
  const a = account!;
  const parent = (await s.account(a.parentId))!;
  const [offers, party, parentSkus] = await Promise.all([
    s.offers(input.skus),
    billedParty(s, a),
    parent.id === PLATFORM_ID ? Promise.resolve(undefined) : availableSkus(s, parent),
  ]);
  const issues: { path: string[]; message: string }[] = [];
  offers.forEach((o, i) => {
    const path = ["skus", String(i)];
    if (!o) return issues.push({ path, message: `no offer ${input.skus[i]}` });
    if (o.status !== "ACTIVE") return issues.push({ path, message: `${o.sku} is retired` });
    if (parentSkus && !parentSkus.has(o.sku))
      return issues.push({ path, message: `${o.sku} is not available to the parent account` });
    if (o.internalOnly && a.kind === "CUSTOMER")
      return issues.push({ path, message: `${o.sku} is for partners' own staff only` });
    if (party?.currency && o.currency !== party.currency)
      return issues.push({
        path,
        message: `${o.sku} is in ${o.currency}; this account is billed in ${party.currency}`,
      });
    return undefined;
  });
  if (issues.length) throw new Invalid(issues);
  const offersNow = [...input.skus].sort();
  return AccountSettings.change(s, a, { offers: offersNow }, "account.offersChanged", {
    from: a.offers,
    to: offersNow,
  });
}

/** The seed offers of the local stack: created when missing, left alone when present. */
export interface SeedOffer {
  readonly sku: string;
  readonly name: string;
  readonly kind: Kind;
  readonly family?: string;
  readonly unitPrice: string;
  readonly currency: string;
  readonly termMonths?: number;
  readonly trialDays?: number;
  readonly convertsTo?: string;
  readonly unit?: string;
  readonly internalOnly?: boolean;
}

/** Seeds a catalog as the system: paid offers first, then the trials that convert to them. */
export async function seed(deps: Deps, offers: readonly SeedOffer[]): Promise<number> {
  const session = new Session(deps, { type: "system", job: "seed" });
  const existing = new Set((await deps.store.getOffers(offers.map((o) => o.sku))).flatMap((o) => (o ? [o.sku] : [])));
  const missing = offers.filter((o) => !existing.has(o.sku));
  for (const phase of [missing.filter((o) => o.kind !== "TRIAL"), missing.filter((o) => o.kind === "TRIAL")]) {
    await Promise.all(phase.map((o) => create(session, { ...o })));
  }
  return missing.length;
}

/**
 * Whether the caller may add licences of an offer to an account now: the offer is on sale,
 * available to the account, and partner-staff offers go through an operator. Orders and
 * quantity increases share it.
 */
export async function orderable(
  s: Session,
  account: AccountRecord,
  skus: readonly string[],
  offers: readonly (OfferRecord | undefined)[],
  field: (i: number) => string[],
): Promise<void> {
  const [ms, available, party] = await Promise.all([
    s.memberships(),
    availableSkus(s, account),
    billedParty(s, account),
  ]);
  const operator = isOperator(s.actor, ms);
  const issues: { path: string[]; message: string }[] = [];
  offers.forEach((offer, i) => {
    const at = (message: string) => issues.push({ path: field(i), message });
    if (!offer) return at(`no offer ${skus[i]}`);
    if (offer.status !== "ACTIVE") return at(`${offer.sku} is retired`);
    if (!available.has(offer.sku)) return at(`${offer.sku} is not available to this account`);
    if (offer.internalOnly) {
      // Partner staff licences: for a partner's own account, through an operator (Call2Teams "Internal Use").
      if (account.kind === "CUSTOMER") return at(`${offer.sku} is for partners' own staff only`);
      if (!operator) throw new Forbidden(`${offer.sku} is ordered through the vendor's service desk`, "OPERATOR_ONLY");
    }
    if (party?.currency && offer.currency !== party.currency)
      return at(`${offer.sku} is in ${offer.currency}; this account is billed in ${party.currency}`);
    return undefined;
  });
  if (issues.length) throw new Invalid(issues);
}

/**
 * One offer (node lookups): as `offers(accountId)` shows it to the caller (prices per that account's
 * billed party) when `seenFrom` is given, else as the catalog shows it to operators; undefined otherwise.
 */
export function find(s: Session, sku: string, seenFrom?: string): Promise<Info | undefined> {
  return unlessHidden(async () => {
    if (seenFrom !== undefined) return (await available(s, seenFrom)).find((o) => o.sku === sku);
    await platform(s, "catalog.manage");
    return (await s.deps.store.getOffers([sku]))[0];
  });
}
