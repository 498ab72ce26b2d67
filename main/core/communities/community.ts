/**
 * A community as Keeper keeps it: a name, the pubsub topic its traffic uses,
 * the content topics kept from it, where they came from (a Status community's
 * key, or typed by hand), and the space and time donated to it. The rules a
 * community must pass.
 */
import type { Community, StatusCommunityOrigin } from '../../contract/contract.ts';
import { isValidContentTopic, isValidPubsubTopic } from '../message/topics.ts';
import { ConfigError } from '../util/errors.ts';
import { CommunityLinkError, parseCommunityRef } from './status-link.ts';

export type { Community };

/** More would not fit a few store queries (10 content topics each). */
export const MAX_COMMUNITY_CONTENT_TOPICS = 100;
export const MAX_COMMUNITY_NAME = 80;
/** The least a community's own quota and retention may be: as the archive's. */
export const MIN_COMMUNITY_QUOTA_BYTES = 1024 * 1024;
export const MIN_COMMUNITY_RETENTION_MS = 60_000;

/** Checks a community; throws ConfigError naming the bad field. */
export function checkCommunity(c: unknown): Community {
  if (typeof c !== 'object' || c === null) throw new ConfigError('community', 'must be an object');
  const { name, pubsubTopic, contentTopics, status, quotaBytes, retentionMs } = c as Record<string, unknown>;
  if (typeof name !== 'string' || name.trim() === '' || name.length > MAX_COMMUNITY_NAME) {
    throw new ConfigError('name', `a name of 1 to ${MAX_COMMUNITY_NAME} characters is needed`);
  }
  if (typeof pubsubTopic !== 'string' || !isValidPubsubTopic(pubsubTopic)) {
    throw new ConfigError('pubsubTopic', 'not a pubsub topic (example: /waku/2/rs/16/32)');
  }
  if (!Array.isArray(contentTopics)) throw new ConfigError('contentTopics', 'must be a list');
  if (contentTopics.some((t) => typeof t !== 'string')) throw new ConfigError('contentTopics', 'must be a list of strings');
  // Content topics are free strings (as nwaku takes them); blank lines of a form are dropped.
  const topics = [...new Set((contentTopics as string[]).map((t) => t.trim()))].filter(isValidContentTopic);
  if (topics.length > MAX_COMMUNITY_CONTENT_TOPICS) throw new ConfigError('contentTopics', `at most ${MAX_COMMUNITY_CONTENT_TOPICS} content topics`);
  const out: Community = { name: name.trim(), pubsubTopic, contentTopics: topics };
  if (status !== undefined && status !== null) out.status = checkOrigin(status);
  const quota = checkQuotaBytes(quotaBytes);
  const retention = checkRetentionMs(retentionMs);
  if (quota !== null) out.quotaBytes = quota;
  if (retention !== null) out.retentionMs = retention;
  return out;
}

/** A community's own quota: null (the archive's) or at least 1 MiB. */
export function checkQuotaBytes(v: unknown): number | null {
  if (v === undefined || v === null) return null;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < MIN_COMMUNITY_QUOTA_BYTES) {
    throw new ConfigError('quotaBytes', 'must be null (the archive’s quota) or at least 1 MiB');
  }
  return Math.round(v);
}

/** A community's own retention: null (the archive's) or at least a minute. */
export function checkRetentionMs(v: unknown): number | null {
  if (v === undefined || v === null) return null;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < MIN_COMMUNITY_RETENTION_MS) {
    throw new ConfigError('retentionMs', 'must be null (the archive’s retention) or at least a minute');
  }
  return Math.round(v);
}

/** A Status origin must name a real community key, the same one in both spellings. */
function checkOrigin(v: unknown): StatusCommunityOrigin {
  if (typeof v !== 'object' || v === null) throw new ConfigError('status', 'must be an object');
  const { communityId, key, linkName } = v as Record<string, unknown>;
  if (typeof communityId !== 'string') throw new ConfigError('status.communityId', 'must be a string');
  let id: string;
  try {
    id = parseCommunityRef(communityId).id;
  } catch (err) {
    if (err instanceof CommunityLinkError) throw new ConfigError('status.communityId', err.message);
    throw err;
  }
  if (id !== communityId) throw new ConfigError('status.communityId', 'must be 0x and 66 lowercase hex digits');
  if (typeof key !== 'string' || parseCommunityRef(id).key !== key) throw new ConfigError('status.key', 'must be the zQ3… form of the community id');
  if (linkName !== null && linkName !== undefined && typeof linkName !== 'string') throw new ConfigError('status.linkName', 'must be a string or null');
  return { communityId: id, key, linkName: typeof linkName === 'string' ? linkName : null };
}

/** Entries kept for the same Status community: one per pubsub topic its traffic uses. */
export function sameCommunity(a: Community, b: Community): boolean {
  return a === b || (a.status !== undefined && b.status !== undefined && a.status.communityId === b.status.communityId);
}
