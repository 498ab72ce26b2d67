/**
 * Writes a file so that a crash leaves the old content or the new, never half
 * of either: the bytes go to a temporary file beside it, which is then renamed
 * over the target (atomic on the same file system).
 */
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

export function writeFileAtomic(path: string, data: string | Uint8Array, opts: { mode?: number } = {}): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.tmp`;
  writeFileSync(tmp, data, opts.mode === undefined ? {} : { mode: opts.mode });
  renameSync(tmp, path);
}
