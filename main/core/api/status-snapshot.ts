/**
 * How a status snapshot is made: each part reports its own figures, put
 * together here in the contract's shape. The StatusPublisher decides when.
 */
import type { CommunityAnnounceStatus, HistoryStatus, KeeperStatus, NodeState, ReachabilityStatus, ShareInfo } from '../../contract/contract.ts';
import type { Archive } from '../archive/archive.ts';
import type { ArchiveWriter } from '../archive/writer.ts';
import type { HistoryService } from '../history/history-service.ts';
import { emptyConsistencyStatus } from '../history/consistency.ts';
import type { KeeperLibp2p } from '../node/libp2p.ts';
import { peerStatuses } from '../node/peer-status.ts';
import type { RelayIntake } from '../node/relay-intake.ts';
import type { RuntimeSettings } from '../settings/runtime-settings.ts';
import type { StoreServer } from '../store/server.ts';
import { nsToMsOrNull } from '../util/time.ts';
import { VERSION } from '../util/version.ts';
import type { ProcessStats } from './process-stats.ts';

/** Where the Keeper is in its life: starting, running (online or offline by relay peers), stopping. */
export type Phase = 'starting' | 'running' | 'stopping';

export interface StatusSources {
  phase: () => Phase;
  startedAtMs: number;
  node: KeeperLibp2p;
  settings: RuntimeSettings;
  archive: Archive;
  writer: ArchiveWriter;
  intake: RelayIntake;
  storeServer: StoreServer;
  history: HistoryService;
  process: ProcessStats;
  /** Reachability, discv5 and the share card. */
  presence: { status(): { reach: ReachabilityStatus; share: ShareInfo } };
  /** Each kept community's Keepers, map and refusals, from their announcements. */
  announce: { status(): CommunityAnnounceStatus[] };
}

export async function buildStatus(src: StatusSources): Promise<KeeperStatus> {
  const { node, settings, archive, writer, intake } = src;
  const plan = settings.plan;
  const phase = src.phase();
  const state: NodeState = phase !== 'running' ? phase : intake.relayPeerCount() > 0 ? 'online' : 'offline';
  const stats = archive.isOpen ? archive.stats() : undefined;
  const byTopic = new Map(stats?.topics.map((t) => [t.pubsubTopic, t]));
  const written = writer.counters();
  const relayed = intake.counters();
  return {
    version: VERSION,
    state,
    peerId: node.peerId.toString(),
    multiaddrs: node.getMultiaddrs().map((a) => a.toString()),
    startedAtMs: src.startedAtMs,
    clusterId: settings.config.clusterId,
    pubsubTopics: [...plan.pubsubTopics],
    contentTopics: plan.keptContentTopics,
    peers: await peerStatuses(node, plan.pubsubTopics, (id) => settings.isStaticPeer(id)),
    topics: plan.pubsubTopics.map((pubsubTopic) => {
      const t = byTopic.get(pubsubTopic);
      return {
        pubsubTopic,
        messages: t?.messages ?? 0,
        bytes: t?.bytes ?? 0,
        oldestMs: nsToMsOrNull(t?.oldest),
        newestMs: nsToMsOrNull(t?.newest),
        relayPeers: intake.relayPeers(pubsubTopic),
      };
    }),
    archive: {
      path: archive.path,
      messages: stats?.messages ?? 0,
      bytes: stats?.usedBytes ?? 0,
      quotaBytes: settings.quotaBytes,
      retentionMs: settings.retentionMs,
      oldestMs: nsToMsOrNull(stats?.oldest),
      newestMs: nsToMsOrNull(stats?.newest),
      error: writer.error,
    },
    ingest: {
      received: relayed.received,
      stored: written.stored,
      duplicates: written.duplicates,
      notKept: relayed.notKept,
      unwritable: written.unwritable,
      lastMinute: written.lastMinute,
      rejected: relayed.rejected,
    },
    store: { requests: src.storeServer.requestsByStatus(), messages: src.storeServer.messagesSent() },
    history: archive.isOpen ? src.history.status() : emptyHistory(settings.config.fillQuorum),
    settings: {
      role: settings.role,
      setupNeeded: settings.role === null,
      communities: settings.communities,
      storePeers: [...settings.storePeers],
    },
    process: src.process.snapshot(),
    ...src.presence.status(),
    announce: src.announce.status(),
  };
}

/** What the history part says once the archive is closed (stopping). */
function emptyHistory(fillQuorum: number): HistoryStatus {
  return {
    fillQuorum,
    coveredShare: 0,
    verifiedShare: 0,
    unattestedShare: 0,
    uptimeShare: 0,
    limitedByQuota: false,
    topics: [],
    communities: [],
    storePeers: [],
    fill: { running: false, startedAtMs: null, windowsDone: 0, windowsTotal: 0, messages: 0, lastPass: null },
    consistency: emptyConsistencyStatus(),
  };
}
