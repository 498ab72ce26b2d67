/**
 * Which pubsub topics the node relays and which content topics it keeps: the
 * command-line topics plus the communities set in the dashboard. With no
 * content topic anywhere, everything relayed is kept.
 */
import type { Community } from './api/contract.ts';
import { ConfigError } from './config.ts';
import { checkCommunity } from './settings.ts';
import { parseShardTopic } from './topics.ts';

export class TopicPlan {
  /** Relayed pubsub topics; one array, changed in place, shared by every part that walks it. */
  readonly pubsubTopics: string[];
  private readonly baseTopics: readonly string[];
  private readonly baseContent: readonly string[];
  private readonly clusterId: number;
  private list: Community[];
  private kept: Set<string>;

  constructor(clusterId: number, baseTopics: readonly string[], baseContent: readonly string[], communities: readonly Community[]) {
    this.clusterId = clusterId;
    this.baseTopics = baseTopics;
    this.baseContent = baseContent;
    this.list = communities.map((c) => ({ ...c, contentTopics: [...c.contentTopics] }));
    this.pubsubTopics = [];
    this.kept = new Set();
    this.recompute();
  }

  get communities(): Community[] {
    return this.list.map((c) => ({ ...c, contentTopics: [...c.contentTopics] }));
  }

  keeps(contentTopic: string): boolean {
    return this.kept.size === 0 || this.kept.has(contentTopic);
  }

  /** The kept content topics; empty means all. */
  get keptContentTopics(): string[] {
    return [...this.kept];
  }

  /** Adds a community; returns the pubsub topic it brings, if it is new. Throws ConfigError. */
  add(input: unknown): string | null {
    const c = checkCommunity(input);
    if (this.list.some((x) => x.name === c.name)) throw new ConfigError('name', `a community named "${c.name}" exists already`);
    const shard = parseShardTopic(c.pubsubTopic);
    if (shard !== undefined && shard.clusterId !== this.clusterId) {
      throw new ConfigError('pubsubTopic', `is on cluster ${shard.clusterId}; this Keeper serves cluster ${this.clusterId}`);
    }
    const before = new Set(this.pubsubTopics);
    this.list.push(c);
    this.recompute();
    return before.has(c.pubsubTopic) ? null : c.pubsubTopic;
  }

  /** Removes a community; returns the pubsub topic nothing needs any more, if any. */
  remove(name: string): string | null {
    const c = this.list.find((x) => x.name === name);
    if (c === undefined) throw new ConfigError('name', `no community named "${name}"`);
    this.list = this.list.filter((x) => x !== c);
    this.recompute();
    return this.pubsubTopics.includes(c.pubsubTopic) ? null : c.pubsubTopic;
  }

  private recompute(): void {
    const topics = [...new Set([...this.baseTopics, ...this.list.map((c) => c.pubsubTopic)])];
    this.pubsubTopics.splice(0, this.pubsubTopics.length, ...topics);
    this.kept = new Set([...this.baseContent, ...this.list.flatMap((c) => c.contentTopics)]);
  }
}
