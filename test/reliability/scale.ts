/**
 * How big the reliability runs are: `npm test` runs the quick variant of each
 * part; `npm run test:reliability` sets RELIABILITY_FULL=1 for the full one.
 */
export const FULL = process.env.RELIABILITY_FULL === '1';
export const pick = <T>(quick: T, full: T): T => (FULL ? full : quick);

/** Prints a figure of the run for the closing note and the README. */
export function report(line: string): void {
  console.log(`# ${FULL ? 'full' : 'quick'}: ${line}`);
}
