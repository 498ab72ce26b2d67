/**
 * History with real Keepers on loopback: uptime coverage, gap filling from
 * several peers (honest, omitting, forging), windows of at most 24 h, and the
 * consistency check that recovers what relay lost. Intervals are shortened by
 * configuration; nothing sleeps for minutes.
 */
import { describe, it, before, after } from 'node:test';
import { multiaddr } from '@multiformats/multiaddr';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { ArchiveMessage } from '../../main/core/message/message.ts';
import type { KeeperConfig } from '../../main/core/settings/config.ts';
import type { KeeperEvent, KeeperStatus, TopicHistory } from '../../main/contract/contract.ts';
import { subtract } from '../../main/core/util/intervals.ts';
import { DAY_MS } from '../../main/core/util/time.ts';
import { inMesh, seedHistory, seedOnline, startKeeper, tempDataDir } from '../helpers/keeper.ts';
import { startStoreClient } from '../helpers/store-client.ts';
import type { Libp2p } from '@libp2p/interface';
import type { TestKeeper } from '../helpers/keeper.ts';
import { archiveMessage, hex, series, TEST_CONTENT, TEST_PUBSUB } from '../helpers/messages.ts';
import { dial, startWakuClient } from '../helpers/waku-client.ts';
import { servedHashes, startStoreNode } from '../helpers/store-node.ts';
import type { StoreNode } from '../helpers/store-node.ts';
import { waitFor } from '../helpers/wait.ts';

const FAST: Partial<KeeperConfig> = { heartbeatMs: 200, settleMs: 1000, fillIntervalMs: 60_000, checkIntervalMs: 60_000 };
const MS = 1_000_000n;

const live: TestKeeper[] = [];
const storeNodes: StoreNode[] = [];
async function storeNode(messages: ArchiveMessage[], attest?: 'all'): Promise<StoreNode> {
  const n = await startStoreNode(messages, 'honest', 0, attest === undefined ? {} : { attest });
  storeNodes.push(n);
  return n;
}
async function keeper(overrides: Partial<KeeperConfig> = {}, dataDir?: string, hooks?: Parameters<typeof startKeeper>[2]): Promise<TestKeeper> {
  const k = await startKeeper({ ...FAST, ...overrides }, dataDir, hooks);
  live.push(k);
  return k;
}

/** Every hash a Keeper serves (its archive, oldest first), read by a bystander over Store v3. */
async function hashesOf(k: TestKeeper): Promise<string[]> {
  const out = await servedHashes(bystander, multiaddr(k.tcpAddr), TEST_PUBSUB);
  assert.equal(out.length, (await k.status()).archive.messages, 'the store view equals the archive count');
  return out;
}

let bystander: Libp2p;

const historyOf = (s: KeeperStatus) => s.history.topics.find((t) => t.pubsubTopic === TEST_PUBSUB);
/** What a topic's history holds verified: online and verified segments. */
const verifiedOf = (h: TopicHistory) => h.segments.filter((x) => x.kind === 'online' || x.kind === 'verified').map((x) => ({ start: x.startMs, end: x.endMs }));
/** Nothing left that gap filling could fetch: every gap is one the peers attest they did not hold either. */
const settled = (h: TopicHistory) => h.gaps.every((g) => g.reason === 'not-held');
const lastFillEnd = (events: KeeperEvent[]) => events.filter((e) => e.event === 'fill:end').at(-1);

