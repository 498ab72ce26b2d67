/**
 * The one contract between the Keeper and everything that shows or drives it:
 * the status snapshot and the events. The HTTP API, the Electron IPC and the
 * renderer all use these types. Times are ms since the epoch unless named *Ns.
 * It imports nothing outside main/contract/ (its history, reachability and
 * announcement parts live beside it): every layer may depend on it, and it on none.
 */
import type { Reachability, ReachabilityStatus, ShareInfo } from './reach.ts';

export type * from './reach.ts';
import type { CommunityAnnounceStatus } from './announce.ts';
export type * from './announce.ts';
import type { HistoryStatus } from './history.ts';
export type * from './history.ts';

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
