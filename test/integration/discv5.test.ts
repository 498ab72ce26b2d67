/**
 * discv5 on loopback UDP: two Keepers and a plain discv5 node (ChainSafe's,
 * as any Ethereum or Waku node runs it) find each other's records. The ENR
 * the plain node learns decodes to the Keeper's own TCP address, relay and
 * store bits and shards; each Keeper dials the other it found, and the other
 * becomes a discovered store peer through identify, as any connected peer.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Discv5 } from '@chainsafe/discv5';
import { SignableENR } from '@chainsafe/enr';
import { generateKeyPair } from '@libp2p/crypto/keys';
import { multiaddr } from '@multiformats/multiaddr';
import { createSocket } from 'node:dgram';
import { decodeEnr } from '../../main/core/discovery/enr.ts';
import { ConfigError } from '../../main/core/util/errors.ts';
import { startKeeper } from '../helpers/keeper.ts';
import type { TestKeeper } from '../helpers/keeper.ts';
import { TEST_PUBSUB } from '../helpers/messages.ts';
import { waitFor } from '../helpers/wait.ts';

async function freeUdpPort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createSocket('udp4');
    s.bind(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

describe('discv5 on loopback', () => {
  let plain: Discv5;
  let plainEnr: string;
  let a: TestKeeper;
  let b: TestKeeper;

  before(async () => {
    const key = await generateKeyPair('secp256k1');
    const port = await freeUdpPort();
    const enr = SignableENR.createFromPrivateKey(key);
    enr.ip = '127.0.0.1';
    enr.udp = port;
    plain = Discv5.create({ enr, privateKey: key, bindAddrs: { ip4: multiaddr(`/ip4/127.0.0.1/udp/${port}`) }, config: { enrUpdate: false } });
    await plain.start();
    plainEnr = enr.encodeTxt();
    const fast = { discv5Bootstrap: [plainEnr], discv5UdpPort: 0, discv5LookupIntervalMs: 300 };
    a = await startKeeper(fast);
    b = await startKeeper(fast);
  });

  after(async () => {
    await a?.dispose();
    await b?.dispose();
    await plain?.stop();
  });

  it('the plain discv5 node learns both Keepers, and their ENRs say how to reach them and what they serve', async () => {
    const ids = [a.peerId, b.peerId];
    await waitFor(
      'both Keepers in the plain node’s table',
      async () => {
        await Promise.race([plain.findRandomNode().catch(() => []), new Promise((r) => setTimeout(r, 500))]);
        const known = plain.kadValues().map((e) => e.peerId.toString());
        return ids.every((id) => known.includes(id));
      },
      { timeoutMs: 20_000, intervalMs: 300 },
    );
    for (const k of [a, b]) {
      const entry = plain.kadValues().find((e) => e.peerId.toString() === k.peerId);
      assert.ok(entry);
      const d = decodeEnr(entry.encodeTxt());
      assert.ok(d.multiaddrs.includes(k.tcpAddr), `${d.multiaddrs.join(' ')} names ${k.tcpAddr}`);
      assert.deepEqual(d.capabilities, { relay: true, store: true, filter: false, lightPush: false, sync: false });
      assert.deepEqual(d.shards, { clusterId: 16, shards: [32] });
      const s = await k.status();
      assert.equal(d.udp, s.reach.discv5.udpPort);
      assert.equal(decodeEnr(s.share.enr).peerId, k.peerId);
      assert.ok(d.seq <= decodeEnr(s.share.enr).seq);
    }
  });

  it('each Keeper finds the other by discv5, dials it, and takes it as a discovered store peer', async () => {
    for (const [k, other] of [
      [a, b],
      [b, a],
    ] as const) {
      await waitFor(
        `${k.peerId.slice(-6)} to find and keep ${other.peerId.slice(-6)} as a store peer`,
        async () => {
          const s = await k.status();
          return s.reach.discv5.storeNodes >= 1 && s.history.storePeers.some((p) => p.peerId === other.peerId && p.source === 'discovered');
        },
        { timeoutMs: 25_000, intervalMs: 300 },
      );
      const s = await k.status();
      assert.ok(s.peers.some((p) => p.peerId === other.peerId && p.store), 'connected, with Store v3 in identify');
      assert.ok(s.reach.discv5.tableSize >= 2, 'the plain node and the other Keeper');
    }
    assert.ok((await a.status()).pubsubTopics.includes(TEST_PUBSUB));
  });

  it('a --discv5-udp-port in use is refused at start, naming the flag', async () => {
    const taken = createSocket('udp4');
    await new Promise<void>((r) => taken.bind(0, '127.0.0.1', () => r()));
    try {
      await assert.rejects(startKeeper({ discv5Bootstrap: [plainEnr], discv5UdpPort: taken.address().port }), (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        assert.equal(err.field, '--discv5-udp-port');
        assert.match(err.message, /in use/);
        return true;
      });
    } finally {
      taken.close();
    }
  });
});
