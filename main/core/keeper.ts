/**
 * One Keeper = one data dir. This file creates the parts, wires them, and
 * starts and stops them in order; what each part does lives in the part.
 * Data flows one way: relay (node/relay-intake) → message checks → the archive
 * writer → the archive, which the store server, history and status read.
 */
import type { PrivateKey } from '@libp2p/interface';
import type { Database } from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { KeeperCommands, KeeperEvent } from '../contract/contract.ts';
import { Archive } from './archive/archive.ts';
import { AgeRetention, CommunityRetention, QuotaRetention, RetentionScheduler } from './archive/retention.ts';
import { ArchiveWriter } from './archive/writer.ts';
import { KeeperCommandSet } from './api/commands.ts';
import { EventLog } from './api/event-log.ts';
import { ApiServer } from './api/http.ts';
import { KeeperMetrics } from './api/metrics.ts';
import { ProcessStats } from './api/process-stats.ts';
import { StatusPublisher } from './api/status-publisher.ts';
import { buildStatus } from './api/status-snapshot.ts';
import type { Phase } from './api/status-snapshot.ts';
import { loadOrCreateToken } from './api/token.ts';
import { HistoryService } from './history/history-service.ts';
import { Connector } from './node/connector.ts';
import { loadOrCreateIdentity } from './node/identity.ts';
import { createKeeperLibp2p } from './node/libp2p.ts';
import type { KeeperLibp2p } from './node/libp2p.ts';
import { defaultListenAddresses } from './node/listen.ts';
import { RelayIntake } from './node/relay-intake.ts';
import { Presence } from './reach/presence.ts';
import type { RelayIntakeOptions } from './node/relay-intake.ts';
import { restBackend } from './rest/backend.ts';
import { RestServer } from './rest/server.ts';
import { DEFAULT_API, validateConfig } from './settings/config.ts';
import type { KeeperConfig } from './settings/config.ts';
import { ARCHIVE_FILE } from './settings/paths.ts';
import { RuntimeSettings } from './settings/runtime-settings.ts';
import { STORE_CODEC } from './store/codec.ts';
import { StoreServer } from './store/server.ts';
import { COVERAGE_CODEC } from './coverage/codec.ts';
import { AnnounceService } from './announce/service.ts';
import type { AnnounceServiceDeps } from './announce/service.ts';
import { describeSelf } from './self-description.ts';
import { multiaddr } from '@multiformats/multiaddr';
import { CoverageServer } from './coverage/server.ts';
import { SyncService } from './sync/service.ts';
import { RECONCILIATION_CODEC } from './sync/transfer-codec.ts';
import { responderScope } from './history/sync-scope.ts';
import { errorMessage } from './util/errors.ts';
import { delay } from './util/time.ts';

const STOP_TIMEOUT_MS = 10_000;

/** Hooks for tests only: nothing in the app sets them. */
export interface KeeperTestHooks {
  /** Relay the message but do not store it, as if relay had lost it. */
  dropRelayMessage?: RelayIntakeOptions['drop'];
  /** Hands over the archive's database connection, to simulate a full disk (PRAGMA max_page_count). */
  archiveConnection?: (db: Database) => void;
  /** Hands over relay's intake, to feed it messages at a rate no publisher reaches. */
  relayIntake?: (intake: RelayIntake) => void;
  /** Announce holding other than what is attested (a Keeper that lies about its coverage). */
  announceHeld?: AnnounceServiceDeps['claimHeld'];
}

export interface KeeperStartOptions {
  onEvent?: (e: KeeperEvent) => void;
  testHooks?: KeeperTestHooks;
}

