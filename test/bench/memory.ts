/** Memory: resident size of the headless node after ingesting a million messages, against the same node idle. */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { NODE_FLAGS, nodeEnv } from '../../main/node-flags.ts';
import { figure, QUICK, round } from './lib.ts';
import type { Figure } from './lib.ts';

export async function benchMemory(): Promise<Figure[]> {
  const count = QUICK ? 50_000 : 1_000_000;
  const driver = fileURLToPath(new URL('./memory-driver.ts', import.meta.url));
  // The flags and allocator settings the headless node runs with (node-flags.ts), and gc() for a settled reading.
  const r = spawnSync(process.execPath, ['--expose-gc', ...NODE_FLAGS, driver, String(count), '1000'], { encoding: 'utf8', timeout: 900_000, env: nodeEnv() });
  if (r.status !== 0) throw new Error(`memory driver failed: ${r.stderr}`);
  const out = JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}') as { idle: number; after: number; ms: number; stored: number };
  if (out.stored !== count) throw new Error(`memory driver stored ${out.stored} of ${count}`);
  const mb = (b: number): number => round(b / 1e6, 1);
  console.log(`memory: ${count} messages of 1 KB through the relay path in ${(out.ms / 1000).toFixed(1)} s (${round((count / out.ms) * 1000, 0)} msg/s)`);
  return [
    figure({
      bench: `memory after ${count} messages`,
      value: mb(out.after),
      unit: 'MB RSS',
      baseline: 'the same node idle, before ingest',
      baseline_value: mb(out.idle),
      target: '< 250 MB',
      ok: out.after < 250e6,
    }),
  ];
}
