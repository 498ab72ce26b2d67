/**
 * A community as Keeper keeps it: a name, the pubsub topic its traffic uses,
 * and the content topics kept from it. The rules a community must pass.
 */
import type { Community } from '../../contract/contract.ts';
import { isValidContentTopic, isValidPubsubTopic } from '../message/topics.ts';
import { ConfigError } from '../util/errors.ts';

export type { Community };

/** More would not fit a few store queries (10 content topics each). */
export const MAX_COMMUNITY_CONTENT_TOPICS = 100;

/** Checks a community; throws ConfigError naming the bad field. */
export function checkCommunity(c: unknown): Community {
  if (typeof c !== 'object' || c === null) throw new ConfigError('community', 'must be an object');
  const { name, pubsubTopic, contentTopics } = c as Record<string, unknown>;
  if (typeof name !== 'string' || name.trim() === '' || name.length > 80) throw new ConfigError('name', 'a name of 1 to 80 characters is needed');
  if (typeof pubsubTopic !== 'string' || !isValidPubsubTopic(pubsubTopic)) {
    throw new ConfigError('pubsubTopic', 'not a pubsub topic (example: /waku/2/rs/16/256)');
  }
  if (!Array.isArray(contentTopics)) throw new ConfigError('contentTopics', 'must be a list');
  if (contentTopics.some((t) => typeof t !== 'string')) throw new ConfigError('contentTopics', 'must be a list of strings');
  // Content topics are free strings (as nwaku takes them); blank lines of a form are dropped.
  const topics = [...new Set((contentTopics as string[]).map((t) => t.trim()))].filter(isValidContentTopic);
  if (topics.length > MAX_COMMUNITY_CONTENT_TOPICS) throw new ConfigError('contentTopics', `at most ${MAX_COMMUNITY_CONTENT_TOPICS} content topics`);
  const out: Community = { name: name.trim(), pubsubTopic, contentTopics: topics };
  // A community's own storage, as settings.json keeps it (the commands that set it check it).
  const { quotaBytes, retentionMs } = c as Record<string, unknown>;
  if (typeof quotaBytes === 'number' && Number.isFinite(quotaBytes) && quotaBytes > 0) out.quotaBytes = quotaBytes;
  if (typeof retentionMs === 'number' && Number.isFinite(retentionMs) && retentionMs > 0) out.retentionMs = retentionMs;
  return out;
}
