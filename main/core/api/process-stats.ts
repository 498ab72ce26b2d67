/**
 * How the node's own process is doing: memory, and event-loop lag (how long a
 * timer waits beyond its time — what relay and store serving feel) over the
 * last complete 5-second window.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';

export interface ProcessSnapshot {
  rssBytes: number;
  heapUsedBytes: number;
  /** Lag over the last complete window, in ms. */
  eventLoopLag: { p50Ms: number; p99Ms: number; maxMs: number; windowMs: number };
}

export const LAG_WINDOW_MS = 5000;

export class ProcessStats {
  private readonly histogram = monitorEventLoopDelay({ resolution: 1 });
  private last = { p50Ms: 0, p99Ms: 0, maxMs: 0 };
  private timer: NodeJS.Timeout | undefined;

  start(): void {
    this.histogram.enable();
    this.timer = setInterval(() => {
      const h = this.histogram;
      const ms = (ns: number): number => Math.round((ns / 1e6) * 10) / 10;
      this.last = { p50Ms: ms(h.percentile(50)), p99Ms: ms(h.percentile(99)), maxMs: ms(h.max) };
      h.reset();
    }, LAG_WINDOW_MS);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.histogram.disable();
  }

  snapshot(): ProcessSnapshot {
    const m = process.memoryUsage();
    return { rssBytes: m.rss, heapUsedBytes: m.heapUsed, eventLoopLag: { ...this.last, windowMs: LAG_WINDOW_MS } };
  }
}
