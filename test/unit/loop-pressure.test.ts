/**
 * Background work steps back while the event loop is pressed by foreground
 * work, and only then: idle, or pressed by nothing but itself, `calm()`
 * resolves at once; with serving at work and the loop blocked in long turns it
 * waits, but never past its bound.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { calm, foreground, loopDelayMs, PRESSURE_THRESHOLD_MS, PRESSURE_WINDOW_MS } from '../../main/core/util/loop-pressure.ts';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('loop pressure', () => {
  it('costs nothing on an idle loop', async () => {
    await calm(AbortSignal.timeout(5_000));
    await sleep(2 * PRESSURE_WINDOW_MS + 50);
    const t = performance.now();
    await calm(AbortSignal.timeout(5_000));
    assert.ok(performance.now() - t < 20, `waited ${performance.now() - t} ms on an idle loop`);
  });

  it('waits while serving presses the loop in long turns, not while only background work does; bounded, then half the time', async () => {
    // Turns of 3× the threshold, back to back, for two and a half seconds.
    const until = Date.now() + 2_500;
    let serving = false;
    const blocker = setInterval(() => {
      if (serving) foreground();
      const end = Date.now() + 3 * PRESSURE_THRESHOLD_MS;
      while (Date.now() < end && Date.now() < until) {
        // busy: the loop is pressed
      }
    }, 1);
    try {
      await sleep(2 * PRESSURE_WINDOW_MS + 50);
      assert.ok(loopDelayMs() > PRESSURE_THRESHOLD_MS, `the delay seen: ${loopDelayMs()} ms`);
      // Pressed, but by nothing that serves: no reason to step back.
      const alone = Date.now();
      await calm(AbortSignal.timeout(10_000));
      assert.ok(Date.now() - alone < 50, `waited ${Date.now() - alone} ms with no foreground work`);
      serving = true;
      await sleep(50);
      const t = Date.now();
      await calm(AbortSignal.timeout(10_000));
      const waited = Date.now() - t;
      assert.ok(waited >= 900, `stepped back ${waited} ms, until its bound`);
      assert.ok(waited < 1_500, `never past the bound: ${waited} ms`);
      // Still pressed, but the last wait ran out: background work gets its turn now.
      const turn = Date.now();
      await calm(AbortSignal.timeout(10_000));
      assert.ok(Date.now() - turn < 50, `after a wait ran out it went on, ${Date.now() - turn} ms`);
    } finally {
      clearInterval(blocker);
    }
  });

  it('an aborted signal ends the wait at once', async () => {
    const c = new AbortController();
    c.abort();
    const t = performance.now();
    await calm(c.signal);
    assert.ok(performance.now() - t < 20);
  });
});
