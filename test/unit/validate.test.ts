import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { secp256k1 } from '@noble/curves/secp256k1';
import { DEFAULT_MAX_MESSAGE_BYTES, MAX_CLOCK_SKEW_NS, validateMessage } from '../../main/core/message/validate.ts';
import type { MessageRules, ValidatableMessage } from '../../main/core/message/validate.ts';
import { decodeForArchive, RELAYED_NOT_KEPT } from '../../main/core/message/decode.ts';
import { checkShardSignature, parseProtectedShard, shardSigningDigest, SIGNED_MESSAGE_WINDOW_NS } from '../../main/core/message/protected-shards.ts';
import { isValidContentTopic, isValidPubsubTopic, parseContentTopic, parseShardTopic } from '../../main/core/message/topics.ts';
import { messageRulesOf, defaultConfig } from '../../main/core/settings/config.ts';
import { wakuMessageBytes } from '../helpers/messages.ts';

const NOW = 1_760_000_000_000_000_000n;
const TOPIC = '/waku/2/rs/16/32';
const ok: ValidatableMessage = {
  payload: new Uint8Array(100),
  contentTopic: '/waku/1/0x12345678/rfc26',
  timestamp: NOW,
};
const rules150: MessageRules = { maxMessageBytes: DEFAULT_MAX_MESSAGE_BYTES, protectedShards: new Map() };

describe('message validation', () => {
  const cases: { name: string; topic?: string; msg: Partial<ValidatableMessage>; relay?: boolean; want?: string }[] = [
    { name: 'a well-formed message passes', msg: {} },
    { name: 'malformed pubsub topic', topic: '/waku/2/rs/16/', msg: {}, want: 'bad-pubsub-topic' },
    { name: 'pubsub topic outside /waku/2', topic: 'foo', msg: {}, want: 'bad-pubsub-topic' },
    // Content topics are free strings to nwaku: its relay and archive take these.
    { name: 'content topic with three parts', msg: { contentTopic: '/a/1/b' } },
    { name: 'content topic with spaces', msg: { contentTopic: 'my app / chat room' } },
    { name: 'content topic of 10 000 characters', msg: { contentTopic: 'x'.repeat(10_000) } },
    { name: 'no content topic', msg: { contentTopic: '' }, want: 'bad-content-topic' },
    { name: 'meta of 64 bytes', msg: { meta: new Uint8Array(64) } },
    { name: 'meta of 65 bytes', msg: { meta: new Uint8Array(65) }, want: 'meta-too-large' },
    { name: 'an encoded message of 150 KiB', msg: { payload: new Uint8Array(DEFAULT_MAX_MESSAGE_BYTES - 60) } },
    { name: 'an encoded message over 150 KiB', msg: { payload: new Uint8Array(DEFAULT_MAX_MESSAGE_BYTES) }, want: 'too-large' },
    { name: 'no timestamp', msg: { timestamp: undefined }, want: 'no-timestamp' },
    { name: 'zero timestamp', msg: { timestamp: 0n }, want: 'no-timestamp' },
    { name: 'relay: 20 s in the future', msg: { timestamp: NOW + MAX_CLOCK_SKEW_NS }, relay: true },
    { name: 'relay: over 20 s in the future', msg: { timestamp: NOW + MAX_CLOCK_SKEW_NS + 1n }, relay: true, want: 'clock-skew' },
    { name: 'relay: over 20 s in the past', msg: { timestamp: NOW - MAX_CLOCK_SKEW_NS - 1n }, relay: true, want: 'clock-skew' },
    { name: 'history: an old timestamp is fine', msg: { timestamp: NOW - 10n ** 15n } },
    { name: 'ephemeral messages are not stored', msg: { ephemeral: true }, want: 'ephemeral' },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const got = validateMessage(c.topic ?? TOPIC, { ...ok, ...c.msg }, rules150, c.relay ? { nowNs: NOW } : {});
      assert.equal(got, c.want);
    });
  }

  it('takes the size of the encoded message: 900 KiB passes the Status cap of 1 MiB, not the default 150 KiB', () => {
    const big = wakuMessageBytes({ timestamp: NOW, payload: new Uint8Array(900 * 1024) });
    const status = messageRulesOf(defaultConfig());
    const other = messageRulesOf(defaultConfig({ clusterId: 1, pubsubTopics: ['/waku/2/rs/1/0'] }));
    assert.equal(status.maxMessageBytes, 1024 * 1024);
    assert.equal(other.maxMessageBytes, 150 * 1024);
    assert.ok(decodeForArchive(TOPIC, big, status).ok);
    assert.deepEqual(decodeForArchive('/waku/2/rs/1/0', big, other), { ok: false, reason: 'too-large' });
    assert.equal(messageRulesOf(defaultConfig({ maxMessageBytes: 2048 })).maxMessageBytes, 2048, 'the flag wins');
  });

  it('relays on, without keeping, what nwaku relays but does not archive', () => {
    assert.deepEqual([...RELAYED_NOT_KEPT].sort(), ['bad-content-topic', 'clock-skew', 'ephemeral', 'no-timestamp']);
  });

  it('decodeForArchive refuses bytes that are not a WakuMessage', () => {
    assert.deepEqual(decodeForArchive(TOPIC, new Uint8Array([0xff, 0xff, 0xff])), { ok: false, reason: 'undecodable' });
  });

  it('decodeForArchive keeps the bytes as received and hashes them', () => {
    const bytes = wakuMessageBytes({ timestamp: NOW, contentTopic: ok.contentTopic });
    const d = decodeForArchive(TOPIC, bytes, rules150, NOW);
    assert.ok(d.ok);
    assert.equal(d.message.message, bytes);
    assert.equal(d.message.timestamp, NOW);
    assert.equal(d.message.hash.length, 32);
  });
});

