import { StoreBase, cursorOf, MAX_ID, oversized, GO } from "./base.js";
import type { Page, TableKey } from "./base.js";
import type {
  EquipmentRecord,
  EquipmentTenantRecord,
  ExtensionAssignmentRecord,
  SharedEquipmentRecord,
} from "./records.js";

/** Equipment: PBXs, their tenants, extensions and extension associations. */
export class EquipmentStore extends StoreBase {
  async getEquipment(accountId: string, equipmentId: string): Promise<EquipmentRecord | undefined> {
    if (oversized({ accountId, equipmentId })) return undefined;
    return (
      (await this.entities.equipment.get({ accountId, equipmentId }).go({ ...GO, consistent: true })).data ?? undefined
    );
  }

  /** Equipment items by key in one BatchGetItem per 100 keys (the PBXs shared with a customer); result order follows `keys`. */
  async getEquipments(
    keys: readonly { accountId: string; equipmentId: string }[],
  ): Promise<(EquipmentRecord | undefined)[]> {
    const e = this.entities.equipment;
    const tableKeys = keys.map((k) => (oversized(k) ? undefined : (e.get({ ...k }).params().Key as TableKey)));
    const found = await this.getItems(tableKeys.filter((k) => k !== undefined));
    return tableKeys.map((k) => {
      const item = k && found.get(`${k.pk}|${k.sk}`);
      return item ? (e.parse({ Item: item }).data ?? undefined) : undefined;
    });
  }

  /** The equipment a device id was issued to (activation: the PBX knows nothing else). */
  async findEquipmentByDevice(deviceId: string): Promise<EquipmentRecord | undefined> {
    if (deviceId.length > MAX_ID) return undefined;
    const { data } = await this.entities.equipment.query.byDevice({ deviceId }).go({ ...GO, limit: 1 });
    return data[0];
  }

  /**
   * Equipment of an account by id, optionally of one connection state: `connectedSince` is the
   * oldest heartbeat that still counts as CONNECTED (DISCONNECTED is decided at read time).
   */
  async listEquipment(
    accountId: string,
    opts: {
      status?: "PENDING" | "CONNECTED" | "DISCONNECTED" | null;
      connectedSince: string;
      limit: number;
      cursor?: string | null;
    },
  ): Promise<Page<EquipmentRecord>> {
    const e = this.entities.equipment;
    const since = opts.connectedSince;
    const q = e.query.byAccount({ accountId }).where((x, op) => {
      const live = op.notExists(x.removing);
      switch (opts.status) {
        case "PENDING":
          return `${live} AND ${op.eq(x.status, "PENDING")}`;
        case "CONNECTED":
          return `${live} AND ${op.eq(x.status, "CONNECTED")} AND ${op.gte(x.lastSeenAt, since)}`;
        case "DISCONNECTED":
          return `${live} AND ${op.eq(x.status, "CONNECTED")} AND (${op.notExists(x.lastSeenAt)} OR ${op.lt(x.lastSeenAt, since)})`;
        default:
          return live;
      }
    });
    return this.page(cursorOf(e, "byAccount"), q, { limit: opts.limit, cursor: opts.cursor, filtered: true });
  }

  /** The partners' PBXs a customer is attached to (a handful). */
  async allSharedEquipment(customerId: string): Promise<SharedEquipmentRecord[]> {
    const e = this.entities.sharedEquipment;
    return this.all((limit, cursor) =>
      this.page(cursorOf(e, "byCustomer"), e.query.byCustomer({ customerId }), { limit, cursor }),
    );
  }

  async getSharedEquipment(customerId: string, equipmentId: string): Promise<SharedEquipmentRecord | undefined> {
    if (oversized({ customerId, equipmentId })) return undefined;
    return (
      (await this.entities.sharedEquipment.get({ customerId, equipmentId }).go({ ...GO, consistent: true })).data ??
      undefined
    );
  }

