/**
 * Keepers find each other by their signed announcements, on loopback with
 * real Keepers. Four Keepers of one community whose downtimes were staggered
 * (their archives and online records seeded as those downtimes leave them):
 * A was up throughout, B went down 20 minutes ago, C came up 25 minutes ago,
 * D came up 8 minutes ago and announces holding all of it — a lie. A fifth,
 * E, starts with one --peer (A) and no --store-peer: it learns B, C and D from
 * announcements alone (fetched cold from A's store), fills its past from
 * those that held it — the stretch C and D were down for from A and B only —
 * finds D out when D's attestation falls short of its announcement, and shows
 * the community map: every stretch of the past hour held by two or more.
 * Forged, unsigned, replayed, stale and oversized announcements sent to it
 * over relay are refused and counted by reason.
 */
import { describe, it, after } from 'node:test';
import type { Libp2p } from '@libp2p/interface';
import { multiaddr } from '@multiformats/multiaddr';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Community } from '../../main/contract/contract.ts';
import type { KeeperConfig } from '../../main/core/settings/config.ts';
import { SETTINGS_FILE } from '../../main/core/settings/settings-file.ts';
import { seedArchive, seedOnline, startKeeper, tempDataDir } from '../helpers/keeper.ts';
import type { TestKeeper } from '../helpers/keeper.ts';
import { clusterOf } from '../helpers/cluster.ts';
import { archiveMessage, hex, TEST_CONTENT, TEST_PUBSUB } from '../helpers/messages.ts';
import { waitFor } from '../helpers/wait.ts';
import { servedHashes } from '../helpers/store-node.ts';
import { startStoreClient } from '../helpers/store-client.ts';
import { communityKey, keepersContentTopic } from '../../main/core/communities/keepers-topic.ts';
import { generateKeyPair } from '@libp2p/crypto/keys';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { signAnnouncement } from '../../main/core/announce/announcement.ts';
import { encodeAnnouncement, encodeEnvelope } from '../../main/core/announce/codec.ts';
import { dial, startWakuClient } from '../helpers/waku-client.ts';
import type { WakuClient } from '../helpers/waku-client.ts';
import { KeeperMetrics } from '../../main/core/api/metrics.ts';
import { subtract } from '../../main/core/util/intervals.ts';

const MIN = 60_000;
const COMMUNITY: Community = { name: 'Loopback community', pubsubTopic: TEST_PUBSUB, contentTopics: TEST_CONTENT };
const FAST: Partial<KeeperConfig> = {
  heartbeatMs: 200,
  settleMs: 1000,
  fillIntervalMs: 60_000,
  checkIntervalMs: 10 * 60_000,
  retentionMs: 60 * MIN,
  keepersAnnounceIntervalMs: 5_000,
};

function keepCommunity(dir: string, role: 'owner' | 'volunteer'): void {
  writeFileSync(join(dir, SETTINGS_FILE), JSON.stringify({ role, communities: [COMMUNITY], storePeers: [] }));
}

