/**
 * The SQLite message archive: one better-sqlite3 connection, WAL, statements
 * prepared once and named after what they answer.
 *
 * Every timestamp is a bigint of nanoseconds; statements that read timestamps
 * use safe integers, since ns values are beyond 2^53.
 */
import BetterSqlite3 from 'better-sqlite3';
import type { Database, Statement } from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { migrate } from './migrations.ts';
import { Checkpointer } from './checkpointer.ts';

export interface ArchiveMessage {
  hash: Uint8Array;
  pubsubTopic: string;
  contentTopic: string;
  timestamp: bigint;
  /** The encoded WakuMessage, served as it is. */
  message: Uint8Array;
  receivedAtMs?: number;
}

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
  /** Exclusive, ns. */
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

const MIN_TS = -(2n ** 63n);
const MAX_TS = 2n ** 63n - 1n;

/** A raw result row of a page scan: [hash, pubsub_id, timestamp, rowid]. */
type ScanRow = [Buffer, bigint, bigint, bigint];

export class Archive {
  readonly path: string;
  private readonly db: Database;
  private readonly topicIds = new Map<string, number>();
  private readonly topicNames = new Map<number, string>();
  private readonly scans = new Map<string, Statement>();
  private readonly stmt: ReturnType<Archive['prepareStatements']>;
  private readonly insertTx: (messages: readonly ArchiveMessage[]) => number;
  private readonly deleteOlderTx: (cutoffNs: bigint, batch: number) => DeletedSummary;
  private readonly deleteOldestTx: (count: number) => DeletedSummary;
  private closed = false;
  private readonly checkpointer: Checkpointer | null;

  private constructor(path: string, db: Database) {
    this.path = path;
    this.db = db;
    this.checkpointer = path === ':memory:' ? null : new Checkpointer(path);
    this.stmt = this.prepareStatements();
    this.insertTx = db.transaction((messages: readonly ArchiveMessage[]) => this.insertRows(messages));
    this.deleteOlderTx = db.transaction((cutoffNs: bigint, batch: number) => this.deleteOlderRows(cutoffNs, batch));
    this.deleteOldestTx = db.transaction((count: number) => this.deleteOldestRows(count));
    for (const row of this.stmt.allTopics.all() as { id: number; name: string }[]) {
      this.topicIds.set(row.name, row.id);
      this.topicNames.set(row.id, row.name);
    }
  }

  static open(path: string): Archive {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    const db = new BetterSqlite3(path);
    try {
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      db.pragma('busy_timeout = 5000');
      // 8 MB of page cache (better-sqlite3's build defaults to 16 MB a connection):
      // the OS file cache behind it does the rest, and a volunteer's node stays small.
      db.pragma('cache_size = -8000');
      db.pragma('journal_size_limit = 67108864');
      // Checkpoints run in a worker (checkpointer.ts), not inside our commits.
      db.pragma('wal_autocheckpoint = 0');
      db.pragma('foreign_keys = OFF');
      migrate(db);
    } catch (err) {
      db.close();
      throw err;
    }
    return new Archive(path, db);
  }

  private prepareStatements() {
    const db = this.db;
    return {
      allTopics: db.prepare('SELECT id, name FROM topics'),
      insertTopic: db.prepare('INSERT OR IGNORE INTO topics (name) VALUES (?)'),
      topicIdByName: db.prepare('SELECT id FROM topics WHERE name = ?').pluck(),
      insertMessage: db.prepare(
        `INSERT OR IGNORE INTO messages (hash, pubsub_id, content_id, timestamp, size, received_at, message)
         VALUES (?, ?, ?, ?, ?, ?, ?)`,
      ),
      addToStats: db.prepare(
        `INSERT INTO topic_stats (pubsub_id, messages, bytes) VALUES (?, ?, ?)
         ON CONFLICT (pubsub_id) DO UPDATE SET messages = messages + excluded.messages, bytes = bytes + excluded.bytes`,
      ),
      topicStats: db.prepare('SELECT pubsub_id, messages, bytes FROM topic_stats ORDER BY pubsub_id').raw(true),
      oldestOfTopic: db
        .prepare('SELECT timestamp FROM messages WHERE pubsub_id = ? ORDER BY timestamp ASC LIMIT 1')
        .pluck()
        .safeIntegers(true),
      newestOfTopic: db
        .prepare('SELECT timestamp FROM messages WHERE pubsub_id = ? ORDER BY timestamp DESC LIMIT 1')
        .pluck()
        .safeIntegers(true),
      positionByHash: db.prepare('SELECT timestamp FROM messages WHERE hash = ?').pluck().safeIntegers(true),
      rowByHash: db.prepare('SELECT hash, pubsub_id, timestamp, id FROM messages WHERE hash = ?').raw(true).safeIntegers(true),
      messageById: db.prepare('SELECT message FROM messages WHERE id = ?').pluck(),
      deleteOlderOfTopic: db
        .prepare(
          `DELETE FROM messages WHERE id IN (
             SELECT id FROM messages WHERE pubsub_id = ? AND timestamp < ? ORDER BY timestamp LIMIT ?)
           RETURNING size`,
        )
        .pluck(),
      deleteByHash: db.prepare('DELETE FROM messages WHERE hash = ? RETURNING pubsub_id, size').raw(true),
      countInRange: db
        .prepare('SELECT COUNT(*) FROM messages WHERE pubsub_id = ? AND timestamp >= ? AND timestamp <= ?')
        .pluck(),
      pageCount: db.prepare('PRAGMA page_count').pluck(),
      freelistCount: db.prepare('PRAGMA freelist_count').pluck(),
      pageSize: db.prepare('PRAGMA page_size').pluck(),
    };
  }

