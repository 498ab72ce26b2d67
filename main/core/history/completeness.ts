/**
 * How complete a topic's history is over the retention window, and what this
 * Keeper can attest of it. Held and verified: online (narrowed by the clock
 * margin), or filled by at least the quorum of peers that attested holding it.
 * Held but not verified: filled by unattested peers, or by fewer attesting
 * peers than the quorum. Missing: the rest, each gap with the reason it is
 * still open. Pure: coverage rows and the clock in, figures out.
 */
import type { FilledRange, GapReason, GapStatus, TimeRange, TimelineSegment, TopicHistory } from '../../contract/contract.ts';
import type { CoverageRow } from './history-store.ts';
import { clip, intersect, normalize, shrink, splitByDay, subtract, totalLength } from '../util/intervals.ts';
import type { Interval } from '../util/intervals.ts';

export interface GapNote {
  reason: GapReason;
  detail: string | null;
}

/**
 * How much of an online stretch counts as held. Online time is receive time,
 * and a message's timestamp may be up to the relay's clock tolerance (20 s)
 * from when it is received: of [a, b] online, only timestamps in
 * [a + margin, b − margin] are surely all received. The rest is a gap, filled
 * (with the same margin) from peers.
 */
export interface HeldRules {
  marginMs: number;
}

const toRange = (i: Interval): TimeRange => ({ startMs: i.start, endMs: i.end });

/** The online stretches that count as held. */
function onlineHeld(rows: readonly CoverageRow[], rules: HeldRules): Interval[] {
  return shrink(rows.filter((r) => r.kind === 'online'), rules.marginMs);
}

/** What this node holds and can attest to others: online (narrowed) and verified fills. */
export function verifiedHeld(rows: readonly CoverageRow[], rules: HeldRules): Interval[] {
  return normalize([...onlineHeld(rows, rules), ...rows.filter((r) => r.kind === 'filled' && r.verified)]);
}

/** Everything held, attested or not. */
export function anyHeld(rows: readonly CoverageRow[], rules: HeldRules): Interval[] {
  return normalize([...onlineHeld(rows, rules), ...rows.filter((r) => r.kind === 'filled')]);
}

/** The stretches of `window` not held: split at UTC days, the unit gap filling works in. */
export function gapsOf(rows: readonly CoverageRow[], window: Interval, rules: HeldRules): Interval[] {
  return subtract(window, anyHeld(rows, rules)).flatMap(splitByDay);
}

export function topicHistory(
  pubsubTopic: string,
  rows: readonly CoverageRow[],
  window: Interval,
  rules: HeldRules,
  noteOf: (gap: Interval) => GapNote | undefined,
): TopicHistory {
  const length = Math.max(1, window.end - window.start);
  const online = clip(onlineHeld(rows, rules), window);
  const filledRows = rows.filter((r) => r.kind === 'filled');
  const verified = clip(verifiedHeld(rows, rules), window);
  const held = clip(anyHeld(rows, rules), window);

  const filled: FilledRange[] = [];
  const unverified: FilledRange[] = [];
  for (const r of filledRows) {
    for (const part of clip([r], window)) {
      filled.push({ ...toRange(part), verified: r.verified, attested: r.attested, peers: r.peers });
      // Unverified only where nothing better holds the same time.
      if (!r.verified) for (const u of subtract(part, verified)) unverified.push({ ...toRange(u), verified: false, attested: r.attested, peers: r.peers });
    }
  }
  const gaps: GapStatus[] = gapsOf(rows, window, rules).map((g) => {
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
  const coveredShare = totalLength(held) / length;
  const verifiedShare = totalLength(verified) / length;
  return {
    pubsubTopic,
    windowStartMs: window.start,
    windowEndMs: window.end,
    coveredShare,
    verifiedShare,
    unattestedShare: Math.max(0, coveredShare - verifiedShare),
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
    edge = Math.max(edge, s.endMs);
  }
  return out;
}

/**
 * What a pubsub topic holds when several scopes are kept on it (communities):
 * only what every one of them holds. The coverage of each scope in, rows that
 * describe their common part out (online where all were online; verified and
 * unverified fills where all hold it so), for topicHistory.
 */
export function commonCoverage(perScope: readonly (readonly CoverageRow[])[], rules: HeldRules): CoverageRow[] {
  const [first, ...rest] = perScope;
  if (first === undefined) return [];
  if (rest.length === 0) return [...first];
  const meet = (pick: (rows: readonly CoverageRow[]) => Interval[]): Interval[] => rest.reduce((acc, rows) => intersect(acc, pick(rows)), pick(first));
  const online = meet((rows) => normalize(rows.filter((r) => r.kind === 'online')));
  const verified = meet((rows) => verifiedHeld(rows, rules));
  const held = meet((rows) => anyHeld(rows, rules));
  const row = (i: Interval, kind: CoverageRow['kind'], verifiedToo: boolean): CoverageRow => ({
    ...i,
    id: 0,
    scopeId: 0,
    pubsubTopic: first[0]?.pubsubTopic ?? '',
    kind,
    verified: verifiedToo,
    attested: verifiedToo,
    peers: [],
    messages: 0,
    recordedMs: 0,
  });
  return [
    ...online.map((i) => row(i, 'online', true)),
    ...verified.map((i) => row(i, 'filled', true)),
    ...held.flatMap((i) => subtract(i, verified)).map((i) => row(i, 'filled', false)),
  ].sort((a, b) => a.start - b.start);
}

/**
 * Completeness over every relayed topic: the mean of their shares (each topic's
 * window has the same length, so this is the time-weighted mean).
 */
export function overallShares(topics: readonly TopicHistory[]): { coveredShare: number; verifiedShare: number; unattestedShare: number } {
  if (topics.length === 0) return { coveredShare: 0, verifiedShare: 0, unattestedShare: 0 };
  const mean = (pick: (t: TopicHistory) => number): number => topics.reduce((n, t) => n + pick(t), 0) / topics.length;
  return { coveredShare: mean((t) => t.coveredShare), verifiedShare: mean((t) => t.verifiedShare), unattestedShare: mean((t) => t.unattestedShare) };
}
