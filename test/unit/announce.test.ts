/**
 * Announcements' pure parts: the wire format, signing, the hard size cap, and
 * every way an announcement is refused — forged, unsigned, signed by another
 * peer, for another community, oversized, stale, from the future, malformed.
 * (Replays, rates and the cap on Keepers are the tracker's: announce-tracker.test.ts.)
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPair } from '@libp2p/crypto/keys';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { multiaddr } from '@multiformats/multiaddr';
import { AnnouncementRefused, signAnnouncement, verifyAnnouncement } from '../../main/core/announce/announcement.ts';
import {
  ANNOUNCE_VERSION,
  decodeAnnouncement,
  decodeEnvelope,
  encodeAnnouncement,
  encodeEnvelope,
  MAX_ANNOUNCEMENT_BYTES,
  packStretches,
  unpackStretches,
} from '../../main/core/announce/codec.ts';
import type { Announcement } from '../../main/core/announce/codec.ts';
import { communityKey, keepersContentTopic } from '../../main/core/communities/keepers-topic.ts';

const NOW = 1_790_000_000_000;
const DAY = 86_400_000;
const COMMUNITY = '0x02a3d2f4e5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d2e3';

async function announcer() {
  const key = await generateKeyPair('secp256k1');
  const peerId = peerIdFromPrivateKey(key).toString();
  const base = (over: Partial<Announcement> = {}): Omit<Announcement, 'version'> => ({
    peerId,
    community: COMMUNITY,
    multiaddrs: [multiaddr('/ip4/127.0.0.1/tcp/60001/ws').bytes, multiaddr('/ip4/203.0.113.7/tcp/30303').bytes],
    enr: '',
    role: 'volunteer',
    retentionMs: 30 * DAY,
    freeBytes: 5 * 1024 ** 3,
    held: [{ start: NOW - 10 * DAY, end: NOW - 2 * DAY }, { start: NOW - DAY, end: NOW - 60_000 }],
    online: [{ start: NOW - 10 * DAY, end: NOW - 2 * DAY }],
    software: 'waku-keeper/0.1.0',
    seq: NOW,
    issuedMs: NOW,
    endorsed: [],
    ...over,
  });
  return { key, peerId, base };
}

const refused = async (p: Promise<unknown>, reason: string): Promise<void> => {
  await assert.rejects(p, (err: unknown) => err instanceof AnnouncementRefused && err.reason === reason, `expected ${reason}`);
};

/** A day of churn: `n` stretches of 10 min online every 20 min, newest last. */
const churn = (n: number) => Array.from({ length: n }, (_, i) => ({ start: NOW - (n - i) * 1_200_000, end: NOW - (n - i) * 1_200_000 + 600_000 }));

