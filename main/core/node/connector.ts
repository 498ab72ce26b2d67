/**
 * Keeps the node connected: static peers are dialled at start and redialled
 * with backoff whenever they drop; discovered peers are dialled while the node
 * has fewer connections than it wants.
 */
import type { PeerId, PeerInfo } from '@libp2p/interface';
import { KEEP_ALIVE } from '@libp2p/interface';
import { multiaddr } from '@multiformats/multiaddr';
import type { Multiaddr } from '@multiformats/multiaddr';
import { peerIdFromString } from '@libp2p/peer-id';
import type { KeeperLibp2p } from './libp2p.ts';

export interface StaticPeer {
  addr: Multiaddr;
  peerId: PeerId;
}

/** Parses a peer multiaddr; it must end in /p2p/<peer id>. Throws with a message naming the address. */
export function parsePeerAddress(text: string): StaticPeer {
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

export interface ConnectorOptions {
  staticPeers: StaticPeer[];
  /** Dial discovered peers while connected to fewer than this. */
  targetPeers?: number;
  minBackoffMs?: number;
  maxBackoffMs?: number;
  onDialError?: (peer: string, err: unknown) => void;
}

export class Connector {
  private readonly node: KeeperLibp2p;
  private readonly staticPeers: StaticPeer[];
  private readonly targetPeers: number;
  private readonly minBackoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly onDialError: ConnectorOptions['onDialError'];
  private readonly backoff = new Map<string, { delay: number; next: number }>();
  private readonly dialing = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private running = false;

  constructor(node: KeeperLibp2p, opts: ConnectorOptions) {
    this.node = node;
    this.staticPeers = opts.staticPeers;
    this.targetPeers = opts.targetPeers ?? 12;
    this.minBackoffMs = opts.minBackoffMs ?? 1000;
    this.maxBackoffMs = opts.maxBackoffMs ?? 60_000;
    this.onDialError = opts.onDialError;
  }

  async start(): Promise<void> {
    this.running = true;
    for (const p of this.staticPeers) {
      await this.node.peerStore.merge(p.peerId, {
        multiaddrs: [p.addr],
        tags: { [`${KEEP_ALIVE}-keeper`]: { value: 100 } },
      });
    }
    this.node.addEventListener('peer:discovery', this.onDiscovery);
    this.tick();
  }

  stop(): void {
    this.running = false;
    clearTimeout(this.timer);
    this.node.removeEventListener('peer:discovery', this.onDiscovery);
  }

  /** Adds a static peer at run time and dials it. */
  async addStaticPeer(p: StaticPeer): Promise<void> {
    if (this.staticPeers.some((s) => s.peerId.equals(p.peerId))) return;
    this.staticPeers.push(p);
    await this.node.peerStore.merge(p.peerId, { multiaddrs: [p.addr], tags: { [`${KEEP_ALIVE}-keeper`]: { value: 100 } } });
    this.dial(p.peerId, p.addr);
  }

  /** Stops redialling a static peer (an open connection stays until it drops). */
  async removeStaticPeer(peer: PeerId): Promise<void> {
    const i = this.staticPeers.findIndex((s) => s.peerId.equals(peer));
    if (i < 0) return;
    this.staticPeers.splice(i, 1);
    this.backoff.delete(peer.toString());
    await this.node.peerStore.merge(peer, { tags: { [`${KEEP_ALIVE}-keeper`]: undefined } });
  }

  private isConnected(peer: PeerId): boolean {
    return this.node.getConnections(peer).some((c) => c.status === 'open');
  }

  private tick = (): void => {
    if (!this.running) return;
    const now = Date.now();
    for (const p of this.staticPeers) {
      if (this.isConnected(p.peerId)) continue;
      const b = this.backoff.get(p.peerId.toString());
      if (b !== undefined && b.next > now) continue;
      this.dial(p.peerId, p.addr);
    }
    this.timer = setTimeout(this.tick, this.minBackoffMs);
    this.timer.unref();
  };

  private readonly onDiscovery = (evt: CustomEvent<PeerInfo>): void => {
    if (!this.running || this.node.getConnections().length >= this.targetPeers) return;
    const b = this.backoff.get(evt.detail.id.toString());
    if (b !== undefined && b.next > Date.now()) return;
    this.dial(evt.detail.id, undefined);
  };

  private dial(peer: PeerId, addr: Multiaddr | undefined): void {
    const key = peer.toString();
    if (this.dialing.has(key) || this.isConnected(peer)) return;
    this.dialing.add(key);
    this.node
      .dial(addr ?? peer, { signal: AbortSignal.timeout(15_000) })
      .then(() => this.backoff.delete(key))
      .catch((err: unknown) => {
        const prev = this.backoff.get(key)?.delay ?? 0;
        const delay = Math.min(this.maxBackoffMs, Math.max(this.minBackoffMs, prev * 2));
        this.backoff.set(key, { delay, next: Date.now() + delay });
        this.onDialError?.(key, err);
      })
      .finally(() => this.dialing.delete(key));
  }
}
