/**
 * Gap fill: a 24 h gap of 1 KB messages filled from two peers over loopback,
 * hash first, at quorum 1 and at quorum 2 (both peers list every window),
 * against the ingest path (decode, check, hash, the archive writer) taking the
 * same messages in this process: what filling would reach if the network and
 * the peers cost nothing.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Archive } from '../../main/core/archive/archive.ts';
import { ArchiveWriter } from '../../main/core/archive/writer.ts';
import { decodeForArchive } from '../../main/core/message/decode.ts';
import { subtract } from '../../main/core/util/intervals.ts';
import { startKeeperProcess } from '../helpers/keeper-process.ts';
import type { KeeperProcess } from '../helpers/keeper-process.ts';
import { seedOnline } from '../helpers/keeper.ts';
import { figure, generatedArchive, generatedMessages, PUBSUB, QUICK, round } from './lib.ts';
import type { Figure } from './lib.ts';

const DAY = 86_400_000;

/** The ingest path over the same messages, best of two: ms. */
function ingestMs(dir: string, count: number, endMs: number): number {
  const input = [...generatedMessages(count, 1000, DAY, endMs)].map((m) => m.bytes);
  const once = (name: string): number => {
    const archive = Archive.open(join(dir, `${name}.sqlite`));
    const writer = new ArchiveWriter(archive);
    const started = performance.now();
    for (const bytes of input) {
      const d = decodeForArchive(PUBSUB, bytes);
      if (d.ok) writer.push(d.message);
    }
    writer.flush();
    const ms = performance.now() - started;
    const stored = archive.stats().messages;
    archive.close();
    if (stored !== count) throw new Error(`ingest stored ${stored} of ${count}`);
    return ms;
  };
  return Math.min(once('ingest1'), once('ingest2'));
}

/** One fill by a fresh Keeper from `peers` at `quorum`: ms from the pass's start to its end. */
async function fillMs(dir: string, peers: KeeperProcess[], quorum: number, count: number, endMs: number): Promise<number> {
  const filler = await startKeeperProcess(dir, [...peers.flatMap((p) => ['--store-peer', p.tcpAddr]), '--fill-quorum', String(quorum), '--retention', '2d']);
  try {
    const events = filler.events;
    let started = 0;
    const deadline = Date.now() + (QUICK ? 60_000 : 600_000);
    for (;;) {
      if (started === 0 && events.some((e) => e.event === 'fill:start')) started = performance.now();
      const end = events.find((e) => e.event === 'fill:end');
      if (end !== undefined && end.event === 'fill:end') {
        if (end.messages !== count) throw new Error(`fill ended with ${JSON.stringify(end)}`);
        break;
      }
      if (Date.now() > deadline) throw new Error('the fill did not end in time');
      await new Promise((r) => setTimeout(r, 5));
    }
    const ms = performance.now() - started;
    // The day of history is verified (the moments the peers took to start are not).
    const verified = (await filler.status()).history.topics[0]?.filled.filter((f) => f.verified) ?? [];
    const day = { start: endMs - DAY + 60_000, end: endMs - 60_000 };
    if (subtract(day, verified.map((f) => ({ start: f.startMs, end: f.endMs }))).length > 0) throw new Error(`the filled day is not verified at quorum ${quorum}`);
    return ms;
  } finally {
    await filler.stop();
  }
}

export async function benchFill(): Promise<Figure[]> {
  const count = QUICK ? 10_000 : 100_000;
  const dirs = Array.from({ length: 5 }, (_, i) => mkdtempSync(join(tmpdir(), `keeper-bench-fill${i}-`)));
  const peers: KeeperProcess[] = [];
  try {
    // The same day of history on both peers, ending an hour ago.
    const endMs = Date.now() - 3_600_000;
    for (const dir of dirs.slice(0, 2)) {
      generatedArchive(dir, count, 1000, DAY, endMs);
      // Both peers were online through that day and since: they attest holding it.
      seedOnline(dir, [{ start: Date.now() - 2 * DAY - 3_600_000, end: Date.now() }], PUBSUB);
    }
    for (const dir of dirs.slice(0, 2)) peers.push(await startKeeperProcess(dir, ['--store-rate', '1000000', '--retention', '2d']));
    const q1 = await fillMs(dirs[2] ?? '', peers, 1, count, endMs);
    const q2 = await fillMs(dirs[3] ?? '', peers, 2, count, endMs);
    const ingest = ingestMs(dirs[4] ?? '', count, endMs);
    const rate = (ms: number): number => round((count / ms) * 1000, 0);
    console.log(
      `fill: ${count} messages of 1 KB (24 h) from 2 peers: quorum 1 ${q1.toFixed(0)} ms (${rate(q1)} msg/s), ` +
        `quorum 2 ${q2.toFixed(0)} ms (${rate(q2)} msg/s); the ingest path on the same messages ${ingest.toFixed(0)} ms (${rate(ingest)} msg/s)`,
    );
    const ratio = round(rate(q2) / rate(ingest), 3);
    const cost = round(q2 / q1, 2);
    return [
      figure({
        bench: `gap fill, ${count} messages from 2 peers, quorum 2`,
        value: rate(q2),
        unit: 'msg/s',
        baseline: 'the ingest path on the same messages, in process',
        baseline_value: rate(ingest),
        ratio,
        target: 'ratio >= 0.5',
        ok: ratio >= 0.5,
      }),
      figure({
        bench: `gap fill, quorum 2 against quorum 1`,
        value: round(q2, 0),
        unit: 'ms',
        baseline: 'the same fill at quorum 1 (one peer lists each window)',
        baseline_value: round(q1, 0),
        ratio: cost,
        target: 'ratio <= 1.2',
        ok: cost <= 1.2,
      }),
    ];
  } finally {
    for (const p of peers) await p.stop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  }
}