describe('announcements', () => {
  it('round-trip: what is signed is what the reader gets', async () => {
    const { key, base } = await announcer();
    const payload = await signAnnouncement(key, base());
    const a = await verifyAnnouncement(payload, COMMUNITY, NOW + 1000);
    const want = base();
    assert.equal(a.version, ANNOUNCE_VERSION);
    assert.equal(a.peerId, want.peerId);
    assert.deepEqual(a.held, want.held);
    assert.deepEqual(a.online, want.online);
    assert.deepEqual(a.multiaddrs.map((m) => multiaddr(m).toString()), ['/ip4/127.0.0.1/tcp/60001/ws', '/ip4/203.0.113.7/tcp/30303']);
    assert.equal(a.role, 'volunteer');
    assert.equal(a.retentionMs, 30 * DAY);
    assert.equal(a.freeBytes, 5 * 1024 ** 3);
    assert.equal(a.seq, NOW);
    assert.equal(a.software, 'waku-keeper/0.1.0');
  });

  it('rounds stretches inward to whole seconds: it may claim less, never more', () => {
    const packed = packStretches([{ start: 1_500, end: 4_700 }, { start: 4_900, end: 9_000 }], 0);
    assert.deepEqual(unpackStretches(packed, 0), [{ start: 2_000, end: 4_000 }, { start: 5_000, end: 9_000 }]);
    assert.throws(() => unpackStretches([1, 2, 3], 0), /pairs/);
    assert.throws(() => unpackStretches([1, 0], 0), /empty/);
    assert.throws(() => unpackStretches([1, 2, 0, 2], 0), /touching/);
  });

  it('refuses a forged announcement: signed by one key, claiming another peer', async () => {
    const honest = await announcer();
    const forger = await announcer();
    // The forger signs an announcement naming the honest peer.
    await refused(verifyAnnouncement(await signAnnouncement(forger.key, honest.base()), COMMUNITY, NOW), 'bad-signature');
    // A valid signature over other bytes.
    const env = decodeEnvelope(await signAnnouncement(honest.key, honest.base()));
    const tampered = decodeAnnouncement(env.announcement);
    tampered.role = 'owner';
    await refused(verifyAnnouncement(encodeEnvelope({ announcement: encodeAnnouncement(tampered), signature: env.signature }), COMMUNITY, NOW), 'bad-signature');
  });

  it('refuses an unsigned one', async () => {
    const { base } = await announcer();
    const body = encodeAnnouncement({ ...base(), version: 1 });
    await refused(verifyAnnouncement(encodeEnvelope({ announcement: body, signature: new Uint8Array(0) }), COMMUNITY, NOW), 'unsigned');
  });

  it('refuses one bound to another community (replayed onto our topic)', async () => {
    const { key, base } = await announcer();
    await refused(verifyAnnouncement(await signAnnouncement(key, base()), 'c-0123456789abcdef', NOW), 'wrong-community');
  });

  it('refuses stale and future ones', async () => {
    const { key, base } = await announcer();
    const payload = await signAnnouncement(key, base());
    await refused(verifyAnnouncement(payload, COMMUNITY, NOW + 61 * 60_000), 'stale');
    await refused(verifyAnnouncement(payload, COMMUNITY, NOW - 6 * 60_000), 'future');
    await verifyAnnouncement(payload, COMMUNITY, NOW + 59 * 60_000);
  });

  it('refuses oversized input on decode, and never encodes past the cap', async () => {
    const { key, base } = await announcer();
    await refused(verifyAnnouncement(new Uint8Array(MAX_ANNOUNCEMENT_BYTES + 1), COMMUNITY, NOW), 'oversized');
    assert.throws(() => encodeEnvelope({ announcement: new Uint8Array(MAX_ANNOUNCEMENT_BYTES), signature: new Uint8Array(64) }), RangeError);
    // 200 stretches of each kind and the most endorsements: trimmed to fit, shortest first.
    const many = base({ held: churn(200), online: churn(200), endorsed: Array.from({ length: 24 }, () => new Uint8Array(39).fill(7)) });
    const payload = await signAnnouncement(key, many);
    assert.ok(payload.length <= MAX_ANNOUNCEMENT_BYTES, `${payload.length} bytes`);
    const a = await verifyAnnouncement(payload, COMMUNITY, NOW);
    assert.ok(a.held.length > 0 && a.held.length <= 64);
    // Claims less, never more: every stretch read is inside one that was held.
    for (const s of a.held) assert.ok(many.held.some((h) => h.start <= s.start && s.end <= h.end));
  });

  it('refuses malformed bytes: garbage, an unknown role, odd stretch lists, a bad peer id', async () => {
    const { key, base } = await announcer();
    await refused(verifyAnnouncement(new Uint8Array([0x0a, 0xff, 0xff]), COMMUNITY, NOW), 'malformed');
    const env = decodeEnvelope(await signAnnouncement(key, base()));
    const badRole = new Uint8Array([...env.announcement, 6 << 3, 9]);
    await refused(verifyAnnouncement(encodeEnvelope({ announcement: badRole, signature: env.signature }), COMMUNITY, NOW), 'malformed');
    const odd = new Uint8Array([...env.announcement, (10 << 3) | 2, 1, 5]);
    await refused(verifyAnnouncement(encodeEnvelope({ announcement: odd, signature: env.signature }), COMMUNITY, NOW), 'malformed');
    const notAPeer = encodeAnnouncement({ ...base({ peerId: 'not-a-peer' }), version: 1 });
    await refused(verifyAnnouncement(encodeEnvelope({ announcement: notAPeer, signature: env.signature }), COMMUNITY, NOW), 'malformed');
    const v2 = encodeAnnouncement({ ...base(), version: 2 });
    await refused(verifyAnnouncement(encodeEnvelope({ announcement: v2, signature: env.signature }), COMMUNITY, NOW), 'malformed');
  });

  it('names a community topic: by id for Status, by a hash of its topics for a custom one', () => {
    const status = { pubsubTopic: '/waku/2/rs/16/32', contentTopics: ['x'], status: { communityId: COMMUNITY, key: 'zQ3', linkName: null } };
    assert.equal(keepersContentTopic(status), `/waku-keeper/1/${COMMUNITY}-keepers/proto`);
    const a = communityKey({ pubsubTopic: '/waku/2/rs/16/32', contentTopics: ['/a/1/x/proto', '/a/1/y/proto'] });
    const b = communityKey({ pubsubTopic: '/waku/2/rs/16/32', contentTopics: ['/a/1/y/proto', '/a/1/x/proto'] });
    const c = communityKey({ pubsubTopic: '/waku/2/rs/16/64', contentTopics: ['/a/1/x/proto', '/a/1/y/proto'] });
    assert.equal(a, b);
    assert.notEqual(a, c);
    assert.match(a, /^c-[0-9a-f]{16}$/);
  });

  it('size figures: a typical announcement and a full one', async () => {
    const { key, base } = await announcer();
    const typical = await signAnnouncement(key, base());
    const busy = await signAnnouncement(key, base({ held: churn(30), online: churn(30) }));
    const full = await signAnnouncement(key, base({ held: churn(200), online: churn(200), endorsed: Array.from({ length: 24 }, () => new Uint8Array(39).fill(7)) }));
    console.log(`announcement bytes: typical ${typical.length}, 30+30 stretches ${busy.length}, full ${full.length} (cap ${MAX_ANNOUNCEMENT_BYTES})`);
    assert.ok(typical.length < 400);
    assert.ok(full.length <= MAX_ANNOUNCEMENT_BYTES);
  });
});
