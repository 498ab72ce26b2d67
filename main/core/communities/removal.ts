/**
 * Which messages go with a removed community, when its remover asks for that:
 * its content topics on its pubsub topic, but never a content topic another
 * kept community still keeps on that pubsub topic (nor one the command line
 * keeps everywhere), and nothing at all on a pubsub topic where another kept
 * community keeps every content topic. A community's Keepers' announcements
 * (its keepers topic) go with its messages.
 */
import type { Community } from '../../contract/contract.ts';
import { keepersContentTopic } from './keepers-topic.ts';

export interface MessageDeletion {
  pubsubTopic: string;
  /** The content topics whose messages go; null: every content topic but `keep`. */
  contentTopics: string[] | null;
  /** Content topics that stay, whatever `contentTopics` says. */
  keep: string[];
}

export function deletionsFor(removed: readonly Community[], remaining: readonly Community[], keptEverywhere: readonly string[]): MessageDeletion[] {
  const out: MessageDeletion[] = [];
  for (const c of removed) {
    const others = remaining.filter((x) => x.pubsubTopic === c.pubsubTopic);
    if (others.some((x) => x.contentTopics.length === 0)) continue;
    const keep = [...new Set([...others.flatMap((x) => [...x.contentTopics, keepersContentTopic(x)]), ...keptEverywhere])];
    if (c.contentTopics.length === 0) {
      out.push({ pubsubTopic: c.pubsubTopic, contentTopics: null, keep });
      continue;
    }
    const gone = [...c.contentTopics, keepersContentTopic(c)].filter((t) => !keep.includes(t));
    if (gone.length > 0) out.push({ pubsubTopic: c.pubsubTopic, contentTopics: gone, keep });
  }
  return out;
}
