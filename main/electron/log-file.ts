/**
 * The desktop app's log: one JSON line per event in DATA_DIR/logs/keeper.log,
 * rotated at 5 MB. The API token never reaches it.
 */
import { appendFileSync, existsSync, mkdirSync, renameSync, statSync } from 'node:fs';
import { join } from 'node:path';

const MAX_BYTES = 5 * 1024 * 1024;

export class LogFile {
  readonly path: string;

  constructor(dataDir: string) {
    const dir = join(dataDir, 'logs');
    mkdirSync(dir, { recursive: true });
    this.path = join(dir, 'keeper.log');
  }

  write(level: 'info' | 'warning' | 'error', what: unknown): void {
    try {
      if (existsSync(this.path) && statSync(this.path).size > MAX_BYTES) renameSync(this.path, `${this.path}.1`);
      appendFileSync(this.path, `${redact(JSON.stringify({ at: new Date().toISOString(), level, what }))}\n`);
    } catch {
      // Logging must never take the node down (a full disk is reported by the archive).
    }
  }
}

/** Removes bearer tokens and dashboard links' tokens from a line. */
export function redact(line: string): string {
  return line.replace(/token=[0-9a-f]{16,}/g, 'token=…').replace(/Bearer [0-9a-f]{16,}/g, 'Bearer …');
}
