import { describe, it, expect } from 'vitest';
import type { TimelineSegment, TopicHistory } from '../../../main/contract/contract.ts';
import { bars, dayTicks, MIN_VISIBLE_PERCENT } from './timeline.ts';

const DAY = 86_400_000;
const seg = (kind: TimelineSegment['kind'], startMs: number, endMs: number): TimelineSegment => ({
  kind, startMs, endMs, peers: [], reason: kind === 'missing' ? 'no-peer' : null, detail: null,
});
const history = (segments: TimelineSegment[]): TopicHistory => ({
  pubsubTopic: '/waku/2/rs/16/256',
  windowStartMs: 0,
  windowEndMs: 30 * DAY,
  coveredShare: 0,
  verifiedShare: 0,
  unattestedShare: 0,
  online: [],
  filled: [],
  unverified: [],
  gaps: [],
  segments,
});

describe('timeline geometry', () => {
  it('places stretches by their share of the window', () => {
    const b = bars(history([seg('verified', 0, 15 * DAY), seg('online', 15 * DAY, 30 * DAY)]));
    expect(b.map((x) => [x.kind, x.left, x.width])).toEqual([
      ['verified', 0, 50],
      ['online', 50, 50],
    ]);
  });

  it('gives a one-minute gap a visible width, and keeps it on the bar at the end', () => {
    const b = bars(history([seg('online', 0, 30 * DAY - 60_000), seg('missing', 30 * DAY - 60_000, 30 * DAY)]));
    const gap = b[1]!;
    expect(gap.width).toBe(MIN_VISIBLE_PERCENT);
    expect(gap.left + gap.width).toBeCloseTo(100, 10);
    expect(b[0]!.width).toBeGreaterThan(99.99);
  });

  it('does not widen the stretches that are held', () => {
    const b = bars(history([seg('online', 0, 1000), seg('missing', 1000, 30 * DAY)]));
    expect(b[0]!.width).toBeLessThan(0.001);
  });

  it('puts a tick at each midnight, labelling every seventh day counted from the end', () => {
    const start = new Date(2026, 10, 1, 12).getTime();
    const end = start + 30 * DAY;
    const ticks = dayTicks(start, end);
    expect(ticks).toHaveLength(30);
    expect(ticks.every((t) => new Date(t.atMs).getHours() === 0)).toBe(true);
    expect(ticks.filter((t) => t.label !== '').length).toBeGreaterThanOrEqual(4);
    expect(ticks[0]!.left).toBeCloseTo((12 / 24 / 30) * 100, 5);
  });
});
