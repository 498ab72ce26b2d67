/**
 * One side of a reconciliation session, frame in, frame out, with no network:
 * the loop of nwaku's processRequest (reconciliation.nim) plus the bounds a
 * peer that lies runs into. The initiator opens with one fingerprint over its
 * window; each side answers what it receives until one of them has nothing
 * left to say, sends the empty payload and is done; the other is done on
 * reading it. A responder that shares no topic with the initiator answers an
 * empty frame, as nwaku does.
 *
 * The responder settles the scope once, from the first payload, as nwaku's
 * preProcessPayload does (the topics both name, or the ones the side that
 * names any names), and keeps it: nwaku's later payloads carry its configured
 * topics rather than the session's, and reading them again would change the
 * set being compared halfway.
 */
import { decodeRanges, encodeRanges, RangeType, SyncCodecError } from './codec.ts';
import type { RangesPayload, SyncRange } from './codec.ts';
import { boundAt, compareIds, hashKey } from './ids.ts';
import type { SyncId } from './ids.ts';
import { checkRanges, DEFAULT_PARAMS, lowerBounds, openingRanges, reconcileRound, SyncProtocolError } from './reconcile.ts';
import type { ReconcileParams } from './reconcile.ts';
import type { SyncStorage } from './storage.ts';

export interface Scope {
  /** Empty: every pubsub topic. */
  pubsubTopics: readonly string[];
  /** Empty: every content topic. */
  contentTopics: readonly string[];
}

export interface SessionLimits {
  /** Frames received. */
  maxRounds: number;
  /** Reconciliation bytes, both ways. */
  maxBytes: number;
  /** Items received in the peer's item sets, over the session. */
  maxItems: number;
  /**
   * Fingerprint and item-set ranges in one frame: each costs a scan, and a
   * peer that splits every range it gets multiplies them by eight a round.
   * An honest frame holds about eight per difference still open.
   */
  maxRangesPerFrame: number;
}

export const DEFAULT_LIMITS: SessionLimits = { maxRounds: 100, maxBytes: 64 * 1024 * 1024, maxItems: 1_000_000, maxRangesPerFrame: 100_000 };

export interface SessionOptions {
  role: 'initiator' | 'responder';
  /** The initiator's question; the responder's own topics (what it may be asked about). */
  scope: Scope;
  /** The initiator's window, inclusive. */
  window?: { lower: SyncId; upper: SyncId };
  /** The storage for the scope settled. */
  storageFor: (scope: Scope) => SyncStorage;
  params?: Partial<ReconcileParams>;
  limits?: Partial<SessionLimits>;
  /**
   * A responder's floor (ns): ranges wholly before it are answered Skip, as
   * nwaku skips ranges before its own window — history this node does not keep
   * is neither compared nor pushed to it.
   */
  floorNs?: bigint | undefined;
}

export interface Step {
  /** The frame to send, if any. */
  reply: Uint8Array | null;
  done: boolean;
  /** New since the last step. */
  theyLack: SyncId[];
  weLack: SyncId[];
}

export class ReconcileSession {
  readonly role: 'initiator' | 'responder';
  private readonly configured: Scope;
  private readonly storageFor: (scope: Scope) => SyncStorage;
  private readonly params: ReconcileParams;
  private readonly limits: SessionLimits;
  private readonly floor: SyncId | undefined;
  private storage: SyncStorage | undefined;
  private settled: Scope | undefined;
  private window: { lower: SyncId; upper: SyncId } | undefined;
  private readonly theyLackSeen = new Set<string>();
  private readonly weLackSeen = new Set<string>();
  rounds = 0;
  bytesIn = 0;
  bytesOut = 0;
  itemsIn = 0;
  truncated = false;
  /** The peer answered an empty frame: it shares none of our topics. */
  refused = false;
  done = false;

