/**
 * Run by the memory benchmark in a process of its own (node --expose-gc): a
 * headless Keeper that takes `count` messages through its relay path, then
 * reports its resident memory before and after, as one JSON line.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultConfig } from '../../main/core/settings/config.ts';
import { Keeper } from '../../main/core/keeper.ts';
import type { RelayIntake } from '../../main/core/node/relay-intake.ts';
import { encode, PUBSUB } from './lib.ts';

const count = Number(process.argv[2] ?? 100_000);
const payload = Number(process.argv[3] ?? 1000);
const gc = (globalThis as { gc?: () => void }).gc ?? (() => undefined);
const settle = async (): Promise<number> => {
  await new Promise((r) => setTimeout(r, 1500));
  gc();
  await new Promise((r) => setTimeout(r, 500));
  return process.memoryUsage().rss;
};

const dataDir = mkdtempSync(join(tmpdir(), 'keeper-bench-mem-'));
let intake: RelayIntake | undefined;
const keeper = await Keeper.start(
  defaultConfig({
    dataDir,
    pubsubTopics: [PUBSUB],
    listen: ['/ip4/127.0.0.1/tcp/0'],
    api: { host: '127.0.0.1', port: 0 },
    discovery: false,
    quotaBytes: 1e12,
  }),
  { testHooks: { relayIntake: (i) => (intake = i) } },
);
const idle = await settle();
const started = performance.now();
for (let i = 0; i < count; ) {
  // Fresh timestamps per chunk: the relay path checks them against the clock.
  const nowNs = BigInt(Date.now()) * 1_000_000n;
  for (let j = 0; j < 2000 && i < count; j++, i++) intake?.accept(PUBSUB, encode(i, nowNs - BigInt(j) * 1000n, payload).bytes);
  await new Promise((r) => setImmediate(r));
}
const ms = performance.now() - started;
const status = await keeper.commands.getStatus();
const after = await settle();
await keeper.stop();
rmSync(dataDir, { recursive: true, force: true });
process.stdout.write(`${JSON.stringify({ idle, after, ms, stored: status.ok ? status.value.archive.messages : -1 })}\n`);
