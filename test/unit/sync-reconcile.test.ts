/**
 * Reconciliation as pure code: fingerprints, nwaku's partitioning, item sets,
 * bounds at the exact ends of ranges, empty sides, scope, lies refused, and
 * two large sets converging within bounded rounds and bytes — against Keeper
 * itself and against a model of nwaku's answers (test/helpers/nwaku-model.ts).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { encodeRanges, RangeType } from '../../main/core/sync/codec.ts';
import type { SyncRange } from '../../main/core/sync/codec.ts';
import { boundAt, compareIds, fingerprintOf, hashKey } from '../../main/core/sync/ids.ts';
import type { SyncId } from '../../main/core/sync/ids.ts';
import { checkRanges, DEFAULT_PARAMS, NWAKU_PARAMS, reconcileRound, SyncProtocolError } from '../../main/core/sync/reconcile.ts';
import { ReconcileSession, settleScope, windowOf } from '../../main/core/sync/session.ts';
import { partitionTimes } from '../../main/core/sync/storage.ts';
import { MemoryStorage, rng, testHash } from '../helpers/sync-memory-storage.ts';
import { drive, exchange } from '../helpers/sync-drive.ts';
import { NwakuSession } from '../helpers/nwaku-model.ts';

const id = (time: bigint, seed: string): SyncId => ({ time, hash: testHash(seed) });
const keys = (ids: readonly SyncId[]): string[] => ids.map((i) => hashKey(i.hash)).sort();
const T0 = 1_700_000_000_000_000_000n;

/** `n` ids over `spanNs` from T0, and two copies missing different scattered `diff`s. */
function pair(n: number, diff: number, seed: number, spanNs = 86_400_000_000_000n): { all: SyncId[]; a: MemoryStorage; b: MemoryStorage; missing: Set<number> } {
  const r = rng(seed);
  const all = Array.from({ length: n }, (_, i) => id(T0 + BigInt(Math.floor(r() * Number(spanNs))), `${seed}/${i}`));
  const missing = new Set<number>();
  while (missing.size < diff) missing.add(Math.floor(r() * n));
  return {
    all,
    missing,
    a: new MemoryStorage(all.filter((_, i) => !(missing.has(i) && i % 2 === 0))),
    b: new MemoryStorage(all.filter((_, i) => !(missing.has(i) && i % 2 === 1))),
  };
}

