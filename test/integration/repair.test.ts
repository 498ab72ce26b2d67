/**
 * The upgrade repair: an archive written by the previous schema, whose
 * "verified" windows were verified by answers that proved nothing (the
 * messages of that stretch are not in it), is downgraded on open — held, not
 * verified — and heals itself from a peer that attests holding the stretch.
 */
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import BetterSqlite3 from 'better-sqlite3';
import { join } from 'node:path';
import { Archive } from '../../main/core/archive/archive.ts';
import { MIGRATIONS } from '../../main/core/archive/migrations.ts';
import { HistoryStore } from '../../main/core/history/history-store.ts';
import { ARCHIVE_FILE } from '../../main/core/settings/paths.ts';
import { seedHistory, startKeeper, tempDataDir } from '../helpers/keeper.ts';
import type { TestKeeper } from '../helpers/keeper.ts';
import { series, TEST_PUBSUB } from '../helpers/messages.ts';
import { waitFor } from '../helpers/wait.ts';

const MS = 1_000_000n;

/** An archive as the previous release (schema 2) left it: a window recorded verified, and none of its messages. */
function writeSchema2(dataDir: string, window: { start: number; end: number }): void {
  const db = new BetterSqlite3(join(dataDir, ARCHIVE_FILE));
  try {
    db.pragma('auto_vacuum = INCREMENTAL');
    for (const m of MIGRATIONS.filter((x) => x.version <= 2)) db.exec(m.sql);
    db.pragma('user_version = 2');
    db.prepare(
      `INSERT INTO coverage (pubsub_topic, kind, start_ms, end_ms, verified, peers, messages, recorded_ms)
       VALUES (?, 'filled', ?, ?, 1, '["16Uiu2HAmOfflineTooAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA","16Uiu2HAmOfflineTooBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB"]', 0, ?)`,
    ).run(TEST_PUBSUB, window.start, window.end, window.end);
  } finally {
    db.close();
  }
}

describe('upgrade repair of vacuous verified windows', () => {
  const live: TestKeeper[] = [];
  after(async () => {
    for (const k of live) await k.dispose();
  });

  const now = Date.now();
  const window = { start: now - 2 * 3_600_000, end: now - 3_600_000 };
  const messages = series(60, BigInt(window.start + 60_000) * MS, { stepNs: 30_000n * MS });

  it('downgrades on open what the old rules verified: held, not verified, unattested', () => {
    const dir = tempDataDir();
    writeSchema2(dir, window);
    const archive = Archive.open(join(dir, ARCHIVE_FILE));
    try {
      const store = new HistoryStore(archive);
      // Settled as a Keeper that keeps everything on the topic settles it at its first start.
      store.settleLegacy([{ pubsubTopic: TEST_PUBSUB, contentTopics: [] }], Date.now());
      const rows = store.coverage(TEST_PUBSUB);
      assert.deepEqual(
        rows.map((r) => [r.kind, r.start, r.end, r.verified, r.attested]),
        [['filled', window.start, window.end, false, false]],
      );
    } finally {
      archive.close();
    }
  });

  it('heals: the stretch is asked again of a peer that attests it, its messages fetched, and then verified', async () => {
    const aDir = tempDataDir();
    seedHistory(aDir, messages);
    const a = await startKeeper({ heartbeatMs: 200, settleMs: 1000 }, aDir);
    live.push(a);
    const bDir = tempDataDir();
    writeSchema2(bDir, window);
    const b = await startKeeper({ heartbeatMs: 200, settleMs: 1000, storePeers: [a.tcpAddr], fillQuorum: 1 }, bDir);
    live.push(b);
    const before = (await b.status()).history.topics[0];
    assert.ok(before?.unverified.some((u) => u.startMs <= window.start && u.endMs >= window.end && !u.attested), 'listed as held, unattested');
    await waitFor('B to fetch the stretch and verify it', async () => {
      const s = await b.status();
      const h = s.history.topics[0];
      return s.archive.messages === 60 && (h?.filled.some((f) => f.verified && f.startMs <= window.start && f.endMs >= window.end) ?? false);
    });
    const h = (await b.status()).history.topics[0];
    const verified = h?.filled.find((f) => f.verified && f.startMs <= window.start && f.endMs >= window.end);
    assert.deepEqual(verified?.peers, [a.peerId], 'verified by the attesting peer, not by the old answers');
    assert.ok(!h?.unverified.some((u) => u.startMs < window.end && u.endMs > window.start), 'no longer listed unverified');
  });
});
