/**
 * The archive schema as numbered migrations. `PRAGMA user_version` holds the
 * number of the last one applied; each runs in its own transaction.
 */
import type { Database } from 'better-sqlite3';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'messages',
    sql: `
      -- Pubsub and content topic names, interned: every message row holds two small ids.
      CREATE TABLE topics (
        id   INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE
      );
      -- One row per WakuMessage. A rowid table with the hash as unique key: random
      -- 32-byte keys go in 2-3x faster this way than into a WITHOUT ROWID table.
      CREATE TABLE messages (
        id          INTEGER PRIMARY KEY,
        hash        BLOB    NOT NULL UNIQUE,   -- 14/WAKU2-MESSAGE hash, 32 bytes
        pubsub_id   INTEGER NOT NULL REFERENCES topics(id),
        content_id  INTEGER NOT NULL REFERENCES topics(id),
        timestamp   INTEGER NOT NULL,          -- ns since the epoch, from the message
        size        INTEGER NOT NULL,          -- bytes of the encoded message
        received_at INTEGER NOT NULL,          -- ms since the epoch, local clock
        message     BLOB    NOT NULL           -- the encoded WakuMessage protobuf
      );
      -- Store queries by pubsub topic (and time), retention by age.
      CREATE INDEX messages_by_pubsub_time ON messages (pubsub_id, timestamp, hash);
      -- Store queries by content filter (and time): one range scan per content topic.
      CREATE INDEX messages_by_content_time ON messages (pubsub_id, content_id, timestamp, hash);
      -- Counters kept in the same transactions as the rows, so nothing scans the archive to count.
      CREATE TABLE topic_stats (
        pubsub_id INTEGER PRIMARY KEY REFERENCES topics(id),
        messages  INTEGER NOT NULL DEFAULT 0,
        bytes     INTEGER NOT NULL DEFAULT 0
      );
    `,
  },
];

export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]?.version ?? 0;

export function migrate(db: Database): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > SCHEMA_VERSION) {
    throw new Error(
      `the archive was written by a newer Waku Keeper (schema ${current}, this one knows up to ${SCHEMA_VERSION})`,
    );
  }
  if (current === 0) {
    // auto_vacuum can only be chosen before the first table exists: pages freed
    // by retention can then be handed back to the file system.
    db.pragma('auto_vacuum = INCREMENTAL');
  }
  for (const m of MIGRATIONS) {
    if (m.version <= current) continue;
    db.transaction(() => {
      db.exec(m.sql);
      db.pragma(`user_version = ${m.version}`);
    })();
  }
}
