import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { proto_message } from '@waku/proto';
import { decodeWakuMessage } from '../../main/core/message/wire.ts';

describe('WakuMessage wire decoder', () => {
  let seed = 99;
  const rand = (n: number): number => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) % n);
  const bytes = (n: number): Uint8Array => Uint8Array.from({ length: n }, () => rand(256));

  it('agrees with protons on well-formed messages, field by field', () => {
    for (let i = 0; i < 2000; i++) {
      const m: Partial<proto_message.WakuMessage> = {
        payload: bytes(rand(300)),
        contentTopic: `/app/${rand(9)}/topic-${'é✓'.repeat(rand(3))}/proto`,
        version: rand(3) === 0 ? undefined : rand(2 ** 31),
        timestamp: rand(4) === 0 ? undefined : BigInt(rand(2 ** 31)) * 1_000_000_000n * (rand(5) === 0 ? -1n : 1n),
        meta: rand(2) === 0 ? undefined : bytes(rand(64)),
        ephemeral: rand(3) === 0 ? undefined : rand(2) === 1,
        rateLimitProof:
          rand(5) === 0
            ? { proof: bytes(10), merkleRoot: bytes(32), epoch: bytes(8), shareX: bytes(32), shareY: bytes(32), nullifier: bytes(32), rlnIdentifier: bytes(32) }
            : undefined,
      };
      const encoded = proto_message.WakuMessage.encode(m);
      const ours = decodeWakuMessage(encoded);
      const theirs = proto_message.WakuMessage.decode(encoded);
      assert.deepEqual(Buffer.from(ours.payload), Buffer.from(theirs.payload));
      assert.equal(ours.contentTopic, theirs.contentTopic);
      assert.equal(ours.version, theirs.version);
      assert.equal(ours.timestamp, theirs.timestamp);
      assert.deepEqual(ours.meta && Buffer.from(ours.meta), theirs.meta && Buffer.from(theirs.meta));
      assert.equal(ours.ephemeral, theirs.ephemeral);
      assert.equal(ours.rateLimitProof !== undefined, theirs.rateLimitProof !== undefined);
    }
  });

  it('refuses what protons refuses on mutated and random input', () => {
    let both = 0;
    for (let i = 0; i < 5000; i++) {
      const base = proto_message.WakuMessage.encode({ payload: bytes(20), contentTopic: '/a/1/b/proto', timestamp: 123n });
      const input = rand(2) === 0 ? bytes(rand(40)) : base.map((b) => (rand(8) === 0 ? rand(256) : b));
      let theirs: Error | undefined;
      let ours: Error | undefined;
      try {
        proto_message.WakuMessage.decode(input);
      } catch (err) {
        theirs = err as Error;
      }
      try {
        decodeWakuMessage(input);
      } catch (err) {
        ours = err as Error;
      }
      // Ours may be stricter (wire types protons does not check), never more lenient.
      if (theirs !== undefined) assert.ok(ours !== undefined, `protons refused, ours accepted: ${Buffer.from(input).toString('hex')}`);
      if (ours === undefined && theirs === undefined) both++;
    }
    assert.ok(both > 100, 'some mutated inputs decode under both');
  });
});
