/**
 * The tray: a dot in the state's colour, the completeness and peers in its
 * tooltip and first line, and the few things one does without opening the
 * window: open it, pause or resume the node, open the data folder, the desktop
 * settings, quit.
 */
import { Menu, Tray, nativeImage } from 'electron';
import type { MenuItemConstructorOptions } from 'electron';
import { join } from 'node:path';
import type { KeeperStatus } from '../contract/contract.ts';
import type { DesktopSettings } from './desktop-settings.ts';

export type TrayState = 'online' | 'offline' | 'paused' | 'error';

export interface TrayActions {
  open(): void;
  togglePause(): void;
  openDataFolder(): void;
  setDesktop(change: Partial<DesktopSettings>): void;
  quit(): void;
}

export interface TrayView {
  state: TrayState;
  status: KeeperStatus | null;
  desktop: DesktopSettings;
}

export function trayState(status: KeeperStatus | null, paused: boolean): TrayState {
  if (paused) return 'paused';
  if (status === null || status.archive.error !== null) return 'error';
  return status.state === 'online' ? 'online' : 'offline';
}

/** The first line of the menu and the tooltip: state, completeness, peers. */
export function summary(view: TrayView): string {
  if (view.state === 'paused') return 'Paused';
  const s = view.status;
  if (s === null) return 'Starting…';
  // What the node can attest: held and verified.
  const pct = Math.floor(s.history.verifiedShare * 1000) / 10;
  const state = view.state === 'online' ? 'Online' : view.state === 'error' ? 'Archive error' : 'Offline';
  return `${state} · ${pct.toFixed(1)} % complete · ${s.peers.length} peer${s.peers.length === 1 ? '' : 's'}`;
}

export function menuTemplate(view: TrayView, actions: TrayActions): MenuItemConstructorOptions[] {
  const d = view.desktop;
  return [
    { label: summary(view), enabled: false },
    { type: 'separator' },
    { label: 'Open Waku Keeper', click: () => actions.open() },
    { label: view.state === 'paused' ? 'Resume node' : 'Pause node', click: () => actions.togglePause() },
    { label: 'Open data folder', click: () => actions.openDataFolder() },
    { type: 'separator' },
    { label: 'Keep running when the window closes', type: 'checkbox', checked: d.closeToTray, click: () => actions.setDesktop({ closeToTray: !d.closeToTray }) },
    { label: 'Launch at login', type: 'checkbox', checked: d.launchAtLogin, click: () => actions.setDesktop({ launchAtLogin: !d.launchAtLogin }) },
    { label: 'Notifications', type: 'checkbox', checked: d.notifications, click: () => actions.setDesktop({ notifications: !d.notifications }) },
    { label: 'Automatic updates', type: 'checkbox', checked: d.autoUpdate, click: () => actions.setDesktop({ autoUpdate: !d.autoUpdate }) },
    { type: 'separator' },
    { label: 'Quit Waku Keeper', click: () => actions.quit() },
  ];
}

export class KeeperTray {
  private readonly tray: Tray;
  private readonly iconDir: string;
  private readonly actions: TrayActions;
  private shown: TrayState | null = null;

  constructor(iconDir: string, actions: TrayActions) {
    this.iconDir = iconDir;
    this.actions = actions;
    this.tray = new Tray(this.icon('offline'));
    this.tray.on('click', () => actions.open());
  }

  private icon(state: TrayState): Electron.NativeImage {
    return nativeImage.createFromPath(join(this.iconDir, `tray-${state}.png`));
  }

  update(view: TrayView): void {
    if (this.shown !== view.state) {
      this.tray.setImage(this.icon(view.state));
      this.shown = view.state;
    }
    this.tray.setToolTip(`Waku Keeper — ${summary(view)}`);
    this.tray.setContextMenu(Menu.buildFromTemplate(menuTemplate(view, this.actions)));
  }

  destroy(): void {
    this.tray.destroy();
  }
}
