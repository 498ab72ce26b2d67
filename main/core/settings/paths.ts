/** Where a Keeper keeps its data when nobody says otherwise. */
import { homedir } from 'node:os';
import { join } from 'node:path';

export const APP_DIR_NAME = 'waku-keeper';

/**
 * The user's data directory: $XDG_DATA_HOME (or ~/.local/share) on Linux,
 * ~/Library/Application Support on macOS, %APPDATA% on Windows. The Electron
 * shell passes the same directory, so both modes share one archive.
 */
export function defaultDataDir(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string {
  const home = env.HOME ?? homedir();
  if (platform === 'darwin') return join(home, 'Library', 'Application Support', APP_DIR_NAME);
  if (platform === 'win32') return join(env.APPDATA ?? join(home, 'AppData', 'Roaming'), APP_DIR_NAME);
  return join(env.XDG_DATA_HOME ?? join(home, '.local', 'share'), APP_DIR_NAME);
}

export const ARCHIVE_FILE = 'archive.sqlite';
export const API_TOKEN_FILE = 'api-token';
