/**
 * `npm run bench` (full) and `npm run bench -- --quick` (under a minute).
 * Each benchmark measures its baseline in the same run; the table comes first,
 * then one JSON line per figure.
 */
import { benchIngest } from './ingest.ts';
import { benchQuery } from './query.ts';
import { benchStartup } from './startup.ts';
import { benchMemory } from './memory.ts';
import { benchLag } from './lag.ts';
import { benchFill } from './fill.ts';
import { benchSync } from './sync.ts';
import { QUICK, printTable } from './lib.ts';
import type { Figure } from './lib.ts';

const benches: [string, () => Promise<Figure[]>][] = [
  ['ingest', benchIngest],
  ['query', benchQuery],
  ['lag', benchLag],
  ['startup', benchStartup],
  ['fill', benchFill],
  ['memory', benchMemory],
  ['sync', benchSync],
];
const only = process.argv.find((a) => a.startsWith('--only='))?.slice(7).split(',');

const figures: Figure[] = [];
const started = performance.now();
for (const [name, run] of benches) {
  if (only && !only.includes(name)) continue;
  const t = performance.now();
  figures.push(...(await run()));
  console.log(`(${name} took ${((performance.now() - t) / 1000).toFixed(1)} s)`);
}
console.log(`\nWaku Keeper benchmarks, ${QUICK ? 'quick' : 'full'} run, ${new Date().toISOString()}, ${((performance.now() - started) / 1000).toFixed(0)} s\n`);
printTable(figures);
console.log('');
for (const f of figures) {
  const { target: _t, ok: _o, ...line } = f;
  console.log(JSON.stringify(line));
}
