/**
 * A set of Keepers that know each other: each with its own data dir, a node
 * identity made in advance and a fixed loopback port, so a Keeper can be
 * stopped (or killed) and started again where the others expect it.
 */
import { createServer } from 'node:net';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { loadOrCreateIdentity } from '../../main/core/node/identity.ts';
import { tempDataDir } from './keeper.ts';

export interface ClusterMember {
  dir: string;
  peerId: string;
  /** The listen address, without /p2p. */
  listen: string;
  /** The address others dial, with /p2p. */
  addr: string;
  /** The others' addresses. */
  others: string[];
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

export async function clusterOf(n: number): Promise<ClusterMember[]> {
  const members: ClusterMember[] = [];
  for (let i = 0; i < n; i++) {
    const dir = tempDataDir();
    const peerId = peerIdFromPrivateKey(await loadOrCreateIdentity(dir)).toString();
    const listen = `/ip4/127.0.0.1/tcp/${await freePort()}`;
    members.push({ dir, peerId, listen, addr: `${listen}/p2p/${peerId}`, others: [] });
  }
  for (const m of members) m.others = members.filter((o) => o !== m).map((o) => o.addr);
  return members;
}
