/**
 * One round of range-based set reconciliation, as pure code over a
 * SyncStorage: given the ranges a peer sent, the ranges to answer and what
 * each side lacks. It answers as nwaku's processPayload does (seq_storage.nim),
 * in what nwaku can read, with three choices of Keeper's that cost the peer
 * nothing to understand:
 *
 * - One difference is found without splitting: when the XOR of the two
 *   fingerprints is the hash of a message we hold in the range, that message
 *   is the difference. We push it and answer with an item set of just that
 *   instant, so the peer learns it too.
 * - An item set we lack nothing against, and which lacks nothing of ours, is
 *   answered Skip instead of being echoed; one that differs is echoed only
 *   around the instants that differ (Skip between them).
 * - An empty range is sent as an unreconciled empty item set, never as a
 *   reconciled one, so the peer answers with its items and we learn exactly
 *   which messages to expect (transfer.ts accepts nothing else).
 *
 * Consecutive Skips are merged; a reply of Skips only is empty, which ends the
 * session.
 */
import { RangeType } from './codec.ts';
import type { SyncRange } from './codec.ts';
import { boundAt, compareIds, sameHash, xorInto } from './ids.ts';
import type { SyncId } from './ids.ts';
import { partitionTimes } from './storage.ts';
import type { SyncStorage } from './storage.ts';

export interface ReconcileParams {
  /** Parts a mismatching range is split into. */
  partitions: number;
  /**
   * A range of more items than `partitions` × this splits into parts of about
   * this many instead (at most `maxPartitions`): every level where nearly all
   * ranges differ costs a scan of the whole window, so large windows go to
   * small parts in one step. nwaku reads any number of ranges.
   */
  fanOutItems: number;
  maxPartitions: number;
  /** Ranges with at most this many items are sent as item sets. */
  itemSetThreshold: number;
  /** The most of our items one reply lists: beyond it, ranges go as fingerprints, to a later round. */
  maxReplyItems: number;
  /** The most differences one session collects (both ways). */
  maxDiffs: number;
}

/** nwaku's: seq_storage.nim SeqStorage.new (threshold 100, 8 partitions). */
export const NWAKU_PARAMS = { partitions: 8, itemSetThreshold: 100, fanOutItems: Number.POSITIVE_INFINITY } as const;

export const DEFAULT_PARAMS: ReconcileParams = { partitions: 8, fanOutItems: 2048, maxPartitions: 512, itemSetThreshold: 4, maxReplyItems: 50_000, maxDiffs: 200_000 };

export interface Round {
  /** The answer; empty when every range is done. */
  reply: SyncRange[];
  /** Ours, missing at the peer: to push. */
  theyLack: SyncId[];
  /** The peer's, missing here: to expect over transfer. */
  weLack: SyncId[];
  /** Differences left for another session (the session's budget ran out). */
  truncated: boolean;
}

/** What the peer sent that no honest peer sends. */
export class SyncProtocolError extends Error {
  readonly reason: string;
  constructor(reason: string, detail: string) {
    super(`${reason}: ${detail}`);
    this.name = 'SyncProtocolError';
    this.reason = reason;
  }
}

/** The lower bound of each range: the first is `start`, the others the previous upper's time. */
export function lowerBounds(start: bigint, ranges: readonly SyncRange[]): SyncId[] {
  return ranges.map((_, i) => boundAt(i === 0 ? start : (ranges[i - 1] as SyncRange).upper.time));
}

/**
 * Refuses ranges no honest peer sends: empty or inverted bounds, item sets
 * unordered or outside their range, anything outside the session's window.
 */
export function checkRanges(start: bigint, ranges: readonly SyncRange[], window: { lower: SyncId; upper: SyncId }): void {
  if (ranges.length === 0) return;
  if (start < window.lower.time) throw new SyncProtocolError('out-of-window', 'a range starts before the session window');
  const lowers = lowerBounds(start, ranges);
  ranges.forEach((r, i) => {
    const lower = lowers[i] as SyncId;
    if (compareIds(r.upper, lower) <= 0) throw new SyncProtocolError('malformed', 'a range whose upper bound is not above its lower bound');
    if (r.type !== RangeType.ItemSet) return;
    let prev: SyncId | undefined;
    for (const item of r.items) {
      if (compareIds(item, lower) < 0 || compareIds(item, r.upper) > 0) throw new SyncProtocolError('malformed', 'an item outside its range');
      if (prev !== undefined && compareIds(prev, item) >= 0) throw new SyncProtocolError('malformed', 'item set not in order');
      prev = item;
    }
  });
  const last = ranges[ranges.length - 1] as SyncRange;
  if (compareIds(last.upper, window.upper) > 0) throw new SyncProtocolError('out-of-window', 'a range ends after the session window');
}