describe('protected shards', () => {
  const priv = secp256k1.utils.randomPrivateKey();
  const pub = secp256k1.getPublicKey(priv, false);
  const SHARD = '/waku/2/rs/16/128';
  const sign = (m: ValidatableMessage, topic = SHARD): Uint8Array => secp256k1.sign(shardSigningDigest(topic, m), priv, { prehash: false, lowS: true }).toCompactRawBytes();

  it('signs what nwaku signs: topic, payload, content topic, timestamp little-endian, the ephemeral flag; not meta', () => {
    const m = { payload: Uint8Array.from([1, 2, 3]), contentTopic: '/c', timestamp: 0x0102030405060708n, ephemeral: false };
    const expected = Buffer.concat([Buffer.from(SHARD), Buffer.from([1, 2, 3]), Buffer.from('/c'), Buffer.from([8, 7, 6, 5, 4, 3, 2, 1]), Buffer.from([0])]);
    const digest = Buffer.from(shardSigningDigest(SHARD, m)).toString('hex');
    assert.equal(digest, createHash('sha256').update(expected).digest('hex'));
    assert.notEqual(Buffer.from(shardSigningDigest(SHARD, { ...m, ephemeral: true })).toString('hex'), digest);
    assert.equal(Buffer.from(shardSigningDigest(SHARD, { ...m, meta: Uint8Array.from([9]) } as ValidatableMessage)).toString('hex'), digest);
  });

  it('accepts a good signature, refuses a missing, wrong or stale one, and one for another topic', () => {
    const m = { ...ok, timestamp: NOW };
    const good = { ...m, meta: sign(m) };
    assert.equal(checkShardSignature(SHARD, good, pub, NOW), undefined);
    assert.equal(checkShardSignature(SHARD, m, pub, NOW), 'unsigned');
    assert.equal(checkShardSignature(SHARD, { ...m, meta: new Uint8Array(64) }, pub, NOW), 'bad-signature');
    assert.equal(checkShardSignature(SHARD, { ...m, meta: sign(m, '/waku/2/rs/16/1') }, pub, NOW), 'bad-signature');
    assert.equal(checkShardSignature(SHARD, { ...good, payload: new Uint8Array(101) }, pub, NOW), 'bad-signature');
    assert.equal(checkShardSignature(SHARD, good, pub, NOW + SIGNED_MESSAGE_WINDOW_NS), 'signature-expired');
    assert.equal(checkShardSignature(SHARD, good, pub, NOW - SIGNED_MESSAGE_WINDOW_NS + 1n), undefined);
    // History has no window: an old signed message is still good.
    assert.equal(checkShardSignature(SHARD, good, pub), undefined);
    // The compressed form of the key verifies the same.
    assert.equal(checkShardSignature(SHARD, good, secp256k1.getPublicKey(priv, true), NOW), undefined);
  });

  it('refuses a high-S signature, as libsecp256k1 does', () => {
    const m = { ...ok, timestamp: NOW };
    const sig = secp256k1.sign(shardSigningDigest(SHARD, m), priv, { prehash: false, lowS: true });
    const high = new secp256k1.Signature(sig.r, secp256k1.CURVE.n - sig.s).toCompactRawBytes();
    assert.equal(checkShardSignature(SHARD, { ...m, meta: high }, pub, NOW), 'bad-signature');
  });

  it('applies only on protected topics, and takes the Status fleet\'s three keys by default on cluster 16', () => {
    const rules = messageRulesOf(defaultConfig());
    assert.deepEqual([...rules.protectedShards.keys()].sort(), ['/waku/2/rs/16/1', '/waku/2/rs/16/128', '/waku/2/rs/16/256']);
    assert.equal(validateMessage(TOPIC, ok, rules), undefined, 'shard 32 is not protected');
    assert.equal(validateMessage('/waku/2/rs/16/256', ok, rules), 'unsigned');
    const mine = messageRulesOf(defaultConfig({ protectedShards: [`128:${Buffer.from(pub).toString('hex')}`] }));
    assert.equal(validateMessage(SHARD, { ...ok, meta: sign(ok) }, mine, { nowNs: NOW }), undefined);
    assert.equal(mine.protectedShards.has('/waku/2/rs/16/256'), false, 'the flag replaces the defaults');
  });

  it('parses SHARD:PUBKEY and names what is wrong', () => {
    assert.equal(parseProtectedShard(`7:${Buffer.from(pub).toString('hex')}`).shard, 7);
    assert.throws(() => parseProtectedShard('7'), /SHARD:PUBKEY/);
    assert.throws(() => parseProtectedShard('2000:04aa'), /out of range/);
    assert.throws(() => parseProtectedShard('7:04aabb'), /not a secp256k1 public key/);
  });
});

