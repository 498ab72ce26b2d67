/**
 * One Store v3 request to the peer being asked, as filling sends them: a 429
 * is waited out and asked again (a few times, longer each time), anything
 * else is the answer. Each request waits first while the event loop is pressed
 * by relay or store serving (util/loop-pressure.ts): filling and checking step
 * back for them.
 */
import type { RawStoreResponse, StoreQueryRequest } from '../store/codec.ts';
import { StoreStatus } from '../store/codec.ts';
import { calm } from '../util/loop-pressure.ts';
import { delayUnlessAborted } from '../util/time.ts';

/** Sends one Store v3 request to the peer being asked; throws on transport failure. */
export type QueryFn = (request: Partial<StoreQueryRequest>, signal: AbortSignal) => Promise<RawStoreResponse>;

export interface RetryOptions {
  /** The first wait after a 429; each retry waits one more of it. */
  rateLimitWaitMs?: number;
  maxRateLimitRetries?: number;
}

export interface Answer {
  res: RawStoreResponse;
  /** The round trip of the request that was answered. */
  rttMs: number;
}

export async function askPeer(query: QueryFn, request: Partial<StoreQueryRequest>, signal: AbortSignal, o: RetryOptions = {}): Promise<Answer> {
  for (let retries = 0; ; retries++) {
    await calm(signal);
    const started = performance.now();
    const res = await query(request, signal);
    const rttMs = performance.now() - started;
    if (res.statusCode !== StoreStatus.TOO_MANY_REQUESTS || retries >= (o.maxRateLimitRetries ?? 5) || signal.aborted) return { res, rttMs };
    await delayUnlessAborted((o.rateLimitWaitMs ?? 1000) * (retries + 1), signal);
  }
}

/** What a failed status says, for the peer's record. */
export function statusError(res: RawStoreResponse): string {
  return `status ${res.statusCode ?? 'none'}: ${res.statusDesc ?? ''}`;
}
