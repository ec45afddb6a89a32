import type { EquipmentRecord } from "../../infra/store.js";
import * as Cond from "../../infra/store/conditions.js";
import { Session } from "../context.js";
import type { Deps } from "../context.js";
import { DAY_MS } from "../time.js";

/**
 * When a PBX's heartbeats stop. A PBX is DISCONNECTED once no heartbeat came for 10 minutes, which
 * reads decide from `lastSeenAt`; for the `equipment.disconnected` event something must write that
 * moment. The sweep (every 5 minutes) finds the PBXs whose last heartbeat crossed the timeout since
 * its previous run (its watermark: a missed run is caught up by the next), through a sparse index on `lastSeenAt` in a
 * few shards, and marks each `disconnectedAt`; the change stream turns the mark into the event, and
 * the next heartbeat removes it (`equipment.connected` again). A leaf module: the lifecycle worker
 * loads it without the equipment use cases.
 */

/** CONNECTED becomes DISCONNECTED when no heartbeat came for 10 minutes (decided at read time). */
export const HEARTBEAT_TIMEOUT_MS = 10 * 60_000;
/** Shards of the liveness index: heartbeats of many PBXs spread over this many partitions. */
export const LIVENESS_SHARDS = 8;
/** The sweep's watermark (epoch ms): the last heartbeat instant already looked at. */
const SWEPT_THROUGH = "liveness-swept-through";
/** A first sweep looks back this far. */
const FIRST_LOOK_BACK_MS = DAY_MS;

/** The liveness shard of a PBX: written with every `lastSeenAt`. */
export function shardOf(equipmentId: string): string {
  let h = 0;
  for (const ch of equipmentId) h = (h * 31 + (ch.codePointAt(0) ?? 0)) >>> 0;
  return String(h % LIVENESS_SHARDS);
}

/** What every write of a heartbeat instant sets beside it: the shard, so the item is in the liveness index. */
export const alive = (equipmentId: string) => ({ livenessShard: shardOf(equipmentId) });

/** Marks the PBXs whose heartbeats stopped since the last sweep; answers how many it marked. Idempotent. */
export async function sweep(deps: Deps): Promise<number> {
  const s = new Session(deps, { type: "system", job: "liveness" });
  const store = s.deps.store;
  const until = s.now.getTime() - HEARTBEAT_TIMEOUT_MS;
  const stored = await store.counterValue(SWEPT_THROUGH);
  const from = stored > 0 ? stored : until - FIRST_LOOK_BACK_MS;
  if (until <= from) return 0;
  const fromIso = new Date(from).toISOString();
  const untilIso = new Date(until).toISOString();
  const found = (
    await Promise.all(
      Array.from({ length: LIVENESS_SHARDS }, (_v, i) => store.heartbeatsBetween(String(i), fromIso, untilIso)),
    )
  ).flat();
  let marked = 0;
  for (const eq of found.filter((e) => silent(e, fromIso))) {
    const at = new Date(new Date(eq.lastSeenAt!).getTime() + HEARTBEAT_TIMEOUT_MS).toISOString();
    const done = await s.transact(
      (e) => [
        e.equipment
          .patch({ accountId: eq.accountId, equipmentId: eq.equipmentId })
          .set({ disconnectedAt: at })
          .where(Cond.silentSince(eq.lastSeenAt!))
          .commit(),
      ],
      // A heartbeat came meanwhile, or the PBX went: nothing to mark.
      { otherwise: "skip" },
    );
    if (done) marked += 1;
  }
  // A concurrent sweep may have moved it as far: then nothing is written.
  await s.transact(
    (e) => [
      stored > 0
        ? e.counter.patch({ name: SWEPT_THROUGH }).set({ value: until }).where(Cond.counterBelow(until)).commit()
        : e.counter.create({ name: SWEPT_THROUGH, value: until }).commit(),
    ],
    { otherwise: "skip" },
  );
  return marked;
}

/** A paired PBX whose last heartbeat is after the previous sweep's bound, not marked yet. */
function silent(e: EquipmentRecord, afterIso: string): boolean {
  return (
    e.status === "CONNECTED" &&
    !e.removing &&
    !e.disconnectedAt &&
    e.lastSeenAt !== undefined &&
    e.lastSeenAt > afterIso
  );
}
