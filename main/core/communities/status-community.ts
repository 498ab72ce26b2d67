/**
 * A Status community turned into what Keeper keeps of it. From a link, a
 * `zQ3…` key or a `0x…` id (status-link.ts reads them), one entry per pubsub
 * topic its traffic travels on, all with the same `status` origin:
 *
 * - on /waku/2/rs/16/32, where status-go puts every community now: the
 *   community id (its description and owner broadcasts), the universal chat
 *   `<id>-memberUpdate` (every channel's messages) and the uncompressed key
 *   (requests to join and other control messages to the owner);
 * - on /waku/2/rs/16/64, the uncompressed key only: status-go still listens
 *   for control messages there until that shard's retirement completes.
 *
 * A Keeper that keeps a community keeps exactly these; a custom community (a
 * non-Status app) names its pubsub topic and content topics by hand instead.
 */
import type { Community, CommunityRefInput, StatusCommunityOrigin } from '../../contract/contract.ts';
import { ConfigError } from '../util/errors.ts';
import { MAX_COMMUNITY_NAME } from './community.ts';
import { CommunityLinkError, parseCommunityRef, statusCommunityTopics } from './status-link.ts';
import type { StatusCommunityRef } from './status-link.ts';

/** The id as a person can tell it apart: `0x02a3d2…2084`. */
export function shortCommunityId(id: string): string {
  return `${id.slice(0, 8)}…${id.slice(-4)}`;
}

/**
 * The name of a community's entry on a pubsub topic other than its first:
 * names are how entries are told apart (and removed, and given storage).
 */
export function entryName(base: string, pubsubTopic: string, first: boolean): string {
  if (first) return base;
  const shard = /\/(\d+)$/.exec(pubsubTopic)?.[1] ?? pubsubTopic;
  return `${base} (shard ${shard})`;
}

/**
 * Reads `ref` as a Status community; throws ConfigError naming `field` (the
 * command's `ref`, the CLI's `--community`) and saying what is wrong.
 */
export function readCommunityRef(ref: unknown, field = 'ref'): StatusCommunityRef {
  if (typeof ref !== 'string') throw new ConfigError(field, 'must be a Status community link, key (zQ3…) or id (0x…)');
  try {
    return parseCommunityRef(ref);
  } catch (err) {
    if (err instanceof CommunityLinkError) throw new ConfigError(field, err.message);
    throw err;
  }
}

/**
 * The entries to keep for a Status community named by a link, key or id.
 * Errors name `field` for the reference and `name` for a bad name.
 */
export function statusCommunityEntries(input: CommunityRefInput | string, field = 'ref'): Community[] {
  const { ref, name } = typeof input === 'string' ? { ref: input, name: undefined } : (input ?? ({} as Partial<CommunityRefInput>));
  const parsed = readCommunityRef(ref, field);
  if (name !== undefined && name !== null && typeof name !== 'string') throw new ConfigError('name', 'must be a string');
  const linkName = parsed.display?.name?.trim() || null;
  const base = (typeof name === 'string' && name.trim() !== '' ? name.trim() : (linkName ?? shortCommunityId(parsed.id)));
  // Room for the " (shard 64)" of the other entries.
  if (base.length > MAX_COMMUNITY_NAME - 12) throw new ConfigError('name', `a name of 1 to ${MAX_COMMUNITY_NAME - 12} characters is needed`);
  const origin: StatusCommunityOrigin = { communityId: parsed.id, key: parsed.key, linkName };
  const byTopic = new Map<string, string[]>();
  for (const t of statusCommunityTopics(parsed.id)) {
    for (const p of t.pubsubTopics) byTopic.set(p, [...(byTopic.get(p) ?? []), t.contentTopic]);
  }
  return [...byTopic].map(([pubsubTopic, contentTopics], i) => ({
    name: entryName(base, pubsubTopic, i === 0),
    pubsubTopic,
    contentTopics,
    status: { ...origin },
  }));
}

/** Whether a command's argument names a community by reference (`{ ref }`) rather than by its topics. */
export function isCommunityRef(input: unknown): input is CommunityRefInput {
  return typeof input === 'object' && input !== null && 'ref' in input;
}
