/**
 * The desktop app's main process: the Keeper runs here, beside one window, a
 * tray, launch at login, notifications and updates. Each concern is a small
 * module; this file wires them. Everything the node does lives in main/core.
 */
import { app, BrowserWindow, dialog, Notification, shell } from 'electron';
import { join } from 'node:path';
import type { KeeperEvent, KeeperStatus } from '../contract/contract.ts';
import { parseCli } from '../core/settings/config.ts';
import { AlertWatcher } from './alerts.ts';
import { setLaunchAtLogin } from './autostart.ts';
import { loadDesktopSettings, saveDesktopSettings } from './desktop-settings.ts';
import type { DesktopSettings } from './desktop-settings.ts';
import { pushFeed, registerIpc } from './ipc.ts';
import { LogFile, redact } from './log-file.ts';
import { registerAppScheme, serveApp } from './protocol.ts';
import { NodeRunner } from './runner.ts';
import { KeeperTray, trayState } from './tray.ts';
import { setupUpdater } from './updater.ts';
import type { Updater } from './updater.ts';
import { createMainWindow, denyPermissions } from './window.ts';
import { NODE_FLAGS } from '../node-flags.ts';
import { errorMessage } from '../core/util/errors.ts';

/** Quit waits this long for the node to stop and the archive to close. */
export const QUIT_BOUND_MS = 15_000;
let logFile: LogFile | null = null;

/** The app's own arguments: what follows the app path, without the Chromium and autostart switches. */
function appArgs(): { args: string[]; hidden: boolean } {
  const rest = process.argv.slice(app.isPackaged ? 1 : 2);
  return { args: rest.filter((a) => a !== '--hidden' && !a.startsWith('--enable-') && !a.startsWith('--disable-')), hidden: rest.includes('--hidden') };
}

export async function runDesktop(): Promise<void> {
  const { args, hidden } = appArgs();
  const request = parseCli(args);
  if (request.kind !== 'run') {
    app.exit(0);
    return;
  }
  const config = request.config;
  const root = app.getAppPath();
  config.rendererDir = join(root, 'dist', 'renderer');
  app.setPath('userData', join(config.dataDir, 'electron'));
  const log = new LogFile(config.dataDir);
  logFile = log;
  let desktop = loadDesktopSettings(config.dataDir);
  const alerts = new AlertWatcher(desktop.alertAfterMinutes * 60_000);

  const onEvent = (e: KeeperEvent): void => {
    // The same lines as the headless node, for whoever started the app from a terminal.
    process.stdout.write(`${JSON.stringify(e)}\n`);
    log.write(e.event === 'error' ? 'error' : e.event === 'warning' ? 'warning' : 'info', e);
  };
  const runner = new NodeRunner(config, onEvent);

  await app.whenReady();
  denyPermissions();
  serveApp(config.rendererDir);

  let window: BrowserWindow | null = null;
  let stopFeed: (() => void) | null = null;
  const feedWindow = (): void => {
    stopFeed?.();
    stopFeed = null;
    const keeper = runner.keeper;
    if (keeper !== null && window !== null && !window.isDestroyed()) stopFeed = pushFeed(keeper, window);
  };
  runner.onChange(() => {
    feedWindow();
    feedTray();
  });
  registerIpc(() => runner.keeper, () => window);

  let quitting = false;
  const openWindow = (): void => {
    if (window !== null && !window.isDestroyed()) {
      if (window.isMinimized()) window.restore();
      window.show();
      window.focus();
      return;
    }
    window = createMainWindow(join(root, 'dist', 'preload', 'preload.cjs'));
    window.on('close', (event) => {
      if (!quitting && desktop.closeToTray) {
        event.preventDefault();
        window?.hide();
      }
    });
    window.on('closed', () => {
      stopFeed?.();
      stopFeed = null;
      window = null;
    });
    feedWindow();
  };
  app.on('second-instance', openWindow);
  app.on('activate', openWindow);

  let updater: Updater | null = null;
  const setDesktop = (change: Partial<DesktopSettings>): void => {
    desktop = { ...desktop, ...change };
    saveDesktopSettings(config.dataDir, desktop);
    if (change.launchAtLogin !== undefined) setLaunchAtLogin(desktop.launchAtLogin);
    if (change.autoUpdate !== undefined) updater?.setEnabled(desktop.autoUpdate);
    showTray(lastStatus);
  };

  const quit = async (): Promise<void> => {
    if (quitting) return;
    quitting = true;
    stopTrayFeed?.();
    stopFeed?.();
    const bounded = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), QUIT_BOUND_MS).unref());
    const outcome = await Promise.race([runner.stop('quit').then(() => 'stopped' as const), bounded]);
    if (outcome === 'timeout') log.write('warning', `the node did not stop within ${QUIT_BOUND_MS} ms; quitting anyway`);
    tray.destroy();
    app.exit(0);
  };
  app.on('before-quit', (event) => {
    if (!quitting) {
      event.preventDefault();
      void quit();
    }
  });
  app.on('window-all-closed', () => {
    if (!desktop.closeToTray) void quit();
  });

  const tray = new KeeperTray(join(root, 'build', 'icons'), {
    open: openWindow,
    togglePause: () => void (runner.paused ? runner.start() : runner.stop('paused from the tray')).then(() => showTray(lastStatus), fatal),
    openDataFolder: () => void shell.openPath(config.dataDir),
    setDesktop,
    quit: () => void quit(),
  });
  // The tray follows the same pushed snapshots as the window.
  let lastStatus: KeeperStatus | null = null;
  const showTray = (status: KeeperStatus | null): void => {
    lastStatus = runner.paused ? null : status;
    tray.update({ state: trayState(lastStatus, runner.paused), status: lastStatus, desktop });
    if (lastStatus !== null && desktop.notifications && Notification.isSupported()) {
      for (const a of alerts.update(lastStatus, Date.now())) new Notification({ title: a.title, body: a.body }).show();
    }
  };
  let stopTrayFeed: (() => void) | null = null;
  function feedTray(): void {
    stopTrayFeed?.();
    stopTrayFeed = runner.keeper?.status.subscribe({ status: showTray, log: () => undefined }) ?? null;
    if (stopTrayFeed === null) showTray(null);
  }

  await runner.start();
  if (!hidden) openWindow();
  updater = setupUpdater(desktop.autoUpdate, (level, what) => log.write(level, what));
}

/** A fatal error: said in a dialog that points at the log, then the app exits. */
export function fatal(err: unknown): void {
  const message = errorMessage(err);
  logFile?.write('error', { fatal: redact(err instanceof Error ? (err.stack ?? message) : message) });
  dialog.showErrorBox('Waku Keeper cannot go on', logFile ? `${message}\n\nDetails are in ${logFile.path}` : message);
  app.exit(1);
}

// Before ready: the app:// scheme must be privileged before any window exists,
// and the node's V8 flags apply to the main process.
app.commandLine.appendSwitch('js-flags', NODE_FLAGS.join(' '));
registerAppScheme();
if (!app.requestSingleInstanceLock()) {
  // A second launch: the first instance shows its window (second-instance) and this one leaves.
  app.quit();
} else {
  runDesktop().catch(fatal);
}
