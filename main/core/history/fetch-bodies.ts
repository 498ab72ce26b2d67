/**
 * The second half of a hash-first fill: the messages a listing named that the
 * archive lacks, fetched once each, by hash (at most 100 a request), from a
 * peer that listed them, several requests side by side. A request that fails
 * is asked of another peer that listed those hashes. Every message is checked
 * as any answer is; a peer that sends a forgery (a message that does not hash
 * to what it claims, or is not of the topic or time asked) is cut off, and
 * what it was to send is asked of the others. A hash its lister does not
 * deliver is asked of the next one; one no lister delivers stays missing.
 */
import { fromHex } from '../message/hash.ts';
import type { ArchiveMessage } from '../message/message.ts';
import { checkStoreEntry } from '../message/store-answer.ts';
import type { AskedRange } from '../message/store-answer.ts';
import type { MessageRules, RejectReason } from '../message/validate.ts';
import { toHex } from '../message/hash.ts';
import { MAX_PAGE_SIZE, StoreStatus } from '../store/codec.ts';
import { MAX_HASHES } from '../store/query.ts';
import { errorMessage } from '../util/errors.ts';
import { askPeer, statusError } from './peer-request.ts';
import type { QueryFn, RetryOptions } from './peer-request.ts';

/** Rejections no honest store makes: the peer that sends one is cut off. */
export const FORGERIES: ReadonlySet<RejectReason> = new Set(['hash-mismatch', 'outside-window', 'wrong-topic', 'undecodable']);

export interface BodyFetchOptions extends RetryOptions {
  /** What was listed: every message must be of its topic and inside its time. */
  range: Required<AskedRange>;
  rules: MessageRules;
  /** Each hash to fetch (hex), with the peers that listed it, the preferred one first. */
  wanted: ReadonlyMap<string, readonly string[]>;
  /** Asks one peer one request. */
  query: (peerId: string) => QueryFn;
  /**
   * Keeps a batch of checked messages; returns how many were new, or null when
   * the archive cannot take them (which stops the fetch, no fault of a peer).
   */
  store: (messages: ArchiveMessage[]) => number | null;
  /** Requests in flight at once. */
  parallel: number;
  signal: AbortSignal;
}

export interface PeerTally {
  delivered: number;
  rejected: number;
  /** Hashes it listed and did not deliver when asked. */
  undelivered: number;
  requests: number;
  rttTotalMs: number;
}

export interface BodyFetchOutcome {
  /** Messages new to the archive. */
  stored: number;
  /** Hashes nobody delivered (hex). */
  missing: Set<string>;
  /** Why a peer was cut off or its requests failed. */
  faults: Map<string, string>;
  /** Peers cut off for forgeries: nothing they listed counts. */
  forgers: Set<string>;
  tally: Map<string, PeerTally>;
  /** The archive could not take a batch. */
  unstorable: boolean;
}

