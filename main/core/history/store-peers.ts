/**
 * The peers that can serve history: static `--store-peer`s and connected peers
 * whose identify lists Store v3. Per peer: reachability, RTT, last success,
 * messages provided and rejected, last agreement, a backoff after failures,
 * whether it attests its coverage, and its standing: a peer that answered
 * short of what it attested holding is not trusted to attest for a while.
 * Persisted in the archive's database across restarts.
 */
import type { PeerId } from '@libp2p/interface';
import { peerIdFromString } from '@libp2p/peer-id';
import { multiaddr } from '@multiformats/multiaddr';
import type { Multiaddr } from '@multiformats/multiaddr';
import type { HistoryStore } from './history-store.ts';
import type { StorePeerSource, StorePeerStatus } from '../../contract/contract.ts';
import type { StorePeerRecord } from './history-store.ts';
import { claimedShare, rankPeers } from './peer-rank.ts';
import { intersect, subtract, totalLength } from '../util/intervals.ts';
import type { Interval } from '../util/intervals.ts';

/**
 * What a peer's announcement claims on a pubsub topic (announce/), as the
 * registry is told it, and when this Keeper believed that announcement (its
 * own clock; null: nothing claimed).
 */
export interface ClaimsOf {
  (peerId: string, pubsubTopic: string): { held: Interval[]; endorsed: boolean; believedMs: number | null };
}

/** A gap the filler is about to ask for, to rank peers by what they claim of it. */
export interface GapHint {
  pubsubTopic: string;
  window: Interval;
}

/** A peer attesting less than it announced by more than this (the clock margins of both) has contradicted itself. */
export const CLAIM_SLACK_MS = 60_000;

export interface RegistryOptions {
  now?: () => number;
  baseBackoffMs?: number;
  maxBackoffMs?: number;
  isConnected: (peerId: string) => boolean;
  /** How long a peer that answered short of its attestation is not trusted to attest. */
  standingPenaltyMs?: number;
}

export const STANDING_PENALTY_MS = 6 * 60 * 60_000;

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
  attests: null,
  refused: 0,
  standingLostMs: null,
  standingReason: null,
});

export class StorePeerRegistry {
  private readonly store: HistoryStore;
  private readonly peers = new Map<string, StorePeerRecord>();
  private readonly selfId: string;
  private readonly now: () => number;
  private readonly baseBackoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly isConnected: (peerId: string) => boolean;
  private readonly standingPenaltyMs: number;
  /** When each peer last (re)connected and identified: failures before that say nothing about reaching it now. */
  private readonly seenAt = new Map<string, number>();
  private readonly ids = new Map<string, PeerId>();
  private claims: ClaimsOf = () => ({ held: [], endorsed: false, believedMs: null });

  constructor(store: HistoryStore, selfId: string, opts: RegistryOptions) {
    this.store = store;
    this.selfId = selfId;
    this.now = opts.now ?? Date.now;
    this.baseBackoffMs = opts.baseBackoffMs ?? 5_000;
    this.maxBackoffMs = opts.maxBackoffMs ?? 10 * 60_000;
    this.isConnected = opts.isConnected;
    this.standingPenaltyMs = opts.standingPenaltyMs ?? STANDING_PENALTY_MS;
    for (const p of store.loadPeers()) this.peers.set(p.peerId, p);
  }

  /** Adds (or re-marks) a configured store peer. */
  addStatic(peerId: string, addr: string): void {
    const p = this.peers.get(peerId) ?? blank(peerId, 'static', []);
    p.source = 'static';
    if (!p.addrs.includes(addr)) p.addrs = [addr, ...p.addrs];
    this.save(p);
  }

  /**
   * A Keeper of a kept community announced itself: a store-peer candidate with
   * no --store-peer. A configured peer stays configured; addresses announced
   * replace those seen before.
   */
  addAnnounced(peerId: string, addrs: string[]): void {
    if (peerId === this.selfId) return;
    const p = this.peers.get(peerId) ?? blank(peerId, 'announced', addrs);
    if (p.source !== 'static') {
      p.source = 'announced';
      if (addrs.length > 0) p.addrs = addrs;
    }
    this.save(p);
  }

  /** Where to read peers' announced claims from (the Keeper wires announcements in). */
  setClaims(claims: ClaimsOf): void {
    this.claims = claims;
  }

  /**
   * The peer attested `attested` of `window`, asked at `askedAtMs`; if its
   * announcement, believed before that, claimed clearly more of it, it
   * contradicted itself and loses standing. True then. (An announcement
   * believed after the question may tell of a fill made since the answer.)
   */
  checkClaim(peerId: string, pubsubTopic: string, window: Interval, attested: readonly Interval[], askedAtMs: number): boolean {
    const { held: claimed, believedMs } = this.claims(peerId, pubsubTopic);
    if (claimed.length === 0 || believedMs === null || believedMs > askedAtMs) return false;
    const lacking = totalLength(intersect(subtract(window, attested), claimed));
    if (lacking <= CLAIM_SLACK_MS) return false;
    this.loseStanding(peerId, `announced holding ${Math.round(lacking / 60_000)} min of ${new Date(window.start).toISOString().slice(0, 16)}Z that it then did not attest`);
    return true;
  }

  /**
   * Whether the peer announced, in an announcement believed after `sinceMs`,
   * holding clearly more of `stretch` than the slack: asked before, it is
   * worth asking again — it fills the stretch or is found out.
   */
  claimsAfresh(peerId: string, pubsubTopic: string, stretch: Interval, sinceMs: number): boolean {
    const { held, believedMs } = this.claims(peerId, pubsubTopic);
    return believedMs !== null && believedMs > sinceMs && totalLength(intersect([stretch], held)) > CLAIM_SLACK_MS;
  }

