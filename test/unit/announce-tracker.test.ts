/**
 * What the tracker believes and what it refuses and counts: replayed or older
 * sequence numbers, a flood from one announcer, more Keepers than it tracks,
 * forgeries, other communities; older announcements from a store answer are
 * skipped, not counted. And the pure parts that use them: the coverage map and
 * the order gap filling asks peers in.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPair } from '@libp2p/crypto/keys';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import type { PrivateKey } from '@libp2p/interface';
import { signAnnouncement } from '../../main/core/announce/announcement.ts';
import type { Announcement } from '../../main/core/announce/codec.ts';
import { AnnounceTracker } from '../../main/core/announce/tracker.ts';
import { coverageMap, thinShare } from '../../main/core/announce/map.ts';
import { claimedShare, rankPeers } from '../../main/core/history/peer-rank.ts';
import type { RankedPeer } from '../../main/core/history/peer-rank.ts';

const NOW = 1_790_000_000_000;
const KEY = 'c-0123456789abcdef';
const community = { key: KEY, name: 'Test', pubsubTopic: '/waku/2/rs/16/32', contentTopic: `/waku-keeper/1/${KEY}-keepers/proto` };

async function keeper() {
  const key = await generateKeyPair('secp256k1');
  return { key, id: peerIdFromPrivateKey(key).toString() };
}

function body(id: string, over: Partial<Announcement> = {}): Omit<Announcement, 'version'> {
  return {
    peerId: id, community: KEY, multiaddrs: [], enr: '', role: 'volunteer', retentionMs: 0, freeBytes: 0,
    held: [{ start: NOW - 3_600_000, end: NOW - 60_000 }], online: [], software: 'test', seq: 1, issuedMs: NOW, endorsed: [], ...over,
  };
}

const sign = (k: PrivateKey, b: Omit<Announcement, 'version'>) => signAnnouncement(k, b);

function tracker(opts: { maxKeepers?: number } = {}) {
  let now = NOW;
  const t = new AnnounceTracker({ selfId: 'self', now: () => now, rate: { capacity: 2, perSecond: 1 / 60 }, ...opts });
  t.setCommunities([community]);
  return { t, advance: (ms: number) => (now += ms) };
}

describe('announce tracker', () => {
  it('believes the newest from each announcer and refuses a replayed or lower sequence', async () => {
    const { t, advance } = tracker();
    const a = await keeper();
    const first = await sign(a.key, body(a.id, { seq: 10 }));
    assert.ok(await t.ingest(KEY, first, 'relay'));
    advance(60_000);
    assert.equal(await t.ingest(KEY, first, 'relay'), null);
    assert.equal(await t.ingest(KEY, await sign(a.key, body(a.id, { seq: 9 })), 'relay'), null);
    assert.deepEqual(t.counts(KEY).refused, { replayed: 2 });
    assert.ok(await t.ingest(KEY, await sign(a.key, body(a.id, { seq: 11 })), 'relay'));
    assert.equal(t.keepers(KEY)[0]?.announcement.seq, 11);
  });

  it('skips older ones from a store answer without counting them', async () => {
    const { t } = tracker();
    const a = await keeper();
    assert.ok(await t.ingest(KEY, await sign(a.key, body(a.id, { seq: 5 })), 'store'));
    assert.equal(await t.ingest(KEY, await sign(a.key, body(a.id, { seq: 4 })), 'store'), null);
    assert.deepEqual(t.counts(KEY).refused, {});
  });

  it('rate-limits a flood from one announcer, and not the others', async () => {
    const { t } = tracker();
    const a = await keeper();
    const b = await keeper();
    for (let seq = 1; seq <= 5; seq++) await t.ingest(KEY, await sign(a.key, body(a.id, { seq })), 'relay');
    assert.deepEqual(t.counts(KEY).refused, { 'rate-limited': 3 });
    assert.ok(await t.ingest(KEY, await sign(b.key, body(b.id)), 'relay'));
  });

  it('tracks at most maxKeepers, and counts the rest', async () => {
    const { t } = tracker({ maxKeepers: 2 });
    for (let i = 0; i < 3; i++) {
      const k = await keeper();
      await t.ingest(KEY, await sign(k.key, body(k.id)), 'relay');
    }
    assert.equal(t.keepers(KEY).length, 2);
    assert.deepEqual(t.counts(KEY).refused, { 'too-many-keepers': 1 });
  });

  it('counts forged, unsigned-looking, other-community and stale ones by reason, and believes none', async () => {
    const { t } = tracker();
    const a = await keeper();
    const forger = await keeper();
    await t.ingest(KEY, await sign(forger.key, body(a.id)), 'relay');
    await t.ingest(KEY, await sign(a.key, body(a.id, { community: 'c-ffffffffffffffff' })), 'relay');
    await t.ingest(KEY, await sign(a.key, body(a.id, { issuedMs: NOW - 2 * 3_600_000 })), 'relay');
    await t.ingest(KEY, new Uint8Array([1, 2, 3]), 'relay');
    await t.ingest(KEY, new Uint8Array(3000), 'relay');
    assert.deepEqual(t.counts(KEY).refused, { 'bad-signature': 1, 'wrong-community': 1, stale: 1, malformed: 1, oversized: 1 });
    assert.equal(t.keepers(KEY).length, 0);
  });

  it('reads an owner’s endorsements as peer ids', async () => {
    const { t } = tracker();
    const owner = await keeper();
    const v = await keeper();
    const vBytes = peerIdFromPrivateKey(v.key).toMultihash().bytes;
    await t.ingest(KEY, await sign(owner.key, body(owner.id, { role: 'owner', endorsed: [vBytes, new Uint8Array([1, 2])] })), 'relay');
    // Bytes that are no peer id vouch for no Keeper: they match none.
    const endorsed = t.endorsedIn(KEY);
    assert.ok(endorsed.has(v.id));
    assert.equal(endorsed.size, 2);
    // A volunteer's list vouches for nobody.
    const other = await keeper();
    await t.ingest(KEY, await sign(other.key, body(other.id, { endorsed: [peerIdFromPrivateKey(owner.key).toMultihash().bytes] })), 'relay');
    assert.ok(!t.endorsedIn(KEY).has(owner.id));
    assert.equal(t.endorsedIn(KEY).size, 2);
  });
});

describe('coverage map', () => {
  it('counts Keepers per stretch and flags those held by fewer than two', () => {
    const window = { start: 0, end: 100 };
    const map = coverageMap([[{ start: 0, end: 60 }], [{ start: 20, end: 100 }], [{ start: 40, end: 50 }]], window);
    assert.deepEqual(map.map((s) => [s.startMs, s.endMs, s.keepers, s.thin]), [
      [0, 20, 1, true],
      [20, 40, 2, false],
      [40, 50, 3, false],
      [50, 60, 2, false],
      [60, 100, 1, true],
    ]);
    assert.equal(thinShare(map, window), 0.6);
    assert.deepEqual(coverageMap([], window).map((s) => [s.startMs, s.endMs, s.keepers]), [[0, 100, 0]]);
  });
});

describe('peer ranking', () => {
  const peer = (peerId: string, over: Partial<RankedPeer> = {}): RankedPeer => ({
    peerId, claimed: 0, mayAttest: true, endorsed: false, connected: true, configured: false, failures: 0, rttMs: 50, lastSuccessMs: null, ...over,
  });

  it('asks first those that claim the gap, then by standing, then endorsement on ties, then RTT', () => {
    const order = rankPeers([
      peer('fast-claims-nothing', { rttMs: 1 }),
      peer('claims-half', { claimed: 0.5 }),
      peer('claims-all-slow', { claimed: 1, rttMs: 300 }),
      peer('claims-all-fast', { claimed: 1, rttMs: 20 }),
      peer('claims-all-endorsed', { claimed: 1, rttMs: 400, endorsed: true }),
      peer('claims-all-no-standing', { claimed: 1, mayAttest: false, endorsed: true }),
    ]).map((p) => p.peerId);
    assert.deepEqual(order, ['claims-all-endorsed', 'claims-all-fast', 'claims-all-slow', 'claims-all-no-standing', 'claims-half', 'fast-claims-nothing']);
  });

  it('measures a claim against the gap', () => {
    assert.equal(claimedShare([{ start: 0, end: 50 }], { start: 0, end: 100 }), 0.5);
    assert.equal(claimedShare([{ start: 0, end: 50 }], undefined), 0);
  });
});
