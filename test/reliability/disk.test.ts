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
import { servedHashes, startStoreNode } from '../helpers/store-node.ts';
import type { StoreNode } from '../helpers/store-node.ts';
import { startStoreClient } from '../helpers/store-client.ts';
import type { Libp2p } from '@libp2p/interface';
import type { RelayIntake } from '../../main/core/node/relay-intake.ts';
import { waitFor } from '../helpers/wait.ts';
import { report } from './scale.ts';

const MS = 1_000_000n;

describe('disk', () => {
  const live: TestKeeper[] = [];
  const nodes: StoreNode[] = [];
  let reader: Libp2p;
  after(async () => {
    for (const k of live) await k.dispose();
    for (const n of nodes) await n.stop();
    await reader?.stop();
  });

  it('prunes the oldest at the quota and goes on serving', async () => {
    const dir = tempDataDir();
    const base = BigInt(Date.now() - 2 * 3_600_000) * MS;
    seedArchive(dir, Array.from({ length: 3000 }, (_, i) => archiveMessage({ timestamp: base + BigInt(i) * 1000n * MS, payload: Buffer.alloc(1000, i % 251) })));
    const k = await startKeeper({ retentionIntervalMs: 60_000 }, dir);
    live.push(k);
    reader = await startStoreClient();
    const before = await servedHashes(reader, multiaddr(k.tcpAddr), TEST_PUBSUB);
    const r = await k.keeper.commands.setStorage({ quotaBytes: 1_500_000, retentionMs: 30 * 86_400_000 });
    assert.ok(r.ok);
    await waitFor('retention to prune to the quota', async () => (await k.status()).archive.bytes <= 1_500_000);
    const after = await servedHashes(reader, multiaddr(k.tcpAddr), TEST_PUBSUB);
    assert.ok(after.length > 100 && after.length < 3000);
    assert.deepEqual(after, before.slice(-after.length), 'what is left is the newest, served in order');
    assert.ok(k.events.some((e) => e.event === 'retention' && e.policy === 'quota'));
  });

  it('reports a full disk, keeps serving, and writes again when space returns', async () => {
    let db: Database | undefined;
    let intake: RelayIntake | undefined;
    const k = await startKeeper({}, undefined, { archiveConnection: (c) => (db = c), relayIntake: (i) => (intake = i) });
    live.push(k);
    assert.ok(db && intake);
    const relay = (i: number): void => {
      intake?.accept(TEST_PUBSUB, encodeBytes({ timestamp: BigInt(Date.now()) * MS + BigInt(i), payload: Buffer.alloc(2000, i % 251) }));
    };
    for (let i = 0; i < 50; i++) relay(i);
    await waitFor('the first messages stored', async () => (await k.status()).archive.messages === 50);
    // The disk is full: the database may not grow by a page.
    const pages = db.pragma('page_count', { simple: true }) as number;
    db.pragma(`max_page_count = ${pages}`);
    for (let i = 50; i < 400; i++) relay(i);
    await waitFor('the status to say the archive cannot be written', async () => (await k.status()).archive.error !== null);
    const full = await k.status();
    assert.match(full.archive.error ?? '', /full/i);
    assert.ok(full.ingest.unwritable > 0);
    assert.equal(k.events.filter((e) => e.event === 'error' && /cannot be written/.test(e.message)).length, 1, 'said once, not once a batch');
    assert.equal((await servedHashes(reader, multiaddr(k.tcpAddr), TEST_PUBSUB)).length, full.archive.messages, 'reads are served');
    // Space returns.
    db.pragma('max_page_count = 1073741823');
    for (let i = 400; i < 420; i++) relay(i);
    await waitFor('writing to resume', async () => {
      const s = await k.status();
      return s.archive.error === null && s.archive.messages >= full.archive.messages + 20;
    });
    assert.ok(k.events.some((e) => e.event === 'warning' && /written again/.test(e.message)));
    report(`disk full: ${full.ingest.unwritable} messages refused by a full disk, reported once; writing resumed when space returned`);
  });

  it('a full disk during a fill shows in the status, costs the peer nothing, and the window fills once space returns', async () => {
    const base = BigInt(Date.now() - 3_600_000) * MS;
    const held = Array.from({ length: 300 }, (_, i) => archiveMessage({ timestamp: base + BigInt(i) * 1000n * MS, payload: Buffer.alloc(2000, i % 251) }));
    const peer = await startStoreNode(held);
    nodes.push(peer);
    let db: Database | undefined;
    // The disk is full from the start: the database may not grow by a page.
    const k = await startKeeper({ storePeers: [peer.addr], fillQuorum: 1 }, undefined, {
      archiveConnection: (c) => {
        db = c;
        c.pragma(`max_page_count = ${c.pragma('page_count', { simple: true }) as number}`);
      },
    });
    live.push(k);
    await waitFor('the fill to meet the full disk', async () => {
      const s = await k.status();
      return s.archive.error !== null && s.history.fill.lastPass !== null;
    });
    const full = await k.status();
    assert.match(full.archive.error ?? '', /full/i);
    assert.ok(full.ingest.unwritable > 0, 'the refused page is counted');
    assert.equal(full.archive.messages, 0);
    const gap = full.history.topics[0]?.gaps.find((g) => g.startMs <= Number(base / MS) && g.endMs > Number(base / MS));
    assert.equal(gap?.reason, 'archive-error', 'the gap says why it is open');
    const record = full.history.storePeers.find((p) => p.peerId === peer.peerId);
    assert.equal(record?.failures, 0, 'the peer answered well: no failure is held against it');
    assert.equal(k.events.filter((e) => e.event === 'error' && /cannot be written/.test(e.message)).length, 1);
    // Space returns: the next pass fills the window.
    db?.pragma('max_page_count = 1073741823');
    const r = await k.keeper.commands.fillNow();
    assert.ok(r.ok);
    const s = await k.status();
    assert.equal(s.archive.error, null);
    assert.equal(s.archive.messages, 300);
    assert.ok(!s.history.topics[0]?.gaps.some((g) => g.reason === 'archive-error'));
  });
});
