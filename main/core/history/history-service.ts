/**
 * The history side of one Keeper: uptime, the store peer registry, gap filling
 * and the consistency checks, created and started together, following the
 * runtime settings (new store peers, new topics and communities, storage),
 * summed up in the status's `history` part, and what this Keeper attests to
 * others that ask. Coverage is kept per scope (scope.ts): each kept community,
 * or each whole pubsub topic when no content topic is kept.
 */
import type { CommunityHistory, HistoryStatus, KeeperEvent, TopicHistory } from '../../contract/contract.ts';
import type { Archive } from '../archive/archive.ts';
import type { ArchiveWriter } from '../archive/writer.ts';
import type { KeeperConfig } from '../settings/config.ts';
import type { RuntimeSettings, SettingsChange } from '../settings/runtime-settings.ts';
import { commonCoverage, overallShares, topicHistory } from './completeness.ts';
import { ConsistencyChecker } from './consistency.ts';
import { verifiedHeld } from './completeness.ts';
import type { HistoryDeps } from './deps.ts';
import type { Libp2p } from '@libp2p/interface';
import { askCoverage } from '../coverage/client.ts';
import { storeQueryRaw } from '../store/client.ts';
import { GapFiller } from './filler.ts';
import { HistoryStore } from './history-store.ts';
import { contains, keptScopes, scopeOf } from './scope.ts';
import type { KeptScope, Scope } from './scope.ts';
import { nsToMs } from '../util/time.ts';
import { clip, intersect, totalLength } from '../util/intervals.ts';
import type { Interval } from '../util/intervals.ts';
import { StorePeerRegistry } from './store-peers.ts';
import { UptimeTracker } from './uptime.ts';
import { parsePeerAddress } from '../util/peer-address.ts';

export interface HistoryServiceOptions {
  archive: Archive;
  writer: ArchiveWriter;
  settings: RuntimeSettings;
  selfId: string;
  /** What opens streams to store peers (the node): Store v3 queries and coverage questions go out through it. */
  dialer: Pick<Libp2p, 'dialProtocol'>;
  /** How long one request to a peer may take before it counts as failed. */
  queryTimeoutMs: number;
  isConnected: (peerId: string) => boolean;
  /** Whether relay covers a topic now. */
  isOnline: (pubsubTopic: string) => boolean;
  emit: (e: KeeperEvent) => void;
}

/** A kept scope with its record: the id its coverage is under, and since when it is kept. */
export interface KeptScopeRecord extends KeptScope {
  id: number;
  keptSinceMs: number;
}

/** Share of a community's quota at which its oldest held message bounds its window (as the archive's). */
const QUOTA_FULL = 0.9;

type Timings = Pick<
  KeeperConfig,
  'fillQuorum' | 'heartbeatMs' | 'settleMs' | 'clockMarginMs' | 'fillIntervalMs' | 'checkIntervalMs' | 'maxFillPagesPerWindow'
>;

export class HistoryService {
  readonly store: HistoryStore;
  readonly peers: StorePeerRegistry;
  private readonly settings: RuntimeSettings;
  private readonly uptime: UptimeTracker;
  private readonly filler: GapFiller;
  private readonly checker: ConsistencyChecker;
  private readonly fillQuorum: number;
  private readonly marginMs: number;
  private readonly archive: Archive;
  /** The scopes kept now, with their records: the one list uptime, filling, answers and figures go by. */
  private kept: KeptScopeRecord[] = [];
  private started = false;

