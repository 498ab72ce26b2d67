/**
 * Run as a child process by the sync tests: a SyncService on a bare libp2p
 * node over the archive at argv[2]. Prints its address as one JSON line, then
 * the archive's message count each time it changes, until it is killed.
 */
import { StoreServer } from '../../main/core/store/server.ts';
import { startSyncNode } from './sync-node.ts';

const node = await startSyncNode(process.argv[2] ?? '', { transferWaitMs: 5000 });
// --store: also serve Store v3 (the benchmark's baseline lists hashes over it), with the index read once, as a serving node has it cached.
if (process.argv.includes('--store')) {
  await new StoreServer(node.archive, { rateLimit: { capacity: 1e9, perSecond: 1e9 } }).start(node.node);
  node.archive.connection.prepare('SELECT count(*), sum(length(hash)) FROM messages INDEXED BY messages_by_pubsub_time').get();
}
process.stdout.write(`${JSON.stringify({ addr: node.addr.toString() })}\n`);
let last = -1;
setInterval(() => {
  const n = node.archive.stats().messages;
  if (n !== last) process.stdout.write(`${JSON.stringify({ messages: (last = n) })}\n`);
}, 25);
process.on('SIGTERM', () => void node.stop().then(() => process.exit(0)));
// An orphan (its parent gone without stopping it) ends itself.
const parent = process.ppid;
setInterval(() => process.ppid !== parent && process.exit(1), 500).unref();
