import { describe, it } from 'node:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { Archive } from '../../main/core/archive/archive.ts';
import { HistoryStore } from '../../main/core/history/history-store.ts';
import { UptimeTracker } from '../../main/core/history/uptime.ts';
import type { TrackedScope } from '../../main/core/history/uptime.ts';

/** The whole-topic scopes of these pubsub topics, as a Keeper that keeps everything on them tracks them. */
const whole = (store: HistoryStore, topics: readonly string[]): TrackedScope[] =>
  topics.map((t) => ({ id: store.ensureScope({ pubsubTopic: t, contentTopics: [] }, null, 0).id, pubsubTopic: t }));

function setup() {
  const archive = Archive.open(':memory:');
  const store = new HistoryStore(archive);
  let now = 1000;
  let online = false;
  const changes: boolean[] = [];
  const tracker = new UptimeTracker(store, () => whole(store, ['t']), () => online, {
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

  it('after a crash the last heartbeat bounds the interval, and the next run opens a new one', () => {
    const dir = mkdtempSync(join(tmpdir(), 'keeper-uptime-'));
    const path = join(dir, 'archive.sqlite');
    try {
      let now = 2000;
      const run = (): { archive: Archive; store: HistoryStore; tracker: UptimeTracker } => {
        const archive = Archive.open(path);
        const store = new HistoryStore(archive);
        return { archive, store, tracker: new UptimeTracker(store, () => whole(store, ['t']), () => true, { heartbeatMs: 10_000, now: () => now }) };
      };
      const first = run();
      first.tracker.beat();
      now = 12_000;
      first.tracker.beat();
      // The process dies at 20 000: the tracker never stops, only the file is left.
      now = 20_000;
      first.archive.close();
      now = 40_000;
      const second = run();
      second.tracker.beat();
      const spans = second.store.coverage('t').map((r) => [r.kind, r.start, r.end]);
      assert.deepEqual(spans, [['online', 2000, 12_000], ['online', 40_000, 40_000]], 'the downtime from 12 000 to 40 000 is not claimed');
      second.archive.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a clean stop closes the interval at the stop', () => {
    const s = setup();
    s.set(2000, true);
    s.tracker.beat();
    s.set(15_000, true);
    s.tracker.stop();
    assert.deepEqual(s.spans(), [['online', 2000, 15_000]]);
    s.archive.close();
  });

  it('a topic no longer relayed keeps the end of its last online beat', () => {
    const archive = Archive.open(':memory:');
    const store = new HistoryStore(archive);
    let now = 1000;
    let topics = ['a', 'b'];
    const tracker = new UptimeTracker(store, () => whole(store, topics), () => true, { heartbeatMs: 10_000, now: () => now });
    tracker.beat();
    now = 2000;
    tracker.beat();
    topics = ['a'];
    now = 3000;
    tracker.beat();
    tracker.stop();
    assert.deepEqual(store.coverage('b').map((r) => [r.start, r.end]), [[1000, 2000]]);
    assert.deepEqual(store.coverage('a').map((r) => [r.start, r.end]), [[1000, 3000]]);
    archive.close();
  });
});
