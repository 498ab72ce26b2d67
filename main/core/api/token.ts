/** The local API's bearer token: random, created once, readable by the user only. */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../util/atomic-file.ts';
import { API_TOKEN_FILE } from '../settings/paths.ts';

export function loadOrCreateToken(dataDir: string): string {
  const path = join(dataDir, API_TOKEN_FILE);
  if (existsSync(path)) {
    const token = readFileSync(path, 'utf8').trim();
    if (/^[0-9a-f]{64}$/.test(token)) return token;
  }
  const token = randomBytes(32).toString('hex');
  writeFileAtomic(path, `${token}\n`, { mode: 0o600 });
  return token;
}

/** Compares in constant time: the token must not leak through response timing. */
export function tokenMatches(expected: string, given: string | undefined): boolean {
  if (given === undefined) return false;
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}
