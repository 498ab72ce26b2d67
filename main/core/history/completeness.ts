/**
 * How complete a topic's history is over the retention window: what is held
 * (online or filled), what is verified by the quorum, and the gaps left with
 * the reason each is still open. Pure: coverage rows and the clock in, figures out.
 */
import type { FilledRange, GapReason, GapStatus, TimeRange, TimelineSegment, TopicHistory } from '../../contract/contract.ts';
import type { CoverageRow } from './history-store.ts';
import { clip, normalize, splitByDay, subtract, totalLength } from './intervals.ts';
import type { Interval } from './intervals.ts';

export interface GapNote {
  reason: GapReason;
  detail: string | null;
}

const toRange = (i: Interval): TimeRange => ({ startMs: i.start, endMs: i.end });

/** The stretches of `window` not held: split at UTC days, the unit gap filling works in. */
export function gapsOf(rows: readonly CoverageRow[], window: Interval): Interval[] {
  return subtract(window, rows).flatMap(splitByDay);
}

export function topicHistory(
  pubsubTopic: string,
  rows: readonly CoverageRow[],
  window: Interval,
  noteOf: (gap: Interval) => GapNote | undefined,
): TopicHistory {
  const length = Math.max(1, window.end - window.start);
  const online = clip(rows.filter((r) => r.kind === 'online'), window);
  const filledRows = rows.filter((r) => r.kind === 'filled');
  const verifiedHeld = normalize([...online, ...clip(filledRows.filter((r) => r.verified), window)]);
  const held = normalize([...verifiedHeld, ...clip(filledRows.filter((r) => !r.verified), window)]);

  const filled: FilledRange[] = [];
  const unverified: FilledRange[] = [];
  for (const r of filledRows) {
    for (const part of clip([r], window)) {
      filled.push({ ...toRange(part), verified: r.verified, peers: r.peers });
      // Unverified only where nothing better holds the same time.
      if (!r.verified) for (const u of subtract(part, verifiedHeld)) unverified.push({ ...toRange(u), verified: false, peers: r.peers });
    }
  }
  const gaps: GapStatus[] = gapsOf(rows, window).map((g) => {
    const note = noteOf(g);
    return { ...toRange(g), reason: note?.reason ?? 'pending', detail: note?.detail ?? null };
  });
  // One partition of the window, best holding first: online, verified, unverified, missing.
  const segments: TimelineSegment[] = [
    ...online.map((i) => ({ ...toRange(i), kind: 'online' as const, peers: [], reason: null, detail: null })),
    ...filledRows
      .filter((r) => r.verified)
      .flatMap((r) => clip([r], window).flatMap((part) => subtract(part, online)).map((i) => ({ i, peers: r.peers })))
      .map(({ i, peers }) => ({ ...toRange(i), kind: 'verified' as const, peers, reason: null, detail: null })),
    ...unverified.map((u) => ({ startMs: u.startMs, endMs: u.endMs, kind: 'unverified' as const, peers: u.peers, reason: null, detail: null })),
    ...gaps.map((g) => ({ startMs: g.startMs, endMs: g.endMs, kind: 'missing' as const, peers: [], reason: g.reason, detail: g.detail })),
  ];
  segments.sort((a, b) => a.startMs - b.startMs);
  return {
    pubsubTopic,
    windowStartMs: window.start,
    windowEndMs: window.end,
    coveredShare: totalLength(held) / length,
    verifiedShare: totalLength(verifiedHeld) / length,
    online: online.map(toRange),
    filled: filled.sort((a, b) => a.startMs - b.startMs),
    unverified: unverified.sort((a, b) => a.startMs - b.startMs),
    gaps,
    segments: dedupeOverlaps(segments),
  };
}

/** Verified fills may overlap each other (refills); keep each instant once, first come first kept. */
function dedupeOverlaps(sorted: TimelineSegment[]): TimelineSegment[] {
  const out: TimelineSegment[] = [];
  let edge = -Infinity;
  for (const s of sorted) {
    const start = Math.max(s.startMs, edge);
    if (start >= s.endMs) continue;
    out.push({ ...s, startMs: start });
    edge = s.endMs;
  }
  return out;
}

/**
 * Completeness over every relayed topic: the mean of their shares (each topic's
 * window has the same length, so this is the time-weighted mean).
 */
export function overallShares(topics: readonly TopicHistory[]): { coveredShare: number; verifiedShare: number } {
  if (topics.length === 0) return { coveredShare: 0, verifiedShare: 0 };
  const sum = (pick: (t: TopicHistory) => number): number => topics.reduce((n, t) => n + pick(t), 0);
  return { coveredShare: sum((t) => t.coveredShare) / topics.length, verifiedShare: sum((t) => t.verifiedShare) / topics.length };
}
