/**
 * The order gap filling asks store peers in, as a pure function: first the
 * peers whose announced coverage holds the most of the gap, then those whose
 * attestations count (standing), then those an owner's Keeper endorses, then
 * connected, configured, fewest failures, lowest RTT, most recent success.
 * Without a gap (or without announcements) coverage ties and the rest decides,
 * as before announcements.
 */
import { clip, totalLength } from '../util/intervals.ts';
import type { Interval } from '../util/intervals.ts';

export interface RankedPeer {
  peerId: string;
  /** Share of the gap its announcement claims holding (0 with no gap or no announcement). */
  claimed: number;
  mayAttest: boolean;
  endorsed: boolean;
  connected: boolean;
  configured: boolean;
  failures: number;
  rttMs: number | null;
  lastSuccessMs: number | null;
}

/** Share of `gap` the claimed stretches hold. */
export function claimedShare(claimed: readonly Interval[], gap: Interval | undefined): number {
  if (gap === undefined || gap.end <= gap.start) return 0;
  return totalLength(clip(claimed, gap)) / (gap.end - gap.start);
}

export function rankPeers<T extends RankedPeer>(peers: readonly T[]): T[] {
  return [...peers].sort(
    (a, b) =>
      b.claimed - a.claimed ||
      Number(b.mayAttest) - Number(a.mayAttest) ||
      Number(b.endorsed) - Number(a.endorsed) ||
      Number(b.connected) - Number(a.connected) ||
      Number(b.configured) - Number(a.configured) ||
      a.failures - b.failures ||
      (a.rttMs ?? Infinity) - (b.rttMs ?? Infinity) ||
      (b.lastSuccessMs ?? 0) - (a.lastSuccessMs ?? 0),
  );
}
