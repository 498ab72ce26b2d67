/**
 * What coverage is of: a scope is a pubsub topic and a set of content topics
 * (a kept community), or a whole pubsub topic ("everything on a topic", an
 * empty set). The one home of which scopes a plan keeps and which scope's
 * coverage vouches for which. Pure: no database, no clock.
 *
 * The archive holds a scope's messages for a stretch of time when it kept a
 * scope that contains it then: what was archived while everything on a topic
 * was kept holds every community on it, and a community's own coverage holds
 * any subset of its content topics. Nothing else carries over: a community
 * added later on a topic where only another one was kept has its own past to
 * fill.
 */
import type { Community } from '../../contract/contract.ts';

export interface Scope {
  pubsubTopic: string;
  /** Sorted, each once; empty: every content topic of the pubsub topic. */
  contentTopics: readonly string[];
}

/** A scope the Keeper keeps now: a community's (named, with its own storage) or a topic's own. */
export interface KeptScope extends Scope {
  /** The community's name; null for a topic's own scope (everything on it, or the --content-topic flags). */
  name: string | null;
  /** The community's donated space, bytes of its messages; null: the archive's quota only. */
  quotaBytes: number | null;
  /** The community's retention; null: the archive's. */
  retentionMs: number | null;
}

/** What the plan says is kept: relayed topics, the communities and the command line's content topics. */
export interface KeptPlan {
  readonly pubsubTopics: readonly string[];
  readonly communities: readonly Community[];
  /** The --content-topic flags; empty with no community keeps everything relayed. */
  readonly baseContentTopics: readonly string[];
}

export function normalizeTopics(topics: readonly string[]): string[] {
  return [...new Set(topics)].sort();
}

export function scopeOf(pubsubTopic: string, contentTopics: readonly string[]): Scope {
  return { pubsubTopic, contentTopics: normalizeTopics(contentTopics) };
}

/** The key a scope is recorded under: its content topics as sorted JSON ('[]': the whole topic). */
export function contentKey(s: Scope): string {
  return JSON.stringify(normalizeTopics(s.contentTopics));
}

export function scopeKey(s: Scope): string {
  return `${s.pubsubTopic}|${contentKey(s)}`;
}

export const isWholeTopic = (s: Scope): boolean => s.contentTopics.length === 0;

/** Whether everything of `inner` is inside `outer`: same pubsub topic, and `outer` the whole topic or a superset. */
export function contains(outer: Scope, inner: Scope): boolean {
  if (outer.pubsubTopic !== inner.pubsubTopic) return false;
  if (isWholeTopic(outer)) return true;
  if (isWholeTopic(inner)) return false;
  return inner.contentTopics.every((t) => outer.contentTopics.includes(t));
}

/**
 * The scopes a plan keeps. With no content topic anywhere, every relayed topic
 * whole. Otherwise each community, and, when --content-topic flags are given,
 * those topics on every relayed pubsub topic (relay archives exactly the union
 * of the kept content topics, on every relayed topic).
 */
export function keptScopes(plan: KeptPlan): KeptScope[] {
  const own = (pubsubTopic: string, contentTopics: readonly string[]): KeptScope => ({
    ...scopeOf(pubsubTopic, contentTopics),
    name: null,
    quotaBytes: null,
    retentionMs: null,
  });
  const keepsAll = plan.baseContentTopics.length === 0 && plan.communities.every((c) => c.contentTopics.length === 0);
  if (keepsAll) return plan.pubsubTopics.map((t) => own(t, []));
  const out = new Map<string, KeptScope>();
  for (const c of plan.communities) {
    // A community with no content topic of its own is kept only through the others' (relay keeps the union).
    if (c.contentTopics.length === 0) continue;
    const s: KeptScope = { ...scopeOf(c.pubsubTopic, c.contentTopics), name: c.name, quotaBytes: c.quotaBytes ?? null, retentionMs: c.retentionMs ?? null };
    if (!out.has(scopeKey(s))) out.set(scopeKey(s), s);
  }
  if (plan.baseContentTopics.length > 0) {
    for (const t of plan.pubsubTopics) {
      const s = own(t, plan.baseContentTopics);
      if (!out.has(scopeKey(s))) out.set(scopeKey(s), s);
    }
  }
  return [...out.values()];
}
