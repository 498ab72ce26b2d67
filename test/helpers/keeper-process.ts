/** A headless Keeper as a child process (the `waku-keeper` CLI), for tests and benchmarks that watch it from outside. */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { KeeperEvent, KeeperStatus } from '../../main/contract/contract.ts';
import { PUBSUB } from '../bench/lib.ts';

const CLI = fileURLToPath(new URL('../../bin/waku-keeper.js', import.meta.url));

export interface KeeperProcess {
  proc: ChildProcess;
  ready: Extract<KeeperEvent, { event: 'ready' }>;
  readyMs: number;
  events: KeeperEvent[];
  tcpAddr: string;
  status(): Promise<KeeperStatus>;
  /** POSTs a command of the local API; resolves with its JSON result. */
  command(name: string, arg?: unknown): Promise<unknown>;
  stop(): Promise<void>;
  /** kill -9: no stop, no flush, no close. */
  kill(): Promise<void>;
}

export async function startKeeperProcess(
  dataDir: string,
  extra: string[] = [],
  pubsubTopic = PUBSUB,
  listen = '/ip4/127.0.0.1/tcp/0',
): Promise<KeeperProcess> {
  const started = performance.now();
  const proc = spawn(
    process.execPath,
    [CLI, '--data-dir', dataDir, '--pubsub-topic', pubsubTopic, '--listen', listen, '--api', '127.0.0.1:0', '--no-discovery', ...extra],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const events: KeeperEvent[] = [];
  const ready = await new Promise<Extract<KeeperEvent, { event: 'ready' }>>((resolve, reject) => {
    createInterface({ input: proc.stdout! }).on('line', (line) => {
      const e = JSON.parse(line) as KeeperEvent;
      events.push(e);
      if (e.event === 'ready') resolve(e);
    });
    proc.once('exit', (code) => reject(new Error(`keeper exited with ${code} before ready`)));
  });
  const readyMs = performance.now() - started;
  const token = readFileSync(join(dataDir, 'api-token'), 'utf8').trim();
  const tcpAddr = ready.multiaddrs.find((a) => a.startsWith('/ip4/127.0.0.1/tcp/') && !a.includes('/ws')) ?? '';
  return {
    proc,
    ready,
    readyMs,
    events,
    tcpAddr,
    status: async () => (await (await fetch(`${ready.api}/api/status`, { headers: { Authorization: `Bearer ${token}` } })).json()) as KeeperStatus,
    command: async (name, arg) => {
      const res = await fetch(`${ready.api}/api/commands/${name}`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
        body: arg === undefined ? '' : JSON.stringify(arg),
      });
      return res.json();
    },
    stop: async () => {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGTERM');
      await exited;
    },
    kill: async () => {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGKILL');
      await exited;
    },
  };
}
