/** A peer's address as flags and the dashboard give it: a multiaddr ending in /p2p/<peer id>. */
import type { PeerId } from '@libp2p/interface';
import { peerIdFromString } from '@libp2p/peer-id';
import { multiaddr } from '@multiformats/multiaddr';
import type { Multiaddr } from '@multiformats/multiaddr';

export interface PeerAddress {
  addr: Multiaddr;
  peerId: PeerId;
}

/** Parses a peer multiaddr; it must end in /p2p/<peer id>. Throws with a message naming the address. */
export function parsePeerAddress(text: string): PeerAddress {
  let addr: Multiaddr;
  try {
    addr = multiaddr(text);
  } catch (err) {
    throw new Error(`"${text}" is not a multiaddr (${(err as Error).message})`);
  }
  const id = addr.getPeerId();
  if (id === null) throw new Error(`"${text}" has no /p2p/<peer id> part`);
  try {
    return { addr, peerId: peerIdFromString(id) };
  } catch {
    throw new Error(`"${text}" has an invalid peer id`);
  }
}
