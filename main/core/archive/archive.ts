/**
 * The SQLite message archive: one better-sqlite3 connection, WAL, numbered
 * migrations, statements prepared once (statements.ts) and page scans planned
 * by shape (page-scan.ts). Messages enter it only through the ArchiveWriter.
 *
 * Every timestamp is a bigint of nanoseconds; statements that read timestamps
 * use safe integers, since ns values are beyond 2^53.
 */
import BetterSqlite3 from 'better-sqlite3';
import type { Database } from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { toHex } from '../message/hash.ts';
import type { ArchiveMessage } from '../message/message.ts';
import { Checkpointer } from './checkpointer.ts';
import { migrate } from './migrations.ts';
import { PageScanner } from './page-scan.ts';
import type { TopicIndex } from './page-scan.ts';
import { prepareArchiveStatements } from './statements.ts';
import type { ArchiveStatements } from './statements.ts';
import type { ArchivePage, ArchiveQuery, ArchiveStats, DeletedSummary, Position, TopicStats } from './types.ts';

export class Archive {
  readonly path: string;
  private readonly db: Database;
  private readonly topicIds = new Map<string, number>();
  private readonly topicNames = new Map<number, string>();
  private readonly stmt: ArchiveStatements;
  private readonly scanner: PageScanner;
  private readonly insertTx: (messages: readonly ArchiveMessage[]) => number;
  private readonly deleteOlderTx: (cutoffNs: bigint, batch: number) => DeletedSummary;
  private readonly deleteOldestTx: (count: number) => DeletedSummary;
  private readonly deleteContentTx: (pubsubTopic: string, contentTopics: readonly string[] | null, keep: readonly string[], batch: number) => DeletedSummary;
  private readonly deleteOldestOfTx: (pubsubTopic: string, contentTopics: readonly string[], count: number, beforeNs: bigint) => DeletedSummary;
  private closed = false;
  private readonly checkpointer: Checkpointer | null;

  private constructor(path: string, db: Database) {
    this.path = path;
    this.db = db;
    this.checkpointer = path === ':memory:' ? null : new Checkpointer(path);
    this.stmt = prepareArchiveStatements(db);
    const topics: TopicIndex = {
      idOf: (name) => this.topicIds.get(name),
      nameOf: (id) => this.topicNames.get(id) ?? '',
      pubsubIds: () => (this.stmt.topicStats.all() as [number, number, number][]).map((r) => r[0]),
    };
    this.scanner = new PageScanner(db, topics, this.stmt);
    this.insertTx = db.transaction((messages: readonly ArchiveMessage[]) => this.insertRows(messages));
    this.deleteOlderTx = db.transaction((cutoffNs: bigint, batch: number) => this.deleteOlderRows(cutoffNs, batch));
    this.deleteOldestTx = db.transaction((count: number) => this.deleteOldestRows(count));
    this.deleteContentTx = db.transaction((pubsubTopic: string, contentTopics: readonly string[] | null, keep: readonly string[], batch: number) =>
      this.deleteContentRows(pubsubTopic, contentTopics, keep, batch),
    );
    this.deleteOldestOfTx = db.transaction((pubsubTopic: string, contentTopics: readonly string[], count: number, beforeNs: bigint) =>
      this.deleteOldestOfRows(pubsubTopic, contentTopics, count, beforeNs),
    );
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

  private internTopic(name: string): number {
    const known = this.topicIds.get(name);
    if (known !== undefined) return known;
    this.stmt.insertTopic.run(name);
    const id = this.stmt.topicIdByName.get(name) as number;
    this.topicIds.set(name, id);
    this.topicNames.set(id, name);
    return id;
  }

  // ---- writing (the ArchiveWriter's; nothing else writes messages) -----------

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
    const addedContent = new Map<number, { pubsubId: number; contentId: number; messages: number; bytes: number }>();
    let inserted = 0;
    const now = Date.now();
    for (const m of messages) {
      const pubsubId = this.internTopic(m.pubsubTopic);
      const contentId = this.internTopic(m.contentTopic);
      const info = this.stmt.insertMessage.run(m.hash, pubsubId, contentId, m.timestamp, m.message.length, m.receivedAtMs ?? now, m.message);
      if (info.changes === 0) continue;
      inserted++;
      const s = added.get(pubsubId) ?? { messages: 0, bytes: 0 };
      s.messages++;
      s.bytes += m.message.length;
      added.set(pubsubId, s);
      // A number, not a string: this runs once per message on the ingest path.
      const key = pubsubId * 2 ** 32 + contentId;
      const c = addedContent.get(key) ?? { pubsubId, contentId, messages: 0, bytes: 0 };
      c.messages++;
      c.bytes += m.message.length;
      addedContent.set(key, c);
    }
    for (const [pubsubId, s] of added) this.stmt.addToStats.run(pubsubId, s.messages, s.bytes);
    for (const c of addedContent.values()) this.stmt.addToContentStats.run(c.pubsubId, c.contentId, c.messages, c.bytes);
    return inserted;
  }

