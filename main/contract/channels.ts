/** IPC channel names, shared by the main process and the preload: one fixed channel per command. */
import type { CommandName } from './contract.ts';

export const commandChannel = (name: CommandName): string => `keeper:${name}`;
export const STATUS_CHANNEL = 'keeper:status';
export const LOG_CHANNEL = 'keeper:log';
/** The origin the dashboard is served from inside the app. */
export const APP_ORIGIN = 'app://keeper';
