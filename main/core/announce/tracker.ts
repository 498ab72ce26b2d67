/**
 * What a Keeper believes of its communities' Keepers: announcements checked
 * (signature, freshness, size — announcement.ts — then sequence, rate per
 * announcer and a cap on Keepers tracked), the newest believed one per
 * announcer, and every refusal counted by reason. Held in memory: after a
 * restart the last hour comes back from store peers (cold-fetch.ts).
 */
import { multiaddr } from '@multiformats/multiaddr';
import type { AnnounceRefusal } from '../../contract/contract.ts';
import { base58Encode } from '../util/base58.ts';
import { RateLimiter } from '../util/rate-limit.ts';
import type { RateLimit } from '../util/rate-limit.ts';
import { AnnouncementRefused, verifyAnnouncement } from './announcement.ts';
import type { Announcement } from './codec.ts';

/** The communities announced in, as the tracker needs them. */
export interface AnnouncedCommunity {
  /** communities/keepers-topic.ts's key. */
  key: string;
  name: string;
  pubsubTopic: string;
  contentTopic: string;
}

export interface TrackedKeeper {
  announcement: Announcement;
  /** An owner's endorsements as peer id strings (read once, at belief). */
  endorsedIds: string[];
  /** Addresses as text, without /p2p/ (the bad ones dropped). */
  addrs: string[];
  lastSeenMs: number;
  self: boolean;
}

export const MAX_TRACKED_KEEPERS = 200;
/**
 * Per announcer: a few at once, then twice the rate this Keeper announces at
 * itself, and at least one every 30 s (a Keeper publishes every 5 min and on
 * change, at most once a minute).
 */
export function announceRate(intervalMs: number): RateLimit {
  return { capacity: 5, perSecond: Math.max(1 / 30, 2000 / intervalMs) };
}
export const ANNOUNCE_RATE: RateLimit = announceRate(5 * 60_000);
/** A Keeper not heard from for this long is forgotten. */
export const FORGET_AFTER_MS = 24 * 60 * 60_000;

interface PerCommunity {
  c: AnnouncedCommunity;
  keepers: Map<string, TrackedKeeper>;
  refused: Partial<Record<AnnounceRefusal, number>>;
  accepted: number;
}

export interface TrackerOptions {
  selfId: string;
  now?: () => number;
  maxKeepers?: number;
  rate?: RateLimit;
  /** Told of each announcement believed from another Keeper. */
  onBelieved?: (k: TrackedKeeper, c: AnnouncedCommunity) => void;
}

/** Where an announcement came from: relay (live, rate-limited) or a store answer (history: older ones are skipped, not refused). */
export type AnnouncementSource = 'relay' | 'store';

export class AnnounceTracker {
  private readonly communities = new Map<string, PerCommunity>();
  private readonly byTopic = new Map<string, string>();
  private readonly o: Required<Omit<TrackerOptions, 'onBelieved'>> & Pick<TrackerOptions, 'onBelieved'>;
  private readonly limiter: RateLimiter;

  constructor(o: TrackerOptions) {
    this.o = { now: Date.now, maxKeepers: MAX_TRACKED_KEEPERS, rate: ANNOUNCE_RATE, ...o };
    this.limiter = new RateLimiter(this.o.rate, this.o.now);
  }

  /** The communities kept now; those no longer kept are forgotten. */
  setCommunities(list: readonly AnnouncedCommunity[]): void {
    const keys = new Set(list.map((c) => c.key));
    for (const k of [...this.communities.keys()]) if (!keys.has(k)) this.communities.delete(k);
    this.byTopic.clear();
    for (const c of list) {
      const had = this.communities.get(c.key);
      if (had !== undefined) had.c = c;
      else this.communities.set(c.key, { c, keepers: new Map(), refused: {}, accepted: 0 });
      this.byTopic.set(`${c.pubsubTopic}\n${c.contentTopic}`, c.key);
    }
  }

  get list(): AnnouncedCommunity[] {
    return [...this.communities.values()].map((p) => p.c);
  }

  /** The community whose keepers topic this is, if any. */
  communityOf(pubsubTopic: string, contentTopic: string): AnnouncedCommunity | undefined {
    const key = this.byTopic.get(`${pubsubTopic}\n${contentTopic}`);
    return key === undefined ? undefined : this.communities.get(key)?.c;
  }