/** The initiator's first ranges: one fingerprint over the whole window. */
export async function openingRanges(storage: SyncStorage, lower: SyncId, upper: SyncId): Promise<SyncRange[]> {
  const { total } = await storage.summarize([lower, upper]);
  return [{ type: RangeType.Fingerprint, upper, fingerprint: total.fingerprint }];
}

/** Our answer to the peer's ranges (already checked by checkRanges), and the differences found. */
export async function reconcileRound(storage: SyncStorage, start: bigint, ranges: readonly SyncRange[], params: ReconcileParams): Promise<Round> {
  const b = new RoundBuilder(storage, params);
  const lowers = lowerBounds(start, ranges);
  for (let i = 0; i < ranges.length; i++) {
    const r = ranges[i] as SyncRange;
    const lower = lowers[i] as SyncId;
    if (r.type === RangeType.Skip) b.skip(r.upper);
    else if (r.type === RangeType.Fingerprint) await b.fingerprint(lower, r.upper, r.fingerprint);
    else await b.itemSet(lower, r.upper, r.items, r.reconciled);
  }
  return b.finish();
}

/** Our items are read in pages this long while an item set is compared with them. */
const PAGE = 4096;

class RoundBuilder {
  private readonly storage: SyncStorage;
  private readonly p: ReconcileParams;
  private readonly out: SyncRange[] = [];
  private readonly theyLack: SyncId[] = [];
  private readonly weLack: SyncId[] = [];
  private listed = 0;
  private truncated = false;

  constructor(storage: SyncStorage, params: ReconcileParams) {
    this.storage = storage;
    this.p = params;
  }

  skip(upper: SyncId): void {
    const last = this.out[this.out.length - 1];
    if (last?.type === RangeType.Skip) last.upper = upper;
    else this.out.push({ type: RangeType.Skip, upper });
  }

  finish(): Round {
    const reply = this.out.every((r) => r.type === RangeType.Skip) ? [] : this.out;
    return { reply, theyLack: this.theyLack, weLack: this.weLack, truncated: this.truncated };
  }

  private get diffsLeft(): number {
    return this.p.maxDiffs - this.theyLack.length - this.weLack.length;
  }

  /** Our items of a range as an item set, or — past the reply's budget — the range's fingerprint, for a later round. */
  private async send(lower: SyncId, upper: SyncId, count: number, fingerprint: Uint8Array): Promise<void> {
    if (this.listed + count > this.p.maxReplyItems) {
      this.out.push({ type: RangeType.Fingerprint, upper, fingerprint });
      return;
    }
    const items = count === 0 ? [] : await this.storage.items(lower, upper, count);
    this.listed += items.length;
    this.out.push({ type: RangeType.ItemSet, upper, items, reconciled: false });
  }

  async fingerprint(lower: SyncId, upper: SyncId, theirs: Uint8Array): Promise<void> {
    const count = await this.storage.count(lower, upper);
    const fanOut = Math.min(this.p.maxPartitions, Math.ceil(count / this.p.fanOutItems));
    const times = partitionTimes(lower.time, upper.time, Math.max(this.p.partitions, fanOut));
    const bounds = times === null ? [lower, upper] : [...times.slice(0, -1).map(boundAt), upper];
    const { parts, total } = await this.storage.summarize(bounds, count);
    if (sameHash(total.fingerprint, theirs)) return this.skip(upper);
    const delta = total.fingerprint.slice();
    xorInto(delta, theirs);
    const one = await this.storage.find(delta);
    if (one !== undefined && compareIds(one, lower) >= 0 && compareIds(one, upper) <= 0 && this.diffsLeft > 0) {
      this.theyLack.push(one);
      if (await this.instants(lower, upper, [one.time], false)) return;
    }
    if (total.count <= this.p.itemSetThreshold || times === null) return this.send(lower, upper, total.count, total.fingerprint);
    for (let i = 0; i < parts.length; i++) {
      const part = parts[i] as { count: number; fingerprint: Uint8Array };
      const partUpper = bounds[i + 1] as SyncId;
      if (part.count <= this.p.itemSetThreshold) await this.send(bounds[i] as SyncId, partUpper, part.count, part.fingerprint);
      else this.out.push({ type: RangeType.Fingerprint, upper: partUpper, fingerprint: part.fingerprint });
    }
  }

