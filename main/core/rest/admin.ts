/**
 * nwaku's GET /admin/v1/peers: one WakuPeer per peer — address with /p2p/,
 * protocols, announced shards, connectedness, agent and origin.
 */
import type { PeerStatus } from '../../contract/contract.ts';
import type { RestBackend } from './backend.ts';
import { json } from './router.ts';
import type { Route } from './router.ts';

/** nwaku's WakuPeer, from a connected peer of the status snapshot (the snapshot holds connected peers only). */
export function wakuPeer(p: PeerStatus): Record<string, unknown> {
  const addr = p.addrs[0];
  const suffix = `/p2p/${p.peerId}`;
  return {
    multiaddr: addr === undefined ? '' : addr.endsWith(suffix) ? addr : `${addr}${suffix}`,
    protocols: p.protocols,
    shards: p.shards,
    connected: 'Connected',
    agent: p.agent ?? '',
    // nwaku's origins: Static for configured peers; Keeper does not record how it found the others.
    origin: p.static ? 'Static' : 'UnknownOrigin',
  };
}

export function adminRoutes(b: RestBackend): Route[] {
  return [{ method: 'GET', path: '/admin/v1/peers', handler: async () => json(200, (await b.status()).peers.map(wakuPeer)) }];
}
