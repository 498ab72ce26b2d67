/**
 * Gap filling: for each kept scope (a community, or a whole pubsub topic), its
 * retention window minus what is held of it, split at UTC days (windows of at
 * most 24 h), newest first, each filled from store peers by fill-window.ts. Passes run at start, when relay comes back (and again once
 * its downtime has settled), when a store peer turns up, and every interval;
 * stretches held but not verified are asked again when a peer that attests
 * its coverage and has not answered them is there to ask.
 */
import type { FillPassSummary, FillStatus } from '../../contract/contract.ts';
import type { GapNote } from './completeness.ts';
import { gapsOf } from './completeness.ts';
import type { HistoryDeps } from './deps.ts';
import { fillWindow } from './fill-window.ts';
import type { WindowWork, WorkScope } from './fill-window.ts';
import type { Interval } from '../util/intervals.ts';
import { clip, splitByDay } from '../util/intervals.ts';
import { nsToMs } from '../util/time.ts';
import { MAX_CLOCK_SKEW_NS } from '../message/validate.ts';

/** Share of the quota at which the archive counts as full for gap filling. */
const QUOTA_FULL = 0.9;

export interface FillerOptions {
  fillQuorum: number;
  /** The kept scopes as they stand now, with their records' ids. */
  scopes: () => readonly WorkScope[];
  /**
   * When a scope's own history starts (its retention, or the oldest message it
   * still holds once its quota is reached); null: the archive's window.
   */
  scopeHorizon?: (scope: WorkScope) => number | null;
  /** The retention window as it stands now (the dashboard can change it). */
  retentionMs: () => number;
  /** The newest stretch is left alone for this long: relay may still deliver into it. */
  settleMs: number;
  intervalMs: number;
  /**
   * The clock margin: how far a message's timestamp may be from when relay
   * delivered it. Online stretches count as held only that far inside their
   * ends, and each window is widened by it when fetched.
   */
  marginMs?: number;
  maxPagesPerWindow?: number;
  /** Windows filled side by side. */
  windowsInFlight?: number;
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

export class GapFiller {
  private readonly d: HistoryDeps;
  private readonly o: Required<FillerOptions>;
  /** Why each window asked last is still (partly) missing, by topic and window start. */
  private readonly notes = new Map<string, { window: Interval; note: GapNote }>();
  /** Windows left unverified lately, when they were asked, and the attesting peers that answered them completely. */
  private readonly asked = new Map<string, { window: Interval; atMs: number; answeredBy: string[] }>();
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
  /** The running pass's progress per scope id. */
  private scopeProgress = new Map<number, { windowsDone: number; windowsTotal: number; messages: number }>();