  // ---- reading --------------------------------------------------------------

  /** The position of a stored message, for turning a cursor hash into a place in the order. */
  positionOf(hash: Uint8Array): Position | undefined {
    const timestamp = this.stmt.positionByHash.get(hash) as bigint | undefined;
    return timestamp === undefined ? undefined : { timestamp, hash };
  }

  /**
   * Every message of a pubsub topic (and of these content topics, when given)
   * with its time inside [startNs, endNs], as hex hash → timestamp: one
   * ordered scan, where a lookup per hash would cost a fill a second per
   * hundred thousand. The event loop turns between pages of a thousand: a
   * day of a busy topic scanned at once stalled relay and serving.
   */
  async hashesIn(pubsubTopic: string, startNs: bigint, endNs: bigint, contentTopics?: readonly string[]): Promise<Map<string, bigint>> {
    const out = new Map<string, bigint>();
    let cursor: Position | undefined;
    for (;;) {
      const page = this.scanner.query({
        includeData: false,
        pubsubTopic,
        contentTopics: contentTopics !== undefined && contentTopics.length > 0 ? contentTopics : undefined,
        timeStart: startNs,
        timeEnd: endNs,
        cursor,
        forward: true,
        limit: 1000,
      });
      for (const r of page.rows) out.set(toHex(r.hash), r.timestamp);
      const last = page.rows[page.rows.length - 1];
      if (!page.more || last === undefined) return out;
      cursor = { timestamp: last.timestamp, hash: last.hash };
      await new Promise((resolve) => setImmediate(resolve));
      if (!this.isOpen) throw new Error('the archive was closed during a scan');
    }
  }

  has(hash: Uint8Array): boolean {
    return this.stmt.positionByHash.get(hash) !== undefined;
  }

  query(q: ArchiveQuery): ArchivePage {
    return this.scanner.query(q);
  }

  /** The SQL and plan of a page scan, for the tests that keep the indexes honest. */
  explainScan(withContent: boolean, forward: boolean, withCursor: boolean): string[] {
    return this.scanner.explain(withContent, forward, withCursor);
  }

