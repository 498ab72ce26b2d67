/**
 * Which pubsub topics the node relays and which content topics it keeps: the
 * command-line topics plus the communities set in the dashboard. With no
 * content topic anywhere, everything relayed is kept. The one home of the
 * relayed topics: every part reads them from here when it needs them.
 */
import type { Community } from '../../contract/contract.ts';
import { isValidPubsubTopic, parseShardTopic } from '../message/topics.ts';
import { CommandError, ConfigError } from '../util/errors.ts';
import { keepersContentTopic } from './keepers-topic.ts';
import { checkCommunity, checkQuotaBytes, checkRetentionMs, sameCommunity } from './community.ts';

export interface TopicChange {
  added: string[];
  removed: string[];
}

export class TopicPlan {
  private readonly baseTopics: readonly string[];
  private readonly baseContent: readonly string[];
  private readonly clusterId: number;
  private list: Community[];
  /** Relayed for this run only (nwaku's REST subscriptions): never saved. */
  private run: readonly string[] = [];
  private topics: readonly string[] = [];
  private kept = new Set<string>();

  constructor(clusterId: number, baseTopics: readonly string[], baseContent: readonly string[], communities: readonly Community[]) {
    this.clusterId = clusterId;
    this.baseTopics = baseTopics;
    this.baseContent = baseContent;
    this.list = communities.map((c) => checkCommunity(c));
    this.recompute();
  }

  /** The relayed pubsub topics, in order: the configured ones, the communities', then this run's. */
  get pubsubTopics(): readonly string[] {
    return this.topics;
  }

  /** The shards of the relayed static-sharding topics, as Waku metadata announces them. */
  get shards(): number[] {
    return this.topics.map((t) => parseShardTopic(t)?.shard).filter((s): s is number => s !== undefined);
  }

  get communities(): Community[] {
    return this.list.map((c) => ({ ...c, contentTopics: [...c.contentTopics], ...(c.status === undefined ? {} : { status: { ...c.status } }) }));
  }

  keeps(contentTopic: string): boolean {
    return this.kept.size === 0 || this.kept.has(contentTopic);
  }

  /** The command line's content topics (--content-topic), kept on every relayed topic. */
  get baseContentTopics(): readonly string[] {
    return this.baseContent;
  }

  /** The kept content topics; empty means all. */
  get keptContentTopics(): string[] {
    return [...this.kept];
  }

  /** Adds a community; throws ConfigError on bad input and changes nothing then. */
  add(input: unknown): TopicChange {
    return this.addAll([input]);
  }

  /**
   * Adds communities together (a Status community's entries, one per pubsub
   * topic): all of them, or on a bad one none.
   */
  addAll(inputs: readonly unknown[]): TopicChange {
    const next = [...this.list];
    for (const input of inputs) {
      const c = checkCommunity(input);
      if (next.some((x) => x.name === c.name)) throw new ConfigError('name', `a community named "${c.name}" exists already`);
      const shard = parseShardTopic(c.pubsubTopic);
      if (shard !== undefined && shard.clusterId !== this.clusterId) {
        throw new ConfigError('pubsubTopic', `is on cluster ${shard.clusterId}; this Keeper serves cluster ${this.clusterId}`);
      }
      const kept = c.status === undefined ? undefined : this.list.find((x) => sameCommunity(x, c));
      if (kept !== undefined) throw new ConfigError('ref', `this community is kept already, as "${kept.name}"`);
      next.push(c);
    }
    return this.change(() => (this.list = next));
  }

  /** The topics relayed for this run only, in the order they were added. */
  get runTopics(): readonly string[] {
    return this.run;
  }

  /** Relays `topics` for this run only (those not relayed already); throws ConfigError on a bad topic and changes nothing then. */
  addRunTopics(topics: readonly string[]): TopicChange {
    for (const t of topics) {
      if (!isValidPubsubTopic(t)) throw new ConfigError('pubsubTopic', `"${t}" is not a pubsub topic`);
      const shard = parseShardTopic(t);
      if (shard !== undefined && shard.clusterId !== this.clusterId) {
        throw new ConfigError('pubsubTopic', `${t} is on cluster ${shard.clusterId}; this Keeper serves cluster ${this.clusterId}`);
      }
    }
    const fresh = topics.filter((t) => !this.topics.includes(t));
    return this.change(() => (this.run = [...new Set([...this.run, ...fresh])]));
  }

  /** Stops relaying run-time topics; one also configured or a community's stays relayed. */
  removeRunTopics(topics: readonly string[]): TopicChange {
    const drop = new Set(topics);
    return this.change(() => (this.run = this.run.filter((t) => !drop.has(t))));
  }

  /**
   * Removes a community by name, and with a Status community every entry of
   * it (each pubsub topic its traffic uses); an unknown name is a not-found
   * CommandError. Returns the entries removed with the topic change.
   */
  remove(name: string): TopicChange & { removedCommunities: Community[] } {
    const c = this.find(name);
    const gone = this.list.filter((x) => sameCommunity(x, c));
    const change = this.change(() => (this.list = this.list.filter((x) => !gone.includes(x))));
    return { ...change, removedCommunities: gone.map((x) => ({ ...x, contentTopics: [...x.contentTopics] })) };
  }

  /**
   * Sets a community's own quota and retention (null: the archive's), on every
   * entry of a Status community; throws on bad input and changes nothing then.
   */
  setStorage(name: string, quotaBytes: unknown, retentionMs: unknown): Community[] {
    const c = this.find(name);
    const quota = checkQuotaBytes(quotaBytes);
    const retention = checkRetentionMs(retentionMs);
    this.list = this.list.map((x) => (sameCommunity(x, c) ? { ...x, quotaBytes: quota, retentionMs: retention } : x));
    return this.communities.filter((x) => sameCommunity(x, c));
  }

  private find(name: unknown): Community {
    if (typeof name !== 'string') throw new ConfigError('name', 'must be a string');
    const c = this.list.find((x) => x.name === name);
    if (c === undefined) throw new CommandError('not-found', `no community named "${name}"`, 'name');
    return c;
  }

  private change(edit: () => void): TopicChange {
    const before = new Set(this.topics);
    edit();
    this.recompute();
    const after = new Set(this.topics);
    return { added: this.topics.filter((t) => !before.has(t)), removed: [...before].filter((t) => !after.has(t)) };
  }

  private recompute(): void {
    this.topics = Object.freeze([...new Set([...this.baseTopics, ...this.list.map((c) => c.pubsubTopic), ...this.run])]);
    const kept = [...this.baseContent, ...this.list.flatMap((c) => c.contentTopics)];
    // Each community's Keepers' announcements are kept like its messages (served to a Keeper that starts cold);
    // with nothing named at all, everything is kept anyway.
    this.kept = new Set(kept.length === 0 ? [] : [...kept, ...this.list.map((c) => keepersContentTopic(c))]);
  }
}
