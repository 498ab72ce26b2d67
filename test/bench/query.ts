/**
 * Store v3 queries on a large archive: server-side time per page (decode,
 * plan, query, encode) against the same archive query alone, and pages per
 * second through the @waku/sdk client over loopback, against the smallest
 * request/response round trip there is over the same connection, muxer and
 * stream manager: the sdk's own Waku metadata query, a stream each.
 */
import { peerIdFromString } from '@libp2p/peer-id';
import { createDecoder } from '@waku/sdk';
import { createRoutingInfo } from '@waku/utils';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Archive } from '../../main/core/archive/archive.ts';
import { answerFrame } from '../../main/core/store/answer.ts';
import { encodeRequest, encodeResponse } from '../../main/core/store/codec.ts';
import { dial, startWakuClient } from '../helpers/waku-client.ts';
import { startKeeperProcess } from '../helpers/keeper-process.ts';
import { CONTENT, figure, generatedArchive, percentile, PUBSUB, QUICK, round } from './lib.ts';
import type { Figure } from './lib.ts';

const DAY = 86_400_000;
export const QUERY_ARCHIVE = { count: QUICK ? 100_000 : 1_000_000, payload: 300, spanMs: 30 * DAY };

export async function benchQuery(): Promise<Figure[]> {
  const dir = mkdtempSync(join(tmpdir(), 'keeper-bench-query-'));
  const endMs = Date.now() - 60_000;
  try {
    const path = generatedArchive(dir, QUERY_ARCHIVE.count, QUERY_ARCHIVE.payload, QUERY_ARCHIVE.spanMs, endMs);
    const archive = Archive.open(path);
    const rounds = QUICK ? 400 : 2000;
    let seed = 42;
    const rand = (): number => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
    const serverMs: number[] = [];
    const sqlMs: number[] = [];
    for (let i = 0; i < rounds; i++) {
      // Three content topics and a day-long window somewhere in the month, pages of 100.
      const topics = [0, 1, 2].map(() => CONTENT[Math.floor(rand() * CONTENT.length)] ?? '');
      const startMs = endMs - QUERY_ARCHIVE.spanMs + Math.floor(rand() * (QUERY_ARCHIVE.spanMs - DAY));
      const timeStart = BigInt(startMs) * 1_000_000n;
      const timeEnd = BigInt(startMs + DAY) * 1_000_000n;
      const forward = i % 2 === 0;
      const frame = encodeRequest({ requestId: `r${i}`, includeData: true, pubsubTopic: PUBSUB, contentTopics: topics, timeStart, timeEnd, paginationForward: forward, paginationLimit: 100n });
      const server = (): void => {
        const t = performance.now();
        const bytes = encodeResponse(answerFrame(archive, frame));
        serverMs.push(performance.now() - t);
        if (bytes.length < 1000) throw new Error('a query came back empty');
      };
      const sql = (): void => {
        const t = performance.now();
        archive.query({ includeData: true, pubsubTopic: PUBSUB, contentTopics: topics, timeStart, timeEnd, forward, limit: 100 });
        sqlMs.push(performance.now() - t);
      };
      // Whichever runs second finds the pages cached: take turns.
      if (i % 4 < 2) {
        server();
        sql();
      } else {
        sql();
        server();
      }
    }
    archive.close();
    serverMs.sort((a, b) => a - b);
    sqlMs.sort((a, b) => a - b);

    // Through the @waku/sdk client, against the node in its own process.
    const keeper = await startKeeperProcess(dir, ['--store-rate', '1000000', '--retention', '60d']);
    const client = await startWakuClient({});
    let pages = 0;
    let messages = 0;
    let pingMs = 0;
    const pings = QUICK ? 300 : 1500;
    const clientMs = await (async () => {
      try {
        await dial(client, keeper.tcpAddr);
        // The baseline: a round trip on a stream of its own, as each page takes, with almost nothing
        // to answer. (libp2p ping is no baseline here: over mplex, quick pings abort the connection.)
        const metadata = (client.node.libp2p.services as unknown as { metadata: { query(p: unknown): Promise<{ error: unknown }> } }).metadata;
        const keeperId = peerIdFromString(keeper.ready.peerId);
        const p0 = performance.now();
        for (let i = 0; i < pings; i++) {
          const r = await metadata.query(keeperId);
          if (r.error !== null) throw new Error(`metadata query failed: ${String(r.error)}`);
        }
        pingMs = performance.now() - p0;
        const routing = createRoutingInfo({ clusterId: 16 }, { pubsubTopic: PUBSUB });
        const decoders = CONTENT.slice(0, 10).map((t) => createDecoder(t, routing));
        const want = QUICK ? 300 : 1500;
        const t0 = performance.now();
        while (pages < want) {
          const from = new Date(endMs - QUERY_ARCHIVE.spanMs + Math.floor(rand() * (QUERY_ARCHIVE.spanMs - DAY)));
          const opts = { peerId: peerIdFromString(keeper.ready.peerId), paginationLimit: 100, paginationForward: true, timeStart: from, timeEnd: new Date(from.getTime() + DAY) };
          for await (const page of client.node.store.queryGenerator(decoders, opts)) {
            messages += (await Promise.all(page)).length;
            if (++pages >= want) break;
          }
        }
        return performance.now() - t0;
      } finally {
        await client.stop();
        await keeper.stop();
      }
    })();
    const pagesPerSecond = round((pages / clientMs) * 1000, 0);
    const pingsPerSecond = round((pings / pingMs) * 1000, 0);
    const sqlPagesPerSecond = round(1000 / percentile(sqlMs, 50), 0);
    console.log(
      `query: ${rounds} server-side pages on ${QUERY_ARCHIVE.count} messages; sdk client read ${pages} pages (${messages} messages) in ${clientMs.toFixed(0)} ms; ` +
        `${pings} metadata round trips over the same connection in ${pingMs.toFixed(0)} ms`,
    );
    const p50 = round(percentile(serverMs, 50), 2);
    const p99 = round(percentile(serverMs, 99), 2);
    return [
      figure({ bench: 'query server p50', value: p50, unit: 'ms', baseline: 'the archive query alone (same SQL, no Store v3 decode/encode)', baseline_value: round(percentile(sqlMs, 50), 2) }),
      figure({
        bench: 'query server p99',
        value: p99,
        unit: 'ms',
        baseline: 'the archive query alone (same SQL, no Store v3 decode/encode)',
        baseline_value: round(percentile(sqlMs, 99), 2),
        target: 'p99 < 20 ms',
        ok: p99 < 20,
      }),
      figure({
        bench: 'query sdk client',
        value: pagesPerSecond,
        unit: 'pages/s',
        baseline: 'Waku metadata round trips, a stream each, same connection, muxer and sdk',
        baseline_value: pingsPerSecond,
        target: 'ratio >= 0.7',
        ok: pagesPerSecond >= 0.7 * pingsPerSecond,
      }),
      figure({
        bench: 'query sdk client, against the SQL',
        value: pagesPerSecond,
        unit: 'pages/s',
        baseline: 'the same SQL run directly (pages/s at its p50)',
        baseline_value: sqlPagesPerSecond,
        target: '>= 500 pages/s',
        ok: pagesPerSecond >= 500,
      }),
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
