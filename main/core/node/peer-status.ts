/** The connected peers as the status shows them: addresses, protocols, relay mesh, announced shards. */
import type { Connection } from '@libp2p/interface';
import type { PeerStatus } from '../../contract/contract.ts';
import { STORE_CODEC } from '../store/codec.ts';
import type { KeeperLibp2p } from './libp2p.ts';
import { RELAY_CODEC } from './relay.ts';

const utf8 = new TextDecoder();

export async function peerStatuses(
  node: KeeperLibp2p,
  pubsubTopics: readonly string[],
  isStatic: (peerId: string) => boolean,
): Promise<PeerStatus[]> {
  const byPeer = new Map<string, Connection[]>();
  for (const c of node.getConnections()) {
    const key = c.remotePeer.toString();
    byPeer.set(key, [...(byPeer.get(key) ?? []), c]);
  }
  const relay = node.services.relay;
  const subscribers = new Set<string>();
  const mesh = new Map<string, string[]>();
  for (const t of pubsubTopics) {
    for (const p of relay.getSubscribers(t)) subscribers.add(p.toString());
    for (const p of relay.getMeshPeers(t)) mesh.set(p, [...(mesh.get(p) ?? []), t]);
  }
  const announced = node.services.metadata.peers;
  const out: PeerStatus[] = [];
  for (const [id, conns] of byPeer) {
    const first = conns[0];
    if (first === undefined) continue;
    const peer = await node.peerStore.get(first.remotePeer).catch(() => undefined);
    const protocols = peer?.protocols ?? [];
    const agent = peer?.metadata.get('AgentVersion');
    const meta = announced.get(id);
    out.push({
      peerId: id,
      addrs: conns.map((c) => c.remoteAddr.toString()),
      protocols,
      direction: first.direction,
      relay: subscribers.has(id) || protocols.includes(RELAY_CODEC),
      mesh: mesh.get(id) ?? [],
      store: protocols.includes(STORE_CODEC),
      static: isStatic(id),
      agent: agent === undefined ? null : utf8.decode(agent),
      clusterId: meta?.clusterId ?? null,
      shards: meta?.shards ?? [],
    });
  }
  return out.sort((a, b) => a.peerId.localeCompare(b.peerId));
}
