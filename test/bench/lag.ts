/**
 * Event-loop lag of the node while it serves heavy Store queries and ingests
 * 200 relayed messages a second, and then while it also fills a day of
 * history from a store peer, against the same node idle, measured by the node
 * itself (status.process.eventLoopLag, 5-second windows).
 */
import { noise } from '@chainsafe/libp2p-noise';
import { yamux } from '@chainsafe/libp2p-yamux';
import { tcp } from '@libp2p/tcp';
import { multiaddr } from '@multiformats/multiaddr';
import { createLibp2p } from 'libp2p';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LAG_WINDOW_MS } from '../../main/core/api/process-stats.ts';
import { storeQuery } from '../../main/core/store/client.ts';
import { dial, startWakuClient } from '../helpers/waku-client.ts';
import { startKeeperProcess } from '../helpers/keeper-process.ts';
import { CONTENT, figure, generatedArchive, PUBSUB, QUICK, round } from './lib.ts';
import type { Figure } from './lib.ts';
import { QUERY_ARCHIVE } from './query.ts';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function benchLag(): Promise<Figure[]> {
  const dir = mkdtempSync(join(tmpdir(), 'keeper-bench-lag-'));
  const peerDir = mkdtempSync(join(tmpdir(), 'keeper-bench-lag-peer-'));
  const endMs = Date.now() - 60_000;
  generatedArchive(dir, QUERY_ARCHIVE.count, QUERY_ARCHIVE.payload, QUERY_ARCHIVE.spanMs, endMs);
  // A store peer with a day of 1 KB messages the node does not hold, for the fill phase.
  const fillCount = QUICK ? 30_000 : 100_000;
  generatedArchive(peerDir, fillCount, 1000, 86_400_000, endMs - 86_400_000);
  const peer = await startKeeperProcess(peerDir, ['--store-rate', '1000000', '--retention', '60d']);
  const keeper = await startKeeperProcess(dir, ['--store-rate', '1000000', '--retention', '60d', '--fill-quorum', '1']);
  const publisher = await startWakuClient({ pubsubTopics: [PUBSUB] });
  const querier = await createLibp2p({ transports: [tcp()], connectionEncrypters: [noise()], streamMuxers: [yamux()] });
  let running = true;
  try {
    await dial(publisher, keeper.tcpAddr);
    // Two windows at rest first (the first still holds start-up work): the baseline.
    await sleep(2 * LAG_WINDOW_MS + 500);
    const idle = (await keeper.status()).process.eventLoopLag;

    // Load: 200 msg/s over relay, and four clients paging through day-long windows of three topics.
    let published = 0;
    const publish = setInterval(() => {
      const nowNs = BigInt(Date.now()) * 1_000_000n;
      for (let i = 0; i < 10; i++) {
        const n = published++;
        void publisher.publish(PUBSUB, { contentTopic: CONTENT[n % CONTENT.length] ?? '', payload: Buffer.alloc(1000, n % 251), timestamp: nowNs + BigInt(i) });
      }
    }, 50);
    let pages = 0;
    let seed = 7;
    const rand = (): number => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
    const target = multiaddr(keeper.tcpAddr);
    const clients = Array.from({ length: 4 }, async () => {
      while (running) {
        const startMs = endMs - QUERY_ARCHIVE.spanMs + Math.floor(rand() * (QUERY_ARCHIVE.spanMs - 86_400_000));
        let cursor: Uint8Array | undefined;
        for (let p = 0; p < 20 && running; p++) {
          const res = await storeQuery(querier, target, {
            pubsubTopic: PUBSUB,
            contentTopics: [0, 1, 2].map(() => CONTENT[Math.floor(rand() * CONTENT.length)] ?? ''),
            timeStart: BigInt(startMs) * 1_000_000n,
            timeEnd: BigInt(startMs + 86_400_000) * 1_000_000n,
            paginationLimit: 100n,
            paginationCursor: cursor,
          });
          pages++;
          cursor = res.paginationCursor;
          if (cursor === undefined) break;
        }
      }
    });
    const loadStarted = performance.now();
    // Two windows under load, and read the second: it lies wholly inside the load.
    await sleep(2 * LAG_WINDOW_MS + 500);
    const loaded = (await keeper.status()).process.eventLoopLag;
    const loadSeconds = (performance.now() - loadStarted) / 1000;

    // The same load, and a fill of the day the peer holds: its pages, checks and writes share the loop.
    const storedBefore = (await keeper.status()).ingest.stored;
    await keeper.command('addStorePeer', peer.tcpAddr);
    const fillDeadline = Date.now() + 60_000;
    while (!keeper.events.some((e) => e.event === 'fill:start') && Date.now() < fillDeadline) await sleep(20);
    await sleep(2 * LAG_WINDOW_MS + 500);
    const filling = (await keeper.status()).process.eventLoopLag;
    const fillEnded = keeper.events.some((e) => e.event === 'fill:end');
    const filled = (await keeper.status()).ingest.stored - storedBefore;
    running = false;
    clearInterval(publish);
    await Promise.all(clients);
    const stored = (await keeper.status()).ingest.stored;
    console.log(
      `lag: under load ${loaded.p50Ms}/${loaded.p99Ms}/${loaded.maxMs} ms (p50/p99/max), idle ${idle.p50Ms}/${idle.p99Ms}/${idle.maxMs}; ` +
        `${round(published / loadSeconds, 0)} msg/s published (${stored} stored), ${round(pages / loadSeconds, 0)} pages/s served; ` +
        `while also filling ${filling.p50Ms}/${filling.p99Ms}/${filling.maxMs} ms (${filled} stored meanwhile` +
        `${fillEnded ? ', the fill ended inside the window: a longer fill would show more' : ''})`,
    );
    return [
      figure({
        bench: 'event-loop lag p99 under load',
        value: loaded.p99Ms,
        unit: 'ms',
        baseline: 'the same node idle',
        baseline_value: Math.max(idle.p99Ms, 0.1),
        target: '< 50 ms',
        ok: loaded.p99Ms < 50,
      }),
      figure({
        bench: 'event-loop lag p99 under load, filling',
        value: filling.p99Ms,
        unit: 'ms',
        baseline: 'the same node idle',
        baseline_value: Math.max(idle.p99Ms, 0.1),
        target: '< 50 ms',
        ok: filling.p99Ms < 50,
      }),
    ];
  } finally {
    running = false;
    await querier.stop();
    await publisher.stop();
    await keeper.stop();
    await peer.stop();
    rmSync(dir, { recursive: true, force: true });
    rmSync(peerDir, { recursive: true, force: true });
  }
}