describe('history: coverage, gap filling, cross-checks', () => {
  before(async () => {
    // A bystander node that reads other Keepers' archives through Store v3.
    bystander = await startStoreClient();
  });
  after(async () => {
    for (const k of live.reverse()) await k.dispose();
    for (const n of storeNodes) await n.stop();
    await bystander?.stop();
  });

  it('a Keeper that was down refills the stretch it missed from a store peer, verified by its attestation', async () => {
    // A was online for the past hour: it attests holding all of it (but the moment it took to start).
    const aDir = tempDataDir();
    seedOnline(aDir, [{ start: Date.now() - 3_600_000, end: Date.now() }]);
    const a = await keeper({ retentionMs: 3_600_000 }, aDir);
    const bDir = tempDataDir();
    const bConfig = { retentionMs: 3_600_000, peers: [a.tcpAddr], storePeers: [a.tcpAddr], fillQuorum: 1 };
    let b = await keeper(bConfig, bDir);
    const client = await startWakuClient({ pubsubTopics: [TEST_PUBSUB] });
    try {
      await dial(client, a.tcpAddr);
      await waitFor('B online, with nothing missing but what A attests it did not hold either', async () => {
        const s = await b.status();
        const h = historyOf(s);
        return h !== undefined && h.online.length > 0 && settled(h) && !s.history.fill.running;
      }).catch(async (err: unknown) => {
        console.log(JSON.stringify((await b.status()).history, null, 1), b.events);
        throw err;
      });
      await b.stop();
      const stoppedMs = Date.now();
      const sharesAtStop = historyOf(await a.status());
      // While B is down, A receives 30 messages on 3 content topics.
      await waitFor('the client to see A', () => client.relay.getSubscribers(TEST_PUBSUB).length > 0);
      const base = BigInt(Date.now()) * MS;
      for (let i = 0; i < 30; i++) {
        await client.publish(TEST_PUBSUB, {
          contentTopic: TEST_CONTENT[i % 3] ?? '',
          payload: new TextEncoder().encode(`while B was down ${i}`),
          timestamp: base + BigInt(i) * MS,
        });
      }
      await waitFor('30 messages in A', async () => (await a.status()).archive.messages === 30);
      const restartedMs = Date.now();

      const restartedAt = performance.now();
      b = await keeper(bConfig, bDir);
      const before = historyOf(await b.status());
      // Once the downtime has settled it is a gap, and gap filling fetches it.
      const downtime = { start: stoppedMs, end: restartedMs };
      await waitFor("B to hold A's messages and the stretch it was down verified", async () => {
        const s = await b.status();
        const h = historyOf(s);
        return s.archive.messages === 30 && h !== undefined && subtract(downtime, verifiedOf(h)).length === 0 && settled(h);
      });
      const fillMs = performance.now() - restartedAt;
      const filled = b.events.filter((e) => e.event === 'fill:progress' && e.messages > 0);
      assert.equal(filled.reduce((n, e) => n + (e.event === 'fill:progress' ? e.messages : 0), 0), 30, 'the 30 came by gap filling');
      assert.deepEqual(await hashesOf(b), await hashesOf(a));
      const after = historyOf(await b.status());
      assert.ok(after && after.verifiedShare > 0.99, `verified ${after?.verifiedShare}`);
      const peer = (await b.status()).history.storePeers.find((p) => p.peerId === a.peerId);
      assert.ok(peer && peer.provided >= 30 && peer.rejected === 0 && peer.source === 'static' && peer.attests === true);
      const pct = (x: number | undefined): string => `${((x ?? 0) * 100).toFixed(4)} %`;
      console.log(
        `# refill: 30 messages after a restart in ${fillMs.toFixed(0)} ms; verified share of A ${pct(sharesAtStop?.verifiedShare)}, ` +
          `of B right after its restart ${pct(before?.verifiedShare)}, after the fill ${pct(after?.verifiedShare)}`,
      );
    } finally {
      await client.stop();
    }
  });

  it('fills a gap longer than 24 h in windows of at most a day', async () => {
    const now = Date.now();
    // 300 messages every 10 minutes, from 50 h to 0.2 h ago.
    const start = BigInt(now - 50 * 3_600_000) * MS;
    const seeded = series(300, start, { stepNs: 10n * 60_000n * MS });
    const aDir = tempDataDir();
    seedHistory(aDir, seeded);
    const a = await keeper({}, aDir);
    const b = await keeper({ storePeers: [a.tcpAddr], fillQuorum: 1 });
    await waitFor('B to hold all 300', async () => (await b.status()).archive.messages === 300, { timeoutMs: 30_000 });
    await waitFor('the pass to end', () => lastFillEnd(b.events) !== undefined);
    assert.deepEqual(await hashesOf(b), seeded.map((m) => hex(m.hash)));
    const windows = b.events.filter((e) => e.event === 'fill:progress');
    const withMessages = windows.filter((e) => e.event === 'fill:progress' && e.messages > 0);
    assert.ok(withMessages.length >= 3, `50 h of messages came in ${withMessages.length} windows`);
    for (const w of windows) if (w.event === 'fill:progress') assert.ok(w.endMs - w.startMs <= DAY_MS);
    const h = historyOf(await b.status());
    assert.ok(h && h.filled.every((f) => f.endMs - f.startMs <= DAY_MS));
  });

  describe('cross-checking peers', () => {
    const base = BigInt(Date.now() - 3 * 3_600_000) * MS;
    const all = series(200, base, { stepNs: 1000n * MS });
    let omitting: StoreNode;

    it('two honest peers and one that attests holding everything but omits half: all recovered, verified by the honest two, the omitter loses its standing', async () => {
      const honest = [await storeNode(all, 'all'), await storeNode(all, 'all')];
      omitting = await storeNode(all.filter((_, i) => i % 2 === 0), 'all');
      const b = await keeper({ storePeers: [omitting.addr, ...honest.map((n) => n.addr)], fillQuorum: 2 });
      await waitFor('the first pass to end', () => lastFillEnd(b.events) !== undefined, { timeoutMs: 30_000 });
      assert.deepEqual(await hashesOf(b), all.map((m) => hex(m.hash)));
      const s = await b.status();
      const h = historyOf(s);
      assert.ok(h);
      // B has no relay peer, so the newest moments since the pass are not held: nearly 1, not 1.
      assert.ok(h.verifiedShare > 0.99, `verified share ${h.verifiedShare}`);
      assert.deepEqual(h.unverified, []);
      const seededMs = Number(base / MS);
      const verifiedBy = h.filled.find((f) => f.verified && f.startMs <= seededMs && f.endMs >= seededMs + 200_000)?.peers;
      assert.deepEqual(verifiedBy, honest.map((n) => n.peerId).sort(), 'verified by the honest two, not the omitter');
      const byId = new Map(s.history.storePeers.map((p) => [p.peerId, p]));
      for (const n of honest) assert.equal(byId.get(n.peerId)?.agreement, 1);
      const o = byId.get(omitting.peerId);
      assert.equal(o?.agreement, 0.5);
      // Each message is fetched once, from whichever peer listed it: the omitter sent at most its half.
      assert.ok((o?.provided ?? 0) <= 100, `the omitter provided ${o?.provided}`);
      assert.equal(o?.trusted, false);
      assert.match(o?.standingReason ?? '', /lacked 100 messages/);
      assert.ok(honest.every((n) => byId.get(n.peerId)?.trusted === true));
    });

    it('hash first, with an omitting and a forging peer among two honest ones: exactly the honest set, each message fetched once', async () => {
      const honest = [await storeNode(all, 'all'), await storeNode(all, 'all')];
      const omitter = await storeNode(all.filter((_, i) => i % 3 !== 0), 'all');
      const forger = await startStoreNode(all, 'forge-bodies', 0, { attest: 'all' });
      storeNodes.push(forger);
      // The dishonest ones first: they are asked first, their lies must not cost a message.
      const b = await keeper({ storePeers: [forger.addr, omitter.addr, ...honest.map((n) => n.addr)], fillQuorum: 2 });
      await waitFor('the first pass to end', () => lastFillEnd(b.events) !== undefined, { timeoutMs: 30_000 });
      assert.deepEqual(await hashesOf(b), all.map((m) => hex(m.hash)), 'exactly the honest set');
      const s = await b.status();
      const byId = new Map(s.history.storePeers.map((p) => [p.peerId, p]));
      assert.match(byId.get(forger.peerId)?.standingReason ?? '', /forged/);
      assert.match(byId.get(omitter.peerId)?.standingReason ?? '', /lacked 67 messages/);
      const provided = [...byId.values()].reduce((n, p) => n + p.provided, 0);
      assert.equal(provided, all.length, 'each message was fetched once, counting only what passed');
      const h = historyOf(s);
      const seededMs = Number(base / MS);
      const verifiedBy = h?.filled.find((f) => f.verified && f.startMs <= seededMs && f.endMs >= seededMs + 200_000)?.peers;
      assert.deepEqual(verifiedBy, honest.map((n) => n.peerId).sort(), 'verified by the honest two alone');
    });

    it('only the omitting peer: its half is stored, but the window is unverified, not verified', async () => {
      const b = await keeper({ storePeers: [omitting.addr], fillQuorum: 2 });
      await waitFor('the first pass to end', () => lastFillEnd(b.events) !== undefined, { timeoutMs: 30_000 });
      const s = await b.status();
      assert.equal(s.archive.messages, 100);
      const h = historyOf(s);
      assert.ok(h);
      assert.ok(h.coveredShare > 0.99, `covered share ${h.coveredShare}`);
      assert.ok(h.verifiedShare < 0.05, `verified share ${h.verifiedShare}`);
      const seededMs = Number(base / MS);
      assert.ok(
        h.unverified.some((u) => u.startMs <= seededMs && u.endMs >= seededMs + 200_000),
        'the seeded stretch is listed as unverified',
      );
      assert.deepEqual(h.unverified[0]?.peers, [omitting.peerId]);
    });

    it('a peer whose coverage answers are badly signed: refused and counted, its answer fills but never verifies', async () => {
      const liar = await startStoreNode(all, 'honest', 0, { attest: 'all', forgeSignature: true });
      storeNodes.push(liar);
      const b = await keeper({ storePeers: [liar.addr], fillQuorum: 1 });
      await waitFor('the first pass to end', () => lastFillEnd(b.events) !== undefined, { timeoutMs: 30_000 });
      const s = await b.status();
      assert.equal(s.archive.messages, all.length, 'its messages are kept: they pass every check');
      const peer = s.history.storePeers.find((p) => p.peerId === liar.peerId);
      assert.ok((peer?.refused ?? 0) >= 1, 'the refused answers are counted');
      assert.equal(peer?.attests, true, 'it speaks the protocol: its answers are refused, not ignored');
      const h = historyOf(s);
      assert.ok(h && h.verifiedShare < 0.05, `verified ${h?.verifiedShare}`);
      const seededMs = Number(base / MS);
      assert.ok(h?.unverified.some((u) => u.startMs <= seededMs && u.endMs >= seededMs + 200_000 && !u.attested), 'held, unattested');
    });

    it('a forging peer: nothing of it is stored, its rejections are counted, the gap stays open', async () => {
      const inside = BigInt(Date.now() - 2 * 3_600_000) * MS;
      const badHash: ArchiveMessage[] = series(20, inside).map((m) => ({ ...m, hash: new Uint8Array(randomBytes(32)) }));
      // Listed inside the asked window, but the message itself says a year ago.
      const badTime: ArchiveMessage[] = series(20, inside - 365n * 86_400_000n * MS).map((m, i) => ({
        ...m,
        timestamp: inside + BigInt(100 + i) * MS,
      }));
      const forger = await storeNode([...badHash, ...badTime]);
      const b = await keeper({ storePeers: [forger.addr], fillQuorum: 1 });
      await waitFor('the first pass to end', () => lastFillEnd(b.events) !== undefined, { timeoutMs: 30_000 });
      const s = await b.status();
      assert.equal(s.archive.messages, 0);
      const peer = s.history.storePeers[0];
      assert.equal(peer?.rejected, 40);
      assert.equal(peer?.provided, 0);
      // Forgeries cost it its standing, and its last error says so (a later good answer does not clear it).
      assert.match(peer?.standingReason ?? '', /forged/);
      assert.match(peer?.lastError ?? '', /forged|forgeries/);
      assert.equal(peer?.trusted, false);
      const h = historyOf(s);
      const gap = h?.gaps.find((g) => g.startMs <= Number(inside / MS) && g.endMs > Number(inside / MS));
      assert.equal(gap?.reason, 'peer-failed');
      assert.match(gap?.detail ?? '', /forged/);
    });
  });

  it('stops filling at the quota instead of fetching what retention would drop again', async () => {
    const now = Date.now();
    const step = 36_000; // 4000 messages of 1 KB over 40 h
    const seeded = Array.from({ length: 4000 }, (_, i) =>
      archiveMessage({ timestamp: BigInt(now - 41 * 3_600_000 + i * step) * MS, payload: Buffer.alloc(1000, i % 251) }),
    );
    const aDir = tempDataDir();
    seedHistory(aDir, seeded);
    const a = await keeper({ storeRateLimit: { capacity: 10_000, perSecond: 10_000 } }, aDir);
    const quota = 1_500_000;
    const b = await keeper({ storePeers: [a.tcpAddr], fillQuorum: 1, quotaBytes: quota, retentionIntervalMs: 300 });
    await waitFor('B to reach its quota and stop filling', async () => {
      const s = await b.status();
      return s.history.limitedByQuota && !s.history.fill.running && s.history.fill.lastPass !== null && s.archive.bytes <= quota;
    }, { timeoutMs: 30_000 });
    await b.keeper.commands.fillNow();
    const served = (await a.status()).store.requests['200'] ?? 0;
    await b.keeper.commands.fillNow();
    await b.keeper.commands.fillNow();
    const servedAfter = (await a.status()).store.requests['200'] ?? 0;
    assert.ok(servedAfter - served <= 4, `two more passes asked ${servedAfter - served} pages`);
    const s = await b.status();
    assert.ok(s.archive.messages > 300 && s.archive.messages < 4000, `kept ${s.archive.messages}`);
    assert.equal(s.archive.newestMs, Number(seeded[3999]!.timestamp / MS), 'the newest history is what is kept');
    const h = historyOf(s);
    assert.ok(h && h.windowStartMs >= (s.archive.oldestMs ?? 0), 'completeness is of the stretch the quota allows');
  });

  it('recovers messages relay lost while online, by comparing hashes with a store peer', async () => {
    const aDir = tempDataDir();
    seedOnline(aDir, [{ start: Date.now() - 3_600_000, end: Date.now() }]);
    // Without Waku Sync (as nwaku without --store-sync): B compares by hash listings (keeper-sync.test.ts has the sync side).
    const a = await keeper({ storeSync: false }, aDir);
    let dropped = 0;
    const b = await keeper({ peers: [a.tcpAddr], storePeers: [a.tcpAddr], checkIntervalMs: 1000, settleMs: 500 }, undefined, {
      dropRelayMessage: () => ++dropped % 3 === 0,
    });
    const client = await startWakuClient({ pubsubTopics: [TEST_PUBSUB] });
    try {
      await dial(client, a.tcpAddr);
      // B online with nothing left to fill before anything is published: gap filling (whose
      // windows reach past a gap's ends) has nothing left to fetch, so only the check can recover.
      await waitFor('A to have B in its mesh, and B online with no gap left', async () => {
        const h = historyOf(await b.status());
        return (
          (await inMesh(a, b.peerId)) &&
          client.relay.getSubscribers(TEST_PUBSUB).length > 0 &&
          (h?.online.length ?? 0) > 0 &&
          h !== undefined &&
          settled(h) &&
          !(await b.status()).history.fill.running
        );
      });
      const base = BigInt(Date.now()) * MS;
      for (let i = 0; i < 30; i++) {
        await client.publish(TEST_PUBSUB, { contentTopic: TEST_CONTENT[i % 3] ?? '', payload: new TextEncoder().encode(`lossy ${i}`), timestamp: base + BigInt(i) * MS });
      }
      await waitFor('A to hold 30 and B to have lost 10', async () => (await a.status()).archive.messages === 30 && dropped >= 30);
      assert.equal((await b.status()).ingest.stored, 20);
      await waitFor('the consistency check to bring B to 30', async () => (await b.status()).archive.messages === 30, { timeoutMs: 20_000 });
      assert.deepEqual(await hashesOf(b), await hashesOf(a));
      const s = await b.status();
      assert.equal(s.history.consistency.recovered, 10);
      assert.ok(b.events.some((e) => e.event === 'check' && e.recovered > 0));
    } finally {
      await client.stop();
    }
  });
});
