/**
 * Waku Sync: two archives of 1 M messages (100 000 in --quick) that differ by
 * 1 000 scattered messages (100), each side in its own process. Bytes the
 * reconciliation exchanged against a full listing of the hashes; the time to
 * end identical against comparing full hash listings over Store v3; the
 * syncing node's peak RSS against the same node idle.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import BetterSqlite3 from 'better-sqlite3';
import { NODE_FLAGS } from '../../main/node-flags.ts';
import { figure, generatedArchive, QUICK, round } from './lib.ts';
import type { Figure } from './lib.ts';
import type { SyncResult } from '../../main/core/sync/service.ts';

const DAY = 86_400_000;

/** Deletes `ids` from a copy of the archive, as if it had missed them (topic_stats kept true). */
function drop(path: string, ids: readonly number[]): void {
  const db = new BetterSqlite3(path);
  db.transaction(() => {
    const del = db.prepare('DELETE FROM messages WHERE id = ? RETURNING pubsub_id, size');
    for (const id of ids) {
      const row = del.get(id) as { pubsub_id: number; size: number } | undefined;
      if (row !== undefined) db.prepare('UPDATE topic_stats SET messages = messages - 1, bytes = bytes - ? WHERE pubsub_id = ?').run(row.size, row.pubsub_id);
    }
  })();
  db.close();
}

export async function benchSync(): Promise<Figure[]> {
  const count = QUICK ? 100_000 : 1_000_000;
  const differ = QUICK ? 100 : 1000;
  const dir = mkdtempSync(join(tmpdir(), 'keeper-bench-sync-'));
  try {
    // A month of messages ending an hour ago; each copy misses its own half of the differences, scattered.
    const endMs = Date.now() - 3_600_000;
    const base = generatedArchive(dir, count, 100, 30 * DAY, endMs);
    const pathA = join(dir, 'a.sqlite');
    const pathB = join(dir, 'b.sqlite');
    copyFileSync(base, pathA);
    copyFileSync(base, pathB);
    let seed = 17;
    const rand = (): number => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
    const picked = new Set<number>();
    while (picked.size < differ) picked.add(1 + Math.floor(rand() * count));
    const ids = [...picked];
    drop(pathA, ids.filter((_, i) => i % 2 === 0));
    drop(pathB, ids.filter((_, i) => i % 2 === 1));

    const driver = fileURLToPath(new URL('./sync-driver.ts', import.meta.url));
    const range = [String(endMs - 31 * DAY), String(endMs + 60_000)];
    const r = spawnSync(process.execPath, ['--expose-gc', ...NODE_FLAGS, driver, pathA, pathB, String(count), ...range], { encoding: 'utf8', timeout: 900_000 });
    if (r.status !== 0) throw new Error(`sync driver failed: ${r.stderr}`);
    const out = JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}') as {
      result: SyncResult;
      syncMs: number;
      idle: number;
      peak: number;
      after: { a: number; b: number };
      listingMs: number;
      listingBytes: number;
      pages: number;
      listed: number;
      differAfter: number;
    };
    const res = out.result;
    if (res.outcome !== 'complete' || out.after.a !== count || out.after.b !== count || out.differAfter !== 0) {
      throw new Error(`sync did not end with two whole archives: ${JSON.stringify(out)}`);
    }
    const hashBytes = count * 32;
    console.log(
      `sync: ${count} messages, ${differ} differ: ${res.rounds} rounds, ${res.reconciliationBytes} B reconciling, ${res.pushed} pushed and ${res.stored} received ` +
        `in ${out.syncMs.toFixed(0)} ms (the session itself ${res.ms} ms); Store v3 listing: ${out.pages} pages, ${out.listed} hashes, ${out.listingBytes} B on the wire, ${out.listingMs.toFixed(0)} ms with the comparison`,
    );
    const bytesRatio = round(res.reconciliationBytes / hashBytes, 4);
    const timeRatio = round(out.syncMs / out.listingMs, 3);
    const mb = (b: number): number => round(b / 1e6, 1);
    return [
      figure({
        bench: `sync bytes, ${count} messages, ${differ} differ`,
        value: res.reconciliationBytes,
        unit: 'B',
        baseline: `a full listing of the ${count} hashes, 32 B each (Store v3 put ${out.listingBytes} B on the wire for it)`,
        baseline_value: hashBytes,
        ratio: bytesRatio,
        target: '<= 2 %',
        ok: bytesRatio <= 0.02,
      }),
      figure({
        bench: `sync time to identical archives, ${count} messages`,
        value: round(out.syncMs, 0),
        unit: 'ms',
        baseline: 'comparing full hash listings over Store v3 (hash-only pages of 100), same archives and processes',
        baseline_value: round(out.listingMs, 0),
        ratio: timeRatio,
        target: '>= 10x faster (ratio <= 0.1)',
        ok: timeRatio <= 0.1,
      }),
      figure({
        bench: `sync RSS peak, ${count} messages archived`,
        value: mb(out.peak),
        unit: 'MB RSS',
        baseline: 'the same node idle, archive open',
        baseline_value: mb(out.idle),
        target: '< 250 MB',
        ok: out.peak < 250e6,
      }),
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
