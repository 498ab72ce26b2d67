/**
 * Gap filling: the retention window minus coverage, fetched from several store
 * peers. Each gap is split at UTC days (windows of at most 24 h), widened by
 * 20 s each side, and asked of up to `fillQuorum` peers at once; every message
 * is checked, the union of what passes is stored, and the window counts as
 * filled when at least one peer answered it completely — verified when the
 * quorum did. Progress is saved with each page, so a crash resumes mid-window.
 */
import type { ArchiveMessage } from '../message/message.ts';
import type { FillPassSummary, FillStatus } from '../../contract/contract.ts';
import type { GapNote } from './completeness.ts';
import { gapsOf } from './completeness.ts';
import { fetchRange } from './fetch.ts';
import type { HistoryDeps } from './deps.ts';
import type { Interval } from './intervals.ts';
import { clip, splitByDay } from './intervals.ts';
import { msToNs, nsToMs } from '../util/time.ts';

/** Share of the quota at which the archive counts as full for gap filling. */
const QUOTA_FULL = 0.9;

export interface FillerOptions {
  fillQuorum: number;
  /** The retention window as it stands now (the dashboard can change it). */
  retentionMs: () => number;
  /** The newest stretch is left alone for this long: relay may still deliver into it. */
  settleMs: number;
  intervalMs: number;
  /** How far each window is widened at both ends. */
  marginMs?: number;
  maxPagesPerWindow?: number;
  now?: () => number;
  /**
   * Whether relay covers the topic now. A gap that reached the settling edge of
   * an online topic closes at its online start once that has settled, so a
   * pass that filled up to the edge is followed by one more after `settleMs`.
   */
  isOnline?: (pubsubTopic: string) => boolean;
  /**
   * The archive's quota as it stands now: when the archive is (nearly) at it,
   * history older than its oldest message was let go for space, and filling
   * stops there rather than fetch what the quota would drop again.
   */
  quotaBytes?: () => number;
}

interface WindowWork {
  pubsubTopic: string;
  window: Interval;
  /** Peers that already answered this window completely (re-verification). */
  answered: string[];
}

type WindowResult = 'verified' | 'unverified' | 'open';

export const MARGIN_MS = 20_000;

export class GapFiller {
  private readonly d: HistoryDeps;
  private readonly o: Required<FillerOptions>;
  private readonly notes = new Map<string, GapNote>();
  private readonly abort = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  private triggerTimer: NodeJS.Timeout | undefined;
  /** The pass planned for when the newest stretch has settled. */
  private later: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = false;
  private lastPass: FillPassSummary | null = null;
  private progress = { startedAtMs: null as number | null, windowsDone: 0, windowsTotal: 0, messages: 0 };

  constructor(deps: HistoryDeps, opts: FillerOptions) {
    this.d = deps;
    this.o = { marginMs: MARGIN_MS, maxPagesPerWindow: 50_000, now: Date.now, isOnline: () => false, quotaBytes: () => Infinity, ...opts };
  }

  start(): void {
    this.trigger();
    this.timer = setInterval(() => this.trigger(), this.o.intervalMs);
    this.timer.unref();
  }

  /** Asks for a pass soon; a pass already running is followed by one more. */
  trigger(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    if (this.triggerTimer) return;
    this.triggerTimer = setTimeout(() => {
      this.triggerTimer = undefined;
      this.running = this.pass()
        .catch((err: unknown) => this.d.emit({ event: 'error', message: `gap filling failed: ${String(err)}` }))
        .finally(() => {
          this.running = undefined;
          if (this.again && !this.stopped) {
            this.again = false;
            this.trigger();
          }
        });
    }, 100);
    this.triggerTimer.unref();
  }

  /**
   * Relay covers a topic again: the downtime before it is a gap, but only once
   * it has settled, so a pass now and one when the newest of it has settled.
   */
  onlineAgain(): void {
    this.trigger();
    this.later = setTimeout(() => this.trigger(), this.o.settleMs + 100);
    this.later.unref();
  }

