/**
 * Churn at size: Keepers as separate processes, each the others' store peer,
 * quorum 2, each down about 40 % of the run (SIGKILL or SIGTERM in turn, never
 * all at once), with hand-overs — one half down together, and soon after it
 * returns the other half. While they come and go, a claim above holdings is
 * looked for at every sample: a Keeper saying it holds verified a stretch it
 * lacks a message of. After all are up, every Keeper must hold every message
 * within two minutes.
 */
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { multiaddr } from '@multiformats/multiaddr';
import type { Libp2p } from '@libp2p/interface';
import { clusterOf } from '../helpers/cluster.ts';
import type { ClusterMember } from '../helpers/cluster.ts';
import { ClaimWatcher, Publisher, verifiedStretches } from '../helpers/claims.ts';
import { startKeeperProcess } from '../helpers/keeper-process.ts';
import type { KeeperProcess } from '../helpers/keeper-process.ts';
import { TEST_PUBSUB } from '../helpers/messages.ts';
import { startStoreClient } from '../helpers/store-client.ts';
import { servedHashes } from '../helpers/store-node.ts';
import { dial, startWakuClient } from '../helpers/waku-client.ts';
import type { WakuClient } from '../helpers/waku-client.ts';
import { waitFor } from '../helpers/wait.ts';
import { subtract, totalLength } from '../../main/core/util/intervals.ts';
import { pick, report } from './scale.ts';

interface Node extends ClusterMember {
  proc: KeeperProcess | null;
  /** When it last went down. */
  downAt: number;
  downMs: number;
  kills: number;
  terms: number;
}

/** A small deterministic generator: the same schedule every run. */
function prng(seed: number): (n: number) => number {
  let s = seed;
  return (n) => (s = (s * 1_103_515_245 + 12_345) % 2 ** 31) % n;
}

