/**
 * Coverage per community with real Keepers on loopback: a community added to
 * a shard the Keeper has relayed for a while is filled from a store peer with
 * its own content topics, and counted held only once its messages are; two
 * communities on one shard, each within its own donated space; removing a
 * community; and an archive written by schema 4 (coverage per pubsub topic),
 * upgraded without losing its coverage and without lending it to a
 * community it never kept.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import BetterSqlite3 from 'better-sqlite3';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { multiaddr } from '@multiformats/multiaddr';
import type { Libp2p } from '@libp2p/interface';
import { peerIdFromString } from '@libp2p/peer-id';
import { askCoverage } from '../../main/core/coverage/client.ts';
import type { Community, CommunityHistory, KeeperStatus } from '../../main/contract/contract.ts';
import { Archive } from '../../main/core/archive/archive.ts';
import { migrate } from '../../main/core/archive/migrations.ts';
import { HistoryStore } from '../../main/core/history/history-store.ts';
import { scopeOf } from '../../main/core/history/scope.ts';
import type { ArchiveMessage } from '../../main/core/message/message.ts';
import type { KeeperConfig } from '../../main/core/settings/config.ts';
import { ARCHIVE_FILE } from '../../main/core/settings/paths.ts';
import { saveSettings } from '../../main/core/settings/settings-file.ts';
import type { ServedRequest } from '../../main/core/store/server.ts';
import { seedArchive, startKeeper, tempDataDir } from '../helpers/keeper.ts';
import type { TestKeeper } from '../helpers/keeper.ts';
import { archiveMessage, hex, TEST_CONTENT, TEST_PUBSUB } from '../helpers/messages.ts';
import { startStoreClient } from '../helpers/store-client.ts';
import { servedHashes, startStoreNode } from '../helpers/store-node.ts';
import type { StoreNode } from '../helpers/store-node.ts';
import { waitFor } from '../helpers/wait.ts';

const MS = 1_000_000n;
const HOUR = 3_600_000;
const FAST: Partial<KeeperConfig> = { heartbeatMs: 200, settleMs: 1000, fillIntervalMs: 60_000, checkIntervalMs: 60_000, retentionMs: HOUR };
const [CX = '', CY = '', CZ = ''] = TEST_CONTENT;
const X: Community = { name: 'X', pubsubTopic: TEST_PUBSUB, contentTopics: [CX] };
const Y: Community = { name: 'Y', pubsubTopic: TEST_PUBSUB, contentTopics: [CY] };

/** `n` messages of one content topic, `stepMs` apart from `startMs`, each `bytes` of payload. */
function messagesOf(contentTopic: string, n: number, startMs: number, stepMs: number, bytes = 40): ArchiveMessage[] {
  return Array.from({ length: n }, (_, i) =>
    archiveMessage({ contentTopic, timestamp: BigInt(startMs + i * stepMs) * MS + BigInt(contentTopic.length), payload: new Uint8Array(bytes).fill(i % 251) }),
  );
}

/** Online coverage of a kept community's scope, as if the Keeper had relayed the shard keeping it. */
function seedCommunityOnline(dataDir: string, c: Community, stretch: { start: number; end: number }): void {
  const archive = Archive.open(join(dataDir, ARCHIVE_FILE));
  try {
    const store = new HistoryStore(archive);
    const scope = store.ensureScope(scopeOf(c.pubsubTopic, c.contentTopics), c.name, stretch.start);
    store.extend(store.openOnline(scope.id, stretch.start), stretch.end);
  } finally {
    archive.close();
  }
}

