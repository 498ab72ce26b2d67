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
import type { KeeperEvent, KeeperStatus, NodeState, PeerStatus } from './api/contract.ts';
import { KeeperMetrics } from './api/metrics.ts';
import { loadOrCreateToken } from './api/token.ts';
import type { KeeperConfig } from './config.ts';
import { DEFAULT_API, DEFAULT_LISTEN } from './config.ts';
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
}

export interface KeeperStartOptions {
  onEvent?: (e: KeeperEvent) => void;
  testHooks?: KeeperTestHooks;
}

export class Keeper extends EventEmitter<KeeperEvents> {
  readonly config: KeeperConfig;
  private readonly archive: Archive;
  private readonly node: KeeperLibp2p;
  private readonly storeServer: StoreServer;
  private readonly ingestor: Ingestor;
  private readonly connector: Connector;
  private readonly api: ApiServer;
  private readonly token: string;
  private readonly metrics = new KeeperMetrics();
  private readonly history: HistoryStore;
  private readonly storePeers: StorePeerRegistry;
  private readonly uptime: UptimeTracker;
  private readonly filler: GapFiller;
  private readonly checker: ConsistencyChecker;
  private readonly testHooks: KeeperTestHooks;
  private readonly staticPeerIds: Set<string>;
  private readonly keptContentTopics: Set<string> | undefined;
  private readonly startedAtMs = Date.now();
  private readonly retentionAbort = new AbortController();
  private retentionTimer: NodeJS.Timeout | undefined;
  private retentionRun: Promise<unknown> = Promise.resolve();
  private state: NodeState = 'starting';
  private archiveError: string | null = null;
  private stopping: Promise<void> | undefined;
  private readonly counters = {
    received: 0,
    stored: 0,
    duplicates: 0,
    notKept: 0,
    rejected: {} as Partial<Record<RejectReason, number>>,
    storeRequests: {} as Record<string, number>,
  };

