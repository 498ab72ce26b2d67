/**
 * Hostile Store v3 requests against a node in its own process: random and
 * mutated frames, wrong field types, lying and huge length prefixes, truncated
 * and never-finished streams, many streams at once. Each gets a status or a
 * closed stream; memory stays bounded; stalled streams time out; and a valid
 * query afterwards is answered correctly.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { noise } from '@chainsafe/libp2p-noise';
import { yamux } from '@chainsafe/libp2p-yamux';
import { mplex } from '@libp2p/mplex';
import { tcp } from '@libp2p/tcp';
import type { Libp2p } from '@libp2p/interface';
import { multiaddr } from '@multiformats/multiaddr';
import { createLibp2p } from 'libp2p';
import { rmSync } from 'node:fs';
import { decodeResponse, encodeRequest, STORE_CODEC } from '../../main/core/store/codec.ts';
import { seedArchive, tempDataDir } from '../helpers/keeper.ts';
import { startKeeperProcess } from '../helpers/keeper-process.ts';
import type { KeeperProcess } from '../helpers/keeper-process.ts';
import { hex, series, TEST_PUBSUB, TEST_CONTENT } from '../helpers/messages.ts';
import { servedHashes } from '../helpers/store-node.ts';
import { pick, report } from './scale.ts';

type Outcome = 'answered' | 'closed';

describe('hostile Store v3 requests', () => {
  const dir = tempDataDir();
  const seeded = series(500, BigInt(Date.now() - 3_600_000) * 1_000_000n);
  let keeper: KeeperProcess;
  let clients: Libp2p[] = [];
  before(async () => {
    seedArchive(dir, seeded);
    keeper = await startKeeperProcess(dir, ['--store-rate', '1000000', '--store-idle-timeout', '1s'], TEST_PUBSUB);
    // Two hostile clients (yamux and mplex) and one well-behaved one, on its own connection: the node may
    // drop a connection that misbehaves, but a client that does not must be served all along.
    clients = await Promise.all(
      // The mplex client aborts streams on purpose; its default would drop its own connection after five stray frames.
      [yamux(), mplex({ disconnectThreshold: 10_000 }), yamux()].map((muxer) =>
        createLibp2p({ transports: [tcp()], connectionEncrypters: [noise()], streamMuxers: [muxer] }),
      ),
    );
  });
  after(async () => {
    for (const c of clients) await c.stop();
    await keeper?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  let seed = 12345;
  const rand = (n: number): number => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) % n);
  const bytes = (n: number): Uint8Array => Uint8Array.from({ length: n }, () => rand(256));
  const valid = (): Uint8Array =>
    encodeRequest({ requestId: `v${rand(1e6)}`, includeData: true, pubsubTopic: TEST_PUBSUB, contentTopics: [TEST_CONTENT[rand(3)] ?? ''], paginationLimit: BigInt(rand(150)) });
  const varint = (n: number): Uint8Array => {
    const out: number[] = [];
    while (n >= 0x80) {
      out.push((n % 128) | 0x80);
      n = Math.floor(n / 128);
    }
    out.push(n);
    return Uint8Array.from(out);
  };

  /**
   * One hostile exchange: puts `raw` on the stream as it is (already framed, or
   * not), closes the write side unless told to leave the request unfinished,
   * and sees what comes back within 8 s: an answer, a closed stream, or nothing.
   */
  async function exchange(client: Libp2p, raw: Uint8Array, closeWrite = true): Promise<Outcome | 'hung'> {
    const signal = AbortSignal.timeout(8000);
    let stream;
    try {
      stream = await client.dialProtocol(multiaddr(keeper.tcpAddr), STORE_CODEC, { signal });
    } catch {
      return 'closed';
    }
    let release = (): void => undefined;
    const held = new Promise<void>((r) => (release = r));
    // Not awaited: after a reset libp2p's sink promise may never settle.
    void stream
      .sink(
        (async function* () {
          if (raw.length > 0) yield raw;
          if (!closeWrite) await held;
        })(),
      )
      .catch(() => undefined);
    const chunks: Uint8Array[] = [];
    let ended = false;
    const reading = (async () => {
      try {
        for await (const chunk of stream.source) chunks.push(chunk.subarray());
        ended = true;
      } catch {
        ended = true;
      }
    })();
    const outcome = await Promise.race([reading.then(() => 'done' as const), new Promise<'hung'>((r) => signal.addEventListener('abort', () => r('hung')))]);
    release();
    stream.abort(new Error('done'));
    if (outcome === 'hung' && !ended) return 'hung';
    const all = Buffer.concat(chunks);
    if (all.length === 0) return 'closed';
    // One length-prefixed StoreQueryResponse.
    let len = 0;
    let at = 0;
    for (let scale = 1; at < all.length; scale *= 128) {
      const b = all[at++] as number;
      len += (b & 0x7f) * scale;
      if (b < 0x80) break;
    }
    const res = decodeResponse(all.subarray(at, at + len));
    assert.ok(res.statusCode !== undefined && res.requestId.length > 0 && (res.statusDesc ?? '').length > 0, 'an answer has a status, a request id and a description');
    return 'answered';
  }

  const kinds: [string, () => Uint8Array][] = [
    ['random bytes, framed', () => { const b = bytes(1 + rand(200)); return Uint8Array.from([...varint(b.length), ...b]); }],
    ['valid request, bits flipped', () => { const b = valid(); for (let i = 0; i < 1 + rand(4); i++) b[rand(b.length)]! ^= 1 << rand(8); return Uint8Array.from([...varint(b.length), ...b]); }],
    ['field of the wrong type', () => { const b = Uint8Array.from([0x0a, 1, 0x41, 0x50 /* field 10 as varint */, 0x05, 0x68 /* field 13 as length-delimited */, 0x02, 0x01, 0x02]); return Uint8Array.from([...varint(b.length), ...b]); }],
    ['length prefix longer than the frame', () => { const b = valid(); return Uint8Array.from([...varint(b.length + 1 + rand(50)), ...b]); }],
    ['huge declared length', () => Uint8Array.from([...varint(2 ** 31 + rand(2 ** 20)), 1, 2, 3])],
    ['bad varint', () => Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01])],
    ['empty stream', () => new Uint8Array()],
    ['valid request', () => { const b = valid(); return Uint8Array.from([...varint(b.length), ...b]); }],
  ];

  it('answers or closes every hostile frame, with memory bounded', async () => {
    const frames = pick(1000, 10_000);
    const before = (await keeper.status()).process.rssBytes;
    const outcomes = new Map<string, Record<Outcome | 'hung', number>>(kinds.map(([k]) => [k, { answered: 0, closed: 0, hung: 0 }]));
    let next = 0;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: 8 }, async (_, w) => {
        for (;;) {
          const i = next++;
          if (i >= frames) return;
          const [kind, make] = kinds[i % kinds.length]!;
          const o = await exchange(kind === 'valid request' ? clients[2]! : clients[w % 2]!, make());
          outcomes.get(kind)![o]++;
        }
      }),
    );
    const ms = performance.now() - started;
    const after = (await keeper.status()).process.rssBytes;
    report(`hostile store: ${frames} frames in ${(ms / 1000).toFixed(1)} s, ${JSON.stringify(Object.fromEntries(outcomes))}; RSS ${(before / 1e6).toFixed(0)} → ${(after / 1e6).toFixed(0)} MB`);
    const valid = outcomes.get('valid request')!;
    assert.equal(valid.closed, 0, 'every valid request is answered');
    for (const [kind, o] of outcomes) assert.equal(o.hung, 0, `${kind}: every frame is answered or closed, none left hanging`);
    assert.ok(outcomes.get('huge declared length')!.answered > 0, 'a huge declared length gets a 400');
    assert.ok(after - before < 150e6, `memory grew by ${((after - before) / 1e6).toFixed(0)} MB`);
  });

  it('closes streams that never finish their request, after the idle timeout', async () => {
    const b = valid();
    const partial = Uint8Array.from([...varint(b.length), ...b.subarray(0, 3)]);
    const started = performance.now();
    const outcomes = await Promise.all(Array.from({ length: 20 }, (_, i) => exchange(clients[i % 2]!, partial, false)));
    const ms = performance.now() - started;
    assert.ok(outcomes.every((o) => o === 'closed'), `the node closed them: ${outcomes.join(', ')}`);
    assert.ok(ms < 5000, `stalled streams were let go after ${ms.toFixed(0)} ms (idle timeout 1 s)`);
  });

  it('survives many streams at once', async () => {
    const b = valid();
    const framed = Uint8Array.from([...varint(b.length), ...b]);
    const outcomes = await Promise.all(Array.from({ length: 200 }, (_, i) => exchange(clients[i % 2]!, framed)));
    assert.ok(outcomes.filter((o) => o === 'answered').length >= 32, 'at least the allowed streams are answered');
    assert.equal(outcomes.filter((o) => o === 'hung').length, 0, 'the rest are refused, not left hanging');
  });

  it('then answers a valid query correctly', async () => {
    assert.deepEqual(await servedHashes(clients[0]!, multiaddr(keeper.tcpAddr), TEST_PUBSUB), seeded.map((m) => hex(m.hash)));
  });
});
