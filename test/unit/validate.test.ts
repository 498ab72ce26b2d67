import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_CLOCK_SKEW_NS, MAX_MESSAGE_BYTES, validateMessage } from '../../main/core/message/validate.ts';
import type { ValidatableMessage } from '../../main/core/message/validate.ts';
import { decodeForArchive } from '../../main/core/message/decode.ts';
import { isValidContentTopic, isValidPubsubTopic, parseShardTopic } from '../../main/core/message/topics.ts';
import { wakuMessageBytes } from '../helpers/messages.ts';

const NOW = 1_760_000_000_000_000_000n;
const TOPIC = '/waku/2/rs/16/32';
const ok: ValidatableMessage = {
  payload: new Uint8Array(100),
  contentTopic: '/waku/1/0x12345678/rfc26',
  timestamp: NOW,
};

describe('message validation', () => {
  const cases: { name: string; topic?: string; msg: Partial<ValidatableMessage>; relay?: boolean; want?: string }[] = [
    { name: 'a well-formed message passes', msg: {} },
    { name: 'malformed pubsub topic', topic: '/waku/2/rs/16/', msg: {}, want: 'bad-pubsub-topic' },
    { name: 'pubsub topic outside /waku/2', topic: 'foo', msg: {}, want: 'bad-pubsub-topic' },
    { name: 'content topic with three parts', msg: { contentTopic: '/a/1/b' }, want: 'bad-content-topic' },
    { name: 'content topic with an empty part', msg: { contentTopic: '/a//b/proto' }, want: 'bad-content-topic' },
    { name: 'content topic with a generation prefix', msg: { contentTopic: '/0/a/1/b/proto' } },
    { name: 'meta of 64 bytes', msg: { meta: new Uint8Array(64) } },
    { name: 'meta of 65 bytes', msg: { meta: new Uint8Array(65) }, want: 'meta-too-large' },
    { name: 'payload + meta at 150 KiB', msg: { payload: new Uint8Array(MAX_MESSAGE_BYTES - 10), meta: new Uint8Array(10) } },
    {
      name: 'payload + meta over 150 KiB',
      msg: { payload: new Uint8Array(MAX_MESSAGE_BYTES - 9), meta: new Uint8Array(10) },
      want: 'too-large',
    },
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
      const got = validateMessage(c.topic ?? TOPIC, { ...ok, ...c.msg }, c.relay ? { nowNs: NOW } : {});
      assert.equal(got, c.want);
    });
  }

  it('decodeForArchive refuses bytes that are not a WakuMessage', () => {
    assert.deepEqual(decodeForArchive(TOPIC, new Uint8Array([0xff, 0xff, 0xff])), { ok: false, reason: 'undecodable' });
  });

  it('decodeForArchive keeps the bytes as received and hashes them', () => {
    const bytes = wakuMessageBytes({ timestamp: NOW, contentTopic: ok.contentTopic });
    const d = decodeForArchive(TOPIC, bytes, { nowNs: NOW });
    assert.ok(d.ok);
    assert.equal(d.message.message, bytes);
    assert.equal(d.message.timestamp, NOW);
    assert.equal(d.message.hash.length, 32);
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
  it('accepts Status content topics', () => {
    assert.ok(isValidContentTopic('/waku/1/0x2b0fb4ba/rfc26'));
    assert.ok(!isValidContentTopic('waku/1/0x2b0fb4ba/rfc26'));
  });
});
