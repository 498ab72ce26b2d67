/**
 * The history side of one Keeper: uptime, the store peer registry, gap filling
 * and the consistency checks, created and started together, following the
 * runtime settings (new store peers, new topics, storage), summed up in the
 * status's `history` part, and what this Keeper attests to others that ask.
 */
import type { HistoryStatus, KeeperEvent } from '../../contract/contract.ts';
import type { Archive } from '../archive/archive.ts';
import type { ArchiveWriter } from '../archive/writer.ts';
import type { KeeperConfig } from '../settings/config.ts';
import type { RuntimeSettings, SettingsChange } from '../settings/runtime-settings.ts';
import { overallShares, topicHistory } from './completeness.ts';
import { ConsistencyChecker } from './consistency.ts';
import { verifiedHeld } from './completeness.ts';
import type { HistoryDeps } from './deps.ts';
import type { Libp2p } from '@libp2p/interface';
import { askCoverage } from '../coverage/client.ts';
import { storeQueryRaw } from '../store/client.ts';
import { GapFiller } from './filler.ts';
import { HistoryStore } from './history-store.ts';
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
        return askCoverage(o.dialer, id, this.peers.target(id), q, { signal, timeoutMs: o.queryTimeoutMs }).then((held) => {
          // An announcement that claimed more than the peer now attests is found out here.
          this.peers.checkClaim(peerId, q.pubsubTopic, q.range, held);
          return held;
        });
      },
      topics: plan,
      rules: o.settings.rules,
      emit: o.emit,
    };
    this.uptime = new UptimeTracker(this.store, () => plan.pubsubTopics, o.isOnline, {
      heartbeatMs: config.heartbeatMs,
      onChange: (_topic, online) => {
        if (online) this.filler.onlineAgain();
      },
    });
    this.filler = new GapFiller(deps, {
      fillQuorum: config.fillQuorum,
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

  /** A Keeper of a kept community announced itself: a store peer to ask, with no --store-peer. */
  announced(peerId: string, addrs: string[]): void {
    const known = this.peers.get(peerId) !== undefined;
    this.peers.addAnnounced(peerId, addrs);
    if (!known) this.filler.trigger();
  }

  /**
   * What this Keeper attests holding of `range`: online (narrowed by the clock
   * margin) and verified fills, inside the settled retention window. Nothing
   * for content topics it does not keep all of.
   */
  attestable(pubsubTopic: string, contentTopics: readonly string[], range: Interval): Interval[] {
    const plan = this.settings.plan;
    if (!plan.pubsubTopics.includes(pubsubTopic)) return [];
    const kept = plan.keptContentTopics;
    if (kept.length > 0 && (contentTopics.length === 0 || contentTopics.some((t) => !plan.keeps(t)))) return [];
    const held = verifiedHeld(this.store.coverage(pubsubTopic), { marginMs: this.marginMs });
    return intersect(held, intersect([range], [this.filler.window()]));
  }

  /** When this Keeper was online on `pubsubTopic` (relaying with a peer), inside `range`: what it announces. */
  onlineStretches(pubsubTopic: string, range: Interval): Interval[] {
    return clip(this.store.coverage(pubsubTopic).filter((r) => r.kind === 'online'), range);
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
    const coverage = this.settings.plan.pubsubTopics.map((t) => ({ topic: t, rows: this.store.coverage(t) }));
    const online = coverage.flatMap((c) => c.rows.filter((r) => r.kind === 'online'));
    const rules = { marginMs: this.marginMs };
    const topics = coverage.map(({ topic, rows }) => topicHistory(topic, rows, window, rules, (gap) => this.filler.noteOf(topic, gap)));
    return {
      fillQuorum: this.fillQuorum,
      ...overallShares(topics),
      uptimeShare: totalLength(clip(online, window)) / Math.max(1, window.end - window.start),
      limitedByQuota: this.filler.limitedByQuota(),
      topics,
      communities: [],
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
    } else if (change.kind === 'topics') {
      this.filler.trigger();
    }
  };
}