  /**
   * The database connection, for the history tables that live in the same file
   * and must commit in the same transactions as the messages they describe.
   */
  get connection(): Database {
    return this.db;
  }

  /** Runs `fn` in one transaction (nested calls become savepoints). */
  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  /** Messages of a pubsub topic with timestamps in [startNs, endNs]. */
  countInRange(pubsubTopic: string, startNs: bigint, endNs: bigint): number {
    const id = this.topicIds.get(pubsubTopic);
    if (id === undefined) return 0;
    return this.stmt.countInRange.get(id, startNs, endNs) as number;
  }

  // ---- topics -------------------------------------------------------------

  private internTopic(name: string): number {
    const known = this.topicIds.get(name);
    if (known !== undefined) return known;
    this.stmt.insertTopic.run(name);
    const id = this.stmt.topicIdByName.get(name) as number;
    this.topicIds.set(name, id);
    this.topicNames.set(id, name);
    return id;
  }

  private topicName(id: number): string {
    return this.topicNames.get(id) ?? '';
  }

  // ---- writing ------------------------------------------------------------

  /**
   * Inserts a batch in one transaction; messages already present are ignored.
   * Returns how many were new.
   */
  insert(messages: readonly ArchiveMessage[]): number {
    if (messages.length === 0) return 0;
    return this.insertTx(messages);
  }

  private insertRows(messages: readonly ArchiveMessage[]): number {
    const added = new Map<number, { messages: number; bytes: number }>();
    let inserted = 0;
    const now = Date.now();
    for (const m of messages) {
      const pubsubId = this.internTopic(m.pubsubTopic);
      const contentId = this.internTopic(m.contentTopic);
      const info = this.stmt.insertMessage.run(
        m.hash,
        pubsubId,
        contentId,
        m.timestamp,
        m.message.length,
        m.receivedAtMs ?? now,
        m.message,
      );
      if (info.changes === 0) continue;
      inserted++;
      const s = added.get(pubsubId) ?? { messages: 0, bytes: 0 };
      s.messages++;
      s.bytes += m.message.length;
      added.set(pubsubId, s);
    }
    for (const [pubsubId, s] of added) this.stmt.addToStats.run(pubsubId, s.messages, s.bytes);
    return inserted;
  }

  // ---- reading ------------------------------------------------------------

  /** The position of a stored message, for turning a cursor hash into a place in the order. */
  positionOf(hash: Uint8Array): Position | undefined {
    const timestamp = this.stmt.positionByHash.get(hash) as bigint | undefined;
    return timestamp === undefined ? undefined : { timestamp, hash };
  }

  has(hash: Uint8Array): boolean {
    return this.stmt.positionByHash.get(hash) !== undefined;
  }

  query(q: ArchiveQuery): ArchivePage {
    const limit = Math.max(1, Math.floor(q.limit));
    const candidates = q.hashes && q.hashes.length > 0 ? this.lookupHashes(q) : this.scanRanges(q, limit + 1);
    const more = candidates.length > limit;
    const taken = candidates.slice(0, limit);
    if (!q.forward) taken.reverse();
    return { rows: taken.map((r) => this.toRow(r, q.includeData)), more };
  }

