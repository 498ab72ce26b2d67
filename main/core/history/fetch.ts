/**
 * Pages one peer's answer for one time range of one pubsub topic, checking every
 * message and the shape of the answer itself: statuses, order, cursors that
 * must advance, and a page budget. A peer that breaks the rules is cut off and
 * its answer counts as incomplete; what it sent that passed the checks is kept.
 */
import type { ArchiveMessage } from '../message/message.ts';
import { checkStoreEntry } from '../message/store-answer.ts';
import type { AskedRange } from '../message/store-answer.ts';
import type { StoreQueryRequest, StoreQueryResponse } from '../store/codec.ts';
import { MAX_PAGE_SIZE, StoreStatus } from '../store/codec.ts';
import type { RejectReason } from '../message/validate.ts';
import { errorMessage } from '../util/errors.ts';
import type { MessageRules } from '../message/validate.ts';

/** Rejections no honest store makes: the answer that holds one is not trusted as complete. */
const FORGERIES: ReadonlySet<RejectReason> = new Set(['hash-mismatch', 'outside-window', 'wrong-topic', 'missing-message']);

/** Sends one Store v3 request to the peer being asked; throws on transport failure. */
export type QueryFn = (request: Partial<StoreQueryRequest>, signal: AbortSignal) => Promise<StoreQueryResponse>;

export interface FetchRangeOptions {
  range: Required<AskedRange>;
  /** The network's rules each message is checked by. */
  rules?: MessageRules;
  /** Continue after this cursor (a previous run's progress). */
  resumeCursor?: Uint8Array | null;
  maxPages: number;
  signal: AbortSignal;
  /**
   * Each checked page, with the cursor to resume from after it; `complete` once
   * the peer has answered the whole range. Returning false stops the fetch: the
   * page could not be kept here (a full disk), which is no fault of the peer.
   */
  onPage: (valid: ArchiveMessage[], rejected: number, resumeCursor: Uint8Array | null, complete: boolean) => boolean | void;
  /** Waits before retrying a 429; bounded by `maxRateLimitRetries`. */
  rateLimitWaitMs?: number;
  maxRateLimitRetries?: number;
}

export interface FetchOutcome {
  complete: boolean;
  pages: number;
  provided: number;
  rejected: number;
  /** Mean request round trip. */
  rttMs: number | null;
  error: string | null;
  /** The fetch stopped for a reason of ours (the page could not be stored), not the peer's. */
  local: boolean;
}

/** What `error` says when a page could not be kept here. */
export const UNSTORABLE = 'the archive cannot be written';

export async function fetchRange(query: QueryFn, opts: FetchRangeOptions): Promise<FetchOutcome> {
  const { range } = opts;
  const out: FetchOutcome = { complete: false, pages: 0, provided: 0, rejected: 0, rttMs: null, error: null, local: false };
  let cursor: Uint8Array | null = opts.resumeCursor ?? null;
  let last: { timestamp: bigint; hash: Buffer } | undefined;
  let rttTotal = 0;
  let retries = 0;
  while (!opts.signal.aborted) {
    if (out.pages >= opts.maxPages) return fail(out, `gave more than ${opts.maxPages} pages`);
    const started = performance.now();
    let res: StoreQueryResponse;
    try {
      res = await query(
        {
          includeData: true,
          pubsubTopic: range.pubsubTopic,
          timeStart: range.startNs,
          // Exclusive by the spec, inclusive by nwaku: either way the widened
          // window is covered, and both answers pass the inclusive check below.
          timeEnd: range.endNs,
          paginationForward: true,
          paginationLimit: BigInt(MAX_PAGE_SIZE),
          paginationCursor: cursor ?? undefined,
        },
        opts.signal,
      );
    } catch (err) {
      return fail(out, errorMessage(err));
    }
    rttTotal += performance.now() - started;
    if (res.statusCode === StoreStatus.TOO_MANY_REQUESTS && retries < (opts.maxRateLimitRetries ?? 5)) {
      retries++;
      await sleep(opts.rateLimitWaitMs ?? 1000, opts.signal);
      continue;
    }
    if (res.statusCode !== StoreStatus.OK) return fail(out, `status ${res.statusCode ?? 'none'}: ${res.statusDesc ?? ''}`);
    retries = 0;
    out.pages++;
    out.rttMs = rttTotal / out.pages;

    const valid: ArchiveMessage[] = [];
    let rejected = 0;
    let forged = 0;
    let disorder = false;
    for (const entry of res.messages) {
      const checked = checkStoreEntry(entry, range, opts.rules);
      if (!checked.ok) {
        rejected++;
        if (FORGERIES.has(checked.reason)) forged++;
        continue;
      }
      const m = checked.message;
      const hash = Buffer.from(m.hash.buffer, m.hash.byteOffset, m.hash.byteLength);
      // Answers come in (timestamp, hash) order, and each page starts after the last.
      if (last !== undefined && (m.timestamp < last.timestamp || (m.timestamp === last.timestamp && Buffer.compare(hash, last.hash) <= 0))) {
        disorder = true;
        break;
      }
      last = { timestamp: m.timestamp, hash };
      valid.push(m);
    }
    const next = res.paginationCursor ?? null;
    out.provided += valid.length;
    out.rejected += rejected;
    // A peer that breaks the answer rules is cut off: what passed is kept, its answer is not complete.
    const fault = disorder
      ? 'answered out of order or replayed a page'
      : next !== null && res.messages.length === 0
        ? 'gave an empty page with a cursor'
        : next !== null && cursor !== null && Buffer.compare(Buffer.from(next), Buffer.from(cursor)) === 0
          ? 'gave the same cursor twice'
          : forged > 0
            ? `sent ${forged} forged message${forged === 1 ? '' : 's'} (wrong hash, topic or time)`
            : null;
    if (fault !== null) {
      opts.onPage(valid, rejected, cursor, false);
      return fail(out, fault);
    }
    if (opts.onPage(valid, rejected, next, next === null) === false) {
      out.local = true;
      return fail(out, UNSTORABLE);
    }
    if (next === null) {
      out.complete = true;
      return out;
    }
    cursor = next;
  }
  return fail(out, 'aborted');
}

function fail(out: FetchOutcome, error: string): FetchOutcome {
  out.complete = false;
  out.error = error;
  return out;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(t);
      resolve();
    }, { once: true });
  });
}
