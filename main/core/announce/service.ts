/**
 * Announcements in one Keeper: the publisher of its own, the tracker of the
 * others', the cold fetch from store peers, what announcers become (store-peer
 * candidates to dial), what the filler is told of their claims, and each
 * community's part of the status. It is handed every way to reach the rest of
 * the Keeper; it reaches for nothing.
 */
import type { Libp2p, PrivateKey } from '@libp2p/interface';
import type { AnnouncedKeeper, Community, CommunityAnnounceStatus } from '../../contract/contract.ts';
import { communityKey, keepersContentTopic } from '../communities/keepers-topic.ts';
import type { ArchiveMessage } from '../message/message.ts';
import type { MessageRules } from '../message/validate.ts';
import { decodeWakuMessage } from '../message/wire.ts';
import { peerIdFromString } from '@libp2p/peer-id';
import { base58Decode } from '../util/base58.ts';
import { errorMessage } from '../util/errors.ts';
import { clip, totalLength } from '../util/intervals.ts';
import type { Interval } from '../util/intervals.ts';
import { fetchAnnouncements } from './cold-fetch.ts';
import { coverageMap, thinShare } from './map.ts';
import { ANNOUNCED_SPAN_MS, AnnouncePublisher } from './publisher.ts';
import type { SelfDescription } from './publisher.ts';
import { AnnounceTracker, announceRate, peerIdText } from './tracker.ts';
import type { AnnouncedCommunity, TrackedKeeper } from './tracker.ts';

/** How many store peers a cold Keeper asks for announcements. */
const COLD_FETCH_PEERS = 3;
/** The coverage map ends this long before now (or two announce intervals, when shorter): announcements are that old. */
const MAP_SETTLE_MS = 10 * 60_000;
/** An announcer is dialled at most this often. */
const REDIAL_MS = 2 * 60_000;

export interface Standing {
  lost: boolean;
  reason: string | null;
}

/** What a peer claims for the filler's ranking: its announced held stretches on a pubsub topic, and whether an owner vouches for it. */
export interface PeerClaims {
  held: Interval[];
  endorsed: boolean;
  /** When the newest announcement behind `held` was believed here (this Keeper's clock); null: nothing held is claimed. */
  believedMs: number | null;
}

export interface AnnounceServiceDeps {
  key: PrivateKey;
  selfId: string;
  /** The kept communities (the topic plan's entries). */
  communities: () => Community[];
  /** What this Keeper says of itself for a community (without endorsements). */
  describe: (c: Community, span: Interval) => Omit<SelfDescription, 'endorsed'>;
  publish: (pubsubTopic: string, data: Uint8Array) => Promise<void>;
  keep: (m: ArchiveMessage) => void;
  rules: MessageRules;
  /** Stream opener for the cold fetch's store queries. */
  dialer: Pick<Libp2p, 'dialProtocol'>;
  /** A believed announcer: make it a store-peer candidate, and dial it when `dial`. */
  onAnnouncer: (peerId: string, addrs: string[], dial: boolean) => void;
  standing: (peerId: string) => Standing;
  isConnected: (peerId: string) => boolean;
  /** Connected peers that serve Store v3: asked for a newly kept community's announcements. */
  storePeers: () => string[];
  emit: (level: 'warning' | 'error', message: string) => void;
  intervalMs: number;
  queryTimeoutMs: number;
  /** Tests only: what this Keeper claims to hold, in place of what it attests (a liar). */
  claimHeld?: ((held: Interval[], span: Interval) => Interval[]) | undefined;
  now?: () => number;
}

/** How long announcements are kept: a cold start fetches the last hour; the community's month is not theirs to fill. */
export const ANNOUNCEMENT_RETENTION_MS = 2 * 3_600_000;

/** A kept community as announcements treat it: its Status entries as one, on the first entry's pubsub topic. */
function announcedCommunities(list: readonly Community[]): { c: AnnouncedCommunity; entry: Community }[] {
  const out = new Map<string, { c: AnnouncedCommunity; entry: Community }>();
  for (const entry of list) {
    const key = communityKey(entry);
    if (out.has(key)) continue;
    out.set(key, { c: { key, name: entry.name, pubsubTopic: entry.pubsubTopic, contentTopic: keepersContentTopic(entry) }, entry });
  }
  return [...out.values()];
}

