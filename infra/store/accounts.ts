import { QueryCommand } from "@aws-sdk/lib-dynamodb";
import { StoreBase, cursorOf, oversized, GO } from "./base.js";
import type { Page } from "./base.js";
import type {
  AccountRecord,
  AdministeredRecord,
  AuditRecord,
  BehalfRecord,
  InvitationRecord,
  MemberRecord,
  PersonRecord,
  SubtreeRecord,
} from "./records.js";

/** Accounts and the people on them: the hierarchy, members, invitations, history, partner administration. */
export class AccountStore extends StoreBase {
  async getAccount(id: string): Promise<AccountRecord | undefined> {
    const [a] = await this.batchGet([{ type: "account", id }]);
    return a as AccountRecord | undefined;
  }

  async getPerson(email: string): Promise<PersonRecord | undefined> {
    const [p] = await this.batchGet([{ type: "person", email }]);
    return p as PersonRecord | undefined;
  }

  /** Children of an account, ordered by name, optionally by name prefix or reference prefix. */
  async listChildren(
    parentId: string,
    opts: { namePrefix?: string; referencePrefix?: string; limit: number; cursor?: string | null },
  ): Promise<Page<AccountRecord>> {
    const e = this.entities.account;
    return opts.referencePrefix !== undefined
      ? this.page(
          cursorOf(e, "childrenByReference"),
          e.query.childrenByReference({ parentId }).begins({ referenceKey: opts.referencePrefix }),
          opts,
        )
      : this.page(
          cursorOf(e, "childrenByName"),
          e.query.childrenByName({ parentId }).begins({ nameKey: opts.namePrefix ?? "" }),
          opts,
        );
  }

  /** Descendants of an account (any depth) whose name or reference starts with a prefix. */
  async searchSubtree(
    ancestorId: string,
    opts: { namePrefix?: string; referencePrefix?: string; limit: number; cursor?: string | null },
  ): Promise<Page<SubtreeRecord>> {
    const e = this.entities.subtree;
    return opts.referencePrefix !== undefined
      ? this.page(
          cursorOf(e, "byAncestorReference"),
          e.query.byAncestorReference({ ancestorId }).begins({ referenceKey: opts.referencePrefix }),
          opts,
        )
      : this.page(
          cursorOf(e, "byAncestorName"),
          e.query.byAncestorName({ ancestorId }).begins({ nameKey: opts.namePrefix ?? "" }),
          opts,
        );
  }

  /** Every descendant entry of an account, all pages (account moves; bounded by the caller: stops past `max`). */
  async listSubtree(ancestorId: string, max: number): Promise<SubtreeRecord[]> {
    const e = this.entities.subtree;
    return this.all(
      (limit, cursor) => this.page(cursorOf(e, "byAncestor"), e.query.byAncestor({ ancestorId }), { limit, cursor }),
      (read) => read.length > max,
    );
  }

  async getMember(accountId: string, email: string): Promise<MemberRecord | undefined> {
    const r = await this.entities.member.get({ accountId, email }).go(GO);
    return r.data ?? undefined;
  }

  async listMembers(accountId: string, limit: number, cursor?: string | null): Promise<Page<MemberRecord>> {
    const e = this.entities.member;
    return this.page(cursorOf(e, "byAccount"), e.query.byAccount({ accountId }), { limit, cursor });
  }

  async allMembers(accountId: string): Promise<MemberRecord[]> {
    return this.all((limit, cursor) => this.listMembers(accountId, limit, cursor));
  }

  /** Active owners of an account (small: an account has a handful of members). */
  async listOwners(accountId: string): Promise<MemberRecord[]> {
    return (await this.allMembers(accountId)).filter((m) => m.role === "OWNER" && m.status === "ACTIVE");
  }

  async getInvitation(tokenHash: string): Promise<InvitationRecord | undefined> {
    const r = await this.entities.invitation.get({ tokenHash }).go(GO);
    return r.data ?? undefined;
  }

  async listInvitations(accountId: string, limit: number, cursor?: string | null): Promise<Page<InvitationRecord>> {
    const e = this.entities.invitation;
    return this.page(cursorOf(e, "byAccount"), e.query.byAccount({ accountId }), { limit, cursor });
  }

