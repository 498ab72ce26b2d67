/**
 * Waku Sync's read-only view of the SQLite archive: fingerprints, counts and
 * listings of (timestamp, hash) ranges, per pubsub topic and content topic,
 * read from the covering indexes the archive already has
 * (messages_by_pubsub_time and messages_by_content_time hold pubsub_id,
 * [content_id,] timestamp and hash). No table of its own, nothing in memory
 * between calls, and nothing the archive's writes must keep up to date.
 *
 * Fingerprints are XORed from `group_concat` of the hashes: SQLite walks the
 * index and concatenates in C, and one tight loop XORs the result — about
 * 0.15 µs a row, against 1.3–1.9 µs a row for any per-row call into JS
 * (better-sqlite3's iterate, or a JS aggregate function), measured on 1 M
 * messages. A range of more than a chunk of rows is cut by time into pieces
 * that fit, so one call holds 8 MB of hashes at most, and the event loop is
 * handed back between queries.
 *
 * Why no bucketed fingerprint table kept in the insert and delete
 * transactions: measured on the same 1 M messages (20 content topics, 30
 * days), per-content buckets of 2^36 ns are 754 000 rows and fingerprint the
 * month no faster than the index (120–160 ms); buckets of 2^40 ns are 47 000
 * rows and do it in 8–18 ms but only help ranges wider than a bucket, need a
 * 2–4 s backfill at upgrade (start-up must stay under 2 s), and cost inserts
 * 50–80 % (relay's one-by-one and the ingest path's batches alike, where the
 * ingest target leaves 14 %). A whole reconciliation of two 1 M archives
 * already takes about 2.4 s against 50 s for comparing Store v3 listings
 * (test/bench/sync.ts): large windows are split into ~2 000-item parts in one
 * step, so only about three levels scan everything.
 */
import type { Database, Statement } from 'better-sqlite3';
import type { Archive } from '../archive/archive.ts';
import { boundAt, compareIds, HASH_BYTES, xorConcatenated, xorInto, ZERO_HASH } from './ids.ts';
import { partitionTimes } from './storage.ts';
import type { SyncId } from './ids.ts';
import type { Scope } from './session.ts';
import type { Summary, SyncStorage } from './storage.ts';

/** Rows a fingerprint query reads at once: 8 MB of hashes. */
const CHUNK_ROWS = 262_144;
/** Hand the event loop back after this long in SQLite. */
const SLICE_MS = 8;

interface ScopeId {
  pubsubId: number;
  contentId?: number;
}

export class ArchiveSyncIndex {
  private readonly db: Database;
  private readonly stmts = new Map<string, Statement>();
  /** Rows a fingerprint query reads at once (smaller in tests, to cross chunk edges). */
  readonly chunkRows: number;

  constructor(archive: Archive, opts: { chunkRows?: number } = {}) {
    this.db = archive.connection;
    this.chunkRows = Math.max(2, opts.chunkRows ?? CHUNK_ROWS);
  }

  /** A storage over the scope's messages; topics are looked up now (ones never seen match nothing). */
  storage(scope: Scope): SyncStorage {
    const idOf = this.prepare('topic', 'SELECT id FROM topics WHERE name = ?', true);
    const pubsubIds =
      scope.pubsubTopics.length === 0
        ? (this.prepare('pubsubIds', 'SELECT pubsub_id FROM topic_stats ORDER BY pubsub_id', true).all() as number[])
        : scope.pubsubTopics.map((t) => idOf.get(t) as number | undefined).filter((i): i is number => i !== undefined);
    const contentIds = scope.contentTopics.map((t) => idOf.get(t) as number | undefined).filter((i): i is number => i !== undefined);
    const scopes: ScopeId[] = scope.contentTopics.length === 0 ? pubsubIds.map((pubsubId) => ({ pubsubId })) : pubsubIds.flatMap((pubsubId) => contentIds.map((contentId) => ({ pubsubId, contentId })));
    return new ScopedStorage(this, scopes, new Set(pubsubIds), scope.contentTopics.length === 0 ? undefined : new Set(contentIds));
  }

  /** A stored message by hash, to push to a peer: its pubsub topic and its bytes as received. */
  message(hash: Uint8Array): { pubsubTopic: string; message: Uint8Array } | undefined {
    const row = this.prepare('message', 'SELECT t.name, m.message FROM messages m JOIN topics t ON t.id = m.pubsub_id WHERE m.hash = ?').raw(true).get(hash) as [string, Buffer] | undefined;
    return row === undefined ? undefined : { pubsubTopic: row[0], message: new Uint8Array(row[1].buffer, row[1].byteOffset, row[1].byteLength) };
  }

  /** [timestamp, pubsub_id, content_id] of a hash, or undefined. */
  locate(hash: Uint8Array): [bigint, number, number] | undefined {
    const row = this.prepare('locate', 'SELECT timestamp, pubsub_id, content_id FROM messages WHERE hash = ?').raw(true).safeIntegers(true).get(hash) as [bigint, bigint, bigint] | undefined;
    return row === undefined ? undefined : [row[0], Number(row[1]), Number(row[2])];
  }