describe('announcements between Keepers', () => {
  const live: TestKeeper[] = [];
  let client: Libp2p | undefined;
  const clients: WakuClient[] = [];
  after(async () => {
    await client?.stop();
    for (const w of clients) await w.stop();
    for (const k of live) await k.dispose();
  });

  it('a fifth Keeper learns the others from announcements alone, fills from those that held its gap, finds a liar out and maps the community', { timeout: 120_000 }, async () => {
    const now = Date.now();
    const [a, b, c, d] = await clusterOf(4);
    if (!a || !b || !c || !d) throw new Error('cluster');
    // One message a minute from 45 to 1 minute ago.
    const messages = Array.from({ length: 45 }, (_, i) => archiveMessage({ timestamp: BigInt(now - (45 - i) * MIN) * 1_000_000n, contentTopic: TEST_CONTENT[i % 3] }));
    const within = (from: number, to: number) => messages.filter((m) => Number(m.timestamp / 1_000_000n) >= from && Number(m.timestamp / 1_000_000n) < to);
    const history: [typeof a, number, number][] = [
      [a, now - 50 * MIN, now],
      [b, now - 50 * MIN, now - 20 * MIN],
      [c, now - 25 * MIN, now],
      [d, now - 8 * MIN, now],
    ];
    for (const [m, from, to] of history) {
      seedArchive(m.dir, within(from, to));
      seedOnline(m.dir, [{ start: from, end: to }]);
      keepCommunity(m.dir, m === a ? 'owner' : 'volunteer');
    }
    // D claims from 58 minutes ago: a stretch nobody held, so no fill can ever make its claim true.
    const lie = (_held: { start: number; end: number }[], span: { start: number; end: number }) => [{ start: now - 58 * MIN, end: span.end - 2_000 }];
    for (const m of [a, b, c, d]) {
      const k = await startKeeper({ ...FAST, listen: [m.listen], peers: m.others, storePeers: m.others }, m.dir, m === d ? { announceHeld: lie } : undefined);
      live.push(k);
    }
    const ka = live[0] as TestKeeper;
    // A (and so its store) has heard all four announce.
    await waitFor('A to believe B, C and D', async () => ((await ka.status()).announce[0]?.keepers.length ?? 0) === 4, { timeoutMs: 30_000 });

    const eDir = tempDataDir();
    keepCommunity(eDir, 'volunteer');
    // Without Waku Sync: its consistency check would take what any peer offers (C's part too, rightly),
    // and this test is about whom gap filling asks.
    const e = await startKeeper({ ...FAST, peers: [ka.tcpAddr], storeSync: false }, eDir);
    live.push(e);
    const storePeerIds = async () => new Set((await e.status()).history.storePeers.filter((p) => p.source === 'announced').map((p) => p.peerId));
    await waitFor('E to learn B, C and D from announcements', async () => {
      const ids = await storePeerIds();
      return [b, c, d].every((m) => ids.has(m.peerId));
    }, { timeoutMs: 30_000 });
    const st0 = await e.status();
    assert.equal(st0.settings.storePeers.length, 0, 'E was given no store peer');

    client = await startStoreClient();
    const store = client;
    await waitFor('E to hold every message', async () => {
      const got = new Set(await servedHashes(store, multiaddr(e.tcpAddr), TEST_PUBSUB));
      return messages.every((m) => got.has(hex(m.hash)));
    }, { timeoutMs: 60_000 });
    await waitFor('E to find D out', async () => (await e.status()).history.storePeers.some((p) => p.peerId === d.peerId && p.standingLostMs !== null), { timeoutMs: 30_000 });

    const st = await e.status();
    const dPeer = st.history.storePeers.find((p) => p.peerId === d.peerId);
    assert.match(dPeer?.standingReason ?? '', /announced holding/);
    // Its past came from those whose announcements held it: C, down for most of it, claims less than A and gave nothing.
    // (D claims the most, so it is asked early and may give messages: those it filled itself are real, hash-checked;
    // what it claims beyond its attestation is what finds it out.)
    const provided = (id: string): number => st.history.storePeers.find((p) => p.peerId === id)?.provided ?? 0;
    assert.equal(provided(c.peerId), 0);
    assert.ok(provided(a.peerId) + provided(b.peerId) + provided(d.peerId) >= 45);
    await waitFor('E to verify its past with the peers that attested it', async () => {
      const topic = (await e.status()).history.topics.find((t) => t.pubsubTopic === TEST_PUBSUB);
      // Verified in one part or several (the order passes ran in under load decides how the rows split).
      const verified = (topic?.filled ?? []).filter((f) => f.verified).map((f) => ({ start: f.startMs, end: f.endMs }));
      return subtract({ start: now - 45 * MIN, end: now - 2 * MIN }, verified).length === 0;
      // Five Keepers share this process: on a loaded two-core machine the pass that verifies can take a while.
    }, { timeoutMs: 60_000 });
    // Before anyone held anything E holds nothing either: D, found out, still answers it, and its word counts for nothing.
    const early = (await e.status()).history.topics.find((t) => t.pubsubTopic === TEST_PUBSUB)?.filled ?? [];
    assert.ok(!early.some((f) => f.startMs < now - 52 * MIN && f.endMs > now - 55 * MIN), JSON.stringify(early));

    const everyone = [e.peerId, ...[a, b, c, d].map((m) => m.peerId)].sort();
    await waitFor('E to list all five Keepers, itself first', async () => {
      const keepers = (await e.status()).announce[0]?.keepers ?? [];
      return keepers[0]?.self === true && keepers[0].peerId === e.peerId && JSON.stringify(keepers.map((k) => k.peerId).sort()) === JSON.stringify(everyone);
    });
    const view = (await e.status()).announce.find((x) => x.key === communityKey(COMMUNITY));
    assert.ok(view !== undefined);
    assert.equal(view.keepers.find((k) => k.peerId === d.peerId)?.standingLost, true);
    assert.equal(view.keepers.find((k) => k.peerId === a.peerId)?.role, 'owner');
    // The owner's Keeper vouches for the volunteers it believes; its next announcement carries them.
    await waitFor('the owner to vouch for B', async () => (await e.status()).announce[0]?.keepers.find((k) => k.peerId === b.peerId)?.endorsedByOwner === true, { timeoutMs: 20_000 });
    // Without D's lie, every stretch from 49 to 2 minutes ago is held by at least two (A with B, then A with C).
    for (const s of view.map.filter((x) => x.endMs > now - 49 * MIN && x.startMs < now - 2 * MIN)) {
      assert.ok(s.keepers >= 2 && !s.thin, `${new Date(s.startMs).toISOString()}–${new Date(s.endMs).toISOString()}: ${s.keepers}`);
    }
    // Before anyone held anything the map is thin — D's claim to it counts for nothing once found out.
    assert.ok(view.map.some((s) => s.startMs <= now - 55 * MIN && s.endMs >= now - 51 * MIN && s.thin && s.keepers === 0), JSON.stringify(view.map));
    assert.equal(Object.values(view.refused).reduce((n, x) => n + (x ?? 0), 0), 0, JSON.stringify(view.refused));
    // /metrics says the same, from the same snapshot.
    const metrics = await new KeeperMetrics().render(await e.status());
    const key = communityKey(COMMUNITY);
    assert.match(metrics, new RegExp(`keeper_community_keepers\\{community="${key}",state="all"\\} 5`));
    assert.match(metrics, new RegExp(`keeper_community_keepers\\{community="${key}",state="lost-standing"\\} 1`));
    assert.match(metrics, new RegExp(`keeper_community_thin_ratio\\{community="${key}"\\} 0\\.9`));

    // Bad announcements over relay: refused, counted by reason, and E keeps running.
    const waku = await startWakuClient({ pubsubTopics: [TEST_PUBSUB] });
    clients.push(waku);
    await dial(waku, e.tcpAddr);
    await waitFor('the client to relay with E', () => waku.relay.getSubscribers(TEST_PUBSUB).some((p) => p.toString() === e.peerId));
    const stranger = await generateKeyPair('secp256k1');
    const strangerId = peerIdFromPrivateKey(stranger).toString();
    const body = (over: Record<string, unknown> = {}) => ({
      peerId: strangerId, community: key, multiaddrs: [], enr: '', role: 'volunteer' as const, retentionMs: 0, freeBytes: 0,
      held: [], online: [], software: 'stranger', seq: 5, issuedMs: Date.now(), endorsed: [], ...over,
    });
    let ts = BigInt(Date.now()) * 1_000_000n;
    const send = async (payload: Uint8Array): Promise<void> => {
      ts += 1_000_000n;
      await waku.publish(TEST_PUBSUB, { contentTopic: keepersContentTopic(COMMUNITY), payload, timestamp: ts });
    };
    const valid = await signAnnouncement(stranger, body());
    await send(valid);
    await send(valid); // the same announcement again, in another WakuMessage: replayed
    await send(await signAnnouncement(stranger, body({ peerId: a.peerId }))); // forged: signed by the stranger, naming A
    await send(encodeEnvelope({ announcement: encodeAnnouncement({ ...body({ seq: 6 }), version: 1 }), signature: new Uint8Array(0) }));
    await send(await signAnnouncement(stranger, body({ seq: 7, issuedMs: Date.now() - 2 * 3_600_000 })));
    await send(new Uint8Array(3000));
    const want = { replayed: 1, 'bad-signature': 1, unsigned: 1, stale: 1, oversized: 1 };
    await waitFor('E to refuse and count each bad announcement', async () => {
      const r = (await e.status()).announce[0]?.refused ?? {};
      return JSON.stringify(Object.entries(r).sort()) === JSON.stringify(Object.entries(want).sort());
    }, { timeoutMs: 20_000 });
    assert.ok((await e.status()).announce[0]?.keepers.some((k) => k.peerId === strangerId), 'the one valid announcement is believed');
  });
  it('a Keeper that starts cold learns a Keeper that is not announcing now from its store peer\'s archive', { timeout: 90_000 }, async () => {
    // Announcing every 10 minutes: after their first announcements, nobody says anything for the rest of this test.
    const SLOW: Partial<KeeperConfig> = { ...FAST, keepersAnnounceIntervalMs: 10 * 60_000 };
    const [a, b] = await clusterOf(2);
    if (!a || !b) throw new Error('cluster');
    for (const m of [a, b]) keepCommunity(m.dir, 'volunteer');
    const ka = await startKeeper({ ...SLOW, listen: [a.listen], peers: [b.addr] }, a.dir);
    live.push(ka);
    const kb = await startKeeper({ ...SLOW, listen: [b.listen], peers: [a.addr] }, b.dir);
    live.push(kb);
    await waitFor('A to hold B\'s announcement', async () => ((await ka.status()).announce[0]?.keepers.some((k) => k.peerId === b.peerId) ?? false), { timeoutMs: 45_000 });
    // Past gossipsub's message cache (a few heartbeats), so relay cannot hand it to a newcomer: only a store can.
    const issued = (await ka.status()).announce[0]?.keepers.find((k) => k.peerId === b.peerId)?.issuedMs ?? 0;
    await waitFor('B\'s announcement to age past relay\'s gossip', () => Date.now() - issued > 6_000, { timeoutMs: 10_000 });
    const cDir = tempDataDir();
    keepCommunity(cDir, 'volunteer');
    const startedAt = Date.now();
    const kc = await startKeeper({ ...SLOW, peers: [ka.tcpAddr] }, cDir);
    live.push(kc);
    await waitFor('C to learn B from A\'s store', async () => {
      const st = await kc.status();
      return (st.announce[0]?.keepers.some((k) => k.peerId === b.peerId) ?? false) && st.history.storePeers.some((p) => p.peerId === b.peerId && p.source === 'announced');
    }, { timeoutMs: 15_000 });
    const bSeen = (await kc.status()).announce[0]?.keepers.find((k) => k.peerId === b.peerId);
    // What C believes was issued before C started: it came from the archive, not from relay.
    assert.ok(bSeen !== undefined && bSeen.issuedMs < startedAt, `issued ${bSeen?.issuedMs} vs started ${startedAt}`);
  });
});