export class Keeper {
  /** The dashboard's commands: what the HTTP API and the desktop IPC call. */
  readonly commands: KeeperCommands;
  /** The one publisher of status snapshots and the live feed. */
  readonly status: StatusPublisher;
  private readonly log = new EventLog();
  private readonly settings: RuntimeSettings;
  private readonly archive: Archive;
  private readonly node: KeeperLibp2p;
  private readonly writer: ArchiveWriter;
  private readonly intake: RelayIntake;
  private readonly storeServer: StoreServer;
  private readonly coverageServer: CoverageServer;
  /** Waku Sync, both roles (--store-sync). */
  private readonly sync: SyncService | undefined;
  private readonly connector: Connector;
  private readonly history: HistoryService;
  private readonly retention: RetentionScheduler;
  /** This Keeper's announcements and what it believes of its communities' other Keepers. */
  private readonly announce: AnnounceService;
  private readonly processStats = new ProcessStats();
  private readonly api: ApiServer;
  /** Reachability, the ENR and discv5. */
  private readonly presence: Presence;
  /** nwaku's REST API, when --rest asks for it. */
  private readonly rest: RestServer | undefined;
  private readonly token: string;
  private phase: Phase = 'starting';
  private stopping: Promise<void> | undefined;

  private constructor(settings: RuntimeSettings, archive: Archive, node: KeeperLibp2p, key: PrivateKey, token: string, presence: Presence, opts: KeeperStartOptions) {
    const config = settings.config;
    const hooks = opts.testHooks ?? {};
    const emit = this.log.emit;
    if (opts.onEvent) this.log.onEvent(opts.onEvent);
    this.settings = settings;
    this.archive = archive;
    this.node = node;
    this.token = token;
    this.presence = presence;
    hooks.archiveConnection?.(archive.connection);
    this.writer = new ArchiveWriter(archive, { onTrouble: (level, message) => emit({ event: level, message }) });
    this.intake = new RelayIntake(node, settings, this.writer, { drop: hooks.dropRelayMessage });
    hooks.relayIntake?.(this.intake);
    this.storeServer = new StoreServer(archive, { rateLimit: config.storeRateLimit, idleTimeoutMs: config.storeIdleTimeoutMs });
    this.coverageServer = new CoverageServer((topic, contentTopics, range) => this.history.attestable(topic, contentTopics, range), key, node.peerId.toString());
    this.connector = new Connector(node, settings, {
      onDialError: (peer, err) => {
        if (settings.isStaticPeer(peer)) emit({ event: 'warning', message: `cannot reach peer ${peer}: ${errorMessage(err)}` });
      },
    });
    this.sync = config.storeSync
      ? new SyncService({
          archive,
          writer: this.writer,
          rules: settings.rules,
          scope: () => responderScope(settings.plan),
          keepsFromMs: () => this.history.keptFromMs(),
        })
      : undefined;
    const isConnected = (id: string): boolean => node.getConnections().some((c) => c.remotePeer.toString() === id && c.status === 'open');
    this.history = new HistoryService({
      archive,
      writer: this.writer,
      settings,
      selfId: node.peerId.toString(),
      dialer: node,
      queryTimeoutMs: config.storeQueryTimeoutMs,
      isConnected,
      isOnline: (topic) => this.intake.isOnline(topic),
      emit,
      sync: this.sync,
    });
    this.announce = new AnnounceService({
      key,
      selfId: node.peerId.toString(),
      communities: () => settings.plan.communities,
      describe: (c, span) => describeSelf({ settings, archive, history: this.history, presence, node }, c, span),
      publish: async (topic, data) => void (await node.services.relay.publish(topic, data)),
      keep: (m) => this.writer.push(m),
      rules: settings.rules,
      dialer: node,
      onAnnouncer: (id, addrs, dial) => {
        this.history.announced(id, addrs);
        const addr = addrs[0];
        if (dial && addr !== undefined) void node.dial(multiaddr(`${addr}/p2p/${id}`)).catch(() => undefined);
      },
      standing: (id) => {
        const p = this.history.peers.get(id);
        return { lost: p !== undefined && !this.history.peers.trusted(p), reason: p?.standingReason ?? null };
      },
      isConnected,
      storePeers: () => this.history.peers.candidates().filter((p) => isConnected(p.peerId)).map((p) => p.peerId),
      emit: (event, message) => emit({ event, message }),
      intervalMs: config.keepersAnnounceIntervalMs,
      queryTimeoutMs: config.storeQueryTimeoutMs,
      claimHeld: hooks.announceHeld,
    });
    this.history.peers.setClaims((id, topic) => this.announce.claimsOf(id, topic));
    this.intake.onAccepted((topic, data, contentTopic) => this.announce.onRelayed(topic, data, contentTopic));
    this.retention = new RetentionScheduler(archive, {
      // Each community within its own limits first, then the archive's: what the archive's quota drops is the oldest of all.
      policies: () => [
        new AgeRetention(settings.retentionMs),
        new CommunityRetention([...this.history.keptScopes.filter((k) => k.name !== null), ...this.announce.retentionLimits()]),
        new QuotaRetention(settings.quotaBytes),
      ],
      intervalMs: config.retentionIntervalMs,
      onRun: (deleted) => {
        this.history.prune();
        for (const [policy, d] of Object.entries(deleted)) if (d.messages > 0) emit({ event: 'retention', policy, messages: d.messages, bytes: d.bytes });
      },
      onError: (err) => emit({ event: 'error', message: `retention failed: ${errorMessage(err)}` }),
    });
    settings.on('change', (c) => {
      // The archive's storage, and communities (their own quotas and retention) changing.
      if (c.kind !== 'role' && c.kind !== 'store-peer-added' && c.kind !== 'store-peer-removed') this.retention.runSoon();
      if (c.kind === 'topics') this.announce.refreshCommunities();
      if (c.kind === 'topics' || c.kind === 'role' || c.kind === 'community-storage') this.announce.changed();
    });
    const startedAtMs = Date.now();
    this.status = new StatusPublisher(
      () =>
        buildStatus({
          phase: () => this.phase,
          startedAtMs,
          node,
          settings,
          archive,
          writer: this.writer,
          intake: this.intake,
          storeServer: this.storeServer,
          history: this.history,
          process: this.processStats,
          presence,
          announce: this.announce,
        }),
      this.log,
    );
    this.commands = new KeeperCommandSet({
      settings,
      archive,
      history: this.history,
      status: this.status,
      log: this.log,
      selfId: node.peerId.toString(),
      stopping: () => this.phase === 'stopping',
    });
    const metrics = new KeeperMetrics();
    this.api = new ApiServer(
      {
        commands: this.commands,
        feed: this.status,
        metrics: async () => ({ contentType: metrics.contentType, body: await metrics.render(await this.status.latest()) }),
      },
      token,
      config.rendererDir,
    );
    const parts = { node, settings, archive, writer: this.writer, intake: this.intake, status: () => this.status.latest() };
    this.rest = config.rest === undefined ? undefined : new RestServer(restBackend(parts), config.rest);
  }