export class AnnounceService {
  readonly tracker: AnnounceTracker;
  private readonly publisher: AnnouncePublisher;
  private readonly d: AnnounceServiceDeps;
  private readonly now: () => number;
  private readonly fetchedFrom = new Set<string>();
  private readonly dialledAt = new Map<string, number>();
  private entries = new Map<string, Community>();

  constructor(d: AnnounceServiceDeps) {
    this.d = d;
    this.now = d.now ?? Date.now;
    this.tracker = new AnnounceTracker({ selfId: d.selfId, now: this.now, rate: announceRate(d.intervalMs), onBelieved: (k) => this.believed(k) });
    this.refreshCommunities();
    this.publisher = new AnnouncePublisher({
      key: d.key,
      selfId: d.selfId,
      communities: () => this.tracker.list,
      describe: (c, span) => this.describe(c, span),
      publish: d.publish,
      keep: d.keep,
      rules: d.rules,
      onPublished: (c, a) => this.tracker.recordOwn(c.key, a),
      onError: (m) => d.emit('warning', m),
      intervalMs: d.intervalMs,
      now: this.now,
    });
  }

  start(): void {
    this.publisher.start();
  }

  stop(): Promise<void> {
    return this.publisher.stop();
  }

  /** The kept communities changed: track and announce exactly those, and fetch the new ones' recent announcements. */
  refreshCommunities(): void {
    const list = announcedCommunities(this.d.communities());
    const fresh = list.filter(({ c }) => !this.entries.has(c.key));
    this.entries = new Map(list.map(({ c, entry }) => [c.key, entry]));
    this.tracker.setCommunities(list.map(({ c }) => c));
    if (fresh.length === 0) return;
    this.fetchedFrom.clear();
    for (const id of this.d.storePeers().slice(0, COLD_FETCH_PEERS)) this.observe(id, true);
  }

  /** What this Keeper says changed (addresses, role): announce soon. */
  changed(): void {
    this.publisher.changed();
  }

  /** A message relay accepted: if it is on a keepers topic, check it (it is stored as any message, whatever the verdict). */
  onRelayed(pubsubTopic: string, data: Uint8Array, contentTopic: string | undefined): void {
    // Relay's intake read the content topic already: only an announcement is decoded again, for its payload.
    if (contentTopic === undefined) return;
    const c = this.tracker.communityOf(pubsubTopic, contentTopic);
    if (c === undefined) return;
    let m;
    try {
      m = decodeWakuMessage(data);
    } catch {
      return;
    }
    void this.tracker.ingest(c.key, m.payload, 'relay').catch((err: unknown) => this.d.emit('error', `checking an announcement failed: ${errorMessage(err)}`));
  }

  /** A peer identified: the first few store peers are asked for the last hour of announcements. */
  observe(peerId: string, servesStore: boolean): void {
    if (!servesStore || this.fetchedFrom.has(peerId) || this.fetchedFrom.size >= COLD_FETCH_PEERS) return;
    this.fetchedFrom.add(peerId);
    void this.coldFetch(peerId);
  }

  private async coldFetch(peerId: string): Promise<void> {
    for (const c of this.tracker.list) {
      try {
        const payloads = await fetchAnnouncements(this.d.dialer, peerIdFromString(peerId), c.pubsubTopic, c.contentTopic, this.now(), this.d.queryTimeoutMs);
        for (const p of payloads) await this.tracker.ingest(c.key, p, 'store');
      } catch (err) {
        // A peer that cannot answer is one of several; the next identified store peer is asked.
        this.fetchedFrom.delete(peerId);
        this.d.emit('warning', `cannot fetch announcements of ${c.name} from ${peerId.slice(-8)}: ${errorMessage(err)}`);
        return;
      }
    }
  }

  /** The retention limits of the announcements kept: per community, their own content topic, two hours. */
  retentionLimits(): { pubsubTopic: string; contentTopics: string[]; quotaBytes: null; retentionMs: number }[] {
    return announcedCommunities(this.d.communities()).map(({ c }) => ({ pubsubTopic: c.pubsubTopic, contentTopics: [c.contentTopic], quotaBytes: null, retentionMs: ANNOUNCEMENT_RETENTION_MS }));
  }

