/**
 * Half-open time intervals [start, end) in ms, and the set arithmetic that
 * coverage, gaps and completeness are made of. Pure functions.
 */
import { DAY_MS } from './time.ts';

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

/** Each stretch of the set narrowed by `margin` at both ends; what becomes empty is dropped. */
export function shrink(intervals: readonly Interval[], margin: number): Interval[] {
  return normalize(intervals)
    .map((i) => ({ start: i.start + margin, end: i.end - margin }))
    .filter((i) => i.end > i.start);
}

/** What both sets cover. */
export function intersect(a: readonly Interval[], b: readonly Interval[]): Interval[] {
  const out: Interval[] = [];
  const x = normalize(a);
  const y = normalize(b);
  let i = 0;
  let j = 0;
  while (i < x.length && j < y.length) {
    const p = x[i] as Interval;
    const q = y[j] as Interval;
    const start = Math.max(p.start, q.start);
    const end = Math.min(p.end, q.end);
    if (end > start) out.push({ start, end });
    if (p.end < q.end) i++;
    else j++;
  }
  return out;
}

/** The stretches covered by at least `quorum` of the sets (each set counts once wherever it overlaps itself). */
export function coveredByAtLeast(sets: readonly (readonly Interval[])[], quorum: number): Interval[] {
  const edges: [number, number][] = [];
  for (const set of sets) for (const i of normalize(set)) edges.push([i.start, 1], [i.end, -1]);
  // Ends before starts at the same instant: half-open intervals that only touch do not overlap.
  edges.sort((p, q) => p[0] - q[0] || p[1] - q[1]);
  const out: Interval[] = [];
  let depth = 0;
  let openedAt = 0;
  for (const [at, step] of edges) {
    const before = depth;
    depth += step;
    if (before < quorum && depth >= quorum) openedAt = at;
    else if (before >= quorum && depth < quorum) out.push({ start: openedAt, end: at });
  }
  return normalize(out);
}