  /** One invitation of an account, by its place in the account's list (node ids carry it). */
  async getAccountInvitation(accountId: string, createdAt: string, id: string): Promise<InvitationRecord | undefined> {
    if (oversized({ accountId, createdAt, id })) return undefined;
    const r = await this.entities.invitation.query.byAccount({ accountId, createdAt, id }).go({ ...GO, limit: 1 });
    return r.data.find((i) => i.id === id);
  }

  async allInvitations(accountId: string): Promise<InvitationRecord[]> {
    return this.all((limit, cursor) => this.listInvitations(accountId, limit, cursor));
  }

  /** History of an account, newest first. */
  async listAudit(accountId: string, limit: number, cursor?: string | null): Promise<Page<AuditRecord>> {
    const e = this.entities.audit;
    return this.page(cursorOf(e, "byAccount"), e.query.byAccount({ accountId }), { limit, cursor, order: "desc" });
  }

  /** One history entry of an account. */
  async getAudit(accountId: string, at: string, id: string): Promise<AuditRecord | undefined> {
    if (oversized({ accountId, at, id })) return undefined;
    return (await this.entities.audit.get({ accountId, at, id }).go(GO)).data ?? undefined;
  }

  async setPendingDeletion(accountId: string, at: string | null): Promise<void> {
    const p = this.entities.account.patch({ id: accountId });
    await (at ? p.set({ pendingDeletionAt: at }) : p.remove(["pendingDeletionAt"])).go(GO);
  }

  /** The partition every item an account owns lives in (members, subscriptions, orders, licences, audit, usage, keys). */
  accountPartition(accountId: string): string {
    return this.entities.member.query.byAccount({ accountId }).params().ExpressionAttributeValues[":pk"] as string;
  }

  /** The partition of one subscription's ledger. */
  ledgerPartition(accountId: string, sku: string): string {
    return this.entities.change.query.bySubscription({ accountId, sku }).params().ExpressionAttributeValues[
      ":pk"
    ] as string;
  }

  /** Deletes every item of a partition, whatever its entity (account deletion), in BatchWriteItem requests. */
  async deletePartition(pk: string): Promise<number> {
    let deleted = 0;
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.client.send(
        new QueryCommand({
          TableName: this.table,
          KeyConditionExpression: "#pk = :pk",
          ExpressionAttributeNames: { "#pk": "pk" },
          ExpressionAttributeValues: { ":pk": pk },
          ProjectionExpression: "pk, sk",
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      const keys = (page.Items ?? []).map((i) => ({ pk: i.pk as string, sk: i.sk as string }));
      await this.writeItems(keys.map((Key) => ({ DeleteRequest: { Key } })));
      deleted += keys.length;
      start = page.LastEvaluatedKey;
    } while (start);
    return deleted;
  }

  /** Opted-in customers of a reseller, by name; expired opt-ins filtered out. */
  async listAdministered(
    resellerId: string,
    opts: { prefix: string; limit: number; cursor?: string | null; descending: boolean; now: string },
  ): Promise<Page<AdministeredRecord>> {
    const e = this.entities.administered;
    const q = e.query
      .byName({ resellerId })
      .begins({ nameKey: opts.prefix })
      .where((a, op) => `${op.notExists(a.until)} OR ${op.gt(a.until, opts.now)}`);
    return this.page(cursorOf(e, "byName"), q, {
      limit: opts.limit,
      cursor: opts.cursor,
      order: opts.descending ? "desc" : "asc",
      filtered: true,
    });
  }

  /** One customer's opt-in to a reseller (expired ones too: the caller checks `until`). */
  async getAdministered(resellerId: string, customerId: string): Promise<AdministeredRecord | undefined> {
    if (oversized({ resellerId, customerId })) return undefined;
    return (await this.entities.administered.get({ resellerId, customerId }).go(GO)).data ?? undefined;
  }

  /** Actions done on behalf of a customer, newest first. */
  async listBehalf(customerId: string, limit: number, cursor?: string | null): Promise<Page<BehalfRecord>> {
    const e = this.entities.behalf;
    return this.page(cursorOf(e, "byCustomer"), e.query.byCustomer({ customerId }), { limit, cursor, order: "desc" });
  }

  /** One action done on behalf of a customer. */
  async getBehalf(customerId: string, at: string, id: string): Promise<BehalfRecord | undefined> {
    if (oversized({ customerId, at, id })) return undefined;
    return (await this.entities.behalf.get({ customerId, at, id }).go(GO)).data ?? undefined;
  }
}