describe('sync reconcile: one round', () => {
  const ids = Array.from({ length: 50 }, (_, i) => id(T0 + BigInt(i) * 1000n, `r${i}`));

  it('fingerprints are the XOR of the hashes; equal ones are skipped, and all Skips end the session', async () => {
    const s = new MemoryStorage(ids);
    const w = windowOf(T0, T0 + 100_000n);
    const { total } = await s.summarize([w.lower, w.upper]);
    assert.equal(total.count, 50);
    assert.deepEqual(total.fingerprint, fingerprintOf(ids));
    const round = await reconcileRound(s, w.lower.time, [{ type: RangeType.Fingerprint, upper: w.upper, fingerprint: fingerprintOf(ids) }], DEFAULT_PARAMS);
    assert.deepEqual(round.reply, []);
  });

  it('a mismatching range with more items than the threshold splits in nwaku partitions (remainder to the first)', async () => {
    assert.deepEqual(partitionTimes(0n, 20n, 8), [0n, 3n, 6n, 9n, 12n, 14n, 16n, 18n, 20n]);
    assert.equal(partitionTimes(0n, 7n, 8), null);
    const many = Array.from({ length: 500 }, (_, i) => id(T0 + BigInt(i) * 100n, `m${i}`));
    const s = new MemoryStorage(many);
    const w = windowOf(T0, T0 + 49_900n);
    // nwaku's threshold: 500 items are more than 100, so the range splits.
    const round = await reconcileRound(s, w.lower.time, [{ type: RangeType.Fingerprint, upper: w.upper, fingerprint: testHash('nothing like it') }], NWAKU_PARAMS_WITH_DEFAULTS);
    assert.equal(round.reply.length, 8);
    const times = partitionTimes(w.lower.time, w.upper.time, 8) ?? [];
    assert.deepEqual(round.reply.map((r) => r.upper.time), times.slice(1));
    // About 62 items in each part, within nwaku's 100: all item sets, unreconciled, all 500 listed.
    assert.ok(round.reply.every((r) => r.type === RangeType.ItemSet && !r.reconciled));
    assert.equal(round.reply.reduce((n, r) => n + (r.type === RangeType.ItemSet ? r.items.length : 0), 0), 500);
    // 50 items are within 100: one item set for the whole range, as nwaku answers.
    const few = await reconcileRound(new MemoryStorage(ids), w.lower.time, [{ type: RangeType.Fingerprint, upper: w.upper, fingerprint: testHash('x') }], NWAKU_PARAMS_WITH_DEFAULTS);
    assert.equal(few.reply.length, 1);
    assert.equal(few.reply[0]?.type, RangeType.ItemSet);
    // Keeper's own threshold (4): the parts go as fingerprints.
    const ours = await reconcileRound(s, w.lower.time, [{ type: RangeType.Fingerprint, upper: w.upper, fingerprint: testHash('x') }], DEFAULT_PARAMS);
    assert.ok(ours.reply.every((r) => r.type === RangeType.Fingerprint));
  });

  it('one difference found from the fingerprints alone: the XOR is the missing message', async () => {
    const s = new MemoryStorage(ids);
    const theirs = ids.filter((_, i) => i !== 17);
    const w = windowOf(T0, T0 + 49_000n);
    const round = await reconcileRound(s, w.lower.time, [{ type: RangeType.Fingerprint, upper: w.upper, fingerprint: fingerprintOf(theirs) }], DEFAULT_PARAMS);
    assert.deepEqual(keys(round.theyLack), keys([ids[17] as SyncId]));
    // Skip, the instant of #17 as an item set (so the peer learns it), Skip.
    assert.deepEqual(round.reply.map((r) => r.type), [RangeType.Skip, RangeType.ItemSet, RangeType.Skip]);
    const set = round.reply[1] as Extract<SyncRange, { type: 2 }>;
    assert.equal(set.upper.time, (ids[17] as SyncId).time + 1n);
    assert.deepEqual(keys(set.items), keys([ids[17] as SyncId]));
  });

  it('item sets: differences both ways, an echo around the instants that differ, Skip when equal or reconciled', async () => {
    const s = new MemoryStorage(ids.slice(0, 10));
    const theirs = [...ids.slice(0, 3), ...ids.slice(4, 10), id(T0 + 9_500n, 'theirs only')].sort(compareIds);
    const lower = boundAt(T0);
    const upper = boundAt(T0 + 20_000n);
    const round = await reconcileRound(s, lower.time, [{ type: RangeType.ItemSet, upper, items: theirs, reconciled: false }], DEFAULT_PARAMS);
    assert.deepEqual(keys(round.theyLack), keys([ids[3] as SyncId]));
    assert.deepEqual(keys(round.weLack), keys([id(T0 + 9_500n, 'theirs only')]));
    const sets = round.reply.filter((r) => r.type === RangeType.ItemSet);
    assert.ok(sets.every((r) => r.type === RangeType.ItemSet && r.reconciled));
    assert.deepEqual(
      sets.map((r) => r.upper.time),
      [T0 + 3_001n, T0 + 9_501n],
    );
    assert.equal(round.reply[round.reply.length - 1]?.upper.time, upper.time);
    const same = await reconcileRound(s, lower.time, [{ type: RangeType.ItemSet, upper, items: ids.slice(0, 10), reconciled: false }], DEFAULT_PARAMS);
    assert.deepEqual(same.reply, []);
    const done = await reconcileRound(s, lower.time, [{ type: RangeType.ItemSet, upper, items: theirs, reconciled: true }], DEFAULT_PARAMS);
    assert.deepEqual(done.reply, []);
    assert.equal(done.theyLack.length + done.weLack.length, 2);
  });

  it('bounds: an item at the lower bound time is in, one at the upper bound time (hash above zero) is not; equal times order by hash', async () => {
    const at = (t: bigint, seed: string): SyncId => id(T0 + t, seed);
    const edge = [at(0n, 'lo'), at(500n, 'x'), at(500n, 'y'), at(500n, 'z'), at(1000n, 'hi')];
    const s = new MemoryStorage(edge);
    const { parts, total } = await s.summarize([boundAt(T0), boundAt(T0 + 500n), boundAt(T0 + 1000n)]);
    assert.deepEqual(parts.map((p) => p.count), [1, 3]);
    assert.equal(total.count, 4);
    const sorted = [...edge].sort(compareIds).map((i) => hashKey(i.hash));
    const items = await s.items(boundAt(T0), boundAt(T0 + 1001n), 10);
    assert.deepEqual(items.map((i) => hashKey(i.hash)), sorted);
    assert.deepEqual((await s.items(boundAt(T0), boundAt(T0 + 1001n), 2, items[1])).map((i) => hashKey(i.hash)), sorted.slice(2, 4));
    // Against a peer holding only the three at 500: the instants 0 and 1000 differ, nothing at 500.
    const round = await reconcileRound(s, T0, [{ type: RangeType.ItemSet, upper: boundAt(T0 + 1001n), items: edge.slice(1, 4).sort(compareIds), reconciled: false }], DEFAULT_PARAMS);
    assert.deepEqual(keys(round.theyLack), keys([edge[0] as SyncId, edge[4] as SyncId]));
  });

  it('empty sides: an empty range is sent as an unreconciled empty item set; an empty peer set means they lack all', async () => {
    const empty = new MemoryStorage([]);
    const r1 = await reconcileRound(empty, T0, [{ type: RangeType.Fingerprint, upper: boundAt(T0 + 10n), fingerprint: testHash('x') }], DEFAULT_PARAMS);
    assert.deepEqual(r1.reply, [{ type: RangeType.ItemSet, upper: boundAt(T0 + 10n), items: [], reconciled: false }]);
    const s = new MemoryStorage(ids.slice(0, 3));
    const r2 = await reconcileRound(s, T0, [{ type: RangeType.ItemSet, upper: boundAt(T0 + 5_000n), items: [], reconciled: true }], DEFAULT_PARAMS);
    assert.equal(r2.theyLack.length, 3);
    assert.deepEqual(r2.reply, []);
  });
});

