/**
 * Keeps the node connected: static peers are dialled at start and redialled
 * with backoff whenever they drop; discovered peers are dialled while the node
 * has fewer connections than it wants. The static peers are the settings':
 * a store peer added or removed there is dialled or let go here.
 */
import type { PeerId, PeerInfo } from '@libp2p/interface';
import { KEEP_ALIVE } from '@libp2p/interface';
import { peerIdFromString } from '@libp2p/peer-id';
import type { Multiaddr } from '@multiformats/multiaddr';
import type { KeeperLibp2p } from './libp2p.ts';
import type { PeerAddress } from '../util/peer-address.ts';
import type { RuntimeSettings, SettingsChange } from '../settings/runtime-settings.ts';

export interface ConnectorOptions {
  /** Dial discovered peers while connected to fewer than this. */
  targetPeers?: number;
  minBackoffMs?: number;
  maxBackoffMs?: number;
  onDialError?: (peer: string, err: unknown) => void;
}

const KEEP = `${KEEP_ALIVE}-keeper`;

export class Connector {
  private readonly node: KeeperLibp2p;
  private readonly settings: RuntimeSettings;
  private staticPeers: PeerAddress[] = [];
  private readonly targetPeers: number;
  private readonly minBackoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly onDialError: ConnectorOptions['onDialError'];
  private readonly backoff = new Map<string, { delay: number; next: number }>();
  private readonly dialing = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private running = false;

  constructor(node: KeeperLibp2p, settings: RuntimeSettings, opts: ConnectorOptions = {}) {
    this.node = node;
    this.settings = settings;
    this.targetPeers = opts.targetPeers ?? 12;
    this.minBackoffMs = opts.minBackoffMs ?? 1000;
    this.maxBackoffMs = opts.maxBackoffMs ?? 60_000;
    this.onDialError = opts.onDialError;
  }

  async start(): Promise<void> {
    this.running = true;
    this.staticPeers = this.settings.staticPeers;
    for (const p of this.staticPeers) await this.node.peerStore.merge(p.peerId, { multiaddrs: [p.addr], tags: { [KEEP]: { value: 100 } } });
    this.node.addEventListener('peer:discovery', this.onDiscovery);
    this.settings.on('change', this.onSettings);
    this.tick();
  }

  stop(): void {
    this.running = false;
    clearTimeout(this.timer);
    this.node.removeEventListener('peer:discovery', this.onDiscovery);
    this.settings.off('change', this.onSettings);
  }

  /** Static peers added are tagged and dialled at once; removed ones are no longer redialled (an open connection stays until it drops). */
  private readonly onSettings = (change: SettingsChange): void => {
    if (change.kind !== 'store-peer-added' && change.kind !== 'store-peer-removed') return;
    const before = new Set(this.staticPeers.map((p) => p.peerId.toString()));
    this.staticPeers = this.settings.staticPeers;
    const now = new Set(this.staticPeers.map((p) => p.peerId.toString()));
    for (const p of this.staticPeers) {
      if (before.has(p.peerId.toString())) continue;
      void this.node.peerStore.merge(p.peerId, { multiaddrs: [p.addr], tags: { [KEEP]: { value: 100 } } }).catch(() => undefined);
      this.dial(p.peerId, p.addr);
    }
    for (const id of before) {
      if (now.has(id)) continue;
      this.backoff.delete(id);
      void this.node.peerStore.merge(peerIdFromString(id), { tags: { [KEEP]: undefined } }).catch(() => undefined);
    }
  };

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