export async function fetchBodies(o: BodyFetchOptions): Promise<BodyFetchOutcome> {
  const out: BodyFetchOutcome = { stored: 0, missing: new Set(), faults: new Map(), forgers: new Set(), tally: new Map(), unstorable: false };
  const tallyOf = (peerId: string): PeerTally => {
    let t = out.tally.get(peerId);
    if (t === undefined) out.tally.set(peerId, (t = { delivered: 0, rejected: 0, undelivered: 0, requests: 0, rttTotalMs: 0 }));
    return t;
  };
  /** For each hash waiting, the listers not tried yet, the one it waits on first. */
  const left = new Map<string, string[]>();
  /** For each peer, the hashes waiting on it. */
  const queues = new Map<string, string[]>();
  /** Peers cut off or whose requests failed: they are not asked again in this fetch. */
  const excluded = new Set<string>();
  const batchSize = Math.min(MAX_HASHES, MAX_PAGE_SIZE);
  /** Queues `hash` on its first lister not excluded, or gives it up as missing. */
  const enqueue = (hash: string): void => {
    const listers = left.get(hash);
    if (listers === undefined) return;
    while (listers.length > 0 && excluded.has(listers[0] as string)) listers.shift();
    const peerId = listers[0];
    if (peerId === undefined) {
      left.delete(hash);
      out.missing.add(hash);
      return;
    }
    let q = queues.get(peerId);
    if (q === undefined) queues.set(peerId, (q = []));
    q.push(hash);
  };
  // Each hash waits first on a lister with a batch begun, else on the one with least to send so
  // far: the load spreads in full batches.
  const queued = (peerId: string | undefined): number => queues.get(peerId ?? '')?.length ?? 0;
  for (const [hash, listers] of o.wanted) {
    const order = [...listers];
    let best = order.findIndex((p) => queued(p) % batchSize !== 0);
    if (best < 0) {
      best = 0;
      for (let i = 1; i < order.length; i++) if (queued(order[i]) < queued(order[best])) best = i;
    }
    if (best > 0) order.unshift(...order.splice(best, 1));
    left.set(hash, order);
    enqueue(hash);
  }
  const exclude = (peerId: string): void => {
    if (excluded.has(peerId)) return;
    excluded.add(peerId);
    const q = queues.get(peerId) ?? [];
    queues.delete(peerId);
    for (const h of q) enqueue(h);
  };
  /** The next batch: up to 100 hashes from the longest queue. */
  const nextBatch = (): { peerId: string; hashes: string[] } | null => {
    let best: string | null = null;
    for (const [peerId, q] of queues) if (q.length > 0 && (best === null || q.length > (queues.get(best)?.length ?? 0))) best = peerId;
    if (best === null) return null;
    return { peerId: best, hashes: (queues.get(best) ?? []).splice(0, batchSize) };
  };

  const fetchBatch = async (peerId: string, hashes: string[]): Promise<void> => {
    const t = tallyOf(peerId);
    const asked = new Set(hashes);
    const got: ArchiveMessage[] = [];
    let fault: string | null = null;
    let forged = 0;
    let cursor: Uint8Array | undefined;
    for (let page = 0; fault === null && !o.signal.aborted; page++) {
      // Pages beyond what the hashes could fill are not an answer.
      if (page > Math.ceil(hashes.length / 20)) {
        fault = 'paged a lookup by hash without end';
        break;
      }
      let res;
      try {
        const answer = await askPeer(
          o.query(peerId),
          { includeData: true, messageHashes: hashes.map(fromHex), paginationForward: true, paginationLimit: BigInt(batchSize), paginationCursor: cursor },
          o.signal,
          o,
        );
        res = answer.res;
        t.requests++;
        t.rttTotalMs += answer.rttMs;
      } catch (err) {
        fault = errorMessage(err);
        break;
      }
      if (res.statusCode !== StoreStatus.OK) {
        fault = statusError(res);
        break;
      }
      for (const entry of res.messages) {
        const hex = entry.messageHash === undefined ? null : toHex(entry.messageHash);
        if (hex === null || !asked.has(hex)) {
          // Not one of the hashes asked: nothing an honest store sends.
          forged++;
          continue;
        }
        const checked = checkStoreEntry(entry, o.range, o.rules);
        if (!checked.ok) {
          if (checked.reason === 'missing-message') continue; // not delivered: asked of the next lister
          t.rejected++;
          if (FORGERIES.has(checked.reason)) {
            forged++;
          } else {
            // Refused by the rules here (too large, say): delivered, not kept, asked of no one else.
            asked.delete(hex);
            left.delete(hex);
          }
          continue;
        }
        asked.delete(hex);
        left.delete(hex);
        got.push(checked.message);
      }
      if (forged > 0) fault = `sent ${forged} forged message${forged === 1 ? '' : 's'} (wrong hash, topic or time)`;
      cursor = res.paginationCursor;
      if (cursor === undefined || asked.size === 0) break;
      if (res.messages.length === 0) fault = 'gave an empty page with a cursor';
    }
    if (got.length > 0) {
      const inserted = o.store(got);
      if (inserted === null) {
        out.unstorable = true;
        return;
      }
      out.stored += inserted;
      t.delivered += got.length;
    }
    if (fault !== null) {
      if (forged > 0) out.forgers.add(peerId);
      if (!o.signal.aborted) out.faults.set(peerId, fault);
    } else {
      t.undelivered += asked.size;
    }
    // What it did not deliver waits on its next lister.
    for (const h of asked) {
      const listers = left.get(h);
      if (listers?.[0] === peerId) listers.shift();
      enqueue(h);
    }
    if (fault !== null) exclude(peerId);
  };

  // A worker with nothing to take ends; one still fetching picks up what its failures send back.
  const worker = async (): Promise<void> => {
    while (!o.signal.aborted && !out.unstorable) {
      const batch = nextBatch();
      if (batch === null) return;
      await fetchBatch(batch.peerId, batch.hashes);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, o.parallel) }, worker));
  for (const h of left.keys()) out.missing.add(h);
  return out;
}
