/**
 * A bare libp2p node with a Keeper archive and the SyncService on it, and
 * nothing else: the two sides of the sync tests and benchmark.
 */
import { noise } from '@chainsafe/libp2p-noise';
import { yamux } from '@chainsafe/libp2p-yamux';
import { identify } from '@libp2p/identify';
import { mplex } from '@libp2p/mplex';
import { tcp } from '@libp2p/tcp';
import { createLibp2p } from 'libp2p';
import type { Libp2p } from '@libp2p/interface';
import { multiaddr } from '@multiformats/multiaddr';
import type { Multiaddr } from '@multiformats/multiaddr';
import { Archive } from '../../main/core/archive/archive.ts';
import { ArchiveWriter } from '../../main/core/archive/writer.ts';
import { DEFAULT_RULES } from '../../main/core/message/validate.ts';
import { SyncService } from '../../main/core/sync/service.ts';
import type { SyncServiceOptions } from '../../main/core/sync/service.ts';

export interface SyncNode {
  node: Libp2p;
  archive: Archive;
  writer: ArchiveWriter;
  sync: SyncService;
  addr: Multiaddr;
  stop(): Promise<void>;
}

export async function startSyncNode(path: string, opts: Partial<SyncServiceOptions> = {}, listen = '/ip4/127.0.0.1/tcp/0'): Promise<SyncNode> {
  const archive = Archive.open(path);
  const writer = new ArchiveWriter(archive);
  const node = await createLibp2p({
    addresses: { listen: [listen] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux(), mplex()],
    services: { identify: identify() },
  });
  const sync = new SyncService({ archive, writer, rules: DEFAULT_RULES, rateLimit: { capacity: 1000, perSecond: 1000 }, ...opts });
  await sync.start(node);
  const addr = multiaddr(node.getMultiaddrs()[0]?.toString() ?? '');
  return {
    node,
    archive,
    writer,
    sync,
    addr,
    stop: async () => {
      await sync.stop();
      await node.stop();
      archive.close();
    },
  };
}

/** Every (timestamp, hash) an archive holds on a topic, in order, as hex: what two archives compare by. */
export function heldHashes(archive: Archive, pubsubTopic: string): string[] {
  const rows = archive.connection
    .prepare('SELECT hex(m.hash) FROM messages m JOIN topics t ON t.id = m.pubsub_id WHERE t.name = ? ORDER BY m.timestamp, m.hash')
    .pluck()
    .all(pubsubTopic) as string[];
  return rows;
}
