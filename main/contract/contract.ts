/**
 * The one contract between the Keeper and everything that shows or drives it:
 * the status snapshot and the events. The HTTP API, the Electron IPC and the
 * renderer all use these types. Times are ms since the epoch unless named *Ns.
 * It imports nothing outside main/contract/ (its reachability part lives in
 * reach.ts): every layer may depend on it, and it on none.
 */
import type { Reachability, ReachabilityStatus, ShareInfo } from './reach.ts';

export type * from './reach.ts';
import type { CommunityAnnounceStatus } from './announce.ts';
export type * from './announce.ts';

/** Why a message was refused: by relay validation, or in a store peer's answer. */
export type RejectReason =
  | 'undecodable'
  | 'bad-pubsub-topic'
  | 'bad-content-topic'
  | 'too-large'
  | 'meta-too-large'
  | 'no-timestamp'
  | 'clock-skew'
  | 'ephemeral'
  | 'unknown-topic'
  // Protected shards:
  | 'unsigned'
  | 'bad-signature'
  | 'signature-expired'
  // Answers from store peers:
  | 'missing-message'
  | 'wrong-topic'
  | 'outside-window'
  | 'hash-mismatch';

export type NodeState = 'starting' | 'online' | 'offline' | 'stopping';

export interface PeerStatus {
  peerId: string;
  addrs: string[];
  protocols: string[];
  direction: 'inbound' | 'outbound';
  /** Subscribed with us to at least one of our topics, or speaks Waku Relay. */
  relay: boolean;
  /** Our pubsub topics on which this peer is in our relay mesh. */
  mesh: string[];
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
  /** Valid messages that could not be written (disk full, I/O error). */
  unwritable: number;
  /** Messages stored (relay and filling) in the last 60 seconds. */
  lastMinute: number;
  rejected: Partial<Record<RejectReason, number>>;
}

export interface StoreServerStatus {
  /** Requests answered, by status code. */
  requests: Record<string, number>;
  /** Messages sent in answers: with their bodies, and as hashes only (include_data=false). */
  messages: { bodies: number; hashes: number };
}

// ---- history (uptime, gap filling, completeness) ------------------------------

export interface TimeRange {
  startMs: number;
  endMs: number;
}

export interface FilledRange extends TimeRange {
  verified: boolean;
  /** The peers that filled it attested holding it. */
  attested: boolean;
  /** Peers that answered this stretch completely. */
  peers: string[];
}

/**
 * Why a stretch is still missing: not tried yet, nobody to ask, the peers asked
 * failed, the peers asked attest they do not hold it either (it is asked again
 * when one that does turns up), or this archive could not store the answer.
 */
export type GapReason = 'pending' | 'no-peer' | 'peer-failed' | 'not-held' | 'archive-error';

export interface GapStatus extends TimeRange {
  reason: GapReason;
  detail: string | null;
}

/** How a stretch of the window is held, best first. */
export type SegmentKind = 'online' | 'verified' | 'unverified' | 'missing';

export interface TimelineSegment extends TimeRange {
  kind: SegmentKind;
  /** Filled stretches: the peers that answered them. */
  peers: string[];
  /** Missing stretches: why. */
  reason: GapReason | null;
  detail: string | null;
}

export interface TopicHistory {
  pubsubTopic: string;
  /** The retention window the shares are of. */
  windowStartMs: number;
  windowEndMs: number;
  /** Share of the window held: online, or filled by store peers (attested or not). */
  coveredShare: number;
  /**
   * Share of the window held and verified: online, or filled by at least the
   * quorum of peers that attested holding it. What this Keeper attests to others,
   * and the completeness it reports.
   */
  verifiedShare: number;
  /** Share held but not verified: filled by unattested peers (nwaku), or by fewer attesting peers than the quorum. */
  unattestedShare: number;
  online: TimeRange[];
  filled: FilledRange[];
  /** Held but not verified: filled by unattested peers, or attested by fewer than the quorum. */
  unverified: FilledRange[];
  gaps: GapStatus[];
  /** The whole window in order, each stretch once, by how it is held. */
  segments: TimelineSegment[];
}

/** Configured, met by chance (identify), or learnt from a community's signed announcements. */
export type StorePeerSource = 'static' | 'discovered' | 'announced';

/** A store peer: how to reach it, and how it has answered (kept across restarts), with what is live now. */
export interface StorePeerStatus {
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
  /** Speaks the coverage protocol (its answers can verify), does not (they fill, never verify), or not known yet. */
  attests: boolean | null;
  /** Coverage answers refused: unsigned, badly signed, oversized, or for another question. */
  refused: number;
  /** When it last answered short of what it attested holding, and how; its attestations count for nothing for a while after. */
  standingLostMs: number | null;
  standingReason: string | null;
  /** Live, not kept: connected now, backing off until when after failures, and whether its attestations count now. */
  connected: boolean;
  backoffUntilMs: number | null;
  trusted: boolean;
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
  /** Messages the check found missing and stored, since start: fetched by hash, or pushed in the syncs it began. */
  recovered: number;
  checks: number;
  /** Peers compared, since start: by Waku Sync (peers that speak reconciliation), by hash listings (the rest). */
  compared: { sync: number; hashes: number };
  sync: SyncStatus;
}

