/**
 * Pubsub and content topics: the well-formedness rules of 23/WAKU2-TOPICS and
 * 51/WAKU2-RELAY-SHARDING, and nwaku's autosharding.
 */
import { hash } from 'node:crypto';

export function shardTopic(clusterId: number, shard: number): string {
  return `/waku/2/rs/${clusterId}/${shard}`;
}

const STATIC_SHARD = /^\/waku\/2\/rs\/(\d{1,5})\/(\d{1,5})$/;
const NAMED = /^\/waku\/2\/[^/\s]+(\/[^/\s]+)*$/;

export interface ShardRef {
  clusterId: number;
  shard: number;
}

/** The cluster and shard of a static-sharding pubsub topic, or undefined for a named topic. */
export function parseShardTopic(topic: string): ShardRef | undefined {
  const m = STATIC_SHARD.exec(topic);
  if (!m) return undefined;
  const clusterId = Number(m[1]);
  const shard = Number(m[2]);
  if (clusterId > 65535 || shard > 1023) return undefined;
  return { clusterId, shard };
}

export function isValidPubsubTopic(topic: string): boolean {
  if (topic.length === 0 || topic.length > 256) return false;
  if (topic.startsWith('/waku/2/rs/')) return parseShardTopic(topic) !== undefined;
  return NAMED.test(topic);
}

/**
 * A content topic, as nwaku takes one: any non-empty string (its relay and
 * archive accept 10 000 characters and spaces). Within the message size, that
 * is all a topic must be; only where a shard is derived from it (autosharding)
 * must it have the structured form (parseContentTopic).
 */
export function isValidContentTopic(topic: string): boolean {
  return topic.length > 0;
}

export interface ContentTopicParts {
  /** 0 when absent. */
  generation: number;
  application: string;
  version: string;
  name: string;
  encoding: string;
}

/**
 * The parts of a structured content topic (23/WAKU2-TOPICS):
 * `/{application}/{version}/{topic-name}/{encoding}`, optionally preceded by a
 * generation `/{generation}/…`. undefined when the topic is not of that form.
 */
export function parseContentTopic(topic: string): ContentTopicParts | undefined {
  if (!topic.startsWith('/')) return undefined;
  const parts = topic.slice(1).split('/');
  if (parts.length !== 4 && parts.length !== 5) return undefined;
  if (!parts.every((p) => p.length > 0 && !/\s/.test(p))) return undefined;
  const [a, b, c, d, e] = parts as [string, string, string, string, string | undefined];
  if (e === undefined) return { generation: 0, application: a, version: b, name: c, encoding: d };
  if (!/^\d+$/.test(a)) return undefined;
  return { generation: Number(a), application: b, version: c, name: d, encoding: e };
}

/**
 * nwaku's autosharding of a structured content topic (generation 0, the only
 * one nwaku knows): the last 8 bytes of sha256(application ‖ version), read
 * big-endian, modulo the cluster's number of shards.
 */
export function autoShard(topic: ContentTopicParts, shardCount: number): number {
  const digest = hash('sha256', Buffer.from(topic.application + topic.version, 'utf8'), 'buffer');
  return Number(digest.readBigUInt64BE(24) % BigInt(shardCount));
}
