/**
 * How hard the event loop is pressed right now, for work that can wait.
 *
 * Relay and store serving answer on the same loop as gap filling and
 * consistency checks. They mark that they are at work (`foreground()`, a
 * timestamp); background work asks `calm()` before each request it sends:
 * while the loop's recent delay is over the threshold and foreground work was
 * seen within the last second, it steps back in short sleeps (bounded, so it
 * never stops for good), and what is waiting on the loop — a store client's
 * page, a relayed message — goes first. A fill with the loop to itself, or an
 * idle loop, costs nothing. One monitor per process: the loop is the process's.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { delayUnlessAborted } from './time.ts';

/** The window the delay is judged over, and the delay above which background work waits. */
export const PRESSURE_WINDOW_MS = 200;
export const PRESSURE_THRESHOLD_MS = 25;
/** Foreground work seen this recently is what background work steps back for. */
const FOREGROUND_RECENT_MS = 1_000;
const STEP_BACK_MS = 40;
/**
 * The longest a request waits for calm; after a wait that ran out, background
 * work goes on unasked for as long again: under pressure that never lifts it
 * still gets half the time — it slows, it never starves.
 */
const MAX_WAIT_MS = 1_000;

let histogram: ReturnType<typeof monitorEventLoopDelay> | undefined;
let recentMs = 0;
let foregroundAt = -Infinity;
let gaveUpAt = -Infinity;
let timer: NodeJS.Timeout | undefined;

function start(): void {
  histogram = monitorEventLoopDelay({ resolution: 5 });
  histogram.enable();
  timer = setInterval(() => {
    if (histogram === undefined) return;
    // The delay past the sampling resolution itself.
    recentMs = Math.max(0, histogram.max / 1e6 - 5);
    histogram.reset();
  }, PRESSURE_WINDOW_MS);
  timer.unref();
}

/** Relay or store serving is at work: background work steps back for it while the loop is pressed. */
export function foreground(): void {
  foregroundAt = performance.now();
}

/** The worst loop delay of the last window, in ms. */
export function loopDelayMs(): number {
  return recentMs;
}

/** Waits while serving presses the loop (up to a second, then half the time); resolves at once when it is not. */
export async function calm(signal: AbortSignal, thresholdMs = PRESSURE_THRESHOLD_MS): Promise<void> {
  if (histogram === undefined) start();
  const started = performance.now();
  if (started - gaveUpAt < MAX_WAIT_MS) return;
  const pressed = (): boolean => recentMs > thresholdMs && performance.now() - foregroundAt < FOREGROUND_RECENT_MS;
  while (pressed() && !signal.aborted) {
    if (performance.now() - started >= MAX_WAIT_MS) {
      gaveUpAt = performance.now();
      return;
    }
    await delayUnlessAborted(STEP_BACK_MS, signal);
  }
}
