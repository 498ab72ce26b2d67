/**
 * The two halves of a hash-first fill, on crafted answers: the query function
 * stands for the peer, so each misbehaviour is exact.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ArchiveMessage } from '../../main/core/message/message.ts';
import { fetchBodies } from '../../main/core/history/fetch-bodies.ts';
import type { BodyFetchOptions } from '../../main/core/history/fetch-bodies.ts';
import { listHashes, timeSlices } from '../../main/core/history/list-hashes.ts';
import type { ListingOptions } from '../../main/core/history/list-hashes.ts';
import type { QueryFn } from '../../main/core/history/peer-request.ts';
import { DEFAULT_RULES } from '../../main/core/message/validate.ts';
import type { RawStoreEntry, RawStoreResponse, StoreQueryRequest } from '../../main/core/store/codec.ts';
import { archiveMessage, hex, series, TEST_CONTENT, TEST_PUBSUB } from '../helpers/messages.ts';

const T0 = 1_760_000_000_000_000_000n;
const msgs = series(250, T0);
const range = { pubsubTopic: TEST_PUBSUB, startNs: T0, endNs: T0 + 10n ** 12n };

const answer = (messages: RawStoreEntry[], cursor?: Uint8Array, statusCode = 200): RawStoreResponse => ({
  requestId: 'x',
  statusCode,
  statusDesc: statusCode === 200 ? 'OK' : 'no',
  messages,
  paginationCursor: cursor,
});
const entry = (m: ArchiveMessage, withData = true): RawStoreEntry => ({
  messageHash: m.hash,
  message: withData ? m.message : undefined,
  pubsubTopic: withData ? m.pubsubTopic : undefined,
});

/** An honest store over `list`: time ranges both ends inclusive (as nwaku), content topics, cursors, lookups by hash. */
function store(list: ArchiveMessage[], calls: Partial<StoreQueryRequest>[] = []): QueryFn {
  return async (req) => {
    calls.push(req);
    const limit = Number(req.paginationLimit ?? 20n);
    let match: ArchiveMessage[];
    if ((req.messageHashes ?? []).length > 0) {
      const wanted = new Set(req.messageHashes!.map((h) => hex(h)));
      match = list.filter((m) => wanted.has(hex(m.hash)));
    } else {
      match = list.filter(
        (m) =>
          (req.timeStart === undefined || m.timestamp >= req.timeStart) &&
          (req.timeEnd === undefined || m.timestamp <= req.timeEnd) &&
          ((req.contentTopics ?? []).length === 0 || req.contentTopics!.includes(m.contentTopic)),
      );
    }
    const from = req.paginationCursor ? match.findIndex((m) => hex(m.hash) === hex(req.paginationCursor!)) + 1 : 0;
    const page = match.slice(from, from + limit);
    const more = from + limit < match.length;
    return answer(page.map((m) => entry(m, req.includeData !== false)), more ? page[page.length - 1]?.hash : undefined);
  };
}

const listing = (query: QueryFn, extra: Partial<ListingOptions> = {}) =>
  listHashes(query, { range, contentTopics: [], slices: 1, maxPages: 100, signal: new AbortController().signal, rateLimitWaitMs: 1, ...extra });

describe('listing the hashes of a window', () => {
  it('lists an honest answer whole, slices side by side sharing their edges', async () => {
    const calls: Partial<StoreQueryRequest>[] = [];
    const one = await listing(store(msgs, calls));
    assert.equal(one.complete, true);
    assert.equal(one.hashes.size, 250);
    assert.equal(one.pages, 3);
    assert.ok(calls.every((c) => c.includeData === false && c.paginationLimit === 100n && c.paginationForward === true));
    const sliced = await listing(store(msgs), { range: { ...range, endNs: T0 + 249n * 1_000_000n }, slices: 4 });
    assert.equal(sliced.complete, true);
    assert.deepEqual([...sliced.hashes].sort(), msgs.map((m) => hex(m.hash)).sort());
  });

  it('cuts slices that share each edge instant', () => {
    const s = timeSlices(0n, 100n, 4);
    assert.deepEqual(s.map((x) => [x.startNs, x.endNs]), [[0n, 25n], [25n, 50n], [50n, 75n], [75n, 100n]]);
    assert.deepEqual(timeSlices(0n, 3n, 4), [{ startNs: 0n, endNs: 3n }]);
  });

  it('lists each group of at most 10 content topics', async () => {
    const topics = Array.from({ length: 13 }, (_, i) => TEST_CONTENT[i % 3] + (i < 3 ? '' : `#${i}`));
    const calls: Partial<StoreQueryRequest>[] = [];
    const out = await listing(store(msgs, calls), { contentTopics: topics });
    assert.equal(out.complete, true);
    assert.equal(out.hashes.size, 250);
    assert.deepEqual([...new Set(calls.map((c) => c.contentTopics?.length))].sort(), [10, 3]);
  });

  it('cuts off a peer whose cursors never end', async () => {
    let n = 0;
    const endless: QueryFn = async () => {
      const m = series(1, T0 + BigInt(++n) * 1_000_000n)[0]!;
      return answer([entry(m, false)], m.hash);
    };
    const out = await listing(endless, { maxPages: 20 });
    assert.equal(out.complete, false);
    assert.match(out.error ?? '', /more than 20 pages/);
  });

  it('cuts off a peer that replays a page, repeats a cursor, or gives an empty page with a cursor', async () => {
    const first = msgs.slice(0, 100).map((m) => entry(m, false));
    assert.match((await listing(async () => answer(first, msgs[99]!.hash))).error ?? '', /replayed/);
    let i = 0;
    const stuck: QueryFn = async () => answer([entry(msgs[i++]!, false)], msgs[0]!.hash);
    assert.match((await listing(stuck)).error ?? '', /same cursor twice/);
    assert.match((await listing(async () => answer([], msgs[0]!.hash))).error ?? '', /empty page with a cursor/);
    const short: QueryFn = async () => answer([{ messageHash: new Uint8Array(31), message: undefined, pubsubTopic: undefined }]);
    assert.match((await listing(short)).error ?? '', /not 32 bytes/);
  });

  it('waits out 429s, and gives up on an error status or a broken transport', async () => {
    let calls = 0;
    const honest = store(msgs);
    const limited: QueryFn = async (req, signal) => (++calls <= 2 ? answer([], undefined, 429) : honest(req, signal));
    const out = await listing(limited);
    assert.equal(out.complete, true);
    assert.equal(calls, 5);
    assert.match((await listing(async () => answer([], undefined, 503))).error ?? '', /status 503/);
    assert.match((await listing(async () => { throw new Error('connection reset'); })).error ?? '', /connection reset/);
  });
});

