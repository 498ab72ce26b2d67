/**
 * How hard the event loop is pressed right now, for work that can wait.
 *
 * Relay, store serving and the API answer on the same loop as gap filling and
 * consistency checks. Background work asks `calm()` before each request it
 * sends: while the loop's recent delay is over the threshold it steps back in
 * short sleeps (bounded, so it never stops for good), and what is waiting on
 * the loop — a store client's page, a relayed message — goes first. With the
 * loop idle it costs nothing. One monitor per process: the loop is the process's.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { delayUnlessAborted } from './time.ts';

/** The window the delay is judged over, and the delay above which background work waits. */
export const PRESSURE_WINDOW_MS = 200;
export const PRESSURE_THRESHOLD_MS = 40;
const STEP_BACK_MS = 40;
/** The longest a request waits for calm: background work slows under load, it never starves. */
const MAX_WAIT_MS = 2_000;

let histogram: ReturnType<typeof monitorEventLoopDelay> | undefined;
let recentMs = 0;
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

/** The worst loop delay of the last window, in ms. */
export function loopDelayMs(): number {
  return recentMs;
}

/** Waits while the loop is pressed (up to two seconds); resolves at once when it is not. */
export async function calm(signal: AbortSignal, thresholdMs = PRESSURE_THRESHOLD_MS): Promise<void> {
  if (histogram === undefined) start();
  const until = Date.now() + MAX_WAIT_MS;
  while (recentMs > thresholdMs && Date.now() < until && !signal.aborted) await delayUnlessAborted(STEP_BACK_MS, signal);
}