  /** A connected peer told us its protocols: keep it if it serves Store v3, and note whether it attests. True when it serves Store v3. */
  observe(peerId: string, addrs: string[], servesStore: boolean, attests: boolean): boolean {
    if (!servesStore || peerId === this.selfId) return false;
    const p = this.peers.get(peerId) ?? blank(peerId, 'discovered', addrs);
    if (p.source !== 'static') p.addrs = addrs;
    p.attests = attests;
    this.seenAt.set(peerId, this.now());
    this.save(p);
    return true;
  }

  /** Whether the peer's attestations count now: it speaks the protocol (or may: not known yet) and has its standing. */
  mayAttest(peerId: string): boolean {
    const p = this.peers.get(peerId);
    return p !== undefined && p.attests !== false && this.trusted(p);
  }

  /** Whether the peer has its standing (an unknown peer has: it has done nothing yet). */
  hasStanding(peerId: string): boolean {
    const p = this.peers.get(peerId);
    return p === undefined || this.trusted(p);
  }

  trusted(p: StorePeerRecord): boolean {
    return p.standingLostMs === null || this.now() - p.standingLostMs >= this.standingPenaltyMs;
  }

  /** The peer turned out not to speak the coverage protocol (or to speak it after all). */
  setAttests(peerId: string, attests: boolean): void {
    const p = this.peers.get(peerId);
    if (!p || p.attests === attests) return;
    p.attests = attests;
    this.save(p);
  }

  /** A coverage answer from the peer was refused (unsigned, badly signed, oversized, for another question). */
  recordRefused(peerId: string, reason: string): void {
    const p = this.peers.get(peerId);
    if (!p) return;
    p.refused++;
    p.lastError = `coverage answer refused: ${reason}`.slice(0, 300);
    this.save(p);
  }

  /** The peer answered short of what it attested holding: its attestations count for nothing for a while. */
  loseStanding(peerId: string, reason: string): void {
    const p = this.peers.get(peerId);
    if (!p) return;
    p.standingLostMs = this.now();
    p.standingReason = reason.slice(0, 300);
    this.save(p);
  }

  remove(peerId: string): void {
    this.peers.delete(peerId);
    this.store.deletePeer(peerId);
  }

  get(peerId: string): StorePeerRecord | undefined {
    return this.peers.get(peerId);
  }

  /**
   * The PeerId of a peer's id string, kept: parsing a secp256k1 id decompresses
   * its key, which cost a fill 0.7 s of CPU when done once a request.
   */
  peerIdOf(id: string): PeerId {
    let peerId = this.ids.get(id);
    if (peerId === undefined) {
      peerId = peerIdFromString(id);
      if (this.ids.size >= 1000) this.ids.clear();
      this.ids.set(id, peerId);
    }
    return peerId;
  }

  /** Where to reach a peer: its id when connected, else an address with /p2p/. */
  target(peerId: PeerId): PeerId | Multiaddr {
    const id = peerId.toString();
    const p = this.peers.get(id);
    if (this.isConnected(id) || p === undefined || p.addrs.length === 0) return peerId;
    const addr = p.addrs[0] ?? '';
    return multiaddr(addr.includes('/p2p/') ? addr : `${addr}/p2p/${id}`);
  }

  /** Until when a failing peer is not asked; a peer that has connected again since its last failure is asked at once. */
  backoffUntil(p: StorePeerRecord): number | null {
    if (p.failures === 0 || p.lastFailureMs === null) return null;
    if ((this.seenAt.get(p.peerId) ?? -Infinity) > p.lastFailureMs) return null;
    const delay = Math.min(this.maxBackoffMs, this.baseBackoffMs * 2 ** Math.min(p.failures - 1, 20));
    return p.lastFailureMs + delay;
  }

  /**
   * Peers worth asking now, best first (peer-rank.ts): for a gap, those whose
   * announcements claim it; then those whose attestations count, endorsed,
   * connected, static, fewest failures, lowest RTT, most recent success.
   */
  candidates(gap?: GapHint): StorePeerRecord[] {
    const now = this.now();
    const ready = [...this.peers.values()].filter((p) => (this.backoffUntil(p) ?? 0) <= now);
    const ranked = rankPeers(
      ready.map((p) => {
        const claims = this.claims(p.peerId, gap?.pubsubTopic ?? '');
        return {
          record: p,
          peerId: p.peerId,
          claimed: claimedShare(claims.held, gap?.window),
          mayAttest: this.mayAttest(p.peerId),
          endorsed: claims.endorsed,
          connected: this.isConnected(p.peerId),
          configured: p.source === 'static',
          failures: p.failures,
          rttMs: p.rttMs,
          lastSuccessMs: p.lastSuccessMs,
        };
      }),
    );
    return ranked.map((r) => r.record);
  }

  get size(): number {
    return this.peers.size;
  }

  recordSuccess(peerId: string, rttMs: number | null): void {
    const p = this.peers.get(peerId);
    if (!p) return;
    p.failures = 0;
    p.lastSuccessMs = this.now();
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
      .map((p) => ({ ...p, addrs: [...p.addrs], connected: this.isConnected(p.peerId), backoffUntilMs: this.backoffUntil(p), trusted: this.trusted(p) }))
      .sort((a, b) => a.peerId.localeCompare(b.peerId));
  }

  private save(p: StorePeerRecord): void {
    this.peers.set(p.peerId, p);
    this.store.savePeer(p);
  }
}