  constructor(o: HistoryServiceOptions) {
    const config: Timings = o.settings.config;
    this.settings = o.settings;
    this.fillQuorum = config.fillQuorum;
    this.marginMs = config.clockMarginMs;
    this.archive = o.archive;
    this.store = new HistoryStore(o.archive);
    this.peers = new StorePeerRegistry(this.store, o.selfId, { isConnected: o.isConnected });
    const plan = o.settings.plan;
    const deps: HistoryDeps = {
      archive: o.archive,
      writer: o.writer,
      history: this.store,
      peers: this.peers,
      // By id when connected, else by the address it was configured or seen with.
      query: (peerId, request, signal) =>
        storeQueryRaw(o.dialer, this.peers.target(this.peers.peerIdOf(peerId)), request, {
          signal,
          timeoutMs: o.queryTimeoutMs,
          maxMessageBytes: o.settings.rules.maxMessageBytes,
        }),
      attest: (peerId, q, signal) => {
        const id = this.peers.peerIdOf(peerId);
        return askCoverage(o.dialer, id, this.peers.target(id), q, { signal, timeoutMs: o.queryTimeoutMs });
      },
      topics: plan,
      rules: o.settings.rules,
      emit: o.emit,
    };
    this.syncScopes();
    this.uptime = new UptimeTracker(this.store, () => this.kept, o.isOnline, {
      heartbeatMs: config.heartbeatMs,
      onChange: (_topic, online) => {
        if (online) this.filler.onlineAgain();
      },
    });
    this.filler = new GapFiller(deps, {
      fillQuorum: config.fillQuorum,
      scopes: () => this.kept,
      scopeHorizon: (scope) => this.horizonOf(scope.id),
      retentionMs: () => o.settings.retentionMs,
      quotaBytes: () => o.settings.quotaBytes,
      settleMs: config.settleMs,
      marginMs: config.clockMarginMs,
      intervalMs: config.fillIntervalMs,
      maxPagesPerWindow: config.maxFillPagesPerWindow,
      isOnline: o.isOnline,
    });
    this.checker = new ConsistencyChecker(deps, { intervalMs: config.checkIntervalMs, settleMs: config.settleMs, isOnline: o.isOnline });
  }

  start(): void {
    for (const addr of this.settings.storePeers) this.peers.addStatic(parsePeerAddress(addr).peerId.toString(), addr);
    this.settings.on('change', this.onSettings);
    this.started = true;
    this.uptime.start();
    this.filler.start();
    this.checker.start();
  }

  /** Closes the open online intervals: call while relay still tells the truth about peers. */
  closeUptime(): void {
    this.uptime.stop();
  }

  async stop(): Promise<void> {
    this.settings.off('change', this.onSettings);
    this.uptime.stop();
    await Promise.all([this.filler.stop(), this.checker.stop()]);
  }

  /** A connected peer told us its protocols; a store peer that (re)appears may answer what nobody could so far. */
  observe(peerId: string, addrs: string[], servesStore: boolean, attests: boolean): void {
    if (this.peers.observe(peerId, addrs, servesStore, attests)) this.filler.trigger();
  }

  /**
   * What this Keeper attests holding of `range` for a pubsub topic and content
   * topics: online (narrowed by the clock margin) and verified fills of the
   * kept scopes that contain the asked set, each inside its own settled
   * window. Nothing for content topics no kept scope holds all of (a whole
   * topic is asked with none, and held only while everything on it is kept).
   */
  attestable(pubsubTopic: string, contentTopics: readonly string[], range: Interval): Interval[] {
    const asked = scopeOf(pubsubTopic, contentTopics);
    const rules = { marginMs: this.marginMs };
    const held = this.kept
      .filter((k) => contains(k, asked))
      .flatMap((k) => intersect(verifiedHeld(this.store.coverageOf(k), rules), [this.filler.windowOf(k)]));
    return intersect(held, [range]);
  }

  /** The scopes kept now, with their records. */
  get keptScopes(): readonly KeptScopeRecord[] {
    return this.kept;
  }

  /**
   * Follows the plan: records the scopes it keeps (a new one kept from now,
   * its past a gap unless a whole topic kept before vouches for it), settles
   * coverage recorded before scopes were, and forgets the communities no
   * longer kept — their scope and coverage go. Runs at start and on every
   * change of the relayed topics or communities.
   */
  syncScopes(now = Date.now()): void {
    const plan = this.settings.plan;
    const wanted = keptScopes({ pubsubTopics: plan.pubsubTopics, communities: plan.communities, baseContentTopics: plan.baseContentTopics });
    this.store.settleLegacy(wanted, now);
    this.kept = wanted.map((k) => {
      const r = this.store.ensureScope(k, k.name, now);
      return { ...k, id: r.id, keptSinceMs: r.keptSinceMs };
    });
    const keptIds = new Set(this.kept.map((k) => k.id));
    for (const r of this.store.scopes()) if (r.name !== null && !keptIds.has(r.id)) this.store.removeScope(r.id);
    if (this.started) {
      this.uptime.beat();
      this.filler.trigger();
    }
  }

  /**
   * A removed community's messages were deleted (the dashboard's "delete its
   * messages" choice): coverage of scopes no longer kept that contain it — a
   * whole topic kept before — vouched for them and no longer describes the
   * archive. Each kept scope it vouched for gets a copy of it first (their
   * messages are still held), then it goes; a community kept again later
   * starts with its past missing.
   */
  messagesDeleted(deleted: Scope): void {
    const target = scopeOf(deleted.pubsubTopic, deleted.contentTopics);
    const keptIds = new Set(this.kept.map((k) => k.id));
    for (const r of this.store.scopes()) {
      if (keptIds.has(r.id) || !contains(r, target)) continue;
      this.store.handDown(r.id, this.kept.filter((k) => contains(r, k)).map((k) => k.id));
    }
  }

