/** Shared pieces of the benchmarks: figures, percentiles, and fast archive generation. */
import { proto_message } from '@waku/proto';
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Archive } from '../../main/core/archive/archive.ts';
import type { ArchiveMessage } from '../../main/core/message/message.ts';
import { messageHash } from '../../main/core/message/hash.ts';
import { ARCHIVE_FILE } from '../../main/core/settings/paths.ts';

export const QUICK = process.argv.includes('--quick');
/** A community shard: not protected, so messages need no shard signature. */
export const PUBSUB = '/waku/2/rs/16/32';
export const CONTENT = Array.from({ length: 20 }, (_, i) => `/waku/1/0x${(0x1000 + i).toString(16).padStart(8, '0')}/rfc26`);

export interface Figure {
  bench: string;
  value: number;
  unit: string;
  baseline: string;
  baseline_value: number;
  ratio: number;
  /** What the target is, for the table. */
  target?: string;
  ok?: boolean;
}

export function figure(f: Omit<Figure, 'ratio'> & { ratio?: number }): Figure {
  return { ...f, ratio: f.ratio ?? round(f.value / f.baseline_value, 3) };
}

export function round(n: number, digits = 1): number {
  const k = 10 ** digits;
  return Math.round(n * k) / k;
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

export function encode(i: number, timestampNs: bigint, payloadBytes: number): { bytes: Uint8Array; message: ArchiveMessage } {
  const payload = Buffer.alloc(payloadBytes, i % 251);
  payload.writeUInt32BE(i >>> 0, 0);
  const contentTopic = CONTENT[i % CONTENT.length] ?? '';
  const bytes = proto_message.WakuMessage.encode({ payload, contentTopic, timestamp: timestampNs, version: 0 });
  return {
    bytes,
    message: { hash: messageHash(PUBSUB, { payload, contentTopic, timestamp: timestampNs }), pubsubTopic: PUBSUB, contentTopic, timestamp: timestampNs, message: bytes },
  };
}

/** The messages generatedArchive holds, in order: `count` spread evenly over `spanMs` ending at the hour of `endMs`. */
export function* generatedMessages(count: number, payloadBytes: number, spanMs: number, endMs: number): Generator<{ bytes: Uint8Array; message: ArchiveMessage }> {
  const endBucket = Math.floor(endMs / 3_600_000) * 3_600_000;
  const step = spanMs / count;
  for (let i = 0; i < count; i++) yield encode(i, BigInt(Math.floor(endBucket - spanMs + i * step)) * 1_000_000n + BigInt(i % 1000), payloadBytes);
}

/**
 * An archive of `count` messages spread evenly over `spanMs` ending `endMs`,
 * written once per (count, size, span) into a cache dir and copied from there.
 */
export function generatedArchive(dataDir: string, count: number, payloadBytes: number, spanMs: number, endMs: number): string {
  const cacheDir = join(process.cwd(), 'test-output', 'bench-cache');
  mkdirSync(cacheDir, { recursive: true });
  const endBucket = Math.floor(endMs / 3_600_000) * 3_600_000; // reuse within the hour
  const cached = join(cacheDir, `archive-${PUBSUB.split('/').pop()}-${count}-${payloadBytes}-${spanMs}-${endBucket}.sqlite`);
  if (!existsSync(cached)) {
    const archive = Archive.open(cached);
    let batch: ArchiveMessage[] = [];
    for (const { message } of generatedMessages(count, payloadBytes, spanMs, endMs)) {
      batch.push(message);
      if (batch.length === 20_000) {
        archive.insert(batch);
        batch = [];
      }
    }
    archive.insert(batch);
    archive.close();
  }
  mkdirSync(dataDir, { recursive: true });
  const path = join(dataDir, ARCHIVE_FILE);
  copyFileSync(cached, path);
  return path;
}

export function printTable(figures: Figure[]): void {
  const rows = figures.map((f) => [f.bench, `${f.value} ${f.unit}`, `${f.baseline_value} ${f.unit}`, f.baseline, String(f.ratio), f.target ?? '', f.ok === undefined ? '' : f.ok ? 'yes' : 'NO']);
  const head = ['benchmark', 'value', 'baseline value', 'baseline', 'ratio', 'target', 'met'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ');
  console.log(line(head));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of rows) console.log(line(r));
}