  /** Resolves when no pass is running or scheduled (for callers that need a settled state). */
  async idle(): Promise<void> {
    while (this.running || this.triggerTimer) await (this.running ?? new Promise((r) => setTimeout(r, 20)));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    clearTimeout(this.triggerTimer);
    clearTimeout(this.later);
    this.triggerTimer = undefined;
    this.abort.abort();
    await this.running;
  }

  /** The retention window as of `now`, without the newest settling stretch, and not before the quota horizon. */
  window(now = this.o.now()): Interval {
    const end = now - this.o.settleMs;
    const start = Math.min(end, Math.max(now - this.o.retentionMs(), this.quotaHorizon() ?? -Infinity));
    return { start, end };
  }

  /** The window is cut at the quota: history older than the shares' start was let go for space. */
  limitedByQuota(now = this.o.now()): boolean {
    return this.window(now).start > now - this.o.retentionMs();
  }

  /** When the archive is (nearly) at its quota, the time of its oldest message. */
  private quotaHorizon(): number | null {
    const archive = this.d.archive;
    if (!archive.isOpen || archive.usedBytes() < QUOTA_FULL * this.o.quotaBytes()) return null;
    const oldest = archive.stats().oldest;
    return oldest === null ? null : nsToMs(oldest);
  }

  noteOf(pubsubTopic: string, gap: Interval): GapNote | undefined {
    return this.notes.get(`${pubsubTopic}|${gap.start}`);
  }

  status(): FillStatus {
    return { running: this.progress.startedAtMs !== null, ...this.progress, lastPass: this.lastPass };
  }

  private collectWork(window: Interval): WindowWork[] {
    const candidates = new Set(this.d.peers.candidates().map((p) => p.peerId));
    const work: WindowWork[] = [];
    for (const pubsubTopic of this.d.topics.pubsubTopics) {
      const rows = this.d.history.coverage(pubsubTopic);
      for (const gap of gapsOf(rows, window)) work.push({ pubsubTopic, window: gap, answered: [] });
      // Unverified windows are asked again when a peer that has not answered them is available.
      for (const r of rows) {
        if (r.kind !== 'filled' || r.verified) continue;
        if (![...candidates].some((c) => !r.peers.includes(c))) continue;
        for (const part of clip([r], window).flatMap(splitByDay)) work.push({ pubsubTopic, window: part, answered: r.peers });
      }
    }
    // Newest first: recent history is what people scroll back to.
    return work.sort((a, b) => b.window.start - a.window.start);
  }

  private async pass(): Promise<void> {
    const window = this.window();
    const work = this.collectWork(window);
    if (work.length === 0) return;
    if (work.some((w) => w.window.end === window.end && this.o.isOnline(w.pubsubTopic))) {
      clearTimeout(this.later);
      this.later = setTimeout(() => this.trigger(), this.o.settleMs + 100);
      this.later.unref();
    }
    if (this.d.peers.candidates().length === 0) {
      for (const w of work) if (w.answered.length === 0) this.note(w, { reason: 'no-peer', detail: null });
      return;
    }
    const startedAtMs = this.o.now();
    this.progress = { startedAtMs, windowsDone: 0, windowsTotal: work.length, messages: 0 };
    this.d.emit({ event: 'fill:start', windows: work.length, pubsubTopics: [...new Set(work.map((w) => w.pubsubTopic))] });
    const counts = { verified: 0, unverified: 0, open: 0 };
    try {
      for (const w of work) {
        if (this.abort.signal.aborted) break;
        // The quota filled up during the pass: older windows would only be pruned again.
        if (w.window.end <= (this.quotaHorizon() ?? -Infinity)) break;
        const before = this.progress.messages;
        const result = await this.fillWindow(w);
        counts[result]++;
        this.progress.windowsDone++;
        this.d.emit({
          event: 'fill:progress',
          pubsubTopic: w.pubsubTopic,
          startMs: w.window.start,
          endMs: w.window.end,
          done: this.progress.windowsDone,
          total: work.length,
          messages: this.progress.messages - before,
        });
      }
    } finally {
      const endedAtMs = this.o.now();
      this.lastPass = { startedAtMs, endedAtMs, windows: this.progress.windowsDone, ...counts, messages: this.progress.messages };
      this.progress = { startedAtMs: null, windowsDone: 0, windowsTotal: 0, messages: 0 };
      this.d.emit({ event: 'fill:end', windows: this.lastPass.windows, ...counts, messages: this.lastPass.messages, ms: endedAtMs - startedAtMs });
    }
  }

