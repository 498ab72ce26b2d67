/**
 * nwaku's GET /health: the node's health and, in nwaku's order, each
 * protocol's — READY, NOT_READY (with why) or NOT_MOUNTED for what Keeper
 * does not run.
 */
import type { KeeperStatus } from '../../contract/contract.ts';
import type { RestBackend } from './backend.ts';
import { json } from './router.ts';
import type { Route } from './router.ts';

type Health = 'INITIALIZING' | 'READY' | 'NOT_READY' | 'NOT_MOUNTED' | 'SHUTTING_DOWN';

/** nwaku's protocols, in the order its health report lists them. */
const PROTOCOLS = [
  'Relay',
  'Rln Relay',
  'Lightpush',
  'Legacy Lightpush',
  'Filter',
  'Store',
  'Legacy Store',
  'Peer Exchange',
  'Rendezvous',
  'Mix',
  'Lightpush Client',
  'Legacy Lightpush Client',
  'Store Client',
  'Legacy Store Client',
  'Filter Client',
] as const;

export function healthReport(s: KeeperStatus): { nodeHealth: Health; protocolsHealth: Record<string, string>[] } {
  const nodeHealth: Health = s.state === 'starting' ? 'INITIALIZING' : s.state === 'stopping' ? 'SHUTTING_DOWN' : 'READY';
  const relayPeers = s.peers.some((p) => p.relay);
  const protocolsHealth = PROTOCOLS.map((protocol): Record<string, string> => {
    if (protocol === 'Relay') return relayPeers ? { Relay: 'READY' } : { Relay: 'NOT_READY', desc: 'No connected peers' };
    // Keeper serves Store v3 from its archive and asks peers with its own client.
    if (protocol === 'Store' || protocol === 'Store Client') return { [protocol]: 'READY' };
    return { [protocol]: 'NOT_MOUNTED' };
  });
  return { nodeHealth, protocolsHealth };
}

export function healthRoutes(b: RestBackend): Route[] {
  return [{ method: 'GET', path: '/health', handler: async () => json(200, healthReport(await b.status())) }];
}
