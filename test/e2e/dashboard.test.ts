/**
 * The dashboard in Debian's Chromium against real headless Keepers on loopback:
 * first-run setup, every view, the figures on screen against /api/status, and
 * a community and a store peer added through the UI. Screenshots of each view
 * go to test-output/screenshots/.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import type { Browser, Page } from 'playwright-core';
import type { KeeperStatus } from '../../main/contract/contract.ts';
import { formatBytes, formatCount, formatPercent } from '../../renderer/src/lib/format.ts';
import { seedArchive, seedOnline, startKeeper, tempDataDir } from '../helpers/keeper.ts';
import { Archive } from '../../main/core/archive/archive.ts';
import { HistoryStore } from '../../main/core/history/history-store.ts';
import { ARCHIVE_FILE } from '../../main/core/settings/paths.ts';
import type { TestKeeper } from '../helpers/keeper.ts';
import { archiveMessage, TEST_CONTENT, TEST_PUBSUB } from '../helpers/messages.ts';
import { waitFor } from '../helpers/wait.ts';
import { startStoreClient } from '../helpers/store-client.ts';
import { storeQuery } from '../../main/core/store/client.ts';
import { multiaddr } from '@multiformats/multiaddr';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const RENDERER = join(ROOT, 'dist', 'renderer');
const SHOTS = join(ROOT, 'test-output', 'screenshots');
const CHROMIUM = [
  process.env.CHROMIUM_PATH,
  '/usr/bin/chromium',
  '/usr/bin/chromium-browser',
  '/usr/bin/google-chrome',
  '/Applications/Google Chrome.app/Contents/MacOS/Google Chrome',
].find((p): p is string => p !== undefined && existsSync(p));
// CI installs Debian's chromium (.ci/run) and must run these; elsewhere they wait for a browser.
const skip = CHROMIUM === undefined && process.env.CI === undefined ? 'no Chromium found: install it or set CHROMIUM_PATH' : false;
const MS = 1_000_000n;

describe('dashboard in Chromium', { skip }, () => {
  let a: TestKeeper;
  let b: TestKeeper;
  let c: TestKeeper;
  let browser: Browser;
  let page: Page;
  let token = '';

  const status = async (): Promise<KeeperStatus> => {
    const res = await fetch(`${a.apiUrl}/api/status`, { headers: { Authorization: `Bearer ${token}` } });
    return (await res.json()) as KeeperStatus;
  };
  /** How many messages A serves on these content topics of the test pubsub topic (a Store v3 hash-only count). */
  const storedOn = async (contentTopics: string[]): Promise<number> => {
    const client = await startStoreClient();
    try {
      let n = 0;
      let cursor: Uint8Array | undefined;
      for (let page = 0; page < 1000; page++) {
        const res = await storeQuery(client, multiaddr(a.tcpAddr), { pubsubTopic: TEST_PUBSUB, contentTopics, includeData: false, paginationLimit: 100n, paginationCursor: cursor });
        n += res.messages.length;
        cursor = res.paginationCursor;
        if (cursor === undefined) break;
      }
      return n;
    } finally {
      await client.stop();
    }
  };
  const shoot = (name: string): Promise<Buffer> => page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
  const open = async (view: string): Promise<void> => {
    await page.getByRole('link', { name: view, exact: true }).click();
    await page.getByRole('heading', { level: 1, name: view }).waitFor();
  };

  before(async () => {
    assert.ok(existsSync(join(RENDERER, 'index.html')), 'build the dashboard first: npm run build:renderer');
    assert.ok(CHROMIUM !== undefined, 'Chromium not found (apt-get install chromium, or set CHROMIUM_PATH)');
    mkdirSync(SHOTS, { recursive: true });
    // B has been online for 25 days and holds the three busy days of a community's history; A fills from it.
    const now = Date.now();
    const seeded = Array.from({ length: 1500 }, (_, i) =>
      archiveMessage({
        contentTopic: TEST_CONTENT[i % 3],
        timestamp: BigInt(now - 3 * 86_400_000 + i * 170_000) * MS,
        payload: Buffer.alloc(600, i % 251),
      }),
    );
    const bDir = tempDataDir();
    seedArchive(bDir, seeded);
    seedOnline(bDir, [{ start: now - 25 * 86_400_000, end: now }]);
    const fast = { heartbeatMs: 200, settleMs: 1000 };
    b = await startKeeper(fast, bDir);
    c = await startKeeper(fast);
    // A ran before, online for two stretches of the month; the rest it fills from B.
    const aDir = tempDataDir();
    const archive = Archive.open(join(aDir, ARCHIVE_FILE));
    const past = new HistoryStore(archive);
    for (const [from, to] of [[24, 19.5], [9, 6.2]] as const) {
      past.extend(past.openOnline(TEST_PUBSUB, now - from * 86_400_000), now - to * 86_400_000);
    }
    archive.close();
    a = await startKeeper({ ...fast, peers: [b.tcpAddr], storePeers: [b.tcpAddr], fillQuorum: 1, rendererDir: RENDERER }, aDir);
    token = readFileSync(join(a.dataDir, 'api-token'), 'utf8').trim();
    await waitFor('A to fill from B', async () => (await status()).archive.messages === 1500, { timeoutMs: 30_000 });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
    page = await browser.newPage({ viewport: { width: 1280, height: 860 }, colorScheme: 'light' });
    page.on('pageerror', (err) => assert.fail(`page error: ${err.message}`));
  });

  after(async () => {
    await browser?.close();
    for (const k of [a, c, b]) await k?.dispose();
  });

  it('opens with the token from the link, which then leaves the address bar', async () => {
    await page.goto(`${a.apiUrl}/#token=${token}`);
    await page.getByRole('heading', { name: 'Welcome to Waku Keeper' }).waitFor();
    assert.ok(!page.url().includes(token), 'the token is not kept in the URL');
  });

  it('leads a first run through setup: role, community, quota', async () => {
    await shoot('setup');
    await page.getByLabel('I own a community').check();
    // A link is the first way offered; "everything on a topic" stays possible and says so.
    assert.ok(await page.getByLabel('A Status community, by its link').isChecked());
    await page.getByLabel(/Everything this node relays: every content topic on/).waitFor();
    await page.getByLabel('Advanced: custom topics (another Waku app)').check();
    await page.getByLabel('Name').fill('Test Community');
    await page.getByLabel('Pubsub topic').fill(TEST_PUBSUB);
    await page.getByLabel('Content topics').fill(TEST_CONTENT.join('\n'));
    await page.getByLabel('Space the archive may use (GB)').fill('5');
    await page.getByRole('button', { name: 'Start keeping history' }).click();
    await page.getByRole('heading', { level: 1, name: 'Overview' }).waitFor();
    const s = await status();
    assert.equal(s.settings.role, 'owner');
    assert.deepEqual(s.settings.communities, [{ name: 'Test Community', pubsubTopic: TEST_PUBSUB, contentTopics: TEST_CONTENT }]);
    assert.equal(s.archive.quotaBytes, 5e9);
  });

  it('overview: the figures on screen are those of /api/status', async () => {
    await waitFor('the overview to show the archive', async () => (await page.getByTestId('messages-total').textContent()) === formatCount(1500));
    const s = await status();
    assert.equal(await page.getByTestId('messages-total').textContent(), formatCount(s.archive.messages));
    assert.equal(await page.getByTestId('store-peers-connected').textContent(), String(s.history.storePeers.filter((p) => p.connected).length));
    assert.equal(await page.getByTestId('storage-used').textContent(), formatBytes(s.archive.bytes));
    // Completeness grows as the node stays online: the page shows the share of its last push.
    await waitFor('the overview to show the completeness of /api/status', async () =>
      (await page.getByTestId('completeness').textContent()) === formatPercent((await status()).history.verifiedShare),
    );
    // The community just kept is filled first (its past is its own, not the topic's): then the node is simply online.
    await waitFor('the node state to read Online once the new community is filled', async () => (await page.getByTestId('node-state').textContent()) === 'Online');
    await shoot('overview');
  });

  it('history: a timeline per community with sources on focus, and fill now', async () => {
    await open('History');
    const topic = page.locator(`[data-testid="topic-history"][data-topic="${TEST_PUBSUB}"]`);
    await topic.getByRole('heading', { name: 'Test Community' }).waitFor();
    const s = await status();
    const h = s.history.topics.find((t) => t.pubsubTopic === TEST_PUBSUB)!;
    assert.equal(await topic.getByTestId('topic-verified').textContent(), formatPercent(h.verifiedShare));
    assert.equal(await topic.getByTestId('topic-unattested').textContent(), formatPercent(h.unattestedShare));
    const verified = topic.locator('[data-kind="verified"]').first();
    await verified.focus();
    const detail = await topic.locator('.detail').textContent();
    assert.match(detail ?? '', /Filled, verified/);
    assert.match(detail ?? '', new RegExp(`Answered completely by …${b.peerId.slice(-8)}`));
    assert.ok((await topic.locator('[data-kind="online"]').count()) >= 1);
    await page.getByRole('button', { name: 'Fill now' }).click();
    await page.getByRole('button', { name: 'Fill now' }).and(page.locator(':enabled')).waitFor();
    await page.getByTestId('last-fill').waitFor();
    await shoot('history');
  });

  it('store peers: the table matches, and a peer added in the form reaches /api/status', async () => {
    await open('Store peers');
    const row = page.locator(`[data-testid="store-peer-row"][data-peer="${b.peerId}"]`);
    await row.waitFor();
    const s = await status();
    const peer = s.history.storePeers.find((p) => p.peerId === b.peerId)!;
    assert.equal(await row.getByTestId('provided').textContent(), `${formatCount(peer.provided)} / ${formatCount(peer.rejected)}`);
    await page.getByLabel('Add a store peer').fill('/ip4/127.0.0.1/tcp/1');
    await page.getByRole('button', { name: 'Add', exact: true }).click();
    await page.getByRole('alert').filter({ hasText: '/p2p/' }).waitFor();
    await page.getByLabel('Add a store peer').fill(c.tcpAddr);
    await page.getByRole('button', { name: 'Add', exact: true }).click();
    await page.locator(`[data-testid="store-peer-row"][data-peer="${c.peerId}"]`).waitFor();
    const after = await status();
    assert.ok(after.settings.storePeers.includes(c.tcpAddr));
    assert.equal(after.history.storePeers.find((p) => p.peerId === c.peerId)?.source, 'static');
    await shoot('peers');
  });

  it('communities: a community added in the form reaches /api/status', async () => {
    await open('Communities & role');
    await page.getByLabel('Advanced: custom topics (another Waku app)').check();
    await page.getByLabel('Name').fill('Second Community');
    await page.getByLabel('Pubsub topic').fill('/waku/2/rs/16/64');
    await page.getByLabel('Content topics').fill('/waku/1/0x12345678/rfc26');
    await page.getByRole('button', { name: 'Add community' }).click();
    await page.getByTestId('community').filter({ hasText: 'Second Community' }).waitFor();
    const s = await status();
    assert.ok(s.settings.communities.some((x) => x.name === 'Second Community' && x.pubsubTopic === '/waku/2/rs/16/64'));
    assert.ok(s.pubsubTopics.includes('/waku/2/rs/16/64'));
    await page.getByLabel('Name').fill('Bad');
    await page.getByLabel('Pubsub topic').fill('not a topic');
    await page.getByRole('button', { name: 'Add community' }).click();
    await page.getByRole('alert').filter({ hasText: 'pubsub topic' }).waitFor();
    assert.equal((await status()).settings.communities.length, 2);
  });

  it('communities: a pasted Status link shows its id, shards and topics, is kept whole, and is removed with the choice to delete its messages', async () => {
    const key = 'zQ3shYSHp7GoiXaauJMnDcjwU2yNjdzpXLosAWapPS4CFxc11';
    const link = `https://status.app/c/iyKACkQKB0Rvb2RsZXMSJ0NvbG9yaW5nIHRoZSB3b3JsZCB3aXRoIGpveSDigKIg4bSXIOKAohiYohsiByMxMzFEMkYqAwEhMwM=#${key}`;
    await page.getByLabel('A Status community, by its link').check();
    await page.getByLabel('Community link').fill('https://status.app/u#zQ3shwQPhRuDJSjVGVBnTjCdgXy5i9WQaeVPdGJD6yTarJQSj');
    await page.getByRole('alert').filter({ hasText: 'a Status user' }).waitFor();
    await page.getByLabel('Community link').fill(link);
    const preview = page.getByTestId('community-preview');
    await preview.waitFor();
    assert.equal(await preview.getByTestId('preview-id').textContent(), '0x02a3d2fdb9ac335917bf9d46b38d7496c00bbfadbaf832e8aa61d13ac2b4452084');
    const rows = preview.getByTestId('preview-entry');
    assert.deepEqual(await rows.evaluateAll((trs) => trs.map((tr) => [tr.getAttribute('data-topic'), [...tr.querySelectorAll('td:last-child .mono')].map((d) => d.textContent)])), [
      ['/waku/2/rs/16/32', ['/waku/1/0x8f887122/rfc26', '/waku/1/0xdd22b83d/rfc26', '/waku/1/0xfcb2f421/rfc26']],
      ['/waku/2/rs/16/64', ['/waku/1/0xfcb2f421/rfc26']],
    ]);
    assert.equal((await status()).settings.communities.length, 2, 'a preview keeps nothing');
    await shoot('communities');
    await page.getByRole('button', { name: 'Add community' }).click();
    const kept = page.locator('[data-testid="community"][data-community="Doodles"]');
    await kept.waitFor();
    assert.equal(await kept.getByTestId('community-entry').count(), 2);
    // Its own completeness, from its own scope (not its shard's): the card shows what /api/status has for it.
    const card = page.locator('[data-testid="community-history"][data-community="Doodles"]');
    await card.waitFor();
    await waitFor('the card to show the community’s own verified share', async () => {
      const h = (await status()).history.communities.find((c) => c.name === 'Doodles');
      return h !== undefined && (await card.getByTestId('community-verified').textContent()) === formatPercent(h.verifiedShare);
    });
    let s = await status();
    assert.deepEqual(s.settings.communities.filter((c) => c.status !== undefined).map((c) => [c.name, c.pubsubTopic]), [['Doodles', '/waku/2/rs/16/32'], ['Doodles (shard 64)', '/waku/2/rs/16/64']]);
    await page.getByRole('button', { name: 'Remove community Doodles' }).click();
    const ask = page.getByRole('group', { name: 'Remove Doodles?' });
    await ask.getByRole('button', { name: 'Remove and delete its messages' }).click();
    await kept.waitFor({ state: 'detached' });
    s = await status();
    assert.ok(!s.settings.communities.some((c) => c.status !== undefined));
    // Counted by content topic: the archive also keeps the Keepers' announcements of the community that stays.
    assert.equal(await storedOn(TEST_CONTENT), 1500, 'another community’s messages stay');
  });

  it('overview: a Reachability card; the Share page shows the addresses, ENR, QR code and snippets of /api/status', async () => {
    await open('Overview');
    const card = page.getByTestId('reachability');
    await card.waitFor();
    const s = await status();
    assert.equal(await card.getByTestId('reach-reason').textContent(), s.reach.reason);
    assert.equal(await card.getByTestId('reach-verdict').textContent(), s.reach.reachability === 'public' ? 'Reachable' : s.reach.reachability === 'private' ? 'Not reachable' : 'Checking');
    await card.getByRole('link', { name: 'Share this Keeper' }).click();
    await page.getByRole('heading', { level: 1, name: 'Share this Keeper' }).waitFor();
    assert.equal(await page.getByTestId('share-enr').textContent(), s.share.enr);
    const addrs = await page.getByTestId('share-addrs').locator('code').allTextContents();
    assert.deepEqual(addrs, s.share.multiaddrs);
    assert.ok(addrs.includes(a.tcpAddr));
    assert.equal(await page.getByTestId('qr').getAttribute('data-text'), s.share.enr);
    assert.ok((await page.getByTestId('qr').locator('path').getAttribute('d'))!.length > 1000, 'the QR code has modules');
    assert.equal(await page.getByTestId('snippet-fleets').locator('pre').textContent(), s.share.snippets.fleetsEntry);
    assert.equal(await page.getByTestId('snippet-js-waku').locator('pre').textContent(), s.share.snippets.jsWaku);
    assert.equal(await page.getByTestId('snippet-keeper').locator('pre').textContent(), s.share.snippets.storePeerFlag);
    // On loopback nobody outside can dial it: the page says so.
    await page.getByTestId('share-unreachable').waitFor();
    await shoot('share');
  });

  it('settings and logs render, logs filter by level', async () => {
    await open('Settings');
    assert.equal(await page.getByTestId('peer-id').textContent(), a.peerId);
    await shoot('settings');
    await open('Logs');
    await page.getByTestId('log-list').waitFor();
    assert.ok((await page.getByTestId('log-list').locator('li').count()) > 3);
    await page.getByLabel('Level').selectOption('error');
    await page.getByText(/of \d+ recent events/).waitFor();
    await page.getByLabel('Level').selectOption('all');
    await shoot('logs');
  });

  it('follows the OS dark setting and can be driven from the keyboard', async () => {
    await page.emulateMedia({ colorScheme: 'dark' });
    await open('Overview');
    const bg = await page.evaluate('getComputedStyle(document.body).backgroundColor');
    assert.equal(bg, 'rgb(17, 21, 28)');
    await shoot('overview-dark');
    await page.emulateMedia({ colorScheme: 'light' });
    await page.getByRole('link', { name: 'History', exact: true }).focus();
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { level: 1, name: 'History' }).waitFor();
  });
});