  constructor(o: SessionOptions) {
    this.role = o.role;
    this.configured = o.scope;
    this.storageFor = o.storageFor;
    this.params = { ...DEFAULT_PARAMS, ...o.params };
    this.limits = { ...DEFAULT_LIMITS, ...o.limits };
    this.floor = o.role === 'responder' && o.floorNs !== undefined ? boundAt(o.floorNs) : undefined;
    if (o.role === 'initiator') {
      if (o.window === undefined) throw new Error('an initiator needs a window');
      this.window = o.window;
      this.settled = o.scope;
    }
  }

  get scope(): Scope | undefined {
    return this.settled;
  }

  /** The window compared: the initiator's, or (responder) the one its first payload spans. */
  get currentWindow(): { lower: SyncId; upper: SyncId } | undefined {
    return this.window;
  }

  get theyLackCount(): number {
    return this.theyLackSeen.size;
  }

  get weLackCount(): number {
    return this.weLackSeen.size;
  }

  /** The initiator's first frame. */
  async open(): Promise<Uint8Array> {
    if (this.role !== 'initiator' || this.window === undefined || this.settled === undefined) throw new Error('only an initiator opens');
    this.storage = this.storageFor(this.settled);
    const ranges = await openingRanges(this.storage, this.window.lower, this.window.upper);
    return this.emit(this.payload(this.window.lower.time, ranges));
  }

  async receive(frame: Uint8Array): Promise<Step> {
    if (this.done) throw new Error('session is over');
    this.rounds++;
    this.bytesIn += frame.length;
    if (this.rounds > this.limits.maxRounds) throw new SyncProtocolError('rounds', `more than ${this.limits.maxRounds} rounds`);
    if (this.bytesIn + this.bytesOut > this.limits.maxBytes) throw new SyncProtocolError('bytes', `more than ${this.limits.maxBytes} bytes`);
    if (frame.length === 0) {
      // nwaku's "not these topics".
      this.refused = this.role === 'initiator';
      return this.finish(null);
    }
    let p: RangesPayload;
    try {
      p = decodeRanges(frame);
    } catch (err) {
      if (err instanceof SyncCodecError) throw new SyncProtocolError('malformed', err.message);
      throw err;
    }
    if (p.ranges.length === 0 || p.ranges.every((r) => r.type === RangeType.Skip)) return this.finish(null);
    if (this.settled === undefined) {
      const scope = settleScope(p, this.configured);
      if (scope === null) return this.finish(new Uint8Array(0));
      this.settled = scope;
      const last = p.ranges[p.ranges.length - 1] as SyncRange;
      this.window = { lower: boundAt(p.start), upper: last.upper };
    }
    if (this.window === undefined) throw new Error('unreachable: no window');
    checkRanges(p.start, p.ranges, this.window);
    const open = p.ranges.reduce((n, r) => n + (r.type === RangeType.Skip ? 0 : 1), 0);
    if (open > this.limits.maxRangesPerFrame) throw new SyncProtocolError('ranges', `${open} ranges in one frame`);
    for (const r of p.ranges) if (r.type === RangeType.ItemSet) this.itemsIn += r.items.length;
    if (this.itemsIn > this.limits.maxItems) throw new SyncProtocolError('items', `more than ${this.limits.maxItems} items`);
    this.storage ??= this.storageFor(this.settled);
    const maxDiffs = Math.max(0, this.params.maxDiffs - this.theyLackSeen.size - this.weLackSeen.size);
    const round = await reconcileRound(this.storage, p.start, await this.floored(p.start, p.ranges, this.storage), { ...this.params, maxDiffs });
    // Our own split of a range across the floor: its parts before the floor are not ours to offer either (an empty item set there would say we lack it all).
    const answer = this.belowFloorSkipped(round.reply);
    if (answer.length > 0 && answer.every((r) => r.type === RangeType.Skip)) answer.length = 0;
    round.reply = answer;
    if (round.truncated || maxDiffs === 0) this.truncated = true;
    const theyLack = fresh(round.theyLack, this.theyLackSeen);
    const weLack = fresh(round.weLack, this.weLackSeen);
    const reply = this.emit(this.payload(p.start, round.reply));
    return { ...this.finish(reply, round.reply.length === 0), theyLack, weLack };
  }

