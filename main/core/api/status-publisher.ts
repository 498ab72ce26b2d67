/**
 * The one publisher of status snapshots. Snapshots are built one at a time and
 * shared: readers who ask while one is being built get that one (unless an
 * event came since it began), and the live feed — server-sent events, the
 * desktop window, the tray — gets one snapshot per push for all its followers,
 * shortly after each event and every couple of seconds anyway, with every log
 * entry as it happens. A direct read is never older than the request.
 */
import type { KeeperStatus, LogEntry } from '../../contract/contract.ts';
import type { EventLog } from './event-log.ts';

export interface FeedSink {
  status(status: KeeperStatus): void;
  log(entry: LogEntry): void;
}

export interface PublisherOptions {
  /** A pushed snapshot this often while anyone follows the feed. */
  everyMs?: number;
  /** And this soon after a log entry (several entries share one). */
  afterEventMs?: number;
}

export const FEED_STATUS_EVERY_MS = 2000;

export class StatusPublisher {
  private readonly build: () => Promise<KeeperStatus>;
  private readonly log: EventLog;
  private readonly everyMs: number;
  private readonly afterEventMs: number;
  private readonly sinks = new Set<FeedSink>();
  /** The build under way, and the count of events it began after. */
  private building: { promise: Promise<KeeperStatus>; generation: number } | null = null;
  /** Counts events: a snapshot begun before the latest one is not handed to later callers. */
  private generation = 0;
  private tick: NodeJS.Timeout | undefined;
  private pending: NodeJS.Timeout | undefined;
  private unsubscribeLog: (() => void) | null = null;
  private stopped = false;

  constructor(build: () => Promise<KeeperStatus>, log: EventLog, opts: PublisherOptions = {}) {
    this.build = build;
    this.log = log;
    this.everyMs = opts.everyMs ?? FEED_STATUS_EVERY_MS;
    this.afterEventMs = opts.afterEventMs ?? 250;
    // Whatever is worth an event (a command, a fill, a peer) makes a snapshot begun before it old.
    log.onEntry(() => this.generation++);
  }

  /** A snapshot as of now: the one being built, if no event came since it began, else a new one. */
  latest(): Promise<KeeperStatus> {
    if (this.building !== null && this.building.generation === this.generation) return this.building.promise;
    const promise = this.build().finally(() => {
      if (this.building?.promise === promise) this.building = null;
    });
    this.building = { promise, generation: this.generation };
    return promise;
  }

  /** Follows the feed: a snapshot now, then pushes; returns the function that stops it. */
  subscribe(sink: FeedSink): () => void {
    this.sinks.add(sink);
    if (this.sinks.size === 1 && !this.stopped) this.startFeed();
    void this.latest().then((s) => {
      if (this.sinks.has(sink)) sink.status(s);
    }, () => undefined);
    return () => {
      this.sinks.delete(sink);
      if (this.sinks.size === 0) this.stopFeed();
    };
  }

  stop(): void {
    this.stopped = true;
    this.sinks.clear();
    this.stopFeed();
  }

  private startFeed(): void {
    this.unsubscribeLog = this.log.onEntry((entry) => {
      for (const s of this.sinks) s.log(entry);
      if (this.pending === undefined) {
        this.pending = setTimeout(() => this.publish(), this.afterEventMs);
        this.pending.unref();
      }
    });
    this.tick = setInterval(() => this.publish(), this.everyMs);
    this.tick.unref();
  }

  private stopFeed(): void {
    this.unsubscribeLog?.();
    this.unsubscribeLog = null;
    clearInterval(this.tick);
    clearTimeout(this.pending);
    this.pending = undefined;
  }

  private publish(): void {
    clearTimeout(this.pending);
    this.pending = undefined;
    if (this.sinks.size === 0) return;
    this.latest().then(
      (s) => {
        for (const sink of this.sinks) sink.status(s);
      },
      () => undefined,
    );
  }
}
