/**
 * Run by the sync benchmark in a process of its own (node --expose-gc, the
 * node's flags): archive A here, archive B in a child process serving sync
 * and Store v3. Syncs A with B, sampling this process's RSS, then compares
 * the two by listing B's hashes over Store v3 as the baseline. One JSON line.
 */
import { proto_store } from '@waku/proto';
import { StoreStatus } from '../../main/core/store/codec.ts';
import { storeQuery } from '../../main/core/store/client.ts';
import { toHex } from '../../main/core/message/hash.ts';
import { startSyncChild } from '../helpers/sync-child-process.ts';
import { startSyncNode } from '../helpers/sync-node.ts';
import { PUBSUB } from './lib.ts';

const [pathA = '', pathB = '', total = '0', startMs = '0', endMs = '0'] = process.argv.slice(2);
const count = Number(total);
const range = { start: Number(startMs), end: Number(endMs) };
const gc = (globalThis as { gc?: () => void }).gc ?? (() => undefined);
const settle = async (): Promise<number> => {
  await new Promise((r) => setTimeout(r, 500));
  gc();
  await new Promise((r) => setTimeout(r, 300));
  return process.memoryUsage().rss;
};

const a = await startSyncNode(pathA, { transferWaitMs: 30_000, sessionMs: 600_000 });
// Both sides read their index once first, as a serving node has it cached.
a.archive.connection.prepare('SELECT count(*), sum(length(hash)) FROM messages INDEXED BY messages_by_pubsub_time').get();
const b = await startSyncChild(pathB, ['--store']);
// Connected first, as the baseline's listing finds the connection made.
await a.node.dial(b.addr);
const idle = await settle();
let peak = idle;
const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 10);

const t0 = performance.now();
const result = await a.sync.syncWith(b.addr, { pubsubTopic: PUBSUB, range });
// Done when B has stored what A pushed: its archive is whole.
while (b.messages() < count && performance.now() - t0 < 600_000) await new Promise((r) => setTimeout(r, 5));
const syncMs = performance.now() - t0;
clearInterval(sampler);
const after = { a: a.archive.stats().messages, b: b.messages() };

// The baseline: B's hashes over Store v3, hash-only pages of 100 (the most a page holds), against A's own, and the difference.
const t1 = performance.now();
const theirs = new Set<string>();
let listingBytes = 0;
let pages = 0;
let cursor: Uint8Array | undefined;
for (;;) {
  const res = await storeQuery(a.node, b.addr, { pubsubTopic: PUBSUB, includeData: false, paginationLimit: 100n, paginationCursor: cursor, timeStart: BigInt(range.start) * 1_000_000n, timeEnd: BigInt(range.end) * 1_000_000n });
  if (res.statusCode !== StoreStatus.OK) throw new Error(`store status ${res.statusCode}`);
  listingBytes += proto_store.StoreQueryResponse.encode(res).length;
  pages++;
  for (const m of res.messages) if (m.messageHash !== undefined) theirs.add(toHex(m.messageHash));
  cursor = res.paginationCursor;
  if (cursor === undefined || res.messages.length === 0) break;
}
const ours = new Set<string>();
let at;
for (;;) {
  const page = a.archive.query({ includeData: false, pubsubTopic: PUBSUB, cursor: at, forward: true, limit: 1000 });
  for (const r of page.rows) ours.add(toHex(r.hash));
  const last = page.rows[page.rows.length - 1];
  if (!page.more || last === undefined) break;
  at = { timestamp: last.timestamp, hash: last.hash };
}
const differ = [...theirs].filter((h) => !ours.has(h)).length + [...ours].filter((h) => !theirs.has(h)).length;
const listingMs = performance.now() - t1;

await b.stop();
await a.stop();
process.stdout.write(
  `${JSON.stringify({ result, syncMs, idle, peak, after, listingMs, listingBytes, pages, listed: theirs.size, differAfter: differ })}\n`,
);
