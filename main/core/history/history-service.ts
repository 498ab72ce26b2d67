/**
 * The history side of one Keeper: uptime, the store peer registry, gap filling
 * and the consistency checks, created and started together, following the
 * runtime settings (new store peers, new topics and communities, storage),
 * summed up in the status's `history` part, and what this Keeper attests to
 * others that ask. Coverage is kept per scope (scope.ts): each kept community,
 * or each whole pubsub topic when no content topic is kept.
 */
import type { HistoryStatus, KeeperEvent } from '../../contract/contract.ts';
import type { Archive } from '../archive/archive.ts';
import type { ArchiveWriter } from '../archive/writer.ts';
import type { KeeperConfig } from '../settings/config.ts';
import type { RuntimeSettings, SettingsChange } from '../settings/runtime-settings.ts';
import { overallShares } from './completeness.ts';
import { ConsistencyChecker } from './consistency.ts';
import { verifiedHeld } from './completeness.ts';
import type { HistoryDeps } from './deps.ts';
import type { Libp2p } from '@libp2p/interface';
import { askCoverage } from '../coverage/client.ts';
import { storeQueryRaw } from '../store/client.ts';
import { GapFiller } from './filler.ts';
import { HistoryStore } from './history-store.ts';
import { KeptScopes } from './kept-scopes.ts';
import type { KeptScopeRecord } from './kept-scopes.ts';
import { scopeOf } from './scope.ts';
import type { Scope } from './scope.ts';
import { communityFigures, topicFigures } from './scope-figures.ts';
import type { FigureSources } from './scope-figures.ts';
import { clip, intersect, totalLength } from '../util/intervals.ts';
import type { Interval } from '../util/intervals.ts';
import { StorePeerRegistry } from './store-peers.ts';
import { UptimeTracker } from './uptime.ts';
import { parsePeerAddress } from '../util/peer-address.ts';
import type { SyncService } from '../sync/service.ts';

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
  /** Waku Sync, when on: the consistency check syncs with peers that speak it. */
  sync?: Pick<SyncService, 'syncWith' | 'counters'> | undefined;
}

