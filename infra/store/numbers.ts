import type { TableKey } from "./base.js";
import { StoreBase, cursorOf, oversized, GO } from "./base.js";
import type { Page } from "./base.js";
import type { PhoneNumberRecord } from "./records.js";

type State = PhoneNumberRecord["state"];

/** The number inventory: one item per number, listed by the pool that holds it. */
export class NumberStore extends StoreBase {
  async getNumber(number: string): Promise<PhoneNumberRecord | undefined> {
    if (oversized({ number })) return undefined;
    return (await this.entities.phoneNumber.get({ number }).go({ ...GO, consistent: true })).data ?? undefined;
  }

  /** Numbers by value in BatchGetItem requests (strongly consistent), in the order asked; undefined where unknown. */
  async getNumbers(numbers: readonly string[]): Promise<(PhoneNumberRecord | undefined)[]> {
    const e = this.entities.phoneNumber;
    const keys = numbers.map((number) => e.get({ number }).params().Key as TableKey);
    const found = await this.getItems(keys);
    return keys.map((k) => {
      const item = found.get(`${k.pk}|${k.sk}`);
      return item ? (e.parse({ Item: item }).data ?? undefined) : undefined;
    });
  }

  /** An account's pool, in number order, optionally of one porting state. */
  async listNumbers(
    holderId: string,
    opts: { state?: State | null; limit: number; cursor?: string | null },
  ): Promise<Page<PhoneNumberRecord>> {
    const e = this.entities.phoneNumber;
    const state = opts.state;
    const q = state
      ? e.query.byHolder({ holderId }).where((x, op) => op.eq(x.state, state))
      : e.query.byHolder({ holderId });
    return this.page(cursorOf(e, "byHolder"), q, { ...opts, filtered: !!state });
  }

  async allNumbers(holderId: string): Promise<PhoneNumberRecord[]> {
    return this.all((limit, cursor) => this.listNumbers(holderId, { limit, cursor }));
  }
}