export type SyncOutcome = 'complete' | 'truncated' | 'refused' | 'cut-off' | 'failed';

/** Waku Sync 2.0 (`/vac/waku/reconciliation/1.0.0` + `/vac/waku/transfer/1.0.0`), since start, both roles. */
export interface SyncStatus {
  /** --store-sync: this node answers reconciliation and syncs with peers that speak it. */
  enabled: boolean;
  /** Sessions begun (initiated) and answered, and how they ended. */
  sessions: { initiated: number; answered: number } & Record<SyncOutcome, number>;
  /** Sessions and transfer streams cut off, by reason. */
  cutOff: Record<string, number>;
  /** Sessions refused to peers: rate limit, too many at once, stopping. */
  rateLimited: number;
  /** Pushed to peers, found but not sent, received valid, new to the archive, expected and never delivered. */
  messages: { pushed: number; unsent: number; received: number; stored: number; undelivered: number };
  /** Pushed messages refused, by reason. */
  refused: Record<string, number>;
  /** The last session the consistency check began. */
  last: SyncSessionStatus | null;
}

export interface SyncSessionStatus {
  peerId: string;
  pubsubTopic: string;
  /** The peer is a Keeper (it speaks the coverage protocol): the retention window was synced; else --store-sync-range. */
  keeper: boolean;
  startMs: number;
  endMs: number;
  outcome: SyncOutcome;
  reason: string | null;
  rounds: number;
  /** Missing here (found, stored) and missing there (found, pushed). */
  weLacked: number;
  stored: number;
  theyLacked: number;
  pushed: number;
  undelivered: number;
  ms: number;
  atMs: number;
}

/** One kept community's own completeness, storage and fill (its pubsub topic and content topics). */
export interface CommunityHistory extends TopicHistory {
  name: string;
  contentTopics: string[];
  /** When this Keeper began keeping it: its online time counts for it only from here. */
  keptSinceMs: number;
  storage: { messages: number; bytes: number; quotaBytes: number | null; retentionMs: number; oldestMs: number | null; limitedByQuota: boolean };
  fill: { running: boolean; windowsDone: number; windowsTotal: number; messages: number };
}

export interface HistoryStatus {
  fillQuorum: number;
  /** Over every relayed topic: the share of the retention window held, attested or not. */
  coveredShare: number;
  /** Over every relayed topic: the share held and verified (what the tray, the overview and the metrics call complete). */
  verifiedShare: number;
  /** Over every relayed topic: the share held but not verified. */
  unattestedShare: number;
  /** Share of the retention window this node was online on at least one topic. */
  uptimeShare: number;
  /**
   * The archive is at its quota: history older than its oldest message was let
   * go for space, and the window the shares are of starts there.
   */
  limitedByQuota: boolean;
  topics: TopicHistory[];
  /** One per kept community, each with its own figures; empty when keeping everything on the relayed topics. */
  communities: CommunityHistory[];
  storePeers: StorePeerStatus[];
  fill: FillStatus;
  consistency: ConsistencyStatus;
}

// ---- settings ---------------------------------------------------------------

/** Owners keep their own community's history; volunteers donate disk to one. */
export type Role = 'owner' | 'volunteer';

/** Where a Status community's topics came from: its key, from a link, a bare key or its id. */
export interface StatusCommunityOrigin {
  /** `0x` + 66 lowercase hex: the community's compressed public key, as status-go names it. */
  communityId: string;
  /** The same key as links carry it (`zQ3…`). */
  key: string;
  /** The display name the link carried, if any: unauthenticated (links have no checksum or signature). */
  linkName: string | null;
}

export interface Community {
  name: string;
  pubsubTopic: string;
  contentTopics: string[];
  /**
   * Derived from a Status community (its topics read-only); absent for custom
   * topics of a non-Status app. A Status community can be kept as more than one
   * entry (one per pubsub topic its traffic uses), each with the same origin.
   */
  status?: StatusCommunityOrigin;
  /** Donated space for this community; the oldest of its own messages go first past it. Null: the archive's quota only. */
  quotaBytes?: number | null;
  /** How long this community's messages are kept; null: the archive's retention. */
  retentionMs?: number | null;
}

/** A community named by a Status link (`https://status.app/c/…#zQ3…`), a bare `zQ3…` key or a `0x…` id. */
export interface CommunityRefInput {
  ref: string;
  /** A name to show; defaults to the link's display name, else a short form of the id. */
  name?: string;
}

/** Which community to stop keeping (with a Status community, every entry of it), and whether its messages go too. */
export interface RemoveCommunityInput {
  name: string;
  /**
   * Delete its messages from the archive: its content topics on its pubsub
   * topics, except those another kept community still keeps there.
   */
  deleteMessages?: boolean;
}

export interface RemovedCommunities {
  /** The entries no longer kept. */
  removed: string[];
  /** Messages deleted from the archive with them (0 unless asked). */
  deletedMessages: number;
}