  /** Opens the data dir and brings the node up; resolves once it serves and relays. */
  static async start(config: Readonly<KeeperConfig>, opts: KeeperStartOptions = {}): Promise<Keeper> {
    validateConfig(config);
    mkdirSync(config.dataDir, { recursive: true });
    const settings = RuntimeSettings.load(config);
    const archivePath = join(config.dataDir, ARCHIVE_FILE);
    let archive: Archive;
    try {
      archive = Archive.open(archivePath);
    } catch (err) {
      throw new Error(`cannot open the archive ${archivePath}: ${errorMessage(err)}`);
    }
    let keeper: Keeper | undefined;
    let node: KeeperLibp2p | undefined;
    let presence: Presence | undefined;
    try {
      const privateKey = await loadOrCreateIdentity(config.dataDir);
      const listen = config.listen ?? (await defaultListenAddresses());
      presence = Presence.forConfig(config, privateKey, listen, () => settings.plan.shards, (e) => keeper?.log.emit(e));
      node = await createKeeperLibp2p({
        privateKey,
        listen,
        appendAnnounce: presence.appendAnnounce(),
        extraDiscovery: [presence.peerDiscovery],
        clusterId: config.clusterId,
        shards: settings.plan.shards,
        discovery: config.discovery,
        maxMessageBytes: settings.rules.maxMessageBytes,
        onDiscoveryError: (err) => keeper?.log.emit({ event: 'warning', message: `peer discovery failed: ${errorMessage(err)}` }),
      });
      keeper = new Keeper(settings, archive, node, privateKey, loadOrCreateToken(config.dataDir), presence, opts);
      await keeper.bringUp();
      return keeper;
    } catch (err) {
      await Promise.resolve(presence?.stop()).catch(() => undefined);
      await Promise.resolve(node?.stop()).catch(() => undefined);
      archive.close();
      throw err;
    }
  }

