/**
 * A js-waku client on the "internet" side of the namespace tests: dials the
 * Keeper at ADDR, queries its store for every test content topic and prints
 * `{"ok":true,"hashes":[…]}`, or `{"ok":false,"error":…}` when the dial fails.
 * Usage: node lab-client.ts ADDR
 */
import { multiaddr } from '@multiformats/multiaddr';
import { peerIdFromString } from '@libp2p/peer-id';
import { createDecoder } from '@waku/sdk';
import { createRoutingInfo } from '@waku/utils';
import { startWakuClient } from './waku-client.ts';
import { TEST_CONTENT } from './messages.ts';

const addr = process.argv[2] ?? '';
const client = await startWakuClient();
let out: { ok: boolean; hashes?: string[]; error?: string };
try {
  await client.node.libp2p.dial(multiaddr(addr), { signal: AbortSignal.timeout(8_000) });
  const routing = createRoutingInfo({ clusterId: 16 }, { shardId: 32 });
  const peerId = peerIdFromString(multiaddr(addr).getPeerId() ?? '');
  const hashes: string[] = [];
  for await (const page of client.node.store.queryGenerator(TEST_CONTENT.map((t) => createDecoder(t, routing)), { peerId, paginationForward: true })) {
    for (const m of await Promise.all(page)) if (m) hashes.push(m.hashStr);
  }
  out = { ok: true, hashes };
} catch (err) {
  out = { ok: false, error: err instanceof Error ? err.message : String(err) };
}
process.stdout.write(`${JSON.stringify(out)}\n`);
await client.stop().catch(() => undefined);
process.exit(0);
