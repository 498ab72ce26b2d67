/**
 * A bare libp2p node that serves a prepared archive over Store v3 and does
 * nothing else: no relay, no gap filling of its own. Seeded with omissions or
 * forgeries, it is the dishonest store peer of the history tests.
 */
import { noise } from '@chainsafe/libp2p-noise';
import { yamux } from '@chainsafe/libp2p-yamux';
import { identify } from '@libp2p/identify';
import { mplex } from '@libp2p/mplex';
import { tcp } from '@libp2p/tcp';
import { createLibp2p } from 'libp2p';
import type { Libp2p } from '@libp2p/interface';
import { Archive } from '../../main/core/archive/archive.ts';
import type { ArchiveMessage } from '../../main/core/archive/archive.ts';
import { StoreServer } from '../../main/core/store/server.ts';

export interface StoreNode {
  node: Libp2p;
  addr: string;
  peerId: string;
  stop(): Promise<void>;
}

export async function startStoreNode(messages: readonly ArchiveMessage[]): Promise<StoreNode> {
  const archive = Archive.open(':memory:');
  archive.insert(messages);
  const node = await createLibp2p({
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux(), mplex()],
    services: { identify: identify() },
  });
  const server = new StoreServer(archive, { rateLimit: { capacity: 10_000, perSecond: 10_000 } });
  await server.start(node);
  const addr = node.getMultiaddrs()[0]?.toString() ?? '';
  return {
    node,
    addr,
    peerId: node.peerId.toString(),
    stop: async () => {
      await server.stop();
      await node.stop();
      archive.close();
    },
  };
}
