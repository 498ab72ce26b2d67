/**
 * Waku Relay is gossipsub under its own codec, without message signing; the
 * gossipsub message data is the encoded WakuMessage (11/WAKU2-RELAY).
 * The npm @waku/relay is stale, so Keeper builds it from gossipsub directly.
 */
import { gossipsub } from '@chainsafe/libp2p-gossipsub';
import type { GossipSub, GossipsubOpts, GossipSubComponents } from '@chainsafe/libp2p-gossipsub';

export const RELAY_CODEC = '/vac/waku/relay/2.0.0';

/** Mesh parameters as nwaku runs them. */
const WAKU_GOSSIP: Partial<GossipsubOpts> = {
  globalSignaturePolicy: 'StrictNoSign',
  allowPublishToZeroTopicPeers: true,
  fallbackToFloodsub: false,
  emitSelf: false,
  D: 6,
  Dlo: 4,
  Dhi: 8,
  Dlazy: 6,
  heartbeatInterval: 1000,
  fanoutTTL: 60_000,
  seenTTL: 120_000,
  // Messages of the default 150 KiB plus protobuf and RPC framing, with room for a few per RPC
  // (wakuRelay() raises it with a larger message cap).
  maxInboundDataLength: 4 * 1024 * 1024,
};

/**
 * A gossipsub service that speaks `/vac/waku/relay/2.0.0`. Gossipsub 14 takes
 * its protocol list as a field, set here before libp2p starts the service;
 * left alone it would speak /meshsub/1.x and no Waku node would hear it.
 */
export function wakuRelay(opts: Partial<GossipsubOpts> = {}, maxMessageBytes = 0): (components: GossipSubComponents) => GossipSub {
  const inbound = Math.max(WAKU_GOSSIP.maxInboundDataLength ?? 0, 4 * maxMessageBytes + 64 * 1024);
  const make = gossipsub({ ...WAKU_GOSSIP, maxInboundDataLength: inbound, ...opts });
  return (components) => {
    // gossipsub() is typed as returning the PubSub interface; the instance is a GossipSub.
    const relay = make(components) as GossipSub;
    relay.multicodecs = [RELAY_CODEC];
    return relay;
  };
}