  private async bringUp(): Promise<void> {
    const { node, settings } = this;
    await this.storeServer.start(node);
    await this.coverageServer.start(node);
    await this.sync?.start(node);
    this.intake.attach();
    node.addEventListener('peer:connect', (evt) => this.log.emit({ event: 'peer:connect', peerId: evt.detail.toString() }));
    node.addEventListener('peer:disconnect', (evt) => this.log.emit({ event: 'peer:disconnect', peerId: evt.detail.toString() }));
    node.addEventListener('peer:identify', (evt) => {
      const { peerId, protocols, connection } = evt.detail;
      this.history.observe(
        peerId.toString(),
        [connection.remoteAddr.toString()],
        protocols.includes(STORE_CODEC),
        protocols.includes(COVERAGE_CODEC),
        protocols.includes(RECONCILIATION_CODEC),
      );
      this.announce.observe(peerId.toString(), protocols.includes(STORE_CODEC));
    });
    await node.start();
    this.intake.subscribe();
    await this.connector.start();
    await this.presence.start(node);
    const api = settings.config.api;
    const fallback = api.host === DEFAULT_API.host && api.port === DEFAULT_API.port;
    const url = await this.api.listen({ ...api, fallbackToFreePort: fallback });
    const rest = await this.rest?.listen();
    this.phase = 'running';
    this.retention.start();
    this.processStats.start();
    this.history.start();
    this.announce.start();
    this.log.emit({
      event: 'ready',
      peerId: node.peerId.toString(),
      multiaddrs: node.getMultiaddrs().map((a) => a.toString()),
      api: url,
      dashboard: `${url}/#token=${this.token}`,
      enr: this.presence.enr,
      share: this.presence.shareMultiaddrs(),
      reachability: this.presence.reachability,
      ...(rest === undefined ? {} : { rest }),
    });
  }

  /** What this Keeper announces of itself for a community: where to reach it, its role and space, what it attests holding, when it was online. */
  stop(reason = 'stop requested'): Promise<void> {
    this.stopping ??= this.shutdown(reason);
    return this.stopping;
  }

  private async shutdown(reason: string): Promise<void> {
    await this.rest?.close().catch(() => undefined);
    // Uptime closes its intervals while relay still tells the truth about peers.
    this.history.closeUptime();
    this.intake.close();
    this.processStats.stop();
    this.phase = 'stopping';
    this.log.emit({ event: 'stopping', reason });
    const retentionStopped = this.retention.stop();
    await Promise.race([this.announce.stop(), delay(STOP_TIMEOUT_MS)]);
    // Sync's sessions end at once (a check waiting on one goes on to its end), and what it stored stays stored.
    await Promise.race([Promise.all([this.history.stop(), this.sync?.stop()]), delay(STOP_TIMEOUT_MS)]);
    this.connector.stop();
    await Promise.race([this.presence.stop().catch(() => undefined), delay(STOP_TIMEOUT_MS)]);
    this.storeServer.available = false;
    this.coverageServer.available = false;
    this.status.stop();
    await this.api.close().catch(() => undefined);
    const stopNode = (async () => {
      await this.storeServer.stop();
      await this.coverageServer.stop();
      await this.node.stop();
    })();
    await Promise.race([stopNode.catch(() => undefined), delay(STOP_TIMEOUT_MS)]);
    await Promise.race([retentionStopped, delay(STOP_TIMEOUT_MS)]);
    this.writer.flush();
    this.archive.close();
    this.log.emit({ event: 'stopped' });
  }
}
