/**
 * The headless `waku-keeper` as a separate process: its `ready` line, a
 * @waku/sdk client in this process relaying to it and querying it, the local
 * API, a graceful stop on SIGTERM, bad flags, and a restart on the same data.
 */
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { peerIdFromString } from '@libp2p/peer-id';
import { createDecoder } from '@waku/sdk';
import { createRoutingInfo } from '@waku/utils';
import { Archive } from '../../main/core/archive/archive.ts';
import { TEST_CONTENT, TEST_PUBSUB } from '../helpers/messages.ts';
import { dial, startWakuClient } from '../helpers/waku-client.ts';
import { waitFor } from '../helpers/wait.ts';

const CLI = join(import.meta.dirname, '..', '..', 'bin', 'waku-keeper.js');

interface Running {
  proc: ChildProcess;
  lines: Record<string, unknown>[];
  exited: Promise<number | null>;
}

function run(args: string[]): Running {
  const proc = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: Record<string, unknown>[] = [];
  createInterface({ input: proc.stdout! }).on('line', (l) => lines.push(JSON.parse(l) as Record<string, unknown>));
  proc.stderr!.on('data', () => undefined);
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  return { proc, lines, exited };
}

function runToEnd(args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const proc = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    proc.on('exit', (code) => resolve({ code, stderr }));
  });
}

