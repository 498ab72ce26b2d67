/**
 * Waku Sync inside real Keepers on loopback, driven by the Keeper's own
 * consistency check (nothing here calls the sync service): two Keepers with
 * 100 000 messages that differ by a few hundred end with identical archives
 * over their whole retention window; a peer without reconciliation is compared
 * by hash listings and an nwaku-like one that speaks it (but not the coverage
 * protocol) is synced over nwaku's hour only; a Keeper killed with SIGKILL
 * mid-reconciliation loses nothing, and the next check completes.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { ArchiveMessage } from '../../main/core/message/message.ts';
import type { KeeperConfig } from '../../main/core/settings/config.ts';
import type { KeeperStatus } from '../../main/contract/contract.ts';
import Database from 'better-sqlite3';
import { StoreServer } from '../../main/core/store/server.ts';
import { ARCHIVE_FILE } from '../../main/core/settings/paths.ts';
import { inMesh, seedHistory, seedOnline, startKeeper, tempDataDir } from '../helpers/keeper.ts';
import type { TestKeeper } from '../helpers/keeper.ts';
import { startKeeperProcess } from '../helpers/keeper-process.ts';
import type { KeeperProcess } from '../helpers/keeper-process.ts';
import { archiveMessage, TEST_CONTENT, TEST_PUBSUB } from '../helpers/messages.ts';
import { corpus as corpusOf, split } from '../helpers/sync-corpus.ts';
import { startSyncNode } from '../helpers/sync-node.ts';
import type { SyncNode } from '../helpers/sync-node.ts';
import { dial, startWakuClient } from '../helpers/waku-client.ts';
import { waitFor } from '../helpers/wait.ts';

const HOUR = 3_600_000;
const MS = 1_000_000n;
const corpus = (n: number, seed: number): ArchiveMessage[] => corpusOf(n, seed, 'keeper sync');
/** Fast loops; a retention of two days keeps gap filling's share (the empty day before the seeded one) small. */
const FAST: Partial<KeeperConfig> = { heartbeatMs: 200, settleMs: 1000, fillIntervalMs: 60 * 60_000, checkIntervalMs: 2000, retentionMs: 2 * 24 * HOUR };

/**
 * An archive read with a bare connection: the Archive class would start its
 * checkpoint worker, which opens the file again after the test removed it.
 */
function readArchive<T>(dataDir: string, read: (db: Database.Database) => T): T {
  const db = new Database(join(dataDir, ARCHIVE_FILE));
  try {
    return read(db);
  } finally {
    db.close();
  }
}

/** Every (timestamp, hash) held on the test topic, in order, as hex. */
function heldIn(dataDir: string): string[] {
  return readArchive(dataDir, (db) =>
    db.prepare('SELECT hex(m.hash) FROM messages m JOIN topics t ON t.id = m.pubsub_id WHERE t.name = ? ORDER BY m.timestamp, m.hash').pluck().all(TEST_PUBSUB) as string[],
  );
}

const live: TestKeeper[] = [];
async function keeper(overrides: Partial<KeeperConfig> = {}, dataDir?: string, hooks?: Parameters<typeof startKeeper>[2]): Promise<TestKeeper> {
  const k = await startKeeper({ ...FAST, ...overrides }, dataDir, hooks);
  live.push(k);
  return k;
}
const consistency = async (k: { status(): Promise<KeeperStatus> }) => (await k.status()).history.consistency;

