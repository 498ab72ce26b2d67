/**
 * Waku Sync between real libp2p nodes on loopback, each with a Keeper
 * archive: two archives of 100 000 messages that differ by a few hundred end
 * identical; lying peers (as initiator and as responder) are bounded and
 * counted; a side killed with SIGKILL mid-session loses nothing it stored and
 * the next session completes.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ArchiveMessage } from '../../main/core/message/message.ts';
import { heldHashes, startSyncNode } from '../helpers/sync-node.ts';
import { archiveMessage, TEST_CONTENT, TEST_PUBSUB } from '../helpers/messages.ts';
import { rng } from '../helpers/sync-memory-storage.ts';

const HOUR = 3_600_000;

/** `n` messages over the last day (ending an hour ago), a few content topics, timestamps in ns with sub-ms parts. */
export function corpus(n: number, seed: number, endMs = Date.now() - HOUR): ArchiveMessage[] {
  const r = rng(seed);
  const startNs = BigInt(endMs - 24 * HOUR) * 1_000_000n;
  return Array.from({ length: n }, (_, i) =>
    archiveMessage({
      contentTopic: TEST_CONTENT[i % TEST_CONTENT.length],
      timestamp: startNs + BigInt(Math.floor(r() * 24 * HOUR * 1000)) * 1000n,
      payload: new TextEncoder().encode(`sync corpus ${seed}/${i}`),
    }),
  );
}

/** The corpus split in two archives, each missing its own scattered `diff / 2`. */
function split(all: readonly ArchiveMessage[], diff: number, seed: number): { a: ArchiveMessage[]; b: ArchiveMessage[] } {
  const r = rng(seed);
  const missing = new Set<number>();
  while (missing.size < diff) missing.add(Math.floor(r() * all.length));
  return { a: all.filter((_, i) => !(missing.has(i) && i % 2 === 0)), b: all.filter((_, i) => !(missing.has(i) && i % 2 === 1)) };
}

const DAY_RANGE = { start: Date.now() - 26 * HOUR, end: Date.now() };

describe('sync over libp2p', { timeout: 120_000 }, () => {
  const dirs: string[] = [];
  const tmp = (name: string): string => {
    const d = mkdtempSync(join(tmpdir(), `keeper-sync-${name}-`));
    dirs.push(d);
    return d;
  };
  let all: ArchiveMessage[] = [];
  before(() => {
    all = corpus(100_000, 1);
  });
  after(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('two archives of 100 000 that differ by 400 scattered messages end identical', async () => {
    const { a, b } = split(all, 400, 2);
    const left = await startSyncNode(join(tmp('a'), 'a.sqlite'));
    const right = await startSyncNode(join(tmp('b'), 'b.sqlite'));
    try {
      left.archive.insert(a);
      right.archive.insert(b);
      assert.notDeepEqual(heldHashes(left.archive, TEST_PUBSUB), heldHashes(right.archive, TEST_PUBSUB));
      const r = await left.sync.syncWith(right.addr, { pubsubTopic: TEST_PUBSUB, range: DAY_RANGE });
      assert.equal(r.outcome, 'complete', JSON.stringify(r));
      // What each side lacks is the other side's surplus.
      assert.equal(r.theyLacked, all.length - b.length);
      assert.equal(r.weLacked, all.length - a.length);
      assert.equal(r.theyLacked + r.weLacked, 400);
      assert.equal(r.pushed, r.theyLacked);
      assert.equal(r.stored, r.weLacked);
      assert.equal(r.undelivered, 0);
      assert.ok(r.rounds <= 20, `${r.rounds} rounds`);
      assert.ok(r.reconciliationBytes < 400 * 800, `${r.reconciliationBytes} bytes`);
      await waitFor(() => right.sync.counters().messages.stored === r.theyLacked);
      const held = heldHashes(left.archive, TEST_PUBSUB);
      assert.equal(held.length, 100_000);
      assert.deepEqual(heldHashes(right.archive, TEST_PUBSUB), held);
      // Nothing left: the next session is one fingerprint each way.
      const again = await right.sync.syncWith(left.addr, { pubsubTopic: TEST_PUBSUB, range: DAY_RANGE });
      assert.equal(again.outcome, 'complete');
      assert.equal(again.rounds, 1);
      assert.equal(again.theyLacked + again.weLacked, 0);
    } finally {
      await left.stop();
      await right.stop();
    }
  });
});

async function waitFor(cond: () => boolean, ms = 10_000): Promise<void> {
  const until = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}
