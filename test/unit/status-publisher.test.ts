/**
 * The one status publisher: readers at the same moment share one build, a
 * later reader gets a new one, an event makes a build under way old, and the
 * live feed pushes one snapshot to every follower at once.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { KeeperStatus, LogEntry } from '../../main/contract/contract.ts';
import { EventLog } from '../../main/core/api/event-log.ts';
import { StatusPublisher } from '../../main/core/api/status-publisher.ts';

/** A stand-in snapshot: only its identity matters here. */
const snapshot = (n: number): KeeperStatus => ({ version: String(n) }) as unknown as KeeperStatus; // a tag, not a status

function counting(): { build: () => Promise<KeeperStatus>; builds: () => number } {
  let n = 0;
  return {
    build: async () => {
      n++;
      await new Promise((r) => setTimeout(r, 5));
      return snapshot(n);
    },
    builds: () => n,
  };
}

describe('status publisher', () => {
  it('builds once for readers at the same moment, and anew for a later reader', async () => {
    const c = counting();
    const p = new StatusPublisher(c.build, new EventLog());
    const [a, b, d] = await Promise.all([p.latest(), p.latest(), p.latest()]);
    assert.equal(c.builds(), 1);
    assert.ok(a === b && b === d);
    assert.notEqual(await p.latest(), a, 'a read after the build is never older than itself');
    assert.equal(c.builds(), 2);
    p.stop();
  });

  it('does not hand a build begun before an event to readers after it', async () => {
    const c = counting();
    const log = new EventLog();
    const p = new StatusPublisher(c.build, log);
    const during = p.latest();
    log.emit({ event: 'settings', change: 'role' });
    const after = await p.latest();
    assert.notEqual(after, await during);
    assert.equal(c.builds(), 2);
    p.stop();
  });

  it('pushes the same snapshot to every follower, and every log entry', async () => {
    const c = counting();
    const log = new EventLog();
    const p = new StatusPublisher(c.build, log, { everyMs: 60_000, afterEventMs: 20 });
    const got: { status: KeeperStatus[]; log: LogEntry[] }[] = [];
    const stops = [0, 1, 2].map(() => {
      const sink = { status: [] as KeeperStatus[], log: [] as LogEntry[] };
      got.push(sink);
      return p.subscribe({ status: (s) => sink.status.push(s), log: (e) => sink.log.push(e) });
    });
    await new Promise((r) => setTimeout(r, 30));
    const before = c.builds();
    log.emit({ event: 'warning', message: 'hello' });
    await new Promise((r) => setTimeout(r, 80));
    assert.equal(c.builds(), before + 1, 'one build for all three followers');
    const pushed = got.map((g) => g.status.at(-1));
    assert.ok(pushed[0] !== undefined && pushed.every((s) => s === pushed[0]));
    assert.ok(got.every((g) => g.log.length === 1 && g.log[0]?.event.event === 'warning'));
    for (const stop of stops) stop();
    p.stop();
  });
});
