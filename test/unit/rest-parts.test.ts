/**
 * The REST API's other pure parts: nwaku's message cache, the store query
 * parameters, route matching, and the health, peer and store answer shapes.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { KeeperStatus, PeerStatus } from '../../main/contract/contract.ts';
import { MessageCache } from '../../main/core/rest/message-cache.ts';
import { parseStoreParams } from '../../main/core/rest/store-params.ts';
import { jsonBody, match } from '../../main/core/rest/router.ts';
import type { Route } from '../../main/core/rest/router.ts';
import { healthReport } from '../../main/core/rest/health.ts';
import { wakuPeer } from '../../main/core/rest/admin.ts';
import { localResponseJson, storeErrorText } from '../../main/core/rest/store.ts';
import { toJson } from '../../main/core/rest/json.ts';
import { wakuMessageBytes } from '../helpers/messages.ts';

const T = '/waku/2/rs/16/32';
const U = '/waku/2/rs/16/64';
const msg = (ts: number, text = `m${ts}`) => wakuMessageBytes({ timestamp: BigInt(ts), payload: new TextEncoder().encode(text) });

describe("nwaku's message cache", () => {
  it('holds messages only for subscribed topics, and hands them over once', () => {
    const c = new MessageCache();
    c.add(T, msg(1));
    assert.equal(c.take(T), undefined, 'not subscribed: no answer at all');
    c.subscribe(T);
    c.add(T, msg(1));
    c.add(T, msg(2));
    c.add(T, msg(1)); // the same message again
    c.add(U, msg(3)); // a topic not subscribed
    assert.deepEqual(c.take(T), [msg(1), msg(2)]);
    assert.deepEqual(c.take(T), []);
  });

  it('keeps at most its capacity over all topics, dropping the oldest timestamp first', () => {
    const c = new MessageCache(3);
    c.subscribe(T);
    c.subscribe(U);
    c.add(T, msg(50));
    c.add(U, msg(10));
    c.add(T, msg(30));
    c.add(T, msg(40));
    assert.equal(c.size, 3);
    assert.deepEqual(c.take(U), []);
    assert.deepEqual(c.take(T), [msg(50), msg(30), msg(40)]);
  });

  it('forgets a topic and what it held on unsubscribe', () => {
    const c = new MessageCache();
    c.subscribe(T);
    c.add(T, msg(1));
    c.unsubscribe(T);
    assert.equal(c.take(T), undefined);
    assert.equal(c.size, 0);
  });

  it('copies the bytes it holds out of relay buffer', () => {
    const c = new MessageCache();
    c.subscribe(T);
    const buf = msg(7);
    c.add(T, buf);
    buf.fill(0);
    assert.deepEqual(c.take(T), [msg(7)]);
  });
});

describe("the store route's query parameters, read as nwaku reads them", () => {
  const parse = (q: string) => parseStoreParams(new URLSearchParams(q), 'rid');

  it("has nwaku's defaults: no data, forward, pages of 20", () => {
    const r = parse('');
    assert.ok(r.ok);
    assert.deepEqual(r.value, {
      peerAddr: undefined,
      request: {
        requestId: 'rid',
        includeData: false,
        pubsubTopic: undefined,
        contentTopics: [],
        timeStart: undefined,
        timeEnd: undefined,
        messageHashes: [],
        paginationCursor: undefined,
        paginationForward: true,
        paginationLimit: 20n,
      },
    });
  });

  it('reads every parameter, decoding singly and doubly encoded values', () => {
    const h = 'ab'.repeat(32);
    const topic = encodeURIComponent(T);
    const r = parse(
      `includeData=TRUE&pubsubTopic=${encodeURIComponent(topic)}&contentTopics=${encodeURIComponent('/a/1/b/c,/a/1/d/c')}` +
        `&startTime=5&endTime=1796000000123456789&hashes=0x${h},${h}&cursor=0x${h}&ascending=false&pageSize=500&peerAddr=${encodeURIComponent('/ip4/1.2.3.4/tcp/1')}`,
    );
    assert.ok(r.ok);
    const q = r.value.request;
    assert.equal(q.includeData, true);
    assert.equal(q.pubsubTopic, T);
    assert.deepEqual(q.contentTopics, ['/a/1/b/c', '/a/1/d/c']);
    assert.equal(q.timeStart, 5n);
    assert.equal(q.timeEnd, 1796000000123456789n);
    assert.equal(q.messageHashes.length, 2);
    assert.deepEqual(q.paginationCursor, new Uint8Array(32).fill(0xab));
    assert.equal(q.paginationForward, false);
    assert.equal(q.paginationLimit, 100n, 'clamped to nwaku’s 100');
    assert.equal(r.value.peerAddr, '/ip4/1.2.3.4/tcp/1');
  });

  it('takes a time of zero or less as no bound, and only "true" as ascending', () => {
    const r = parse('startTime=0&endTime=-5&ascending=yes');
    assert.ok(r.ok);
    assert.equal(r.value.request.timeStart, undefined);
    assert.equal(r.value.request.timeEnd, undefined);
    assert.equal(r.value.request.paginationForward, false);
  });

  it("refuses bad values with nwaku's words", () => {
    const cases: [string, string][] = [
      ['includeData=maybe', 'include data parsing error: cannot interpret as a bool: maybe'],
      ['startTime=soon', 'time parsing error: invalid integer: soon'],
      ['endTime=99999999999999999999', 'time parsing error: Parsed integer outside of valid range'],
      ['pageSize=ten', 'page size parsing error: invalid integer: ten'],
      ['pageSize=-1', 'page size parsing error: invalid integer: -1'],
      ['cursor=abcd', 'waku message hash parsing error: invalid hash length: 2'],
      ['hashes=zz', 'Exception converting hex string to bytes: "zz" is not a hex string'],
    ];
    for (const [q, error] of cases) assert.deepEqual(parse(q), { ok: false, error }, q);
  });
});

describe('route matching', () => {
  const routes: Route[] = [{ method: 'GET', path: '/relay/v1/messages/{pubsubTopic}', handler: () => ({ status: 200, contentType: 'text/plain', body: '' }) }];

  it('decodes a URL-encoded topic as one path parameter', () => {
    const m = match(routes, 'GET', `/relay/v1/messages/${encodeURIComponent(T)}`);
    assert.ok('handler' in m);
    assert.deepEqual(m.params, { pubsubTopic: T });
  });

  it("answers what has no route as nwaku does", () => {
    const reply = (method: string, path: string) => {
      const m = match(routes, method, path);
      return 'reply' in m ? [m.reply.status, m.reply.body] : 'matched';
    };
    assert.deepEqual(reply('GET', `/relay/v1/messages/%E0%A4%A`), [400, 'Invalid request']);
    assert.deepEqual(reply('GET', `/relay/v1/messages${T}`), [400, 'Bad request initiated. Invalid path or method used.']);
    assert.deepEqual(reply('DELETE', `/relay/v1/messages/x`), [400, 'Bad request initiated. Invalid path or method used.']);
    assert.deepEqual(reply('POST', '/filter/v2/subscriptions'), [404, '/filter endpoints are not available.']);
  });

  it("reads a JSON body with nwaku's 400s", () => {
    const status = (b: Parameters<typeof jsonBody>[0]) => {
      const r = jsonBody(b);
      return r.ok ? 'ok' : r.reply.body;
    };
    assert.equal(status(undefined), 'Missing content body');
    assert.equal(status({ mediaType: 'application/x-www-form-urlencoded', text: '[]' }), 'Wrong Content-Type, expected application/json or text/plain');
    assert.match(String(status({ mediaType: 'application/json', text: '[1,' })), /^Invalid content body, could not decode: Unable to deserialize data: /);
    assert.equal(status({ mediaType: 'text/plain', text: '["x"]' }), 'ok');
  });
});

describe('answer shapes', () => {
  const peer: PeerStatus = {
    peerId: '16Uiu2HAmPeer',
    addrs: ['/ip4/127.0.0.1/tcp/1'],
    protocols: ['/vac/waku/relay/2.0.0'],
    direction: 'outbound',
    relay: true,
    mesh: [],
    store: false,
    static: true,
    agent: null,
    clusterId: 16,
    shards: [32],
  };

  it("health: nwaku's fifteen protocols, Relay ready only with a relay peer", () => {
    const s = { state: 'online', peers: [] } as unknown as KeeperStatus;
    const alone = healthReport(s);
    assert.equal(alone.nodeHealth, 'READY');
    assert.equal(alone.protocolsHealth.length, 15);
    assert.deepEqual(alone.protocolsHealth[0], { Relay: 'NOT_READY', desc: 'No connected peers' });
    assert.deepEqual(alone.protocolsHealth[5], { Store: 'READY' });
    assert.deepEqual(alone.protocolsHealth[12], { 'Store Client': 'READY' });
    assert.deepEqual(alone.protocolsHealth[4], { Filter: 'NOT_MOUNTED' });
    assert.deepEqual(healthReport({ ...s, peers: [peer] }).protocolsHealth[0], { Relay: 'READY' });
    assert.equal(healthReport({ ...s, state: 'stopping' }).nodeHealth, 'SHUTTING_DOWN');
  });

  it("admin peers: nwaku's WakuPeer", () => {
    assert.deepEqual(wakuPeer(peer), {
      multiaddr: '/ip4/127.0.0.1/tcp/1/p2p/16Uiu2HAmPeer',
      protocols: ['/vac/waku/relay/2.0.0'],
      shards: [32],
      connected: 'Connected',
      agent: '',
      origin: 'Static',
    });
  });

  it("store: hashes and cursors as 0x hex, and nwaku's error words", () => {
    const bytes = wakuMessageBytes({ timestamp: 9n, payload: new Uint8Array([1]), contentTopic: 'c' });
    const r = localResponseJson({ requestId: 'r', statusCode: 200, statusDesc: 'OK', messages: [{ hash: new Uint8Array(32).fill(1), message: bytes, pubsubTopic: T }], cursor: new Uint8Array(32).fill(2) });
    assert.equal(
      toJson(r),
      `{"requestId":"r","statusCode":200,"statusDesc":"OK","messages":[{"messageHash":"0x${'01'.repeat(32)}","message":{"payload":"AQ==","contentTopic":"c","version":0,"timestamp":9,"ephemeral":false},"pubsubTopic":"${T}"}],"paginationCursor":"0x${'02'.repeat(32)}"}`,
    );
    assert.equal(storeErrorText(300, 'archive error: cursor not found'), 'BAD_RESPONSE: archive error: cursor not found');
    assert.equal(storeErrorText(400, 'x'), 'BAD_REQUEST: x');
    assert.equal(storeErrorText(429, 'x'), 'TOO_MANY_REQUESTS');
    assert.equal(storeErrorText(504, '/ip4/1.2.3.4/tcp/1/p2p/x'), 'PEER_DIAL_FAILURE: /ip4/1.2.3.4/tcp/1/p2p/x');
    assert.equal(storeErrorText(201, 'x'), 'UNKNOWN');
  });
});
