/**
 * Store v3 semantics as a table of cases against a real archive: requests are
 * encoded, answered and decoded exactly as on the wire.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Archive } from '../../main/core/archive/archive.ts';
import type { ArchiveMessage } from '../../main/core/message/message.ts';
import { answerFrame } from '../../main/core/store/answer.ts';
import { decodeResponse, encodeRequest, encodeResponse } from '../../main/core/store/codec.ts';
import type { StoreQueryRequest, StoreQueryResponse } from '../../main/core/store/codec.ts';
import { hex, series, TEST_CONTENT, TEST_PUBSUB } from '../helpers/messages.ts';

const T0 = 1_760_000_000_000_000_000n;
const MS = 1_000_000n;
const OTHER_PUBSUB = '/waku/2/rs/16/64';

function ask(archive: Archive, req: Partial<StoreQueryRequest>): StoreQueryResponse {
  const frame = encodeRequest({ requestId: 'req-1', ...req });
  return decodeResponse(encodeResponse(answerFrame(archive, frame)));
}

/** Follows cursors until the last page, the way a conforming client does. */
function pageAll(archive: Archive, req: Partial<StoreQueryRequest>): { hashes: string[]; pages: number } {
  const pages: string[][] = [];
  let cursor: Uint8Array | undefined;
  for (let i = 0; i < 1000; i++) {
    const res = ask(archive, { ...req, paginationCursor: cursor });
    assert.equal(res.statusCode, 200, res.statusDesc);
    pages.push(res.messages.map((m) => hex(m.messageHash ?? new Uint8Array())));
    cursor = res.paginationCursor;
    if (cursor === undefined) break;
  }
  const ordered = req.paginationForward ? pages : pages.reverse();
  return { hashes: ordered.flat(), pages: pages.length };
}

const byOrder = (a: ArchiveMessage, b: ArchiveMessage): number =>
  a.timestamp === b.timestamp ? Buffer.compare(Buffer.from(a.hash), Buffer.from(b.hash)) : a.timestamp < b.timestamp ? -1 : 1;

