import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { overallShares, topicHistory } from '../../main/core/history/completeness.ts';
import type { CoverageRow } from '../../main/core/history/history-store.ts';
import { DAY_MS } from '../../main/core/util/time.ts';

const T = 'topic';
const NO_MARGIN = { marginMs: 0 };
let id = 0;
const row = (kind: 'online' | 'filled', start: number, end: number, verified = true, peers: string[] = []): CoverageRow => ({
  id: ++id, scopeId: 1, pubsubTopic: T, kind, start, end, verified, attested: verified, peers, messages: 0, recordedMs: 0,
});

describe('completeness', () => {
  const window = { start: 10 * DAY_MS, end: 12 * DAY_MS };

  it('is zero with no coverage, with the whole window as gaps split at days', () => {
    const h = topicHistory(T, [], window, NO_MARGIN, () => undefined);
    assert.equal(h.coveredShare, 0);
    assert.deepEqual(h.gaps.map((g) => [g.startMs, g.endMs, g.reason]), [
      [10 * DAY_MS, 11 * DAY_MS, 'pending'],
      [11 * DAY_MS, 12 * DAY_MS, 'pending'],
    ]);
  });

  it('counts online and filled time, and only verified fills in the verified share', () => {
    const rows = [
      row('online', 10 * DAY_MS, 10.5 * DAY_MS),
      row('filled', 10.5 * DAY_MS, 11 * DAY_MS, true, ['a', 'b']),
      row('filled', 11 * DAY_MS, 11.5 * DAY_MS, false, ['a']),
      row('online', 11.25 * DAY_MS, 11.5 * DAY_MS),
      row('online', 9 * DAY_MS, 9.5 * DAY_MS), // before the window
    ];
    const h = topicHistory(T, rows, window, NO_MARGIN, (g) => (g.start === 11.5 * DAY_MS ? { reason: 'no-peer', detail: null } : undefined));
    assert.equal(h.coveredShare, 0.75);
    assert.equal(h.verifiedShare, 0.625);
    assert.deepEqual(h.unverified.map((u) => [u.startMs, u.endMs]), [[11 * DAY_MS, 11.25 * DAY_MS]]);
    assert.deepEqual(h.gaps.map((g) => [g.startMs, g.endMs, g.reason]), [[11.5 * DAY_MS, 12 * DAY_MS, 'no-peer']]);
    assert.deepEqual(h.online.map((o) => [o.startMs, o.endMs]), [[10 * DAY_MS, 10.5 * DAY_MS], [11.25 * DAY_MS, 11.5 * DAY_MS]]);
    // The timeline partitions the window: each instant once, best holding first.
    assert.deepEqual(
      h.segments.map((x) => [x.kind, x.startMs / DAY_MS, x.endMs / DAY_MS]),
      [
        ['online', 10, 10.5],
        ['verified', 10.5, 11],
        ['unverified', 11, 11.25],
        ['online', 11.25, 11.5],
        ['missing', 11.5, 12],
      ],
    );
    assert.deepEqual(h.segments[1]?.peers, ['a', 'b']);
    assert.equal(h.segments[4]?.reason, 'no-peer');
  });

  it('reaches 1 when coverage spans the window', () => {
    const h = topicHistory(T, [row('online', 0, 20 * DAY_MS)], window, NO_MARGIN, () => undefined);
    assert.equal(h.coveredShare, 1);
    assert.equal(h.verifiedShare, 1);
    assert.deepEqual(h.gaps, []);
  });

  it('sums topics up as the mean of their shares, and nothing as zero', () => {
    const full = topicHistory('a', [row('online', 10 * DAY_MS, 12 * DAY_MS)], window, NO_MARGIN, () => undefined);
    const half = topicHistory('b', [row('filled', 10 * DAY_MS, 11 * DAY_MS, false, ['p'])], window, NO_MARGIN, () => undefined);
    assert.deepEqual(overallShares([full, half]), { coveredShare: 0.75, verifiedShare: 0.5, unattestedShare: 0.25 });
    assert.deepEqual(overallShares([]), { coveredShare: 0, verifiedShare: 0, unattestedShare: 0 });
  });

  it('counts online time as held only the clock margin inside its ends, and leaves the edges to gap filling', () => {
    const HOUR = 3_600_000;
    const h = topicHistory(T, [row('online', 10 * DAY_MS, 11 * DAY_MS)], window, { marginMs: HOUR }, () => undefined);
    assert.deepEqual(h.online.map((o) => [o.startMs, o.endMs]), [[10 * DAY_MS + HOUR, 11 * DAY_MS - HOUR]]);
    assert.equal(h.verifiedShare, (DAY_MS - 2 * HOUR) / (2 * DAY_MS));
    assert.deepEqual(h.gaps.slice(0, 2).map((g) => [g.startMs, g.endMs]), [[10 * DAY_MS, 10 * DAY_MS + HOUR], [11 * DAY_MS - HOUR, 11 * DAY_MS]]);
  });

  it('tells held and verified from held but unattested', () => {
    const rows = [
      row('filled', 10 * DAY_MS, 11 * DAY_MS, true, ['a', 'b']),
      { ...row('filled', 11 * DAY_MS, 11.5 * DAY_MS, false, ['nwaku']), attested: false },
      { ...row('filled', 11.5 * DAY_MS, 11.75 * DAY_MS, false, ['a']), attested: true },
    ];
    const h = topicHistory(T, rows, window, NO_MARGIN, () => undefined);
    assert.equal(h.verifiedShare, 0.5);
    assert.equal(h.coveredShare, 0.875);
    assert.equal(h.unattestedShare, 0.375);
    assert.deepEqual(h.unverified.map((u) => [u.startMs, u.attested]), [[11 * DAY_MS, false], [11.5 * DAY_MS, true]]);
    assert.deepEqual(h.segments.map((x) => x.kind), ['verified', 'unverified', 'unverified', 'missing']);
  });
});
