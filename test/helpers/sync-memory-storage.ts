/** A SyncStorage over a sorted array, for the reconciliation tests: the reference the archive adapter is checked against. */
import { compareIds, fingerprintOf, hashKey, HASH_BYTES } from '../../main/core/sync/ids.ts';
import type { SyncId } from '../../main/core/sync/ids.ts';
import type { Summary, SyncStorage } from '../../main/core/sync/storage.ts';
import { createHash } from 'node:crypto';

export class MemoryStorage implements SyncStorage {
  readonly ids: SyncId[];
  private readonly byHash = new Map<string, SyncId>();
  /** Calls made, for tests that bound the work. */
  calls = 0;

  constructor(ids: Iterable<SyncId>) {
    this.ids = [...ids].sort(compareIds);
    for (const id of this.ids) this.byHash.set(hashKey(id.hash), id);
  }

  add(id: SyncId): void {
    const key = hashKey(id.hash);
    if (this.byHash.has(key)) return;
    this.byHash.set(key, id);
    this.ids.splice(this.lowerIndex(id), 0, id);
  }

  /** Index of the first id ≥ x. */
  private lowerIndex(x: SyncId): number {
    let lo = 0;
    let hi = this.ids.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (compareIds(this.ids[mid] as SyncId, x) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Index of the first id > x. */
  private upperIndex(x: SyncId): number {
    let lo = 0;
    let hi = this.ids.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (compareIds(this.ids[mid] as SyncId, x) <= 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  slice(lower: SyncId, upper: SyncId): SyncId[] {
    return this.ids.slice(this.lowerIndex(lower), Math.max(this.lowerIndex(lower), this.upperIndex(upper)));
  }

  async summarize(bounds: readonly SyncId[]): Promise<{ parts: Summary[]; total: Summary }> {
    this.calls++;
    const parts: Summary[] = [];
    for (let i = 0; i + 1 < bounds.length; i++) {
      const s = this.slice(bounds[i] as SyncId, bounds[i + 1] as SyncId);
      parts.push({ count: s.length, fingerprint: fingerprintOf(s) });
    }
    const all = this.slice(bounds[0] as SyncId, bounds[bounds.length - 1] as SyncId);
    return { parts, total: { count: all.length, fingerprint: fingerprintOf(all) } };
  }

  async count(lower: SyncId, upper: SyncId): Promise<number> {
    this.calls++;
    return this.slice(lower, upper).length;
  }

  async items(lower: SyncId, upper: SyncId, limit: number, after?: SyncId): Promise<SyncId[]> {
    this.calls++;
    const from = after === undefined ? this.lowerIndex(lower) : Math.max(this.lowerIndex(lower), this.upperIndex(after));
    return this.ids.slice(from, Math.max(from, Math.min(this.upperIndex(upper), from + limit)));
  }

  async find(hash: Uint8Array): Promise<SyncId | undefined> {
    this.calls++;
    return this.byHash.get(hashKey(hash));
  }
}

/** A deterministic pseudo-random 32-byte hash. */
export function testHash(seed: string): Uint8Array {
  return new Uint8Array(createHash('sha256').update(seed).digest()).subarray(0, HASH_BYTES);
}

/** A small seeded generator (mulberry32), so failures replay. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
