/**
 * The query planner behind Store v3 pages: hash lookups probe the unique
 * index; content-filtered and time-range queries run one index range scan per
 * (pubsub topic, content topic) pair and merge them. The scans' SQL depends on
 * the query's shape, so each shape is prepared on first use and kept.
 */
import type { Database, Statement } from 'better-sqlite3';
import type { ArchiveStatements } from './statements.ts';
import type { ArchivePage, ArchiveQuery, ArchiveRow, Position } from './types.ts';

const MIN_TS = -(2n ** 63n);
const MAX_TS = 2n ** 63n - 1n;

/** A raw result row of a page scan: [hash, pubsub_id, timestamp, rowid]. */
export type ScanRow = [Buffer, bigint, bigint, bigint];

/** The archive's interned topic names, as the scans need them. */
export interface TopicIndex {
  idOf(name: string): number | undefined;
  nameOf(id: number): string;
  /** Every pubsub topic that holds (or held) messages. */
  pubsubIds(): number[];
}

export class PageScanner {
  private readonly db: Database;
  private readonly topics: TopicIndex;
  private readonly stmt: ArchiveStatements;
  private readonly scans = new Map<string, Statement>();

  constructor(db: Database, topics: TopicIndex, stmt: ArchiveStatements) {
    this.db = db;
    this.topics = topics;
    this.stmt = stmt;
  }

  query(q: ArchiveQuery): ArchivePage {
    const limit = Math.max(1, Math.floor(q.limit));
    const candidates = q.hashes && q.hashes.length > 0 ? this.lookupHashes(q) : this.scanRanges(q, limit + 1);
    const more = candidates.length > limit;
    const taken = candidates.slice(0, limit);
    if (!q.forward) taken.reverse();
    return { rows: taken.map((r) => this.toRow(r, q.includeData)), more };
  }

  /** The `count` oldest messages across every topic, for retention by quota. */
  oldest(count: number): ScanRow[] {
    return this.scanRanges({ includeData: false, forward: true, limit: count }, count);
  }

  /** The page's rows; the messages themselves are read only for the rows that made the page. */
  private toRow(r: ScanRow, includeData: boolean): ArchiveRow {
    const row: ArchiveRow = {
      hash: new Uint8Array(r[0].buffer, r[0].byteOffset, r[0].byteLength),
      pubsubTopic: this.topics.nameOf(Number(r[1])),
      timestamp: r[2],
    };
    if (includeData) {
      const m = this.stmt.messageById.get(r[3]) as Buffer | undefined;
      if (m !== undefined) row.message = new Uint8Array(m.buffer, m.byteOffset, m.byteLength);
    }
    return row;
  }

  /** Hash lookups: each a unique-index probe; order, cursor and limit applied here. */
  private lookupHashes(q: ArchiveQuery): ScanRow[] {
    const pubsubId = q.pubsubTopic === undefined ? undefined : this.topics.idOf(q.pubsubTopic);
    if (q.pubsubTopic !== undefined && pubsubId === undefined) return [];
    const seen = new Set<string>();
    const rows: ScanRow[] = [];
    for (const h of q.hashes ?? []) {
      const key = Buffer.from(h.buffer, h.byteOffset, h.byteLength).toString('hex');
      if (seen.has(key)) continue;
      seen.add(key);
      const r = this.stmt.rowByHash.get(h) as ScanRow | undefined;
      if (r === undefined) continue;
      if (pubsubId !== undefined && Number(r[1]) !== pubsubId) continue;
      if (q.timeStart !== undefined && r[2] < q.timeStart) continue;
      if (q.timeEnd !== undefined && r[2] > q.timeEnd) continue;
      rows.push(r);
    }
    rows.sort(q.forward ? compareRows : (a, b) => compareRows(b, a));
    const cursor = q.cursor;
    if (cursor === undefined) return rows;
    return rows.filter((r) => {
      const c = compareToPosition(r, cursor);
      return q.forward ? c > 0 : c < 0;
    });
  }

  /**
   * Content-filtered and time-range queries: one index range scan per
   * (pubsub topic, content topic) pair, each limited to `want` rows, merged.
   */
  private scanRanges(q: ArchiveQuery, want: number): ScanRow[] {
    const scopes = this.scopesOf(q);
    if (scopes.length === 0) return [];
    const withContent = scopes[0]?.contentId !== undefined;
    const stmt = this.scanStatement(withContent, q.forward, q.cursor !== undefined);
    // Inclusive bounds on the index, narrowed by the cursor so the scan seeks to
    // it instead of walking up to it: the cursor's own timestamp is the bound,
    // and ties at that timestamp are settled by the hash.
    let lo = q.timeStart ?? MIN_TS;
    let hi = q.timeEnd ?? MAX_TS;
    if (q.cursor) {
      if (q.forward && q.cursor.timestamp > lo) lo = q.cursor.timestamp;
      if (!q.forward && q.cursor.timestamp < hi) hi = q.cursor.timestamp;
    }
    if (lo > hi) return [];
    const lists: ScanRow[][] = [];
    for (const scope of scopes) {
      const params: unknown[] = [scope.pubsubId];
      if (scope.contentId !== undefined) params.push(scope.contentId);
      params.push(lo, hi);
      if (q.cursor) params.push(q.cursor.timestamp, q.cursor.hash);
      params.push(want);
      const rows = stmt.all(...params) as ScanRow[];
      if (rows.length > 0) lists.push(rows);
    }
    return mergeSorted(lists, want, q.forward);
  }

