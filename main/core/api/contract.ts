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
}

/** One line of the headless node's stdout, and one entry of the event log. */
export type KeeperEvent =
  | { event: 'ready'; peerId: string; multiaddrs: string[]; api: string; dashboard: string }
  | { event: 'peer:connect'; peerId: string }
  | { event: 'peer:disconnect'; peerId: string }
  | { event: 'retention'; policy: string; messages: number; bytes: number }
  | { event: 'warning'; message: string }
  | { event: 'error'; message: string }
  | { event: 'stopping'; reason: string }
  | { event: 'stopped' };
