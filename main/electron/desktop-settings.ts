/** The desktop app's own settings (the node's live in settings.json): kept in desktop.json. */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../core/util/atomic-file.ts';

export interface DesktopSettings {
  /** Closing the window keeps the node running in the tray. */
  closeToTray: boolean;
  launchAtLogin: boolean;
  /** OS notifications when the node is offline or a gap stays open too long. */
  notifications: boolean;
  alertAfterMinutes: number;
  autoUpdate: boolean;
}

export const DESKTOP_DEFAULTS: DesktopSettings = {
  closeToTray: true,
  launchAtLogin: false,
  notifications: true,
  alertAfterMinutes: 30,
  autoUpdate: true,
};

const FILE = 'desktop.json';

export function loadDesktopSettings(dataDir: string): DesktopSettings {
  const path = join(dataDir, FILE);
  if (!existsSync(path)) return { ...DESKTOP_DEFAULTS };
  try {
    const raw = JSON.parse(readFileSync(path, 'utf8')) as Partial<Record<keyof DesktopSettings, unknown>>;
    const out = { ...DESKTOP_DEFAULTS };
    for (const key of Object.keys(DESKTOP_DEFAULTS) as (keyof DesktopSettings)[]) {
      if (typeof raw[key] === typeof DESKTOP_DEFAULTS[key]) (out as Record<string, unknown>)[key] = raw[key];
    }
    return out;
  } catch {
    // A damaged file only costs the defaults; the node's own settings are elsewhere.
    return { ...DESKTOP_DEFAULTS };
  }
}

export function saveDesktopSettings(dataDir: string, s: DesktopSettings): void {
  const path = join(dataDir, FILE);
  writeFileAtomic(path, `${JSON.stringify(s, null, 2)}\n`);
}