  private scopesOf(q: ArchiveQuery): { pubsubId: number; contentId?: number }[] {
    const pubsubIds =
      q.pubsubTopic === undefined
        ? this.topics.pubsubIds()
        : [this.topics.idOf(q.pubsubTopic)].filter((id): id is number => id !== undefined);
    if (!q.contentTopics || q.contentTopics.length === 0) return pubsubIds.map((pubsubId) => ({ pubsubId }));
    const contentIds = [...new Set(q.contentTopics)]
      .map((t) => this.topics.idOf(t))
      .filter((id): id is number => id !== undefined);
    return pubsubIds.flatMap((pubsubId) => contentIds.map((contentId) => ({ pubsubId, contentId })));
  }

  /**
   * A page scan reads the index alone (it covers hash, timestamp and rowid):
   * with several content topics each scan reads a page's worth and most of it
   * is merged away, so the messages are read afterwards, for the page only.
   */
  private scanStatement(withContent: boolean, forward: boolean, withCursor: boolean): Statement {
    const key = `${withContent ? 'c' : 'p'}${forward ? 'f' : 'b'}${withCursor ? 'k' : ''}`;
    let stmt = this.scans.get(key);
    if (stmt) return stmt;
    const cols = 'hash, pubsub_id, timestamp, id';
    const where = ['pubsub_id = ?'];
    if (withContent) where.push('content_id = ?');
    where.push('timestamp >= ?', 'timestamp <= ?');
    // Past the cursor: (timestamp, hash) beyond it, written so the bounds above do the seeking.
    if (withCursor) where.push(forward ? '(timestamp > ? OR hash > ?)' : '(timestamp < ? OR hash < ?)');
    const dir = forward ? 'ASC' : 'DESC';
    const index = withContent ? 'messages_by_content_time' : 'messages_by_pubsub_time';
    const sql = `SELECT ${cols} FROM messages INDEXED BY ${index} WHERE ${where.join(' AND ')}
                 ORDER BY timestamp ${dir}, hash ${dir} LIMIT ?`;
    stmt = this.db.prepare(sql).raw(true).safeIntegers(true);
    this.scans.set(key, stmt);
    return stmt;
  }

  /** The SQL and plan of a page scan, for the tests that keep the indexes honest. */
  explain(withContent: boolean, forward: boolean, withCursor: boolean): string[] {
    const stmt = this.scanStatement(withContent, forward, withCursor);
    const params: unknown[] = [1];
    if (withContent) params.push(1);
    params.push(0n, 1n);
    if (withCursor) params.push(0n, Buffer.alloc(32));
    params.push(10);
    const plan = this.db.prepare(`EXPLAIN QUERY PLAN ${stmt.source}`).all(...params) as { detail: string }[];
    return plan.map((p) => p.detail);
  }
}

function compareRows(a: ScanRow, b: ScanRow): number {
  if (a[2] !== b[2]) return a[2] < b[2] ? -1 : 1;
  return Buffer.compare(a[0], b[0]);
}

function compareToPosition(r: ScanRow, p: Position): number {
  if (r[2] !== p.timestamp) return r[2] < p.timestamp ? -1 : 1;
  return Buffer.compare(r[0], p.hash);
}

/** Merges lists each sorted in the query's direction, keeping the first `want`. */
function mergeSorted(lists: ScanRow[][], want: number, forward: boolean): ScanRow[] {
  if (lists.length === 1) return lists[0] ?? [];
  const cmp = forward ? compareRows : (a: ScanRow, b: ScanRow) => compareRows(b, a);
  const heads = lists.map(() => 0);
  const out: ScanRow[] = [];
  while (out.length < want) {
    let best = -1;
    let bestRow: ScanRow | undefined;
    for (let i = 0; i < lists.length; i++) {
      const row = lists[i]?.[heads[i] ?? 0];
      if (row === undefined) continue;
      if (bestRow === undefined || cmp(row, bestRow) < 0) {
        best = i;
        bestRow = row;
      }
    }
    if (bestRow === undefined) break;
    out.push(bestRow);
    heads[best] = (heads[best] ?? 0) + 1;
  }
  return out;
}