  stats(): ArchiveStats {
    const topics: TopicStats[] = [];
    let messages = 0;
    let messageBytes = 0;
    let oldest: bigint | null = null;
    let newest: bigint | null = null;
    for (const [pubsubId, count, bytes] of this.stmt.topicStats.all() as [number, number, number][]) {
      const o = (this.stmt.oldestOfTopic.get(pubsubId) as bigint | undefined) ?? null;
      const n = (this.stmt.newestOfTopic.get(pubsubId) as bigint | undefined) ?? null;
      topics.push({ pubsubTopic: this.topicNames.get(pubsubId) ?? '', messages: count, bytes, oldest: o, newest: n });
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

  // ---- retention --------------------------------------------------------------

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

  /**
   * Messages, bytes and the oldest timestamp of a pubsub topic's messages on
   * these content topics: a community's share of the archive, from the counters.
   */
  contentStats(pubsubTopic: string, contentTopics: readonly string[]): { messages: number; bytes: number; oldest: bigint | null } {
    const pubsubId = this.topicIds.get(pubsubTopic);
    const out = { messages: 0, bytes: 0, oldest: null as bigint | null };
    if (pubsubId === undefined) return out;
    for (const t of new Set(contentTopics)) {
      const contentId = this.topicIds.get(t);
      if (contentId === undefined) continue;
      const row = this.stmt.contentStatsOf.get(pubsubId, contentId) as [number, number] | undefined;
      if (row === undefined || row[0] <= 0) continue;
      out.messages += row[0];
      out.bytes += row[1];
      const o = (this.stmt.oldestOfContent.get(pubsubId, contentId) as bigint | undefined) ?? null;
      if (o !== null && (out.oldest === null || o < out.oldest)) out.oldest = o;
    }
    return out;
  }

  /**
   * Deletes up to `count` of the oldest messages of a pubsub topic on these
   * content topics, older than `beforeNs` (a community's retention or quota):
   * other content topics lose nothing.
   */
  deleteOldestOf(pubsubTopic: string, contentTopics: readonly string[], count: number, beforeNs: bigint): DeletedSummary {
    return this.deleteOldestOfTx(pubsubTopic, contentTopics, count, beforeNs);
  }

  private deleteOldestOfRows(pubsubTopic: string, contentTopics: readonly string[], count: number, beforeNs: bigint): DeletedSummary {
    const total: DeletedSummary = { messages: 0, bytes: 0 };
    const pubsubId = this.topicIds.get(pubsubTopic);
    if (pubsubId === undefined || count <= 0) return total;
    // The oldest `count` of each content topic, then the oldest `count` of their union.
    const candidates: [bigint, bigint][] = [];
    for (const t of new Set(contentTopics)) {
      const contentId = this.topicIds.get(t);
      if (contentId !== undefined) candidates.push(...(this.stmt.oldestIdsOfContent.all(pubsubId, contentId, beforeNs, count) as [bigint, bigint][]));
    }
    candidates.sort((a, b) => (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
    for (const [id] of candidates.slice(0, count)) {
      const r = this.stmt.deleteById.get(id) as [number, number] | undefined;
      if (r === undefined) continue;
      this.stmt.addToStats.run(r[0], -1, -r[1]);
      total.messages++;
      total.bytes += r[1];
    }
    return total;
  }

  /** Deletes the `count` oldest messages across all topics. */
  deleteOldest(count: number): DeletedSummary {
    return this.deleteOldestTx(count);
  }

  private deleteOldestRows(count: number): DeletedSummary {
    const removed = new Map<number, DeletedSummary>();
    for (const row of this.scanner.oldest(count)) {
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

  /**
   * Deletes up to `batch` messages of a pubsub topic on the given content
   * topics (null: on any), never on one of `keep`: what goes with a removed
   * community. Call again until it deletes nothing.
   */
  deleteContent(pubsubTopic: string, contentTopics: readonly string[] | null, keep: readonly string[], batch: number): DeletedSummary {
    return this.deleteContentTx(pubsubTopic, contentTopics, keep, batch);
  }

  private deleteContentRows(pubsubTopic: string, contentTopics: readonly string[] | null, keep: readonly string[], batch: number): DeletedSummary {
    const total: DeletedSummary = { messages: 0, bytes: 0 };
    const pubsubId = this.topicIds.get(pubsubTopic);
    if (pubsubId === undefined) return total;
    const kept = new Set(keep.map((t) => this.topicIds.get(t)).filter((id) => id !== undefined));
    const ids =
      contentTopics === null
        ? (this.stmt.contentIdsOfTopic.all(pubsubId) as number[])
        : contentTopics.map((t) => this.topicIds.get(t)).filter((id): id is number => id !== undefined);
    for (const contentId of ids) {
      if (kept.has(contentId) || total.messages >= batch) continue;
      const sizes = this.stmt.deleteOfContent.all(pubsubId, contentId, batch - total.messages) as number[];
      total.messages += sizes.length;
      total.bytes += sizes.reduce((a, b) => a + b, 0);
    }
    if (total.messages > 0) this.stmt.addToStats.run(pubsubId, -total.messages, -total.bytes);
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
