import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { clip, coveredByAtLeast, intersect, normalize, shrink, splitByDay, subtract, totalLength } from '../../main/core/util/intervals.ts';
import { DAY_MS } from '../../main/core/util/time.ts';

const iv = (start: number, end: number) => ({ start, end });

describe('intervals', () => {
  it('normalize merges overlapping and touching intervals and drops empty ones', () => {
    assert.deepEqual(normalize([iv(5, 7), iv(0, 2), iv(2, 3), iv(6, 9), iv(4, 4), iv(10, 12)]), [iv(0, 3), iv(5, 9), iv(10, 12)]);
  });

  it('subtract leaves the uncovered parts, in order', () => {
    assert.deepEqual(subtract(iv(0, 100), []), [iv(0, 100)]);
    assert.deepEqual(subtract(iv(0, 100), [iv(10, 20), iv(15, 30), iv(50, 60)]), [iv(0, 10), iv(30, 50), iv(60, 100)]);
    assert.deepEqual(subtract(iv(0, 100), [iv(-10, 5), iv(90, 200)]), [iv(5, 90)]);
    assert.deepEqual(subtract(iv(0, 100), [iv(0, 100)]), []);
    assert.deepEqual(subtract(iv(10, 20), [iv(0, 5), iv(30, 40)]), [iv(10, 20)]);
  });

  it('clip and totalLength count only what lies inside', () => {
    assert.deepEqual(clip([iv(-5, 5), iv(8, 20)], iv(0, 10)), [iv(0, 5), iv(8, 10)]);
    assert.equal(totalLength([iv(0, 10), iv(5, 15), iv(20, 25)]), 20);
  });

  it('splitByDay cuts at UTC midnight, so pieces are at most 24 h and stable', () => {
    const start = 3 * DAY_MS - 1000;
    const pieces = splitByDay(iv(start, start + 2 * DAY_MS + 2000));
    assert.deepEqual(pieces, [iv(start, 3 * DAY_MS), iv(3 * DAY_MS, 4 * DAY_MS), iv(4 * DAY_MS, 5 * DAY_MS), iv(5 * DAY_MS, 5 * DAY_MS + 1000)]);
    assert.ok(pieces.every((p) => p.end - p.start <= DAY_MS));
    assert.deepEqual(splitByDay(iv(5, 5)), []);
  });
});

describe('interval sets for attested coverage', () => {
  it('shrinks each stretch at both ends and drops what vanishes', () => {
    assert.deepEqual(shrink([{ start: 0, end: 10 }, { start: 20, end: 23 }, { start: 9, end: 12 }], 2), [{ start: 2, end: 10 }]);
  });

  it('intersects two sets', () => {
    const a = [{ start: 0, end: 10 }, { start: 20, end: 30 }];
    const b = [{ start: 5, end: 25 }];
    assert.deepEqual(intersect(a, b), [{ start: 5, end: 10 }, { start: 20, end: 25 }]);
    assert.deepEqual(intersect(a, []), []);
  });

  it('finds what a quorum of sets covers, touching ends not counting as overlap', () => {
    const p = [{ start: 0, end: 10 }];
    const q = [{ start: 5, end: 20 }];
    const r = [{ start: 10, end: 15 }, { start: 18, end: 30 }];
    assert.deepEqual(coveredByAtLeast([p, q, r], 2), [{ start: 5, end: 15 }, { start: 18, end: 20 }]);
    assert.deepEqual(coveredByAtLeast([p, q, r], 1), [{ start: 0, end: 30 }]);
    assert.deepEqual(coveredByAtLeast([p, q, r], 3), []);
    assert.deepEqual(coveredByAtLeast([p, [{ start: 10, end: 20 }]], 2), [], 'adjacent is not overlapping');
    assert.deepEqual(coveredByAtLeast([[{ start: 0, end: 10 }, { start: 5, end: 12 }]], 2), [], 'a set counts once where it overlaps itself');
  });
});
