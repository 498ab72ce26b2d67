/**
 * Where a community's Keepers announce themselves: one content topic per
 * community, on the pubsub topic of its first entry (for a Status community,
 * the shard all its traffic uses now). A Status community is named by its id;
 * a custom one by a short hash of its pubsub topic and sorted content topics,
 * so every Keeper that keeps the same topics finds the same announcements.
 */
import { createHash } from 'node:crypto';
import type { Community } from '../../contract/contract.ts';

/** The key a community's announcements are bound to (signed inside them). */
export function communityKey(c: Pick<Community, 'pubsubTopic' | 'contentTopics' | 'status'>): string {
  if (c.status !== undefined) return c.status.communityId;
  const text = [c.pubsubTopic, ...[...c.contentTopics].sort()].join('\n');
  return `c-${createHash('sha256').update(text).digest('hex').slice(0, 16)}`;
}

/** The content topic a community's Keepers announce on: `/waku-keeper/1/<key>-keepers/proto`. */
export function keepersContentTopic(c: Pick<Community, 'pubsubTopic' | 'contentTopics' | 'status'>): string {
  return `/waku-keeper/1/${communityKey(c)}-keepers/proto`;
}
