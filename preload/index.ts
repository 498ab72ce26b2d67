/**
 * The preload: exposes the typed Keeper API to the dashboard as `window.keeper`,
 * each command a one-liner over its own fixed channel, each subscription
 * handing the listener the data only, never the IPC event. No generic invoke
 * or send, no ipcRenderer.
 */
import { contextBridge, ipcRenderer } from 'electron';
import type { IpcRendererEvent } from 'electron';
import type { KeeperApi, KeeperStatus, LogEntry } from '../main/contract/contract.ts';
import { COMMANDS } from '../main/contract/contract.ts';
import { LOG_CHANNEL, STATUS_CHANNEL, commandChannel } from '../main/contract/channels.ts';

function subscribe<T>(channel: string, listener: (value: T) => void): () => void {
  const forward = (_event: IpcRendererEvent, value: T): void => listener(value);
  ipcRenderer.on(channel, forward);
  return () => {
    ipcRenderer.removeListener(channel, forward);
  };
}

const commands = Object.fromEntries(
  COMMANDS.map((name) => [name, (arg?: unknown) => ipcRenderer.invoke(commandChannel(name), arg)]),
) as unknown as Omit<KeeperApi, 'onStatus' | 'onLog'>; // built from the list; the contract types it

const api: KeeperApi = {
  ...commands,
  onStatus: (listener: (status: KeeperStatus) => void) => subscribe(STATUS_CHANNEL, listener),
  onLog: (listener: (entry: LogEntry) => void) => subscribe(LOG_CHANNEL, listener),
};

contextBridge.exposeInMainWorld('keeper', api);
