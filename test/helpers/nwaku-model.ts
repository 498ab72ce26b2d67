/**
 * A model of nwaku's side of a reconciliation session, written from reading
 * waku_store_sync (seq_storage.nim processPayload, reconciliation.nim
 * processRequest) to test Keeper against what nwaku answers: its 8 partitions
 * and 100-item threshold, reconciled empty sets for ranges outside its
 * elements, full echoes of item sets, no shortcut for a single difference.
 * It speaks through Keeper's codec, so every frame crosses the wire format.
 */
import { decodeRanges, encodeRanges, RangeType } from '../../main/core/sync/codec.ts';
import type { SyncRange } from '../../main/core/sync/codec.ts';
import { boundAt, compareIds, fingerprintOf, sameHash } from '../../main/core/sync/ids.ts';
import type { SyncId } from '../../main/core/sync/ids.ts';
import { lowerBounds } from '../../main/core/sync/reconcile.ts';
import type { Step } from '../../main/core/sync/session.ts';
import { partitionTimes } from '../../main/core/sync/storage.ts';
import type { MemoryStorage } from './sync-memory-storage.ts';

export class NwakuSession {
  private readonly s: MemoryStorage;
  private readonly threshold: number;
  private readonly partitions: number;
  private readonly topics: string[];
  done = false;
  truncated = false;
  refused = false;

  constructor(storage: MemoryStorage, topics: string[] = [], threshold = 100, partitions = 8) {
    this.s = storage;
    this.topics = topics;
    this.threshold = threshold;
    this.partitions = partitions;
  }

  /** nwaku's initiate(): one fingerprint over (start, 0) .. (end, 0xff…). */
  async open(startNs: bigint, endNs: bigint): Promise<Uint8Array> {
    const upper = { time: endNs, hash: new Uint8Array(32).fill(0xff) };
    const fp = fingerprintOf(this.s.slice(boundAt(startNs), upper));
    return encodeRanges({ pubsubTopics: this.topics, contentTopics: [], start: startNs, ranges: [{ type: RangeType.Fingerprint, upper, fingerprint: fp }] });
  }

  async receive(frame: Uint8Array): Promise<Step> {
    const p = decodeRanges(frame);
    if (p.ranges.length === 0 || p.ranges.every((r) => r.type === RangeType.Skip)) return this.end(null);
    const out: { lower: SyncId; upper: SyncId; r: SyncRange }[] = [];
    const theyLack: SyncId[] = [];
    const weLack: SyncId[] = [];
    const lowers = lowerBounds(p.start, p.ranges);
    p.ranges.forEach((r, i) => {
      const lower = lowers[i] as SyncId;
      if (r.type === RangeType.Skip) out.push({ lower, upper: r.upper, r });
      else if (r.type === RangeType.Fingerprint) this.fingerprint(lower, r.upper, r.fingerprint, out);
      else this.itemSet(lower, r.upper, r.items, r.reconciled, out, theyLack, weLack);
    });
    // Consecutive Skips merged; Skips only become the empty payload.
    const merged: SyncRange[] = [];
    for (const o of out) {
      const last = merged[merged.length - 1];
      if (o.r.type === RangeType.Skip && last?.type === RangeType.Skip) last.upper = o.upper;
      else merged.push(o.r.type === RangeType.Skip ? { type: RangeType.Skip, upper: o.upper } : o.r);
    }
    const ranges = merged.every((r) => r.type === RangeType.Skip) ? [] : merged;
    const reply = encodeRanges({ pubsubTopics: this.topics, contentTopics: [], start: out[0]?.lower.time ?? p.start, ranges });
    return { ...this.end(reply, ranges.length === 0), theyLack, weLack };
  }

  private end(reply: Uint8Array | null, done = true): Step {
    this.done = done;
    return { reply, done, theyLack: [], weLack: [] };
  }

  /** findIdxBounds: null when the range lies wholly before or after every element. */
  private slice(lower: SyncId, upper: SyncId): SyncId[] | null {
    const ids = this.s.ids;
    if (ids.length === 0 || compareIds(ids[0] as SyncId, upper) > 0 || compareIds(ids[ids.length - 1] as SyncId, lower) < 0) return null;
    return this.s.slice(lower, upper);
  }

  private fingerprint(lower: SyncId, upper: SyncId, theirs: Uint8Array, out: { lower: SyncId; upper: SyncId; r: SyncRange }[]): void {
    const mine = this.slice(lower, upper);
    if (sameHash(fingerprintOf(mine ?? []), theirs)) return void out.push({ lower, upper, r: { type: RangeType.Skip, upper } });
    if (mine === null) return void out.push({ lower, upper, r: { type: RangeType.ItemSet, upper, items: [], reconciled: true } });
    if (mine.length <= this.threshold) return void out.push({ lower, upper, r: { type: RangeType.ItemSet, upper, items: mine, reconciled: false } });
    // nwaku gives up on a range narrower than its partition count: it answers nothing for it.
    const times = partitionTimes(lower.time, upper.time, this.partitions) ?? [];
    for (let i = 0; i + 1 < times.length; i++) {
      const pl = boundAt(times[i] as bigint);
      const pu = boundAt(times[i + 1] as bigint);
      const part = this.slice(pl, pu);
      if (part === null) out.push({ lower: pl, upper: pu, r: { type: RangeType.ItemSet, upper: pu, items: [], reconciled: true } });
      else if (part.length <= this.threshold) out.push({ lower: pl, upper: pu, r: { type: RangeType.ItemSet, upper: pu, items: part, reconciled: false } });
      else out.push({ lower: pl, upper: pu, r: { type: RangeType.Fingerprint, upper: pu, fingerprint: fingerprintOf(part) } });
    }
  }

  private itemSet(
    lower: SyncId,
    upper: SyncId,
    theirs: readonly SyncId[],
    reconciled: boolean,
    out: { lower: SyncId; upper: SyncId; r: SyncRange }[],
    theyLack: SyncId[],
    weLack: SyncId[],
  ): void {
    const mine = this.slice(lower, upper);
    if (mine === null) {
      // nwaku records nothing here, though the peer's items are missing at its side.
      out.push({ lower, upper, r: reconciled ? { type: RangeType.Skip, upper } : { type: RangeType.ItemSet, upper, items: [], reconciled: true } });
      return;
    }
    let i = 0;
    for (const o of mine) {
      while (i < theirs.length && compareIds(theirs[i] as SyncId, o) < 0) weLack.push(theirs[i++] as SyncId);
      if (i < theirs.length && compareIds(theirs[i] as SyncId, o) === 0) i++;
      else theyLack.push(o);
    }
    while (i < theirs.length) weLack.push(theirs[i++] as SyncId);
    out.push({ lower, upper, r: reconciled ? { type: RangeType.Skip, upper } : { type: RangeType.ItemSet, upper, items: mine, reconciled: true } });
  }
}
