/**
 * The peers that can serve history: static `--store-peer`s and connected peers
 * whose identify lists Store v3. Per peer: reachability, RTT, last success,
 * messages provided and rejected, last agreement, and a backoff after failures.
 * Persisted in the archive's database across restarts.
 */
import type { PeerId } from '@libp2p/interface';
import { multiaddr } from '@multiformats/multiaddr';
import type { Multiaddr } from '@multiformats/multiaddr';
import type { HistoryStore } from './history-store.ts';
import type { StorePeerSource, StorePeerStatus } from '../../contract/contract.ts';
import type { StorePeerRecord } from './history-store.ts';

export interface RegistryOptions {
  now?: () => number;
  baseBackoffMs?: number;
  maxBackoffMs?: number;
  isConnected: (peerId: string) => boolean;
}

const blank = (peerId: string, source: StorePeerSource, addrs: string[]): StorePeerRecord => ({
  peerId,
  addrs,
  source,
  rttMs: null,
  lastSuccessMs: null,
  lastFailureMs: null,
  failures: 0,
  provided: 0,
  rejected: 0,
  agreement: null,
  lastAgreementMs: null,
  lastError: null,
});

export class StorePeerRegistry {
  private readonly store: HistoryStore;
  private readonly peers = new Map<string, StorePeerRecord>();
  private readonly selfId: string;
  private readonly now: () => number;
  private readonly baseBackoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly isConnected: (peerId: string) => boolean;

  constructor(store: HistoryStore, selfId: string, opts: RegistryOptions) {
    this.store = store;
    this.selfId = selfId;
    this.now = opts.now ?? Date.now;
    this.baseBackoffMs = opts.baseBackoffMs ?? 5_000;
    this.maxBackoffMs = opts.maxBackoffMs ?? 10 * 60_000;
    this.isConnected = opts.isConnected;
    for (const p of store.loadPeers()) this.peers.set(p.peerId, p);
  }

  /** Adds (or re-marks) a configured store peer. */
  addStatic(peerId: string, addr: string): void {
    const p = this.peers.get(peerId) ?? blank(peerId, 'static', []);
    p.source = 'static';
    if (!p.addrs.includes(addr)) p.addrs = [addr, ...p.addrs];
    this.save(p);
  }

  /** A connected peer told us its protocols: keep it if it serves Store v3. True when it is new. */
  observe(peerId: string, addrs: string[], servesStore: boolean): boolean {
    if (!servesStore || peerId === this.selfId) return false;
    const known = this.peers.get(peerId);
    const p = known ?? blank(peerId, 'discovered', addrs);
    if (p.source !== 'static') p.addrs = addrs;
    this.save(p);
    return known === undefined;
  }

  remove(peerId: string): void {
    this.peers.delete(peerId);
    this.store.deletePeer(peerId);
  }

  get(peerId: string): StorePeerRecord | undefined {
    return this.peers.get(peerId);
  }

  /** Where to reach a peer: its id when connected, else an address with /p2p/. */
  target(peerId: PeerId): PeerId | Multiaddr {
    const id = peerId.toString();
    const p = this.peers.get(id);
    if (this.isConnected(id) || p === undefined || p.addrs.length === 0) return peerId;
    const addr = p.addrs[0] ?? '';
    return multiaddr(addr.includes('/p2p/') ? addr : `${addr}/p2p/${id}`);
  }

  backoffUntil(p: StorePeerRecord): number | null {
    if (p.failures === 0 || p.lastFailureMs === null) return null;
    const delay = Math.min(this.maxBackoffMs, this.baseBackoffMs * 2 ** Math.min(p.failures - 1, 20));
    return p.lastFailureMs + delay;
  }

  /** Peers worth asking now, best first: connected, static, fewest failures, most recent success. */
  candidates(): StorePeerRecord[] {
    const now = this.now();
    return [...this.peers.values()]
      .filter((p) => (this.backoffUntil(p) ?? 0) <= now)
      .sort(
        (a, b) =>
          Number(this.isConnected(b.peerId)) - Number(this.isConnected(a.peerId)) ||
          Number(b.source === 'static') - Number(a.source === 'static') ||
          a.failures - b.failures ||
          (b.lastSuccessMs ?? 0) - (a.lastSuccessMs ?? 0),
      );
  }

  get size(): number {
    return this.peers.size;
  }

  recordSuccess(peerId: string, rttMs: number | null): void {
    const p = this.peers.get(peerId);
    if (!p) return;
    p.failures = 0;
    p.lastSuccessMs = this.now();
    p.lastError = null;
    if (rttMs !== null) p.rttMs = p.rttMs === null ? rttMs : p.rttMs * 0.7 + rttMs * 0.3;
    this.save(p);
  }

  recordFailure(peerId: string, error: string): void {
    const p = this.peers.get(peerId);
    if (!p) return;
    p.failures++;
    p.lastFailureMs = this.now();
    p.lastError = error.slice(0, 300);
    this.save(p);
  }

  recordMessages(peerId: string, provided: number, rejected: number): void {
    const p = this.peers.get(peerId);
    if (!p || (provided === 0 && rejected === 0)) return;
    p.provided += provided;
    p.rejected += rejected;
    this.save(p);
  }

  recordAgreement(peerId: string, share: number): void {
    const p = this.peers.get(peerId);
    if (!p) return;
    p.agreement = share;
    p.lastAgreementMs = this.now();
    this.save(p);
  }

  status(): StorePeerStatus[] {
    return [...this.peers.values()]
      .map((p) => ({ ...p, addrs: [...p.addrs], connected: this.isConnected(p.peerId), backoffUntilMs: this.backoffUntil(p) }))
      .sort((a, b) => a.peerId.localeCompare(b.peerId));
  }

  private save(p: StorePeerRecord): void {
    this.peers.set(p.peerId, p);
    this.store.savePeer(p);
  }
}
