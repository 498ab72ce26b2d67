import { describe, it, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Archive } from '../../main/core/archive/archive.ts';
import { AgeRetention, QuotaRetention, applyRetention } from '../../main/core/archive/retention.ts';
import { archiveMessage, hex, series, TEST_CONTENT, TEST_PUBSUB } from '../helpers/messages.ts';

const T0 = 1_760_000_000_000_000_000n;
const MS = 1_000_000n;

describe('archive', () => {
  let dir: string;
  let archive: Archive;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'keeper-archive-'));
    archive = Archive.open(join(dir, 'archive.sqlite'));
  });
  afterEach(() => {
    archive.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('ignores duplicates, within a batch and across batches', () => {
    const msgs = series(10, T0);
    assert.equal(archive.insert([...msgs, ...msgs.slice(0, 3)]), 10);
    assert.equal(archive.insert(msgs.slice(5)), 0);
    const s = archive.stats();
    assert.equal(s.messages, 10);
    assert.equal(s.topics[0]?.messages, 10);
    assert.equal(s.messageBytes, msgs.reduce((n, m) => n + m.message.length, 0));
  });

  it('keeps per-topic counts, oldest and newest', () => {
    archive.insert(series(5, T0, { pubsubTopic: '/waku/2/rs/16/32' }));
    archive.insert(series(3, T0 + 100n * MS, { pubsubTopic: '/waku/2/rs/16/64' }));
    const s = archive.stats();
    assert.deepEqual(
      s.topics.map((t) => [t.pubsubTopic, t.messages, t.oldest, t.newest]),
      [
        ['/waku/2/rs/16/32', 5, T0, T0 + 4n * MS],
        ['/waku/2/rs/16/64', 3, T0 + 100n * MS, T0 + 102n * MS],
      ],
    );
    assert.equal(s.oldest, T0);
    assert.equal(s.newest, T0 + 102n * MS);
  });

  it('survives a reopen with its rows and counters', () => {
    archive.insert(series(7, T0));
    archive.close();
    archive = Archive.open(join(dir, 'archive.sqlite'));
    assert.equal(archive.stats().messages, 7);
    assert.equal(archive.integrityCheck(), 'ok');
  });

  it('pages forward and backward through the same ordered set', () => {
    const msgs = series(23, T0);
    // Two messages share a timestamp: the hash breaks the tie.
    msgs.push(archiveMessage({ timestamp: T0 + 5n * MS, payload: new Uint8Array([9]) }));
    archive.insert(msgs);
    const expected = [...msgs]
      .sort((a, b) => (a.timestamp === b.timestamp ? Buffer.compare(Buffer.from(a.hash), Buffer.from(b.hash)) : a.timestamp < b.timestamp ? -1 : 1))
      .map((m) => hex(m.hash));
    for (const forward of [true, false]) {
      const seen: string[][] = [];
      let cursor;
      for (let i = 0; i < 10; i++) {
        const page = archive.query({ includeData: false, forward, limit: 5, cursor });
        seen.push(page.rows.map((r) => hex(r.hash)));
        if (!page.more) break;
        const edge = forward ? page.rows[page.rows.length - 1] : page.rows[0];
        assert.ok(edge);
        cursor = archive.positionOf(edge.hash);
      }
      const flat = forward ? seen.flat() : seen.reverse().flat();
      assert.deepEqual(flat, expected, forward ? 'forward' : 'backward');
    }
  });

  it('uses its indexes for every page scan (EXPLAIN QUERY PLAN)', () => {
    for (const withContent of [true, false]) {
      for (const forward of [true, false]) {
        for (const withCursor of [true, false]) {
          const plan = archive.explainScan(withContent, forward, withCursor).join(' | ');
          const index = withContent ? 'messages_by_content_time' : 'messages_by_pubsub_time';
          assert.match(plan, new RegExp(`SEARCH messages USING COVERING INDEX ${index}`), plan);
          assert.doesNotMatch(plan, /TEMP B-TREE|SCAN messages/, plan);
        }
      }
    }
  });

  it('prunes by age, oldest first, and keeps the counters right', async () => {
    const now = Number((T0 + 10_000n * MS) / MS);
    archive.insert(series(100, T0, { stepNs: 100n * MS })); // T0 … T0 + 9.9 s
    const r = await applyRetention(archive, [new AgeRetention(5_000, () => now)]);
    assert.equal(r.age?.messages, 50);
    const s = archive.stats();
    assert.equal(s.messages, 50);
    assert.equal(s.oldest, T0 + 5_000n * MS);
  });

  it('prunes by quota, oldest first, until the archive fits', async () => {
    const big = new Uint8Array(4000).fill(7);
    const msgs = Array.from({ length: 400 }, (_, i) =>
      archiveMessage({ timestamp: T0 + BigInt(i) * MS, payload: Uint8Array.from([...big.subarray(1), i % 256]) }),
    );
    archive.insert(msgs);
    const before = archive.usedBytes();
    assert.ok(before > 1_600_000, `archive holds ${before} bytes`);
    const quota = 800_000;
    await applyRetention(archive, [new QuotaRetention(quota)]);
    const s = archive.stats();
    assert.ok(s.usedBytes <= quota, `used ${s.usedBytes} > quota ${quota}`);
    assert.ok(s.messages > 100 && s.messages < 400, `kept ${s.messages}`);
    // What is left is the newest stretch, with no hole.
    assert.equal(s.newest, T0 + 399n * MS);
    assert.equal(s.oldest, T0 + BigInt(400 - s.messages) * MS);
  });

  it('content filters merge several topics in order', () => {
    archive.insert(series(30, T0));
    const page = archive.query({
      includeData: true,
      pubsubTopic: TEST_PUBSUB,
      contentTopics: [TEST_CONTENT[0] ?? '', TEST_CONTENT[2] ?? ''],
      forward: true,
      limit: 100,
    });
    // Exactly the messages of the two topics asked (series() deals the three out in turn), in order.
    const asked = series(30, T0).filter((m) => m.contentTopic === TEST_CONTENT[0] || m.contentTopic === TEST_CONTENT[2]);
    assert.deepEqual(page.rows.map((r) => hex(r.hash)), asked.map((m) => hex(m.hash)));
    assert.ok(page.rows.every((r) => r.message !== undefined && r.pubsubTopic === TEST_PUBSUB));
  });
});
