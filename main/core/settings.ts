/**
 * What a person sets in the dashboard, kept in `settings.json` in the data dir:
 * role, communities, store peers added by hand, and the storage they donate.
 * Command-line flags still win for the run they are given on.
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from './config.ts';
import { isValidContentTopic, isValidPubsubTopic } from './topics.ts';
import { MAX_CONTENT_TOPICS } from './store/codec.ts';

export const SETTINGS_FILE = 'settings.json';

import type { Community, Role } from './api/contract.ts';

export type { Community, Role };

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

/** Checks a community; throws ConfigError naming the bad field. */
export function checkCommunity(c: unknown): Community {
  if (typeof c !== 'object' || c === null) throw new ConfigError('community', 'must be an object');
  const { name, pubsubTopic, contentTopics } = c as Record<string, unknown>;
  if (typeof name !== 'string' || name.trim() === '' || name.length > 80) throw new ConfigError('name', 'a name of 1 to 80 characters is needed');
  if (typeof pubsubTopic !== 'string' || !isValidPubsubTopic(pubsubTopic)) {
    throw new ConfigError('pubsubTopic', 'not a pubsub topic (example: /waku/2/rs/16/256)');
  }
  if (!Array.isArray(contentTopics)) throw new ConfigError('contentTopics', 'must be a list');
  const topics = [...new Set(contentTopics.map((t) => (typeof t === 'string' ? t.trim() : '')))].filter((t) => t !== '');
  const bad = topics.find((t) => !isValidContentTopic(t));
  if (bad !== undefined) throw new ConfigError('contentTopics', `"${bad}" is not a content topic (example: /waku/1/0x1234abcd/rfc26)`);
  if (topics.length > 100) throw new ConfigError('contentTopics', `at most 100 content topics (${MAX_CONTENT_TOPICS} per store query)`);
  return { name: name.trim(), pubsubTopic, contentTopics: topics };
}

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
  const path = join(dataDir, SETTINGS_FILE);
  writeFileSync(`${path}.tmp`, `${JSON.stringify(settings, null, 2)}\n`, { mode: 0o600 });
  renameSync(`${path}.tmp`, path);
}