describe('attested coverage under churn, as processes', () => {
  const nodes: Node[] = [];
  let client: WakuClient | undefined;
  let bystander: Libp2p | undefined;
  after(async () => {
    for (const n of nodes) await n.proc?.kill();
    await client?.stop();
    await bystander?.stop();
    for (const n of nodes) rmSync(n.dir, { recursive: true, force: true });
  });

  it('every Keeper holds every message within two minutes of all being up, and never claims above its holdings', async () => {
    const count = pick(4, 6);
    const runMs = pick(18_000, 150_000);
    const slotMs = pick(2000, 5000);
    for (const m of await clusterOf(count)) nodes.push({ ...m, proc: null, downAt: 0, downMs: 0, kills: 0, terms: 0 });
    const args = (n: Node): string[] => [
      ...n.others.flatMap((a) => ['--peer', a, '--store-peer', a]),
      '--fill-quorum', '2',
      '--heartbeat', '200ms',
      '--settle', '1s',
      '--clock-margin', '300ms',
      '--retention', '1h',
      '--fill-interval', '5s',
      '--check-interval', '3s',
      '--store-rate', '1000000',
    ];
    client = await startWakuClient({ pubsubTopics: [TEST_PUBSUB] });
    bystander = await startStoreClient();
    const up = async (n: Node): Promise<void> => {
      n.proc = await startKeeperProcess(n.dir, args(n), TEST_PUBSUB, n.listen);
      await dial(client!, n.addr).catch(() => undefined);
    };
    let turn = 0;
    const down = async (n: Node): Promise<void> => {
      // SIGKILL and SIGTERM in turn: a crash leaves no stop behind, a stop closes its online stretch.
      if (turn++ % 2 === 0) {
        n.kills++;
        await n.proc?.kill();
      } else {
        n.terms++;
        await n.proc?.stop();
      }
      n.proc = null;
    };
    await Promise.all(nodes.map(up));
    await waitFor('every Keeper online, and the publisher seeing them all', async () => {
      for (const n of nodes) if ((await n.proc!.status()).state !== 'online') return false;
      return client!.relay.getSubscribers(TEST_PUBSUB).length === count;
    }, { timeoutMs: 30_000 });
    const t0 = Date.now();
    const publisher = new Publisher(client, { everyMs: 80 });
    publisher.start();

    const watcher = new ClaimWatcher(bystander, publisher.sent);
    const sample = (): Promise<void> => watcher.sample(nodes.map((n) => ({ addr: n.addr, status: n.proc === null ? null : n.proc.status })));

    // The schedule, slot by slot: two hand-overs, and random downtimes of about 40 % around them.
    const rand = prng(2026);
    const half = Math.floor(count / 2);
    const slots = Math.floor(runMs / slotMs);
    const handOvers = [Math.floor(slots * 0.2), Math.floor(slots * 0.6)];
    const downUntil = new Map<Node, number>();
    for (let slot = 0; slot < slots; slot++) {
      const slotStart = Date.now();
      for (const [n, until] of downUntil) {
        if (until > slot) continue;
        downUntil.delete(n);
        n.downMs += Date.now() - n.downAt;
        await up(n);
      }
      const planned: Node[] = [];
      for (const h of handOvers) {
        if (slot === h) planned.push(...nodes.slice(0, half));
        // Soon after the first half returns (two slots down), the other half goes.
        if (slot === h + 3) planned.push(...nodes.slice(half));
      }
      if (!handOvers.some((h) => slot >= h && slot <= h + 5)) {
        for (const n of nodes) if (n.proc !== null && rand(100) < 26) planned.push(n);
      }
      for (const n of planned) {
        // Never all at once: someone stays up to relay and to answer.
        const upNow = nodes.filter((x) => x.proc !== null && !planned.slice(0, planned.indexOf(n)).includes(x));
        if (n.proc === null || upNow.length <= 1) continue;
        n.downAt = Date.now();
        downUntil.set(n, slot + 2 + rand(3));
        await down(n);
      }
      while (Date.now() - slotStart < slotMs) {
        await sample();
        await new Promise((r) => setTimeout(r, 300));
      }
    }
    for (const [n] of downUntil) {
      n.downMs += Date.now() - n.downAt;
      await up(n);
    }
    await publisher.stop();
    const allUp = Date.now();
    const total = Date.now() - t0;
    const everyone = new Set(publisher.sent.map((m) => m.hash));
    const heldAt = new Map<Node, number>();
    await waitFor('every Keeper to hold every message', async () => {
      await sample();
      for (const n of nodes) {
        if (heldAt.has(n)) continue;
        const held = new Set(await servedHashes(bystander!, multiaddr(n.addr), TEST_PUBSUB));
        if ([...everyone].every((h) => held.has(h))) heldAt.set(n, Date.now() - allUp);
      }
      return heldAt.size === count;
    }, { timeoutMs: 120_000, intervalMs: 500 }).catch(async (err: unknown) => {
      for (const [i, n] of nodes.entries()) {
        const held = new Set(await servedHashes(bystander!, multiaddr(n.addr), TEST_PUBSUB));
        console.log(`K${i}: holds ${[...everyone].filter((h) => held.has(h)).length} of ${everyone.size}`);
      }
      throw err;
    });
    const span = { start: t0, end: publisher.sent.at(-1)?.ms ?? allUp };
    const lines: string[] = [];
    for (const [i, n] of nodes.entries()) {
      const s = await n.proc!.status();
      const verified = 1 - totalLength(subtract(span, verifiedStretches(s))) / (span.end - span.start);
      lines.push(
        `K${i} down ${((n.downMs / total) * 100).toFixed(0)} % (${n.kills} SIGKILL, ${n.terms} SIGTERM), ` +
          `held 100 % after ${heldAt.get(n)} ms, claims verified ${(verified * 100).toFixed(1)} % of the run`,
      );
    }
    report(
      `churn: ${count} Keepers as processes, ${publisher.sent.length} messages over ${(total / 1000).toFixed(0)} s, 2 hand-overs; ` +
        `${watcher.samples} samples, ${watcher.violations.length} claims above holdings; ${lines.join('; ')}`,
    );
    assert.ok(publisher.sent.length >= pick(150, 1500), `${publisher.sent.length} messages published`);
    assert.deepEqual(watcher.violations.slice(0, 10), []);
  });
});
