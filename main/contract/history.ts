/**
 * The contract's history part: uptime, gap filling, completeness per topic and
 * per community, store peers, the consistency checks and Waku Sync's figures.
 * Imports nothing, like the rest of the contract.
 */
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
  /** The last error it gave, kept after later successes (`failures` says whether it is failing now): a peer that misbehaves now and then shows how. */
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
