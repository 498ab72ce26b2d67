/**
 * Every fixed SQL statement of the message archive, prepared once and named
 * after what it answers. The page scans, whose SQL depends on the query's
 * shape, live in page-scan.ts.
 */
import type { Database } from 'better-sqlite3';

export type ArchiveStatements = ReturnType<typeof prepareArchiveStatements>;

export function prepareArchiveStatements(db: Database) {
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
    addToContentStats: db.prepare(
      `INSERT INTO content_stats (pubsub_id, content_id, messages, bytes) VALUES (?, ?, ?, ?)
       ON CONFLICT (pubsub_id, content_id) DO UPDATE SET messages = messages + excluded.messages, bytes = bytes + excluded.bytes`,
    ),
    contentStatsOf: db.prepare('SELECT messages, bytes FROM content_stats WHERE pubsub_id = ? AND content_id = ?').raw(true),
    oldestOfContent: db
      .prepare('SELECT timestamp FROM messages WHERE pubsub_id = ? AND content_id = ? ORDER BY timestamp ASC LIMIT 1')
      .pluck()
      .safeIntegers(true),
    oldestIdsOfContent: db
      .prepare('SELECT id, timestamp FROM messages WHERE pubsub_id = ? AND content_id = ? AND timestamp < ? ORDER BY timestamp LIMIT ?')
      .raw(true)
      .safeIntegers(true),
    deleteById: db.prepare('DELETE FROM messages WHERE id = ? RETURNING pubsub_id, size').raw(true),
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
    contentIdsOfTopic: db.prepare('SELECT DISTINCT content_id FROM messages WHERE pubsub_id = ?').pluck(),
    deleteOfContent: db
      .prepare(
        `DELETE FROM messages WHERE id IN (
           SELECT id FROM messages WHERE pubsub_id = ? AND content_id = ? LIMIT ?)
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
