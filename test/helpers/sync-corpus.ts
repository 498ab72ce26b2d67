/**
 * Test corpora for reconciliation: a day of scattered messages, and that day
 * split in two archives that each miss their own scattered part.
 */
import type { ArchiveMessage } from '../../main/core/message/message.ts';
import { archiveMessage, TEST_CONTENT } from './messages.ts';
import { rng } from './sync-memory-storage.ts';

const HOUR = 3_600_000;

/**
 * `n` messages over the day that ended at `endMs` (an hour ago), on the test
 * content topics, timestamps in ns with sub-ms parts; `label` goes into the
 * payloads, so corpora of different tests never share a hash.
 */
export function corpus(n: number, seed: number, label: string, endMs = Date.now() - HOUR): ArchiveMessage[] {
  const r = rng(seed);
  const startNs = BigInt(endMs - 24 * HOUR) * 1_000_000n;
  return Array.from({ length: n }, (_, i) =>
    archiveMessage({
      contentTopic: TEST_CONTENT[i % TEST_CONTENT.length],
      timestamp: startNs + BigInt(Math.floor(r() * 24 * HOUR * 1000)) * 1000n,
      payload: new TextEncoder().encode(`${label} ${seed}/${i}`),
    }),
  );
}

/** The corpus in two archives, each missing its own scattered half of `diff`. */
export function split(all: readonly ArchiveMessage[], diff: number, seed: number): { a: ArchiveMessage[]; b: ArchiveMessage[] } {
  const r = rng(seed);
  const missing = new Set<number>();
  while (missing.size < diff) missing.add(Math.floor(r() * all.length));
  return { a: all.filter((_, i) => !(missing.has(i) && i % 2 === 0)), b: all.filter((_, i) => !(missing.has(i) && i % 2 === 1)) };
}