  /** A PBX's last extension report, with its instant (undefined before the first). */
  async reportedExtensionsItem(
    accountId: string,
    equipmentId: string,
  ): Promise<{ numbers: string[]; reportedAt: string } | undefined> {
    const r = (await this.entities.equipmentExtensions.get({ accountId, equipmentId }).go({ ...GO, consistent: true }))
      .data;
    return r ? { numbers: r.numbers, reportedAt: r.reportedAt } : undefined;
  }

  /** The extensions a PBX last reported (empty before its first report). */
  async reportedExtensions(accountId: string, equipmentId: string): Promise<string[]> {
    return (
      (await this.entities.equipmentExtensions.get({ accountId, equipmentId }).go({ ...GO, consistent: true })).data
        ?.numbers ?? []
    );
  }

  /** Customers attached to a multi-tenant PBX, by customer id. */
  async listEquipmentTenants(
    accountId: string,
    equipmentId: string,
    limit: number,
    cursor?: string | null,
  ): Promise<Page<EquipmentTenantRecord>> {
    const e = this.entities.equipmentTenant;
    return this.page(cursorOf(e, "byEquipment"), e.query.byEquipment({ accountId, equipmentId }), { limit, cursor });
  }

  async getEquipmentTenant(
    accountId: string,
    equipmentId: string,
    customerId: string,
  ): Promise<EquipmentTenantRecord | undefined> {
    if (oversized({ accountId, equipmentId, customerId })) return undefined;
    return (
      (await this.entities.equipmentTenant.get({ accountId, equipmentId, customerId }).go({ ...GO, consistent: true }))
        .data ?? undefined
    );
  }

  async allEquipmentTenants(accountId: string, equipmentId: string): Promise<EquipmentTenantRecord[]> {
    return this.all((limit, cursor) => this.listEquipmentTenants(accountId, equipmentId, limit, cursor));
  }

  /** Extension associations of a PBX, by extension. */
  async listEquipmentAssignments(
    accountId: string,
    equipmentId: string,
    limit: number,
    cursor?: string | null,
  ): Promise<Page<ExtensionAssignmentRecord>> {
    const e = this.entities.extensionAssignment;
    return this.page(cursorOf(e, "byEquipment"), e.query.byEquipment({ accountId, equipmentId }), { limit, cursor });
  }

  async getExtensionAssignment(
    accountId: string,
    equipmentId: string,
    extension: string,
  ): Promise<ExtensionAssignmentRecord | undefined> {
    if (oversized({ accountId, equipmentId, extension })) return undefined;
    return (
      (
        await this.entities.extensionAssignment
          .get({ accountId, equipmentId, extension })
          .go({ ...GO, consistent: true })
      ).data ?? undefined
    );
  }

  /** Extension associations of an account's members, optionally on one PBX, by PBX and extension. */
  async listCustomerAssignments(
    customerId: string,
    opts: { equipmentId?: string; limit: number; cursor?: string | null },
  ): Promise<Page<ExtensionAssignmentRecord>> {
    const e = this.entities.extensionAssignment;
    const q = opts.equipmentId
      ? e.query.byCustomer({ customerId, equipmentId: opts.equipmentId })
      : e.query.byCustomer({ customerId });
    return this.page(cursorOf(e, "byCustomer"), q, opts);
  }

  /** Paired PBXs of a liveness shard whose last heartbeat is in [from, until] (ISO instants), every page. */
  async heartbeatsBetween(shard: string, from: string, until: string): Promise<EquipmentRecord[]> {
    const e = this.entities.equipment;
    return this.all((limit, cursor) =>
      this.page(
        cursorOf(e, "byLiveness"),
        e.query.byLiveness({ livenessShard: shard }).between({ lastSeenAt: from }, { lastSeenAt: until }),
        { limit, cursor },
      ),
    );
  }

  /** Every extension association of an account's members (a release checks its numbers are free). */
  async allCustomerAssignments(customerId: string): Promise<ExtensionAssignmentRecord[]> {
    return this.all((limit, cursor) => this.listCustomerAssignments(customerId, { limit, cursor }));
  }

