/**
 * Coverage per scope: which scopes a plan keeps, which scope's coverage
 * vouches for which, how coverage recorded before scopes is settled, the
 * common part of several communities on one topic, and each community's own
 * retention and quota in the archive.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import BetterSqlite3 from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Archive } from '../../main/core/archive/archive.ts';
import { migrate, SCHEMA_VERSION } from '../../main/core/archive/migrations.ts';
import { CommunityRetention } from '../../main/core/archive/retention.ts';
import { commonCoverage, gapsOf, verifiedHeld } from '../../main/core/history/completeness.ts';
import { HistoryStore } from '../../main/core/history/history-store.ts';
import { contains, keptScopes, scopeKey, scopeOf } from '../../main/core/history/scope.ts';
import type { Community } from '../../main/contract/contract.ts';
import { archiveMessage } from '../helpers/messages.ts';

const T = '/waku/2/rs/16/32';
const U = '/waku/2/rs/16/64';
const X: Community = { name: 'X', pubsubTopic: T, contentTopics: ['/x/2', '/x/1'] };
const Y: Community = { name: 'Y', pubsubTopic: T, contentTopics: ['/y/1'] };

describe('scopes', () => {
  it('a plan with no content topic keeps every relayed topic whole; communities are kept by their own topics', () => {
    assert.deepEqual(
      keptScopes({ pubsubTopics: [T, U], communities: [], baseContentTopics: [] }).map((s) => scopeKey(s)),
      [`${T}|[]`, `${U}|[]`],
    );
    const kept = keptScopes({ pubsubTopics: [T, U], communities: [X, { ...Y, quotaBytes: 5000, retentionMs: null }], baseContentTopics: [] });
    assert.deepEqual(kept.map((s) => [s.name, scopeKey(s), s.quotaBytes]), [
      ['X', `${T}|["/x/1","/x/2"]`, null],
      ['Y', `${T}|["/y/1"]`, 5000],
    ]);
    // The --content-topic flags are kept on every relayed topic, beside the communities.
    const withFlags = keptScopes({ pubsubTopics: [T, U], communities: [X], baseContentTopics: ['/f/1'] });
    assert.deepEqual(withFlags.map((s) => scopeKey(s)), [`${T}|["/x/1","/x/2"]`, `${T}|["/f/1"]`, `${U}|["/f/1"]`]);
  });

  it('a whole topic contains every community on it; a community contains only its own topics', () => {
    const whole = scopeOf(T, []);
    const x = scopeOf(T, X.contentTopics);
    assert.equal(contains(whole, x), true);
    assert.equal(contains(x, scopeOf(T, ['/x/1'])), true);
    assert.equal(contains(x, scopeOf(T, ['/x/1', '/y/1'])), false);
    assert.equal(contains(x, whole), false, 'a community does not vouch for the whole topic');
    assert.equal(contains(scopeOf(U, []), x), false, 'nor does another pubsub topic');
  });

  it('a community added later inherits what a whole topic kept before held, and nothing of another community', () => {
    const archive = Archive.open(':memory:');
    const store = new HistoryStore(archive);
    const whole = store.ensureScope(scopeOf(T, []), null, 1000);
    store.extend(store.openOnline(whole.id, 1000), 5000);
    const x = store.ensureScope(scopeOf(T, X.contentTopics), 'X', 5000);
    store.extend(store.openOnline(x.id, 5000), 9000);
    const y = store.ensureScope(scopeOf(T, Y.contentTopics), 'Y', 9000);
    const rules = { marginMs: 0 };
    assert.deepEqual(verifiedHeld(store.coverageOf(scopeOf(T, X.contentTopics)), rules), [{ start: 1000, end: 9000 }]);
    // Y was kept from 9000: before, only the whole topic (until 5000) vouches for it; X's time is a gap.
    assert.deepEqual(verifiedHeld(store.coverageOf(scopeOf(T, Y.contentTopics)), rules), [{ start: 1000, end: 5000 }]);
    assert.deepEqual(gapsOf(store.coverageOf(scopeOf(T, Y.contentTopics)), { start: 1000, end: 9000 }, rules), [{ start: 5000, end: 9000 }]);
    assert.equal(y.keptSinceMs, 9000);
    // Removing X: its scope and coverage go; the whole topic's stays.
    store.removeScope(x.id);
    assert.deepEqual(store.coverage(x.id), []);
    assert.deepEqual(verifiedHeld(store.coverageOf(scopeOf(T, X.contentTopics)), rules), [{ start: 1000, end: 5000 }]);
    archive.close();
  });

  it('a topic holds what every community on it holds', () => {
    const archive = Archive.open(':memory:');
    const store = new HistoryStore(archive);
    const x = store.ensureScope(scopeOf(T, X.contentTopics), 'X', 0);
    const y = store.ensureScope(scopeOf(T, Y.contentTopics), 'Y', 0);
    store.extend(store.openOnline(x.id, 1000), 9000);
    store.extend(store.openOnline(y.id, 4000), 9000);
    store.completeWindow(y.id, { start: 1000, end: 4000 }, [{ start: 1000, end: 2000, verified: true, attested: true, peers: ['p'] }, { start: 2000, end: 3000, verified: false, attested: false, peers: ['q'] }], 3);
    const rules = { marginMs: 0 };
    const common = commonCoverage([store.coverage(x.id), store.coverage(y.id)], rules);
    assert.deepEqual(verifiedHeld(common, rules), [{ start: 1000, end: 2000 }, { start: 4000, end: 9000 }]);
    assert.deepEqual(gapsOf(common, { start: 1000, end: 9000 }, rules), [{ start: 3000, end: 4000 }], 'held unverified where Y was filled by an unattested peer');
    archive.close();
  });

  it('a stretch asked again replaces what was held unverified in it, also of a row that starts before it (the window slid on)', () => {
    const archive = Archive.open(':memory:');
    const store = new HistoryStore(archive);
    const y = store.ensureScope(scopeOf(T, Y.contentTopics), 'Y', 0);
    store.completeWindow(y.id, { start: 1000, end: 5000 }, [{ start: 1000, end: 5000, verified: false, attested: false, peers: ['q'] }], 7);
    // Asked again from 2000 (retention moved the window's start) to 4000, and again from 2500 as the
    // window slid on, each time held unverified: each answer replaces the one before, none is duplicated.
    store.completeWindow(y.id, { start: 2000, end: 4000 }, [{ start: 2000, end: 4000, verified: false, attested: true, peers: ['p'] }], 0);
    store.completeWindow(y.id, { start: 2500, end: 4000 }, [{ start: 2500, end: 4000, verified: false, attested: true, peers: ['r'] }], 0);
    const rows = store.coverage(y.id).map((r) => (r.kind === 'filled' ? [r.start, r.end, r.verified, r.peers.join()] : null));
    assert.deepEqual(rows, [
      [1000, 2000, false, 'q'],
      [2000, 2500, false, 'p'],
      [2500, 4000, false, 'r'],
      [4000, 5000, false, 'q'],
    ]);
    archive.close();
  });
});

describe('coverage recorded before scopes (schema 4)', () => {
  /** An archive file as Waku Keeper wrote it with schema 4: messages and per-topic coverage. */
  function v4Archive(dir: string): string {
    const path = join(dir, 'archive.sqlite');
    const db = new BetterSqlite3(path);
    migrate(db, 4);
    db.exec(`INSERT INTO topics (id, name) VALUES (1, '${T}'), (2, '/x/1'), (3, '/other/1')`);
    db.exec(`INSERT INTO coverage (pubsub_topic, kind, start_ms, end_ms, verified, attested, peers, messages, recorded_ms)
             VALUES ('${T}', 'online', 1000, 5000, 1, 1, '[]', 0, 1000), ('${T}', 'filled', 500, 1000, 1, 1, '["p","q"]', 7, 1000)`);
    const insert = db.prepare('INSERT INTO messages (hash, pubsub_id, content_id, timestamp, size, received_at, message) VALUES (?, 1, ?, ?, ?, 0, ?)');
    for (let i = 0; i < 6; i++) insert.run(Buffer.alloc(32, i + 1), i % 2 === 0 ? 2 : 3, BigInt(2000 + i) * 1_000_000n, 100, Buffer.alloc(100));
    db.exec(`INSERT INTO topic_stats (pubsub_id, messages, bytes) VALUES (1, 6, 600)`);
    assert.equal(db.pragma('user_version', { simple: true }), 4);
    db.close();
    return path;
  }

  it('a Keeper that kept everything on the topic keeps that coverage for every community on it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'keeper-scopes-'));
    try {
      const archive = Archive.open(v4Archive(dir));
      assert.equal(archive.connection.pragma('user_version', { simple: true }), SCHEMA_VERSION);
      const store = new HistoryStore(archive);
      const before = store.scopes();
      assert.deepEqual(before, [], 'unsettled until the Keeper knows what it keeps');
      store.settleLegacy([scopeOf(T, [])], 10_000);
      const whole = store.scopes();
      assert.deepEqual(whole.map((s) => [s.pubsubTopic, s.contentTopics, s.keptSinceMs]), [[T, [], 500]]);
      assert.deepEqual(store.coverage(T).map((r) => [r.kind, r.start, r.end, r.verified, r.peers, r.messages]), [
        ['filled', 500, 1000, true, ['p', 'q'], 7],
        ['online', 1000, 5000, true, [], 0],
      ]);
      // A community added later on the topic: everything was archived then, so it is held.
      assert.deepEqual(verifiedHeld(store.coverageOf(scopeOf(T, ['/x/1'])), { marginMs: 0 }), [{ start: 500, end: 5000 }]);
      // The per-content-topic counters are built from the messages.
      assert.deepEqual(archive.contentStats(T, ['/x/1']), { messages: 3, bytes: 300, oldest: 2000n * 1_000_000n });
      archive.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a Keeper that kept a community keeps the coverage for that community only, from its first message on, not for one added later', () => {
    const dir = mkdtempSync(join(tmpdir(), 'keeper-scopes-'));
    try {
      const archive = Archive.open(v4Archive(dir));
      const store = new HistoryStore(archive);
      store.settleLegacy([scopeOf(T, ['/x/1'])], 10_000);
      assert.deepEqual(store.scopes().map((s) => s.contentTopics), [['/x/1']]);
      // Schema 4 may have counted /x/1 covered from before it was kept: before its first message (2000) it is asked again.
      assert.deepEqual(verifiedHeld(store.coverageOf(scopeOf(T, ['/x/1'])), { marginMs: 0 }), [{ start: 2000, end: 5000 }]);
      assert.deepEqual(verifiedHeld(store.coverageOf(scopeOf(T, ['/y/1'])), { marginMs: 0 }), [], 'relay archived only /x/1 then');
      assert.deepEqual(verifiedHeld(store.coverageOf(scopeOf(T, [])), { marginMs: 0 }), []);
      archive.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('community retention', () => {
  const msg = (contentTopic: string, i: number) =>
    archiveMessage({ pubsubTopic: T, contentTopic, timestamp: BigInt(1_000_000 + i) * 1_000_000n, payload: new Uint8Array(200).fill(i % 256) });

  it('a community past its donated space loses its own oldest messages, and no other community any', async () => {
    const archive = Archive.open(':memory:');
    const xs = Array.from({ length: 20 }, (_, i) => msg('/x/1', i * 2));
    const ys = Array.from({ length: 20 }, (_, i) => msg('/y/1', i * 2 + 1));
    archive.insert([...xs, ...ys]);
    const perMessage = archive.contentStats(T, ['/x/1']).bytes / 20;
    const policy = new CommunityRetention([
      { pubsubTopic: T, contentTopics: ['/x/1'], quotaBytes: perMessage * 5, retentionMs: null },
      { pubsubTopic: T, contentTopics: ['/y/1'], quotaBytes: null, retentionMs: null },
    ]);
    const deleted = await policy.execute(archive);
    assert.equal(deleted.messages, 15);
    const left = archive.contentStats(T, ['/x/1']);
    assert.equal(left.messages, 5);
    assert.equal(left.oldest, xs[15]?.timestamp, 'the oldest went first');
    for (const m of xs.slice(15)) assert.equal(archive.has(m.hash), true);
    for (const m of xs.slice(0, 15)) assert.equal(archive.has(m.hash), false);
    for (const m of ys) assert.equal(archive.has(m.hash), true, 'Y keeps every message');
    assert.equal(archive.stats().messages, 25, 'the topic counters follow');
    archive.close();
  });

  it("a community's counters follow every way messages leave the archive", () => {
    const archive = Archive.open(':memory:');
    archive.insert([...Array.from({ length: 10 }, (_, i) => msg('/x/1', i)), ...Array.from({ length: 10 }, (_, i) => msg('/y/1', 100 + i))]);
    const size = archive.contentStats(T, ['/x/1']).bytes / 10;
    archive.deleteOlderThan(BigInt(1_000_000 + 3) * 1_000_000n, 100);
    assert.deepEqual(archive.contentStats(T, ['/x/1']), { messages: 7, bytes: 7 * size, oldest: BigInt(1_000_000 + 3) * 1_000_000n });
    archive.deleteOldest(9);
    assert.equal(archive.contentStats(T, ['/x/1']).messages, 0);
    assert.equal(archive.contentStats(T, ['/y/1']).messages, 8);
    assert.equal(archive.contentStats(T, ['/x/1', '/y/1']).bytes, 8 * size);
    archive.connection.prepare('DELETE FROM messages').run();
    assert.deepEqual(archive.contentStats(T, ['/y/1']), { messages: 0, bytes: 0, oldest: null }, 'any delete, by any path');
    archive.close();
  });

  it('a community with its own retention loses what is older than it, the others nothing', async () => {
    const archive = Archive.open(':memory:');
    archive.insert([msg('/x/1', 0), msg('/x/1', 10_000), msg('/y/1', 0)]);
    const now = () => 1_000_000 + 5_000;
    const deleted = await new CommunityRetention([{ pubsubTopic: T, contentTopics: ['/x/1'], quotaBytes: null, retentionMs: 4000 }], now).execute(archive);
    assert.equal(deleted.messages, 1);
    assert.equal(archive.contentStats(T, ['/x/1']).messages, 1);
    assert.equal(archive.contentStats(T, ['/y/1']).messages, 1);
    archive.close();
  });
});
