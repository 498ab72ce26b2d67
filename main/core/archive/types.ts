/** What the archive answers with: queries, pages, positions, statistics. */

/** A place in the archive's total order: timestamp, then hash. */
export interface Position {
  timestamp: bigint;
  hash: Uint8Array;
}

export interface ArchiveQuery {
  includeData: boolean;
  pubsubTopic?: string | undefined;
  contentTopics?: readonly string[] | undefined;
  /** Inclusive, ns. */
  timeStart?: bigint | undefined;
  /** Inclusive, ns: as nwaku answers (the spec says exclusive; every deployed client was tested against nwaku). */
  timeEnd?: bigint | undefined;
  hashes?: readonly Uint8Array[] | undefined;
  /** Exclusive. */
  cursor?: Position | undefined;
  forward: boolean;
  limit: number;
}

export interface ArchiveRow {
  hash: Uint8Array;
  pubsubTopic: string;
  timestamp: bigint;
  /** Present when the query asked for data. */
  message?: Uint8Array;
}

export interface ArchivePage {
  /** Always in forward order (timestamp, hash), whatever the query's direction. */
  rows: ArchiveRow[];
  /** More rows lie beyond this page in the query's direction. */
  more: boolean;
}

export interface TopicStats {
  pubsubTopic: string;
  messages: number;
  bytes: number;
  oldest: bigint | null;
  newest: bigint | null;
}

export interface ArchiveStats {
  messages: number;
  /** Sum of the encoded message sizes. */
  messageBytes: number;
  /** Pages in use by the database file (what counts against the quota). */
  usedBytes: number;
  oldest: bigint | null;
  newest: bigint | null;
  topics: TopicStats[];
}

export interface DeletedSummary {
  messages: number;
  bytes: number;
}