  async itemSet(lower: SyncId, upper: SyncId, theirs: readonly SyncId[], reconciled: boolean): Promise<void> {
    const differing: bigint[] = [];
    const mark = (t: bigint): void => {
      if (differing[differing.length - 1] !== t) differing.push(t);
    };
    let i = 0;
    let after: SyncId | undefined;
    let firstPage: SyncId[] | undefined;
    let oursCount = 0;
    paging: for (;;) {
      const ours = await this.storage.items(lower, upper, PAGE, after);
      firstPage ??= ours;
      oursCount += ours.length;
      for (const o of ours) {
        // Theirs before this one of ours: we lack them.
        while (i < theirs.length && compareIds(theirs[i] as SyncId, o) < 0) {
          if (this.diffsLeft <= 0) break paging;
          this.weLack.push(theirs[i] as SyncId);
          mark((theirs[i] as SyncId).time);
          i++;
        }
        if (i < theirs.length && compareIds(theirs[i] as SyncId, o) === 0) {
          i++;
          continue;
        }
        if (this.diffsLeft <= 0) break paging;
        this.theyLack.push(o);
        mark(o.time);
      }
      if (ours.length < PAGE) break;
      after = ours[ours.length - 1];
    }
    for (; i < theirs.length; i++) {
      if (this.diffsLeft <= 0) break;
      this.weLack.push(theirs[i] as SyncId);
      mark((theirs[i] as SyncId).time);
    }
    if (this.diffsLeft <= 0) this.truncated = true;
    if (reconciled || differing.length === 0) return this.skip(upper);
    // Differences in order of time, unique: echo all we hold when that is as short, else just those instants.
    differing.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const instants = differing.filter((t, k) => k === 0 || differing[k - 1] !== t);
    if (firstPage !== undefined && oursCount === firstPage.length && oursCount <= 2 * instants.length && this.listed + oursCount <= this.p.maxReplyItems) {
      this.listed += oursCount;
      this.out.push({ type: RangeType.ItemSet, upper, items: firstPage, reconciled: true });
      return;
    }
    if (!(await this.instants(lower, upper, instants, true))) {
      this.truncated = true;
      this.skip(upper);
    }
  }

  /**
   * Item sets of our items at each of `times` (ascending, inside [lower, upper]),
   * over [(t, 0), (t + 1, 0)], with Skips between. False, with nothing written,
   * when they do not fit the range or the reply's budget.
   */
  private async instants(lower: SyncId, upper: SyncId, times: readonly bigint[], reconciled: boolean): Promise<boolean> {
    const sets: { lower: SyncId; upper: SyncId; items: SyncId[] }[] = [];
    let listed = this.listed;
    for (const t of times) {
      const subLower = boundAt(t);
      const next = boundAt(t + 1n);
      const subUpper = compareIds(next, upper) <= 0 ? next : upper;
      if (compareIds(subLower, lower) < 0 || compareIds(subUpper, subLower) <= 0) return false;
      const items = await this.storage.items(subLower, subUpper, this.p.maxReplyItems - listed + 1);
      listed += items.length;
      if (listed > this.p.maxReplyItems) return false;
      sets.push({ lower: subLower, upper: subUpper, items });
    }
    this.listed = listed;
    // Where the ranges written so far end: a Skip fills the gap to the next instant, if there is one.
    let at = lower;
    for (const s of sets) {
      if (compareIds(s.lower, at) > 0) this.skip(s.lower);
      this.out.push({ type: RangeType.ItemSet, upper: s.upper, items: s.items, reconciled });
      at = s.upper;
    }
    if (compareIds(at, upper) < 0) this.skip(upper);
    return true;
  }
}
