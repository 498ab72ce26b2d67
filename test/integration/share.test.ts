/**
 * The share card's snippets do what they say, against a real Keeper on
 * loopback: the fleets entry is JSON whose ENR and address are this node's;
 * the js-waku snippet, run as written by a real @waku/sdk light node, reaches
 * the Keeper and its store answers with the Keeper's messages; the
 * --store-peer line, given to another Keeper, makes it fill from this one.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { multiaddr } from '@multiformats/multiaddr';
import { createDecoder } from '@waku/sdk';
import type { LightNode } from '@waku/sdk';
import { createRoutingInfo } from '@waku/utils';
import type { ShareInfo } from '../../main/contract/contract.ts';
import { decodeEnr } from '../../main/core/discovery/enr.ts';
import { parseCli } from '../../main/core/settings/config.ts';
import { seedHistory, startKeeper, tempDataDir } from '../helpers/keeper.ts';
import type { TestKeeper } from '../helpers/keeper.ts';
import { TEST_CONTENT, TEST_PUBSUB, hex, series } from '../helpers/messages.ts';
import { waitFor } from '../helpers/wait.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const OUT = join(ROOT, 'test-output', 'share');

describe('share card snippets', () => {
  let k: TestKeeper;
  let other: TestKeeper | undefined;
  let share: ShareInfo;
  const seeded = series(12, BigInt(Date.now() - 3_600_000) * 1_000_000n);

  before(async () => {
    const dir = tempDataDir();
    seedHistory(dir, seeded);
    k = await startKeeper({}, dir);
    share = (await k.status()).share;
    mkdirSync(OUT, { recursive: true });
  });

  after(async () => {
    await other?.dispose();
    await k?.dispose();
    rmSync(OUT, { recursive: true, force: true });
  });

  it('the fleets entry is JSON with this node’s id, signed ENR and address', () => {
    const entry = JSON.parse(share.snippets.fleetsEntry) as { id: string; enr: string; addr: string };
    assert.deepEqual(Object.keys(entry).sort(), ['addr', 'enr', 'id']);
    assert.equal(typeof entry.id, 'string');
    assert.equal(multiaddr(entry.addr).getPeerId(), k.peerId);
    assert.equal(entry.addr, k.tcpAddr);
    const enr = decodeEnr(entry.enr);
    assert.equal(enr.peerId, k.peerId);
    assert.ok(enr.multiaddrs.includes(k.tcpAddr), 'the ENR names the same address');
    assert.deepEqual(enr.capabilities, { relay: true, store: true, filter: false, lightPush: false, sync: false });
    assert.equal(share.enr, entry.enr);
  });

  it('the js-waku snippet, run as written, makes a light node whose store queries reach this Keeper', async () => {
    const file = join(OUT, `js-waku-${process.pid}.mjs`);
    writeFileSync(file, share.snippets.jsWaku);
    const { node, keeper } = (await import(pathToFileURL(file).href)) as { node: LightNode; keeper: string };
    try {
      assert.equal(multiaddr(keeper).getPeerId(), k.peerId);
      const routing = createRoutingInfo({ clusterId: 16 }, { shardId: 32 });
      const got: string[] = [];
      // No peerId: the snippet's store.peers makes the sdk ask this Keeper.
      for await (const page of node.store.queryGenerator(TEST_CONTENT.map((t) => createDecoder(t, routing)), { paginationForward: true })) {
        for (const m of await Promise.all(page)) if (m) got.push(m.hashStr);
      }
      assert.deepEqual(got.sort(), seeded.map((m) => hex(m.hash)).sort());
    } finally {
      await node.stop();
    }
  });

  it('the --store-peer line makes another Keeper fill its history from this one', async () => {
    const args = share.snippets.storePeerFlag.split(' ');
    const r = parseCli(['--pubsub-topic', TEST_PUBSUB, '--no-discovery', ...args]);
    assert.ok(r.kind === 'run');
    assert.deepEqual(r.config.storePeers, [k.tcpAddr]);
    other = await startKeeper({ storePeers: r.config.storePeers, peers: r.config.storePeers, fillQuorum: 1, heartbeatMs: 200, settleMs: 1000 });
    await waitFor('the other Keeper to hold what this one served', async () => (await other!.status()).archive.messages === seeded.length, { timeoutMs: 20_000 });
  });
});
