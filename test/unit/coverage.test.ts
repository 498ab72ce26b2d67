/**
 * The coverage protocol's pure parts: the wire format, signing, and every way
 * an answer is refused — unsigned, badly signed, signed by another peer, for
 * another question, stale, malformed stretches — and the cap that claims less,
 * never more.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPair } from '@libp2p/crypto/keys';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { AttestationRefused, capIntervals, signAttestation, verifyAttestation } from '../../main/core/coverage/attestation.ts';
import { CoverageServer } from '../../main/core/coverage/server.ts';
import {
  decodeAttestation,
  decodeCoverageRequest,
  decodeCoverageResponse,
  encodeAttestation,
  encodeCoverageRequest,
  encodeCoverageResponse,
} from '../../main/core/coverage/codec.ts';
import type { Attestation, CoverageRequest } from '../../main/core/coverage/codec.ts';

const NOW = 1_790_000_000_000;
const request: CoverageRequest = {
  requestId: 'r-1',
  pubsubTopic: '/waku/2/rs/16/32',
  contentTopics: ['/waku/1/0x0000aaaa/rfc26'],
  startMs: BigInt(NOW - 3_600_000),
  endMs: BigInt(NOW - 60_000),
};

async function signer() {
  const key = await generateKeyPair('secp256k1');
  const peerId = peerIdFromPrivateKey(key);
  const attestation = (over: Partial<Attestation> = {}): Attestation => ({
    peerId: peerId.toString(),
    requestId: request.requestId,
    pubsubTopic: request.pubsubTopic,
    contentTopics: request.contentTopics,
    startMs: request.startMs,
    endMs: request.endMs,
    held: [{ startMs: request.startMs + 1000n, endMs: request.startMs + 5000n }],
    issuedMs: BigInt(NOW),
    ...over,
  });
  const answer = async (a: Attestation) => ({ requestId: 'r-1', statusCode: 200, statusDesc: 'OK', ...(await signAttestation(key, a)) });
  return { key, peerId, attestation, answer };
}

const refusal = async (p: Promise<unknown>, reason: RegExp): Promise<void> => {
  await assert.rejects(p, (err: unknown) => err instanceof AttestationRefused && reason.test(err.reason));
};

describe('coverage protocol', () => {
  it('round-trips its messages field by field', () => {
    assert.deepEqual(decodeCoverageRequest(encodeCoverageRequest(request)), request);
    const a: Attestation = { ...request, peerId: '16Uiu2HAm', held: [{ startMs: 5n, endMs: 9n }, { startMs: 10n, endMs: 20n }], issuedMs: 77n };
    assert.deepEqual(decodeAttestation(encodeAttestation(a)), a);
    const res = { requestId: 'x', statusCode: 429, statusDesc: 'slow down', attestation: new Uint8Array([1, 2]), signature: new Uint8Array([3]) };
    assert.deepEqual(decodeCoverageResponse(encodeCoverageResponse(res)), res);
  });

  it('believes a well-signed answer to the question asked', async () => {
    const s = await signer();
    const held = await verifyAttestation(await s.answer(s.attestation()), s.peerId, request, NOW);
    assert.deepEqual(held, [{ start: NOW - 3_600_000 + 1000, end: NOW - 3_600_000 + 5000 }]);
  });

  it('refuses unsigned, badly signed, and other peers\' answers', async () => {
    const s = await signer();
    const other = await signer();
    const good = await s.answer(s.attestation());
    await refusal(verifyAttestation({ ...good, signature: new Uint8Array(0) }, s.peerId, request, NOW), /unsigned/);
    const flipped = Uint8Array.from(good.attestation);
    flipped[flipped.length - 1] = (flipped[flipped.length - 1] ?? 0) ^ 1;
    await refusal(verifyAttestation({ ...good, attestation: flipped }, s.peerId, request, NOW), /bad signature/);
    // Signed by another key, or claiming another peer's id with its own key.
    await refusal(verifyAttestation(good, other.peerId, request, NOW), /bad signature/);
    await refusal(verifyAttestation(await s.answer(s.attestation({ peerId: other.peerId.toString() })), s.peerId, request, NOW), /another peer/);
  });

  it('refuses answers to another question, stale ones, and malformed stretches', async () => {
    const s = await signer();
    const cases: [Partial<Attestation>, RegExp][] = [
      [{ requestId: 'r-2' }, /another question/],
      [{ pubsubTopic: '/waku/2/rs/16/64' }, /another question/],
      [{ endMs: request.endMs + 1n }, /another question/],
      [{ contentTopics: [] }, /other content topics/],
      [{ issuedMs: BigInt(NOW - 10 * 60_000) }, /stale/],
      [{ held: [{ startMs: request.startMs - 1n, endMs: request.startMs + 10n }] }, /outside the range/],
      [{ held: [{ startMs: request.startMs + 10n, endMs: request.startMs + 20n }, { startMs: request.startMs + 15n, endMs: request.startMs + 30n }] }, /overlapping/],
      [{ held: [{ startMs: request.startMs + 10n, endMs: request.startMs + 10n }] }, /empty/],
    ];
    for (const [over, reason] of cases) await refusal(verifyAttestation(await s.answer(s.attestation(over)), s.peerId, request, NOW), reason);
  });

  it('caps a long list by dropping the shortest stretches, so it claims less, never more', () => {
    const many = Array.from({ length: 10 }, (_, i) => ({ start: i * 100, end: i * 100 + 1 + i }));
    const capped = capIntervals(many, 3);
    assert.deepEqual(capped, [{ start: 700, end: 708 }, { start: 800, end: 809 }, { start: 900, end: 910 }]);
  });

  it('answers bad requests with 400 and a description, and signs what it holds', async () => {
    const key = await generateKeyPair('secp256k1');
    const self = peerIdFromPrivateKey(key);
    const server = new CoverageServer((_t, _c, range) => [{ start: range.start, end: range.start + 10 }], key, self.toString(), { now: () => NOW });
    const bad = decodeCoverageResponse(await server.respond('p', encodeCoverageRequest({ ...request, endMs: request.startMs })));
    assert.equal(bad.statusCode, 400);
    assert.match(bad.statusDesc, /end_ms/);
    assert.equal(decodeCoverageResponse(await server.respond('p', new Uint8Array([0xff, 0xff]))).statusCode, 400);
    const ok = decodeCoverageResponse(await server.respond('p', encodeCoverageRequest(request)));
    assert.equal(ok.statusCode, 200);
    assert.deepEqual(await verifyAttestation(ok, self, request, NOW), [{ start: NOW - 3_600_000, end: NOW - 3_600_000 + 10 }]);
  });

  it('keeps a 30-day answer small: one stretch for a Keeper always online, the 1000 cap well inside the limit', async () => {
    const key = await generateKeyPair('secp256k1');
    const self = peerIdFromPrivateKey(key);
    const month = { ...request, contentTopics: [], startMs: BigInt(NOW - 30 * 86_400_000), endMs: BigInt(NOW) };
    const sizes: number[] = [];
    for (const stretches of [1, 30, 2000]) {
      const step = (30 * 86_400_000) / stretches;
      const server = new CoverageServer(
        (_t, _c, range) => Array.from({ length: stretches }, (_, i) => ({ start: range.start + i * step, end: range.start + i * step + step / 2 })),
        key,
        self.toString(),
        { now: () => NOW },
      );
      const bytes = await server.respond('p', encodeCoverageRequest(month));
      const held = await verifyAttestation(decodeCoverageResponse(bytes), self, month, NOW);
      assert.equal(held.length, Math.min(stretches, 1000));
      sizes.push(bytes.length);
    }
    console.log(`# coverage answer for 30 days: ${sizes[0]} bytes with one stretch, ${sizes[1]} with 30 (a restart a day), ${sizes[2]} at the 1000-stretch cap`);
    assert.ok((sizes[2] ?? Infinity) < 32 * 1024);
  });
});
