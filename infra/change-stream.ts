import type { AttributeValue } from "@aws-sdk/client-dynamodb";
import { unmarshall } from "@aws-sdk/util-dynamodb";

/** One committed change of the table, as DynamoDB Streams reports it (images unmarshalled). */
export interface ChangeRecord {
  readonly eventName: "INSERT" | "MODIFY" | "REMOVE";
  readonly keys: { readonly pk: string; readonly sk: string };
  readonly newImage?: Record<string, unknown>;
  readonly oldImage?: Record<string, unknown>;
  readonly sequenceNumber: string;
}

/** The part of a stream record both Lambda's event and GetRecords carry. */
export interface RawStreamRecord {
  readonly eventName?: string | undefined;
  readonly dynamodb?:
    | {
        readonly Keys?: Record<string, unknown> | undefined;
        readonly NewImage?: Record<string, unknown> | undefined;
        readonly OldImage?: Record<string, unknown> | undefined;
        readonly SequenceNumber?: string | undefined;
      }
    | undefined;
}

const image = (i: Record<string, unknown> | undefined) =>
  i ? unmarshall(i as Record<string, AttributeValue>) : undefined;

/** A Lambda stream record or a GetRecords record as a ChangeRecord (undefined for anything unreadable). */
export function toChangeRecord(r: RawStreamRecord): ChangeRecord | undefined {
  const d = r.dynamodb;
  const name = r.eventName;
  if (!d?.Keys || (name !== "INSERT" && name !== "MODIFY" && name !== "REMOVE")) return undefined;
  const keys = image(d.Keys)!;
  const newImage = image(d.NewImage);
  const oldImage = image(d.OldImage);
  return {
    eventName: name,
    keys: { pk: String(keys.pk), sk: String(keys.sk) },
    ...(newImage ? { newImage } : {}),
    ...(oldImage ? { oldImage } : {}),
    sequenceNumber: d.SequenceNumber ?? "",
  };
}
