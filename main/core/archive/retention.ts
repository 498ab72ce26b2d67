/**
 * Retention policies: each a small object with one `execute`, run on start and
 * periodically. Work is done in short batches with a turn of the event loop
 * between them, so relay and store serving never wait long on a prune.
 */
import type { Archive } from './archive.ts';
import type { DeletedSummary } from './types.ts';
import { msToNs } from '../util/time.ts';

export interface RetentionPolicy {
  readonly name: string;
  execute(archive: Archive, signal?: AbortSignal): Promise<DeletedSummary>;
}

const BATCH = 2000;
/** Later than any message: the largest int64 nanosecond timestamp. */
export const END_OF_TIME_NS = 2n ** 63n - 1n;
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
    const cutoffNs = msToNs(this.now() - this.maxAgeMs);
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

/** A community's own limits: its content topics on its pubsub topic, its donated space (bytes of its messages) and retention. */
export interface CommunityLimits {
  pubsubTopic: string;
  contentTopics: readonly string[];
  /** Null: the archive's quota only. */
  quotaBytes: number | null;
  /** Null: the archive's retention only. */
  retentionMs: number | null;
}

/**
 * Keeps each community within its own retention and donated space: past
 * them, the oldest of that community's messages go first, and no other
 * community's. Its space is the bytes of its messages (the archive's own
 * counters), not the pages they share with the others.
 */
export class CommunityRetention implements RetentionPolicy {
  readonly name = 'community';
  private readonly limits: readonly CommunityLimits[];
  private readonly now: () => number;

  constructor(limits: readonly CommunityLimits[], now: () => number = Date.now) {
    this.limits = limits;
    this.now = now;
  }

  async execute(archive: Archive, signal?: AbortSignal): Promise<DeletedSummary> {
    const total: DeletedSummary = { messages: 0, bytes: 0 };
    const add = (d: DeletedSummary): void => {
      total.messages += d.messages;
      total.bytes += d.bytes;
    };
    for (const c of this.limits) {
      if (c.contentTopics.length === 0) continue;
      if (c.retentionMs !== null) {
        const cutoffNs = msToNs(this.now() - c.retentionMs);
        while (!signal?.aborted && archive.isOpen) {
          const d = archive.deleteOldestOf(c.pubsubTopic, c.contentTopics, BATCH, cutoffNs);
          add(d);
          if (d.messages === 0) break;
          await yieldToEventLoop();
        }
      }
      if (c.quotaBytes !== null) {
        while (!signal?.aborted && archive.isOpen) {
          const held = archive.contentStats(c.pubsubTopic, c.contentTopics);
          const excess = held.bytes - c.quotaBytes;
          if (excess <= 0 || held.messages === 0) break;
          const perRow = Math.max(1, held.bytes / held.messages);
          const d = archive.deleteOldestOf(c.pubsubTopic, c.contentTopics, Math.min(BATCH, Math.max(1, Math.ceil(excess / perRow))), END_OF_TIME_NS);
          add(d);
          if (d.messages === 0) break;
          await yieldToEventLoop();
        }
      }
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

export interface RetentionSchedulerOptions {
  /** The policies as they stand now (quota and retention can change at run time). */
  policies: () => readonly RetentionPolicy[];
  intervalMs: number;
  /** After each run, with what each policy deleted. */
  onRun?: (deleted: Record<string, DeletedSummary>) => void;
  onError?: (err: unknown) => void;
}

/** Runs the retention policies at start, every interval, and soon after a change asks for it. */
export class RetentionScheduler {
  private readonly archive: Archive;
  private readonly o: RetentionSchedulerOptions;
  private readonly abort = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(archive: Archive, opts: RetentionSchedulerOptions) {
    this.archive = archive;
    this.o = opts;
  }

  start(): void {
    this.runIn(0);
  }

  /** Runs the policies as soon as the current run (if any) is done. */
  runSoon(): void {
    this.runIn(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.abort.abort();
    await this.running;
  }

  private runIn(delayMs: number): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      // The next regular run is planned after this one, unless a change asked for one meanwhile.
      this.running = this.running.then(() => this.run()).then(() => {
        if (this.timer === undefined) this.runIn(this.o.intervalMs);
      });
    }, delayMs);
    this.timer.unref();
  }

  private async run(): Promise<void> {
    if (this.stopped) return;
    try {
      const deleted = await applyRetention(this.archive, this.o.policies(), this.abort.signal);
      if (this.archive.isOpen) this.o.onRun?.(deleted);
    } catch (err) {
      this.o.onError?.(err);
    }
  }
}
