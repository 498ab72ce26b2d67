/**
 * How complete a topic's history is over the retention window: what is held
 * (online or filled), what is verified by the quorum, and the gaps left with
 * the reason each is still open. Pure: coverage rows and the clock in, figures out.
 */
import type { FilledRange, GapReason, GapStatus, TimeRange, TopicHistory } from '../api/contract.ts';
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
  };
}
