/** How figures read on screen: one place, so every view says the same thing the same way. */
import type { GapReason } from '../../../main/contract/contract.ts';

/** Why a stretch of history is missing: a short label for tables, a sentence for the timeline. */
export const GAP_REASON: Record<GapReason, { short: string; long: string }> = {
  pending: { short: 'not asked yet', long: 'Not asked yet: the next fill will try it.' },
  'no-peer': { short: 'no store peer reachable', long: 'No store peer could be asked.' },
  'peer-failed': { short: 'peers failed', long: 'The store peers asked failed to answer it completely.' },
  'not-held': {
    short: 'no peer held it',
    long: 'The store peers asked attest they were not there either: it is asked again when one that was comes online.',
  },
  'archive-error': { short: 'archive cannot be written', long: 'The answer could not be stored here: the archive cannot be written (is the disk full?).' },
};

export function formatBytes(n: number): string {
  if (!Number.isFinite(n) || n < 0) return '—';
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let v = n;
  let u = 0;
  while (v >= 1000 && u < units.length - 1) {
    v /= 1000;
    u++;
  }
  return `${u === 0 ? v : v.toFixed(v < 10 ? 2 : v < 100 ? 1 : 0)} ${units[u]}`;
}

/** A share 0..1 as a percentage; never rounds a not-quite-complete share up to 100 %. */
export function formatPercent(share: number, digits = 1): string {
  if (!Number.isFinite(share)) return '—';
  const factor = 10 ** digits;
  const pct = Math.floor(Math.max(0, Math.min(1, share)) * 100 * factor) / factor;
  return `${pct.toFixed(digits)} %`;
}

/** A duration as its two largest units: "3 d 4 h", "5 min 2 s", "800 ms". */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const parts: [number, string][] = [
    [86_400_000, 'd'],
    [3_600_000, 'h'],
    [60_000, 'min'],
    [1000, 's'],
  ];
  const out: string[] = [];
  let rest = ms;
  for (const [size, unit] of parts) {
    const n = Math.floor(rest / size);
    if (n > 0 || out.length > 0) out.push(`${n} ${unit}`);
    rest -= n * size;
    if (out.length === 2) break;
  }
  return out.filter((p) => !p.startsWith('0 ')).join(' ') || '0 s';
}

export function formatTime(ms: number | null, locale?: string): string {
  if (ms === null || !Number.isFinite(ms)) return '—';
  return new Date(ms).toLocaleString(locale, { dateStyle: 'medium', timeStyle: 'short' });
}

/** How long ago, for "last success" columns. */
export function formatAgo(ms: number | null, now: number): string {
  if (ms === null) return 'never';
  const d = now - ms;
  return d < 5000 ? 'just now' : `${formatDuration(d)} ago`;
}

/** The end of a peer id, which is the part that tells peers apart. */
export function shortId(peerId: string): string {
  return peerId.length <= 12 ? peerId : `…${peerId.slice(-8)}`;
}

export function formatCount(n: number): string {
  return Number.isFinite(n) ? n.toLocaleString('en-US') : '—';
}
