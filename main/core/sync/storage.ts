/**
 * What reconciliation needs from a store of SyncIDs, for one scope (pubsub
 * topics and content topics) fixed when the session begins. Ranges are
 * inclusive at both ends, as nwaku reads them (seq_storage.nim findIdxBounds):
 * [lower, upper] holds every id with lower ≤ id ≤ upper. Adjacent ranges share
 * their bound, which, being a time with a zero hash, no real message sits on.
 *
 * Async so that an adapter over a large archive can hand the event loop back
 * between its queries.
 */
import type { SyncId } from './ids.ts';

export interface Summary {
  count: number;
  /** XOR of the hashes. */
  fingerprint: Uint8Array;
}

export interface SyncStorage {
  /**
   * Count and fingerprint of each range [bounds[i], bounds[i+1]], for
   * contiguous ascending bounds (at least two), and of the whole of
   * [bounds[0], bounds[last]] — where an id on an inner bound counts once.
   */
  summarize(bounds: readonly SyncId[], wholeCount?: number): Promise<{ parts: Summary[]; total: Summary }>;
  /** How many ids [lower, upper] holds (cheap: no hashes read). */
  count(lower: SyncId, upper: SyncId): Promise<number>;
  /** Up to `limit` ids of [lower, upper] in order; with `after`, only those past it. */
  items(lower: SyncId, upper: SyncId, limit: number, after?: SyncId): Promise<SyncId[]>;
  /** The id of the message with this hash, when it is held and in scope. */
  find(hash: Uint8Array): Promise<SyncId | undefined>;
}

/**
 * nwaku's equal partitioning (range_processing.nim): `count` slices of equal
 * time, the remainder spread one nanosecond each over the first ones, every
 * bound a time with a zero hash. Null when the range is narrower than `count`
 * nanoseconds (nwaku then gives up on it; see reconcile.ts for what Keeper does).
 */
export function partitionTimes(lowerTime: bigint, upperTime: bigint, count: number): bigint[] | null {
  const n = BigInt(count);
  const total = upperTime - lowerTime;
  if (count < 2 || total < n) return null;
  const part = total / n;
  let rem = total % n;
  const out = [lowerTime];
  let t = lowerTime;
  for (let i = 0; i < count; i++) {
    t += part;
    if (rem > 0n) {
      t += 1n;
      rem -= 1n;
    }
    out.push(t);
  }
  return out;
}