  /**
   * A responder's view of the ranges it is sent: those wholly before its floor
   * are Skips; one across the floor is split there, Skip below and, above, a
   * fingerprint that cannot match ours, so that we answer with our own parts
   * of [floor, upper] and the peer never reads our empty past as a lack.
   */
  private async floored(start: bigint, ranges: SyncRange[], storage: SyncStorage): Promise<SyncRange[]> {
    const floor = this.floor;
    if (floor === undefined) return ranges;
    const lowers = lowerBounds(start, ranges);
    const out: SyncRange[] = [];
    for (let i = 0; i < ranges.length; i++) {
      const r = ranges[i] as SyncRange;
      const lower = lowers[i] as SyncId;
      if (r.type === RangeType.Skip) out.push(r);
      else if (compareIds(r.upper, floor) <= 0) out.push({ type: RangeType.Skip, upper: r.upper });
      else if (compareIds(lower, floor) >= 0 || (r.type === RangeType.ItemSet && r.reconciled)) out.push(r);
      else {
        const ours = (await storage.summarize([floor, r.upper])).total.fingerprint;
        const unlike = ours.slice();
        unlike[0] = (unlike[0] ?? 0) ^ 0xff;
        out.push({ type: RangeType.Skip, upper: floor }, { type: RangeType.Fingerprint, upper: r.upper, fingerprint: unlike });
      }
    }
    return out;
  }

  /** A responder's ranges wholly before its floor, as Skips. */
  private belowFloorSkipped(ranges: SyncRange[]): SyncRange[] {
    const floor = this.floor;
    if (floor === undefined) return ranges;
    return ranges.map((r): SyncRange => (r.type !== RangeType.Skip && compareIds(r.upper, floor) <= 0 ? { type: RangeType.Skip, upper: r.upper } : r));
  }

  private payload(start: bigint, ranges: SyncRange[]): RangesPayload {
    const scope = this.settled ?? { pubsubTopics: [], contentTopics: [] };
    return { pubsubTopics: [...scope.pubsubTopics], contentTopics: [...scope.contentTopics], start, ranges };
  }

  private emit(p: RangesPayload): Uint8Array {
    const bytes = encodeRanges(p);
    this.bytesOut += bytes.length;
    return bytes;
  }

  private finish(reply: Uint8Array | null, done = true): Step {
    this.done = done;
    return { reply, done, theyLack: [], weLack: [] };
  }
}

/** nwaku's preProcessPayload: the topics both name; else the ones either names; null when they share none. */
export function settleScope(p: Pick<RangesPayload, 'pubsubTopics' | 'contentTopics'>, ours: Scope): Scope | null {
  const one = (theirs: readonly string[], mine: readonly string[]): string[] | null => {
    if (theirs.length > 0 && mine.length > 0) {
      const common = [...new Set(theirs)].filter((t) => mine.includes(t));
      return common.length > 0 ? common : null;
    }
    return [...new Set(mine.length > 0 ? mine : theirs)];
  };
  const pubsubTopics = one(p.pubsubTopics, ours.pubsubTopics);
  const contentTopics = one(p.contentTopics, ours.contentTopics);
  return pubsubTopics === null || contentTopics === null ? null : { pubsubTopics, contentTopics };
}

function fresh(ids: readonly SyncId[], seen: Set<string>): SyncId[] {
  const out: SyncId[] = [];
  for (const id of ids) {
    const key = hashKey(id.hash);
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(id);
  }
  return out;
}

/** The window of an inclusive time range [startNs, endNs] as bounds: (start, 0) to (end + 1, 0), so messages at endNs are in. */
export function windowOf(startNs: bigint, endNs: bigint): { lower: SyncId; upper: SyncId } {
  return { lower: boundAt(startNs), upper: boundAt(endNs + 1n) };
}

/** True when `id` lies in the window. */
export function inWindow(id: SyncId, w: { lower: SyncId; upper: SyncId }): boolean {
  return compareIds(id, w.lower) >= 0 && compareIds(id, w.upper) <= 0;
}
