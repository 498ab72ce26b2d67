/**
 * What Waku Sync covers: the kept scopes (scope.ts), one session per scope and
 * peer — a community's content topics on its pubsub topic, or a whole topic
 * when everything on it is kept — and, as a responder, all of them at once
 * (a session settles on what the initiator asks within it).
 */
import type { KeptPlan } from './scope.ts';
import { keptScopes } from './scope.ts';

export interface SyncScope {
  pubsubTopic: string;
  /** Empty: every content topic of the pubsub topic. */
  contentTopics: readonly string[];
}

/** The scopes the consistency check syncs, one session per peer each. */
export function syncScopes(plan: KeptPlan): SyncScope[] {
  return keptScopes(plan).map((k) => ({ pubsubTopic: k.pubsubTopic, contentTopics: k.contentTopics }));
}

/** What peers may sync with this node, as a responder's scope (empty lists: everything). */
export function responderScope(plan: KeptPlan): { pubsubTopics: readonly string[]; contentTopics: readonly string[] } {
  const scopes = syncScopes(plan);
  return { pubsubTopics: scopes.map((s) => s.pubsubTopic), contentTopics: [...new Set(scopes.flatMap((s) => s.contentTopics))] };
}
