/**
 * Timeline geometry: where each stretch of a topic's window sits on a bar of
 * 100 %. Tiny stretches that matter (missing, unverified) get a minimum width
 * so a one-minute gap in 30 days is still visible and can be focused.
 */
import type { SegmentKind, TimelineSegment, TopicHistory } from '../../../main/contract/contract.ts';

export interface Bar {
  kind: SegmentKind;
  startMs: number;
  endMs: number;
  /** Percent of the bar. */
  left: number;
  width: number;
  segment: TimelineSegment;
}

export const MIN_VISIBLE_PERCENT = 0.4;
const EMPHASISED: ReadonlySet<SegmentKind> = new Set(['missing', 'unverified']);

export function bars(h: TopicHistory, minPercent = MIN_VISIBLE_PERCENT): Bar[] {
  const span = Math.max(1, h.windowEndMs - h.windowStartMs);
  return h.segments.map((segment) => {
    const left = ((segment.startMs - h.windowStartMs) / span) * 100;
    let width = ((segment.endMs - segment.startMs) / span) * 100;
    if (EMPHASISED.has(segment.kind)) width = Math.max(width, minPercent);
    // Keep the bar inside 0..100 %, pulling a widened tail stretch back from the edge.
    const clampedLeft = Math.max(0, Math.min(left, 100 - width));
    return { kind: segment.kind, startMs: segment.startMs, endMs: segment.endMs, left: clampedLeft, width, segment };
  });
}

export interface Tick {
  atMs: number;
  left: number;
  label: string;
}

/** A tick at each local midnight in the window, labelled every `labelEvery` days. */
export function dayTicks(startMs: number, endMs: number, labelEvery = 7, locale?: string): Tick[] {
  const span = Math.max(1, endMs - startMs);
  const first = new Date(startMs);
  first.setHours(24, 0, 0, 0);
  const ticks: Tick[] = [];
  for (let d = new Date(first), i = 0; d.getTime() < endMs && i < 400; d.setDate(d.getDate() + 1), i++) {
    const at = d.getTime();
    const daysFromEnd = Math.round((endMs - at) / 86_400_000);
    ticks.push({
      atMs: at,
      left: ((at - startMs) / span) * 100,
      label: daysFromEnd % labelEvery === 0 ? d.toLocaleDateString(locale, { month: 'short', day: 'numeric' }) : '',
    });
  }
  return ticks;
}

export const KIND_LABEL: Record<SegmentKind, string> = {
  online: 'Online',
  verified: 'Filled, verified by attesting peers',
  unverified: 'Held, not verified',
  missing: 'Missing',
};
