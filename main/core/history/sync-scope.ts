/**
 * What Waku Sync covers, read from the kept topics: the one place that says
 * it, for both roles. Today every relayed pubsub topic goes with the kept
 * content topics (none kept: all of them); when communities keep their own
 * content-topic sets, this is what changes.
 */
import type { HistoryTopics } from './deps.ts';

export interface SyncScope {
  pubsubTopic: string;
  /** Empty: every content topic of the pubsub topic. */
  contentTopics: readonly string[];
}

/** The scopes the consistency check syncs, one session per peer each. */
export function syncScopes(topics: HistoryTopics): SyncScope[] {
  const contentTopics = topics.keptContentTopics;
  return topics.pubsubTopics.map((pubsubTopic) => ({ pubsubTopic, contentTopics }));
}

/** What peers may sync with this node, as a responder's scope (empty lists: everything). */
export function responderScope(topics: HistoryTopics): { pubsubTopics: readonly string[]; contentTopics: readonly string[] } {
  const scopes = syncScopes(topics);
  return { pubsubTopics: scopes.map((s) => s.pubsubTopic), contentTopics: [...new Set(scopes.flatMap((s) => s.contentTopics))] };
}
