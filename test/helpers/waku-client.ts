/**
 * A @waku/sdk light node with Waku Relay (gossipsub under the Waku codec) on
 * loopback TCP: the stand-in for any js-waku application.
 */
import { gossipsub } from '@chainsafe/libp2p-gossipsub';
import type { GossipSub } from '@chainsafe/libp2p-gossipsub';
import { tcp } from '@libp2p/tcp';
import { multiaddr } from '@multiformats/multiaddr';
import { createLightNode } from '@waku/sdk';
import type { LightNode } from '@waku/sdk';
import { proto_message } from '@waku/proto';

process.env.NODE_ENV ??= 'test';

export interface WakuClient {
  node: LightNode;
  relay: GossipSub;
  publish(pubsubTopic: string, msg: { contentTopic: string; payload: Uint8Array; timestamp: bigint }): Promise<void>;
  stop(): Promise<void>;
}

export async function startWakuClient(opts: { clusterId?: number; pubsubTopics?: string[] } = {}): Promise<WakuClient> {
  const relayFactory = gossipsub({ globalSignaturePolicy: 'StrictNoSign', allowPublishToZeroTopicPeers: true, emitSelf: false });
  const node = await createLightNode({
    networkConfig: { clusterId: opts.clusterId ?? 16 },
    defaultBootstrap: false,
    discovery: { dns: false, peerExchange: false, peerCache: false },
    libp2p: {
      addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
      transports: [tcp()],
      hideWebSocketInfo: true,
      services: {
        relay: (components: Parameters<typeof relayFactory>[0]) => {
          const relay = relayFactory(components) as GossipSub;
          relay.multicodecs = ['/vac/waku/relay/2.0.0'];
          return relay;
        },
      },
    },
  });
  // The light node's libp2p is typed without our relay service; it is there.
  const relay = (node.libp2p.services as unknown as { relay: GossipSub }).relay;
  for (const t of opts.pubsubTopics ?? []) relay.subscribe(t);
  return {
    node,
    relay,
    publish: async (pubsubTopic, msg) => {
      await relay.publish(pubsubTopic, proto_message.WakuMessage.encode({ ...msg, version: 0 }));
    },
    stop: () => node.stop(),
  };
}

export async function dial(client: WakuClient, addr: string): Promise<void> {
  await client.node.libp2p.dial(multiaddr(addr));
}
