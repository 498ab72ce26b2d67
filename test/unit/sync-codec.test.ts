/**
 * Waku Sync's wire formats against bytes worked out by hand from nwaku's
 * codec.nim (deltaEncode / deltaDecode, WakuMessageAndTopic): the payload
 * vectors below are written byte by byte, not produced by the encoder, and
 * the encoder must produce exactly them.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { decodeRanges, encodeRanges, RangeType, SyncCodecError } from '../../main/core/sync/codec.ts';
import type { RangesPayload, SyncRange } from '../../main/core/sync/codec.ts';
import { decodeMessageAndTopic, encodeMessageAndTopic, RECONCILIATION_CODEC, TRANSFER_CODEC, TransferCodecError } from '../../main/core/sync/transfer-codec.ts';
import { boundAt, ZERO_HASH } from '../../main/core/sync/ids.ts';
import { rng } from '../helpers/sync-memory-storage.ts';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const bytes = (h: string): Uint8Array => new Uint8Array(Buffer.from(h.replace(/\s+/g, ''), 'hex'));
const ascii = (s: string): string => Buffer.from(s, 'utf8').toString('hex');
const fill = (b: number): Uint8Array => new Uint8Array(32).fill(b);
const payload = (ranges: SyncRange[], start: bigint, pubsubTopics: string[] = ['/waku/2/rs/16/32'], contentTopics: string[] = []): RangesPayload => ({ pubsubTopics, contentTopics, start, ranges });

describe('sync codec: vectors from nwaku codec.nim', () => {
  it('names the protocols as nwaku does (waku_core/codecs.nim)', () => {
    assert.equal(RECONCILIATION_CODEC, '/vac/waku/reconciliation/1.0.0');
    assert.equal(TRANSFER_CODEC, '/vac/waku/transfer/1.0.0');
  });

  it('a payload without ranges is the single byte 0 (no topics)', () => {
    assert.equal(hex(encodeRanges(payload([], 5n))), '00');
    assert.deepEqual(decodeRanges(bytes('00')).ranges, []);
  });

  it('one fingerprint range: topic count and lengths as LEB128, first time in full, the bound as a delta', () => {
    const fp = fill(0x11);
    const p = payload([{ type: RangeType.Fingerprint, upper: boundAt(2000n), fingerprint: fp }], 1000n);
    // 01 topic, 0x10 = 16 bytes of it; 00 content topics; start 1000 = e8 07; delta 1000 = e8 07; type 1; fingerprint.
    const want = `01 10 ${ascii('/waku/2/rs/16/32')} 00 e807 e807 01 ${hex(fp)}`;
    assert.equal(hex(encodeRanges(p)), want.replace(/\s+/g, ''));
    assert.deepEqual(decodeRanges(bytes(want)), p);
  });

  it('nanosecond timestamps take nine LEB128 bytes; an hour takes six', () => {
    const start = 0x175789bfa23f8400n;
    const p = payload([{ type: RangeType.Fingerprint, upper: boundAt(start + 3_600_000_000_000n), fingerprint: ZERO_HASH }], start, [], []);
    // 00 00 (no topics), 8088fe91fab7e2ab17 = the start, 80c0e285e368 = 3.6e12 ns, 01, 32 zero bytes.
    const want = `00 00 8088fe91fab7e2ab17 80c0e285e368 01 ${'00'.repeat(32)}`;
    assert.equal(hex(encodeRanges(p)), want.replace(/\s+/g, ''));
    assert.deepEqual(decodeRanges(bytes(want)), p);
  });

  it('skip and item set ranges: item times are deltas from zero within each set, then the reconciled byte', () => {
    const h1 = fill(0xaa);
    const h2 = fill(0xbb);
    const p = payload(
      [
        { type: RangeType.Skip, upper: boundAt(20n) },
        { type: RangeType.ItemSet, upper: boundAt(30n), items: [{ time: 21n, hash: h1 }, { time: 25n, hash: h2 }], reconciled: false },
        { type: RangeType.ItemSet, upper: boundAt(40n), items: [], reconciled: true },
      ],
      10n,
      ['a'],
      ['c1', 'c2'],
    );
    // topics: 01 01 'a'; 02 02 'c1' 02 'c2'. start 0a. skip: 0a 00. item set: 0a 02, count 02, 15 h1, 04 h2, 00. empty set: 0a 02 00 01.
    const want = `01 01 61 02 02 6331 02 6332 0a 0a00 0a02 02 15${hex(h1)} 04${hex(h2)} 00 0a02 00 01`;
    assert.equal(hex(encodeRanges(p)), want.replace(/\s+/g, ''));
    assert.deepEqual(decodeRanges(bytes(want)), p);
  });

  it('a bound at the same time carries the hash up to its first non-zero byte, zeros after on decoding', () => {
    const h = new Uint8Array(32);
    h.set([0x00, 0x00, 0xab, 0xcd, 0xef]);
    const p = payload([{ type: RangeType.Skip, upper: boundAt(5n) }, { type: RangeType.Fingerprint, upper: { time: 5n, hash: h }, fingerprint: fill(1) }], 0n, [], []);
    // start 00; skip 05 00; same time: delta 00, 03 bytes of hash 00 00 ab, type 01, fingerprint.
    const want = `00 00 00 0500 00 03 0000ab 01 ${hex(fill(1))}`;
    assert.equal(hex(encodeRanges(p)), want.replace(/\s+/g, ''));
    const back = decodeRanges(bytes(want));
    const truncated = new Uint8Array(32);
    truncated.set([0x00, 0x00, 0xab]);
    assert.deepEqual(back.ranges[1]?.upper, { time: 5n, hash: truncated });
    // A zero hash at the same time: all 32 bytes (nwaku's loop never breaks).
    const zero = encodeRanges(payload([{ type: RangeType.Skip, upper: boundAt(5n) }, { type: RangeType.Skip, upper: boundAt(5n) }], 0n, [], []));
    assert.equal(hex(zero), `00000005000020${'00'.repeat(32)}00`);
  });

  it('round trips random payloads', () => {
    const r = rng(3);
    for (let n = 0; n < 200; n++) {
      let t = BigInt(Math.floor(r() * 2 ** 40)) * 1000n;
      const start = t;
      const ranges: SyncRange[] = [];
      for (let i = 0; i < 1 + Math.floor(r() * 12); i++) {
        t += BigInt(1 + Math.floor(r() * 1e9));
        const kind = Math.floor(r() * 3);
        if (kind === 0) ranges.push({ type: RangeType.Skip, upper: boundAt(t) });
        else if (kind === 1) ranges.push({ type: RangeType.Fingerprint, upper: boundAt(t), fingerprint: fill(Math.floor(r() * 256)) });
        else {
          let it = t - 1000n;
          const items = Array.from({ length: Math.floor(r() * 5) }, () => ({ time: (it += BigInt(Math.floor(r() * 100))), hash: fill(Math.floor(r() * 256)) }));
          ranges.push({ type: RangeType.ItemSet, upper: boundAt(t), items, reconciled: r() < 0.5 });
        }
      }
      const p = payload(ranges, start, r() < 0.5 ? ['/waku/2/rs/16/32', '/waku/2/rs/16/64'] : [], r() < 0.5 ? ['/waku/1/0x1234abcd/rfc26', 'ünïcode topic'] : []);
      assert.deepEqual(decodeRanges(encodeRanges(p)), p);
    }
  });
});

describe('sync codec: malformed input is refused, never a crash or a hang', () => {
  const valid = encodeRanges(
    payload(
      [
        { type: RangeType.Fingerprint, upper: boundAt(2000n), fingerprint: fill(7) },
        { type: RangeType.ItemSet, upper: boundAt(3000n), items: [{ time: 2500n, hash: fill(9) }], reconciled: false },
      ],
      1000n,
    ),
  );

  it('every truncation of a valid payload: refused, or (cut at the end of a range) the ranges before the cut', () => {
    const whole = decodeRanges(valid);
    let prefixes = 0;
    for (let n = 1; n < valid.length; n++) {
      try {
        const p = decodeRanges(valid.subarray(0, n));
        assert.deepEqual(p.ranges, whole.ranges.slice(0, p.ranges.length), `prefix of ${n} bytes`);
        assert.ok(p.ranges.length > 0 && p.ranges.length < whole.ranges.length);
        prefixes++;
      } catch (err) {
        assert.ok(err instanceof SyncCodecError, `prefix of ${n} bytes: ${String(err)}`);
      }
    }
    assert.equal(prefixes, 1, 'only the cut right after the first range decodes');
  });

  it('bad fields', () => {
    const cases: [string, string][] = [
      ['an empty frame', ''],
      ['a one-byte payload other than 0', '01'],
      ['range type 3', '0000 0a 0a 03'],
      ['reconciled flag 2', `0000 0a 0a 02 01 00${'00'.repeat(32)} 02`],
      ['a hash prefix of 33 bytes', `0000 0a 00 21 ${'00'.repeat(33)} 00`],
      ['a non-minimal varint', '0000 8a00 0a 00'],
      ['a varint of ten bytes', '0000 ffffffffffffffffff01 0a00'],
      ['an item count beyond the frame', `0000 0a 0a 02 ffffffffffffffff3f 00${'00'.repeat(32)} 00`],
      ['a topic count beyond the frame', 'ff7f 00 0a 0a 00'],
      ['a topic that is not UTF-8', '01 02 fffe 00 0a 0a 00'],
      ['a bound beyond int64', '0000 ffffffffffffffff7f 01 00'],
      ['an item time beyond int64', `0000 0a 0a 02 02 ffffffffffffffff7f ${'00'.repeat(32)} 01 ${'00'.repeat(32)} 00`],
    ];
    for (const [what, h] of cases) assert.throws(() => decodeRanges(bytes(h)), SyncCodecError, what);
  });

  it('random and mutated bytes: decoded or refused, quickly', () => {
    const r = rng(11);
    const started = performance.now();
    for (let n = 0; n < 20_000; n++) {
      const b = n % 2 === 0 ? new Uint8Array(Array.from({ length: 1 + Math.floor(r() * 200) }, () => Math.floor(r() * 256))) : valid.slice();
      if (n % 2 === 1) for (let k = 0; k < 3; k++) b[Math.floor(r() * b.length)] = Math.floor(r() * 256);
      try {
        decodeRanges(b);
      } catch (err) {
        assert.ok(err instanceof SyncCodecError, String(err));
      }
    }
    assert.ok(performance.now() - started < 5000);
  });

  it('the encoder refuses what it cannot put on the wire', () => {
    assert.throws(() => encodeRanges(payload([{ type: RangeType.Skip, upper: boundAt(5n) }], 10n)), SyncCodecError);
    assert.throws(() => encodeRanges(payload([{ type: RangeType.Fingerprint, upper: boundAt(50n), fingerprint: new Uint8Array(31) }], 10n)), SyncCodecError);
    assert.throws(() => encodeRanges(payload([{ type: RangeType.Skip, upper: boundAt(2n ** 63n) }], 10n)), SyncCodecError);
  });
});

describe('transfer codec: WakuMessageAndTopic as nwaku numbers it (pubsub 1, message 2)', () => {
  // WakuMessage: 0a 04 01020304 (payload), 12 1d '/waku/2/default-content/proto' (29 bytes).
  const message = bytes(`0a0401020304 121d ${ascii('/waku/2/default-content/proto')}`);
  const frame = `0a1a ${ascii('/waku/2/default-waku/proto')} 1225 ${hex(message)}`;

  it('encodes and decodes the hand-made frame', () => {
    assert.equal(hex(encodeMessageAndTopic('/waku/2/default-waku/proto', message)), frame.replace(/\s+/g, ''));
    const d = decodeMessageAndTopic(bytes(frame));
    assert.equal(d.pubsubTopic, '/waku/2/default-waku/proto');
    assert.equal(hex(d.message), hex(message));
  });

  it('gives a message without a payload field an empty one, which nwaku requires', () => {
    const noPayload = bytes(`121d ${ascii('/waku/2/default-content/proto')}`);
    const d = decodeMessageAndTopic(encodeMessageAndTopic('/t', noPayload));
    assert.equal(hex(d.message), `0a00${hex(noPayload)}`);
  });

  it('skips unknown fields and refuses missing or malformed ones', () => {
    const withExtra = bytes(`1801 ${frame} 2a0100`);
    assert.equal(decodeMessageAndTopic(withExtra).pubsubTopic, '/waku/2/default-waku/proto');
    for (const bad of ['', `0a01${ascii('x')}`, `1200`, `0a05${ascii('x')}`, '0801 1200', '0a01ff 1200', '0b', '0000']) {
      assert.throws(() => decodeMessageAndTopic(bytes(bad)), TransferCodecError, bad);
    }
  });
});
