import { describe, expect, it } from "vitest";
import { parseDeliveryMessage } from "./fan-out.js";

const ids = { v: 1, accountId: "A1", endpointId: "E1", eventId: "evt_1" };
const event = {
  type: "order.placed",
  occurredAt: "2026-11-02T09:00:00.000Z",
  accountId: "A1",
  resourceType: "Order",
  resourceId: "T3JkZXI6MQ==",
  version: 1,
};

describe("delivery messages", () => {
  it("read a delivery with its thin event, or a test event; unknown fields are dropped", () => {
    expect(parseDeliveryMessage(JSON.stringify({ ...ids, event: { ...event, price: 10 } }))).toEqual({ ...ids, event });
    expect(parseDeliveryMessage(JSON.stringify({ ...ids, test: { occurredAt: event.occurredAt } }))).toEqual({
      ...ids,
      test: { occurredAt: event.occurredAt },
    });
    expect(parseDeliveryMessage(JSON.stringify(ids))).toEqual(ids);
  });

  it("anything else is dropped (undefined), never retried", () => {
    for (const body of [
      "",
      "{",
      "null",
      "[]",
      JSON.stringify({ ...ids, v: 2 }),
      JSON.stringify({ ...ids, endpointId: 1 }),
      JSON.stringify({ ...ids, test: {} }),
      JSON.stringify({ ...ids, event: { ...event, version: "1" } }),
      JSON.stringify({ ...ids, event: { type: "x" } }),
    ]) {
      expect(parseDeliveryMessage(body), body).toBeUndefined();
    }
  });
});
