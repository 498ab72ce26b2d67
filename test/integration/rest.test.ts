/**
 * nwaku's REST API on real Keepers on loopback, driven by a small client
 * written to nwaku's documented shapes (fetch): every route, what it does on
 * the network (a REST publish reaches a js-waku client and the @waku/sdk store
 * finds it; a REST subscription hears what a js-waku client publishes), store
 * queries from the own archive and from a second Keeper, and every error path.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { connect } from 'node:net';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { peerIdFromString } from '@libp2p/peer-id';
import { secp256k1 } from '@noble/curves/secp256k1';
import { createDecoder } from '@waku/sdk';
import type { IDecodedMessage } from '@waku/sdk';
import { createRoutingInfo } from '@waku/utils';
import { messageHash } from '../../main/core/message/hash.ts';
import { shardSigningDigest } from '../../main/core/message/protected-shards.ts';
import { inMesh, seedArchive, startKeeper, tempDataDir } from '../helpers/keeper.ts';
import type { TestKeeper } from '../helpers/keeper.ts';
import { hex, series, TEST_CONTENT, TEST_PUBSUB } from '../helpers/messages.ts';
import { startStoreNode } from '../helpers/store-node.ts';
import type { StoreNode } from '../helpers/store-node.ts';
import { dial, startWakuClient } from '../helpers/waku-client.ts';
import type { WakuClient } from '../helpers/waku-client.ts';
import { waitFor } from '../helpers/wait.ts';

const MS = 1_000_000n;
const EXTRA = '/waku/2/rs/16/7'; // subscribed over REST only
const AUTO = '/waku/2/rs/16/0'; // where autosharding puts every content topic on cluster 16 (one shard, as nwaku)
const GUARDED = '/waku/2/rs/16/64'; // a protected shard in this test
const CT = TEST_CONTENT[0] ?? '';
const MAX = 100_000;
const enc = encodeURIComponent;
const b64 = (s: string | Uint8Array) => Buffer.from(s).toString('base64');

// ---- a REST client as nwaku documents its API ----------------------------------

interface Answer {
  status: number;
  type: string;
  text: string;
}

/** JSON with int64 timestamps kept exact, as nwaku writes them (numbers of up to 19 digits). */
function parse<T>(text: string): T {
  const reviver = (key: string, value: unknown, ctx?: { source?: string }) => (key === 'timestamp' && typeof value === 'number' && ctx?.source ? BigInt(ctx.source) : value);
  return JSON.parse(text, reviver as (k: string, v: unknown) => unknown) as T;
}

interface StoreEntry {
  messageHash: string;
  pubsubTopic?: string;
  message?: { payload: string; contentTopic: string; timestamp: bigint; version: number; ephemeral: boolean; meta?: string };
}
interface StoreAnswer {
  requestId: string;
  statusCode: number;
  statusDesc: string;
  messages: StoreEntry[];
  paginationCursor?: string;
}