const NWAKU_PARAMS_WITH_DEFAULTS = { ...DEFAULT_PARAMS, ...NWAKU_PARAMS };

describe('sync reconcile: lies and scope', () => {
  const w = windowOf(T0, T0 + 1_000_000n);

  it('refuses ranges outside the window, inverted, or item sets out of order or outside their range', () => {
    const ok: SyncRange[] = [{ type: RangeType.Skip, upper: boundAt(T0 + 10n) }];
    checkRanges(T0, ok, w);
    const bad: [string, bigint, SyncRange[]][] = [
      ['before', T0 - 1n, ok],
      ['after', T0, [{ type: RangeType.Skip, upper: boundAt(T0 + 2_000_000n) }]],
      ['zero width', T0 + 10n, [{ type: RangeType.Skip, upper: boundAt(T0 + 10n) }]],
      ['outside', T0, [{ type: RangeType.ItemSet, upper: boundAt(T0 + 10n), items: [id(T0 + 20n, 'a')], reconciled: false }]],
      ['unordered', T0, [{ type: RangeType.ItemSet, upper: boundAt(T0 + 100n), items: [id(T0 + 20n, 'a'), id(T0 + 10n, 'b')], reconciled: false }]],
    ];
    for (const [what, start, ranges] of bad) assert.throws(() => checkRanges(start, ranges, w), SyncProtocolError, what);
  });

  it('settles the scope as nwaku does: the topics both name; one side naming none takes the other side', () => {
    assert.deepEqual(settleScope({ pubsubTopics: ['a', 'b'], contentTopics: [] }, { pubsubTopics: ['b', 'c'], contentTopics: ['x'] }), { pubsubTopics: ['b'], contentTopics: ['x'] });
    assert.deepEqual(settleScope({ pubsubTopics: ['a'], contentTopics: ['x'] }, { pubsubTopics: [], contentTopics: [] }), { pubsubTopics: ['a'], contentTopics: ['x'] });
    assert.equal(settleScope({ pubsubTopics: ['a'], contentTopics: [] }, { pubsubTopics: ['b'], contentTopics: [] }), null);
  });

  it('a responder sharing no topic answers an empty frame; the initiator reads it as refused', async () => {
    const d = await drive(new MemoryStorage([]), new MemoryStorage([]), w, { scope: { pubsubTopics: ['a'], contentTopics: [] }, responderScope: { pubsubTopics: ['b'], contentTopics: [] } });
    assert.equal(d.refused, true);
  });

  it('a peer that answers every round with fresh mismatching fingerprints is cut off by the round limit', async () => {
    const { a } = pair(2000, 0, 5);
    const s = new ReconcileSession({ role: 'responder', scope: { pubsubTopics: [], contentTopics: [] }, storageFor: () => a, limits: { maxRounds: 20 } });
    const window = windowOf(T0, T0 + 86_400_000_000_000n);
    let err: unknown;
    try {
      for (let round = 0; round < 100; round++) {
        const frame = encodeRanges({ pubsubTopics: ['/waku/2/rs/16/32'], contentTopics: [], start: window.lower.time, ranges: [{ type: RangeType.Fingerprint, upper: window.upper, fingerprint: testHash(`lie ${round}`) }] });
        await s.receive(frame);
      }
    } catch (e) {
      err = e;
    }
    assert.ok(err instanceof SyncProtocolError && err.reason === 'rounds', String(err));
  });
});

