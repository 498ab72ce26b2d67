/**
 * What a person sets in the dashboard, kept in `settings.json` in the data dir:
 * role, communities, store peers added by hand, and the storage they donate.
 * Read and written here only; RuntimeSettings owns the values while running.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Community, Role } from '../../contract/contract.ts';
import { checkCommunity } from '../communities/community.ts';
import { writeFileAtomic } from '../util/atomic-file.ts';
import { ConfigError } from '../util/errors.ts';

export const SETTINGS_FILE = 'settings.json';

export interface Settings {
  /** Null until the first-run setup is done. */
  role: Role | null;
  communities: Community[];
  /** Store peers added in the dashboard (multiaddrs with /p2p/). */
  storePeers: string[];
  quotaBytes?: number | undefined;
  retentionMs?: number | undefined;
}

export const EMPTY_SETTINGS: Settings = { role: null, communities: [], storePeers: [] };

function checkSettings(raw: unknown): Settings {
  if (typeof raw !== 'object' || raw === null) throw new ConfigError('settings', 'must be a JSON object');
  const r = raw as Record<string, unknown>;
  const role = r.role ?? null;
  if (role !== null && role !== 'owner' && role !== 'volunteer') throw new ConfigError('role', 'must be "owner" or "volunteer"');
  const communities = Array.isArray(r.communities) ? r.communities.map(checkCommunity) : [];
  const storePeers = Array.isArray(r.storePeers) ? r.storePeers.filter((p): p is string => typeof p === 'string') : [];
  const num = (field: string): number | undefined => {
    const v = r[field];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) throw new ConfigError(field, 'must be a positive number');
    return v;
  };
  return { role, communities, storePeers, quotaBytes: num('quotaBytes'), retentionMs: num('retentionMs') };
}

export function loadSettings(dataDir: string): Settings {
  const path = join(dataDir, SETTINGS_FILE);
  if (!existsSync(path)) return structuredClone(EMPTY_SETTINGS);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new ConfigError(path, `is not valid JSON (${(err as Error).message}); fix or remove it`);
  }
  try {
    return checkSettings(raw);
  } catch (err) {
    if (err instanceof ConfigError) throw new ConfigError(`${path}: ${err.field}`, err.message.slice(err.field.length + 2));
    throw err;
  }
}

/** Writes atomically: a crash leaves the old file or the new one, never half of one. */
export function saveSettings(dataDir: string, settings: Settings): void {
  writeFileAtomic(join(dataDir, SETTINGS_FILE), `${JSON.stringify(settings, null, 2)}\n`, { mode: 0o600 });
}
