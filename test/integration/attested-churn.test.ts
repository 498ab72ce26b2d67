/**
 * Coverage that proves something, with real Keepers on loopback: four Keepers
 * of one topic, each the others' store peer, quorum 1, with a hand-over — two
 * go down together while messages are published, and soon after they return
 * the other two go down. Keepers that were down together must not verify each
 * other's empty answers: after all return every Keeper holds every message,
 * and at no sampled moment does a Keeper claim verified a stretch it lacks a
 * message of. And a fresh Keeper whose only store peer has just started
 * reports its past as missing, not filled.
 */
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { multiaddr } from '@multiformats/multiaddr';
import type { Libp2p } from '@libp2p/interface';
import type { KeeperConfig } from '../../main/core/settings/config.ts';
import { startKeeper } from '../helpers/keeper.ts';
import { clusterOf } from '../helpers/cluster.ts';
import type { ClusterMember } from '../helpers/cluster.ts';
import type { TestKeeper } from '../helpers/keeper.ts';
import { TEST_PUBSUB } from '../helpers/messages.ts';
import { startStoreClient } from '../helpers/store-client.ts';
import { servedHashes } from '../helpers/store-node.ts';
import { dial, startWakuClient } from '../helpers/waku-client.ts';
import type { WakuClient } from '../helpers/waku-client.ts';
import { waitFor } from '../helpers/wait.ts';
import { ClaimWatcher, Publisher, verifiedStretches } from '../helpers/claims.ts';
import { subtract, totalLength } from '../../main/core/util/intervals.ts';

const MS = 1_000_000n;
const FAST: Partial<KeeperConfig> = {
  heartbeatMs: 200,
  settleMs: 1000,
  fillIntervalMs: 60_000,
  checkIntervalMs: 60_000,
  retentionMs: 3_600_000,
  // One complete answer verifies: the sharpest test of what an answer may prove (with the old rule a
  // returning Keeper asked its fellow and took its empty "complete" for the stretch both missed).
  fillQuorum: 1,
};

/** A cluster member, up (a running Keeper) or down. */
interface Member extends ClusterMember {
  config: Partial<KeeperConfig>;
  up: TestKeeper | null;
}

