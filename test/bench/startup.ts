/** Start-up: process start to the `ready` line with a large archive, against an empty one. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startKeeperProcess } from '../helpers/keeper-process.ts';
import { figure, generatedArchive, QUICK, round } from './lib.ts';
import type { Figure } from './lib.ts';
import { QUERY_ARCHIVE } from './query.ts';

async function readyMs(dataDir: string): Promise<number> {
  const k = await startKeeperProcess(dataDir, ['--retention', '60d']);
  await k.stop();
  return k.readyMs;
}

export async function benchStartup(): Promise<Figure[]> {
  const full = mkdtempSync(join(tmpdir(), 'keeper-bench-start-'));
  const empty = mkdtempSync(join(tmpdir(), 'keeper-bench-start0-'));
  try {
    generatedArchive(full, QUERY_ARCHIVE.count, QUERY_ARCHIVE.payload, QUERY_ARCHIVE.spanMs, Date.now() - 60_000);
    const runs = QUICK ? 2 : 3;
    const withArchive: number[] = [];
    const without: number[] = [];
    // Taking turns, and the first start of each is the cold one that counts too.
    for (let i = 0; i < runs; i++) {
      withArchive.push(await readyMs(full));
      without.push(await readyMs(empty));
    }
    const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;
    const value = round(median(withArchive), 0);
    console.log(`startup: ready after ${withArchive.map((x) => x.toFixed(0)).join(', ')} ms with ${QUERY_ARCHIVE.count} messages; ${without.map((x) => x.toFixed(0)).join(', ')} ms empty`);
    return [
      figure({
        bench: `start-up, ${QUERY_ARCHIVE.count} messages`,
        value,
        unit: 'ms',
        baseline: 'start-up with an empty archive',
        baseline_value: round(median(without), 0),
        target: '< 2000 ms',
        ok: value < 2000,
      }),
    ];
  } finally {
    rmSync(full, { recursive: true, force: true });
    rmSync(empty, { recursive: true, force: true });
  }
}