  /**
   * Checks one announcement read off a community's keepers topic; returns the
   * Keeper as now believed, or null (refused and counted, or an older one
   * from a store answer, skipped).
   */
  async ingest(key: string, payload: Uint8Array, source: AnnouncementSource): Promise<TrackedKeeper | null> {
    const per = this.communities.get(key);
    if (per === undefined) return null;
    const now = this.o.now();
    let a: Announcement;
    try {
      a = await verifyAnnouncement(payload, key, now);
    } catch (err) {
      if (!(err instanceof AnnouncementRefused)) throw err;
      this.count(per, err.reason);
      return null;
    }
    if (a.peerId === this.o.selfId) return null;
    const had = per.keepers.get(a.peerId);
    if (had !== undefined && a.seq <= had.announcement.seq) {
      if (source === 'relay') this.count(per, 'replayed');
      return null;
    }
    if (had === undefined && per.keepers.size >= this.o.maxKeepers) {
      this.forgetOld(per, now);
      if (per.keepers.size >= this.o.maxKeepers) {
        this.count(per, 'too-many-keepers');
        return null;
      }
    }
    if (source === 'relay' && !this.limiter.take(`${key}\n${a.peerId}`)) {
      this.count(per, 'rate-limited');
      return null;
    }
    const k: TrackedKeeper = { announcement: a, endorsedIds: a.endorsed.map(peerIdText), addrs: textAddrs(a.multiaddrs), lastSeenMs: now, self: false };
    per.keepers.set(a.peerId, k);
    per.accepted++;
    this.o.onBelieved?.(k, per.c);
    return k;
  }

  /** This Keeper's own announcement, as it published it. */
  recordOwn(key: string, a: Announcement): void {
    const per = this.communities.get(key);
    if (per === undefined) return;
    per.keepers.set(a.peerId, { announcement: a, endorsedIds: a.endorsed.map(peerIdText), addrs: textAddrs(a.multiaddrs), lastSeenMs: this.o.now(), self: true });
  }

  keepers(key: string): TrackedKeeper[] {
    const per = this.communities.get(key);
    if (per === undefined) return [];
    this.forgetOld(per, this.o.now());
    return [...per.keepers.values()];
  }

  /** Every other Keeper believed, over all communities (newest announcement per community). */
  others(): { k: TrackedKeeper; c: AnnouncedCommunity }[] {
    return [...this.communities.values()].flatMap((per) => [...per.keepers.values()].filter((k) => !k.self).map((k) => ({ k, c: per.c })));
  }

  /** Peer ids (strings) that a believed owner's Keeper of the community vouches for. */
  endorsedIn(key: string): Set<string> {
    const out = new Set<string>();
    for (const k of this.keepers(key)) if (k.announcement.role === 'owner') for (const id of k.endorsedIds) out.add(id);
    return out;
  }

  counts(key: string): { refused: Partial<Record<AnnounceRefusal, number>>; accepted: number } {
    const per = this.communities.get(key);
    return { refused: { ...(per?.refused ?? {}) }, accepted: per?.accepted ?? 0 };
  }

  private count(per: PerCommunity, reason: AnnounceRefusal): void {
    per.refused[reason] = (per.refused[reason] ?? 0) + 1;
  }

  private forgetOld(per: PerCommunity, now: number): void {
    for (const [id, k] of per.keepers) if (now - k.lastSeenMs > FORGET_AFTER_MS) per.keepers.delete(id);
  }
}

function textAddrs(list: readonly Uint8Array[]): string[] {
  const out: string[] = [];
  for (const b of list) {
    try {
      out.push(multiaddr(b).toString());
    } catch {
      // An address this node cannot read is left out; the rest still serve.
    }
  }
  return out;
}

/**
 * A peer id's multihash bytes as its string form (base58btc of the multihash).
 * Not parsed: parsing a secp256k1 id decompresses its key, and bytes that are
 * no peer id simply match no Keeper.
 */
export function peerIdText(bytes: Uint8Array): string {
  return base58Encode(bytes);
}