  /**
   * The statements of range scans, by shape: content topic or not, the lower
   * bound inclusive or not, and what is read — a count, the hashes
   * concatenated (all, or a chunk of them), the row at an offset, or the rows.
   */
  scan(kind: 'count' | 'concat' | 'chunk' | 'nth' | 'rows', content: boolean, fromInclusive: boolean, toInclusive = true): Statement {
    const key = `${kind}/${content ? 'c' : 'p'}/${fromInclusive ? 'i' : 'x'}${toInclusive ? 'i' : 'x'}`;
    const from = `FROM messages INDEXED BY ${content ? 'messages_by_content_time' : 'messages_by_pubsub_time'} WHERE ${whereOf(content, fromInclusive, toInclusive)}`;
    const ordered = `SELECT timestamp, hash ${from} ORDER BY timestamp, hash`;
    const sql = {
      count: `SELECT count(*) ${from}`,
      concat: `SELECT count(*), CAST(group_concat(hash, '') AS BLOB) ${from}`,
      chunk: `SELECT count(*), CAST(group_concat(hash, '') AS BLOB) FROM (${ordered} LIMIT ?)`,
      nth: `${ordered} LIMIT 1 OFFSET ?`,
      rows: `${ordered} LIMIT ?`,
    }[kind];
    return this.prepare(key, sql).raw(true).safeIntegers(true);
  }

  private prepare(key: string, sql: string, pluck = false): Statement {
    let s = this.stmts.get(key);
    if (s === undefined) {
      s = this.db.prepare(sql);
      if (pluck) s.pluck();
      this.stmts.set(key, s);
    }
    return s;
  }
}

class ScopedStorage implements SyncStorage {
  private readonly index: ArchiveSyncIndex;
  private readonly scopes: readonly ScopeId[];
  private readonly pubsubIds: ReadonlySet<number>;
  private readonly contentIds: ReadonlySet<number> | undefined;
  /**
   * Whether a message with the all-zero hash is in scope: only such a message
   * can sit on a bound (bounds are times with a zero hash). None ever will (a
   * SHA-256 preimage), but if one does, ranges are read one by one so that it
   * counts in both ranges that share its bound, as nwaku counts it.
   */
  private readonly onBounds: boolean;
  private sliceStarted = performance.now();

  constructor(index: ArchiveSyncIndex, scopes: readonly ScopeId[], pubsubIds: ReadonlySet<number>, contentIds: ReadonlySet<number> | undefined) {
    this.index = index;
    this.scopes = scopes;
    this.pubsubIds = pubsubIds;
    this.contentIds = contentIds;
    this.onBounds = this.inScope(index.locate(ZERO_HASH)) !== undefined;
  }

  async summarize(bounds: readonly SyncId[], wholeCount?: number): Promise<{ parts: Summary[]; total: Summary }> {
    const n = bounds.length - 1;
    const parts: Summary[] = Array.from({ length: n }, () => ({ count: 0, fingerprint: new Uint8Array(HASH_BYTES) }));
    const whole = wholeCount ?? (await this.count(bounds[0] as SyncId, bounds[n] as SyncId));
    if (whole === 0) return { parts, total: { count: 0, fingerprint: new Uint8Array(HASH_BYTES) } };
    // Small enough that no part can be large: each part in one query, no counting first.
    const small = whole <= this.index.chunkRows;
    for (let i = 0; i < n; i++) {
      for (const s of this.scopes) {
        const known = small ? -1 : n === 1 && this.scopes.length === 1 ? whole : undefined;
        await this.accumulate(s, bounds[i] as SyncId, bounds[i + 1] as SyncId, true, parts[i] as Summary, known);
      }
    }
    const total: Summary = { count: 0, fingerprint: new Uint8Array(HASH_BYTES) };
    for (const p of parts) {
      total.count += p.count;
      xorInto(total.fingerprint, p.fingerprint);
    }
    // A message on an inner bound is in the parts on both sides of it and once in the whole.
    if (this.onBounds) {
      for (let i = 1; i < n; i++) {
        const b = bounds[i] as SyncId;
        const at = await this.find(b.hash);
        if (at !== undefined && compareIds(at, b) === 0) {
          total.count--;
          xorInto(total.fingerprint, b.hash);
        }
      }
    }
    return { parts, total };
  }

  async count(lower: SyncId, upper: SyncId): Promise<number> {
    let n = 0;
    for (const s of this.scopes) n += Number(this.index.scan('count', s.contentId !== undefined, true).get(...params(s, lower, upper)) as bigint);
    return n;
  }

