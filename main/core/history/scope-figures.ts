/**
 * The history figures of the kept scopes, for the status: each relayed topic's
 * (what every scope kept on it holds) and each community's own (its
 * completeness, storage and fill). Pure: coverage, windows and holdings in.
 */
import type { CommunityHistory, TopicHistory } from '../../contract/contract.ts';
import { commonCoverage, topicHistory } from './completeness.ts';
import type { GapNote, HeldRules } from './completeness.ts';
import type { CoverageRow } from './history-store.ts';
import { atQuota } from './kept-scopes.ts';
import type { KeptScopeRecord, ScopeHoldings } from './kept-scopes.ts';
import type { Interval } from '../util/intervals.ts';
import { nsToMs } from '../util/time.ts';

/** One kept scope as the figures take it: its coverage (its own and what vouches for it) and its window. */
export interface ScopeCoverage {
  k: KeptScopeRecord;
  rows: CoverageRow[];
  window: Interval;
}

export interface FigureSources {
  rules: HeldRules;
  noteOf: (scopeId: number, gap: Interval) => GapNote | undefined;
  holdings: (k: KeptScopeRecord) => ScopeHoldings;
  retentionOf: (k: KeptScopeRecord) => number;
  progressOf: (scopeId: number) => CommunityHistory['fill'];
}

/**
 * A topic's figure: what every scope kept on it holds, over the latest of
 * their windows. A relayed topic with no scope of its own keeps nothing to
 * claim and has none.
 */
export function topicFigures(pubsubTopics: readonly string[], perScope: readonly ScopeCoverage[], windowEnd: number, src: FigureSources): TopicHistory[] {
  return pubsubTopics.flatMap((topic) => {
    const on = perScope.filter((c) => c.k.pubsubTopic === topic);
    if (on.length === 0) return [];
    const start = Math.min(windowEnd, Math.max(...on.map((c) => c.window.start)));
    const rows = commonCoverage(on.map((c) => c.rows), src.rules);
    const noteOf = (gap: Interval) => on.map((c) => src.noteOf(c.k.id, gap)).find((n) => n !== undefined);
    return [topicHistory(topic, rows, { start, end: windowEnd }, src.rules, noteOf)];
  });
}

/** Each kept community's own figures. */
export function communityFigures(perScope: readonly ScopeCoverage[], src: FigureSources): CommunityHistory[] {
  return perScope
    .filter((c) => c.k.name !== null)
    .map(({ k, rows, window }) => {
      const held = src.holdings(k);
      return {
        ...topicHistory(k.pubsubTopic, rows, window, src.rules, (gap) => src.noteOf(k.id, gap)),
        name: k.name ?? '',
        contentTopics: [...k.contentTopics],
        keptSinceMs: k.keptSinceMs,
        storage: {
          messages: held.messages,
          bytes: held.bytes,
          quotaBytes: k.quotaBytes,
          retentionMs: src.retentionOf(k),
          oldestMs: held.oldest === null ? null : nsToMs(held.oldest),
          limitedByQuota: atQuota(k, held),
        },
        fill: src.progressOf(k.id),
      };
    });
}