  constructor(deps: HistoryDeps, opts: FillerOptions) {
    this.d = deps;
    this.o = {
      marginMs: nsToMs(MAX_CLOCK_SKEW_NS),
      maxPagesPerWindow: 50_000,
      windowsInFlight: 3,
      now: Date.now,
      isOnline: () => false,
      quotaBytes: () => Infinity,
      scopeHorizon: () => null,
      ...opts,
    };
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

  /** A scope's window: the archive's, from the scope's own horizon when that is later. */
  windowOf(scope: WorkScope, now = this.o.now()): Interval {
    const w = this.window(now);
    const horizon = this.o.scopeHorizon(scope);
    return horizon === null ? w : { start: Math.min(w.end, Math.max(w.start, horizon)), end: w.end };
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

  /** Why a gap of a scope is still open: the note of the window it lies in, if that was asked. */
  noteOf(scopeId: number, gap: Interval): GapNote | undefined {
    return entryOf(this.notes, scopeId, gap)?.note;
  }

  /** The running pass's progress on one scope. */
  progressOf(scopeId: number): { running: boolean; windowsDone: number; windowsTotal: number; messages: number } {
    const p = this.scopeProgress.get(scopeId);
    return p === undefined ? { running: false, windowsDone: 0, windowsTotal: 0, messages: 0 } : { running: p.windowsDone < p.windowsTotal, ...p };
  }

  /**
   * A Keeper announced anew: a pass now if it claims more than a minute of a
   * stretch a pass would ask for (a gap, or held unverified) and has not been
   * asked it since — not on every announcement, which would ask again what
   * the fill interval asks again anyway.
   */
  announcedBy(peerId: string): void {
    if (this.stopped) return;
    const fresh = this.collectWork().some((w) => this.d.peers.claimsAfresh(peerId, w.scope.pubsubTopic, w.window, entryOf(this.asked, w.scope.id, w.window)?.atMs ?? -Infinity));
    if (fresh) this.trigger();
  }

  /**
   * A stretch left unverified lately by the answers of every attesting peer
   * there is to ask: asking them again gains nothing until one that did not
   * answer turns up, or an interval passes (their coverage may have grown).
   */
  private nobodyNewToAsk(scope: WorkScope, stretch: Interval, attesting: readonly string[]): boolean {
    const e = entryOf(this.asked, scope.id, stretch);
    // With no attesting peer at all, the unattested ones are what there is: they are asked as before.
    if (e === undefined || attesting.length === 0 || this.o.now() - e.atMs >= this.o.intervalMs) return false;
    // One that answered, and has announced since that it holds the stretch, is new to ask: it fills it or is found out.
    return attesting.every((id) => e.answeredBy.includes(id) && !this.d.peers.claimsAfresh(id, scope.pubsubTopic, stretch, e.atMs));
  }

  status(): FillStatus {
    return { running: this.progress.startedAtMs !== null, ...this.progress, lastPass: this.lastPass };
  }

  private collectWork(): WindowWork[] {
    const attesting = this.d.peers
      .candidates()
      .map((p) => p.peerId)
      .filter((id) => this.d.peers.mayAttest(id));
    const work: WindowWork[] = [];
    for (const scope of this.o.scopes()) {
      const window = this.windowOf(scope);
      // Its own coverage and what vouches for it: a whole topic kept before it was.
      const rows = this.d.history.coverageOf(scope);
      for (const gap of gapsOf(rows, window, { marginMs: this.o.marginMs })) {
        if (!this.nobodyNewToAsk(scope, gap, attesting)) work.push({ scope, window: gap, prior: null });
      }
      // Held but unverified: asked again when a peer that attests its coverage could verify it —
      // any such peer for an unattested stretch, one that has not answered it for an attested one.
      for (const r of rows) {
        if (r.kind !== 'filled' || r.verified) continue;
        if (!attesting.some((id) => !r.attested || !r.peers.includes(id))) continue;
        for (const part of clip([r], window).flatMap(splitByDay)) {
          if (this.nobodyNewToAsk(scope, part, attesting)) continue;
          work.push({ scope, window: part, prior: { peers: r.peers, attested: r.attested } });
        }
      }
    }
    // Newest first: recent history is what people scroll back to.
    return work.sort((a, b) => b.window.start - a.window.start);
  }

  private async pass(): Promise<void> {
    const window = this.window();
    for (const [key, e] of this.notes) if (e.window.end <= window.start) this.notes.delete(key);
    for (const [key, e] of this.asked) if (e.window.end <= window.start) this.asked.delete(key);
    const work = this.collectWork();
    if (work.length === 0) return;
    if (work.some((w) => w.window.end === window.end && this.o.isOnline(w.scope.pubsubTopic))) {
      clearTimeout(this.later);
      this.later = setTimeout(() => this.trigger(), this.o.settleMs + 100);
      this.later.unref();
    }
    if (this.d.peers.candidates().length === 0) {
      for (const w of work) if (w.prior === null) this.note(w, { reason: 'no-peer', detail: null });
      return;
    }
    const startedAtMs = this.o.now();
    this.progress = { startedAtMs, windowsDone: 0, windowsTotal: work.length, messages: 0 };
    this.scopeProgress = new Map();
    for (const w of work) {
      const p = this.scopeProgress.get(w.scope.id) ?? { windowsDone: 0, windowsTotal: 0, messages: 0 };
      p.windowsTotal++;
      this.scopeProgress.set(w.scope.id, p);
    }
    this.d.emit({ event: 'fill:start', windows: work.length, pubsubTopics: [...new Set(work.map((w) => w.scope.pubsubTopic))] });
    const counts = { verified: 0, unverified: 0, open: 0 };
    const queue = [...work];
    const fillNext = async (): Promise<void> => {
      for (let w = queue.shift(); w !== undefined; w = queue.shift()) {
        if (this.abort.signal.aborted) return;
        // The quota filled up during the pass: older windows would only be pruned again.
        if (w.window.end <= (this.quotaHorizon() ?? -Infinity)) return;
        let stored = 0;
        const askedAtMs = this.o.now();
        const { result, note, answeredBy } = await fillWindow(this.d, w, {
          fillQuorum: this.o.fillQuorum,
          marginMs: this.o.marginMs,
          maxPagesPerWindow: this.o.maxPagesPerWindow,
          signal: this.abort.signal,
          onStored: (n) => {
            stored += n;
            this.progress.messages += n;
            const p = this.scopeProgress.get(w.scope.id);
            if (p !== undefined) p.messages += n;
          },
        });
        const p = this.scopeProgress.get(w.scope.id);
        if (p !== undefined) p.windowsDone++;
        const key = `${w.scope.id}|${w.window.start}`;
        // This answer supersedes what earlier, overlapping windows said (the window slides with retention).
        supersede(this.asked, w.scope.id, w.window);
        supersede(this.notes, w.scope.id, w.window);
        if (note !== null) this.note(w, note);
        // A window the archive could not store is asked again as soon as it can.
        if (result === 'verified' || note?.reason === 'archive-error') this.asked.delete(key);
        else this.asked.set(key, { window: w.window, atMs: askedAtMs, answeredBy });
        counts[result]++;
        this.progress.windowsDone++;
        this.d.emit({
          event: 'fill:progress',
          pubsubTopic: w.scope.pubsubTopic,
          startMs: w.window.start,
          endMs: w.window.end,
          done: this.progress.windowsDone,
          total: work.length,
          messages: stored,
        });
      }
    };
    try {
      // A few windows side by side (as status-go keeps 3 in flight), newest first.
      await Promise.all(Array.from({ length: Math.min(this.o.windowsInFlight, work.length) }, fillNext));
    } finally {
      const endedAtMs = this.o.now();
      this.lastPass = { startedAtMs, endedAtMs, windows: this.progress.windowsDone, ...counts, messages: this.progress.messages };
      this.progress = { startedAtMs: null, windowsDone: 0, windowsTotal: 0, messages: 0 };
      this.scopeProgress = new Map();
      this.d.emit({ event: 'fill:end', windows: this.lastPass.windows, ...counts, messages: this.lastPass.messages, ms: endedAtMs - startedAtMs });
    }
  }

  private note(w: WindowWork, note: GapNote): void {
    this.notes.set(`${w.scope.id}|${w.window.start}`, { window: w.window, note });
  }
}

/** Forgets the entries of a scope whose windows overlap `window`. */
function supersede<E extends { window: Interval }>(map: Map<string, E>, scopeId: number, window: Interval): void {
  for (const [key, entry] of map) {
    if (key.startsWith(`${scopeId}|`) && entry.window.start < window.end && window.start < entry.window.end) map.delete(key);
  }
}

/** The entry of the window that `stretch` starts in, of a map keyed by scope id and window start. */
function entryOf<E extends { window: Interval }>(map: ReadonlyMap<string, E>, scopeId: number, stretch: Interval): E | undefined {
  for (const [key, entry] of map) {
    if (key.startsWith(`${scopeId}|`) && stretch.start >= entry.window.start && stretch.start < entry.window.end) return entry;
  }
  return undefined;
}
