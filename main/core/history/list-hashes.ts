/**
 * The first half of a hash-first fill, as status-go's backfill does it: a
 * peer's hash listing of a window (Store v3 with include_data=false, pages of
 * 100). The window is cut into time slices listed side by side, so a long
 * listing is not one page after another behind a single cursor. A listing
 * that breaks the answer rules — a status other than 200, an empty page with
 * a cursor, a cursor that does not move, a hash that is not 32 bytes, one
 * listed twice (a replayed page), more pages than the budget — is cut off
 * and incomplete.
 */
import type { AskedRange } from '../message/store-answer.ts';
import { toHex } from '../message/hash.ts';
import { MAX_CONTENT_TOPICS, MAX_PAGE_SIZE, StoreStatus } from '../store/codec.ts';
import { errorMessage } from '../util/errors.ts';
import { askPeer, statusError } from './peer-request.ts';
import type { Answer, QueryFn, RetryOptions } from './peer-request.ts';

export interface ListingOptions extends RetryOptions {
  range: Required<AskedRange>;
  /** The content topics to list; empty lists the whole pubsub topic. */
  contentTopics: readonly string[];
  /** Time slices listed side by side. */
  slices: number;
  /** The most pages the whole listing may take. */
  maxPages: number;
  signal: AbortSignal;
}

export interface HashListing {
  complete: boolean;
  /** Every hash listed, hex, each once. */
  hashes: Set<string>;
  pages: number;
  /** Mean request round trip. */
  rttMs: number | null;
  error: string | null;
}

export async function listHashes(query: QueryFn, o: ListingOptions): Promise<HashListing> {
  const out: HashListing = { complete: false, hashes: new Set(), pages: 0, rttMs: null, error: null };
  let rttTotal = 0;
  const topicChunks: string[][] = [];
  for (let i = 0; i < o.contentTopics.length; i += MAX_CONTENT_TOPICS) topicChunks.push(o.contentTopics.slice(i, i + MAX_CONTENT_TOPICS));
  if (topicChunks.length === 0) topicChunks.push([]);
  const slices = timeSlices(o.range.startNs, o.range.endNs, Math.max(1, o.slices));
  const fail = (error: string): void => {
    out.error ??= error;
  };

  const listSlice = async (contentTopics: string[], startNs: bigint, endNs: bigint): Promise<void> => {
    let cursor: Uint8Array | undefined;
    // Slices share their boundary instants (a server that takes the end as exclusive still lists
    // every instant once), so a hash may come in two slices; within one, twice is a replay.
    const seen = new Set<string>();
    while (out.error === null && !o.signal.aborted) {
      if (out.pages >= o.maxPages) return fail(`gave more than ${o.maxPages} pages`);
      let answer: Answer;
      try {
        answer = await askPeer(
          query,
          {
            includeData: false,
            pubsubTopic: o.range.pubsubTopic,
            contentTopics,
            timeStart: startNs,
            timeEnd: endNs,
            paginationForward: true,
            paginationLimit: BigInt(MAX_PAGE_SIZE),
            paginationCursor: cursor,
          },
          o.signal,
          o,
        );
      } catch (err) {
        return fail(errorMessage(err));
      }
      const { res } = answer;
      rttTotal += answer.rttMs;
      if (res.statusCode !== StoreStatus.OK) return fail(statusError(res));
      out.pages++;
      for (const m of res.messages) {
        const hash = m.messageHash;
        if (hash === undefined || hash.length !== 32) return fail('listed a hash that is not 32 bytes');
        const hex = toHex(hash);
        if (seen.has(hex)) return fail('listed a hash twice (a replayed page)');
        seen.add(hex);
        out.hashes.add(hex);
      }
      const next = res.paginationCursor;
      if (next === undefined) return;
      if (res.messages.length === 0) return fail('gave an empty page with a cursor');
      if (cursor !== undefined && Buffer.compare(Buffer.from(next), Buffer.from(cursor)) === 0) return fail('gave the same cursor twice');
      cursor = next;
    }
    if (o.signal.aborted) fail('aborted');
  };

  await Promise.all(topicChunks.flatMap((topics) => slices.map((s) => listSlice(topics, s.startNs, s.endNs))));
  out.rttMs = out.pages > 0 ? rttTotal / out.pages : null;
  out.complete = out.error === null && !o.signal.aborted;
  return out;
}

/** [startNs, endNs] cut into `n` slices, each sharing its end instant with the next one's start. */
export function timeSlices(startNs: bigint, endNs: bigint, n: number): { startNs: bigint; endNs: bigint }[] {
  const span = endNs - startNs;
  if (span <= BigInt(n)) return [{ startNs, endNs }];
  const at = (i: bigint): bigint => startNs + (span * i) / BigInt(n);
  return Array.from({ length: n }, (_, i) => ({ startNs: at(BigInt(i)), endNs: at(BigInt(i + 1)) }));
}