describe('waku-keeper headless CLI', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'keeper-cli-'));
  const args = [
    '--data-dir', dataDir,
    '--pubsub-topic', TEST_PUBSUB,
    '--listen', '/ip4/127.0.0.1/tcp/0',
    '--api', '127.0.0.1:0',
    '--no-discovery',
  ];
  const running: Running[] = [];
  after(() => {
    for (const r of running) r.proc.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  });

  for (const [argv, flag] of [
    [['--bogus'], '--bogus'],
    [['--fill-quorum', '0'], '--fill-quorum'],
    [['--peer', '/ip4/1.2.3.4/tcp/1'], '--peer'],
  ] as const) {
    it(`exits with 2 and names ${flag} when given ${argv.join(' ')}`, async () => {
      const { code, stderr } = await runToEnd([...argv]);
      assert.equal(code, 2);
      assert.match(stderr, new RegExp(flag));
    });
  }

  it('refuses a --community that is not a community, naming the flag and why, and starts nothing', async () => {
    const fresh = join(dataDir, 'never-made');
    for (const [ref, why] of [
      ['https://status.app/u#zQ3shwQPhRuDJSjVGVBnTjCdgXy5i9WQaeVPdGJD6yTarJQSj', /a Status user/],
      ['zQ3shNZQnGqtqxokGkoVtFWnG9v6TJT43E3rfPxzc1eHqx3qJ', /not a point on secp256k1/],
    ] as const) {
      const { code, stderr } = await runToEnd(['--data-dir', fresh, '--community', ref]);
      assert.equal(code, 2);
      assert.match(stderr, /--community/);
      assert.match(stderr, why);
      assert.ok(!existsSync(fresh), 'no data dir made');
    }
  });

  it('keeps a --community: its derived entries in the settings, shard 64 relayed beside 32', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'keeper-cli-community-'));
    const link = 'https://status.app/c/iyKACkQKB0Rvb2RsZXMSJ0NvbG9yaW5nIHRoZSB3b3JsZCB3aXRoIGpveSDigKIg4bSXIOKAohiYohsiByMxMzFEMkYqAwEhMwM=#zQ3shYSHp7GoiXaauJMnDcjwU2yNjdzpXLosAWapPS4CFxc11';
    const k = run(['--data-dir', dir, '--pubsub-topic', TEST_PUBSUB, '--listen', '/ip4/127.0.0.1/tcp/0', '--api', '127.0.0.1:0', '--no-discovery', '--community', link]);
    running.push(k);
    try {
      await waitFor('the ready line', () => k.lines.length > 0, { timeoutMs: 20_000 });
      const ready = k.lines[0] as { event: string; api: string };
      assert.equal(ready.event, 'ready');
      const token = readFileSync(join(dir, 'api-token'), 'utf8').trim();
      const res = await fetch(`${ready.api}/api/status`, { headers: { Authorization: `Bearer ${token}` } });
      const s = (await res.json()) as { pubsubTopics: string[]; contentTopics: string[]; settings: { communities: { name: string; pubsubTopic: string; contentTopics: string[]; status?: { communityId: string } }[] } };
      assert.deepEqual(s.settings.communities.map((c) => [c.name, c.pubsubTopic, c.contentTopics]), [
        ['Doodles', '/waku/2/rs/16/32', ['/waku/1/0x8f887122/rfc26', '/waku/1/0xdd22b83d/rfc26', '/waku/1/0xfcb2f421/rfc26']],
        ['Doodles (shard 64)', '/waku/2/rs/16/64', ['/waku/1/0xfcb2f421/rfc26']],
      ]);
      assert.equal(s.settings.communities[0]?.status?.communityId, '0x02a3d2fdb9ac335917bf9d46b38d7496c00bbfadbaf832e8aa61d13ac2b4452084');
      assert.deepEqual(s.pubsubTopics, ['/waku/2/rs/16/32', '/waku/2/rs/16/64']);
      k.proc.kill('SIGTERM');
      assert.equal(await k.exited, 0);
      // Kept as the dashboard keeps it: a start with the flag again adds nothing twice.
      const again = run(['--data-dir', dir, '--pubsub-topic', TEST_PUBSUB, '--listen', '/ip4/127.0.0.1/tcp/0', '--api', '127.0.0.1:0', '--no-discovery', '--community', link]);
      running.push(again);
      await waitFor('the ready line', () => again.lines.length > 0, { timeoutMs: 20_000 });
      const saved = JSON.parse(readFileSync(join(dir, 'settings.json'), 'utf8')) as { communities: unknown[] };
      assert.equal(saved.communities.length, 2);
      again.proc.kill('SIGTERM');
      assert.equal(await again.exited, 0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  let peerId = '';
  let sentHash = '';

  it('prints ready first, relays and serves a @waku/sdk client, and stops cleanly on SIGTERM', async () => {
    const k = run(args);
    running.push(k);
    await waitFor('the ready line', () => k.lines.length > 0, { timeoutMs: 20_000 });
    const ready = k.lines[0] as { event: string; peerId: string; multiaddrs: string[]; api: string; dashboard: string };
    assert.equal(ready.event, 'ready');
    peerId = ready.peerId;
    assert.match(ready.dashboard, new RegExp(`^${ready.api}/#token=[0-9a-f]{64}$`));
    const token = readFileSync(join(dataDir, 'api-token'), 'utf8').trim();
    assert.ok(ready.dashboard.endsWith(token));
    if (process.platform === 'linux') {
      // The launcher re-ran the node with its V8 flag and the allocator's settings (node-flags.ts).
      const cmdline = readFileSync(`/proc/${k.proc.pid}/cmdline`, 'utf8').split('\0');
      const environ = readFileSync(`/proc/${k.proc.pid}/environ`, 'utf8').split('\0');
      assert.ok(cmdline.includes('--max-semi-space-size=4'), cmdline.join(' '));
      for (const v of ['MALLOC_ARENA_MAX=2', 'MALLOC_MMAP_THRESHOLD_=131072', 'MALLOC_TRIM_THRESHOLD_=131072']) assert.ok(environ.includes(v), v);
    }

    const addr = ready.multiaddrs.find((a) => a.startsWith('/ip4/127.0.0.1/tcp/'));
    assert.ok(addr);
    const client = await startWakuClient({ pubsubTopics: [TEST_PUBSUB] });
    try {
      await dial(client, addr);
      await waitFor('the keeper on the client relay topic', () => client.relay.getSubscribers(TEST_PUBSUB).some((p) => p.toString() === peerId));
      const timestamp = BigInt(Date.now()) * 1_000_000n;
      await client.publish(TEST_PUBSUB, { contentTopic: TEST_CONTENT[0] ?? '', payload: new TextEncoder().encode('hello keeper'), timestamp });

      const status = async (): Promise<{ archive: { messages: number }; peers: unknown[] }> => {
        const res = await fetch(`${ready.api}/api/status`, { headers: { Authorization: `Bearer ${token}` } });
        assert.equal(res.status, 200);
        return (await res.json()) as { archive: { messages: number }; peers: unknown[] };
      };
      await waitFor('the message in the archive', async () => (await status()).archive.messages === 1);
      assert.equal((await fetch(`${ready.api}/api/status`)).status, 401);

      const decoder = createDecoder(TEST_CONTENT[0] ?? '', createRoutingInfo({ clusterId: 16 }, { shardId: 32 }));
      const got = [];
      for await (const page of client.node.store.queryGenerator([decoder], { peerId: peerIdFromString(peerId), paginationForward: true })) {
        got.push(...(await Promise.all(page)));
      }
      assert.equal(got.length, 1);
      assert.equal(new TextDecoder().decode(got[0]?.payload), 'hello keeper');
      sentHash = got[0]?.hashStr ?? '';
    } finally {
      await client.stop();
    }

    k.proc.kill('SIGTERM');
    assert.equal(await k.exited, 0);
    assert.deepEqual(k.lines.slice(-2).map((l) => l.event), ['stopping', 'stopped']);
    // Closed cleanly: the archive opens, is intact, and holds the message.
    const archive = Archive.open(join(dataDir, 'archive.sqlite'));
    try {
      assert.equal(archive.integrityCheck(), 'ok');
      assert.equal(archive.stats().messages, 1);
      assert.ok(archive.has(Buffer.from(sentHash, 'hex')));
    } finally {
      archive.close();
    }
  });

  it('keeps its identity and archive across a restart', async () => {
    assert.ok(peerId, 'needs the previous test');
    const k = run(args);
    running.push(k);
    await waitFor('the ready line', () => k.lines.length > 0, { timeoutMs: 20_000 });
    assert.equal(k.lines[0]?.peerId, peerId);
    k.proc.kill('SIGINT');
    assert.equal(await k.exited, 0);
  });
});
