/**
 * Pubsub and content topics: the well-formedness rules of 23/WAKU2-TOPICS and
 * 51/WAKU2-RELAY-SHARDING.
 */

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
 * Content topic: `/{application}/{version}/{topic-name}/{encoding}`, optionally
 * preceded by a generation: `/{generation}/{application}/…`. Every part is non-empty.
 */
export function isValidContentTopic(topic: string): boolean {
  if (topic.length === 0 || topic.length > 512 || !topic.startsWith('/')) return false;
  const parts = topic.slice(1).split('/');
  if (parts.length !== 4 && parts.length !== 5) return false;
  return parts.every((p) => p.length > 0 && !/\s/.test(p));
}
