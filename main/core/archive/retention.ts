/**
 * Retention policies: each a small object with one `execute`, run on start and
 * periodically. Work is done in short batches with a turn of the event loop
 * between them, so relay and store serving never wait long on a prune.
 */
import type { Archive, DeletedSummary } from './archive.ts';

export interface RetentionPolicy {
  readonly name: string;
  execute(archive: Archive, signal?: AbortSignal): Promise<DeletedSummary>;
}

const BATCH = 2000;
const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Keeps messages whose timestamp is within `maxAgeMs` of the clock. */
export class AgeRetention implements RetentionPolicy {
  readonly name = 'age';
  readonly maxAgeMs: number;
  private readonly now: () => number;

  constructor(maxAgeMs: number, now: () => number = Date.now) {
    this.maxAgeMs = maxAgeMs;
    this.now = now;
  }

  async execute(archive: Archive, signal?: AbortSignal): Promise<DeletedSummary> {
    const cutoffNs = BigInt(this.now() - this.maxAgeMs) * 1_000_000n;
    const total: DeletedSummary = { messages: 0, bytes: 0 };
    while (!signal?.aborted && archive.isOpen) {
      const d = archive.deleteOlderThan(cutoffNs, BATCH);
      total.messages += d.messages;
      total.bytes += d.bytes;
      if (d.messages === 0) break;
      await yieldToEventLoop();
    }
    return total;
  }
}

/** Keeps the archive's pages within `maxBytes`, dropping the oldest messages first. */
export class QuotaRetention implements RetentionPolicy {
  readonly name = 'quota';
  readonly maxBytes: number;

  constructor(maxBytes: number) {
    this.maxBytes = maxBytes;
  }

  async execute(archive: Archive, signal?: AbortSignal): Promise<DeletedSummary> {
    const total: DeletedSummary = { messages: 0, bytes: 0 };
    while (!signal?.aborted && archive.isOpen) {
      const excess = archive.usedBytes() - this.maxBytes;
      if (excess <= 0) break;
      const stats = archive.stats();
      if (stats.messages === 0) break;
      // Guess how many rows free the excess from the mean row footprint, within bounds.
      const perRow = Math.max(1, stats.usedBytes / stats.messages);
      const count = Math.min(BATCH, Math.max(50, Math.ceil(excess / perRow)));
      const d = archive.deleteOldest(count);
      total.messages += d.messages;
      total.bytes += d.bytes;
      if (d.messages === 0) break;
      await yieldToEventLoop();
    }
    return total;
  }
}

/** Runs the policies in order, then hands freed pages back to the file system. */
export async function applyRetention(
  archive: Archive,
  policies: readonly RetentionPolicy[],
  signal?: AbortSignal,
): Promise<Record<string, DeletedSummary>> {
  const result: Record<string, DeletedSummary> = {};
  for (const policy of policies) {
    if (signal?.aborted || !archive.isOpen) break;
    result[policy.name] = await policy.execute(archive, signal);
  }
  const deleted = Object.values(result).reduce((n, d) => n + d.messages, 0);
  if (deleted > 0 && archive.isOpen) archive.releaseFreePages(100_000);
  return result;
}
