/**
 * IPC: one handler per command on its own channel, each checking that the
 * sender is the app's own window showing app://keeper/, and the live feed
 * pushed to that window.
 */
import { ipcMain } from 'electron';
import type { BrowserWindow, IpcMainInvokeEvent } from 'electron';
import type { ApiResult, KeeperCommands } from '../contract/contract.ts';
import { COMMANDS } from '../contract/contract.ts';
import type { Keeper } from '../core/keeper.ts';
import { LOG_CHANNEL, STATUS_CHANNEL, commandChannel } from '../contract/channels.ts';
import { isAppUrl } from './window.ts';

export function isTrustedSender(event: IpcMainInvokeEvent, win: BrowserWindow | null): boolean {
  return win !== null && !win.isDestroyed() && event.sender === win.webContents && isAppUrl(event.senderFrame?.url ?? '');
}

/** Registers the command handlers; returns the channels, for the smoke test to compare with the preload's. */
export function registerIpc(getKeeper: () => Keeper | null, getWindow: () => BrowserWindow | null): string[] {
  const channels: string[] = [];
  for (const name of COMMANDS) {
    const channel = commandChannel(name);
    ipcMain.handle(channel, async (event, arg: unknown): Promise<ApiResult<unknown>> => {
      if (!isTrustedSender(event, getWindow())) return { ok: false, error: { code: 'invalid', message: 'refused: not the app window' } };
      const keeper = getKeeper();
      if (keeper === null) return { ok: false, error: { code: 'unavailable', message: 'The node is paused.' } };
      // Each command takes at most one argument; the contract types it, the Keeper checks it.
      const fn = keeper.commands[name] as (a: unknown) => Promise<ApiResult<unknown>>;
      return fn.call(keeper.commands, arg);
    });
    channels.push(channel);
  }
  return channels;
}

/** Pushes status snapshots and log entries to the window; returns the function that stops it. */
export function pushFeed(keeper: Keeper, win: BrowserWindow): () => void {
  return keeper.status.subscribe({
    status: (s) => {
      if (!win.isDestroyed()) win.webContents.send(STATUS_CHANNEL, s);
    },
    log: (e) => {
      if (!win.isDestroyed()) win.webContents.send(LOG_CHANNEL, e);
    },
  });
}
