/**
 * Time units: the archive and the wire count nanoseconds (bigint, beyond 2^53),
 * coverage and the status count milliseconds (number). One home for the
 * conversions between them.
 */
export const DAY_MS = 24 * 60 * 60 * 1000;
export const NS_PER_MS = 1_000_000n;

export function msToNs(ms: number): bigint {
  return BigInt(Math.trunc(ms)) * NS_PER_MS;
}

export function nsToMs(ns: bigint): number {
  return Number(ns / NS_PER_MS);
}

/** nsToMs for a value that may be absent. */
export function nsToMsOrNull(ns: bigint | null | undefined): number | null {
  return ns === null || ns === undefined ? null : nsToMs(ns);
}

export function nowNs(): bigint {
  return msToNs(Date.now());
}

/** Resolves after `ms`, without holding the process open. */
export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

/** Resolves after `ms`, or as soon as `signal` aborts. */
export function delayUnlessAborted(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    t.unref();
    signal.addEventListener('abort', done, { once: true });
    function done(): void {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
  });
}
