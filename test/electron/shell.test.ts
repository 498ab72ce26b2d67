/**
 * Smoke test of the desktop shell under plain Node: the compiled main entry is
 * loaded with `electron` resolved to a recording fake (this file's process
 * only). Checks the window's security options, the app:// protocol, IPC
 * handlers against the preload's list, sender validation, the tray, and that
 * quitting stops the Keeper and closes its database within the bound.
 */
import './register-fake.ts';
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { COMMANDS } from '../../main/contract/contract.ts';
import { Archive } from '../../main/core/archive/archive.ts';
import { recorded, ipcRenderer } from './fake-electron.ts';
import type { FakeBrowserWindow } from './fake-electron.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const MAIN = join(ROOT, 'dist', 'main', 'electron', 'main.js');
const PRELOAD = join(ROOT, 'dist', 'preload', 'preload.cjs');
const APP_URL = 'app://keeper/index.html';

const waitFor = async (what: string, cond: () => boolean | Promise<boolean>, ms = 20_000): Promise<void> => {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
};

describe('desktop shell (compiled main entry, fake electron)', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'keeper-shell-'));
  let win: FakeBrowserWindow;
  const trustedEvent = (): unknown => ({ sender: win.webContents, senderFrame: { url: APP_URL } });

  before(async () => {
    assert.ok(existsSync(MAIN), 'build the main process first: npm run build:main');
    assert.ok(existsSync(PRELOAD), 'build the preload first: npm run build:preload');
    process.argv = [process.execPath, ROOT, '--data-dir', dataDir, '--no-discovery', '--listen', '/ip4/127.0.0.1/tcp/0', '--api', '127.0.0.1:0'];
    await import(MAIN);
    await waitFor('the window', () => recorded.windows.length === 1 && recorded.windows[0]?.url !== null);
    win = recorded.windows[0]!;
    // The node is up when the status command answers with a value (paused or starting, it answers not ok).
    const getStatus = recorded.ipcHandlers.get('keeper:getStatus');
    assert.ok(getStatus, 'the status handler is registered before the window opens');
    let last: unknown;
    await waitFor('the node to answer getStatus over IPC', async () => {
      last = await getStatus(trustedEvent(), null);
      return (last as { ok: boolean }).ok;
    }).catch((err: unknown) => assert.fail(`${String(err)}; last answer ${JSON.stringify(last)}`));
  });

  after(() => rmSync(dataDir, { recursive: true, force: true }));

  it('opens one window with the secure options, loading app://keeper/', () => {
    const prefs = win.options.webPreferences as Record<string, unknown>;
    assert.equal(prefs.sandbox, true);
    assert.equal(prefs.contextIsolation, true);
    assert.equal(prefs.nodeIntegration, false);
    assert.equal(prefs.nodeIntegrationInWorker, false);
    assert.equal(prefs.webSecurity, true);
    assert.equal(prefs.webviewTag, false);
    assert.equal(prefs.preload, PRELOAD);
    assert.equal(win.url, APP_URL);
    assert.deepEqual(recorded.schemes, [{ scheme: 'app', privileges: { standard: true, secure: true, supportFetchAPI: true } }]);
    assert.deepEqual(recorded.switches, [['js-flags', '--max-semi-space-size=4']], 'the node runs with its V8 flags');
  });

  it('serves the dashboard over app:// with a strict CSP, and nothing outside it', async () => {
    const handler = recorded.protocolHandlers.get('app')!;
    const index = await handler({ url: APP_URL });
    assert.equal(index.status, 200);
    assert.match(index.headers.get('content-security-policy') ?? '', /default-src 'none'; script-src 'self'/);
    assert.match(await index.text(), /<div id="app">/);
    assert.equal((await handler({ url: 'app://keeper/../../package.json' })).status, 404);
    assert.equal((await handler({ url: 'app://keeper/%2e%2e/%2e%2e/package.json' })).status, 404);
    assert.equal((await handler({ url: 'app://other/index.html' })).status, 404);
  });

  it('denies navigation, new windows and every permission', () => {
    let prevented = false;
    win.webContents.emit('will-navigate', { preventDefault: () => (prevented = true) }, 'https://evil.example/');
    assert.ok(prevented, 'navigation away is prevented');
    prevented = false;
    win.webContents.emit('will-navigate', { preventDefault: () => (prevented = true) }, 'app://keeper/index.html#/logs');
    assert.ok(!prevented, 'in-app navigation is allowed');
    assert.deepEqual(win.webContents.openHandler?.({ url: 'https://waku.org/' }), { action: 'deny' });
    assert.deepEqual(recorded.externalOpened, ['https://waku.org/']);
    assert.deepEqual(win.webContents.openHandler?.({ url: 'file:///etc/passwd' }), { action: 'deny' });
    assert.deepEqual(recorded.externalOpened, ['https://waku.org/']);
    let granted: boolean | null = null;
    recorded.permissionRequest?.(win.webContents, 'media', (ok) => (granted = ok));
    assert.equal(granted, false);
    assert.equal(recorded.permissionCheck?.(), false);
  });

  it('registers exactly the IPC handlers the preload exposes', () => {
    const require = createRequire(import.meta.url);
    require(PRELOAD);
    const api = recorded.exposed.get('keeper');
    assert.ok(api, 'the preload exposes window.keeper');
    assert.deepEqual(Object.keys(api).sort(), [...COMMANDS, 'onLog', 'onStatus'].sort());
    assert.ok(Object.values(api).every((v) => typeof v === 'function'), 'functions only');
    assert.ok(!('invoke' in api) && !('send' in api) && !('ipcRenderer' in api));
    for (const name of COMMANDS) void (api[name] as (a?: unknown) => Promise<unknown>)('x');
    assert.deepEqual(recorded.invoked.map((i) => i.channel).sort(), [...recorded.ipcHandlers.keys()].sort());
  });

  it('hands subscribers the data only, and unsubscribes', () => {
    const api = recorded.exposed.get('keeper')!;
    const got: unknown[] = [];
    const off = (api.onStatus as (cb: (s: unknown) => void) => () => void)((s) => got.push(s));
    ipcRenderer.emitFromMain('keeper:status', { state: 'online' });
    assert.deepEqual(got, [{ state: 'online' }]);
    off();
    assert.equal(ipcRenderer.listenerCount('keeper:status'), 0);
  });

  it('answers only the app window showing app://keeper/', async () => {
    const getStatus = recorded.ipcHandlers.get('keeper:getStatus')!;
    const other = { sender: {}, senderFrame: { url: APP_URL } };
    const wrongPage = { sender: win.webContents, senderFrame: { url: 'https://evil.example/' } };
    for (const event of [other, wrongPage]) {
      const r = (await getStatus(event, null)) as { ok: boolean; error?: { message: string } };
      assert.equal(r.ok, false);
      assert.match(r.error?.message ?? '', /not the app window/);
    }
    const r = (await getStatus(trustedEvent(), null)) as { ok: boolean; value: { archive: { path: string } } };
    assert.equal(r.ok, true);
    assert.equal(r.value.archive.path, join(dataDir, 'archive.sqlite'));
  });

  it('pushes status to the window', async () => {
    await waitFor('a pushed status', () => win.webContents.sent.some((m) => m.channel === 'keeper:status'));
  });

  it('shows a tray with the node state and its actions', async () => {
    await waitFor('the tray menu', () => (recorded.trays[0]?.menu.length ?? 0) > 0);
    const tray = recorded.trays[0]!;
    const labels = tray.menu.map((m) => m.label).filter((l): l is string => l !== undefined);
    for (const l of ['Open Waku Keeper', 'Pause node', 'Open data folder', 'Keep running when the window closes', 'Launch at login', 'Notifications', 'Automatic updates', 'Quit Waku Keeper']) {
      assert.ok(labels.includes(l), `tray has "${l}"`);
    }
    assert.match(labels[0] ?? '', /^(Online|Offline) · \d+\.\d % complete · \d+ peers?$/);
    assert.match(tray.tooltip, /^Waku Keeper — /);
  });

  it('keeps running in the tray when the window closes', () => {
    let prevented = false;
    win.emit('close', { preventDefault: () => (prevented = true) });
    assert.ok(prevented);
    assert.equal(win.visible, false);
    assert.equal(recorded.exitCode, null);
  });

  it('quits by stopping the Keeper and closing its database within the bound', async () => {
    const started = Date.now();
    const { app } = await import('./fake-electron.ts');
    app.quit();
    await waitFor('the app to exit', () => recorded.exitCode !== null, 20_000);
    assert.equal(recorded.exitCode, 0);
    const { QUIT_BOUND_MS } = (await import(MAIN)) as { QUIT_BOUND_MS: number };
    assert.ok(Date.now() - started < QUIT_BOUND_MS);
    assert.equal(recorded.trays[0]?.destroyed, true);
    // Closed: no WAL left behind, and the archive opens intact.
    assert.ok(!existsSync(join(dataDir, 'archive.sqlite-wal')), 'the WAL was checkpointed and removed on close');
    const archive = Archive.open(join(dataDir, 'archive.sqlite'));
    assert.equal(archive.integrityCheck(), 'ok');
    archive.close();
    assert.deepEqual(recorded.errorBoxes, []);
  });
});