describe('topics', () => {
  it('parses static shard topics', () => {
    assert.deepEqual(parseShardTopic('/waku/2/rs/16/256'), { clusterId: 16, shard: 256 });
    assert.equal(parseShardTopic('/waku/2/rs/16/x'), undefined);
    assert.equal(parseShardTopic('/waku/2/rs/16/2000'), undefined);
  });
  it('accepts named and sharded pubsub topics', () => {
    assert.ok(isValidPubsubTopic('/waku/2/default-waku/proto'));
    assert.ok(isValidPubsubTopic('/waku/2/rs/1/0'));
    assert.ok(!isValidPubsubTopic('/waku/2/'));
    assert.ok(!isValidPubsubTopic('/waku/2/rs/a/b'));
  });
  it('takes any non-empty content topic, and parses the structured ones autosharding needs', () => {
    assert.ok(isValidContentTopic('/waku/1/0x2b0fb4ba/rfc26'));
    assert.ok(isValidContentTopic('waku/1/0x2b0fb4ba/rfc26'));
    assert.ok(!isValidContentTopic(''));
    assert.deepEqual(parseContentTopic('/waku/1/0x2b0fb4ba/rfc26'), { generation: 0, application: 'waku', version: '1', name: '0x2b0fb4ba', encoding: 'rfc26' });
    assert.deepEqual(parseContentTopic('/0/toychat/2/huilong/proto'), { generation: 0, application: 'toychat', version: '2', name: 'huilong', encoding: 'proto' });
    assert.equal(parseContentTopic('/a/1/b'), undefined);
    assert.equal(parseContentTopic('/x/a/1/b/proto'), undefined);
    assert.equal(parseContentTopic('my app / chat room'), undefined);
  });
});