  /** The page's rows; the messages themselves are read only for the rows that made the page. */
  private toRow(r: ScanRow, includeData: boolean): ArchiveRow {
    const row: ArchiveRow = {
      hash: new Uint8Array(r[0].buffer, r[0].byteOffset, r[0].byteLength),
      pubsubTopic: this.topicName(Number(r[1])),
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
    const pubsubId = q.pubsubTopic === undefined ? undefined : this.topicIds.get(q.pubsubTopic);
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
      if (q.timeEnd !== undefined && r[2] >= q.timeEnd) continue;
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
    let hi = q.timeEnd === undefined ? MAX_TS : q.timeEnd - 1n;
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
        ? (this.stmt.topicStats.all() as [number, number, number][]).map((r) => r[0])
        : [this.topicIds.get(q.pubsubTopic)].filter((id): id is number => id !== undefined);
    if (!q.contentTopics || q.contentTopics.length === 0) return pubsubIds.map((pubsubId) => ({ pubsubId }));
    const contentIds = [...new Set(q.contentTopics)]
      .map((t) => this.topicIds.get(t))
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
  explainScan(withContent: boolean, forward: boolean, withCursor: boolean): string[] {
    const stmt = this.scanStatement(withContent, forward, withCursor);
    const params: unknown[] = [1];
    if (withContent) params.push(1);
    params.push(0n, 1n);
    if (withCursor) params.push(0n, Buffer.alloc(32));
    params.push(10);
    const plan = this.db.prepare(`EXPLAIN QUERY PLAN ${stmt.source}`).all(...params) as { detail: string }[];
    return plan.map((p) => p.detail);
  }

  // ---- statistics ---------------------------------------------------------

  stats(): ArchiveStats {
    const topics: TopicStats[] = [];
    let messages = 0;
    let messageBytes = 0;
    let oldest: bigint | null = null;
    let newest: bigint | null = null;
    for (const [pubsubId, count, bytes] of this.stmt.topicStats.all() as [number, number, number][]) {
      const o = (this.stmt.oldestOfTopic.get(pubsubId) as bigint | undefined) ?? null;
      const n = (this.stmt.newestOfTopic.get(pubsubId) as bigint | undefined) ?? null;
      topics.push({ pubsubTopic: this.topicName(pubsubId), messages: count, bytes, oldest: o, newest: n });
      messages += count;
      messageBytes += bytes;
      if (o !== null && (oldest === null || o < oldest)) oldest = o;
      if (n !== null && (newest === null || n > newest)) newest = n;
    }
    return { messages, messageBytes, usedBytes: this.usedBytes(), oldest, newest, topics };
  }

  usedBytes(): number {
    const pages = (this.stmt.pageCount.get() as number) - (this.stmt.freelistCount.get() as number);
    return pages * (this.stmt.pageSize.get() as number);
  }

  // ---- retention ----------------------------------------------------------

  /** Deletes up to `batch` messages per pubsub topic older than `cutoffNs`. */
  deleteOlderThan(cutoffNs: bigint, batch: number): DeletedSummary {
    return this.deleteOlderTx(cutoffNs, batch);
  }

  private deleteOlderRows(cutoffNs: bigint, batch: number): DeletedSummary {
    const total: DeletedSummary = { messages: 0, bytes: 0 };
    for (const [pubsubId] of this.stmt.topicStats.all() as [number, number, number][]) {
      const sizes = this.stmt.deleteOlderOfTopic.all(pubsubId, cutoffNs, batch) as number[];
      if (sizes.length === 0) continue;
      const bytes = sizes.reduce((a, b) => a + b, 0);
      this.stmt.addToStats.run(pubsubId, -sizes.length, -bytes);
      total.messages += sizes.length;
      total.bytes += bytes;
    }
    return total;
  }

  /** Deletes the `count` oldest messages across all topics. */
  deleteOldest(count: number): DeletedSummary {
    return this.deleteOldestTx(count);
  }

  private deleteOldestRows(count: number): DeletedSummary {
    const oldest = this.scanRanges({ includeData: false, forward: true, limit: count }, count);
    const removed = new Map<number, DeletedSummary>();
    for (const row of oldest) {
      const r = this.stmt.deleteByHash.get(row[0]) as [number, number] | undefined;
      if (r === undefined) continue;
      const s = removed.get(r[0]) ?? { messages: 0, bytes: 0 };
      s.messages++;
      s.bytes += r[1];
      removed.set(r[0], s);
    }
    const total: DeletedSummary = { messages: 0, bytes: 0 };
    for (const [pubsubId, s] of removed) {
      this.stmt.addToStats.run(pubsubId, -s.messages, -s.bytes);
      total.messages += s.messages;
      total.bytes += s.bytes;
    }
    return total;
  }

  /** Hands up to `pages` free pages back to the file system. */
  releaseFreePages(pages: number): void {
    this.db.pragma(`incremental_vacuum(${Math.max(0, Math.floor(pages))})`);
  }

  integrityCheck(): string {
    return this.db.pragma('integrity_check', { simple: true }) as string;
  }

  get isOpen(): boolean {
    return !this.closed;
  }

  /** Closes the database: the checkpoint worker first, then a final checkpoint that empties the WAL. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    void this.checkpointer?.close();
    try {
      this.db.pragma('wal_checkpoint(TRUNCATE)');
    } finally {
      this.db.close();
    }
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
