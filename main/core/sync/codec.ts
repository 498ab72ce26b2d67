/**
 * The reconciliation payload (`RangesData`) as nwaku encodes it
 * (waku/waku_store_sync/codec.nim), byte for byte. nwaku is what runs, and it
 * differs from the spec's text (standards/core/sync.md) in three places:
 *
 * - the payload opens with the pubsub and content topics (a LEB128 count, then
 *   each as a LEB128 length and its UTF-8 bytes), not a cluster and shards;
 * - the first range's lower bound travels as a full timestamp; every other
 *   lower bound is the previous upper bound's time with a zero hash;
 * - an upper bound whose time equals the previous one carries a hash prefix
 *   cut after the first byte that differs from the *zero* hash (nwaku
 *   compares with the first lower bound, which is always zero), where the spec
 *   compares with the previous hash. Either way the receiver reads the prefix
 *   and zeros after it.
 *
 * A payload without ranges is the single byte 0. An empty frame is how nwaku
 * says it will not sync these topics (see session.ts). Every count and length
 * read is checked against what is left of the frame, so a lying length can
 * neither allocate nor loop; anything malformed throws SyncCodecError.
 */
import { HASH_BYTES, MAX_TIME, ZERO_HASH } from './ids.ts';
import type { SyncId } from './ids.ts';

export const RangeType = { Skip: 0, Fingerprint: 1, ItemSet: 2 } as const;
export type RangeType = (typeof RangeType)[keyof typeof RangeType];

export type SyncRange =
  | { type: typeof RangeType.Skip; upper: SyncId }
  | { type: typeof RangeType.Fingerprint; upper: SyncId; fingerprint: Uint8Array }
  | { type: typeof RangeType.ItemSet; upper: SyncId; items: SyncId[]; reconciled: boolean };

export interface RangesPayload {
  pubsubTopics: string[];
  contentTopics: string[];
  /** The first range's lower bound: this time, hash zero. */
  start: bigint;
  /** Contiguous: each range's lower bound is the previous upper bound's time with a zero hash. */
  ranges: SyncRange[];
}

export class SyncCodecError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SyncCodecError';
  }
}

/** nwaku reads varints from 9-byte windows: nothing it sends is longer (63 bits). */
const MAX_VARINT_BYTES = 9;
/** Each item is at least a one-byte time delta and its hash. */
const MIN_ITEM_BYTES = 1 + HASH_BYTES;
const EMPTY_PAYLOAD = Uint8Array.of(0);

export function emptyPayload(): RangesPayload {
  return { pubsubTopics: [], contentTopics: [], start: 0n, ranges: [] };
}

export function encodeRanges(p: RangesPayload): Uint8Array {
  if (p.ranges.length === 0) return EMPTY_PAYLOAD.slice();
  const w = new Writer();
  for (const topics of [p.pubsubTopics, p.contentTopics]) {
    w.varint(BigInt(topics.length));
    for (const t of topics) {
      const bytes = utf8.encode(t);
      w.varint(BigInt(bytes.length));
      w.bytes(bytes);
    }
  }
  w.varint(p.start);
  let last = p.start;
  for (const r of p.ranges) {
    if (r.upper.time < last || r.upper.time > MAX_TIME) throw new SyncCodecError('ranges out of order or beyond int64');
    const diff = r.upper.time - last;
    last = r.upper.time;
    w.varint(diff);
    if (diff === 0n) {
      // The prefix up to and including the first byte that is not zero (all 32 when none is).
      let same = 0;
      while (same < HASH_BYTES && (r.upper.hash[same] ?? 0) === 0) same++;
      same = Math.min(HASH_BYTES, same + 1);
      w.byte(same);
      w.bytes(r.upper.hash.subarray(0, same));
    }
    w.byte(r.type);
    if (r.type === RangeType.Fingerprint) w.bytes(checkedHash(r.fingerprint));
    else if (r.type === RangeType.ItemSet) {
      w.varint(BigInt(r.items.length));
      // Item times are deltas from zero, within each set.
      let t = 0n;
      for (const id of r.items) {
        if (id.time < t || id.time > MAX_TIME) throw new SyncCodecError('items out of order or beyond int64');
        w.varint(id.time - t);
        t = id.time;
        w.bytes(checkedHash(id.hash));
      }
      w.byte(r.reconciled ? 1 : 0);
    }
  }
  return w.finish();
}

