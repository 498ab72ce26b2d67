/**
 * The one door into the archive. Relay, gap filling and the consistency check
 * all store through here, so counting, batching and a failing disk are handled
 * once: a write that fails (disk full, I/O error) is counted, said once when
 * writing starts failing and once when it works again, and shows in the status.
 */
import type { ArchiveMessage } from '../message/message.ts';
import { errorMessage } from '../util/errors.ts';
import type { Archive } from './archive.ts';

export interface WriterCounters {
  /** Messages new to the archive. */
  stored: number;
  /** Messages offered that the archive already held. */
  duplicates: number;
  /** Valid messages that could not be written (disk full, I/O error). */
  unwritable: number;
  /** Messages stored in the last 60 seconds. */
  lastMinute: number;
}

export interface WriterOptions {
  /** Relay batches are written when this many wait, even before the event loop turns. */
  maxBatch?: number;
  /** Said when writing starts failing and when it works again. */
  onTrouble?: (level: 'error' | 'warning', message: string) => void;
  now?: () => number;
}

export class ArchiveWriter {
  private readonly archive: Archive;
  private readonly maxBatch: number;
  private readonly onTrouble: WriterOptions['onTrouble'];
  private readonly now: () => number;
  private pending: ArchiveMessage[] = [];
  private scheduled: NodeJS.Immediate | undefined;
  private failing: string | null = null;
  private readonly counts = { stored: 0, duplicates: 0, unwritable: 0 };
  /** Stored messages per second over the last minute: a ring of 60 one-second buckets. */
  private readonly perSecond = new Array<number>(60).fill(0);
  private perSecondAt: number;

  constructor(archive: Archive, opts: WriterOptions = {}) {
    this.archive = archive;
    this.maxBatch = opts.maxBatch ?? 5000;
    this.onTrouble = opts.onTrouble;
    this.now = opts.now ?? Date.now;
    this.perSecondAt = Math.floor(this.now() / 1000);
  }

  /**
   * Relay's way in: queued and written in one transaction per event-loop turn,
   * so under load many messages share a commit and at rest each is written at once.
   */
  push(message: ArchiveMessage): void {
    this.pending.push(message);
    if (this.pending.length >= this.maxBatch) this.flush();
    else this.scheduled ??= setImmediate(() => this.flush());
  }

  get queued(): number {
    return this.pending.length;
  }

  /** Writes what relay queued; returns how many were new. */
  flush(): number {
    if (this.scheduled !== undefined) clearImmediate(this.scheduled);
    this.scheduled = undefined;
    const batch = this.pending;
    if (batch.length === 0) return 0;
    this.pending = [];
    return this.store(batch, 'gap filling will fetch what is missed once it can') ?? 0;
  }

  /**
   * Stores a batch now, in one transaction, and returns how many were new —
   * or null when the archive cannot be written, in which case none of it stays.
   */
  store(messages: readonly ArchiveMessage[], whenFailing = 'they will be asked for again'): number | null {
    if (messages.length === 0) return 0;
    let inserted: number;
    try {
      inserted = this.archive.insert(messages);
    } catch (err) {
      this.counts.unwritable += messages.length;
      const message = errorMessage(err);
      // Said once when writing starts failing, not once a batch.
      if (this.failing === null) {
        this.onTrouble?.('error', `the archive cannot be written (${message}): ${messages.length} messages not stored; ${whenFailing}`);
      }
      this.failing = message;
      return null;
    }
    if (this.failing !== null) {
      this.onTrouble?.('warning', 'the archive can be written again');
      this.failing = null;
    }
    this.counts.stored += inserted;
    this.counts.duplicates += messages.length - inserted;
    this.rollSeconds();
    const slot = this.perSecondAt % 60;
    this.perSecond[slot] = (this.perSecond[slot] ?? 0) + inserted;
    return inserted;
  }

  /** Why the archive cannot be written now, or null while it can. */
  get error(): string | null {
    return this.failing;
  }

  counters(): WriterCounters {
    this.rollSeconds();
    return { ...this.counts, lastMinute: this.perSecond.reduce((a, b) => a + b, 0) };
  }

  /** Clears the buckets of the seconds that passed since the last count. */
  private rollSeconds(): void {
    const now = Math.floor(this.now() / 1000);
    for (let t = this.perSecondAt + 1; t <= Math.min(now, this.perSecondAt + 60); t++) this.perSecond[t % 60] = 0;
    this.perSecondAt = Math.max(this.perSecondAt, now);
  }
}