async function fetchAll(peers: Record<string, QueryFn>, wanted: Map<string, string[]>, extra: Partial<BodyFetchOptions> = {}) {
  const stored: ArchiveMessage[] = [];
  const out = await fetchBodies({
    range,
    rules: DEFAULT_RULES,
    wanted,
    query: (peerId) => peers[peerId]!,
    store: (batch) => (stored.push(...batch), batch.length),
    parallel: 3,
    signal: new AbortController().signal,
    rateLimitWaitMs: 1,
    ...extra,
  });
  return { out, stored };
}
const wantAll = (list: ArchiveMessage[], listers: string[]) => new Map(list.map((m) => [hex(m.hash), [...listers]]));

describe('fetching the bodies a listing named', () => {
  it('fetches each message once, at most 100 a request, spread over the peers that listed it', async () => {
    const aCalls: Partial<StoreQueryRequest>[] = [];
    const bCalls: Partial<StoreQueryRequest>[] = [];
    const { out, stored } = await fetchAll({ a: store(msgs, aCalls), b: store(msgs, bCalls) }, wantAll(msgs, ['a', 'b']));
    assert.equal(stored.length, 250);
    assert.equal(new Set(stored.map((m) => hex(m.hash))).size, 250, 'no message twice');
    assert.equal(out.missing.size, 0);
    const calls = [...aCalls, ...bCalls];
    assert.ok(calls.every((c) => (c.messageHashes?.length ?? 0) <= 100 && c.includeData === true && c.pubsubTopic === undefined));
    assert.ok(aCalls.length > 0 && bCalls.length > 0, 'both listers asked');
    assert.equal(calls.length, 3);
  });

  it('asks another lister what one did not deliver, and counts what nobody did as missing', async () => {
    const half = msgs.slice(0, 125);
    const { out, stored } = await fetchAll({ a: store(half), b: store(msgs) }, wantAll(msgs, ['a', 'b']));
    assert.equal(stored.length, 250);
    assert.equal(out.missing.size, 0);
    const nobody = await fetchAll({ a: store(half) }, wantAll(msgs, ['a']));
    assert.equal(nobody.stored.length, 125);
    assert.equal(nobody.out.missing.size, 125);
    assert.equal(nobody.out.tally.get('a')?.undelivered, 125);
  });

  it('cuts off a forger and takes what it was to send from the others', async () => {
    const honest = store(msgs);
    const forger: QueryFn = async (req, signal) => {
      const res = await honest(req, signal);
      // Every message's body swapped for another one's: the hash no longer matches.
      const other = archiveMessage({ timestamp: T0 + 5n, payload: new Uint8Array([1, 2, 3]) });
      return { ...res, messages: res.messages.map((e, i) => (i === 0 ? { ...e, message: other.message } : e)) };
    };
    const { out, stored } = await fetchAll({ f: forger, h: honest }, wantAll(msgs, ['f', 'h']));
    assert.ok(out.forgers.has('f'));
    assert.match(out.faults.get('f') ?? '', /forged/);
    assert.equal(out.missing.size, 0);
    assert.equal(new Set(stored.map((m) => hex(m.hash))).size, 250);
    assert.ok(stored.every((m) => msgs.some((x) => hex(x.hash) === hex(m.hash))), 'nothing forged was kept');
  });

  it('counts a message outside the listed time, or one not asked for, as a forgery', async () => {
    const late = archiveMessage({ timestamp: range.endNs + 1n });
    const outside: QueryFn = async () => answer([entry(late)]);
    const r1 = await fetchAll({ x: outside }, wantAll([late], ['x']));
    assert.ok(r1.out.forgers.has('x'));
    assert.equal(r1.stored.length, 0);
    const unasked: QueryFn = async () => answer([entry(msgs[1]!)]);
    const r2 = await fetchAll({ x: unasked }, wantAll([msgs[0]!], ['x']));
    assert.ok(r2.out.forgers.has('x'));
    assert.equal(r2.stored.length, 0);
  });

  it('asks the next lister after a failed request, and stops when the archive cannot take a batch', async () => {
    const broken: QueryFn = async () => {
      throw new Error('stream reset');
    };
    const { out, stored } = await fetchAll({ a: broken, b: store(msgs) }, wantAll(msgs, ['a', 'b']));
    assert.equal(stored.length, 250);
    assert.match(out.faults.get('a') ?? '', /stream reset/);
    assert.ok(!out.forgers.has('a'));
    const full = await fetchAll({ a: store(msgs) }, wantAll(msgs, ['a']), { store: () => null, parallel: 1 });
    assert.equal(full.out.unstorable, true);
    assert.equal(full.out.tally.get('a')?.requests, 1, 'no request after the archive refused');
  });
});
