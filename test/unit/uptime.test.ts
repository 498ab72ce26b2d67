import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Archive } from '../../main/core/archive/archive.ts';
import { HistoryStore } from '../../main/core/history/history-store.ts';
import { UptimeTracker } from '../../main/core/history/uptime.ts';

function setup() {
  const archive = Archive.open(':memory:');
  const store = new HistoryStore(archive);
  let now = 1000;
  let online = false;
  const changes: boolean[] = [];
  const tracker = new UptimeTracker(store, ['t'], () => online, {
    heartbeatMs: 10_000,
    now: () => now,
    onChange: (_t, o) => changes.push(o),
  });
  const spans = () => store.coverage('t').map((r) => [r.kind, r.start, r.end]);
  return { archive, store, tracker, spans, changes, set: (t: number, o: boolean) => ((now = t), (online = o)) };
}

describe('uptime', () => {
  it('opens an interval when a topic comes online and extends it each beat', () => {
    const s = setup();
    s.set(1000, false);
    s.tracker.beat();
    assert.deepEqual(s.spans(), []);
    s.set(2000, true);
    s.tracker.beat();
    s.set(3000, true);
    s.tracker.beat();
    assert.deepEqual(s.spans(), [['online', 2000, 3000]]);
    assert.deepEqual(s.changes, [true]);
  });

  it('keeps the last online beat as the end when the topic goes offline', () => {
    const s = setup();
    s.set(2000, true);
    s.tracker.beat();
    s.set(3000, true);
    s.tracker.beat();
    s.set(4000, false);
    s.tracker.beat();
    s.set(5000, true);
    s.tracker.beat();
    assert.deepEqual(s.spans(), [['online', 2000, 3000], ['online', 5000, 5000]]);
    assert.deepEqual(s.changes, [true, false, true]);
  });

  it('after a crash the last heartbeat bounds the interval; a clean stop closes it at the stop', () => {
    const s = setup();
    s.set(2000, true);
    s.tracker.beat();
    s.set(12_000, true);
    s.tracker.beat();
    // Crash: nothing more is written. A new tracker on the same store starts a new interval.
    assert.deepEqual(s.spans(), [['online', 2000, 12_000]]);
    s.set(15_000, true);
    s.tracker.stop();
    assert.deepEqual(s.spans(), [['online', 2000, 15_000]]);
    s.archive.close();
  });
});
