/**
 * The history side of one Keeper: uptime, the store peer registry, gap filling
 * and the consistency checks, created and started together, following the
 * runtime settings (new store peers, new topics, storage), and summed up in
 * the status's `history` part.
 */
import type { HistoryStatus, KeeperEvent } from '../../contract/contract.ts';
import type { Archive } from '../archive/archive.ts';
import type { ArchiveWriter } from '../archive/writer.ts';
import type { KeeperConfig } from '../settings/config.ts';
import type { RuntimeSettings, SettingsChange } from '../settings/runtime-settings.ts';
import { overallShares, topicHistory } from './completeness.ts';
import { ConsistencyChecker } from './consistency.ts';
import type { HistoryDeps, PeerQueryFn } from './deps.ts';
import { GapFiller } from './filler.ts';
import { HistoryStore } from './history-store.ts';
import { clip, totalLength } from './intervals.ts';
import { StorePeerRegistry } from './store-peers.ts';
import { UptimeTracker } from './uptime.ts';
import { parsePeerAddress } from '../util/peer-address.ts';

export interface HistoryServiceOptions {
  archive: Archive;
  writer: ArchiveWriter;
  settings: RuntimeSettings;
  selfId: string;
  /** Asks a store peer one Store v3 request (by id when connected, else by its address). */
  query: PeerQueryFn;
  isConnected: (peerId: string) => boolean;
  /** Whether relay covers a topic now. */
  isOnline: (pubsubTopic: string) => boolean;
  emit: (e: KeeperEvent) => void;
}

type Timings = Pick<KeeperConfig, 'fillQuorum' | 'heartbeatMs' | 'settleMs' | 'fillIntervalMs' | 'checkIntervalMs' | 'maxFillPagesPerWindow'>;

export class HistoryService {
  readonly store: HistoryStore;
  readonly peers: StorePeerRegistry;
  private readonly settings: RuntimeSettings;
  private readonly uptime: UptimeTracker;
  private readonly filler: GapFiller;
  private readonly checker: ConsistencyChecker;
  private readonly fillQuorum: number;

  constructor(o: HistoryServiceOptions) {
    const config: Timings = o.settings.config;
    this.settings = o.settings;
    this.fillQuorum = config.fillQuorum;
    this.store = new HistoryStore(o.archive);
    this.peers = new StorePeerRegistry(this.store, o.selfId, { isConnected: o.isConnected });
    const plan = o.settings.plan;
    const deps: HistoryDeps = { archive: o.archive, writer: o.writer, history: this.store, peers: this.peers, query: o.query, topics: plan, emit: o.emit };
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

  /** A connected peer told us its protocols; a store peer we did not know may answer what nobody could so far. */
  observe(peerId: string, addrs: string[], servesStore: boolean): void {
    if (this.peers.observe(peerId, addrs, servesStore)) this.filler.trigger();
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
    const topics = coverage.map(({ topic, rows }) => topicHistory(topic, rows, window, (gap) => this.filler.noteOf(topic, gap)));
    return {
      fillQuorum: this.fillQuorum,
      ...overallShares(topics),
      uptimeShare: totalLength(clip(online, window)) / Math.max(1, window.end - window.start),
      limitedByQuota: this.filler.limitedByQuota(),
      topics,
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
