/**
 * The rules a store peer's answer must keep, checked on crafted answers: the
 * query function stands for the peer, so each misbehaviour is exact.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { proto_message } from '@waku/proto';
import type { ArchiveMessage } from '../../main/core/message/message.ts';
import { fetchRange } from '../../main/core/history/fetch.ts';
import type { QueryFn } from '../../main/core/history/fetch.ts';
import type { StoreQueryResponse } from '../../main/core/store/codec.ts';
import { series, TEST_PUBSUB } from '../helpers/messages.ts';

const T0 = 1_760_000_000_000_000_000n;
const msgs = series(250, T0);
const range = { pubsubTopic: TEST_PUBSUB, startNs: T0, endNs: T0 + 10n ** 12n };
const entry = (m: ArchiveMessage) => ({ messageHash: m.hash, message: proto_message.WakuMessage.decode(m.message), pubsubTopic: TEST_PUBSUB });
const page = (list: ArchiveMessage[], cursor?: Uint8Array, statusCode = 200): StoreQueryResponse => ({
  requestId: 'x',
  statusCode,
  statusDesc: 'OK',
  messages: list.map(entry),
  paginationCursor: cursor,
});

/** An honest peer over `list`, 100 a page. */
function honest(list: ArchiveMessage[]): QueryFn {
  return async (req) => {
    const start = req.paginationCursor ? list.findIndex((m) => Buffer.from(m.hash).equals(Buffer.from(req.paginationCursor!))) + 1 : 0;
    const slice = list.slice(start, start + 100);
    const more = start + 100 < list.length;
    return page(slice, more ? slice[slice.length - 1]?.hash : undefined);
  };
}

async function run(query: QueryFn, extra: Partial<Parameters<typeof fetchRange>[1]> = {}) {
  const got: ArchiveMessage[] = [];
  const saved: { cursor: Uint8Array | null; complete: boolean }[] = [];
  const outcome = await fetchRange(query, {
    range,
    maxPages: 100,
    signal: new AbortController().signal,
    rateLimitWaitMs: 1,
    onPage: (valid, _rejected, cursor, complete) => {
      got.push(...valid);
      saved.push({ cursor, complete });
    },
    ...extra,
  });
  return { outcome, got, saved };
}

describe('fetching a range from one peer', () => {
  it('pages an honest answer to the end and reports it complete', async () => {
    const { outcome, got, saved } = await run(honest(msgs));
    assert.equal(outcome.complete, true);
    assert.equal(outcome.pages, 3);
    assert.equal(got.length, 250);
    assert.deepEqual(saved.map((s) => s.complete), [false, false, true]);
    assert.equal(saved[2]?.cursor, null);
  });

  it('resumes after a saved cursor', async () => {
    const { outcome, got } = await run(honest(msgs), { resumeCursor: msgs[199]?.hash });
    assert.equal(outcome.complete, true);
    assert.equal(got.length, 50);
  });

  it('cuts off a peer whose cursors never end', async () => {
    let n = 0;
    const endless: QueryFn = async () => {
      const m = series(1, T0 + BigInt(++n) * 1_000_000n)[0]!;
      return page([m], m.hash);
    };
    const { outcome } = await run(endless, { maxPages: 20 });
    assert.equal(outcome.complete, false);
    assert.match(outcome.error ?? '', /more than 20 pages/);
  });

  it('cuts off a peer that replays a page', async () => {
    const first = msgs.slice(0, 100);
    const { outcome, got } = await run(async () => page(first, first[99]?.hash));
    assert.equal(outcome.complete, false);
    assert.match(outcome.error ?? '', /out of order or replayed/);
    assert.equal(got.length, 100, 'the first, valid page is kept');
  });

  it('cuts off a peer that gives an empty page with a cursor', async () => {
    const { outcome } = await run(async () => page([], msgs[0]?.hash));
    assert.match(outcome.error ?? '', /empty page with a cursor/);
  });

  it('treats a forged message as a failed answer and keeps only what passed', async () => {
    const forged = { ...msgs[1]!, hash: new Uint8Array(32).fill(9) };
    const { outcome, got } = await run(async () => page([msgs[0]!, forged, msgs[2]!]));
    assert.equal(outcome.complete, false);
    assert.equal(outcome.rejected, 1);
    assert.deepEqual(got.map((m) => m.timestamp), [msgs[0]!.timestamp, msgs[2]!.timestamp]);
    assert.match(outcome.error ?? '', /forged/);
  });

  it('waits and retries on 429, then carries on', async () => {
    let calls = 0;
    const limited: QueryFn = async (req, signal) => (++calls <= 2 ? page([], undefined, 429) : honest(msgs)(req, signal));
    const { outcome } = await run(limited);
    assert.equal(outcome.complete, true);
    assert.equal(calls, 5);
  });

  it('gives up on an error status or a broken transport', async () => {
    assert.match((await run(async () => page([], undefined, 503))).outcome.error ?? '', /status 503/);
    assert.match((await run(async () => { throw new Error('connection reset'); })).outcome.error ?? '', /connection reset/);
  });
});