  async items(lower: SyncId, upper: SyncId, limit: number, after?: SyncId): Promise<SyncId[]> {
    if (limit <= 0) return [];
    const from = after !== undefined && compareIds(after, lower) >= 0 ? after : lower;
    const inclusive = from === lower;
    const lists: SyncId[][] = [];
    for (const s of this.scopes) {
      const rows = this.index.scan('rows', s.contentId !== undefined, inclusive).all(...params(s, from, upper), limit) as [bigint, Buffer][];
      lists.push(rows.map((r) => ({ time: r[0], hash: new Uint8Array(r[1].buffer, r[1].byteOffset, r[1].byteLength) })));
      await this.breathe();
    }
    if (lists.length === 1) return lists[0] ?? [];
    return lists.flat().sort(compareIds).slice(0, limit);
  }

  async find(hash: Uint8Array): Promise<SyncId | undefined> {
    const row = this.inScope(this.index.locate(hash));
    return row === undefined ? undefined : { time: row[0], hash };
  }

  private inScope(row: [bigint, number, number] | undefined): [bigint, number, number] | undefined {
    if (row === undefined || !this.pubsubIds.has(row[1])) return undefined;
    if (this.contentIds !== undefined && !this.contentIds.has(row[2])) return undefined;
    return row;
  }

  /**
   * Adds the count and XOR of one scope's rows in [lower, upper] (or
   * [lower, upper) when `toInclusive` is false) to `acc`. A range of more
   * rows than a chunk is cut by time into pieces that each fit, counted
   * first; `known` is its count when the caller has it (-1: known to fit).
   */
  private async accumulate(s: ScopeId, lower: SyncId, upper: SyncId, toInclusive: boolean, acc: Summary, known?: number): Promise<void> {
    const content = s.contentId !== undefined;
    const chunk = this.index.chunkRows;
    const count = known ?? Number(this.index.scan('count', content, true, toInclusive).get(...params(s, lower, upper)) as bigint);
    if (count <= chunk) {
      const [n, blob] = this.index.scan('concat', content, true, toInclusive).get(...params(s, lower, upper)) as [bigint, Buffer | null];
      add(acc, Number(n), blob);
      return this.breathe();
    }
    const times = partitionTimes(lower.time, upper.time, Math.min(1024, Math.ceil((2 * count) / chunk)));
    if (times === null) return this.chunks(s, lower, upper, toInclusive, acc);
    for (let i = 0; i + 1 < times.length; i++) {
      const last = i + 2 === times.length;
      await this.accumulate(s, i === 0 ? lower : boundAt(times[i] as bigint), last ? upper : boundAt(times[i + 1] as bigint), last ? toInclusive : false, acc);
    }
  }

  /** A range too narrow to cut by time (more than a chunk within a few nanoseconds): read a chunk of rows at a time, in order. */
  private async chunks(s: ScopeId, lower: SyncId, upper: SyncId, toInclusive: boolean, acc: Summary): Promise<void> {
    const content = s.contentId !== undefined;
    const chunk = this.index.chunkRows;
    let from = lower;
    let inclusive = true;
    for (;;) {
      const [n, blob] = this.index.scan('chunk', content, inclusive, toInclusive).get(...params(s, from, upper), chunk) as [bigint, Buffer | null];
      add(acc, Number(n), blob);
      await this.breathe();
      if (Number(n) < chunk) return;
      const last = this.index.scan('nth', content, inclusive, toInclusive).get(...params(s, from, upper), chunk - 1) as [bigint, Buffer] | undefined;
      if (last === undefined) return;
      from = { time: last[0], hash: new Uint8Array(last[1]) };
      inclusive = false;
    }
  }

  private async breathe(): Promise<void> {
    if (performance.now() - this.sliceStarted < SLICE_MS) return;
    await new Promise((r) => setImmediate(r));
    this.sliceStarted = performance.now();
  }
}

/** Adds `count` hashes laid end to end in `blob` to a summary. */
function add(acc: Summary, count: number, blob: Buffer | null): void {
  if (count === 0 || blob === null) return;
  // group_concat on BLOBs is byte-exact in a UTF-8 database; anything else would show here.
  if (blob.length !== count * HASH_BYTES) throw new Error(`fingerprint scan returned ${blob.length} bytes for ${count} hashes`);
  xorInto(acc.fingerprint, xorConcatenated(blob));
  acc.count += count;
}

function whereOf(content: boolean, fromInclusive: boolean, toInclusive: boolean): string {
  return `pubsub_id = ?${content ? ' AND content_id = ?' : ''} AND (timestamp, hash) ${fromInclusive ? '>=' : '>'} (?, ?) AND (timestamp, hash) ${toInclusive ? '<=' : '<'} (?, ?)`;
}

function params(s: ScopeId, from: SyncId, upper: SyncId): unknown[] {
  const p: unknown[] = [s.pubsubId];
  if (s.contentId !== undefined) p.push(s.contentId);
  p.push(from.time, from.hash, upper.time, upper.hash);
  return p;
}

