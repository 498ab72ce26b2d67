/**
 * Half-open time intervals [start, end) in ms, and the set arithmetic that
 * coverage, gaps and completeness are made of. Pure functions.
 */
import { DAY_MS } from '../util/time.ts';

export interface Interval {
  start: number;
  end: number;
}

/** Sorted, non-overlapping, non-adjacent, non-empty: the canonical form of a set of intervals. */
export function normalize(intervals: readonly Interval[]): Interval[] {
  const sorted = intervals.filter((i) => i.end > i.start).sort((a, b) => a.start - b.start || a.end - b.end);
  const out: Interval[] = [];
  for (const i of sorted) {
    const last = out[out.length - 1];
    if (last !== undefined && i.start <= last.end) last.end = Math.max(last.end, i.end);
    else out.push({ start: i.start, end: i.end });
  }
  return out;
}

/** What of `within` is not covered by `covered`. */
export function subtract(within: Interval, covered: readonly Interval[]): Interval[] {
  const out: Interval[] = [];
  let cursor = within.start;
  for (const c of normalize(covered)) {
    if (c.end <= cursor) continue;
    if (c.start >= within.end) break;
    if (c.start > cursor) out.push({ start: cursor, end: Math.min(c.start, within.end) });
    cursor = Math.max(cursor, c.end);
    if (cursor >= within.end) break;
  }
  if (cursor < within.end) out.push({ start: cursor, end: within.end });
  return out;
}

/** The parts of `intervals` inside `within`. */
export function clip(intervals: readonly Interval[], within: Interval): Interval[] {
  return normalize(
    intervals.map((i) => ({ start: Math.max(i.start, within.start), end: Math.min(i.end, within.end) })),
  );
}

export function totalLength(intervals: readonly Interval[]): number {
  return normalize(intervals).reduce((n, i) => n + (i.end - i.start), 0);
}


/**
 * Splits an interval at UTC day boundaries, so no piece is longer than 24 h
 * and the pieces of a gap fall at the same places every time it is computed
 * (what lets an interrupted fill find its progress again).
 */
export function splitByDay(i: Interval): Interval[] {
  const out: Interval[] = [];
  let start = i.start;
  while (start < i.end) {
    const nextDay = (Math.floor(start / DAY_MS) + 1) * DAY_MS;
    const end = Math.min(nextDay, i.end);
    out.push({ start, end });
    start = end;
  }
  return out;
}
