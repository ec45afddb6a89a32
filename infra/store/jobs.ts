import { ConditionFailed, StoreBase, cursorOf } from "./base.js";
import type { DueRecord } from "./records.js";

/** Scheduled jobs: the lifecycle markers of each day and the record of one-off mails sent. */
export class JobStore extends StoreBase {
  /** Lifecycle markers of one day. */
  async listDue(day: string): Promise<DueRecord[]> {
    const e = this.entities.due;
    return this.all((limit, cursor) => this.page(cursorOf(e, "byDay"), e.query.byDay({ day }), { limit, cursor }));
  }

  /** Records that a one-off mail went out; false when it already had. */
  async markSent(key: string, at: string): Promise<boolean> {
    try {
      await this.transact((e) => [e.sent.create({ key, at }).commit()]);
      return true;
    } catch (err) {
      if (err instanceof ConditionFailed) return false;
      throw err;
    }
  }
}