/** A community's own donated space and retention; null for either: the archive's. */
export interface CommunityStorageInput {
  name: string;
  quotaBytes: number | null;
  retentionMs: number | null;
}

export interface SettingsStatus {
  /** Null until the first-run setup is done. */
  role: Role | null;
  setupNeeded: boolean;
  communities: Community[];
  /** Configured store peers (flags and dashboard), as multiaddrs. */
  storePeers: string[];
}

export interface ProcessStatus {
  rssBytes: number;
  heapUsedBytes: number;
  /** Event-loop lag over the last complete window: what relay and store serving feel. */
  eventLoopLag: { p50Ms: number; p99Ms: number; maxMs: number; windowMs: number };
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
  settings: SettingsStatus;
  process: ProcessStatus;
  reach: ReachabilityStatus;
  share: ShareInfo;
  /** Per kept community: its Keepers as their announcements say, the coverage map, what was refused. */
  announce: CommunityAnnounceStatus[];
}

/** One line of the headless node's stdout, and one entry of the event log. */
export type KeeperEvent =
  | {
      event: 'ready';
      peerId: string;
      multiaddrs: string[];
      api: string;
      dashboard: string;
      rest?: string;
      /** The signed ENR, and the addresses to share (public ones when known). */
      enr: string;
      share: string[];
      reachability: Reachability;
    }
  | { event: 'reachability'; reachability: Reachability; reason: string; addresses: string[] }
  | { event: 'peer:connect'; peerId: string }
  | { event: 'peer:disconnect'; peerId: string }
  | { event: 'retention'; policy: string; messages: number; bytes: number }
  | { event: 'fill:start'; windows: number; pubsubTopics: string[] }
  | { event: 'fill:progress'; pubsubTopic: string; startMs: number; endMs: number; done: number; total: number; messages: number }
  | { event: 'fill:end'; windows: number; verified: number; unverified: number; open: number; messages: number; ms: number }
  | { event: 'check'; pubsubTopic: string; peers: number; missing: number; recovered: number }
  | { event: 'settings'; change: string }
  | { event: 'warning'; message: string }
  | { event: 'error'; message: string }
  | { event: 'stopping'; reason: string }
  | { event: 'stopped' };

export type LogLevel = 'info' | 'warning' | 'error';

export interface LogEntry {
  atMs: number;
  level: LogLevel;
  event: KeeperEvent;
}

// ---- commands: the one API the dashboard drives the Keeper through -----------

export type ApiErrorCode = 'invalid' | 'not-found' | 'conflict' | 'unavailable' | 'internal';

/** Every answer across a process boundary: a value, or an error the UI can show. */
export type ApiResult<T> = { ok: true; value: T } | { ok: false; error: { code: ApiErrorCode; message: string; field?: string } };

export interface SetupInput {
  role: Role;
  /** The community to keep, by its topics or as a Status link, key or id; null keeps whatever the node relays. */
  community: Community | CommunityRefInput | null;
  quotaBytes: number;
}

export interface StorageInput {
  quotaBytes: number;
  retentionMs: number;
}

export interface KeeperCommands {
  getStatus(): Promise<ApiResult<KeeperStatus>>;
  getLog(): Promise<ApiResult<LogEntry[]>>;
  setup(input: SetupInput): Promise<ApiResult<null>>;
  setRole(role: Role): Promise<ApiResult<null>>;
  /** The entries a Status link, key or id stands for, derived and shown, nothing changed; errors name `ref`. */
  previewCommunity(ref: string): Promise<ApiResult<Community[]>>;
  /** Keeps a community: by its topics (a non-Status app), or a Status community by its link, key or id (all its entries). */
  addCommunity(community: Community | CommunityRefInput): Promise<ApiResult<null>>;
  /** By name (a string), or with the choice to delete its messages. */
  removeCommunity(input: string | RemoveCommunityInput): Promise<ApiResult<RemovedCommunities>>;
  setCommunityStorage(input: CommunityStorageInput): Promise<ApiResult<null>>;
  addStorePeer(multiaddr: string): Promise<ApiResult<null>>;
  removeStorePeer(peerId: string): Promise<ApiResult<null>>;
  setStorage(input: StorageInput): Promise<ApiResult<null>>;
  fillNow(): Promise<ApiResult<null>>;
}

export type CommandName = keyof KeeperCommands;

/** The commands by name: HTTP routes, IPC channels and the preload are all made from this list. */
export const COMMANDS = [
  'getStatus',
  'getLog',
  'setup',
  'setRole',
  'previewCommunity',
  'addCommunity',
  'removeCommunity',
  'setCommunityStorage',
  'addStorePeer',
  'removeStorePeer',
  'setStorage',
  'fillNow',
] as const satisfies readonly CommandName[];

/** What the renderer holds: the commands plus pushed updates. */
export interface KeeperApi extends KeeperCommands {
  /** Pushed status snapshots; returns an unsubscribe function. */
  onStatus(listener: (status: KeeperStatus) => void): () => void;
  /** Pushed log entries; returns an unsubscribe function. */
  onLog(listener: (entry: LogEntry) => void): () => void;
}
