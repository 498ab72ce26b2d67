/** Kept communities as a person thinks of them: a Status community's entries (one per shard) as one. */
import type { Community } from '../../../main/contract/contract.ts';

export interface CommunityGroup {
  /** The first entry's name: what removing or editing it goes by. */
  name: string;
  status: Community['status'] | null;
  entries: Community[];
}

export function groupCommunities(list: readonly Community[]): CommunityGroup[] {
  const out: CommunityGroup[] = [];
  for (const c of list) {
    const same = c.status === undefined ? undefined : out.find((g) => g.status?.communityId === c.status?.communityId);
    if (same !== undefined) same.entries.push(c);
    else out.push({ name: c.name, status: c.status ?? null, entries: [c] });
  }
  return out;
}

/** `/waku/2/rs/16/32` → `32`; any other topic as it is. */
export function shardOf(pubsubTopic: string): string {
  return /^\/waku\/2\/rs\/\d+\/(\d+)$/.exec(pubsubTopic)?.[1] ?? pubsubTopic;
}
