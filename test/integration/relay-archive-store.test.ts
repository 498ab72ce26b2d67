/**
 * Two Keepers and a @waku/sdk node on loopback: what the client publishes on
 * relay lands in both archives, and the @waku/sdk store client reads it back.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { peerIdFromString } from '@libp2p/peer-id';
import { createDecoder } from '@waku/sdk';
import type { IDecodedMessage } from '@waku/sdk';
import { createRoutingInfo } from '@waku/utils';
import { messageHash } from '../../main/core/message/hash.ts';
import { inMesh, startKeeper } from '../helpers/keeper.ts';
import type { TestKeeper } from '../helpers/keeper.ts';
import { hex, TEST_CONTENT, TEST_PUBSUB } from '../helpers/messages.ts';
import { dial, startWakuClient } from '../helpers/waku-client.ts';
import type { WakuClient } from '../helpers/waku-client.ts';
import { waitFor } from '../helpers/wait.ts';

const COUNT = 90;
const routing = createRoutingInfo({ clusterId: 16 }, { shardId: 32 });
const decoders = TEST_CONTENT.map((t) => createDecoder(t, routing));

interface Sent {
  hash: string;
  contentTopic: string;
  timestamp: bigint;
}

async function readAll(
  client: WakuClient,
  peer: string,
  options: { paginationLimit?: number; paginationForward?: boolean; timeStart?: Date; timeEnd?: Date; messageHashes?: Uint8Array[] },
  decs = decoders,
): Promise<{ hashes: string[]; pages: number }> {
  const hashes: string[] = [];
  let pages = 0;
  for await (const page of client.node.store.queryGenerator(decs, { peerId: peerIdFromString(peer), ...options })) {
    pages++;
    const msgs = (await Promise.all(page)).filter((m): m is IDecodedMessage => m !== undefined);
    hashes.push(...msgs.map((m) => m.hashStr));
    assert.ok(pages < 200, 'the client kept paging: the server never gave it an empty page');
  }
  return { hashes, pages };
}

describe('relay → archive → Store v3, with real nodes on loopback', () => {
  let a: TestKeeper;
  let b: TestKeeper;
  let client: WakuClient;
  const sent: Sent[] = [];
  let ingestMs = 0;

  before(async () => {
    a = await startKeeper();
    b = await startKeeper({ peers: [a.tcpAddr] });
    client = await startWakuClient({ pubsubTopics: [TEST_PUBSUB] });
    await dial(client, a.tcpAddr);
    // The sdk store client silently returns nothing for a peer it is not connected to.
    await dial(client, b.tcpAddr);
    const aId = a.peerId;
    const bId = b.peerId;
    // A forwards to its mesh only: wait until B has been grafted, not just subscribed.
    await waitFor(
      'the client to see A, and A to have B in its relay mesh',
      async () => client.relay.getSubscribers(TEST_PUBSUB).some((p) => p.toString() === aId) && (await inMesh(a, bId)),
    );
    // ms-aligned timestamps, so the client's Date-based time ranges have clean edges.
    const baseMs = BigInt(Date.now() - COUNT * 10);
    const started = performance.now();
    for (let i = 0; i < COUNT; i++) {
      const contentTopic = TEST_CONTENT[i % TEST_CONTENT.length] ?? '';
      const timestamp = (baseMs + BigInt(i) * 10n) * 1_000_000n;
      const payload = new TextEncoder().encode(`relay message ${i}`);
      await client.publish(TEST_PUBSUB, { contentTopic, payload, timestamp });
      sent.push({ hash: hex(messageHash(TEST_PUBSUB, { payload, contentTopic, timestamp })), contentTopic, timestamp });
    }
    await waitFor(`${COUNT} messages in both archives`, async () => {
      const [sa, sb] = await Promise.all([a.status(), b.status()]);
      return sa.archive.messages === COUNT && sb.archive.messages === COUNT;
    });
    ingestMs = performance.now() - started;
  });

  after(async () => {
    await client?.stop();
    await b?.dispose();
    await a?.dispose();
  });

  it('stores every relayed message in both archives, counted per topic', async () => {
    for (const k of [a, b]) {
      const s = await k.status();
      assert.equal(s.topics[0]?.pubsubTopic, TEST_PUBSUB);
      assert.equal(s.topics[0]?.messages, COUNT);
      assert.equal(s.ingest.stored, COUNT);
      assert.deepEqual(s.ingest.rejected, {});
      assert.equal(s.state, 'online');
    }
    console.log(`# ingest: ${COUNT} messages through relay into two archives in ${ingestMs.toFixed(0)} ms`);
  });

  for (const forward of [true, false]) {
    for (const limit of [7, 100]) {
      it(`the @waku/sdk store client reads the full set ${forward ? 'forward' : 'backward'} in pages of ${limit}`, async () => {
        const ordered = sent.map((s) => s.hash); // sent in timestamp order
        for (const k of [a, b]) {
          const started = performance.now();
          const got = await readAll(client, k.peerId, { paginationLimit: limit, paginationForward: forward });
          const ms = performance.now() - started;
          // Pages always come in forward order; backward paging walks pages from the newest.
          const expected = forward ? ordered : chunkFromEnd(ordered, limit).flat();
          assert.deepEqual(got.hashes, expected);
          // Full pages, then the empty page the client stops on.
          assert.equal(got.pages, Math.ceil(COUNT / limit));
          console.log(`# store: ${got.pages} pages of ${limit} (${forward ? 'fwd' : 'bwd'}) in ${ms.toFixed(0)} ms, ${(ms / (got.pages + 1)).toFixed(1)} ms/request`);
        }
      });
    }
  }

  it('answers a time-range query with exactly the messages inside it', async () => {
    const from = sent[20];
    const to = sent[50];
    assert.ok(from && to);
    // Bounds fall between messages: js-waku turns a Date into ns as a float
    // (ms * 1e6 > 2^53), so a bound on a message's exact ns is off by up to
    // ~256 ns. The exact edges (start inclusive, end exclusive) are unit-tested.
    const timeStart = new Date(Number(from.timestamp / 1_000_000n) - 5);
    const timeEnd = new Date(Number(to.timestamp / 1_000_000n) - 5);
    const got = await readAll(client, a.peerId, { timeStart, timeEnd, paginationForward: true, paginationLimit: 10 });
    const expected = sent.filter((s) => s.timestamp >= from.timestamp && s.timestamp < to.timestamp).map((s) => s.hash);
    assert.deepEqual(got.hashes, expected);
    assert.equal(expected.length, 30);
  });

  it('answers a content-filtered query for one topic', async () => {
    const topic = TEST_CONTENT[1] ?? '';
    const got = await readAll(client, b.peerId, { paginationForward: true }, [createDecoder(topic, routing)]);
    assert.deepEqual(got.hashes, sent.filter((s) => s.contentTopic === topic).map((s) => s.hash));
  });

  it('answers a hash lookup with the messages asked for', async () => {
    const wanted = [sent[3], sent[77], sent[41]].filter((s) => s !== undefined);
    const got = await readAll(client, a.peerId, {
      messageHashes: wanted.map((s) => Uint8Array.from(Buffer.from(s.hash, 'hex'))),
      paginationForward: true,
    });
    assert.deepEqual(got.hashes, [sent[3], sent[41], sent[77]].map((s) => s?.hash));
  });

  it('is chosen by a js-waku client that names no store peer (metadata announces our shards)', async () => {
    const got = [];
    for await (const page of client.node.store.queryGenerator(decoders, { paginationForward: true, paginationLimit: 100 })) {
      got.push(...(await Promise.all(page)));
    }
    assert.equal(got.length, COUNT);
  });

  it('refuses the status API without the token and serves it with', async () => {
    const url = `${a.apiUrl}/api/status`;
    assert.equal((await fetch(url)).status, 401);
    const token = (await import('node:fs')).readFileSync(`${a.dataDir}/api-token`, 'utf8').trim();
    const res = await fetch(url, { headers: { Authorization: `Bearer ${token}` } });
    assert.equal(res.status, 200);
    const body = (await res.json()) as { archive: { messages: number }; peers: { peerId: string; store: boolean; relay: boolean }[] };
    assert.equal(body.archive.messages, COUNT);
    const bAsPeer = body.peers.find((p) => p.peerId === b.peerId);
    assert.ok(bAsPeer?.store && bAsPeer.relay, 'A lists B as a relay and store peer');
    const metrics = await fetch(`${a.apiUrl}/metrics`, { headers: { Authorization: `Bearer ${token}` } });
    assert.equal(metrics.status, 200);
    const text = await metrics.text();
    assert.match(text, new RegExp(`^keeper_messages_stored_total ${COUNT}$`, 'm'));
    assert.match(text, new RegExp(`^keeper_archive_messages\\{pubsub_topic="${TEST_PUBSUB}"\\} ${COUNT}$`, 'm'));
    assert.match(text, /^keeper_store_requests_total\{status="200"\} \d+$/m);
  });

  it('refuses a request from a foreign web origin or Host name', async () => {
    const token = (await import('node:fs')).readFileSync(`${a.dataDir}/api-token`, 'utf8').trim();
    const headers = { Authorization: `Bearer ${token}` };
    const url = `${a.apiUrl}/api/status`;
    assert.equal((await fetch(url, { headers: { ...headers, Origin: 'http://evil.example' } })).status, 403);
    const { request } = await import('node:http');
    const status = await new Promise<number | undefined>((resolve, reject) => {
      const req = request(url, { headers: { ...headers, Host: 'evil.example:80' } }, (res) => {
        res.resume();
        resolve(res.statusCode);
      });
      req.on('error', reject);
      req.end();
    });
    assert.equal(status, 421);
  });
});

/** Splits into pages of `size` counted from the end, newest page first (each page in forward order). */
function chunkFromEnd<T>(items: T[], size: number): T[][] {
  const pages: T[][] = [];
  for (let end = items.length; end > 0; end -= size) pages.push(items.slice(Math.max(0, end - size), end));
  return pages;
}
