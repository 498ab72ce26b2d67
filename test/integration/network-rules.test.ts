/**
 * The Status network's message rules with real nodes on loopback: messages up
 * to the fleet's 1 MiB cap on cluster 16 (150 KiB elsewhere), content topics as
 * free strings, protected shards that take only messages signed by the shard's
 * key — and a gap fill that counts a peer complete whatever large messages
 * its window holds.
 */
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { secp256k1 } from '@noble/curves/secp256k1';
import { multiaddr } from '@multiformats/multiaddr';
import { proto_message } from '@waku/proto';
import type { Libp2p } from '@libp2p/interface';
import { messageHash } from '../../main/core/message/hash.ts';
import { shardSigningDigest } from '../../main/core/message/protected-shards.ts';
import { storeQuery } from '../../main/core/store/client.ts';
import { inMesh, seedHistory, startKeeper, tempDataDir } from '../helpers/keeper.ts';
import type { TestKeeper } from '../helpers/keeper.ts';
import { archiveMessage, hex, TEST_PUBSUB } from '../helpers/messages.ts';
import { startStoreClient } from '../helpers/store-client.ts';
import { servedHashes } from '../helpers/store-node.ts';
import { dial, startWakuClient } from '../helpers/waku-client.ts';
import type { WakuClient } from '../helpers/waku-client.ts';
import { waitFor } from '../helpers/wait.ts';

const MS = 1_000_000n;
const FAST = { heartbeatMs: 200, settleMs: 1000 };

interface Sent {
  hash: string;
  bytes: Uint8Array;
}

/** Publishes a WakuMessage through the client's relay and returns its hash. */
async function publish(client: WakuClient, pubsubTopic: string, m: Partial<proto_message.WakuMessage> & { contentTopic: string; payload: Uint8Array }): Promise<Sent> {
  const msg = { timestamp: BigInt(Date.now()) * MS, version: 0, ...m };
  const bytes = proto_message.WakuMessage.encode(msg);
  await client.relay.publish(pubsubTopic, bytes);
  return { hash: hex(messageHash(pubsubTopic, msg)), bytes };
}