type Timings = Pick<
  KeeperConfig,
  | 'fillQuorum'
  | 'heartbeatMs'
  | 'settleMs'
  | 'clockMarginMs'
  | 'fillIntervalMs'
  | 'checkIntervalMs'
  | 'maxFillPagesPerWindow'
  | 'storeSyncRangeMs'
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
  /** The scopes kept now, with their records: the one list uptime, filling, answers and figures go by. */
  private readonly scopes: KeptScopes;
  private started = false;
  /** Peers whose identify, last time, listed reconciliation. */
  private readonly syncPeers = new Set<string>();

  constructor(o: HistoryServiceOptions) {
    const config: Timings = o.settings.config;
    this.settings = o.settings;
    this.fillQuorum = config.fillQuorum;
    this.marginMs = config.clockMarginMs;
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
        const askedAtMs = Date.now();
        return askCoverage(o.dialer, id, this.peers.target(id), q, { signal, timeoutMs: o.queryTimeoutMs }).then((held) => {
          // An announcement that claimed more than the peer now attests is found out here.
          this.peers.checkClaim(peerId, q.pubsubTopic, q.range, held, askedAtMs);
          return held;
        });
      },
      topics: plan,
      rules: o.settings.rules,
      emit: o.emit,
    };
    this.scopes = new KeptScopes(this.store, o.archive, () => o.settings.plan, () => o.settings.retentionMs);
    this.scopes.sync();
    this.uptime = new UptimeTracker(this.store, () => this.scopes.list, o.isOnline, {
      heartbeatMs: config.heartbeatMs,
      onChange: (_topic, online) => {
        if (online) this.filler.onlineAgain();
      },
    });
    this.filler = new GapFiller(deps, {
      fillQuorum: config.fillQuorum,
      scopes: () => this.scopes.list,
      scopeHorizon: (scope) => this.scopes.horizonOf(scope.id),
      retentionMs: () => o.settings.retentionMs,
      quotaBytes: () => o.settings.quotaBytes,
      settleMs: config.settleMs,
      marginMs: config.clockMarginMs,
      intervalMs: config.fillIntervalMs,
      maxPagesPerWindow: config.maxFillPagesPerWindow,
      isOnline: o.isOnline,
    });
    const sync = o.sync;
    this.checker = new ConsistencyChecker(deps, {
      intervalMs: config.checkIntervalMs,
      settleMs: config.settleMs,
      isOnline: o.isOnline,
      sync:
        sync === undefined
          ? undefined
          : {
              service: sync,
              speaks: (peerId) => this.syncPeers.has(peerId),
              rangeMs: config.storeSyncRangeMs,
              windowStartMs: () => this.keptFromMs(),
            },
    });
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

  /**
   * A connected peer told us its protocols; a store peer that (re)appears may
   * answer what nobody could so far. `syncs`: it speaks Waku Sync's reconciliation.
   */
  observe(peerId: string, addrs: string[], servesStore: boolean, attests: boolean, syncs = false): void {
    if (syncs) this.syncPeers.add(peerId);
    else this.syncPeers.delete(peerId);
    if (this.peers.observe(peerId, addrs, servesStore, attests)) this.filler.trigger();
  }

  /**
   * A Keeper of a kept community announced itself: a store peer to ask, with
   * no --store-peer. One known already may now claim a stretch it was asked
   * before it said so: then it is asked again.
   */
  announced(peerId: string, addrs: string[]): void {
    const known = this.peers.get(peerId) !== undefined;
    this.peers.addAnnounced(peerId, addrs);
    if (known) this.filler.announcedBy(peerId);
    else this.filler.trigger();
  }

  /**
   * What this Keeper attests holding of `range` for a pubsub topic and content
   * topics: online (narrowed by the clock margin) and verified fills of the
   * kept scopes that contain the asked set, each inside its own settled
   * window. Nothing for content topics no kept scope holds all of (a whole
   * topic is asked with none, and held only while everything on it is kept).
   */
  attestable(pubsubTopic: string, contentTopics: readonly string[], range: Interval): Interval[] {
    const rules = { marginMs: this.marginMs };
    const held = this.scopes
      .containing({ pubsubTopic, contentTopics })
      .flatMap((k) => intersect(verifiedHeld(this.store.coverageOf(k), rules), [this.filler.windowOf(k)]));
    return intersect(held, [range]);
  }

  /** The scopes kept now, with their records. */
  get keptScopes(): readonly KeptScopeRecord[] {
    return this.scopes.list;
  }

  /** Follows the plan's scopes now (at start, and on every change of topics, communities or their storage). */
  syncScopes(now = Date.now()): void {
    this.scopes.sync(now);
    if (this.started) {
      this.uptime.beat();
      this.filler.trigger();
    }
  }

  /** A removed community's messages were deleted: what vouched for them goes (see KeptScopes.messagesDeleted). */
  messagesDeleted(deleted: Scope): void {
    this.scopes.messagesDeleted(deleted);
  }

  /** Where the kept window begins: the retention window's start, cut at the quota. What sync offers and accepts begins here. */
  keptFromMs(): number {
    return this.filler.window().start;
  }

  /** When this Keeper was online for a community (relaying its topic with a peer, since it was kept), inside `range`: what it announces. */
  onlineStretches(pubsubTopic: string, contentTopics: readonly string[], range: Interval): Interval[] {
    return clip(this.store.coverageOf(scopeOf(pubsubTopic, contentTopics)).filter((r) => r.kind === 'online'), range);
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
    const perScope = this.scopes.list.map((k) => ({ k, rows: this.store.coverageOf(k), window: this.filler.windowOf(k) }));
    const online = perScope.flatMap((c) => c.rows.filter((r) => r.kind === 'online'));
    const src: FigureSources = {
      rules: { marginMs: this.marginMs },
      noteOf: (id, gap) => this.filler.noteOf(id, gap),
      holdings: (k) => this.scopes.holdings(k),
      retentionOf: (k) => this.scopes.retentionOf(k),
      progressOf: (id) => this.filler.progressOf(id),
    };
    const topics = topicFigures(this.settings.plan.pubsubTopics, perScope, window.end, src);
    return {
      fillQuorum: this.fillQuorum,
      ...overallShares(topics),
      uptimeShare: totalLength(clip(online, window)) / Math.max(1, window.end - window.start),
      limitedByQuota: this.filler.limitedByQuota(),
      topics,
      communities: communityFigures(perScope, src),
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