export function decodeRanges(buf: Uint8Array): RangesPayload {
  if (buf.length === 0) throw new SyncCodecError('empty frame');
  if (buf.length === 1) {
    if (buf[0] !== 0) throw new SyncCodecError('a one-byte payload must be 0');
    return emptyPayload();
  }
  const r = new Reader(buf);
  const pubsubTopics = r.topics('pubsub');
  const contentTopics = r.topics('content');
  const start = r.time();
  // nwaku never sends topics without ranges: that is a payload cut short.
  if (r.done) throw new SyncCodecError('no ranges after the topics');
  let last = start;
  const ranges: SyncRange[] = [];
  while (!r.done) {
    const diff = r.varint('range bound');
    const time = last + diff;
    if (time > MAX_TIME) throw new SyncCodecError('range bound beyond int64');
    let hash = ZERO_HASH;
    if (diff === 0n) {
      const same = r.byte('hash prefix length');
      if (same > HASH_BYTES) throw new SyncCodecError(`hash prefix of ${same} bytes`);
      hash = new Uint8Array(HASH_BYTES);
      hash.set(r.bytes(same, 'hash prefix'));
    }
    last = time;
    const upper = { time, hash };
    const type = r.byte('range type');
    if (type === RangeType.Skip) ranges.push({ type: RangeType.Skip, upper });
    else if (type === RangeType.Fingerprint) ranges.push({ type: RangeType.Fingerprint, upper, fingerprint: r.bytes(HASH_BYTES, 'fingerprint').slice() });
    else if (type === RangeType.ItemSet) ranges.push({ type: RangeType.ItemSet, upper, ...r.itemSet() });
    else throw new SyncCodecError(`range type ${type}`);
  }
  return { pubsubTopics, contentTopics, start, ranges };
}

function checkedHash(h: Uint8Array): Uint8Array {
  if (h.length !== HASH_BYTES) throw new SyncCodecError(`a hash of ${h.length} bytes`);
  return h;
}

const utf8 = new TextEncoder();
const utf8Strict = new TextDecoder('utf-8', { fatal: true });

class Writer {
  private buf = new Uint8Array(256);
  private at = 0;

  private room(n: number): void {
    if (this.at + n <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.at + n));
    next.set(this.buf.subarray(0, this.at));
    this.buf = next;
  }

  byte(b: number): void {
    this.room(1);
    this.buf[this.at++] = b;
  }

  bytes(b: Uint8Array): void {
    this.room(b.length);
    this.buf.set(b, this.at);
    this.at += b.length;
  }

  /** Unsigned LEB128, minimal. */
  varint(v: bigint): void {
    if (v < 0n || v > MAX_TIME) throw new SyncCodecError(`varint out of range: ${v}`);
    this.room(MAX_VARINT_BYTES);
    let x = v;
    while (x >= 0x80n) {
      this.buf[this.at++] = Number(x & 0x7fn) | 0x80;
      x >>= 7n;
    }
    this.buf[this.at++] = Number(x);
  }

  finish(): Uint8Array {
    return this.buf.slice(0, this.at);
  }
}

class Reader {
  private readonly buf: Uint8Array;
  private at = 0;

  constructor(buf: Uint8Array) {
    this.buf = buf;
  }

  get done(): boolean {
    return this.at >= this.buf.length;
  }

  private get left(): number {
    return this.buf.length - this.at;
  }

  byte(what: string): number {
    if (this.at >= this.buf.length) throw new SyncCodecError(`truncated ${what}`);
    return this.buf[this.at++] as number;
  }

  bytes(n: number, what: string): Uint8Array {
    if (n > this.left) throw new SyncCodecError(`truncated ${what}`);
    const view = this.buf.subarray(this.at, this.at + n);
    this.at += n;
    return view;
  }

  /** Unsigned LEB128 of at most 9 bytes, minimally encoded. */
  varint(what: string): bigint {
    let v = 0n;
    for (let i = 0; i < MAX_VARINT_BYTES; i++) {
      const b = this.byte(what);
      v |= BigInt(b & 0x7f) << BigInt(7 * i);
      if (b < 0x80) {
        if (b === 0 && i > 0) throw new SyncCodecError(`${what}: varint not minimally encoded`);
        return v;
      }
    }
    throw new SyncCodecError(`${what}: varint longer than ${MAX_VARINT_BYTES} bytes`);
  }

  time(): bigint {
    return this.varint('timestamp');
  }

  /** A count that cannot be larger than what is left, at `minBytes` each. */
  count(what: string, minBytes: number): number {
    const n = this.varint(what);
    if (n > BigInt(Math.floor(this.left / minBytes))) throw new SyncCodecError(`${what} of ${n}: more than the frame holds`);
    return Number(n);
  }

  topics(kind: string): string[] {
    const n = this.count(`${kind} topic count`, 1);
    const out: string[] = [];
    for (let i = 0; i < n; i++) {
      const len = this.count(`${kind} topic length`, 1);
      try {
        out.push(utf8Strict.decode(this.bytes(len, `${kind} topic`)));
      } catch (err) {
        if (err instanceof SyncCodecError) throw err;
        throw new SyncCodecError(`${kind} topic is not UTF-8`);
      }
    }
    return out;
  }

  itemSet(): { items: SyncId[]; reconciled: boolean } {
    const n = this.count('item count', MIN_ITEM_BYTES);
    const items: SyncId[] = new Array<SyncId>(n);
    let t = 0n;
    for (let i = 0; i < n; i++) {
      t += this.varint('item time');
      if (t > MAX_TIME) throw new SyncCodecError('item time beyond int64');
      items[i] = { time: t, hash: this.bytes(HASH_BYTES, 'item hash').slice() };
    }
    const flag = this.byte('reconciled flag');
    if (flag > 1) throw new SyncCodecError(`reconciled flag ${flag}`);
    return { items, reconciled: flag === 1 };
  }
}