describe('the network as it runs', () => {
  const live: TestKeeper[] = [];
  const clients: WakuClient[] = [];
  let bystander: Libp2p;
  after(async () => {
    for (const c of clients) await c.stop();
    await bystander?.stop();
    for (const k of live) await k.dispose();
  });
  const keeper = async (o: Parameters<typeof startKeeper>[0] = {}, dir?: string): Promise<TestKeeper> => {
    const k = await startKeeper({ ...FAST, ...o }, dir);
    live.push(k);
    return k;
  };
  const client = async (pubsubTopics: string[], clusterId = 16): Promise<WakuClient> => {
    const c = await startWakuClient({ pubsubTopics, clusterId });
    clients.push(c);
    return c;
  };

  it('relays and stores a 900 KiB message on cluster 16, as the Status fleet does, and serves it', async () => {
    bystander = await startStoreClient();
    const a = await keeper();
    const b = await keeper({ peers: [a.tcpAddr] });
    const c = await client([TEST_PUBSUB]);
    await dial(c, a.tcpAddr);
    await waitFor('A to have B in its mesh and the client to see A', async () => (await inMesh(a, b.peerId)) && c.relay.getSubscribers(TEST_PUBSUB).length > 0);
    const big = await publish(c, TEST_PUBSUB, { contentTopic: '/status/1/image/proto', payload: new Uint8Array(900 * 1024).fill(7) });
    for (const k of [a, b]) await waitFor('the image in both archives', async () => (await servedHashes(bystander, multiaddr(k.tcpAddr), TEST_PUBSUB)).includes(big.hash));
    const res = await storeQuery(bystander, multiaddr(b.tcpAddr), { pubsubTopic: TEST_PUBSUB, includeData: true }, { maxMessageBytes: 1024 * 1024 });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.messages[0]?.message?.payload, new Uint8Array(900 * 1024).fill(7), 'served whole');
  });

  it('refuses the same message on another cluster, whose cap is 150 KiB, and counts it', async () => {
    const topic = '/waku/2/rs/1/0';
    const k = await keeper({ clusterId: 1, pubsubTopics: [topic] });
    const c = await client([topic], 1);
    await dial(c, k.tcpAddr);
    await waitFor('the client to see the Keeper', () => c.relay.getSubscribers(topic).length > 0);
    await publish(c, topic, { contentTopic: '/app/1/image/proto', payload: new Uint8Array(900 * 1024) });
    const small = await publish(c, topic, { contentTopic: '/app/1/chat/proto', payload: new Uint8Array(100 * 1024) });
    await waitFor('the large one refused', async () => (await k.status()).ingest.rejected['too-large'] === 1);
    const s = await k.status();
    assert.equal(s.archive.messages, 1);
    assert.deepEqual(await servedHashes(bystander, multiaddr(k.tcpAddr), topic), [small.hash]);
  });

  it('relays, stores and serves content topics of any form, as nwaku does', async () => {
    const k = await keeper();
    const c = await client([TEST_PUBSUB]);
    await dial(c, k.tcpAddr);
    await waitFor('the client to see the Keeper', () => c.relay.getSubscribers(TEST_PUBSUB).length > 0);
    const topics = ['my app / chat room', 'x'.repeat(10_000), 'no-slashes'];
    const sent: Sent[] = [];
    for (const contentTopic of topics) sent.push(await publish(c, TEST_PUBSUB, { contentTopic, payload: Buffer.from(contentTopic.slice(0, 20)) }));
    await waitFor('all three stored', async () => (await k.status()).archive.messages === 3);
    for (const [i, contentTopic] of topics.entries()) {
      const res = await storeQuery(bystander, multiaddr(k.tcpAddr), { pubsubTopic: TEST_PUBSUB, contentTopics: [contentTopic], includeData: false });
      assert.equal(res.statusCode, 200, res.statusDesc);
      assert.deepEqual(res.messages.map((m) => hex(m.messageHash ?? new Uint8Array())), [sent[i]?.hash], `found by ${contentTopic.slice(0, 20)}`);
    }
  });

  it('takes on a protected shard only what the shard\'s key signed, relaying nothing else', async () => {
    const shard = '/waku/2/rs/16/128';
    const priv = secp256k1.utils.randomPrivateKey();
    const key = `128:${Buffer.from(secp256k1.getPublicKey(priv, false)).toString('hex')}`;
    const a = await keeper({ pubsubTopics: [shard], protectedShards: [key] });
    const b = await keeper({ pubsubTopics: [shard], protectedShards: [key], peers: [a.tcpAddr] });
    const c = await client([shard]);
    await dial(c, a.tcpAddr);
    await waitFor('A to have B in its mesh and the client to see A', async () => (await inMesh(a, b.peerId, shard)) && c.relay.getSubscribers(shard).length > 0);
    const signed = (m: { contentTopic: string; payload: Uint8Array; timestamp: bigint }, signer = priv): Uint8Array =>
      secp256k1.sign(shardSigningDigest(shard, { ...m, ephemeral: false }), signer, { prehash: false, lowS: true }).toCompactRawBytes();
    const now = BigInt(Date.now()) * MS;
    const base = { contentTopic: '/status/1/control/proto', payload: Buffer.from('community control'), timestamp: now };
    const good = await publish(c, shard, { ...base, meta: signed(base) });
    const other = { ...base, payload: Buffer.from('a stranger'), timestamp: now + 1n };
    await publish(c, shard, { ...other, meta: signed(other, secp256k1.utils.randomPrivateKey()) });
    await publish(c, shard, { ...base, payload: Buffer.from('unsigned'), timestamp: now + 2n });
    const old = { ...base, payload: Buffer.from('old'), timestamp: now - 6n * 60_000n * MS };
    await publish(c, shard, { ...old, meta: signed(old) });
    await waitFor('the refusals counted at A', async () => {
      const r = (await a.status()).ingest.rejected;
      return r['bad-signature'] === 1 && r.unsigned === 1 && r['signature-expired'] === 1;
    });
    await waitFor('the good one at B', async () => (await b.status()).archive.messages === 1);
    for (const k of [a, b]) assert.deepEqual(await servedHashes(bystander, multiaddr(k.tcpAddr), shard), [good.hash]);
    assert.deepEqual((await b.status()).ingest.rejected, {}, 'B never saw the bad ones: A did not relay them');
  });

  it('counts a store peer complete whatever large messages its window holds', async () => {
    const now = Date.now();
    const held = [
      archiveMessage({ timestamp: BigInt(now - 3_600_000) * MS, payload: new Uint8Array(900 * 1024).fill(1) }),
      ...Array.from({ length: 5 }, (_, i) => archiveMessage({ timestamp: BigInt(now - 3_000_000 + i * 1000) * MS })),
    ];
    const aDir = tempDataDir();
    seedHistory(aDir, held);
    const a = await keeper({}, aDir);
    const b = await keeper({ storePeers: [a.tcpAddr], fillQuorum: 1 });
    await waitFor('B to fill', async () => (await b.status()).archive.messages === held.length, { timeoutMs: 30_000 });
    const s = await b.status();
    const peer = s.history.storePeers.find((p) => p.peerId === a.peerId);
    assert.equal(peer?.failures, 0);
    assert.equal(peer?.rejected, 0);
    const at = now - 3_600_000;
    assert.ok(s.history.topics[0]?.filled.some((f) => f.verified && f.startMs <= at && f.endMs > at), 'the window holding the image is verified');
  });
});
