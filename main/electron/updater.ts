/**
 * Automatic updates from GitHub releases (electron-updater), with an off
 * switch, and silence when offline: a failed check is logged, never shown.
 */
import electronUpdater from 'electron-updater';
import { app } from 'electron';

const SIX_HOURS = 6 * 60 * 60 * 1000;

export interface Updater {
  setEnabled(enabled: boolean): void;
}

export function setupUpdater(enabled: boolean, log: (level: 'info' | 'warning', what: string) => void): Updater {
  const { autoUpdater } = electronUpdater;
  let timer: NodeJS.Timeout | undefined;
  const check = (): void => {
    autoUpdater.checkForUpdatesAndNotify().catch((err: unknown) => log('info', `update check skipped: ${String(err).slice(0, 200)}`));
  };
  autoUpdater.logger = null;
  autoUpdater.on('error', (err: Error) => log('info', `update check failed quietly: ${err.message.slice(0, 200)}`));
  autoUpdater.on('update-downloaded', (info: { version: string }) => log('info', `update ${info.version} downloaded; it installs on quit`));
  const updater: Updater = {
    setEnabled(on: boolean): void {
      clearInterval(timer);
      timer = undefined;
      autoUpdater.autoDownload = on;
      // Only a packaged app has a version to compare and a feed to ask.
      if (!on || !app.isPackaged) return;
      check();
      timer = setInterval(check, SIX_HOURS);
      timer.unref();
    },
  };
  updater.setEnabled(enabled);
  return updater;
}
