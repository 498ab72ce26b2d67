/**
 * This Keeper's side: one signed announcement per kept community, published
 * on the community's pubsub topic every few minutes (with jitter) and soon
 * after what it would say changes. Relay never hands a node its own message,
 * so each one is also stored through the archive writer (as the REST API's
 * publish does): it is served to a cold Keeper like any other message.
 */
import type { PrivateKey } from '@libp2p/interface';
import { proto_message } from '@waku/proto';
import type { ArchiveMessage } from '../message/message.ts';
import { decodeForArchive } from '../message/decode.ts';
import type { MessageRules } from '../message/validate.ts';
import { errorMessage } from '../util/errors.ts';
import type { Interval } from '../util/intervals.ts';
import { msToNs } from '../util/time.ts';
import { ANNOUNCE_VERSION, MAX_MULTIADDRS } from './codec.ts';
import type { Announcement } from './codec.ts';
import { signAnnouncement } from './announcement.ts';
import type { AnnouncedCommunity } from './tracker.ts';

export const DEFAULT_ANNOUNCE_INTERVAL_MS = 5 * 60_000;
/** Announcements are published at most this often (or the interval, when shorter), however often things change. */
export const MIN_ANNOUNCE_GAP_MS = 60_000;
/** The 30 days an announcement describes. */
export const ANNOUNCED_SPAN_MS = 30 * 24 * 60 * 60_000;

/** What this Keeper says of itself for one community, as the Keeper's parts know it. */
export type SelfDescription = Omit<Announcement, 'version' | 'peerId' | 'community' | 'seq' | 'issuedMs'>;

export interface PublisherDeps {
  key: PrivateKey;
  selfId: string;
  communities: () => AnnouncedCommunity[];
  describe: (c: AnnouncedCommunity, span: Interval) => SelfDescription;
  /** Publishes an encoded WakuMessage on relay; throws when relay cannot (no peers yet). */
  publish: (pubsubTopic: string, data: Uint8Array) => Promise<void>;
  /** The archive writer's door. */
  keep: (m: ArchiveMessage) => void;
  rules: MessageRules;
  onPublished: (c: AnnouncedCommunity, a: Announcement, bytes: number) => void;
  onError: (message: string) => void;
  intervalMs: number;
  now?: () => number;
}

interface Last {
  atMs: number;
  fingerprint: string;
  dueMs: number;
}

export interface PublishCounts {
  published: number;
  lastPublishedMs: number | null;
  lastBytes: number | null;
}

export class AnnouncePublisher {
  private readonly d: PublisherDeps;
  private readonly now: () => number;
  private readonly last = new Map<string, Last>();
  private readonly counts = new Map<string, PublishCounts>();
  private seq = 0;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(d: PublisherDeps) {
    this.d = d;
    this.now = d.now ?? Date.now;
  }

  start(): void {
    this.schedule(1_000);
  }

  stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    return this.running ?? Promise.resolve();
  }

  /** Something this Keeper says changed (addresses, role, communities): check soon. */
  changed(): void {
    if (!this.stopped) this.schedule(500);
  }

  countsOf(key: string): PublishCounts {
    return { ...(this.counts.get(key) ?? { published: 0, lastPublishedMs: null, lastBytes: null }) };
  }

  /** One round: publishes for each community that is due or whose description changed. */
  async tick(): Promise<void> {
    const now = this.now();
    const span = { start: now - ANNOUNCED_SPAN_MS, end: now };
    for (const c of this.d.communities()) {
      if (this.stopped) return;
      const desc = this.d.describe(c, span);
      const fingerprint = fingerprintOf(desc);
      const last = this.last.get(c.key);
      const due = last === undefined || now >= last.dueMs || (last.fingerprint !== fingerprint && now - last.atMs >= Math.min(MIN_ANNOUNCE_GAP_MS, this.d.intervalMs));
      if (!due) continue;
      await this.publishOne(c, desc, fingerprint, now);
    }
  }

  private async publishOne(c: AnnouncedCommunity, desc: SelfDescription, fingerprint: string, now: number): Promise<void> {
    this.seq = Math.max(this.seq + 1, now);
    const a: Omit<Announcement, 'version'> = {
      peerId: this.d.selfId,
      community: c.key,
      ...desc,
      multiaddrs: desc.multiaddrs.slice(0, MAX_MULTIADDRS),
      seq: this.seq,
      issuedMs: now,
    };
    let payload: Uint8Array;
    try {
      payload = await signAnnouncement(this.d.key, a);
    } catch (err) {
      this.d.onError(`cannot sign the announcement for ${c.name}: ${errorMessage(err)}`);
      return;
    }
    const jitter = 0.8 + Math.random() * 0.4;
    this.last.set(c.key, { atMs: now, fingerprint, dueMs: now + this.d.intervalMs * jitter });
    const data = proto_message.WakuMessage.encode({ payload, contentTopic: c.contentTopic, version: 0, timestamp: msToNs(now) });
    const decoded = decodeForArchive(c.pubsubTopic, data, this.d.rules, msToNs(now));
    if (decoded.ok) this.d.keep(decoded.message);
    try {
      await this.d.publish(c.pubsubTopic, data);
    } catch {
      // No relay peer yet: it is stored and served, and goes out on the next round.
      const l = this.last.get(c.key);
      if (l !== undefined) l.dueMs = Math.min(l.dueMs, now + Math.min(this.d.intervalMs, MIN_ANNOUNCE_GAP_MS / 2));
    }
    const n = this.counts.get(c.key) ?? { published: 0, lastPublishedMs: null, lastBytes: null };
    this.counts.set(c.key, { published: n.published + 1, lastPublishedMs: now, lastBytes: payload.length });
    this.d.onPublished(c, { ...a, version: ANNOUNCE_VERSION }, payload.length);
  }

  private schedule(ms: number): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      if (this.running !== undefined) return this.schedule(1_000);
      this.running = this.tick()
        .catch((err: unknown) => this.d.onError(`announcing failed: ${errorMessage(err)}`))
        .finally(() => {
          this.running = undefined;
          if (!this.stopped) this.schedule(Math.min(15_000, this.d.intervalMs / 4));
        });
    }, ms);
    this.timer.unref();
  }
}

/**
 * What counts as a change: a stretch begun or lost, addresses, role, space
 * (to the MiB), endorsements. Stretches' ends count to 10 minutes: the held
 * stretch that grows every second while online is not news.
 */
function fingerprintOf(d: SelfDescription): string {
  const minutes = (l: Interval[]): string => l.map((i) => `${Math.round(i.start / 60_000)}-${Math.round(i.end / 600_000)}`).join(',');
  const hex = (l: Uint8Array[]): string => l.map((b) => Buffer.from(b).toString('hex')).join(',');
  return [hex(d.multiaddrs), d.enr, d.role, d.retentionMs, Math.round(d.freeBytes / 2 ** 20), minutes(d.held), hex(d.endorsed)].join('|');
}