  /**
   * When a kept scope's own history starts, if later than the archive's window:
   * its retention, and once it is (nearly) at its quota, its oldest message.
   */
  private horizonOf(scopeId: number, now = Date.now()): number | null {
    const k = this.kept.find((x) => x.id === scopeId);
    if (k === undefined) return null;
    let horizon: number | null = k.retentionMs === null ? null : now - Math.min(k.retentionMs, this.settings.retentionMs);
    if (k.quotaBytes !== null) {
      const held = this.archive.isOpen ? this.archive.contentStats(k.pubsubTopic, k.contentTopics) : { bytes: 0, oldest: null };
      if (held.bytes >= QUOTA_FULL * k.quotaBytes && held.oldest !== null) horizon = Math.max(horizon ?? -Infinity, nsToMs(held.oldest));
    }
    return horizon;
  }

  /** Runs a gap-filling pass now; resolves when it is done. */
  async fillNow(): Promise<void> {
    this.filler.trigger();
    await this.filler.idle();
  }

  /** Forgets coverage that fell out of the retention window. */
  prune(): void {
    this.store.prune(Date.now() - this.settings.retentionMs);
  }

  status(): HistoryStatus {
    const window = this.filler.window();
    const rules = { marginMs: this.marginMs };
    const perScope = this.kept.map((k) => ({ k, rows: this.store.coverageOf(k), window: this.filler.windowOf(k) }));
    const online = perScope.flatMap((c) => c.rows.filter((r) => r.kind === 'online'));
    // A topic holds what every scope kept on it holds; a relayed topic with no scope of its own keeps nothing to claim.
    const topics: TopicHistory[] = this.settings.plan.pubsubTopics.flatMap((topic) => {
      const on = perScope.filter((c) => c.k.pubsubTopic === topic);
      if (on.length === 0) return [];
      const start = Math.max(...on.map((c) => c.window.start));
      const rows = commonCoverage(on.map((c) => c.rows), rules);
      const noteOf = (gap: Interval) => on.map((c) => this.filler.noteOf(c.k.id, gap)).find((n) => n !== undefined);
      return [topicHistory(topic, rows, { start: Math.min(start, window.end), end: window.end }, rules, noteOf)];
    });
    const communities: CommunityHistory[] = perScope
      .filter((c) => c.k.name !== null)
      .map(({ k, rows, window: w }) => {
        const held = this.archive.isOpen ? this.archive.contentStats(k.pubsubTopic, k.contentTopics) : { messages: 0, bytes: 0, oldest: null };
        return {
          ...topicHistory(k.pubsubTopic, rows, w, rules, (gap) => this.filler.noteOf(k.id, gap)),
          name: k.name ?? '',
          contentTopics: [...k.contentTopics],
          keptSinceMs: k.keptSinceMs,
          storage: {
            messages: held.messages,
            bytes: held.bytes,
            quotaBytes: k.quotaBytes,
            retentionMs: Math.min(k.retentionMs ?? Infinity, this.settings.retentionMs),
            oldestMs: held.oldest === null ? null : nsToMs(held.oldest),
            limitedByQuota: k.quotaBytes !== null && held.bytes >= QUOTA_FULL * k.quotaBytes,
          },
          fill: this.filler.progressOf(k.id),
        };
      });
    return {
      fillQuorum: this.fillQuorum,
      ...overallShares(topics),
      uptimeShare: totalLength(clip(online, window)) / Math.max(1, window.end - window.start),
      limitedByQuota: this.filler.limitedByQuota(),
      topics,
      communities,
      storePeers: this.peers.status(),
      fill: this.filler.status(),
      consistency: this.checker.status(),
    };
  }


  private readonly onSettings = (change: SettingsChange): void => {
    if (change.kind === 'store-peer-added') {
      this.peers.addStatic(change.peer.peerId.toString(), change.peer.addr.toString());
      this.filler.trigger();
    } else if (change.kind === 'store-peer-removed') {
      this.peers.remove(change.peerId);
    } else if (change.kind !== 'role') {
      // Topics, communities and their own quotas and retention all live in the plan (whatever the change is called).
      this.syncScopes();
    }
  };
}
