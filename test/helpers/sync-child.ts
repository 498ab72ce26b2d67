/**
 * Run as a child process by the sync tests: a SyncService on a bare libp2p
 * node over the archive at argv[2]. Prints its address as one JSON line, then
 * the archive's message count each time it changes, until it is killed.
 */
import { startSyncNode } from './sync-node.ts';

const node = await startSyncNode(process.argv[2] ?? '', { transferWaitMs: 5000 });
process.stdout.write(`${JSON.stringify({ addr: node.addr.toString() })}\n`);
let last = -1;
setInterval(() => {
  const n = node.archive.stats().messages;
  if (n !== last) process.stdout.write(`${JSON.stringify({ messages: (last = n) })}\n`);
}, 25);
process.on('SIGTERM', () => void node.stop().then(() => process.exit(0)));
