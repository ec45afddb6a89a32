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

/**
 * An attribute value as `unmarshall` reads it. DynamoDB Local's stream sends an empty map as `{}`,
 * without its `M` tag (AWS sends `{"M":{}}`), e.g. a person's memberships once the last one is
 * removed: read as the empty map it is, inside maps and lists too.
 */
function tagged(v: unknown): unknown {
  if (v === null || typeof v !== "object" || Array.isArray(v)) return v;
  const o = v as Record<string, unknown>;
  if (Object.keys(o).length === 0) return { M: {} };
  if (o.M && typeof o.M === "object") return { M: tags(o.M as Record<string, unknown>) };
  if (Array.isArray(o.L)) return { L: o.L.map(tagged) };
  return v;
}

const tags = (i: Record<string, unknown>) => Object.fromEntries(Object.entries(i).map(([k, v]) => [k, tagged(v)]));

const image = (i: Record<string, unknown> | undefined) =>
  i ? unmarshall(tags(i) as Record<string, AttributeValue>) : undefined;

/**
 * A Lambda stream record or a GetRecords record as a ChangeRecord; undefined for anything else and
 * for an image that cannot be read (so one odd record never holds up the records behind it).
 */
export function toChangeRecord(r: RawStreamRecord): ChangeRecord | undefined {
  const d = r.dynamodb;
  const name = r.eventName;
  if (!d?.Keys || (name !== "INSERT" && name !== "MODIFY" && name !== "REMOVE")) return undefined;
  let keys: Record<string, unknown>;
  let newImage: Record<string, unknown> | undefined;
  let oldImage: Record<string, unknown> | undefined;
  try {
    keys = image(d.Keys)!;
    newImage = image(d.NewImage);
    oldImage = image(d.OldImage);
  } catch {
    return undefined;
  }
  return {
    eventName: name,
    keys: { pk: String(keys.pk), sk: String(keys.sk) },
    ...(newImage ? { newImage } : {}),
    ...(oldImage ? { oldImage } : {}),
    sequenceNumber: d.SequenceNumber ?? "",
  };
}
