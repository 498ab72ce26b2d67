/**
 * One Keeper = one data dir: the archive, the libp2p node with relay and the
 * Store v3 server, retention, and the local API, started and stopped together.
 * Data flows one way: relay → validation → archive → store server and status.
 */
import { TopicValidatorResult } from '@libp2p/interface';
import type { Connection, PeerId } from '@libp2p/interface';
import { mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { EventEmitter } from 'node:events';
import { Archive } from './archive/archive.ts';
import { decodeForArchive, Ingestor } from './archive/ingest.ts';
import { AgeRetention, QuotaRetention, applyRetention } from './archive/retention.ts';
import { nowNs } from './archive/validate.ts';
import type { RejectReason } from './archive/validate.ts';
import { ApiServer } from './api/http.ts';
import type { ApiResult, Community, KeeperCommands, KeeperEvent, KeeperStatus, LogEntry, NodeState, PeerStatus, Role, SetupInput, StorageInput } from './api/contract.ts';
import { KeeperMetrics } from './api/metrics.ts';
import { loadOrCreateToken } from './api/token.ts';
import type { KeeperConfig } from './config.ts';
import { ConfigError, DEFAULT_API, DEFAULT_LISTEN } from './config.ts';
import { TopicPlan } from './communities.ts';
import { loadSettings, saveSettings } from './settings.ts';
import type { Settings } from './settings.ts';
import { Connector, parsePeerAddress } from './node/connector.ts';
import { loadOrCreateIdentity } from './node/identity.ts';
import { createKeeperLibp2p } from './node/libp2p.ts';
import type { KeeperLibp2p } from './node/libp2p.ts';
import { RELAY_CODEC } from './node/relay.ts';
import { ARCHIVE_FILE } from './paths.ts';
import { STORE_CODEC } from './store/codec.ts';
import { StoreServer } from './store/server.ts';
import { parseShardTopic } from './topics.ts';
import type { ArchiveMessage } from './archive/archive.ts';
import type { HistoryStatus } from './api/contract.ts';
import { topicHistory } from './history/completeness.ts';
import { clip, totalLength } from './history/intervals.ts';
import { ConsistencyChecker } from './history/consistency.ts';
import { GapFiller } from './history/filler.ts';
import type { HistoryDeps } from './history/filler.ts';
import { HistoryStore } from './history/history-store.ts';
import { StorePeerRegistry } from './history/store-peers.ts';
import { UptimeTracker } from './history/uptime.ts';
import { storeQuery } from './store/client.ts';
import { peerIdFromString } from '@libp2p/peer-id';
import type { IdentifyResult } from '@libp2p/interface';
import { VERSION } from './version.ts';
import { ProcessStats } from './process-stats.ts';

const STOP_TIMEOUT_MS = 10_000;
/** Share of the quota at which the archive counts as full for gap filling. */
const QUOTA_FULL = 0.9;

export interface KeeperEvents {
  event: [KeeperEvent];
}

/** Hooks for tests only: nothing in the app sets them. */
export interface KeeperTestHooks {
  /** Relay the message but do not store it, as if relay had lost it. */
  dropRelayMessage?: (message: ArchiveMessage) => boolean;
  /** Hands over the archive's database connection, to simulate a full disk (PRAGMA max_page_count). */
  archiveConnection?: (db: import('better-sqlite3').Database) => void;
}

export interface KeeperStartOptions {
  onEvent?: (e: KeeperEvent) => void;
  testHooks?: KeeperTestHooks;
}

/** A command refused for a reason other than bad input. */
class CommandError extends Error {
  readonly code: 'not-found' | 'conflict' | 'unavailable';
  constructor(code: 'not-found' | 'conflict' | 'unavailable', message: string) {
    super(message);
    this.code = code;
  }
}

const LOG_SIZE = 500;

export class Keeper extends EventEmitter<KeeperEvents> implements KeeperCommands {
  readonly config: KeeperConfig;
  private readonly archive: Archive;
  private readonly node: KeeperLibp2p;
  private readonly storeServer: StoreServer;
  private readonly ingestor: Ingestor;
  private readonly connector: Connector;
  private readonly api: ApiServer;
  private readonly token: string;
  private readonly metrics = new KeeperMetrics();
  private readonly processStats = new ProcessStats();
  private readonly history: HistoryStore;
  private readonly storePeers: StorePeerRegistry;
  private readonly uptime: UptimeTracker;
  private readonly filler: GapFiller;
  private readonly checker: ConsistencyChecker;
  private readonly testHooks: KeeperTestHooks;
  private readonly plan: TopicPlan;
  private settings: Settings;
  private readonly log: LogEntry[] = [];
  private readonly staticPeerIds: Set<string>;
  private readonly startedAtMs = Date.now();
  private readonly retentionAbort = new AbortController();
  private retentionTimer: NodeJS.Timeout | undefined;
  private retentionRun: Promise<unknown> = Promise.resolve();
  private state: NodeState = 'starting';
  private archiveError: string | null = null;
  private stopping: Promise<void> | undefined;
  /** Stored messages per second over the last minute: a ring of 60 one-second buckets. */
  private readonly perSecond = new Array<number>(60).fill(0);
  private perSecondAt = Math.floor(Date.now() / 1000);
  private readonly counters = {
    received: 0,
    stored: 0,
    duplicates: 0,
    notKept: 0,
    /** Valid messages that could not be written (disk full, I/O error). */
    unwritable: 0,
    rejected: {} as Partial<Record<RejectReason, number>>,
    storeRequests: {} as Record<string, number>,
  };

  private constructor(
    config: KeeperConfig,
    settings: Settings,
    plan: TopicPlan,
    archive: Archive,
    node: KeeperLibp2p,
    token: string,
    testHooks: KeeperTestHooks,
  ) {
    super();
    this.testHooks = testHooks;
    testHooks.archiveConnection?.(archive.connection);
    this.settings = settings;
    this.plan = plan;
    this.config = config;
    this.archive = archive;
    this.node = node;
    this.token = token;
    const storePeerAddrs = [...new Set([...config.storePeers, ...settings.storePeers])];
    const staticPeers = [...config.peers, ...storePeerAddrs].map(parsePeerAddress);
    this.staticPeerIds = new Set(staticPeers.map((p) => p.peerId.toString()));
    this.ingestor = new Ingestor(archive, {
      onInserted: (inserted, batch) => {
        this.countStored(inserted);
        this.counters.duplicates += batch.length - inserted;
        if (this.archiveError !== null) this.emitEvent({ event: 'warning', message: 'the archive can be written again' });
        this.archiveError = null;
      },
      onError: (err, batch) => {
        const message = err instanceof Error ? err.message : String(err);
        // Said once when writing starts failing (disk full, I/O error), not once a batch.
        if (this.archiveError === null) this.emitEvent({ event: 'error', message: `the archive cannot be written (${message}): ${batch.length} messages not stored; gap filling will fetch what is missed once it can` });
        this.archiveError = message;
        this.counters.unwritable += batch.length;
      },
    });
    this.storeServer = new StoreServer(archive, {
      rateLimit: config.storeRateLimit,
      idleTimeoutMs: config.storeIdleTimeoutMs,
      onServed: (s) => {
        const key = String(s.status);
        this.counters.storeRequests[key] = (this.counters.storeRequests[key] ?? 0) + 1;
      },
    });
    this.connector = new Connector(node, {
      staticPeers,
      onDialError: (peer, err) => {
        if (this.staticPeerIds.has(peer)) this.emitEvent({ event: 'warning', message: `cannot reach peer ${peer}: ${errorMessage(err)}` });
      },
    });
    this.history = new HistoryStore(archive);
    this.storePeers = new StorePeerRegistry(this.history, node.peerId.toString(), {
      isConnected: (id) => node.getConnections().some((c) => c.remotePeer.toString() === id && c.status === 'open'),
    });
    for (const addr of storePeerAddrs) this.storePeers.addStatic(parsePeerAddress(addr).peerId.toString(), addr);
    const isOnline = (topic: string): boolean => this.state !== 'stopping' && node.services.relay.getSubscribers(topic).length > 0;
    this.uptime = new UptimeTracker(this.history, plan.pubsubTopics, isOnline, {
      heartbeatMs: config.heartbeatMs,
      onChange: (_topic, online) => {
        if (online) this.filler.trigger();
      },
    });
    const historyDeps: HistoryDeps = {
      archive,
      history: this.history,
      peers: this.storePeers,
      query: (peerId, request, signal) =>
        storeQuery(node, this.storePeers.target(peerIdFromString(peerId)), request, { signal, timeoutMs: config.storeQueryTimeoutMs }),
      pubsubTopics: plan.pubsubTopics,
      keep: (t) => plan.keeps(t),
      emit: (e) => this.emitEvent(e),
      onStored: (n) => this.countStored(n),
    };
    this.filler = new GapFiller(historyDeps, {
      fillQuorum: config.fillQuorum,
      retentionMs: config.retentionMs,
      settleMs: config.settleMs,
      intervalMs: config.fillIntervalMs,
      maxPagesPerWindow: config.maxFillPagesPerWindow,
      isOnline,
      quotaHorizon: () => this.quotaHorizon(),
    });
    this.checker = new ConsistencyChecker(historyDeps, {
      intervalMs: config.checkIntervalMs,
      settleMs: config.settleMs,
      contentTopics: () => plan.keptContentTopics,
      isOnline,
    });
    this.api = new ApiServer(
      {
        commands: this,
        metrics: async () => ({ contentType: this.metrics.contentType, body: await this.metrics.render(await this.status()) }),
        subscribe: (onLog) => this.subscribeLog(onLog),
      },
      token,
      config.rendererDir,
    );
  }

  /** Opens the data dir and brings the node up; resolves once it serves and relays. */
  static async start(config: KeeperConfig, opts: KeeperStartOptions = {}): Promise<Keeper> {
    mkdirSync(config.dataDir, { recursive: true });
    const settings = loadSettings(config.dataDir);
    if (settings.quotaBytes !== undefined && !config.explicit.includes('quotaBytes')) config.quotaBytes = settings.quotaBytes;
    if (settings.retentionMs !== undefined && !config.explicit.includes('retentionMs')) config.retentionMs = settings.retentionMs;
    const plan = new TopicPlan(config.clusterId, config.pubsubTopics, config.contentTopics, settings.communities);
    const archivePath = join(config.dataDir, ARCHIVE_FILE);
    let archive: Archive;
    try {
      archive = Archive.open(archivePath);
    } catch (err) {
      throw new Error(`cannot open the archive ${archivePath}: ${errorMessage(err)}`);
    }
    let keeper: Keeper | undefined;
    let node: KeeperLibp2p | undefined;
    try {
      const privateKey = await loadOrCreateIdentity(config.dataDir);
      const token = loadOrCreateToken(config.dataDir);
      const listen = config.listen ?? (await defaultListenAddresses());
      const shards = plan.pubsubTopics.map((t) => parseShardTopic(t)?.shard).filter((s): s is number => s !== undefined);
      node = await createKeeperLibp2p({
        privateKey,
        listen,
        clusterId: config.clusterId,
        shards,
        discovery: config.discovery,
        onDiscoveryError: (err) => keeper?.emitEvent({ event: 'warning', message: `peer discovery failed: ${errorMessage(err)}` }),
      });
      keeper = new Keeper(config, settings, plan, archive, node, token, opts.testHooks ?? {});
      if (opts.onEvent) keeper.on('event', opts.onEvent);
      await keeper.bringUp();
      return keeper;
    } catch (err) {
      await Promise.resolve(node?.stop()).catch(() => undefined);
      archive.close();
      throw err;
    }
  }

  private async bringUp(): Promise<void> {
    const node = this.node;
    await this.storeServer.start(node);
    const relay = node.services.relay;
    for (const topic of this.plan.pubsubTopics) {
      relay.topicValidators.set(topic, (_peer, msg) => this.onRelayMessage(topic, msg.data));
    }
    node.addEventListener('peer:connect', this.onPeerConnect);
    node.addEventListener('peer:disconnect', this.onPeerDisconnect);
    node.addEventListener('peer:identify', this.onPeerIdentify);
    await node.start();
    for (const topic of this.plan.pubsubTopics) relay.subscribe(topic);
    await this.connector.start();
    const fallback = this.config.api.host === DEFAULT_API.host && this.config.api.port === DEFAULT_API.port;
    await this.api.listen({ ...this.config.api, fallbackToFreePort: fallback });
    this.state = this.relayPeerCount() > 0 ? 'online' : 'offline';
    this.scheduleRetention(0);
    this.processStats.start();
    this.uptime.start();
    this.filler.start();
    this.checker.start();
    this.emitEvent({
      event: 'ready',
      peerId: node.peerId.toString(),
      multiaddrs: this.multiaddrs(),
      api: this.api.url,
      dashboard: `${this.api.url}/#token=${this.token}`,
    });
  }

  get peerId(): PeerId {
    return this.node.peerId;
  }

  /** The libp2p node, for tests and the history layer. */
  get libp2p(): KeeperLibp2p {
    return this.node;
  }

  get apiUrl(): string {
    return this.api.url;
  }

  multiaddrs(): string[] {
    return this.node.getMultiaddrs().map((a) => a.toString());
  }

  // ---- relay → archive ------------------------------------------------------

  /**
   * The relay path: what gossipsub's validator calls for each message on a
   * relayed topic (and what the ingest benchmarks drive directly). Accept means
   * relay it on; the message is archived if it is valid and its content topic kept.
   */
  acceptRelayMessage(pubsubTopic: string, data: Uint8Array): TopicValidatorResult {
    return this.onRelayMessage(pubsubTopic, data);
  }

  private onRelayMessage(pubsubTopic: string, data: Uint8Array): TopicValidatorResult {
    this.counters.received++;
    const decoded = decodeForArchive(pubsubTopic, data, { nowNs: nowNs() });
    if (!decoded.ok) {
      // Ephemeral messages are valid traffic: relay them, keep nothing.
      if (decoded.reason === 'ephemeral') return TopicValidatorResult.Accept;
      this.counters.rejected[decoded.reason] = (this.counters.rejected[decoded.reason] ?? 0) + 1;
      return TopicValidatorResult.Reject;
    }
    if (!this.plan.keeps(decoded.message.contentTopic)) {
      this.counters.notKept++;
      return TopicValidatorResult.Accept;
    }
    if (this.testHooks.dropRelayMessage?.(decoded.message) === true) return TopicValidatorResult.Accept;
    this.ingestor.push(decoded.message);
    return TopicValidatorResult.Accept;
  }

  // ---- peers ------------------------------------------------------------------

  private readonly onPeerConnect = (evt: CustomEvent<PeerId>): void => {
    this.emitEvent({ event: 'peer:connect', peerId: evt.detail.toString() });
  };

  private readonly onPeerDisconnect = (evt: CustomEvent<PeerId>): void => {
    this.emitEvent({ event: 'peer:disconnect', peerId: evt.detail.toString() });
  };

  private readonly onPeerIdentify = (evt: CustomEvent<IdentifyResult>): void => {
    const { peerId, protocols, connection } = evt.detail;
    const isNew = this.storePeers.observe(peerId.toString(), [connection.remoteAddr.toString()], protocols.includes(STORE_CODEC));
    // A store peer we did not know may answer what nobody could so far.
    if (isNew) this.filler.trigger();
  };

  /**
   * When the archive is (nearly) at its quota, the time of its oldest message:
   * history older than that was let go for space and is not fetched again.
   */
  private quotaHorizon(): number | null {
    if (!this.archive.isOpen || this.archive.usedBytes() < QUOTA_FULL * this.config.quotaBytes) return null;
    const oldest = this.archive.stats().oldest;
    return oldest === null ? null : Number(oldest / 1_000_000n);
  }

  private historyStatus(): HistoryStatus {
    const window = this.filler.window();
    const coverage = this.plan.pubsubTopics.map((t) => ({ topic: t, rows: this.history.coverage(t) }));
    const online = coverage.flatMap((c) => c.rows.filter((r) => r.kind === 'online'));
    return {
      fillQuorum: this.config.fillQuorum,
      uptimeShare: totalLength(clip(online, window)) / Math.max(1, window.end - window.start),
      limitedByQuota: window.start > Date.now() - this.config.retentionMs,
      topics: coverage.map(({ topic, rows }) => topicHistory(topic, rows, window, (gap) => this.filler.noteOf(topic, gap))),
      storePeers: this.storePeers.status(),
      fill: this.filler.status(),
      consistency: this.checker.status(),
    };
  }

  private countStored(n: number): void {
    this.counters.stored += n;
    this.rollSeconds();
    this.perSecond[this.perSecondAt % 60] = (this.perSecond[this.perSecondAt % 60] ?? 0) + n;
  }

  private storedLastMinute(): number {
    this.rollSeconds();
    return this.perSecond.reduce((a, b) => a + b, 0);
  }

  /** Clears the buckets of the seconds that passed since the last count. */
  private rollSeconds(): void {
    const now = Math.floor(Date.now() / 1000);
    for (let t = this.perSecondAt + 1; t <= Math.min(now, this.perSecondAt + 60); t++) this.perSecond[t % 60] = 0;
    this.perSecondAt = Math.max(this.perSecondAt, now);
  }

  private relayPeerCount(): number {
    const relay = this.node.services.relay;
    const peers = new Set<string>();
    for (const t of this.plan.pubsubTopics) for (const p of relay.getSubscribers(t)) peers.add(p.toString());
    return peers.size;
  }

  private async peerStatuses(): Promise<PeerStatus[]> {
    const byPeer = new Map<string, Connection[]>();
    for (const c of this.node.getConnections()) {
      const key = c.remotePeer.toString();
      byPeer.set(key, [...(byPeer.get(key) ?? []), c]);
    }
    const relay = this.node.services.relay;
    const relayPeers = new Set<string>();
    for (const t of this.plan.pubsubTopics) for (const p of relay.getSubscribers(t)) relayPeers.add(p.toString());
    const shards = this.node.services.metadata.peers;
    const out: PeerStatus[] = [];
    for (const [id, conns] of byPeer) {
      const first = conns[0];
      if (first === undefined) continue;
      const peer = await this.node.peerStore.get(first.remotePeer).catch(() => undefined);
      const protocols = peer?.protocols ?? [];
      const agent = peer?.metadata.get('AgentVersion');
      const meta = shards.get(id);
      out.push({
        peerId: id,
        addrs: conns.map((c) => c.remoteAddr.toString()),
        protocols,
        direction: first.direction,
        relay: relayPeers.has(id) || protocols.includes(RELAY_CODEC),
        store: protocols.includes(STORE_CODEC),
        static: this.staticPeerIds.has(id),
        agent: agent === undefined ? null : new TextDecoder().decode(agent),
        clusterId: meta?.clusterId ?? null,
        shards: meta?.shards ?? [],
      });
    }
    return out.sort((a, b) => a.peerId.localeCompare(b.peerId));
  }

  // ---- status -------------------------------------------------------------------

  async status(): Promise<KeeperStatus> {
    if (this.state === 'online' || this.state === 'offline') {
      this.state = this.relayPeerCount() > 0 ? 'online' : 'offline';
    }
    const stats = this.archive.isOpen ? this.archive.stats() : undefined;
    const relay = this.node.services.relay;
    const byTopic = new Map(stats?.topics.map((t) => [t.pubsubTopic, t]));
    return {
      version: VERSION,
      state: this.state,
      peerId: this.node.peerId.toString(),
      multiaddrs: this.multiaddrs(),
      startedAtMs: this.startedAtMs,
      clusterId: this.config.clusterId,
      pubsubTopics: [...this.plan.pubsubTopics],
      contentTopics: this.plan.keptContentTopics,
      peers: await this.peerStatuses(),
      topics: this.plan.pubsubTopics.map((pubsubTopic) => {
        const t = byTopic.get(pubsubTopic);
        return {
          pubsubTopic,
          messages: t?.messages ?? 0,
          bytes: t?.bytes ?? 0,
          oldestMs: nsToMs(t?.oldest ?? null),
          newestMs: nsToMs(t?.newest ?? null),
          relayPeers: relay.getSubscribers(pubsubTopic).length,
        };
      }),
      archive: {
        path: this.archive.path,
        messages: stats?.messages ?? 0,
        bytes: stats?.usedBytes ?? 0,
        quotaBytes: this.config.quotaBytes,
        retentionMs: this.config.retentionMs,
        oldestMs: nsToMs(stats?.oldest ?? null),
        newestMs: nsToMs(stats?.newest ?? null),
        error: this.archiveError,
      },
      ingest: {
        received: this.counters.received,
        stored: this.counters.stored,
        duplicates: this.counters.duplicates,
        notKept: this.counters.notKept,
        unwritable: this.counters.unwritable,
        lastMinute: this.storedLastMinute(),
        rejected: { ...this.counters.rejected },
      },
      store: { requests: { ...this.counters.storeRequests } },
      history: this.archive.isOpen ? this.historyStatus() : emptyHistory(this.config.fillQuorum),
      settings: {
        role: this.settings.role,
        setupNeeded: this.settings.role === null,
        communities: this.plan.communities,
        storePeers: this.storePeers
          .status()
          .filter((p) => p.source === 'static')
          .map((p) => p.addrs[0] ?? p.peerId),
      },
      process: this.processStats.snapshot(),
    };
  }

  // ---- retention ----------------------------------------------------------------

  private scheduleRetention(delayMs: number): void {
    clearTimeout(this.retentionTimer);
    this.retentionTimer = setTimeout(() => {
      this.retentionRun = this.runRetention().finally(() => {
        if (this.state !== 'stopping') this.scheduleRetention(this.config.retentionIntervalMs);
      });
    }, delayMs);
    this.retentionTimer.unref();
  }

  /** Applies retention by age, then by quota. Runs at start and every retention interval. */
  async runRetention(): Promise<void> {
    try {
      const result = await applyRetention(
        this.archive,
        [new AgeRetention(this.config.retentionMs), new QuotaRetention(this.config.quotaBytes)],
        this.retentionAbort.signal,
      );
      if (this.archive.isOpen) this.history.prune(Date.now() - this.config.retentionMs);
      for (const [policy, d] of Object.entries(result)) {
        if (d.messages > 0) this.emitEvent({ event: 'retention', policy, messages: d.messages, bytes: d.bytes });
      }
    } catch (err) {
      this.emitEvent({ event: 'error', message: `retention failed: ${errorMessage(err)}` });
    }
  }

  // ---- stop -----------------------------------------------------------------------

  /** Stops everything within a bounded time; the archive is flushed and closed last. */
  stop(reason = 'stop requested'): Promise<void> {
    this.stopping ??= this.shutdown(reason);
    return this.stopping;
  }

  private async shutdown(reason: string): Promise<void> {
    // Uptime closes its intervals while relay still tells the truth about peers.
    this.uptime.stop();
    this.processStats.stop();
    this.state = 'stopping';
    this.emitEvent({ event: 'stopping', reason });
    await Promise.race([Promise.all([this.filler.stop(), this.checker.stop()]), delay(STOP_TIMEOUT_MS)]);
    clearTimeout(this.retentionTimer);
    this.retentionAbort.abort();
    this.connector.stop();
    this.storeServer.available = false;
    await this.api.close().catch(() => undefined);
    const stopNode = (async () => {
      await this.storeServer.stop();
      await this.node.stop();
    })();
    await Promise.race([stopNode.catch(() => undefined), delay(STOP_TIMEOUT_MS)]);
    await Promise.race([this.retentionRun, delay(STOP_TIMEOUT_MS)]);
    this.ingestor.flush();
    this.archive.close();
    this.emitEvent({ event: 'stopped' });
  }

  private emitEvent(e: KeeperEvent): void {
    const level = e.event === 'error' ? 'error' : e.event === 'warning' ? 'warning' : 'info';
    // The kept log is shown and served: the dashboard link's token stays out of it.
    const kept = e.event === 'ready' ? { ...e, dashboard: e.dashboard.replace(/#token=.*/, '#token=…') } : e;
    this.log.push({ atMs: Date.now(), level, event: kept });
    if (this.log.length > LOG_SIZE) this.log.splice(0, this.log.length - LOG_SIZE);
    this.emit('event', e);
  }

  /** The latest log entries, oldest first. */
  recentLog(): LogEntry[] {
    return [...this.log];
  }

  /** Calls `onLog` with each new log entry; returns the function that stops it. */
  subscribeLog(onLog: (entry: LogEntry) => void): () => void {
    const listener = (): void => {
      const last = this.log[this.log.length - 1];
      if (last !== undefined) onLog(last);
    };
    this.on('event', listener);
    return () => this.off('event', listener);
  }

  // ---- commands (the dashboard's API; each answers with a result, never a throw) ----

  private async run<T>(fn: () => T | Promise<T>): Promise<ApiResult<T>> {
    if (this.state === 'stopping') return { ok: false, error: { code: 'unavailable', message: 'the node is stopping' } };
    try {
      return { ok: true, value: await fn() };
    } catch (err) {
      if (err instanceof ConfigError) return { ok: false, error: { code: 'invalid', field: err.field, message: err.message } };
      if (err instanceof CommandError) return { ok: false, error: { code: err.code, message: err.message } };
      return { ok: false, error: { code: 'internal', message: errorMessage(err) } };
    }
  }

  private persist(change: (s: Settings) => void): void {
    const next = structuredClone(this.settings);
    change(next);
    saveSettings(this.config.dataDir, next);
    this.settings = next;
  }

  getStatus(): Promise<ApiResult<KeeperStatus>> {
    return this.run(() => this.status());
  }

  getLog(): Promise<ApiResult<LogEntry[]>> {
    return this.run(() => this.recentLog());
  }

  setup(input: SetupInput): Promise<ApiResult<null>> {
    return this.run(async () => {
      checkRole(input?.role);
      checkStorage(input.quotaBytes, this.config.retentionMs);
      if (input.community !== null && input.community !== undefined) this.applyCommunity(input.community);
      this.config.quotaBytes = input.quotaBytes;
      this.persist((s) => {
        s.role = input.role;
        s.quotaBytes = input.quotaBytes;
        s.communities = this.plan.communities;
      });
      this.emitEvent({ event: 'settings', change: 'setup' });
      this.scheduleRetention(0);
      return null;
    });
  }

  setRole(role: Role): Promise<ApiResult<null>> {
    return this.run(() => {
      checkRole(role);
      this.persist((s) => (s.role = role));
      this.emitEvent({ event: 'settings', change: 'role' });
      return null;
    });
  }

  addCommunity(community: Community): Promise<ApiResult<null>> {
    return this.run(() => {
      this.applyCommunity(community);
      this.persist((s) => (s.communities = this.plan.communities));
      this.emitEvent({ event: 'settings', change: 'community added' });
      this.filler.trigger();
      return null;
    });
  }

  removeCommunity(name: string): Promise<ApiResult<null>> {
    return this.run(() => {
      if (typeof name !== 'string') throw new ConfigError('name', 'must be a string');
      const dropped = this.plan.remove(name);
      if (dropped !== null) this.stopRelaying(dropped);
      this.persist((s) => (s.communities = this.plan.communities));
      this.emitEvent({ event: 'settings', change: 'community removed' });
      return null;
    });
  }

  addStorePeer(address: string): Promise<ApiResult<null>> {
    return this.run(async () => {
      if (typeof address !== 'string') throw new ConfigError('multiaddr', 'must be a string');
      let peer;
      try {
        peer = parsePeerAddress(address.trim());
      } catch (err) {
        throw new ConfigError('multiaddr', errorMessage(err));
      }
      const id = peer.peerId.toString();
      if (id === this.node.peerId.toString()) throw new ConfigError('multiaddr', 'that is this node itself');
      this.storePeers.addStatic(id, peer.addr.toString());
      this.staticPeerIds.add(id);
      await this.connector.addStaticPeer(peer);
      this.persist((s) => (s.storePeers = [...new Set([...s.storePeers, peer.addr.toString()])]));
      this.emitEvent({ event: 'settings', change: 'store peer added' });
      this.filler.trigger();
      return null;
    });
  }

  removeStorePeer(peerId: string): Promise<ApiResult<null>> {
    return this.run(async () => {
      if (typeof peerId !== 'string' || this.storePeers.get(peerId) === undefined) throw new CommandError('not-found', `no store peer ${String(peerId)}`);
      this.storePeers.remove(peerId);
      this.staticPeerIds.delete(peerId);
      await this.connector.removeStaticPeer(peerIdFromString(peerId));
      this.persist((s) => (s.storePeers = s.storePeers.filter((a) => !a.endsWith(`/p2p/${peerId}`))));
      this.emitEvent({ event: 'settings', change: 'store peer removed' });
      return null;
    });
  }

  setStorage(input: StorageInput): Promise<ApiResult<null>> {
    return this.run(() => {
      checkStorage(input?.quotaBytes, input?.retentionMs);
      if (input.retentionMs <= this.config.settleMs) throw new ConfigError('retentionMs', 'is shorter than the settle time');
      this.config.quotaBytes = input.quotaBytes;
      this.config.retentionMs = input.retentionMs;
      this.filler.setRetention(input.retentionMs);
      this.persist((s) => {
        s.quotaBytes = input.quotaBytes;
        s.retentionMs = input.retentionMs;
      });
      this.emitEvent({ event: 'settings', change: 'storage' });
      this.scheduleRetention(0);
      return null;
    });
  }

  /** Runs a gap-filling pass now; resolves when it is done. */
  fillNow(): Promise<ApiResult<null>> {
    return this.run(async () => {
      this.filler.trigger();
      await this.filler.idle();
      return null;
    });
  }

  /** Validates and adds a community, relaying its pubsub topic if it is new. */
  private applyCommunity(community: Community): void {
    const added = this.plan.add(community);
    if (added !== null) this.startRelaying(added);
  }

  private startRelaying(topic: string): void {
    const relay = this.node.services.relay;
    relay.topicValidators.set(topic, (_peer, msg) => this.onRelayMessage(topic, msg.data));
    relay.subscribe(topic);
    const shard = parseShardTopic(topic)?.shard;
    const shards = this.node.services.metadata.shards;
    if (shard !== undefined && !shards.includes(shard)) shards.push(shard);
  }

  private stopRelaying(topic: string): void {
    const relay = this.node.services.relay;
    relay.unsubscribe(topic);
    relay.topicValidators.delete(topic);
    const shard = parseShardTopic(topic)?.shard;
    const shards = this.node.services.metadata.shards;
    const i = shard === undefined ? -1 : shards.indexOf(shard);
    if (i >= 0) shards.splice(i, 1);
  }
}

function checkRole(role: unknown): asserts role is Role {
  if (role !== 'owner' && role !== 'volunteer') throw new ConfigError('role', 'must be "owner" or "volunteer"');
}

function checkStorage(quotaBytes: unknown, retentionMs: unknown): void {
  if (typeof quotaBytes !== 'number' || !Number.isFinite(quotaBytes) || quotaBytes < 1024 * 1024) {
    throw new ConfigError('quotaBytes', 'must be at least 1 MiB');
  }
  if (typeof retentionMs !== 'number' || !Number.isFinite(retentionMs) || retentionMs < 60_000) {
    throw new ConfigError('retentionMs', 'must be at least a minute');
  }
}

function emptyHistory(fillQuorum: number): HistoryStatus {
  return {
    fillQuorum,
    uptimeShare: 0,
    limitedByQuota: false,
    topics: [],
    storePeers: [],
    fill: { running: false, startedAtMs: null, windowsDone: 0, windowsTotal: 0, messages: 0, lastPass: null },
    consistency: { lastRunMs: null, recovered: 0, checks: 0 },
  };
}

function nsToMs(ns: bigint | null): number | null {
  return ns === null ? null : Number(ns / 1_000_000n);
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

/** The default listen addresses, each swapped for a free port when its own is taken. */
async function defaultListenAddresses(): Promise<string[]> {
  const out: string[] = [];
  for (const addr of DEFAULT_LISTEN) {
    const port = Number(/\/tcp\/(\d+)/.exec(addr)?.[1]);
    out.push((await portIsFree(port)) ? addr : addr.replace(`/tcp/${port}`, '/tcp/0'));
  }
  return out;
}

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, '0.0.0.0', () => probe.close(() => resolve(true)));
  });
}
