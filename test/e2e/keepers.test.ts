/**
 * "Keepers of this community" in Debian's Chromium against real Keepers on
 * loopback: three Keepers of one community whose past downtimes were
 * staggered; the owner's page lists all three with their roles and the
 * owner's endorsement, and its coverage map flags the stretches held by fewer
 * than two — the figures on screen are those of /api/status. The screenshot
 * goes to test-output/screenshots/keepers.png.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import type { Browser, Page } from 'playwright-core';
import type { Community, KeeperStatus } from '../../main/contract/contract.ts';
import { SETTINGS_FILE } from '../../main/core/settings/settings-file.ts';
import { formatPercent } from '../../renderer/src/lib/format.ts';
import { clusterOf } from '../helpers/cluster.ts';
import { seedArchive, seedOnline, startKeeper } from '../helpers/keeper.ts';
import type { TestKeeper } from '../helpers/keeper.ts';
import { archiveMessage, TEST_CONTENT, TEST_PUBSUB } from '../helpers/messages.ts';
import { waitFor } from '../helpers/wait.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const RENDERER = join(ROOT, 'dist', 'renderer');
const SHOTS = join(ROOT, 'test-output', 'screenshots');
const CHROMIUM = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'].find(
  (p): p is string => p !== undefined && existsSync(p),
);
const skip = CHROMIUM === undefined && process.env.CI === undefined ? 'no Chromium found: install it or set CHROMIUM_PATH' : false;
const DAY = 86_400_000;
const COMMUNITY: Community = { name: 'Test Community', pubsubTopic: TEST_PUBSUB, contentTopics: TEST_CONTENT };

describe('Keepers of this community, in Chromium', { skip }, () => {
  const live: TestKeeper[] = [];
  let browser: Browser;
  let page: Page;
  let owner: TestKeeper;
  let token = '';

  const status = async (): Promise<KeeperStatus> => {
    const res = await fetch(`${owner.apiUrl}/api/status`, { headers: { Authorization: `Bearer ${token}` } });
    return (await res.json()) as KeeperStatus;
  };

  before(async () => {
    assert.ok(existsSync(join(RENDERER, 'index.html')), 'build the dashboard first: npm run build:renderer');
    mkdirSync(SHOTS, { recursive: true });
    const now = Date.now();
    const members = await clusterOf(3);
    // The owner was up for the last 20 days; one volunteer for days 30 to 12, the other for the last 6.
    const past: [number, number][] = [[20, 0], [29.5, 12], [6, 0]];
    members.forEach((m, i) => {
      const [from, to] = past[i] as [number, number];
      const start = now - from * DAY;
      const end = now - to * DAY;
      seedArchive(m.dir, Array.from({ length: 40 }, (_, j) => archiveMessage({ timestamp: BigInt(Math.round(start + ((end - start) * (j + 0.5)) / 40)) * 1_000_000n, contentTopic: TEST_CONTENT[j % 3] })));
      seedOnline(m.dir, [{ start, end }]);
      writeFileSync(join(m.dir, SETTINGS_FILE), JSON.stringify({ role: i === 0 ? 'owner' : 'volunteer', communities: [COMMUNITY], storePeers: [] }));
    });
    for (const [i, m] of members.entries()) {
      live.push(await startKeeper({ heartbeatMs: 200, settleMs: 1000, keepersAnnounceIntervalMs: 5_000, fillIntervalMs: 3_600_000, listen: [m.listen], peers: m.others, ...(i === 0 ? { rendererDir: RENDERER } : {}) }, m.dir));
    }
    owner = live[0] as TestKeeper;
    token = readFileSync(join(owner.dataDir, 'api-token'), 'utf8').trim();
    await waitFor('the owner to vouch for both volunteers', async () => (await status()).announce[0]?.keepers.filter((k) => k.endorsedByOwner).length === 2, { timeoutMs: 40_000 });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
    page = await browser.newPage({ viewport: { width: 1280, height: 900 }, colorScheme: 'light' });
    page.on('pageerror', (err) => assert.fail(`page error: ${err.message}`));
  });

  after(async () => {
    await browser?.close();
    for (const k of live) await k.dispose();
  });

  it('lists the Keepers with role, endorsement and holdings, and maps the month with its thin stretches', async () => {
    await page.goto(`${owner.apiUrl}/#token=${token}`);
    await page.getByRole('link', { name: 'Keepers of this community', exact: true }).click();
    const panel = page.getByTestId('community-keepers');
    await panel.waitFor();
    await waitFor('three Keeper rows', async () => (await page.getByTestId('keeper-row').count()) === 3);
    const s = await status();
    const view = s.announce[0];
    assert.ok(view !== undefined);
    assert.equal(await page.getByTestId('keeper-count').textContent(), '3');
    assert.equal(await page.getByTestId('endorsed').count(), 2);
    for (const k of view.keepers) {
      const row = page.locator(`[data-testid="keeper-row"][data-peer="${k.peerId}"]`);
      assert.equal(await row.getByTestId('held-share').textContent(), formatPercent(k.heldShare));
    }
    // Days 12 to 6 ago rest on the owner alone, and so do the days before 20 on one volunteer: both thin.
    assert.ok(view.map.some((x) => x.thin && x.keepers === 1 && x.startMs <= Date.now() - 11 * DAY && x.endMs >= Date.now() - 7 * DAY));
    assert.ok((await page.locator('.map .cell[data-thin="true"]').count()) >= 2);
    assert.ok((await page.getByTestId('thin-stretches').locator('li').count()) >= 2);
    assert.equal(await page.getByTestId('thin-share').textContent(), formatPercent(view.thinShare));
    await page.screenshot({ path: join(SHOTS, 'keepers.png'), fullPage: true });
  });
});
