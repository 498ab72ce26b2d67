/**
 * A bystander: a bare libp2p node (TCP, noise, yamux and mplex, identify) that
 * reads Keepers over Store v3 from outside, as any Waku store client would.
 */
import { noise } from '@chainsafe/libp2p-noise';
import { yamux } from '@chainsafe/libp2p-yamux';
import { identify } from '@libp2p/identify';
import { mplex } from '@libp2p/mplex';
import { tcp } from '@libp2p/tcp';
import type { Libp2p } from '@libp2p/interface';
import { createLibp2p } from 'libp2p';

export async function startStoreClient(): Promise<Libp2p> {
  return createLibp2p({
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux(), mplex()],
    services: { identify: identify() },
  });
}