describe('sync reconcile: convergence', () => {
  it('two sets of 100 000 that differ by 300 scattered items reconcile in bounded rounds and bytes', async () => {
    const { all, a, b, missing } = pair(100_000, 300, 1);
    const w = windowOf(T0, T0 + 86_400_000_000_000n);
    const d = await drive(a, b, w);
    // What each side pushes is exactly what the other lacks, and the other expects it.
    const aLacks = [...missing].filter((i) => i % 2 === 0).map((i) => all[i] as SyncId);
    const bLacks = [...missing].filter((i) => i % 2 === 1).map((i) => all[i] as SyncId);
    assert.deepEqual(keys(d.bPushes), keys(aLacks));
    assert.deepEqual(keys(d.aPushes), keys(bLacks));
    assert.deepEqual(keys(d.aWants), keys(aLacks));
    assert.deepEqual(keys(d.bWants), keys(bLacks));
    assert.equal(d.truncated, false);
    // log8(100 000 / 4) ≈ 5 levels, two frames each, and the tail: well under 20 rounds.
    assert.ok(d.rounds <= 20, `${d.rounds} rounds`);
    // Under 700 bytes a difference; a full listing would be 3.2 MB.
    assert.ok(d.bytes <= 300 * 700, `${d.bytes} bytes`);
    // After the pushes the two sets are one.
    for (const x of d.aPushes) b.add(x);
    for (const x of d.bPushes) a.add(x);
    assert.deepEqual(keys(a.ids), keys(b.ids));
    const again = await drive(a, b, w);
    assert.equal(again.rounds, 2, 'equal sets: one fingerprint, an empty answer, read');
    assert.ok(again.bytes < 100);
  });

  const SPAN = 86_400_000_000_000n;
  for (const [name, floor] of [['on a partition bound', T0 + SPAN / 2n], ['inside a partition', T0 + (SPAN * 5n) / 13n]] as const) {
    it(`a responder skips what lies before its floor (${name}), as nwaku before its window: nothing older is compared or pushed to it`, async () => {
      const span = SPAN;
      const { all, a, b, missing } = pair(20_000, 200, 5, span);
      // The responder has let go of everything before its floor (a shorter retention).
      const kept = new MemoryStorage(b.ids.filter((x) => x.time >= floor));
      const d = await drive(a, kept, windowOf(T0, T0 + span), { responderFloorNs: floor });
      const recent = (i: number) => (all[i] as SyncId).time >= floor;
      const aLacks = [...missing].filter((i) => i % 2 === 0 && recent(i)).map((i) => all[i] as SyncId);
      const bLacks = [...missing].filter((i) => i % 2 === 1 && recent(i)).map((i) => all[i] as SyncId);
      // Only differences after the floor, though the initiator holds thousands of older messages the responder lacks.
      assert.deepEqual(keys(d.aPushes), keys(bLacks));
      assert.deepEqual(keys(d.aWants), keys(aLacks));
      assert.deepEqual(keys(d.bPushes), keys(aLacks));
      assert.equal(d.truncated, false);
      // Without the floor, the initiator would push all it holds before it.
      const unfloored = await drive(a, kept, windowOf(T0, T0 + span));
      assert.ok(unfloored.aPushes.length > 7000, `${unfloored.aPushes.length} pushes without the floor`);
    });
  }

  it('against nwaku answering (the model), both ways: converges, and every push nwaku makes is one Keeper expects', async () => {
    const { all, a, b, missing } = pair(20_000, 120, 2);
    const w = windowOf(T0, T0 + 86_400_000_000_000n);
    // Keeper initiates, nwaku answers.
    const keeper = new ReconcileSession({ role: 'initiator', scope: { pubsubTopics: ['/waku/2/rs/16/32'], contentTopics: [] }, window: w, storageFor: () => a });
    const d1 = await exchange(await keeper.open(), keeper, new NwakuSession(b, ['/waku/2/rs/16/32']));
    const aLacks = keys([...missing].filter((i) => i % 2 === 0).map((i) => all[i] as SyncId));
    const bLacks = keys([...missing].filter((i) => i % 2 === 1).map((i) => all[i] as SyncId));
    assert.deepEqual(keys([...d1.aPushes, ...d1.bPushes]).length, 120);
    assert.deepEqual(keys(d1.aPushes), bLacks);
    assert.deepEqual(keys(d1.bPushes), aLacks);
    assert.ok(d1.bPushes.every((x) => keys(d1.aWants).includes(hashKey(x.hash))));
    // nwaku initiates (its initiate(): upper bound hash 0xff…), Keeper answers.
    const nwaku = new NwakuSession(b, ['/waku/2/rs/16/32']);
    const responder = new ReconcileSession({ role: 'responder', scope: { pubsubTopics: [], contentTopics: [] }, storageFor: () => a });
    const d2 = await exchange(await nwaku.open(w.lower.time, w.upper.time - 1n), nwaku, responder);
    assert.deepEqual(keys(d2.aPushes), aLacks);
    assert.deepEqual(keys(d2.bPushes), bLacks);
    assert.ok(d2.aPushes.every((x) => keys(d2.bWants).includes(hashKey(x.hash))));
  });
});