describe('Waku Sync in the consistency check', { timeout: 240_000 }, () => {
  after(async () => {
    for (const k of live.reverse()) await k.dispose();
  });

  it('two Keepers of 100 000 messages that differ by 400 scattered ones end identical, over the retention window', async () => {
    const all = corpus(100_000, 11);
    const { a, b } = split(all, 400, 12);
    const aDir = tempDataDir();
    const bDir = tempDataDir();
    seedHistory(aDir, a);
    seedHistory(bDir, b);
    assert.notDeepEqual(heldIn(aDir), heldIn(bDir));
    const started = performance.now();
    const ka = await keeper({}, aDir);
    const kb = await keeper({ peers: [ka.tcpAddr], storePeers: [ka.tcpAddr] }, bDir);
    await waitFor(
      'both Keepers to hold all 100 000',
      async () => (await ka.status()).archive.messages === all.length && (await kb.status()).archive.messages === all.length,
      { timeoutMs: 120_000, intervalMs: 250 },
    );
    const ms = Math.round(performance.now() - started);
    // Each began a session with the other, at once or not: both ended, on both sides.
    await waitFor('every session to have ended on both sides', async () => {
      const [sa, sb] = [(await consistency(ka)).sync.sessions, (await consistency(kb)).sync.sessions];
      return sa.initiated >= 1 && sb.initiated >= 1 && sa.initiated === sb.answered && sb.initiated === sa.answered;
    });
    const [ca, cb] = [await consistency(ka), await consistency(kb)];
    const took = (l: typeof ca.sync.last) => (l === null ? 'none' : `${l.ms} ms, ${l.rounds} rounds, ${l.weLacked} lacked here, ${l.theyLacked} there`);
    console.log(`# 100 000 vs 100 000, 400 apart: identical ${ms} ms after the Keepers began to start (check every 2 s); sessions A→B ${took(ca.sync.last)}; B→A ${took(cb.sync.last)}`);
    // It went by sync: each missing message stored once, on the side that lacked it, and by the check's sessions.
    assert.equal(ca.sync.messages.stored + cb.sync.messages.stored, 400, JSON.stringify({ a: ca.sync, b: cb.sync }));
    assert.ok(ca.sync.enabled && cb.sync.enabled);
    assert.ok(ca.compared.sync + cb.compared.sync >= 1);
    const last = [ca.sync.last, cb.sync.last].find((l) => l?.outcome === 'complete');
    assert.ok(last !== undefined && last !== null, 'a session the check began completed');
    // Between Keepers, the whole retention window is synced (the messages are 1 to 25 hours old; nwaku's hour would miss them).
    assert.equal(last.keeper, true);
    assert.ok(last.endMs - last.startMs > 2 * 24 * HOUR - 60_000, `synced ${last.endMs - last.startMs} ms`);
    assert.equal(ca.sync.messages.undelivered + cb.sync.messages.undelivered, 0);
    // Both began a session with the other at once: every copy pushed twice is one asked for, nothing refused.
    assert.deepEqual([ca.sync.refused, cb.sync.refused, ca.sync.cutOff, cb.sync.cutOff], [{}, {}, {}, {}]);
    await ka.stop();
    await kb.stop();
    const held = heldIn(aDir);
    assert.equal(held.length, all.length);
    assert.deepEqual(heldIn(bDir), held);
  });

  it('a Keeper that keeps less is synced only over what it keeps: nothing older is pushed to it', async () => {
    const all = corpus(4000, 31);
    const pDir = tempDataDir();
    seedHistory(pDir, all);
    const p = await keeper({}, pDir);
    // S keeps 6 hours, was online for them, and holds none of the messages.
    const sDir = tempDataDir();
    seedOnline(sDir, [{ start: Date.now() - 6 * HOUR, end: Date.now() }]);
    const s = await keeper({ retentionMs: 6 * HOUR, peers: [p.tcpAddr], storePeers: [p.tcpAddr] }, sDir);
    const fromMs = Date.now() - 6 * HOUR;
    const inWindow = all.filter((m) => m.timestamp >= BigInt(fromMs) * MS);
    await waitFor('S to hold its six hours', async () => (await s.status()).archive.messages >= inWindow.length, { timeoutMs: 30_000, intervalMs: 200 });
    await waitFor('P to have synced with S', async () => (await consistency(p)).sync.last?.outcome === 'complete', { timeoutMs: 30_000, intervalMs: 200 });
    const last = (await consistency(p)).sync.last;
    // P asked about its two days; S answered the part before its own window as skipped.
    assert.ok(last !== null && last.keeper && last.endMs - last.startMs > 24 * HOUR, JSON.stringify(last));
    assert.ok(last.theyLacked <= inWindow.length + 5, `P found S lacking ${last.theyLacked}; S keeps ${inWindow.length}`);
    const held = new Set(heldIn(sDir));
    const older = all.filter((m) => m.timestamp < BigInt(fromMs - 60_000) * MS);
    assert.ok(older.length > 2000);
    for (const m of older) assert.ok(!held.has(Buffer.from(m.hash).toString('hex').toUpperCase()), 'nothing before S keeps is pushed to it');
    for (const m of inWindow) assert.ok(held.has(Buffer.from(m.hash).toString('hex').toUpperCase()));
  });

  it('compares by hash listings with a peer without reconciliation, and syncs only its hour with an nwaku-like one', async () => {
    // A: a Keeper with sync off (as nwaku without --store-sync); N: reconciliation and Store v3, no coverage protocol, as nwaku with --store-sync.
    const aDir = tempDataDir();
    seedOnline(aDir, [{ start: Date.now() - 4 * HOUR, end: Date.now() }]);
    const ka = await keeper({ storeSync: false, retentionMs: 4 * HOUR, checkIntervalMs: 60_000 }, aDir);
    const now = Date.now();
    const old = Array.from({ length: 5 }, (_, i) => archiveMessage({ timestamp: BigInt(now - 2 * HOUR + i * 1000) * MS, payload: new TextEncoder().encode(`two hours ago ${i}`) }));
    const recent = Array.from({ length: 5 }, (_, i) => archiveMessage({ timestamp: BigInt(now - 30 * 60_000 + i * 1000) * MS, payload: new TextEncoder().encode(`half an hour ago ${i}`) }));
    const nDir = tempDataDir();
    const n: SyncNode = await startSyncNode(join(nDir, 'n.sqlite'));
    n.archive.insert([...old, ...recent]);
    const store = new StoreServer(n.archive, { rateLimit: { capacity: 1000, perSecond: 1000 } });
    await store.start(n.node);
    // B held the last four hours while online (nothing for gap filling to fetch), and relay loses a third of what it hears.
    const bDir = tempDataDir();
    seedOnline(bDir, [{ start: Date.now() - 4 * HOUR, end: Date.now() }]);
    let dropped = 0;
    const kb = await keeper({ retentionMs: 4 * HOUR, checkIntervalMs: 1000, peers: [ka.tcpAddr], storePeers: [ka.tcpAddr, n.addr.toString()] }, bDir, {
      dropRelayMessage: () => ++dropped % 3 === 0,
    });
    const client = await startWakuClient({ pubsubTopics: [TEST_PUBSUB] });
    try {
      await dial(client, ka.tcpAddr);
      await waitFor('A to have B in its mesh, and the client A', async () => (await inMesh(ka, kb.peerId)) && client.relay.getSubscribers(TEST_PUBSUB).length > 0);
      const base = BigInt(Date.now()) * MS;
      for (let i = 0; i < 30; i++) {
        await client.publish(TEST_PUBSUB, { contentTopic: TEST_CONTENT[i % 3] ?? '', payload: new TextEncoder().encode(`lossy ${i}`), timestamp: base + BigInt(i) * MS });
      }
      await waitFor('A to hold 30 and B to have lost 10', async () => (await ka.status()).archive.messages === 30 && dropped >= 30);
      await waitFor('B to hold the 30 and the 5 of the hour', async () => (await kb.status()).archive.messages === 35, { timeoutMs: 30_000, intervalMs: 200 });
      const c = await consistency(kb);
      assert.ok(c.compared.hashes >= 1, JSON.stringify(c));
      assert.ok(c.compared.sync >= 1, JSON.stringify(c));
      // The 10 relay lost came from A by hash: the check's listing, or gap filling when a loaded machine let
      // them fall in the clock margin after B's online record began (either way A provided them). The 5 of
      // N's hour came by sync, N's older 5 stay out: nwaku syncs its hour.
      const peersOfB = (await kb.status()).history.storePeers;
      assert.equal(peersOfB.find((p) => p.peerId === ka.peerId)?.provided, 10, JSON.stringify(peersOfB));
      assert.equal(peersOfB.find((p) => p.peerId === n.node.peerId.toString())?.provided, 5);
      assert.ok(c.recovered >= 5 && c.recovered <= 15, JSON.stringify(c));
      assert.equal(c.sync.messages.stored, 5);
      assert.ok(c.sync.last !== null && c.sync.last.peerId === n.node.peerId.toString() && !c.sync.last.keeper, JSON.stringify(c.sync.last));
      assert.equal(c.sync.last.endMs - c.sync.last.startMs, HOUR);
      const held = heldIn(bDir);
      for (const m of recent) assert.ok(held.includes(Buffer.from(m.hash).toString('hex').toUpperCase()));
      for (const m of old) assert.ok(!held.includes(Buffer.from(m.hash).toString('hex').toUpperCase()));
      // A, with sync off, neither answered nor began a session.
      const ca = await consistency(ka);
      assert.equal(ca.sync.enabled, false);
      assert.equal(ca.compared.sync, 0);
      const metrics = await (await fetch(`${kb.apiUrl}/metrics`, { headers: { Authorization: `Bearer ${await tokenOf(kb)}` } })).text();
      assert.match(metrics, /keeper_sync_messages_total\{kind="stored"\} 5/);
      assert.match(metrics, /keeper_consistency_peers_compared_total\{method="hashes"\} [1-9]/);
    } finally {
      await client.stop();
      await store.stop();
      await n.stop();
      rmSync(nDir, { recursive: true, force: true });
    }
  });

  it('a Keeper killed with SIGKILL mid-reconciliation loses nothing it stored, and the next check completes', async () => {
    const all = corpus(80_000, 21);
    // K lacks three quarters of what P holds (pushed to it), and holds 200 that P lacks.
    const kHas = all.filter((_, i) => i % 4 === 0 || i % 400 === 1);
    const pHas = all.filter((_, i) => i % 400 !== 1);
    const kDir = tempDataDir();
    const pDir = tempDataDir();
    seedHistory(kDir, kHas);
    seedHistory(pDir, pHas);
    const p = await keeper({}, pDir);
    const flags = [
      '--heartbeat', '200ms', '--settle', '1s', '--clock-margin', '200ms', '--check-interval', '1s', '--fill-interval', '1h', '--retention', '2d',
      '--peer', p.tcpAddr, '--store-peer', p.tcpAddr,
    ];
    let k: KeeperProcess = await startKeeperProcess(kDir, flags, TEST_PUBSUB);
    try {
      let seen = kHas.length;
      await waitFor(
        'K to be partway through what it lacks',
        async () => {
          seen = (await k.status()).archive.messages;
          return seen > kHas.length + 2000;
        },
        { timeoutMs: 60_000, intervalMs: 20 },
      );
      await k.kill();
      readArchive(kDir, (db) => {
        assert.equal(db.pragma('integrity_check', { simple: true }), 'ok');
        const count = db.prepare('SELECT count(*) FROM messages').pluck().get() as number;
        assert.ok(count >= seen && count < all.length, `${count} after the kill, ${seen} seen before it, ${all.length} in all`);
        console.log(`# killed with ${count} of ${all.length} held (${kHas.length} before the sync, ${seen} seen just before the kill)`);
        const has = db.prepare('SELECT 1 FROM messages WHERE hash = ?').pluck();
        for (const m of kHas) assert.ok(has.get(m.hash) === 1);
      });
      k = await startKeeperProcess(kDir, flags, TEST_PUBSUB);
      await waitFor(
        'both to hold all 80 000',
        async () => (await k.status()).archive.messages === all.length && (await p.status()).archive.messages === all.length,
        { timeoutMs: 90_000, intervalMs: 250 },
      );
      await waitFor(
        'a check to complete a session after the restart',
        async () => [(await consistency(k)).sync.last, (await consistency(p)).sync.last].some((l) => l?.outcome === 'complete'),
        { timeoutMs: 30_000, intervalMs: 250 },
      );
      await k.stop();
      await p.stop();
      const held = heldIn(pDir);
      assert.equal(held.length, all.length);
      assert.deepEqual(heldIn(kDir), held);
    } finally {
      await k.kill();
    }
  });
});

async function tokenOf(k: TestKeeper): Promise<string> {
  return readFileSync(join(k.dataDir, 'api-token'), 'utf8').trim();
}