describe('Store v3 semantics', () => {
  let archive: Archive;
  const main = series(150, T0); // 150 messages, 1 ms apart, 3 content topics
  const other = series(10, T0, { pubsubTopic: OTHER_PUBSUB });
  const all = [...main, ...other].sort(byOrder);
  const ordered = (msgs: ArchiveMessage[]): string[] => [...msgs].sort(byOrder).map((m) => hex(m.hash));

  before(() => {
    archive = Archive.open(':memory:');
    archive.insert([...main, ...other]);
  });
  after(() => archive.close());

  const content = (i: number): string => TEST_CONTENT[i] ?? '';
  const inTopics = (m: ArchiveMessage, topics: string[]): boolean => m.pubsubTopic === TEST_PUBSUB && topics.includes(m.contentTopic);

  const pagingCases = [
    { name: 'all messages, forward, pages of 7', req: { paginationLimit: 7n, paginationForward: true }, want: all },
    { name: 'all messages, backward, pages of 7', req: { paginationLimit: 7n, paginationForward: false }, want: all },
    { name: 'all messages, forward, pages of 100', req: { paginationLimit: 100n, paginationForward: true }, want: all },
    {
      name: 'pubsub topic only, backward',
      req: { pubsubTopic: OTHER_PUBSUB, paginationLimit: 3n, paginationForward: false },
      want: other,
    },
    {
      name: 'one content topic, forward',
      req: { pubsubTopic: TEST_PUBSUB, contentTopics: [content(1)], paginationLimit: 9n, paginationForward: true },
      want: main.filter((m) => inTopics(m, [content(1)])),
    },
    {
      name: 'two content topics, backward',
      req: { pubsubTopic: TEST_PUBSUB, contentTopics: [content(0), content(2)], paginationLimit: 11n, paginationForward: false },
      want: main.filter((m) => inTopics(m, [content(0), content(2)])),
    },
    {
      // Both ends inclusive, as nwaku answers (the spec's end is exclusive).
      name: 'time range: start and end inclusive',
      req: { timeStart: T0 + 10n * MS, timeEnd: T0 + 20n * MS, pubsubTopic: TEST_PUBSUB, paginationForward: true },
      want: main.filter((m) => m.timestamp >= T0 + 10n * MS && m.timestamp <= T0 + 20n * MS),
    },
    {
      name: 'content filter and time range together, backward',
      req: {
        pubsubTopic: TEST_PUBSUB,
        contentTopics: [content(0)],
        timeStart: T0 + 30n * MS,
        timeEnd: T0 + 90n * MS,
        paginationLimit: 4n,
        paginationForward: false,
      },
      want: main.filter((m) => inTopics(m, [content(0)]) && m.timestamp >= T0 + 30n * MS && m.timestamp <= T0 + 90n * MS),
    },
    {
      name: 'a content topic nobody used',
      req: { pubsubTopic: TEST_PUBSUB, contentTopics: ['/app/1/nothing/proto'], paginationForward: true },
      want: [],
    },
  ];
  for (const c of pagingCases) {
    it(`${c.name} reproduces the ordered set`, () => {
      const got = pageAll(archive, { includeData: true, ...c.req });
      assert.deepEqual(got.hashes, ordered(c.want));
      const limit = Number(c.req.paginationLimit ?? 20n);
      assert.equal(got.pages, Math.max(1, Math.ceil(c.want.length / limit)));
    });
  }

  it('answers carry the stored messages and their pubsub topic', () => {
    const res = ask(archive, { includeData: true, pubsubTopic: OTHER_PUBSUB, paginationForward: true, paginationLimit: 1n });
    const first = [...other].sort(byOrder)[0];
    assert.ok(first);
    assert.equal(res.messages.length, 1);
    assert.equal(res.messages[0]?.pubsubTopic, OTHER_PUBSUB);
    assert.deepEqual(res.messages[0]?.message?.payload, new Uint8Array(Buffer.from(`payload 0 @ ${T0}`)));
    assert.equal(res.messages[0]?.message?.timestamp, first.timestamp);
  });

  it('pages default to 20 and are clamped to 100', () => {
    assert.equal(ask(archive, { paginationForward: true }).messages.length, 20);
    assert.equal(ask(archive, { paginationForward: true, paginationLimit: 5000n }).messages.length, 100);
  });

  it('responses are in forward order, with the cursor at the page edge', () => {
    const fwd = ask(archive, { paginationForward: true, paginationLimit: 5n });
    const back = ask(archive, { paginationForward: false, paginationLimit: 5n });
    const allHex = all.map((m) => hex(m.hash));
    assert.deepEqual(fwd.messages.map((m) => hex(m.messageHash ?? new Uint8Array())), allHex.slice(0, 5));
    assert.deepEqual(back.messages.map((m) => hex(m.messageHash ?? new Uint8Array())), allHex.slice(-5));
    assert.equal(hex(fwd.paginationCursor ?? new Uint8Array()), allHex[4]);
    assert.equal(hex(back.paginationCursor ?? new Uint8Array()), allHex[allHex.length - 5]);
  });

  it('a cursor at the last entry gives an empty page with 200 and no cursor', () => {
    const last = all[all.length - 1];
    assert.ok(last);
    const res = ask(archive, { paginationForward: true, paginationCursor: last.hash });
    assert.equal(res.statusCode, 200);
    assert.equal(res.messages.length, 0);
    assert.equal(res.paginationCursor, undefined);
  });

  it('hash lookups return the messages asked for, in order, with and without data', () => {
    const picked = [main[40], main[3], other[7], main[3]].filter((m) => m !== undefined);
    const unknown = new Uint8Array(32).fill(1);
    const withData = ask(archive, { includeData: true, messageHashes: [...picked.map((m) => m.hash), unknown], paginationForward: true });
    assert.equal(withData.statusCode, 200);
    assert.deepEqual(
      withData.messages.map((m) => hex(m.messageHash ?? new Uint8Array())),
      ordered([main[3], main[40], other[7]].filter((m) => m !== undefined)),
    );
    assert.ok(withData.messages.every((m) => m.message !== undefined));
    const presence = ask(archive, { includeData: false, messageHashes: picked.map((m) => m.hash), paginationForward: true });
    assert.equal(presence.messages.length, 3);
    assert.ok(presence.messages.every((m) => m.message === undefined && m.messageHash?.length === 32));
  });

  it('hash-only time queries return hashes without messages', () => {
    const res = ask(archive, { includeData: false, pubsubTopic: TEST_PUBSUB, paginationForward: true, paginationLimit: 100n });
    assert.equal(res.messages.length, 100);
    assert.ok(res.messages.every((m) => m.message === undefined));
  });

  it('answers a start after the end as nwaku does: 200 and an empty page', () => {
    const res = ask(archive, { pubsubTopic: TEST_PUBSUB, timeStart: T0 + 20n * MS, timeEnd: T0 + 10n * MS });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.messages, []);
    assert.equal(res.paginationCursor, undefined);
  });

  it('takes any content topic string, and finds nothing for one it does not hold', () => {
    const res = ask(archive, { pubsubTopic: TEST_PUBSUB, contentTopics: ['my app / chat room', 'x'.repeat(10_000)] });
    assert.equal(res.statusCode, 200, res.statusDesc);
    assert.deepEqual(res.messages, []);
  });

  it('names the pubsub topic of every message it returns, by hash or by range', () => {
    for (const req of [{ pubsubTopic: TEST_PUBSUB, includeData: true }, { messageHashes: [main[0]!.hash, other[0]!.hash], includeData: true }]) {
      const res = ask(archive, req);
      assert.ok(res.messages.length > 0 && res.messages.every((m) => m.pubsubTopic !== undefined && m.message !== undefined));
    }
    const byHash = ask(archive, { messageHashes: [other[0]!.hash], includeData: true });
    assert.equal(byHash.messages[0]?.pubsubTopic, OTHER_PUBSUB);
  });

  const errorCases: { name: string; frame?: Uint8Array; req?: Partial<StoreQueryRequest>; status: number; desc: RegExp }[] = [
    { name: 'undecodable request', frame: new Uint8Array([0x0a, 0xff, 0xff, 0xff, 0x0f, 0x01]), status: 400, desc: /undecodable/ },
    {
      name: '11 content topics',
      req: { pubsubTopic: TEST_PUBSUB, contentTopics: Array.from({ length: 11 }, (_, i) => `/app/1/t${i}/proto`) },
      status: 400,
      desc: /too many content topics/,
    },
    { name: 'content topics without pubsub topic', req: { contentTopics: [TEST_CONTENT[0] ?? ''] }, status: 400, desc: /pubsub_topic/ },
    {
      name: 'hashes with a content filter',
      req: { pubsubTopic: TEST_PUBSUB, contentTopics: [TEST_CONTENT[0] ?? ''], messageHashes: [new Uint8Array(32)] },
      status: 400,
      desc: /cannot be combined/,
    },
    { name: 'a hash that is not 32 bytes', req: { messageHashes: [new Uint8Array(31)] }, status: 400, desc: /32 bytes/ },
    { name: 'empty request id', req: { requestId: '' }, status: 400, desc: /request_id/ },
    { name: 'cursor of 31 bytes', req: { paginationCursor: new Uint8Array(31) }, status: 300, desc: /invalid cursor hash length: 31/ },
    // nwaku's words, which clients and test suites match on.
    { name: 'unknown cursor', req: { paginationCursor: new Uint8Array(32).fill(3) }, status: 300, desc: /cursor not found/ },
    { name: '101 message hashes', req: { messageHashes: Array.from({ length: 101 }, () => new Uint8Array(32)) }, status: 400, desc: /at most 100/ },
  ];
  for (const c of errorCases) {
    it(`${c.name} → ${c.status}`, () => {
      const frame = c.frame ?? encodeRequest({ requestId: 'req-e', ...c.req });
      const res = decodeResponse(encodeResponse(answerFrame(archive, frame)));
      assert.equal(res.statusCode, c.status);
      assert.match(res.statusDesc ?? '', c.desc);
      assert.ok(res.requestId.length > 0, 'request id is never empty');
      assert.equal(res.messages.length, 0);
    });
  }
});