  private constructor(config: KeeperConfig, archive: Archive, node: KeeperLibp2p, token: string, testHooks: KeeperTestHooks) {
    super();
    this.testHooks = testHooks;
    this.config = config;
    this.archive = archive;
    this.node = node;
    this.token = token;
    this.keptContentTopics = config.contentTopics.length > 0 ? new Set(config.contentTopics) : undefined;
    const staticPeers = [...config.peers, ...config.storePeers].map(parsePeerAddress);
    this.staticPeerIds = new Set(staticPeers.map((p) => p.peerId.toString()));
    this.ingestor = new Ingestor(archive, {
      onInserted: (inserted, batch) => {
        this.counters.stored += inserted;
        this.counters.duplicates += batch.length - inserted;
        this.archiveError = null;
      },
      onError: (err, batch) => {
        this.archiveError = err instanceof Error ? err.message : String(err);
        this.emitEvent({ event: 'error', message: `archive write failed, ${batch.length} messages not stored: ${this.archiveError}` });
      },
    });
    this.storeServer = new StoreServer(archive, {
      rateLimit: config.storeRateLimit,
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
    for (const addr of config.storePeers) this.storePeers.addStatic(parsePeerAddress(addr).peerId.toString(), addr);
    const isOnline = (topic: string): boolean => this.state !== 'stopping' && node.services.relay.getSubscribers(topic).length > 0;
    this.uptime = new UptimeTracker(this.history, config.pubsubTopics, isOnline, {
      heartbeatMs: config.heartbeatMs,
      onChange: (_topic, online) => {
        if (online) this.filler.trigger();
      },
    });
    const historyDeps: HistoryDeps = {
      archive,
      history: this.history,
      peers: this.storePeers,
      query: (peerId, request, signal) => storeQuery(node, this.storePeers.target(peerIdFromString(peerId)), request, { signal }),
      pubsubTopics: config.pubsubTopics,
      keep: this.keptContentTopics === undefined ? undefined : (t) => this.keptContentTopics?.has(t) === true,
      emit: (e) => this.emitEvent(e),
      onStored: (n) => (this.counters.stored += n),
    };
    this.filler = new GapFiller(historyDeps, {
      fillQuorum: config.fillQuorum,
      retentionMs: config.retentionMs,
      settleMs: config.settleMs,
      intervalMs: config.fillIntervalMs,
      isOnline,
      quotaHorizon: () => this.quotaHorizon(),
    });
    this.checker = new ConsistencyChecker(historyDeps, {
      intervalMs: config.checkIntervalMs,
      settleMs: config.settleMs,
      contentTopics: config.contentTopics,
      isOnline,
    });
    this.api = new ApiServer(
      {
        status: () => this.status(),
        metrics: async () => ({ contentType: this.metrics.contentType, body: await this.metrics.render(await this.status()) }),
      },
      token,
    );
  }

  /** Opens the data dir and brings the node up; resolves once it serves and relays. */
  static async start(config: KeeperConfig, opts: KeeperStartOptions = {}): Promise<Keeper> {
    mkdirSync(config.dataDir, { recursive: true });
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
      const shards = config.pubsubTopics.map((t) => parseShardTopic(t)?.shard).filter((s): s is number => s !== undefined);
      node = await createKeeperLibp2p({
        privateKey,
        listen,
        clusterId: config.clusterId,
        shards,
        discovery: config.discovery,
        onDiscoveryError: (err) => keeper?.emitEvent({ event: 'warning', message: `peer discovery failed: ${errorMessage(err)}` }),
      });
      keeper = new Keeper(config, archive, node, token, opts.testHooks ?? {});
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
    for (const topic of this.config.pubsubTopics) {
      relay.topicValidators.set(topic, (_peer, msg) => this.onRelayMessage(topic, msg.data));
    }
    node.addEventListener('peer:connect', this.onPeerConnect);
    node.addEventListener('peer:disconnect', this.onPeerDisconnect);
    node.addEventListener('peer:identify', this.onPeerIdentify);
    await node.start();
    for (const topic of this.config.pubsubTopics) relay.subscribe(topic);
    await this.connector.start();
    const fallback = this.config.api.host === DEFAULT_API.host && this.config.api.port === DEFAULT_API.port;
    await this.api.listen({ ...this.config.api, fallbackToFreePort: fallback });
    this.state = this.relayPeerCount() > 0 ? 'online' : 'offline';
    this.scheduleRetention(0);
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

  private onRelayMessage(pubsubTopic: string, data: Uint8Array): TopicValidatorResult {
    this.counters.received++;
    const decoded = decodeForArchive(pubsubTopic, data, { nowNs: nowNs() });
    if (!decoded.ok) {
      // Ephemeral messages are valid traffic: relay them, keep nothing.
      if (decoded.reason === 'ephemeral') return TopicValidatorResult.Accept;
      this.counters.rejected[decoded.reason] = (this.counters.rejected[decoded.reason] ?? 0) + 1;
      return TopicValidatorResult.Reject;
    }
    if (this.keptContentTopics !== undefined && !this.keptContentTopics.has(decoded.message.contentTopic)) {
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

  /** Runs a gap-filling pass now (the dashboard's "fill now"); resolves when it is done. */
  async fillNow(): Promise<void> {
    this.filler.trigger();
    await this.filler.idle();
  }

  /** Runs a consistency check now; resolves when it is done. */
  checkNow(): Promise<void> {
    return this.checker.run();
  }

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
    return {
      fillQuorum: this.config.fillQuorum,
      limitedByQuota: window.start > Date.now() - this.config.retentionMs,
      topics: this.config.pubsubTopics.map((t) =>
        topicHistory(t, this.history.coverage(t), window, (gap) => this.filler.noteOf(t, gap)),
      ),
      storePeers: this.storePeers.status(),
      fill: this.filler.status(),
      consistency: this.checker.status(),
    };
  }

  private relayPeerCount(): number {
    const relay = this.node.services.relay;
    const peers = new Set<string>();
    for (const t of this.config.pubsubTopics) for (const p of relay.getSubscribers(t)) peers.add(p.toString());
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
    for (const t of this.config.pubsubTopics) for (const p of relay.getSubscribers(t)) relayPeers.add(p.toString());
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
      pubsubTopics: [...this.config.pubsubTopics],
      contentTopics: [...this.config.contentTopics],
      peers: await this.peerStatuses(),
      topics: this.config.pubsubTopics.map((pubsubTopic) => {
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
        rejected: { ...this.counters.rejected },
      },
      store: { requests: { ...this.counters.storeRequests } },
      history: this.archive.isOpen ? this.historyStatus() : emptyHistory(this.config.fillQuorum),
    };
  }

  // ---- retention ----------------------------------------------------------------

  private scheduleRetention(delayMs: number): void {
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
    this.emit('event', e);
  }
}

function emptyHistory(fillQuorum: number): HistoryStatus {
  return {
    fillQuorum,
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
