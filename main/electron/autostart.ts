/**
 * Launch at login: an autostart .desktop entry on Linux (the XDG way, which
 * also works for the AppImage), the OS login items elsewhere.
 */
import { app } from 'electron';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

export function autostartFile(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.XDG_CONFIG_HOME ?? join(homedir(), '.config'), 'autostart', 'waku-keeper.desktop');
}

export function desktopEntry(exec: string): string {
  return [
    '[Desktop Entry]',
    'Type=Application',
    'Name=Waku Keeper',
    'Comment=Keeps Status community history on Waku',
    `Exec="${exec.replace(/"/g, '\\"')}" --hidden`,
    'Terminal=false',
    'X-GNOME-Autostart-enabled=true',
    '',
  ].join('\n');
}

export function setLaunchAtLogin(enabled: boolean): void {
  if (process.platform === 'linux') {
    const file = autostartFile();
    if (enabled) {
      mkdirSync(join(file, '..'), { recursive: true });
      writeFileSync(file, desktopEntry(process.env.APPIMAGE ?? process.execPath));
    } else if (existsSync(file)) {
      rmSync(file);
    }
    return;
  }
  app.setLoginItemSettings({ openAtLogin: enabled, args: ['--hidden'] });
}
