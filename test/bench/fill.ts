/**
 * Gap fill: a 24 h gap of 1 KB messages filled from two peers over loopback
 * (quorum 2: both answer every window), against streaming the same bytes raw
 * over one loopback TCP connection.
 */
import { createServer, connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startKeeperProcess } from '../helpers/keeper-process.ts';
import type { KeeperProcess } from '../helpers/keeper-process.ts';
import { figure, generatedArchive, PUBSUB, QUICK, round } from './lib.ts';
import { seedOnline } from '../helpers/keeper.ts';
import { subtract } from '../../main/core/util/intervals.ts';
import type { Figure } from './lib.ts';

async function rawStreamMs(bytes: number): Promise<number> {
  const chunk = Buffer.alloc(64 * 1024, 7);
  const server = createServer((socket) => {
    let sent = 0;
    const pump = (): void => {
      while (sent < bytes) {
        const n = Math.min(chunk.length, bytes - sent);
        sent += n;
        if (!socket.write(n === chunk.length ? chunk : chunk.subarray(0, n))) return void socket.once('drain', pump);
      }
      socket.end();
    };
    pump();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  const started = performance.now();
  await new Promise<void>((resolve, reject) => {
    let got = 0;
    const s = connect(port, '127.0.0.1');
    s.on('data', (d: Buffer) => (got += d.length));
    s.on('end', () => (got === bytes ? resolve() : reject(new Error(`got ${got} of ${bytes}`))));
    s.on('error', reject);
  });
  const ms = performance.now() - started;
  server.close();
  return ms;
}

export async function benchFill(): Promise<Figure[]> {
  const count = QUICK ? 10_000 : 100_000;
  const dirs = [0, 1, 2].map((i) => mkdtempSync(join(tmpdir(), `keeper-bench-fill${i}-`)));
  const peers: KeeperProcess[] = [];
  let filler: KeeperProcess | undefined;
  try {
    // The same day of history on both peers, ending an hour ago.
    const endMs = Date.now() - 3_600_000;
    for (const dir of dirs.slice(0, 2)) {
      generatedArchive(dir, count, 1000, 86_400_000, endMs);
      // Both peers were online through that day and since: they attest holding it.
      seedOnline(dir, [{ start: Date.now() - 2 * 86_400_000 - 3_600_000, end: Date.now() }], PUBSUB);
    }
    for (const dir of dirs.slice(0, 2)) peers.push(await startKeeperProcess(dir, ['--store-rate', '1000000', '--retention', '2d']));
    const started = performance.now();
    filler = await startKeeperProcess(dirs[2] ?? '', [
      ...peers.flatMap((p) => ['--store-peer', p.tcpAddr]),
      '--fill-quorum', '2',
      '--retention', '2d',
    ]);
    const events = filler.events;
    let fillStarted = 0;
    const deadline = Date.now() + (QUICK ? 60_000 : 600_000);
    for (;;) {
      if (fillStarted === 0 && events.some((e) => e.event === 'fill:start')) fillStarted = performance.now();
      const end = events.find((e) => e.event === 'fill:end');
      if (end !== undefined && end.event === 'fill:end') {
        if (end.messages !== count) throw new Error(`fill ended with ${JSON.stringify(end)}`);
        break;
      }
      if (Date.now() > deadline) throw new Error('the fill did not end in time');
      await new Promise((r) => setTimeout(r, 20));
    }
    const fillMs = performance.now() - (fillStarted || started);
    // The day of history is verified by both peers' attestations (the moments they took to start are not).
    const verified = (await filler.status()).history.topics[0]?.filled.filter((f) => f.verified) ?? [];
    const day = { start: endMs - 86_400_000 + 60_000, end: endMs - 60_000 };
    if (subtract(day, verified.map((f) => ({ start: f.startMs, end: f.endMs }))).length > 0) throw new Error('the filled day is not verified');
    const bytes = (await filler.status()).archive.bytes;
    const payloadBytes = count * 1100; // the messages as they travel: payload, topic, framing
    const rawMs = Math.min(await rawStreamMs(payloadBytes), await rawStreamMs(payloadBytes));
    console.log(
      `fill: ${count} messages of 1 KB (24 h) from 2 peers, both answering every window, in ${fillMs.toFixed(0)} ms ` +
        `(${round((count / fillMs) * 1000, 0)} msg/s; archive ${round(bytes / 1e6, 1)} MB); raw stream of ${round(payloadBytes / 1e6, 1)} MB: ${rawMs.toFixed(0)} ms`,
    );
    const ratio = round(fillMs / rawMs, 1);
    return [
      figure({
        bench: `gap fill, ${count} messages from 2 peers`,
        value: round(fillMs, 0),
        unit: 'ms',
        baseline: 'the same bytes streamed raw over one loopback TCP connection',
        baseline_value: round(rawMs, 0),
        ratio,
        target: 'within 3x',
        ok: ratio <= 3,
      }),
    ];
  } finally {
    await filler?.stop();
    for (const p of peers) await p.stop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  }
}
