import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { messageHash as wakuMessageHash } from '@waku/message-hash';
import { messageHash as coreMessageHash } from '@waku/core';
import { fromHex, messageHash, toHex } from '../../main/core/message/hash.ts';

// DESIGN §3, from 14/WAKU2-MESSAGE.
const pubsubTopic = '/waku/2/default-waku/proto';
const base = {
  payload: fromHex('010203045445535405060708'),
  contentTopic: '/waku/2/default-content/proto',
  timestamp: 0x175789bfa23f8400n,
};
const meta = fromHex('73757065722d736563726574');
const vectors = [
  {
    name: 'with meta',
    msg: { ...base, meta },
    hash: '64cce733fed134e83da02b02c6f689814872b1a0ac97ea56b76095c3c72bfe05',
  },
  { name: 'meta absent', msg: { ...base }, hash: 'a2554498b31f5bcdfcbf7fa58ad1c2d45f0254f3f8110a85588ec3cf10720fd8' },
  {
    name: 'meta, empty payload',
    msg: { ...base, meta, payload: new Uint8Array() },
    hash: '483ea950cb63f9b9d6926b262bb36194d3f40a0463ce8446228350bd44e96de4',
  },
];

describe('message hash (14/WAKU2-MESSAGE test vectors)', () => {
  for (const v of vectors) {
    it(`Keeper's hash matches the vector: ${v.name}`, () => {
      assert.equal(toHex(messageHash(pubsubTopic, v.msg)), v.hash);
    });
    it(`@waku/message-hash matches the vector: ${v.name}`, () => {
      const msg = { meta: undefined, ...v.msg, version: 0, rateLimitProof: undefined, ephemeral: false };
      assert.equal(toHex(wakuMessageHash(pubsubTopic, msg)), v.hash);
      assert.equal(toHex(coreMessageHash(pubsubTopic, msg)), v.hash);
    });
  }

  it('an empty meta hashes like an absent one', () => {
    assert.equal(toHex(messageHash(pubsubTopic, { ...base, meta: new Uint8Array() })), vectors[1]?.hash);
  });

  it('the pubsub topic is part of the hash', () => {
    assert.notEqual(toHex(messageHash('/waku/2/rs/16/32', base)), vectors[1]?.hash);
  });

  it('hex round trip refuses non-hex input', () => {
    assert.deepEqual(fromHex('0x0aff'), new Uint8Array([10, 255]));
    assert.throws(() => fromHex('xyz'), /not a hex string/);
  });
});
