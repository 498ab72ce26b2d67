/**
 * Gap filling among dishonest store peers: one that omits, one that forges,
 * one that replays its first page, one that answers too slowly, one whose
 * cursors never end — and one honest one. Everything is bounded and counted,
 * and the history is completed from the honest peer.
 */
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { multiaddr } from '@multiformats/multiaddr';
import type { ArchiveMessage } from '../../main/core/message/message.ts';
import { startKeeper } from '../helpers/keeper.ts';
import type { TestKeeper } from '../helpers/keeper.ts';
import { hex, series, TEST_PUBSUB } from '../helpers/messages.ts';
import { servedHashes, startStoreNode } from '../helpers/store-node.ts';
import type { StoreNode } from '../helpers/store-node.ts';
import { waitFor } from '../helpers/wait.ts';
import { pick, report } from './scale.ts';

const MS = 1_000_000n;

describe('gap filling among dishonest store peers', () => {
  const nodes: StoreNode[] = [];
  let b: TestKeeper | undefined;
  after(async () => {
    await b?.dispose();
    for (const n of nodes) await n.stop();
  });

  it('completes the history from the honest peer; every misbehaviour is bounded and counted', async () => {
    const count = pick(300, 3000);
    const base = BigInt(Date.now() - 5 * 3_600_000) * MS;
    const truth = series(count, base, { stepNs: 3000n * MS });
    const forged: ArchiveMessage[] = truth.slice(0, 50).map((m) => ({ ...m, hash: new Uint8Array(randomBytes(32)) }));
    const start = (messages: ArchiveMessage[], behaviour?: Parameters<typeof startStoreNode>[1], delayMs?: number, attest?: 'all') =>
      startStoreNode(messages, behaviour, delayMs, attest === undefined ? {} : { attest }).then((n) => (nodes.push(n), n));
    // Two honest peers that attest holding the stretch; the misbehaving ones are unattested, as nwaku is.
    const honest = await start(truth, 'honest', 0, 'all');
    const honest2 = await start(truth, 'honest', 0, 'all');
    const omitting = await start(truth.filter((_, i) => i % 3 !== 0));
    const forging = await start(forged);
    const replaying = await start(truth, 'replay');
    const slow = await start(truth, 'slow', 3000);
    const endless = await start(truth, 'endless');
    // Above what the honest answer needs (count / 100 pages), far below endless.
    const maxPages = Math.ceil(count / 100) + 10;
    const started = performance.now();
    b = await startKeeper({
      storePeers: [forging, replaying, slow, endless, omitting, honest, honest2].map((n) => n.addr),
      fillQuorum: 2,
      storeQueryTimeoutMs: 1000,
      maxFillPagesPerWindow: maxPages,
      heartbeatMs: 200,
      settleMs: 1000,
    });
    await waitFor('the first fill pass to end', () => b!.events.some((e) => e.event === 'fill:end'), { timeoutMs: 90_000 });
    const ms = performance.now() - started;

    const s = await b.status();
    const byId = new Map(s.history.storePeers.map((p) => [p.peerId, p]));
    // Everything true is held, nothing forged.
    const held = new Set(await servedHashes(honest.node, multiaddr(b.tcpAddr), TEST_PUBSUB));
    for (const m of truth) assert.ok(held.has(hex(m.hash)), 'every true message is held');
    assert.ok(!forged.some((m) => held.has(hex(m.hash))), 'no forged message is held');

    const h = s.history.topics[0]!;
    const seeded = { start: Number(base / MS), end: Number(truth[count - 1]!.timestamp / MS) };
    const verifiedBy = h.filled.find((f) => f.verified && f.startMs <= seeded.start && f.endMs >= seeded.end)?.peers;
    assert.deepEqual(verifiedBy, [honest.peerId, honest2.peerId].sort(), 'the seeded stretch is verified, by the attesting two');
    // The endless peer's messages are well-formed and inside the window: at the Waku layer they cannot be
    // told from real ones (Status checks signatures above it). What it can add is bounded by the page limit.
    assert.ok(s.archive.messages <= count + endless.served() * 100, 'nothing beyond the honest set and the bounded endless pages');
    assert.equal(byId.get(omitting.peerId)?.failures, 0, 'omitting is not detectable alone: its answers are complete');
    assert.ok((byId.get(forging.peerId)?.rejected ?? 0) >= 50, 'the forgeries are counted');
    // A forger loses its standing, which lasts; its failures in a row are cleared by a later good answer
    // (another window's listing, in flight beside the one it forged in), its last error is not.
    const forger = byId.get(forging.peerId);
    assert.match(forger?.lastError ?? '', /forged|forgeries/);
    assert.match(forger?.standingReason ?? '', /forged/);
    assert.ok(forger?.standingLostMs !== null && forger?.standingLostMs !== undefined, 'the forger lost its standing');
    assert.match(byId.get(replaying.peerId)?.lastError ?? '', /replayed|same cursor/);
    assert.match(byId.get(slow.peerId)?.lastError ?? '', /timed out|timeout|aborted/i);
    assert.match(byId.get(endless.peerId)?.lastError ?? '', new RegExp(`more than ${maxPages} pages`));
    for (const bad of [replaying, slow, endless]) assert.ok((byId.get(bad.peerId)?.failures ?? 0) >= 1);
    // Bounded: backoff keeps a failing peer from being asked every window; the endless one stops at the page limit.
    assert.ok(endless.served() <= maxPages * h.filled.length + maxPages, `endless peer was asked ${endless.served()} pages`);
    report(
      `dishonest fill: ${count} messages completed in ${ms.toFixed(0)} ms among 7 peers; rejected from the forger ${byId.get(forging.peerId)?.rejected}, ` +
        `endless peer cut off after ${endless.served()} pages, slow peer timed out ${byId.get(slow.peerId)?.failures} time(s)`,
    );
  });
});
