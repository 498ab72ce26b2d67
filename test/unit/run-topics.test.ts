/**
 * Topics relayed for one run only (nwaku's REST subscriptions): they join the
 * relayed topics with the 'topics' change relay and history follow, are never
 * written to settings.json, and only they can be taken away again.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultConfig } from '../../main/core/settings/config.ts';
import { RuntimeSettings } from '../../main/core/settings/runtime-settings.ts';
import type { SettingsChange } from '../../main/core/settings/runtime-settings.ts';

const BASE = '/waku/2/rs/16/32';
const RUN = '/waku/2/rs/16/7';

function withSettings(test: (s: RuntimeSettings, dir: string, changes: SettingsChange[]) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'keeper-run-topics-'));
  try {
    const s = RuntimeSettings.load(defaultConfig({ dataDir: dir, pubsubTopics: [BASE] }));
    const changes: SettingsChange[] = [];
    s.on('change', (c) => changes.push(c));
    test(s, dir, changes);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('run-time topics', () => {
  it('are relayed with a topics change, and not saved', () => {
    withSettings((s, dir, changes) => {
      assert.deepEqual(s.addRunTopics([RUN, BASE]), { added: [RUN], removed: [] });
      assert.deepEqual(s.plan.pubsubTopics, [BASE, RUN]);
      assert.deepEqual(s.plan.runTopics, [RUN], 'a topic relayed anyway does not become a run-time one');
      assert.ok(s.plan.shards.includes(7));
      assert.deepEqual(changes, [{ kind: 'topics', added: [RUN], removed: [] }]);
      s.addCommunity({ name: 'c', pubsubTopic: '/waku/2/rs/16/64', contentTopics: [] });
      const saved = join(dir, 'settings.json');
      assert.ok(existsSync(saved));
      assert.ok(!readFileSync(saved, 'utf8').includes(RUN));
    });
  });

  it('are removed alone: configured topics stay, and nothing changes announces nothing', () => {
    withSettings((s, _dir, changes) => {
      s.addRunTopics([RUN]);
      changes.length = 0;
      assert.deepEqual(s.removeRunTopics([BASE]), { added: [], removed: [] });
      assert.deepEqual(changes, []);
      assert.deepEqual(s.removeRunTopics([RUN, BASE]), { added: [], removed: [RUN] });
      assert.deepEqual(s.plan.pubsubTopics, [BASE]);
      assert.deepEqual(changes, [{ kind: 'topics', added: [], removed: [RUN] }]);
    });
  });

  it('refuses a bad topic or one on another cluster, changing nothing', () => {
    withSettings((s) => {
      assert.throws(() => s.addRunTopics([RUN, '/waku/2/rs/1/0']), /cluster 1; this Keeper serves cluster 16/);
      assert.throws(() => s.addRunTopics(['not a topic']), /is not a pubsub topic/);
      assert.deepEqual(s.plan.pubsubTopics, [BASE]);
    });
  });
});