  private note(w: WindowWork, note: GapNote): void {
    this.notes.set(`${w.pubsubTopic}|${w.window.start}`, note);
  }

  private async fillWindow(w: WindowWork): Promise<WindowResult> {
    const { pubsubTopic, window } = w;
    const { archive, writer, history, peers, topics } = this.d;
    const range = {
      pubsubTopic,
      startNs: msToNs(window.start - this.o.marginMs),
      endNs: msToNs(window.end + this.o.marginMs),
    };
    const saved = new Map(history.progress(pubsubTopic, window.start).map((p) => [p.peerId, p]));
    const complete = new Set([...w.answered, ...[...saved.values()].filter((p) => p.complete).map((p) => p.peerId)]);
    const queue = peers.candidates().filter((p) => !complete.has(p.peerId)).map((p) => p.peerId);
    const provided = new Map<string, number>();
    const errors: string[] = [];
    let newMessages = 0;
    let unstorable = false;

    const fetchFrom = async (peerId: string): Promise<void> => {
      const prior = saved.get(peerId);
      let count = prior?.provided ?? 0;
      const outcome = await fetchRange((req, signal) => this.d.query(peerId, req, signal), {
        range,
        resumeCursor: prior?.cursor ?? null,
        maxPages: this.o.maxPagesPerWindow,
        signal: this.abort.signal,
        onPage: (valid: ArchiveMessage[], rejected, cursor, done) => {
          const kept = valid.filter((m) => topics.keeps(m.contentTopic));
          // The page and the progress it makes commit together, or neither does.
          const inserted = writer.store(kept, () =>
            history.saveProgress(pubsubTopic, window.start, { peerId, cursor, complete: done, provided: count + kept.length }),
          );
          if (inserted === null) return false;
          count += kept.length;
          newMessages += inserted;
          this.progress.messages += inserted;
          peers.recordMessages(peerId, kept.length, rejected);
          return true;
        },
      });
      provided.set(peerId, count);
      if (outcome.complete) {
        complete.add(peerId);
        peers.recordSuccess(peerId, outcome.rttMs);
      } else if (outcome.local) {
        unstorable = true;
      } else if (!this.abort.signal.aborted) {
        peers.recordFailure(peerId, outcome.error ?? 'incomplete');
        errors.push(`${peerId.slice(-8)}: ${outcome.error ?? 'incomplete'}`);
      }
    };

    // Up to `fillQuorum` peers at a time; a failed one makes room for the next.
    const workers = Array.from({ length: Math.max(1, this.o.fillQuorum - complete.size) }, async () => {
      while (complete.size < this.o.fillQuorum && !this.abort.signal.aborted && !unstorable) {
        const next = queue.shift();
        if (next === undefined) return;
        await fetchFrom(next);
      }
    });
    await Promise.all(workers);
    if (this.abort.signal.aborted) return 'open';
    if (unstorable) {
      // Nothing a peer did: the window stays open and is asked again once the archive takes writes.
      this.note(w, { reason: 'archive-error', detail: writer.error });
      return 'open';
    }

    if (complete.size === 0) {
      this.note(w, errors.length > 0 ? { reason: 'peer-failed', detail: errors.join('; ') } : { reason: 'no-peer', detail: null });
      return 'open';
    }
    // Agreement: the share of everything now held for the window that each peer had
    // (an empty window says nothing about a peer).
    const union = archive.countInRange(pubsubTopic, range.startNs, range.endNs);
    for (const [peerId, count] of provided) {
      if (complete.has(peerId) && union > 0) peers.recordAgreement(peerId, Math.min(1, count / union));
    }
    const verified = complete.size >= this.o.fillQuorum;
    history.completeWindow(pubsubTopic, window, verified, [...complete].sort(), newMessages);
    this.notes.delete(`${pubsubTopic}|${window.start}`);
    return verified ? 'verified' : 'unverified';
  }
}
