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
  {
    version: 2,
    name: 'history',
    sql: `
      -- Which stretches of time this archive holds completely, per pubsub topic.
      -- online: the node was subscribed with relay peers (extended by a heartbeat);
      -- filled: a gap that store peers answered completely.
      CREATE TABLE coverage (
        id           INTEGER PRIMARY KEY,
        pubsub_topic TEXT    NOT NULL,
        kind         TEXT    NOT NULL CHECK (kind IN ('online', 'filled')),
        start_ms     INTEGER NOT NULL,
        end_ms       INTEGER NOT NULL,
        verified     INTEGER NOT NULL DEFAULT 1,  -- filled: at least the quorum answered
        peers        TEXT    NOT NULL DEFAULT '[]', -- filled: ids of the peers that answered completely
        messages     INTEGER NOT NULL DEFAULT 0,  -- filled: messages that were new here
        recorded_ms  INTEGER NOT NULL
      );
      CREATE INDEX coverage_by_topic ON coverage (pubsub_topic, end_ms);
      -- Peers that can serve history, and how they have done.
      CREATE TABLE store_peers (
        peer_id           TEXT PRIMARY KEY,
        addrs             TEXT    NOT NULL DEFAULT '[]',
        source            TEXT    NOT NULL,          -- static | identify | discovered
        rtt_ms            REAL,
        last_success_ms   INTEGER,
        last_failure_ms   INTEGER,
        failures          INTEGER NOT NULL DEFAULT 0, -- in a row; reset by a success
        provided          INTEGER NOT NULL DEFAULT 0, -- valid messages received
        rejected          INTEGER NOT NULL DEFAULT 0, -- messages refused (bad hash, topic, time, size)
        agreement         REAL,                       -- share of a window's messages it held, last time
        last_agreement_ms INTEGER,
        last_error        TEXT
      );
      -- How far each peer got through a window being filled: a crash resumes here.
      CREATE TABLE fill_progress (
        pubsub_topic    TEXT    NOT NULL,
        window_start_ms INTEGER NOT NULL,
        peer_id         TEXT    NOT NULL,
        cursor          BLOB,
        complete        INTEGER NOT NULL DEFAULT 0,
        provided        INTEGER NOT NULL DEFAULT 0,
        updated_ms      INTEGER NOT NULL,
        PRIMARY KEY (pubsub_topic, window_start_ms, peer_id)
      );
    `,
  },
  {
    version: 3,
    name: 'attested coverage',
    sql: `
      -- filled: whether the answers that filled it came with the peers' signed coverage.
      -- verified now means: held by at least the quorum of peers that attested holding it.
      ALTER TABLE coverage ADD COLUMN attested INTEGER NOT NULL DEFAULT 0;
      -- Repair: fills recorded before coverage was attested counted any "complete" answer,
      -- also from peers that were offline then too. They stay held, no longer verified,
      -- and are asked again of peers that attest what they hold.
      UPDATE coverage SET verified = 0, attested = 0 WHERE kind = 'filled';
      -- The stretches a peer attested for the window it is answering (JSON), NULL when unattested.
      ALTER TABLE fill_progress ADD COLUMN held TEXT;
      DELETE FROM fill_progress;
      -- Whether the peer speaks the coverage protocol (NULL: not known yet), how many of its
      -- coverage answers were refused, and when it last answered short of what it attested.
      ALTER TABLE store_peers ADD COLUMN attests INTEGER;
      ALTER TABLE store_peers ADD COLUMN refused INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE store_peers ADD COLUMN standing_lost_ms INTEGER;
      ALTER TABLE store_peers ADD COLUMN standing_reason TEXT;
    `,
  },
  {
    version: 4,
    name: 'hash-first filling',
    sql: `
      -- Filling lists hashes before it fetches messages, and stores each as it arrives: a window
      -- asked again after a crash fetches only what is still missing, with no cursor to keep.
      DROP TABLE fill_progress;
    `,
  },
  {
    version: 5,
    name: 'coverage per scope',
    sql: `
      -- What coverage is of: a pubsub topic and a set of content topics (JSON, sorted; '[]' is
      -- every content topic of the topic). A kept community is one; so is "everything on a
      -- topic". content_topics NULL: coverage recorded before scopes were (schema 4 and older),
      -- of whatever was kept on the topic then; the Keeper settles it against its settings at
      -- its first start (history-store.ts, settleLegacy). kept_since_ms: when this archive began
      -- keeping it: its online time counts from there.
      CREATE TABLE scopes (
        id             INTEGER PRIMARY KEY,
        pubsub_topic   TEXT    NOT NULL,
        content_topics TEXT,
        name           TEXT,
        kept_since_ms  INTEGER NOT NULL
      );
      CREATE UNIQUE INDEX scopes_by_topics ON scopes (pubsub_topic, content_topics);
      INSERT INTO scopes (pubsub_topic, content_topics, name, kept_since_ms)
        SELECT pubsub_topic, NULL, NULL, MIN(start_ms) FROM coverage GROUP BY pubsub_topic;
      ALTER TABLE coverage ADD COLUMN scope_id INTEGER REFERENCES scopes(id);
      UPDATE coverage SET scope_id = (SELECT id FROM scopes WHERE scopes.pubsub_topic = coverage.pubsub_topic);
      CREATE INDEX coverage_by_scope ON coverage (scope_id, end_ms);
      -- Counters per content topic, kept in the same transactions as the rows (as topic_stats):
      -- a community's donated space is the bytes of its messages.
      CREATE TABLE content_stats (
        pubsub_id  INTEGER NOT NULL REFERENCES topics(id),
        content_id INTEGER NOT NULL REFERENCES topics(id),
        messages   INTEGER NOT NULL DEFAULT 0,
        bytes      INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (pubsub_id, content_id)
      );
      INSERT INTO content_stats (pubsub_id, content_id, messages, bytes)
        SELECT pubsub_id, content_id, COUNT(*), SUM(size) FROM messages GROUP BY pubsub_id, content_id;
      -- Whatever deletes messages (age, quota, a community's limits, a removed community) keeps them right.
      CREATE TRIGGER content_stats_on_delete AFTER DELETE ON messages BEGIN
        UPDATE content_stats SET messages = messages - 1, bytes = bytes - OLD.size
         WHERE pubsub_id = OLD.pubsub_id AND content_id = OLD.content_id;
      END;
    `,
  },
];

export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]?.version ?? 0;

/** Brings the schema up to `upTo` (the newest by default; tests build older archives with less). */
export function migrate(db: Database, upTo = SCHEMA_VERSION): void {
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
    if (m.version <= current || m.version > upTo) continue;
    db.transaction(() => {
      db.exec(m.sql);
      db.pragma(`user_version = ${m.version}`);
    })();
  }
}
