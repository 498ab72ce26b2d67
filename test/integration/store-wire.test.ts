/**
 * Store v3 on the wire between real nodes: Keeper's own client against a
 * Keeper, and frames no honest client sends.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { multiaddr } from '@multiformats/multiaddr';
import { lpStream } from 'it-length-prefixed-stream';
import { decodeResponse, STORE_CODEC } from '../../main/core/store/codec.ts';
import { storeQuery } from '../../main/core/store/client.ts';
import { seedArchive, startKeeper, tempDataDir } from '../helpers/keeper.ts';
import type { TestKeeper } from '../helpers/keeper.ts';
import { startStoreClient } from '../helpers/store-client.ts';
import type { Libp2p } from '@libp2p/interface';
import { hex, series, TEST_PUBSUB } from '../helpers/messages.ts';

const T0 = BigInt(Date.now() - 3_600_000) * 1_000_000n;
const seeded = series(250, T0);

describe('Store v3 on the wire', () => {
  let server: TestKeeper;
  let client: Libp2p;

  before(async () => {
    const dir = tempDataDir();
    seedArchive(dir, seeded);
    server = await startKeeper({}, dir);
    client = await startStoreClient();
  });
  after(async () => {
    await client?.stop();
    await server?.dispose();
  });

  it('pages through the whole archive with its own client, following cursors', async () => {
    const got: string[] = [];
    let cursor: Uint8Array | undefined;
    for (let i = 0; i < 10; i++) {
      const res = await storeQuery(client, multiaddr(server.tcpAddr), {
        pubsubTopic: TEST_PUBSUB,
        paginationLimit: 100n,
        paginationCursor: cursor,
      });
      assert.equal(res.statusCode, 200);
      got.push(...res.messages.map((m) => hex(m.messageHash ?? new Uint8Array())));
      cursor = res.paginationCursor;
      if (cursor === undefined) break;
    }
    assert.deepEqual(got, seeded.map((m) => hex(m.hash)));
  });

  async function rawExchange(frame: Uint8Array): Promise<ReturnType<typeof decodeResponse>> {
    const stream = await client.dialProtocol(multiaddr(server.tcpAddr), STORE_CODEC);
    const io = lpStream(stream);
    await io.unwrap().sink([frame]);
    return decodeResponse(await io.read({ signal: AbortSignal.timeout(5000) }));
  }

  it('answers a frame that claims 10 MB with 400, without waiting for the bytes', async () => {
    const res = await rawExchange(Uint8Array.from([0x80, 0xad, 0xe2, 0x04])); // varint 10,000,000
    assert.equal(res.statusCode, 400);
    assert.match(res.statusDesc ?? '', /malformed frame/);
  });

  it('answers a well-framed protobuf of nonsense with 400', async () => {
    const res = await rawExchange(Uint8Array.from([5, 0x0a, 0xff, 0xff, 0xff, 0x0f]));
    assert.equal(res.statusCode, 400);
    assert.equal(res.requestId, 'N/A');
  });

  it('still answers a valid query afterwards, and counts what it answered', async () => {
    const res = await storeQuery(client, multiaddr(server.tcpAddr), { pubsubTopic: TEST_PUBSUB, paginationLimit: 5n });
    assert.equal(res.statusCode, 200);
    assert.equal(res.messages.length, 5);
    const s = await server.status();
    assert.ok((s.store.requests['400'] ?? 0) >= 2);
    assert.ok((s.store.requests['200'] ?? 0) >= 4);
  });
});
