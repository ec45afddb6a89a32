import { describe, expect, it } from "vitest";
import { toChangeRecord } from "./change-stream.js";

const keys = { pk: { S: "$cp#person_x" }, sk: { S: "$person_1" } };

describe("stream records as change records", () => {
  it("reads an empty map sent without its type tag (DynamoDB Local), at any depth, as the empty map", () => {
    // DynamoDB Local's stream sends a person's memberships as `{}` once the last one is removed.
    const r = toChangeRecord({
      eventName: "MODIFY",
      dynamodb: {
        Keys: keys,
        NewImage: { ...keys, memberships: {}, nested: { M: { inner: {} } }, list: { L: [{}, { S: "a" }] } },
        OldImage: { ...keys, memberships: { M: { acc1: { M: { role: { S: "OWNER" } } } } } },
        SequenceNumber: "7",
      },
    });
    expect(r?.newImage).toEqual({
      pk: "$cp#person_x",
      sk: "$person_1",
      memberships: {},
      nested: { inner: {} },
      list: [{}, "a"],
    });
    expect(r?.oldImage?.memberships).toEqual({ acc1: { role: "OWNER" } });
    expect(r?.sequenceNumber).toBe("7");
  });

  it("answers undefined for an image it cannot read, instead of throwing (the records behind it go on)", () => {
    const r = toChangeRecord({
      eventName: "INSERT",
      dynamodb: { Keys: keys, NewImage: { ...keys, odd: { Q: "no such type" } }, SequenceNumber: "8" },
    });
    expect(r).toBeUndefined();
  });

  it("answers undefined for what is not a change of the table", () => {
    expect(toChangeRecord({ eventName: "OTHER", dynamodb: { Keys: keys } })).toBeUndefined();
    expect(toChangeRecord({ eventName: "INSERT" })).toBeUndefined();
  });
});
