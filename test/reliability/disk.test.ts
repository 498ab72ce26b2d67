/**
 * Disk: at the quota the oldest messages go and serving goes on; with the disk
 * full (SQLITE_FULL, simulated with PRAGMA max_page_count) the status says so,
 * nothing crashes, reads are still served, and writing resumes when space returns.
 */
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Database } from 'better-sqlite3';
import { multiaddr } from '@multiformats/multiaddr';
import { seedArchive, startKeeper, tempDataDir } from '../helpers/keeper.ts';
import type { TestKeeper } from '../helpers/keeper.ts';
import { archiveMessage, encodeBytes, TEST_PUBSUB } from '../helpers/messages.ts';
import { servedHashes } from '../helpers/store-node.ts';
import { waitFor } from '../helpers/wait.ts';
import { report } from './scale.ts';

const MS = 1_000_000n;

describe('disk', () => {
  const live: TestKeeper[] = [];
  after(async () => {
    for (const k of live) await k.dispose();
  });

  it('prunes the oldest at the quota and goes on serving', async () => {
    const dir = tempDataDir();
    const base = BigInt(Date.now() - 2 * 3_600_000) * MS;
    seedArchive(dir, Array.from({ length: 3000 }, (_, i) => archiveMessage({ timestamp: base + BigInt(i) * 1000n * MS, payload: Buffer.alloc(1000, i % 251) })));
    const k = await startKeeper({ retentionIntervalMs: 60_000 }, dir);
    live.push(k);
    const reader = await startKeeper();
    live.push(reader);
    const before = await servedHashes(reader.keeper.libp2p, multiaddr(k.tcpAddr), TEST_PUBSUB);
    const r = await k.keeper.setStorage({ quotaBytes: 1_500_000, retentionMs: 30 * 86_400_000 });
    assert.ok(r.ok);
    await waitFor('retention to prune to the quota', async () => (await k.keeper.status()).archive.bytes <= 1_500_000);
    const after = await servedHashes(reader.keeper.libp2p, multiaddr(k.tcpAddr), TEST_PUBSUB);
    assert.ok(after.length > 100 && after.length < 3000);
    assert.deepEqual(after, before.slice(-after.length), 'what is left is the newest, served in order');
    assert.ok(k.events.some((e) => e.event === 'retention' && e.policy === 'quota'));
  });

  it('reports a full disk, keeps serving, and writes again when space returns', async () => {
    let db: Database | undefined;
    const k = await startKeeper({}, undefined, { archiveConnection: (c) => (db = c) });
    live.push(k);
    assert.ok(db);
    const relay = (i: number): void => {
      k.keeper.acceptRelayMessage(TEST_PUBSUB, encodeBytes({ timestamp: BigInt(Date.now()) * MS + BigInt(i), payload: Buffer.alloc(2000, i % 251) }));
    };
    for (let i = 0; i < 50; i++) relay(i);
    await waitFor('the first messages stored', async () => (await k.keeper.status()).archive.messages === 50);
    // The disk is full: the database may not grow by a page.
    const pages = db.pragma('page_count', { simple: true }) as number;
    db.pragma(`max_page_count = ${pages}`);
    for (let i = 50; i < 400; i++) relay(i);
    await waitFor('the status to say the archive cannot be written', async () => (await k.keeper.status()).archive.error !== null);
    const full = await k.keeper.status();
    assert.match(full.archive.error ?? '', /full/i);
    assert.ok(full.ingest.unwritable > 0);
    assert.equal(k.events.filter((e) => e.event === 'error' && /cannot be written/.test(e.message)).length, 1, 'said once, not once a batch');
    const reader = await startKeeper();
    live.push(reader);
    assert.equal((await servedHashes(reader.keeper.libp2p, multiaddr(k.tcpAddr), TEST_PUBSUB)).length, full.archive.messages, 'reads are served');
    // Space returns.
    db.pragma('max_page_count = 1073741823');
    for (let i = 400; i < 420; i++) relay(i);
    await waitFor('writing to resume', async () => {
      const s = await k.keeper.status();
      return s.archive.error === null && s.archive.messages >= full.archive.messages + 20;
    });
    assert.ok(k.events.some((e) => e.event === 'warning' && /written again/.test(e.message)));
    report(`disk full: ${full.ingest.unwritable} messages refused by a full disk, reported once; writing resumed when space returned`);
  });
});