/** An archive as schema 4 wrote it: messages, counters and online coverage per pubsub topic. */
function writeSchema4(dataDir: string, messages: readonly ArchiveMessage[], online: { start: number; end: number }): void {
  const db = new BetterSqlite3(join(dataDir, ARCHIVE_FILE));
  try {
    migrate(db, 4);
    const ids = new Map<string, number>();
    const idOf = (name: string): number => {
      let id = ids.get(name);
      if (id === undefined) {
        id = ids.size + 1;
        ids.set(name, id);
        db.prepare('INSERT INTO topics (id, name) VALUES (?, ?)').run(id, name);
      }
      return id;
    };
    const insert = db.prepare('INSERT INTO messages (hash, pubsub_id, content_id, timestamp, size, received_at, message) VALUES (?, ?, ?, ?, ?, ?, ?)');
    for (const m of messages) insert.run(m.hash, idOf(m.pubsubTopic), idOf(m.contentTopic), m.timestamp, m.message.length, Date.now(), m.message);
    db.prepare('INSERT INTO topic_stats (pubsub_id, messages, bytes) VALUES (?, ?, ?)').run(idOf(TEST_PUBSUB), messages.length, messages.reduce((n, m) => n + m.message.length, 0));
    db.prepare(`INSERT INTO coverage (pubsub_topic, kind, start_ms, end_ms, verified, attested, peers, messages, recorded_ms) VALUES (?, 'online', ?, ?, 1, 1, '[]', 0, ?)`).run(
      TEST_PUBSUB,
      online.start,
      online.end,
      online.start,
    );
    assert.equal(db.pragma('user_version', { simple: true }), 4);
  } finally {
    db.close();
  }
}

const communityOf = (s: KeeperStatus, name: string): CommunityHistory | undefined => s.history.communities.find((c) => c.name === name);
/** The stretches a community's figures count as held: online, verified and unverified segments. */
const heldSegments = (c: CommunityHistory) => c.segments.filter((x) => x.kind !== 'missing');