describe("nwaku's REST API", () => {
  let a: TestKeeper;
  let b: TestKeeper;
  let client: WakuClient;
  let rest = '';
  const base = BigInt(Date.now() - 20 * 60_000) * MS;
  const older = BigInt(Date.now() - 2 * 3_600_000) * MS;
  const seededA = series(30, base, { stepNs: 1000n * MS });
  const seededB = series(12, older, { stepNs: 1000n * MS });
  const guardKey = secp256k1.utils.randomPrivateKey();
  const heard: { topic: string; data: Uint8Array }[] = [];

  const call = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Answer> => {
    const init: RequestInit = { method, headers: { ...headers } };
    if (body !== undefined) {
      init.body = typeof body === 'string' ? body : JSON.stringify(body, (_k, v: unknown) => (typeof v === 'bigint' ? Number(v) : v));
      (init.headers as Record<string, string>)['content-type'] ??= 'application/json';
    }
    const r = await fetch(rest + path, init);
    return { status: r.status, type: r.headers.get('content-type') ?? '', text: await r.text() };
  };
  /** fetch will not send a Host of our choosing (a DNS-rebinding page's): node:http will. */
  const hostHeader = (host: string): Promise<Answer> =>
    new Promise((resolve, reject) => {
      const req = request(`${rest}/health`, { headers: { host } }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), text: body }));
      });
      req.on('error', reject);
      req.end();
    });
  const publish = (m: Record<string, unknown>, topic = TEST_PUBSUB) => call('POST', `/relay/v1/messages/${enc(topic)}`, m);
  const store = async (query: string): Promise<StoreAnswer> => {
    const r = await call('GET', `/store/v3/messages?${query}`);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.type, 'application/json');
    return parse<StoreAnswer>(r.text);
  };
  const heldBy = async (k: TestKeeper) => (await k.status()).archive.messages;

  before(async () => {
    const dirA = tempDataDir();
    seedArchive(dirA, seededA);
    // A keeps an hour: B's older history is outside it, so A never fills it from B and what B answers is B's own.
    a = await startKeeper(
      {
        rest: { host: '127.0.0.1', port: 0 },
        pubsubTopics: [TEST_PUBSUB, AUTO, GUARDED],
        retentionMs: 3_600_000,
        maxMessageBytes: MAX,
        protectedShards: [`64:${Buffer.from(secp256k1.getPublicKey(guardKey, false)).toString('hex')}`],
      },
      dirA,
    );
    const ready = a.events.find((e) => e.event === 'ready');
    rest = ready?.event === 'ready' ? (ready.rest ?? '') : '';
    const dirB = tempDataDir();
    seedArchive(dirB, seededB);
    b = await startKeeper({}, dirB);
    client = await startWakuClient({ pubsubTopics: [TEST_PUBSUB, EXTRA, AUTO] });
    client.relay.addEventListener('message', (e) => heard.push({ topic: e.detail.topic, data: e.detail.data }));
    await dial(client, a.tcpAddr);
    const clientId = client.node.libp2p.peerId.toString();
    await waitFor('the client in A’s relay mesh', () => inMesh(a, clientId));
  });

  after(async () => {
    await client?.stop();
    await b?.dispose();
    await a?.dispose();
  });

  it('announces its URL in the ready event, on the loopback port it was given', async () => {
    assert.match(rest, /^http:\/\/127\.0\.0\.1:\d+$/);
    const r = await call('GET', '/health');
    assert.equal(r.status, 200);
  });

  it('debug: info lists the listen addresses, version is text', async () => {
    const info = await call('GET', '/debug/v1/info');
    assert.equal(info.status, 200);
    assert.equal(info.type, 'application/json');
    const s = await a.status();
    assert.deepEqual(parse<{ listenAddresses: string[] }>(info.text), { listenAddresses: s.multiaddrs });
    assert.ok(s.multiaddrs.every((m) => m.endsWith(`/p2p/${a.peerId}`)));
    const version = await call('GET', '/debug/v1/version');
    assert.deepEqual([version.status, version.type, version.text], [200, 'text/plain', s.version]);
    assert.equal((await call('GET', '/info')).text, info.text);
  });

  it('health: the node ready, relay ready with a peer, store served', async () => {
    const r = await call('GET', '/health');
    const h = parse<{ nodeHealth: string; protocolsHealth: Record<string, string>[] }>(r.text);
    assert.equal(h.nodeHealth, 'READY');
    assert.equal(h.protocolsHealth.length, 15);
    assert.deepEqual(h.protocolsHealth[0], { Relay: 'READY' });
    assert.deepEqual(h.protocolsHealth.find((p) => 'Store' in p), { Store: 'READY' });
  });

  it('admin: the connected peers as nwaku’s WakuPeer', async () => {
    const peers = parse<{ multiaddr: string; protocols: string[]; shards: number[]; connected: string; agent: string; origin: string }[]>((await call('GET', '/admin/v1/peers')).text);
    const c = peers.find((p) => p.multiaddr.endsWith(`/p2p/${client.node.libp2p.peerId.toString()}`));
    assert.ok(c, JSON.stringify(peers));
    assert.equal(c.connected, 'Connected');
    assert.ok(c.protocols.includes('/vac/waku/relay/2.0.0'));
    assert.equal(c.origin, 'UnknownOrigin');
  });

  it('publishes over REST: the network gets it, the archive holds it once, and the @waku/sdk store finds it', async () => {
    const before = (await a.status()).ingest;
    const r = await publish({ payload: b64('hello over REST'), contentTopic: CT });
    assert.deepEqual([r.status, r.type, r.text], [200, 'text/plain', 'OK']);
    await waitFor('the client to hear it', () => heard.some((h) => Buffer.from(h.data).includes(Buffer.from('hello over REST'))));
    await waitFor('A to store it', async () => (await a.status()).ingest.stored === before.stored + 1);
    const found = (await store(`includeData=true&pubsubTopic=${enc(TEST_PUBSUB)}&contentTopics=${enc(CT)}&startTime=${BigInt(Date.now() - 60_000) * MS}`)).messages;
    assert.equal(found.length, 1, 'stored once');
    const m = found[0]?.message;
    assert.ok(m && Buffer.from(m.payload, 'base64').toString() === 'hello over REST');
    // The missing timestamp was set to the node's clock, as nwaku does.
    assert.ok(m.timestamp > BigInt(Date.now() - 60_000) * MS && m.timestamp <= BigInt(Date.now()) * MS);
    const hash = hex(messageHash(TEST_PUBSUB, { payload: Buffer.from(m.payload, 'base64'), contentTopic: CT, timestamp: m.timestamp }));
    assert.equal(found[0]?.messageHash, `0x${hash}`);

    // Posting the very same message again publishes nothing new and stores nothing twice.
    assert.equal((await publish({ payload: m.payload, contentTopic: CT, timestamp: m.timestamp })).status, 200);
    await new Promise((r2) => setTimeout(r2, 300));
    const after = (await a.status()).ingest;
    assert.equal(after.stored, before.stored + 1);
    assert.equal(after.duplicates, before.duplicates, 'never offered to the archive a second time');

    const decoder = createDecoder(CT, createRoutingInfo({ clusterId: 16 }, { shardId: 32 }));
    const hashes: string[] = [];
    for await (const page of client.node.store.queryGenerator([decoder], { peerId: peerIdFromString(a.peerId), timeStart: new Date(Date.now() - 60_000), timeEnd: new Date() })) {
      hashes.push(...(await Promise.all(page)).filter((x): x is IDecodedMessage => x !== undefined).map((x) => x.hashStr));
    }
    assert.deepEqual(hashes, [hash]);
  });

  it('GET relay messages hands over what arrived on the topic since the last call, then nothing', async () => {
    await call('GET', `/relay/v1/messages/${enc(TEST_PUBSUB)}`); // empty the cache
    const ts = BigInt(Date.now()) * MS + 123_456n; // not a whole ms: every digit must survive
    await client.publish(TEST_PUBSUB, { contentTopic: CT, payload: Buffer.from('from js-waku'), timestamp: ts });
    let got: { payload: string; contentTopic: string; timestamp: bigint; version: number; ephemeral: boolean; proof: string }[] = [];
    let raw = '';
    await waitFor('the message in the cache', async () => {
      raw = (await call('GET', `/relay/v1/messages/${enc(TEST_PUBSUB)}`)).text;
      got = [...got, ...parse<typeof got>(raw)];
      return got.length > 0;
    });
    assert.deepEqual(got, [{ payload: b64('from js-waku'), contentTopic: CT, version: 0, timestamp: ts, ephemeral: false, proof: '' }]);
    assert.ok(raw.includes(`"timestamp":${ts}`), 'the timestamp is a JSON number with all its digits');
    assert.deepEqual(parse((await call('GET', `/relay/v1/messages/${enc(TEST_PUBSUB)}`)).text), []);
  });

  it('subscribes over REST: relays and archives the topic for this run, hears js-waku, and unsubscribes', async () => {
    const r = await call('POST', '/relay/v1/subscriptions', [EXTRA]);
    assert.deepEqual([r.status, r.text], [200, 'OK']);
    assert.ok((await a.status()).pubsubTopics.includes(EXTRA));
    const clientId = client.node.libp2p.peerId.toString();
    await waitFor('A and the client meshed on the new topic', async () => (await inMesh(a, clientId, EXTRA)) && client.relay.getMeshPeers(EXTRA).includes(a.peerId));
    const ts = BigInt(Date.now()) * MS;
    await client.publish(EXTRA, { contentTopic: CT, payload: Buffer.from('on the extra topic'), timestamp: ts });
    let got: { payload: string }[] = [];
    await waitFor('the message over REST', async () => {
      got = [...got, ...parse<{ payload: string }[]>((await call('GET', `/relay/v1/messages/${enc(EXTRA)}`)).text)];
      return got.length > 0;
    });
    assert.equal(got[0]?.payload, b64('on the extra topic'));
    await waitFor('it archived', async () => (await store(`includeData=true&pubsubTopic=${enc(EXTRA)}`)).messages.length === 1);
    const settings = join(a.dataDir, 'settings.json');
    assert.ok(!existsSync(settings) || !readFileSync(settings, 'utf8').includes(EXTRA), 'a REST subscription is not saved');

    assert.equal((await call('DELETE', '/relay/v1/subscriptions', [EXTRA])).status, 200);
    assert.ok(!(await a.status()).pubsubTopics.includes(EXTRA));
    assert.equal((await call('GET', `/relay/v1/messages/${enc(EXTRA)}`)).status, 404);
    // A topic Keeper relays anyway stays relayed; only the cache forgets it, as nwaku's does.
    assert.deepEqual([(await call('DELETE', '/relay/v1/subscriptions', [AUTO])).status], [200]);
    assert.ok((await a.status()).pubsubTopics.includes(AUTO));
    assert.equal((await call('GET', `/relay/v1/messages/${enc(AUTO)}`)).status, 404);
    assert.equal((await call('POST', '/relay/v1/subscriptions', [AUTO])).status, 200);
    assert.deepEqual(parse((await call('GET', `/relay/v1/messages/${enc(AUTO)}`)).text), []);
  });

  it('publishes with autosharding on the shard nwaku derives, and on a protected shard when signed', async () => {
    const r = await call('POST', '/relay/v1/auto/messages', { payload: b64('auto'), contentTopic: '/toychat/2/huilong/proto' });
    assert.deepEqual([r.status, r.text], [200, 'OK']);
    await waitFor('it archived on the derived shard', async () => (await store(`includeData=true&pubsubTopic=${enc(AUTO)}`)).messages.length === 1);
    await waitFor('the client heard it there', () => heard.some((h) => h.topic === AUTO));

    const timestamp = BigInt(Date.now()) * MS;
    const payload = Buffer.from('signed');
    const digest = shardSigningDigest(GUARDED, { payload, contentTopic: CT, timestamp });
    const meta = secp256k1.sign(digest, guardKey, { prehash: false, lowS: true }).toCompactRawBytes();
    assert.equal((await publish({ payload: b64(payload), contentTopic: CT, timestamp, meta: b64(meta) }, GUARDED)).status, 200);
    await waitFor('the signed message archived', async () => (await store(`pubsubTopic=${enc(GUARDED)}`)).messages.length === 1);
  });

  it('refuses what breaks a rule with nwaku’s 400, and publishes and stores none of it', async () => {
    const held = await heldBy(a);
    const stored = (await a.status()).ingest.stored;
    const heardBefore = heard.length;
    const now = BigInt(Date.now()) * MS;
    const cases: [Promise<Answer>, number, string | RegExp][] = [
      [publish({ payload: b64(Buffer.alloc(MAX + 1)), contentTopic: CT }), 400, `Failed to publish: Message size exceeded maximum of ${MAX} bytes`],
      [publish({ payload: b64('x'), contentTopic: CT, timestamp: now - 3_600_000n * MS }), 400, 'Failed to publish: invalid_message_too_old'],
      [publish({ payload: b64('x'), contentTopic: CT, timestamp: now + 3_600_000n * MS }), 400, 'Failed to publish: invalid_message_future_timestamp'],
      [publish({ payload: b64('x'), contentTopic: CT, meta: b64(Buffer.alloc(65)) }), 400, 'Failed to publish: meta is longer than 64 bytes'],
      [publish({ payload: b64('unsigned'), contentTopic: CT }, GUARDED), 400, 'Failed to publish: signed shard validation failed'],
      [publish({ payload: b64('x'), contentTopic: CT }, EXTRA), 400, `Failed to publish: Node not subscribed to topic: ${EXTRA}`],
      [publish({ payload: 'not base64', contentTopic: CT }), 400, 'Incorrect base64 string'],
      [publish({ payload: b64('x'), contentTopic: CT, meta: '!!' }), 400, 'Incorrect base64 string'],
      [publish({ contentTopic: CT }), 400, 'Invalid content body, could not decode: Unable to deserialize data: Field `payload` is missing or empty'],
      [publish({ payload: b64('x') }), 400, 'Invalid content body, could not decode: Unable to deserialize data: Field `contentTopic` is missing or empty'],
      [publish({ payload: b64('x'), contentTopic: CT, timestamp: 1.5 }), 400, /`timestamp` must be an integer/],
      [call('POST', `/relay/v1/messages/${enc(TEST_PUBSUB)}`, '{"payload":'), 400, /^Invalid content body, could not decode: Unable to deserialize data: /],
      [call('POST', `/relay/v1/messages/${enc(TEST_PUBSUB)}`, '{}', { 'content-type': 'application/x-www-form-urlencoded' }), 400, 'Wrong Content-Type, expected application/json or text/plain'],
      [call('POST', `/relay/v1/messages/${enc(TEST_PUBSUB)}`), 400, 'Missing content body'],
      [call('POST', '/relay/v1/messages/%E0%A4%A', { payload: b64('x'), contentTopic: CT }), 400, 'Invalid request'],
      [call('POST', '/relay/v1/auto/messages', { payload: b64('x'), contentTopic: 'no-slash' }), 400, "Failed to publish. Autosharding error: invalid format: content-topic 'no-slash' must start with slash"],
      [call('POST', '/relay/v1/auto/messages', { payload: b64('x'), contentTopic: '/1/toychat/2/huilong/proto' }), 400, 'Failed to publish. Autosharding error: Generation > 0 are not supported yet'],
      [call('POST', '/relay/v1/auto/messages', { payload: b64(Buffer.alloc(MAX + 1)), contentTopic: '/toychat/2/huilong/proto' }), 400, `Failed to publish: Message size exceeded maximum of ${MAX} bytes`],
      [call('POST', `/relay/v1/messages/${enc(TEST_PUBSUB)}`, { payload: b64(Buffer.alloc(4 * MAX)), contentTopic: CT }), 413, /^Request body larger than/],
    ];
    for (const [pending, status, words] of cases) {
      const r = await pending;
      assert.equal(r.status, status, r.text);
      if (typeof words === 'string') assert.equal(r.text, words);
      else assert.match(r.text, words);
    }
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(await heldBy(a), held, 'nothing stored');
    assert.equal((await a.status()).ingest.stored, stored);
    assert.equal(heard.length, heardBefore, 'nothing published');
  });

  it('answers bad subscriptions, unknown topics and unknown routes with nwaku’s codes', async () => {
    const cases: [Promise<Answer>, number, string | RegExp][] = [
      [call('POST', '/relay/v1/subscriptions', ['/test/2/not/a/shard', TEST_PUBSUB]), 400, 'Invalid pubsub topic(s): @["/test/2/not/a/shard"]'],
      [call('DELETE', '/relay/v1/subscriptions', ['nope']), 400, 'Invalid pubsub topic(s): @["nope"]'],
      [call('POST', '/relay/v1/subscriptions', ['/waku/2/rs/1/0']), 400, /^Invalid pubsub topic\(s\): @\["\/waku\/2\/rs\/1\/0"\]: this node serves cluster 16$/],
      [call('POST', '/relay/v1/subscriptions', { topics: [] }), 400, /^Invalid content body, could not decode/],
      [call('POST', '/relay/v1/subscriptions'), 400, 'Missing content body'],
      [call('GET', `/relay/v1/messages/${enc(EXTRA)}`), 404, `Not subscribed to topic: ${EXTRA}`],
      [call('GET', '/relay/v1/messages/%zz'), 400, 'Invalid request'],
      [call('OPTIONS', '/relay/v1/subscriptions'), 200, 'OK'],
      [call('GET', '/no/such/route'), 400, 'Bad request initiated. Invalid path or method used.'],
      [call('PUT', '/health'), 400, 'Bad request initiated. Invalid path or method used.'],
      [call('GET', '/filter/v2/messages/x'), 404, '/filter endpoints are not available.'],
      [call('POST', '/lightpush/v3/message', {}), 404, '/lightpush endpoints are not available.'],
      [call('GET', '/health', undefined, { origin: 'https://evil.example' }), 403, 'Origin not allowed'],
      [hostHeader('evil.example:80'), 421, /wrong Host/],
    ];
    for (const [pending, status, words] of cases) {
      const r = await pending;
      assert.equal(r.status, status, r.text);
      if (typeof words === 'string') assert.equal(r.text, words);
      else assert.match(r.text, words);
    }
    assert.ok(!(await a.status()).pubsubTopics.includes('/waku/2/rs/1/0'));
  });

  it('survives garbage on the socket and answers the next request', async () => {
    const { port } = new URL(rest);
    for (const junk of ['\x00\xff garbage\r\n\r\n', 'GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: -5\r\n\r\n', 'POST / HTTP/1.1\r\n' + 'X: y\r\n'.repeat(5000)]) {
      await new Promise<void>((resolve) => {
        const s = connect(Number(port), '127.0.0.1', () => s.end(junk));
        s.on('data', () => undefined);
        s.on('error', () => resolve());
        s.on('close', () => resolve());
        s.setTimeout(5000, () => s.destroy());
      });
    }
    assert.equal((await call('GET', '/health')).status, 200);
  });

  it('store from its own archive: nwaku’s parameters and shape, pages followed by cursor both ways', async () => {
    const topic = `pubsubTopic=${enc(TEST_PUBSUB)}&contentTopics=${enc(TEST_CONTENT.join(','))}&startTime=${base}&endTime=${base + 29_000n * MS}`;
    const expected = seededA.map((m) => `0x${hex(m.hash)}`);
    for (const ascending of ['true', 'false']) {
      const hashes: string[] = [];
      let cursor = '';
      for (let pages = 0; pages < 10; pages++) {
        const r = await store(`${topic}&includeData=true&pageSize=7&ascending=${ascending}${cursor ? `&cursor=${cursor}` : ''}`);
        assert.equal(r.statusCode, 200);
        assert.equal(r.statusDesc, 'OK');
        assert.ok(r.messages.every((m) => m.pubsubTopic === TEST_PUBSUB && m.message !== undefined));
        hashes.push(...r.messages.map((m) => m.messageHash));
        if (r.paginationCursor === undefined) break;
        cursor = r.paginationCursor;
      }
      assert.deepEqual([...hashes].sort(), [...expected].sort(), `ascending=${ascending}`);
      // Pages come in forward order; backward paging starts from the newest page.
      assert.deepEqual(hashes.slice(0, 7), ascending === 'true' ? expected.slice(0, 7) : expected.slice(-7));
    }
    const first = seededA[0];
    assert.ok(first);
    const one = await store(`includeData=true&hashes=${hex(first.hash)}`);
    assert.deepEqual(one.messages.map((m) => m.message?.timestamp), [first.timestamp]);
    const bare = await store(`${topic}&pageSize=3`);
    assert.deepEqual(bare.messages.map((m) => Object.keys(m)), [['messageHash'], ['messageHash'], ['messageHash']], 'includeData defaults to false');
  });

  it('store through a named peer: a second Keeper’s archive, with its cursor', async () => {
    const peer = `peerAddr=${enc(b.tcpAddr)}&pubsubTopic=${enc(TEST_PUBSUB)}&startTime=${older}&endTime=${older + 11_000n * MS}&includeData=true&pageSize=5`;
    const hashes: string[] = [];
    let cursor = '';
    for (let pages = 0; pages < 10; pages++) {
      const r = await store(`${peer}${cursor ? `&cursor=${cursor}` : ''}`);
      assert.equal(r.statusCode, 200, r.statusDesc);
      assert.ok(r.requestId.length > 0);
      hashes.push(...r.messages.map((m) => m.messageHash));
      if (r.paginationCursor === undefined) break;
      cursor = r.paginationCursor;
    }
    assert.deepEqual(hashes, seededB.map((m) => `0x${hex(m.hash)}`));
    assert.ok(((await b.status()).store.requests['200'] ?? 0) >= 3);
  });

  it('store errors: nwaku’s statuses for bad parameters, bad cursors, dead, slow and rate-limiting peers', async () => {
    const dead = `/ip4/127.0.0.1/tcp/1/p2p/${a.peerId}`;
    const unknown = 'ab'.repeat(32);
    const slow: StoreNode = await startStoreNode([], 'slow', 7000);
    const strict = await startKeeper({ storeRateLimit: { capacity: 1, perSecond: 0.01 } });
    try {
      const cases: [string, number, string | RegExp][] = [
        ['pageSize=many', 400, 'page size parsing error: invalid integer: many'],
        ['includeData=perhaps', 400, 'include data parsing error: cannot interpret as a bool: perhaps'],
        ['startTime=yesterday', 400, 'time parsing error: invalid integer: yesterday'],
        ['cursor=0x1234', 400, 'waku message hash parsing error: invalid hash length: 2'],
        ['hashes=xyz', 400, /^Exception converting hex string to bytes/],
        [`peerAddr=${enc('not a multiaddr')}`, 400, /^Failed parsing remote peer info: /],
        [`cursor=${unknown}`, 500, 'error in handleSelfStoreRequest: BAD_RESPONSE: archive error: cursor not found'],
        [`contentTopics=${enc(CT)}`, 500, /^error in handleSelfStoreRequest: BAD_REQUEST: /],
        [`peerAddr=${enc(slow.addr)}&pubsubTopic=${enc(TEST_PUBSUB)}`, 500, 'No history response received (timeout)'],
      ];
      for (const [query, status, words] of cases) {
        const r = await call('GET', `/store/v3/messages?${query}`);
        assert.equal(r.status, status, `${query}: ${r.text}`);
        assert.equal(r.type, 'text/plain');
        if (typeof words === 'string') assert.equal(r.text, words);
        else assert.match(r.text, words);
      }
      // What the peer refuses, or a peer not reached, is a 200 carrying the Store status, as nwaku answers.
      const refused = await store(`peerAddr=${enc(b.tcpAddr)}&cursor=${unknown}`);
      assert.deepEqual([refused.statusCode, refused.statusDesc, refused.messages], [300, 'BAD_RESPONSE: archive error: cursor not found', []]);
      const unreached = await store(`peerAddr=${enc(dead)}`);
      assert.deepEqual([unreached.statusCode, unreached.statusDesc], [504, `PEER_DIAL_FAILURE: ${dead}`]);
      // One request a peer at once: the second (or the first, if the Keeper's own filling asked first) is refused.
      const limited = `/store/v3/messages?peerAddr=${enc(strict.tcpAddr)}`;
      const answers = [await call('GET', limited), await call('GET', limited)];
      assert.ok(answers.every((r) => r.status === 200 || r.status === 429), answers.map((r) => r.text).join());
      assert.deepEqual([answers[1]?.status, answers[1]?.text], [429, 'Request rate limit reached']);
    } finally {
      await slow.stop();
      await strict.dispose();
    }
  });
});
