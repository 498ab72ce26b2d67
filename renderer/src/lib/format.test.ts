import { describe, it, expect } from 'vitest';
import { formatAgo, formatBytes, formatDuration, formatPercent, shortId } from './format.ts';

describe('format', () => {
  it('bytes in decimal units', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(999)).toBe('999 B');
    expect(formatBytes(1500)).toBe('1.50 KB');
    expect(formatBytes(10_000_000_000)).toBe('10.0 GB');
    expect(formatBytes(-1)).toBe('—');
  });

  it('percent never rounds up to 100 % before it is', () => {
    expect(formatPercent(0.99999)).toBe('99.9 %');
    expect(formatPercent(1)).toBe('100.0 %');
    expect(formatPercent(0.5, 0)).toBe('50 %');
    expect(formatPercent(Number.NaN)).toBe('—');
  });

  it('durations as their two largest units', () => {
    expect(formatDuration(450)).toBe('450 ms');
    expect(formatDuration(62_000)).toBe('1 min 2 s');
    expect(formatDuration(3 * 86_400_000 + 4 * 3_600_000 + 5000)).toBe('3 d 4 h');
    expect(formatDuration(2 * 3_600_000)).toBe('2 h');
  });

  it('ago and short ids', () => {
    expect(formatAgo(null, 1000)).toBe('never');
    expect(formatAgo(1000, 3000)).toBe('just now');
    expect(formatAgo(0, 90_000)).toBe('1 min 30 s ago');
    expect(shortId('16Uiu2HAmSYDMqbqJQxZVc8niDBwxTaJeMzs98szZBEBotvvjDayZ')).toBe('…tvvjDayZ');
    expect(shortId('short')).toBe('short');
  });
});
