/** The one-pass Store v3 answer decoder against protons, on well-formed and mutated answers. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { proto_message, proto_store } from '@waku/proto';
import { decodeResponse, decodeResponseRaw } from '../../main/core/store/codec.ts';

describe('Store v3 answer decoder, messages as bytes', () => {
  let seed = 7;
  const rand = (n: number): number => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) % n);
  const bytes = (n: number): Uint8Array => Uint8Array.from({ length: n }, () => rand(256));
  const answer = (): Uint8Array =>
    proto_store.StoreQueryResponse.encode({
      requestId: `req-${rand(1000)}`,
      statusCode: rand(4) === 0 ? undefined : [200, 300, 400, 429, 503][rand(5)],
      statusDesc: rand(3) === 0 ? undefined : 'OK ✓',
      messages: Array.from({ length: rand(20) }, () => ({
        messageHash: bytes(32),
        message:
          rand(3) === 0
            ? undefined
            : { payload: bytes(rand(200)), contentTopic: `/app/1/t${rand(5)}/proto`, timestamp: BigInt(rand(2 ** 31)) * 1000n, version: 0 },
        pubsubTopic: rand(2) === 0 ? undefined : '/waku/2/rs/16/32',
      })),
      paginationCursor: rand(2) === 0 ? undefined : bytes(32),
    });

  it('agrees with protons field by field, and keeps each message as the bytes protons would encode', () => {
    for (let i = 0; i < 1000; i++) {
      const encoded = answer();
      const ours = decodeResponseRaw(encoded);
      const theirs = decodeResponse(encoded);
      assert.equal(ours.requestId, theirs.requestId);
      assert.equal(ours.statusCode, theirs.statusCode);
      assert.equal(ours.statusDesc, theirs.statusDesc);
      assert.deepEqual(ours.paginationCursor && Buffer.from(ours.paginationCursor), theirs.paginationCursor && Buffer.from(theirs.paginationCursor));
      assert.equal(ours.messages.length, theirs.messages.length);
      ours.messages.forEach((m, j) => {
        const t = theirs.messages[j]!;
        assert.deepEqual(Buffer.from(m.messageHash!), Buffer.from(t.messageHash!));
        assert.equal(m.pubsubTopic, t.pubsubTopic);
        if (t.message === undefined) assert.equal(m.message, undefined);
        else assert.deepEqual(Buffer.from(m.message!), Buffer.from(proto_message.WakuMessage.encode(t.message)));
      });
    }
  });

  it('refuses what protons refuses on truncated input', () => {
    let refused = 0;
    for (let i = 0; i < 500; i++) {
      const encoded = answer();
      if (encoded.length < 3) continue;
      const cut = encoded.subarray(0, 1 + rand(encoded.length - 1));
      let theirs = true;
      let ours = true;
      try {
        decodeResponse(cut);
      } catch {
        theirs = false;
      }
      try {
        decodeResponseRaw(cut);
      } catch {
        ours = false;
      }
      // A cut inside a message protons decodes lazily may pass there: ours must never accept what protons refuses.
      if (!theirs) assert.equal(ours, false, 'refused by protons, accepted here');
      if (!ours) refused++;
    }
    assert.ok(refused > 100, `only ${refused} cut answers refused`);
  });
});
