/**
 * The community's coverage map: for every stretch of a window, how many
 * Keepers hold it, each stretch once and in order; fewer than two is thin.
 * A pure function of the Keepers' held stretches.
 */
import type { CoverageMapStretch } from '../../contract/contract.ts';
import { clip } from '../util/intervals.ts';
import type { Interval } from '../util/intervals.ts';

export const THIN_BELOW = 2;

export function coverageMap(held: readonly (readonly Interval[])[], window: Interval): CoverageMapStretch[] {
  const edges: [number, number][] = [[window.start, 0], [window.end, 0]];
  for (const set of held) for (const i of clip(set, window)) edges.push([i.start, 1], [i.end, -1]);
  edges.sort((a, b) => a[0] - b[0]);
  const out: CoverageMapStretch[] = [];
  let depth = 0;
  for (let k = 0; k < edges.length; k++) {
    const [at, step] = edges[k] as [number, number];
    depth += step;
    const next = edges[k + 1]?.[0];
    if (next === undefined || next <= at || at < window.start || at >= window.end) continue;
    const last = out[out.length - 1];
    if (last !== undefined && last.keepers === depth && last.endMs === at) last.endMs = next;
    else out.push({ startMs: at, endMs: next, keepers: depth, thin: depth < THIN_BELOW });
  }
  return out;
}

/** Share of the window held by fewer than two Keepers. */
export function thinShare(map: readonly CoverageMapStretch[], window: Interval): number {
  const thin = map.filter((s) => s.thin).reduce((n, s) => n + (s.endMs - s.startMs), 0);
  return thin / Math.max(1, window.end - window.start);
}
