/**
 * The one contract between the Keeper and everything that shows or drives it:
 * the status snapshot and the events. The HTTP API, the Electron IPC and the
 * renderer all use these types. Times are ms since the epoch unless named *Ns.
 */
import type { RejectReason } from '../archive/validate.ts';

export type NodeState = 'starting' | 'online' | 'offline' | 'stopping';

export interface PeerStatus {
  peerId: string;
  addrs: string[];
  protocols: string[];
  direction: 'inbound' | 'outbound';
  /** Relay mesh member on at least one of our topics. */
  relay: boolean;
  /** Offers Store v3. */
  store: boolean;
  /** Configured with --peer or --store-peer. */
  static: boolean;
  agent: string | null;
  /** What the peer announced over Waku metadata, when it did. */
  clusterId: number | null;
  shards: number[];
}

export interface TopicStatus {
  pubsubTopic: string;
  messages: number;
  bytes: number;
  oldestMs: number | null;
  newestMs: number | null;
  relayPeers: number;
}

export interface ArchiveStatus {
  path: string;
  messages: number;
  /** Disk pages in use: what counts against the quota. */
  bytes: number;
  quotaBytes: number;
  retentionMs: number;
  oldestMs: number | null;
  newestMs: number | null;
  /** Set when the archive cannot be written (disk full, I/O error). */
  error: string | null;
}

export interface IngestStatus {
  /** Messages relay delivered to the validator. */
  received: number;
  stored: number;
  duplicates: number;
  /** Relayed but not archived: content topics this Keeper does not keep. */
  notKept: number;
  rejected: Partial<Record<RejectReason, number>>;
}

export interface StoreServerStatus {
  /** Requests answered, by status code. */
  requests: Record<string, number>;
}

// ---- history (uptime, gap filling, completeness) ------------------------------

export interface TimeRange {
  startMs: number;
  endMs: number;
}

export interface FilledRange extends TimeRange {
  verified: boolean;
  /** Peers that answered this stretch completely. */
  peers: string[];
}

/** Why a stretch is still missing: not tried yet, nobody to ask, or the peers asked failed. */
export type GapReason = 'pending' | 'no-peer' | 'peer-failed';

export interface GapStatus extends TimeRange {
  reason: GapReason;
  detail: string | null;
}

export interface TopicHistory {
  pubsubTopic: string;
  /** The retention window the shares are of. */
  windowStartMs: number;
  windowEndMs: number;
  /** Share of the window held: online, or filled by store peers. */
  coveredShare: number;
  /** Share of the window online, or filled by at least the quorum of peers. */
  verifiedShare: number;
  online: TimeRange[];
  filled: FilledRange[];
  /** Filled by fewer peers than the quorum. */
  unverified: FilledRange[];
  gaps: GapStatus[];
}

export type StorePeerSource = 'static' | 'discovered';

export interface StorePeerRecord {
  peerId: string;
  addrs: string[];
  source: StorePeerSource;
  rttMs: number | null;
  lastSuccessMs: number | null;
  lastFailureMs: number | null;
  /** Failures in a row; a success resets it. */
  failures: number;
  provided: number;
  rejected: number;
  /** Share of a window's messages this peer held, the last time it answered one. */
  agreement: number | null;
  lastAgreementMs: number | null;
  lastError: string | null;
}

export interface StorePeerStatus extends StorePeerRecord {
  connected: boolean;
  backoffUntilMs: number | null;
}

export interface FillPassSummary {
  startedAtMs: number;
  endedAtMs: number;
  windows: number;
  verified: number;
  unverified: number;
  open: number;
  messages: number;
}

export interface FillStatus {
  running: boolean;
  startedAtMs: number | null;
  windowsDone: number;
  windowsTotal: number;
  /** Messages new to the archive in the running pass. */
  messages: number;
  lastPass: FillPassSummary | null;
}

export interface ConsistencyStatus {
  lastRunMs: number | null;
  /** Messages found missing by hash comparison and fetched, since start. */
  recovered: number;
  checks: number;
}

export interface HistoryStatus {
  fillQuorum: number;
  /**
   * The archive is at its quota: history older than its oldest message was let
   * go for space, and the window the shares are of starts there.
   */
  limitedByQuota: boolean;
  topics: TopicHistory[];
  storePeers: StorePeerStatus[];
  fill: FillStatus;
  consistency: ConsistencyStatus;
}

export interface KeeperStatus {
  version: string;
  state: NodeState;
  peerId: string;
  multiaddrs: string[];
  startedAtMs: number;
  clusterId: number;
  pubsubTopics: string[];
  contentTopics: string[];
  peers: PeerStatus[];
  topics: TopicStatus[];
  archive: ArchiveStatus;
  ingest: IngestStatus;
  store: StoreServerStatus;
  history: HistoryStatus;
}

/** One line of the headless node's stdout, and one entry of the event log. */
export type KeeperEvent =
  | { event: 'ready'; peerId: string; multiaddrs: string[]; api: string; dashboard: string }
  | { event: 'peer:connect'; peerId: string }
  | { event: 'peer:disconnect'; peerId: string }
  | { event: 'retention'; policy: string; messages: number; bytes: number }
  | { event: 'fill:start'; windows: number; pubsubTopics: string[] }
  | { event: 'fill:progress'; pubsubTopic: string; startMs: number; endMs: number; done: number; total: number; messages: number }
  | { event: 'fill:end'; windows: number; verified: number; unverified: number; open: number; messages: number; ms: number }
  | { event: 'check'; pubsubTopic: string; peers: number; missing: number; recovered: number }
  | { event: 'warning'; message: string }
  | { event: 'error'; message: string }
  | { event: 'stopping'; reason: string }
  | { event: 'stopped' };