describe('coverage per community', () => {
  const live: TestKeeper[] = [];
  const stores: StoreNode[] = [];
  let bystander: Libp2p;
  before(async () => {
    bystander = await startStoreClient();
  });
  after(async () => {
    for (const k of live.reverse()) await k.dispose();
    for (const n of stores) await n.stop();
    await bystander?.stop();
  });
  const keeper = async (dir: string, overrides: Partial<KeeperConfig> = {}): Promise<TestKeeper> => {
    const k = await startKeeper({ ...FAST, ...overrides }, dir);
    live.push(k);
    return k;
  };
  const held = async (k: TestKeeper): Promise<Set<string>> => new Set(await servedHashes(bystander, multiaddr(k.tcpAddr), TEST_PUBSUB));

  it('a community added to a shard relayed for a while is filled from a store peer by its content topics, and counted held only once its messages are', async () => {
    const now = Date.now();
    // Fifty minutes of traffic of three communities on one shard: X kept all along, Y added later, Z never.
    const xs = messagesOf(CX, 30, now - 50 * 60_000, 90_000);
    const ys = messagesOf(CY, 30, now - 50 * 60_000 + 30_000, 90_000);
    const zs = messagesOf(CZ, 30, now - 50 * 60_000 + 60_000, 90_000);
    const served: ServedRequest[] = [];
    const peer = await startStoreNode([...xs, ...ys, ...zs], 'honest', 0, { attest: 'all', onServed: (r) => served.push(r) });
    stores.push(peer);
    const dir = tempDataDir();
    seedArchive(dir, xs);
    seedCommunityOnline(dir, X, { start: now - HOUR, end: now });
    saveSettings(dir, { role: 'volunteer', communities: [X], storePeers: [] });
    const k = await keeper(dir, { storePeers: [peer.addr], fillQuorum: 1 });

    await waitFor('X complete from its own relayed past, nothing to fill', async () => {
      const s = await k.status();
      const x = communityOf(s, 'X');
      return x !== undefined && x.verifiedShare > 0.99 && !s.history.fill.running;
    });
    let s = await k.status();
    assert.deepEqual(s.history.communities.map((c) => c.name), ['X']);
    assert.equal(s.archive.messages, 30, 'only X is kept');
    const bodiesBefore = served.filter((r) => r.bodies).reduce((n, r) => n + r.messages, 0);
    assert.equal(bodiesBefore, 0, 'X held everything already: no message was fetched');

    const addedAt = Date.now();
    const r = await k.keeper.commands.addCommunity(Y);
    assert.ok(r.ok, JSON.stringify(r));
    s = await k.status();
    const justAdded = communityOf(s, 'Y');
    assert.ok(justAdded !== undefined, 'Y is listed at once');
    assert.ok(justAdded.keptSinceMs >= addedAt - 50 && justAdded.keptSinceMs <= Date.now(), `kept since ${justAdded.keptSinceMs}`);
    assert.ok(justAdded.coveredShare < 0.05, `Y's past is not claimed before it is fetched (covered ${justAdded.coveredShare})`);

    // Until Y is filled, every stretch its figures count as held holds every Y message the peer has.
    const yHashes = new Map(ys.map((m) => [hex(m.hash), Number(m.timestamp / MS)]));
    let samples = 0;
    await waitFor("Y's past fetched and verified", async () => {
      const st = await k.status();
      const y = communityOf(st, 'Y');
      const have = await held(k);
      samples++;
      if (y === undefined) return false;
      for (const seg of heldSegments(y)) {
        for (const [h, t] of yHashes) {
          if (t >= seg.startMs && t < seg.endMs) assert.ok(have.has(h), `Y claims ${seg.kind} ${seg.startMs}..${seg.endMs} without the message at ${t}`);
        }
      }
      return y.verifiedShare > 0.99 && [...yHashes.keys()].every((h) => have.has(h));
    });
    s = await k.status();
    const y = communityOf(s, 'Y');
    assert.ok(y !== undefined);
    assert.ok(y.segments.some((x) => x.kind === 'verified' && x.startMs < addedAt), 'its past came by a fill');
    for (const seg of y.segments.filter((x) => x.kind === 'online')) assert.ok(seg.startMs >= y.keptSinceMs, 'online time counts for Y only from when it is kept');
    assert.equal(y.storage.messages, 30);
    assert.equal(communityOf(s, 'X')?.storage.messages, 30);
    const have = await held(k);
    for (const m of zs) assert.equal(have.has(hex(m.hash)), false, 'Z was never asked for');
    // The fill asked by Y's content topic: only Y's hashes were listed and only Y's bodies sent.
    const hashes = served.filter((q) => !q.bodies).reduce((n, q) => n + q.messages, 0);
    const bodies = served.filter((q) => q.bodies).reduce((n, q) => n + q.messages, 0);
    assert.equal(bodies, 30);
    assert.ok(hashes <= 30 + 2, `hashes listed ${hashes}`);
    const size = (ms: readonly ArchiveMessage[]): number => ms.reduce((n, m) => n + m.message.length, 0);
    console.log(
      `# Y's fill by content topic: ${hashes} hashes listed, ${bodies} bodies (${size(ys)} bytes of messages); ` +
        `by the whole pubsub topic it would list ${xs.length + ys.length + zs.length} hashes and fetch ${ys.length + zs.length} bodies (${size(ys) + size(zs)} bytes); ${samples} samples held the claim`,
    );
  });

  it('a community filled by its content topics moves fewer bytes than the same past filled for the whole topic (measured on the wire)', async () => {
    const now = Date.now();
    const xs = messagesOf(CX, 40, now - 50 * 60_000, 70_000, 400);
    const ys = messagesOf(CY, 40, now - 50 * 60_000 + 20_000, 70_000, 400);
    const zs = messagesOf(CZ, 40, now - 50 * 60_000 + 40_000, 70_000, 400);
    const size = xs[0]?.message.length ?? 0;
    const run = async (communities: Community[]): Promise<{ hashes: number; bodies: number; requests: number }> => {
      const served: ServedRequest[] = [];
      const peer = await startStoreNode([...xs, ...ys, ...zs], 'honest', 0, { attest: 'all', onServed: (r) => served.push(r) });
      stores.push(peer);
      const dir = tempDataDir();
      seedArchive(dir, xs);
      saveSettings(dir, { role: 'volunteer', communities, storePeers: [] });
      const k = await keeper(dir, { storePeers: [peer.addr], fillQuorum: 1 });
      await waitFor('the past filled', async () => {
        const s = await k.status();
        const h = communities.length === 0 ? s.history.topics[0] : communityOf(s, 'Y');
        return h !== undefined && h.verifiedShare > 0.99 && !s.history.fill.running;
      });
      await k.stop();
      return {
        hashes: served.filter((q) => !q.bodies).reduce((n, q) => n + q.messages, 0),
        bodies: served.filter((q) => q.bodies).reduce((n, q) => n + q.messages, 0),
        requests: served.length,
      };
    };
    const byContent = await run([Y]);
    const whole = await run([]);
    // Hashes are 32 bytes each on the wire, bodies the encoded message.
    const bytes = (r: { hashes: number; bodies: number }): number => r.hashes * 32 + r.bodies * size;
    assert.equal(byContent.bodies, 40, "only Y's bodies");
    assert.equal(whole.bodies, 80, 'the whole topic: all it lacked, Y and Z');
    assert.ok(bytes(byContent) < bytes(whole) / 1.9, `${bytes(byContent)} vs ${bytes(whole)}`);
    console.log(
      `# fill of 50 min, 3 communities of 40 messages (${size} bytes each): by content topic ${byContent.hashes} hashes + ${byContent.bodies} bodies = ${bytes(byContent)} bytes in ${byContent.requests} requests; ` +
        `whole topic ${whole.hashes} hashes + ${whole.bodies} bodies = ${bytes(whole)} bytes in ${whole.requests} requests`,
    );
  });

  it('two communities on one shard with their own quotas: the one past its donated space loses only its own oldest', async () => {
    const now = Date.now();
    // X: 150 messages of ~10 KiB (about 1.5 MiB) with 1 MiB donated; Y: 40 of them and no quota of its own.
    const xs = messagesOf(CX, 150, now - 40 * 60_000, 10_000, 10_240);
    const ys = messagesOf(CY, 40, now - 40 * 60_000 + 5000, 30_000, 10_240);
    const quota = 1024 * 1024;
    const dir = tempDataDir();
    seedArchive(dir, [...xs, ...ys]);
    seedCommunityOnline(dir, X, { start: now - HOUR, end: now });
    seedCommunityOnline(dir, Y, { start: now - HOUR, end: now });
    saveSettings(dir, { role: 'volunteer', communities: [{ ...X, quotaBytes: quota }, Y], storePeers: [] });
    const k = await keeper(dir);
    await waitFor('X within its donated space', async () => {
      const x = communityOf(await k.status(), 'X');
      return x !== undefined && x.storage.bytes <= quota;
    });
    const s = await k.status();
    const x = communityOf(s, 'X');
    const y = communityOf(s, 'Y');
    assert.ok(x !== undefined && y !== undefined);
    const have = await held(k);
    const kept = xs.filter((m) => have.has(hex(m.hash)));
    const perMessage = xs[0]?.message.length ?? 1;
    assert.equal(kept.length, Math.floor(quota / perMessage), 'as many of X as its space holds');
    assert.deepEqual(kept.map((m) => hex(m.hash)), xs.slice(xs.length - kept.length).map((m) => hex(m.hash)), 'the newest of X stay, the oldest went');
    for (const m of ys) assert.ok(have.has(hex(m.hash)), "Y loses nothing of X's quota");
    assert.equal(y.storage.messages, 40);
    assert.equal(x.storage.quotaBytes, quota);
    assert.equal(y.storage.quotaBytes, null);
    assert.equal(x.storage.limitedByQuota, true);
    // X's figures start at its oldest held message: what its quota let go is not counted missing, nor held.
    assert.equal(x.windowStartMs, Number((kept[0]?.timestamp ?? 0n) / MS));
    assert.ok(y.windowStartMs < x.windowStartMs - 10 * 60_000, "Y's window is the archive's");
    assert.ok(k.events.some((e) => e.event === 'retention' && e.policy === 'community' && e.messages === xs.length - kept.length));
    // /metrics says the same, by community.
    const token = readFileSync(join(k.dataDir, 'api-token'), 'utf8').trim();
    const text = await (await fetch(`${k.apiUrl}/metrics`, { headers: { Authorization: `Bearer ${token}` } })).text();
    const line = (name: string, community: string, extra = ''): RegExp => new RegExp(`^${name}\\{community="${community}",pubsub_topic="${TEST_PUBSUB}"${extra}\\} (\\S+)$`, 'm');
    assert.equal(Number(line('keeper_community_messages', 'X').exec(text)?.[1]), kept.length);
    assert.equal(Number(line('keeper_community_messages', 'Y').exec(text)?.[1]), 40);
    assert.equal(Number(line('keeper_community_quota_bytes', 'X').exec(text)?.[1]), quota);
    assert.equal(line('keeper_community_quota_bytes', 'Y').exec(text), null, 'Y has no quota of its own');
    const yVerified = Number(line('keeper_community_history_ratio', 'Y', ',share="verified"').exec(text)?.[1]);
    assert.ok(Math.abs(yVerified - y.verifiedShare) < 0.01, `metrics ${yVerified}, status ${y.verifiedShare}`);
  });

  it('removing a community stops keeping it: its scope and coverage go, the other community keeps its own', async () => {
    const now = Date.now();
    const dir = tempDataDir();
    seedArchive(dir, [...messagesOf(CX, 10, now - 30 * 60_000, 60_000), ...messagesOf(CY, 10, now - 30 * 60_000, 60_000)]);
    seedCommunityOnline(dir, X, { start: now - HOUR, end: now });
    seedCommunityOnline(dir, Y, { start: now - HOUR, end: now });
    saveSettings(dir, { role: 'volunteer', communities: [X, Y], storePeers: [] });
    const k = await keeper(dir);
    await waitFor('both complete', async () => (await k.status()).history.communities.every((c) => c.verifiedShare > 0.99));
    const r = await k.keeper.commands.removeCommunity('Y');
    assert.ok(r.ok, JSON.stringify(r));
    let s = await k.status();
    assert.deepEqual(s.history.communities.map((c) => c.name), ['X']);
    assert.ok((communityOf(s, 'X')?.verifiedShare ?? 0) > 0.99, 'X keeps its coverage');
    // Kept again: Y's old coverage went with it, so its past is missing until it is filled.
    assert.ok((await k.keeper.commands.addCommunity(Y)).ok);
    s = await k.status();
    assert.ok((communityOf(s, 'Y')?.coveredShare ?? 1) < 0.05, `covered ${communityOf(s, 'Y')?.coveredShare}`);
    assert.ok((await k.keeper.commands.removeCommunity('Y')).ok);
    await k.stop();
    const archive = Archive.open(join(dir, ARCHIVE_FILE));
    try {
      const store = new HistoryStore(archive);
      assert.deepEqual(store.scopes().map((r) => r.name), ['X']);
      assert.deepEqual(store.coverageOf(scopeOf(TEST_PUBSUB, [CY])), [], 'no coverage vouches for Y any more');
    } finally {
      archive.close();
    }
  });

  it('answers coverage questions per community: what the community held, nothing of one kept later or of the whole topic', async () => {
    const now = Date.now();
    const dir = tempDataDir();
    seedArchive(dir, messagesOf(CX, 10, now - 40 * 60_000, 60_000));
    seedCommunityOnline(dir, X, { start: now - HOUR, end: now });
    saveSettings(dir, { role: 'volunteer', communities: [X], storePeers: [] });
    const k = await keeper(dir);
    assert.ok((await k.keeper.commands.addCommunity(Y)).ok);
    const range = { start: now - 50 * 60_000, end: now - 10 * 60_000 };
    const ask = (contentTopics: string[]) =>
      askCoverage(bystander, peerIdFromString(k.peerId), multiaddr(k.tcpAddr), { pubsubTopic: TEST_PUBSUB, contentTopics, range });
    assert.deepEqual(await ask([CX]), [range], 'X was kept, online, all along');
    assert.deepEqual(await ask([CY]), [], 'Y is kept from now: its past is not attested before it is filled');
    assert.deepEqual(await ask([CX, CY]), [], 'no kept community holds both');
    assert.deepEqual(await ask([]), [], 'the whole topic is not kept');
    // Up to where X's seeded online time ends, less the clock margin: the Keeper started after it.
    const upToSeedEnd = await askCoverage(bystander, peerIdFromString(k.peerId), multiaddr(k.tcpAddr), {
      pubsubTopic: TEST_PUBSUB,
      contentTopics: [CX],
      range: { start: now - 20 * 60_000, end: now + 60_000 },
    });
    assert.equal(upToSeedEnd[0]?.start, now - 20 * 60_000);
    assert.ok((upToSeedEnd[0]?.end ?? 0) <= now - 200, `not past the seeded online time less the margin: ${JSON.stringify(upToSeedEnd)}`);
  });

  it('an archive of schema 4 that kept everything on the topic keeps its coverage, and lends it to a community kept later', async () => {
    const now = Date.now();
    const all = [...messagesOf(CX, 20, now - 40 * 60_000, 60_000), ...messagesOf(CY, 20, now - 40 * 60_000 + 20_000, 60_000)];
    const dir = tempDataDir();
    writeSchema4(dir, all, { start: now - HOUR - 60_000, end: now });
    const k = await keeper(dir);
    let s = await k.status();
    const topic = s.history.topics.find((t) => t.pubsubTopic === TEST_PUBSUB);
    assert.ok(topic !== undefined && topic.verifiedShare > 0.99, `the topic's coverage survived the upgrade (${topic?.verifiedShare})`);
    assert.equal(s.archive.messages, 40);
    assert.ok((await k.keeper.commands.addCommunity(Y)).ok);
    s = await k.status();
    const y = communityOf(s, 'Y');
    assert.ok(y !== undefined && y.verifiedShare > 0.99, `Y: every message of it was archived then (${y?.verifiedShare})`);
    assert.equal(y.storage.messages, 20);
    assert.ok(y.keptSinceMs >= now, 'kept from now, held from before');
  });

  it('an archive of schema 4 that kept one community keeps its coverage for it from its first message, and lends none to a community added later', async () => {
    const now = Date.now();
    const xs = messagesOf(CX, 20, now - 40 * 60_000, 60_000);
    const dir = tempDataDir();
    writeSchema4(dir, xs, { start: now - HOUR - 60_000, end: now });
    saveSettings(dir, { role: 'volunteer', communities: [X], storePeers: [] });
    const k = await keeper(dir);
    let s = await k.status();
    const x = communityOf(s, 'X');
    assert.ok(x !== undefined);
    const first = Number((xs[0]?.timestamp ?? 0n) / MS);
    // Schema 4 may have counted X covered since the topic was kept: before X's first message it is a gap, asked again.
    assert.ok(x.gaps.some((g) => g.startMs <= x.windowStartMs && g.endMs >= first - 1000 && g.endMs <= first + 1000), JSON.stringify(x.gaps));
    const since = x.segments.filter((seg) => seg.kind !== 'missing' && seg.endMs > first);
    assert.ok(since.reduce((n, seg) => n + seg.endMs - Math.max(seg.startMs, first), 0) > 0.99 * (x.windowEndMs - first), 'held from its first message on');
    assert.ok((await k.keeper.commands.addCommunity(Y)).ok);
    s = await k.status();
    const y = communityOf(s, 'Y');
    assert.ok(y !== undefined && y.coveredShare < 0.05, `relay archived only X then: Y's past is missing (${y?.coveredShare})`);
    assert.ok(y.gaps.length > 0);
  });
});
