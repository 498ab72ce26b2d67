/**
 * Load: many concurrent Store clients, each its own peer, for a stretch of
 * time while relay ingests 200 messages a second; no errors, p99 reported.
 * One abusive peer that asks without pause is rate limited (429) while the
 * others are still served.
 */
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { noise } from '@chainsafe/libp2p-noise';
import { yamux } from '@chainsafe/libp2p-yamux';
import { tcp } from '@libp2p/tcp';
import type { Libp2p } from '@libp2p/interface';
import { multiaddr } from '@multiformats/multiaddr';
import { createLibp2p } from 'libp2p';
import { rmSync } from 'node:fs';
import { storeQuery } from '../../main/core/store/client.ts';
import { seedArchive, tempDataDir } from '../helpers/keeper.ts';
import { startKeeperProcess } from '../helpers/keeper-process.ts';
import type { KeeperProcess } from '../helpers/keeper-process.ts';
import { series, TEST_CONTENT, TEST_PUBSUB } from '../helpers/messages.ts';
import { dial, startWakuClient } from '../helpers/waku-client.ts';
import type { WakuClient } from '../helpers/waku-client.ts';
import { waitFor } from '../helpers/wait.ts';
import { pick, report } from './scale.ts';

describe('load', () => {
  const dir = tempDataDir();
  let keeper: KeeperProcess | undefined;
  let publisher: WakuClient | undefined;
  const nodes: Libp2p[] = [];
  after(async () => {
    for (const n of nodes) await n.stop();
    await publisher?.stop();
    await keeper?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves every client without error while ingesting, and rate limits the abusive one', async () => {
    const clients = pick(20, 50);
    const seconds = pick(10, 60);
    seedArchive(dir, series(20_000, BigInt(Date.now() - 6 * 3_600_000) * 1_000_000n, { stepNs: 1_000_000_000n }));
    // 20 requests/s a peer (bursts of 80): the paced clients stay under it, the abusive one cannot.
    keeper = await startKeeperProcess(dir, ['--store-rate', '20'], TEST_PUBSUB);
    const target = multiaddr(keeper.tcpAddr);
    publisher = await startWakuClient({ pubsubTopics: [TEST_PUBSUB] });
    await dial(publisher, keeper.tcpAddr);
    await waitFor('the node on the publisher relay topic', () => publisher!.relay.getSubscribers(TEST_PUBSUB).length > 0);
    for (let i = 0; i <= clients; i++) nodes.push(await createLibp2p({ transports: [tcp()], connectionEncrypters: [noise()], streamMuxers: [yamux()] }));

    let running = true;
    let published = 0;
    const publish = setInterval(() => {
      const nowNs = BigInt(Date.now()) * 1_000_000n;
      for (let i = 0; i < 10; i++) {
        const n = published++;
        void publisher!.publish(TEST_PUBSUB, { contentTopic: TEST_CONTENT[n % 3] ?? '', payload: Buffer.alloc(500, n % 251), timestamp: nowNs + BigInt(i) });
      }
    }, 50);
    const latencies: number[] = [];
    const errors: string[] = [];
    const paced = (node: Libp2p, startAfterMs: number) => async (): Promise<void> => {
      // Clients arrive over a second or two, as clients do (the node takes 50 new connections a second from one host).
      await new Promise((r) => setTimeout(r, startAfterMs));
      let cursor: Uint8Array | undefined;
      while (running) {
        const t = performance.now();
        try {
          const res = await storeQuery(node, target, { pubsubTopic: TEST_PUBSUB, contentTopics: TEST_CONTENT, paginationLimit: 100n, paginationCursor: cursor });
          if (res.statusCode !== 200) errors.push(`status ${res.statusCode}`);
          cursor = res.paginationCursor;
        } catch (err) {
          errors.push(String(err));
        }
        latencies.push(performance.now() - t);
        await new Promise((r) => setTimeout(r, 200));
      }
    };
    const abusive = { ok: 0, limited: 0, other: 0 };
    const abuse = async (): Promise<void> => {
      while (running) {
        const res = await storeQuery(nodes[clients]!, target, { pubsubTopic: TEST_PUBSUB, includeData: false, paginationLimit: 1n }).catch(() => null);
        if (res?.statusCode === 200) abusive.ok++;
        else if (res?.statusCode === 429) abusive.limited++;
        else abusive.other++;
      }
    };
    const loops = [...nodes.slice(0, clients).map((n, i) => paced(n, i * 40)()), abuse(), abuse(), abuse(), abuse()];
    await new Promise((r) => setTimeout(r, seconds * 1000));
    running = false;
    clearInterval(publish);
    await Promise.all(loops);
    const status = await keeper.status();
    latencies.sort((a, b) => a - b);
    const p = (q: number): string => (latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? NaN).toFixed(1);
    report(
      `load: ${clients} clients for ${seconds} s, ${latencies.length} requests, ${errors.length} errors, p50 ${p(0.5)} ms, p99 ${p(0.99)} ms; ` +
        `abusive peer ${abusive.ok} served, ${abusive.limited} rate limited; ${published} published, ${status.ingest.stored} stored; ` +
        `lag p99 ${status.process.eventLoopLag.p99Ms} ms, RSS ${(status.process.rssBytes / 1e6).toFixed(0)} MB`,
    );
    assert.deepEqual(errors.slice(0, 5), [], 'no client saw an error');
    assert.ok(latencies.length > clients * seconds, 'every client was served throughout');
    assert.ok(abusive.limited > 0 && abusive.ok > 0, 'the abusive peer was served, then rate limited');
    assert.ok(status.ingest.stored >= published * 0.95, 'relay ingest kept up');
  });
});