  /** The filler's hint for one peer on one pubsub topic (empty held: it claims nothing there, or lost standing). */
  claimsOf(peerId: string, pubsubTopic: string): PeerClaims {
    let held: Interval[] = [];
    let endorsed = false;
    let believedMs: number | null = null;
    if (this.d.standing(peerId).lost) return { held, endorsed, believedMs };
    for (const c of this.tracker.list) {
      const k = this.tracker.keepers(c.key).find((x) => x.announcement.peerId === peerId);
      if (k === undefined) continue;
      if (c.pubsubTopic === pubsubTopic && k.announcement.held.length > 0) {
        held = [...held, ...k.announcement.held];
        believedMs = Math.max(believedMs ?? 0, k.lastSeenMs);
      }
      if (this.tracker.endorsedIn(c.key).has(peerId)) endorsed = true;
    }
    return { held, endorsed, believedMs };
  }

  status(): CommunityAnnounceStatus[] {
    const now = this.now();
    const span = { start: now - ANNOUNCED_SPAN_MS, end: now };
    const length = span.end - span.start;
    // The map stops short of now: what others hold of the last minutes is only as new as their last announcement.
    const mapSpan = { start: span.start, end: now - Math.min(MAP_SETTLE_MS, 2 * this.d.intervalMs) };
    return this.tracker.list.map((c) => {
      const endorsed = this.tracker.endorsedIn(c.key);
      const keepers: AnnouncedKeeper[] = this.tracker
        .keepers(c.key)
        .map((k) => {
          const a = k.announcement;
          const standing = k.self ? { lost: false, reason: null } : this.d.standing(a.peerId);
          const held = clip(a.held, span);
          return {
            peerId: a.peerId,
            self: k.self,
            role: a.role,
            multiaddrs: k.addrs,
            enr: a.enr === '' ? null : a.enr,
            retentionMs: a.retentionMs,
            freeBytes: a.freeBytes,
            held: held.map((i) => ({ startMs: i.start, endMs: i.end })),
            heldShare: totalLength(held) / length,
            onlineShare: totalLength(clip(a.online, span)) / length,
            software: a.software,
            seq: a.seq,
            issuedMs: a.issuedMs,
            lastSeenMs: k.lastSeenMs,
            endorsedByOwner: a.role !== 'owner' && endorsed.has(a.peerId),
            standingLost: standing.lost,
            standingReason: standing.reason,
          };
        })
        .sort((a, b) => Number(b.self) - Number(a.self) || a.peerId.localeCompare(b.peerId));
      // Only Keepers with standing count toward the map: a found-out liar's claims hold nothing up.
      const map = coverageMap(keepers.filter((k) => !k.standingLost).map((k) => k.held.map((h) => ({ start: h.startMs, end: h.endMs }))), mapSpan);
      const counts = this.tracker.counts(c.key);
      const pub = this.publisher.countsOf(c.key);
      return {
        community: c.name,
        key: c.key,
        pubsubTopic: c.pubsubTopic,
        contentTopic: c.contentTopic,
        keepers,
        map,
        thinShare: thinShare(map, mapSpan),
        refused: counts.refused,
        accepted: counts.accepted,
        ...pub,
      };
    });
  }

  private describe(c: AnnouncedCommunity, span: Interval): SelfDescription {
    const entry = this.entries.get(c.key);
    if (entry === undefined) throw new Error(`${c.name} is no longer kept`);
    const own = this.d.describe(entry, span);
    const held = this.d.claimHeld === undefined ? own.held : this.d.claimHeld(own.held, span);
    // An owner vouches for every volunteer it believes and that has standing.
    const endorsed =
      own.role !== 'owner'
        ? []
        : this.tracker
            .keepers(c.key)
            .filter((k) => !k.self && k.announcement.role === 'volunteer' && !this.d.standing(k.announcement.peerId).lost)
            .map((k) => peerBytes(k.announcement.peerId))
            .filter((b): b is Uint8Array => b !== undefined);
    return { ...own, held, endorsed };
  }

  private believed(k: TrackedKeeper): void {
    const id = k.announcement.peerId;
    // One that gives no address and is not connected cannot be asked anything: it stays on the map only.
    if (k.addrs.length === 0 && !this.d.isConnected(id)) return;
    const now = this.now();
    const dial = k.addrs.length > 0 && !this.d.isConnected(id) && now - (this.dialledAt.get(id) ?? -Infinity) >= REDIAL_MS;
    if (dial) this.dialledAt.set(id, now);
    this.d.onAnnouncer(id, k.addrs, dial);
  }
}

/** A peer id string as its multihash bytes (what an endorsement carries); undefined when it is not base58. */
function peerBytes(id: string): Uint8Array | undefined {
  try {
    const bytes = base58Decode(id);
    return peerIdText(bytes) === id ? bytes : undefined;
  } catch {
    return undefined;
  }
}

