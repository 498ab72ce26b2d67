/**
 * Store v3 request rules: which requests are valid, how they map to an archive
 * query, and which status each invalid one gets. Pure: no archive, no network.
 */
import type { StoreQueryRequest } from './codec.ts';
import { DEFAULT_PAGE_SIZE, MAX_CONTENT_TOPICS, MAX_PAGE_SIZE, StoreStatus } from './codec.ts';

/** The request id echoed when the request itself carried none (nwaku's client needs one). */
export const UNKNOWN_REQUEST_ID = 'N/A';
export const MAX_HASHES = 100;

export interface QueryPlan {
  includeData: boolean;
  pubsubTopic?: string | undefined;
  contentTopics: string[];
  timeStart?: bigint | undefined;
  timeEnd?: bigint | undefined;
  hashes: Uint8Array[];
  /** The hash the client gave as cursor; its position is looked up in the archive. */
  cursorHash?: Uint8Array | undefined;
  forward: boolean;
  limit: number;
}

export type PlanResult = { ok: true; plan: QueryPlan } | { ok: false; status: number; desc: string };

function bad(desc: string): PlanResult {
  return { ok: false, status: StoreStatus.BAD_REQUEST, desc };
}

export function planQuery(req: StoreQueryRequest): PlanResult {
  if (req.requestId.length === 0) return bad('request_id is empty');
  const contentTopics = req.contentTopics;
  const hashes = req.messageHashes;
  if (contentTopics.length > MAX_CONTENT_TOPICS) {
    return bad(`too many content topics: ${contentTopics.length} (at most ${MAX_CONTENT_TOPICS})`);
  }
  // Topics are free strings, as nwaku takes them: one this store does not hold just finds nothing.
  if (contentTopics.length > 0 && req.pubsubTopic === undefined) {
    return bad('content_topics need a pubsub_topic: a content filter is both together');
  }
  if (hashes.length > 0) {
    if (contentTopics.length > 0 || req.timeStart !== undefined || req.timeEnd !== undefined) {
      return bad('message_hashes cannot be combined with content topics or a time range');
    }
    if (hashes.length > MAX_HASHES) return bad(`too many message hashes: ${hashes.length} (at most ${MAX_HASHES})`);
    if (hashes.some((h) => h.length !== 32)) return bad('a message hash is not 32 bytes');
  }
  // A start after the end is no error to nwaku: the range holds nothing, and the answer is an empty page.
  const asked = req.paginationLimit === undefined ? 0 : Number(req.paginationLimit);
  const limit = asked <= 0 ? DEFAULT_PAGE_SIZE : Math.min(asked, MAX_PAGE_SIZE);
  return {
    ok: true,
    plan: {
      includeData: req.includeData,
      pubsubTopic: req.pubsubTopic,
      contentTopics,
      timeStart: req.timeStart,
      timeEnd: req.timeEnd,
      hashes,
      cursorHash: req.paginationCursor,
      // The spec: an absent pagination_forward means backward. js-waku drops a
      // `false`, so its backward queries arrive with the field absent.
      forward: req.paginationForward,
      limit,
    },
  };
}
