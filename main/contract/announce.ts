/**
 * The contract's announcements part: the Keepers of each kept community as
 * their signed announcements describe them, the community's coverage map, and
 * what was refused. Imports nothing, like the rest of the contract.
 */

/** Why an announcement was not believed (docs/announcement-protocol.md). */
export type AnnounceRefusal =
  | 'oversized'
  | 'malformed'
  | 'unsigned'
  | 'bad-signature'
  | 'wrong-community'
  | 'stale'
  | 'future'
  | 'replayed'
  | 'rate-limited'
  | 'too-many-keepers';

export interface AnnouncedKeeper {
  peerId: string;
  /** This Keeper's own announcement. */
  self: boolean;
  role: 'owner' | 'volunteer';
  /** Where it says it can be dialled (with /p2p/ left off); empty: it cannot be dialled. */
  multiaddrs: string[];
  enr: string | null;
  retentionMs: number;
  freeBytes: number;
  /** What it attests holding of the last 30 days. */
  held: { startMs: number; endMs: number }[];
  /** Share of the last 30 days it attests holding. */
  heldShare: number;
  /** Share of the last 30 days it was online. */
  onlineShare: number;
  software: string;
  seq: number;
  issuedMs: number;
  /** When this Keeper last accepted an announcement from it. */
  lastSeenMs: number;
  /** Vouched for by an owner's Keeper of this community (an owner's own Keeper is not "endorsed"). */
  endorsedByOwner: boolean;
  /** Its answers contradicted its claimed coverage: it lost standing (issue 15's penalty). */
  standingLost: boolean;
  standingReason: string | null;
}

/** One stretch of the community's 30 days and how many Keepers hold it. */
export interface CoverageMapStretch {
  startMs: number;
  endMs: number;
  keepers: number;
  /** Held by fewer than two Keepers: the history rests on one node, or on none. */
  thin: boolean;
}

export interface CommunityAnnounceStatus {
  /** The community's (first entry's) name. */
  community: string;
  /** What announcements are bound to: the Status community id, or c-<hash> for a custom one. */
  key: string;
  pubsubTopic: string;
  contentTopic: string;
  keepers: AnnouncedKeeper[];
  /** The last 30 days in order, each stretch once. */
  map: CoverageMapStretch[];
  /** Share of the 30 days held by fewer than two Keepers. */
  thinShare: number;
  refused: Partial<Record<AnnounceRefusal, number>>;
  accepted: number;
  published: number;
  lastPublishedMs: number | null;
  /** The size of this Keeper's last announcement (the signed envelope, the WakuMessage's payload). */
  lastBytes: number | null;
}