  /**
   * Records a heartbeat: `lastSeenAt` moves only while the credential version is the current one
   * and the equipment is paired. False when the condition failed (revoked, removed, not paired).
   */
  async touchEquipment(
    accountId: string,
    equipmentId: string,
    version: number,
    at: string,
    liveness: { livenessShard: string },
  ): Promise<boolean> {
    if (oversized({ accountId, equipmentId })) return false;
    const r = await this.entities.equipment
      .patch({ accountId, equipmentId })
      .set({ lastSeenAt: at, ...liveness })
      // Alive again: the sweep's disconnection mark goes (the change stream says equipment.connected).
      .remove(["disconnectedAt"])
      .where(
        (x, op) =>
          `${op.eq(x.credentialVersion, version)} AND ${op.eq(x.status, "CONNECTED")} AND ${op.notExists(x.removing)}`,
      )
      .go({ ...GO, response: "none", returnOnConditionCheckFailure: true });
    return !r.rejected;
  }

  /**
   * Deletes the tenants (all three items of each) and extension associations of a PBX in
   * BatchWriteItem requests; the caller has flagged the PBX `removing`, so none are added meanwhile.
   */
  async deleteEquipmentChildren(
    accountId: string,
    equipmentId: string,
  ): Promise<{ tenants: EquipmentTenantRecord[]; assignments: number }> {
    const e = this.entities;
    const tenants = await this.allEquipmentTenants(accountId, equipmentId);
    await this.deleteKeys(
      tenants.map((t) => e.sharedEquipment.delete({ customerId: t.customerId, equipmentId }).params().Key),
    );
    await this.deleteKeys(
      tenants.map(
        (t) => e.equipmentPrefix.delete({ accountId, equipmentId, companyPrefix: t.companyPrefix }).params().Key,
      ),
    );
    await this.deleteKeys(
      tenants.map((t) => e.equipmentTenant.delete({ accountId, equipmentId, customerId: t.customerId }).params().Key),
    );
    let assignments = 0;
    for (;;) {
      // Always the first page: each round deletes what it read.
      const page = await this.listEquipmentAssignments(accountId, equipmentId, 100);
      await this.deleteKeys(
        page.items.map(
          ({ node }) =>
            e.extensionAssignment.delete({ accountId, equipmentId, extension: node.extension }).params().Key,
        ),
      );
      assignments += page.items.length;
      if (!page.hasNextPage) return { tenants, assignments };
    }
  }

  /** The extension associations of one tenant customer on a PBX (strongly consistent: a detach removes exactly these). */
  async tenantAssignments(
    accountId: string,
    equipmentId: string,
    customerId: string,
  ): Promise<ExtensionAssignmentRecord[]> {
    if (oversized({ accountId, equipmentId, customerId })) return [];
    const e = this.entities.extensionAssignment;
    const q = e.query.byEquipment({ accountId, equipmentId }).where((a, op) => op.eq(a.customerId, customerId));
    const out: ExtensionAssignmentRecord[] = [];
    let cursor: string | null = null;
    do {
      const page: { data: ExtensionAssignmentRecord[]; cursor: string | null } = await q.go({
        ...GO,
        consistent: true,
        cursor,
        limit: 1000,
      });
      out.push(...page.data);
      cursor = page.cursor;
    } while (cursor);
    return out;
  }

  /** Deletes extension associations of a PBX in BatchWriteItem requests (a detach whose tenancy is flagged `detaching`). */
  async deleteExtensionAssignments(
    accountId: string,
    equipmentId: string,
    extensions: readonly string[],
  ): Promise<void> {
    const e = this.entities.extensionAssignment;
    await this.deleteKeys(extensions.map((extension) => e.delete({ accountId, equipmentId, extension }).params().Key));
  }

  protected async deleteKeys(keys: readonly TableKey[]): Promise<void> {
    await this.writeItems(keys.map((Key) => ({ DeleteRequest: { Key } })));
  }
}