describe('attested coverage under churn', () => {
  const live: TestKeeper[] = [];
  let client: WakuClient | undefined;
  let bystander: Libp2p | undefined;
  after(async () => {
    await client?.stop();
    await bystander?.stop();
    for (const k of live) await k.dispose();
  });

  it('four Keepers with a hand-over: every message everywhere, and no claim above holdings at any sampled moment', async () => {
    const members: Member[] = (await clusterOf(4)).map((m) => ({
      ...m,
      config: { ...FAST, listen: [m.listen], peers: m.others, storePeers: m.others },
      up: null,
    }));
    client = await startWakuClient({ pubsubTopics: [TEST_PUBSUB] });
    bystander = await startStoreClient();
    const start = async (m: Member): Promise<void> => {
      m.up = await startKeeper(m.config, m.dir);
      live.push(m.up);
      await dial(client!, m.addr).catch(() => undefined);
    };
    const stop = async (m: Member): Promise<void> => {
      await m.up?.stop();
      m.up = null;
    };
    await Promise.all(members.map(start));
    await waitFor('every Keeper online', async () => {
      for (const m of members) if ((await m.up!.status()).state !== 'online') return false;
      return true;
    });
    await waitFor('the publisher to see all four', () => client!.relay.getSubscribers(TEST_PUBSUB).length === 4);
    const allOnlineMs = Date.now();

    const publisher = new Publisher(client, { everyMs: 50, max: 400 });
    publisher.start();
    const sent = publisher.sent;

    const watcher = new ClaimWatcher(bystander, sent);
    const sample = (): Promise<void> => watcher.sample(members.map((m) => ({ addr: m.addr, status: m.up === null ? null : m.up.status })));
    const phase = async (ms: number): Promise<void> => {
      const end = Date.now() + ms;
      while (Date.now() < end) {
        await sample();
        await new Promise((r) => setTimeout(r, 250));
      }
    };

    const [k0, k1, k2, k3] = members as [Member, Member, Member, Member];
    await phase(1500);
    await Promise.all([stop(k0), stop(k1)]);
    const firstDown = { start: Date.now() };
    await phase(3000);
    await Promise.all([start(k0), start(k1)]);
    // The hand-over: soon after the first two return, before they can have filled everything, the other two go.
    await phase(1000);
    await Promise.all([stop(k2), stop(k3)]);
    await phase(3000);
    await Promise.all([start(k2), start(k3)]);
    await phase(1500);
    await publisher.stop();
    const lastSentMs = sent.at(-1)?.ms ?? Date.now();
    assert.ok(sent.length >= 100, `${sent.length} messages published`);

    const allUpMs = Date.now();
    const everyone = new Set(sent.map((m) => m.hash));
    await waitFor('every Keeper to hold every message', async () => {
      await sample();
      for (const m of members) {
        const held = new Set(await servedHashes(bystander!, multiaddr(m.addr), TEST_PUBSUB));
        if ([...everyone].some((h) => !held.has(h))) return false;
      }
      return true;
    }, { timeoutMs: 30_000, intervalMs: 250 }).catch(async (err: unknown) => {
      for (const [i, m] of members.entries()) {
        const held = new Set(await servedHashes(bystander!, multiaddr(m.addr), TEST_PUBSUB));
        const s = await m.up!.status();
        const lacking = sent.filter((x) => !held.has(x.hash)).map((x) => x.ms - allOnlineMs);
        const h = s.history.topics[0];
        console.log(`K${i}: holds ${held.size}/${sent.length}, lacks at +${lacking.join(',')} ms;`,
          'gaps', JSON.stringify(h?.gaps.map((g) => [g.startMs - allOnlineMs, g.endMs - allOnlineMs, g.reason, g.detail])),
          'unverified', JSON.stringify(h?.unverified.map((g) => [g.startMs - allOnlineMs, g.endMs - allOnlineMs, g.attested, g.peers.map((p) => p.slice(-4))])),
          'peers', JSON.stringify(s.history.storePeers.map((p) => [p.peerId.slice(-4), p.attests, p.trusted, p.connected, p.lastError])));
      }
      throw err;
    });
    const toFullMs = Date.now() - allUpMs;
    await sample();
    // How much of the time since all were first online each can vouch for: what no Keeper was online for stays unverified.
    const span = { start: allOnlineMs + 1000, end: lastSentMs };
    const shares = await Promise.all(
      members.map(async (m) => 1 - totalLength(subtract(span, verifiedStretches(await m.up!.status()))) / (span.end - span.start)),
    );
    console.log(
      `# churn: 4 Keepers, hand-over after ${firstDown.start - allOnlineMs} ms, ${sent.length} messages; all held everywhere ` +
        `${toFullMs} ms after all were up; ${watcher.samples} samples, ${watcher.violations.length} claims above holdings; ` +
        `verified ${shares.map((x) => (x * 100).toFixed(1)).join(' / ')} % of the time since all were first online`,
    );
    assert.deepEqual(watcher.violations, []);
  });

  it('a fresh Keeper whose only store peer has just started reports its past as missing, not filled', async () => {
    const peer = await startKeeper({ ...FAST, fillQuorum: 1 });
    live.push(peer);
    const c = await startWakuClient({ pubsubTopics: [TEST_PUBSUB] });
    try {
      await dial(c, peer.tcpAddr);
      await waitFor('the peer online', async () => (await peer.status()).state === 'online');
      const peerStartedMs = (await peer.status()).startedAtMs;
      await new Promise((r) => setTimeout(r, 1500));
      const fresh = await startKeeper({ ...FAST, fillQuorum: 1, peers: [peer.tcpAddr], storePeers: [peer.tcpAddr] });
      live.push(fresh);
      await waitFor('a fill pass', async () => (await fresh.status()).history.fill.lastPass !== null);
      const s = await fresh.status();
      const h = s.history.topics[0];
      assert.ok(h);
      assert.ok(h.coveredShare < 0.01, `covered ${h.coveredShare} of the hour`);
      assert.ok(h.verifiedShare < 0.01, `verified ${h.verifiedShare} of the hour`);
      const oldest = h.gaps[0];
      assert.equal(oldest?.startMs, h.windowStartMs, 'the past is a gap');
      assert.equal(oldest?.reason, 'not-held', 'because the peer attests it was not there either');
      assert.ok(h.filled.every((f) => f.startMs >= peerStartedMs), 'nothing before the peer started is filled');
      // Asked again at once, the only peer that could answer has answered: nothing is fetched twice.
      const served = (await peer.status()).store.requests['200'] ?? 0;
      assert.ok((await fresh.keeper.commands.fillNow()).ok);
      assert.ok((await fresh.keeper.commands.fillNow()).ok);
      const again = ((await peer.status()).store.requests['200'] ?? 0) - served;
      assert.ok(again <= 2, `two more passes asked ${again} pages of the same peer`);
    } finally {
      await c.stop();
    }
  });
});
