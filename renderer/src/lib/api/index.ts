/**
 * The one API object the dashboard uses. In Electron the preload exposes it as
 * `window.keeper`; served by the headless node, it speaks HTTP with the token
 * the dashboard link carried in its fragment. The views never know which.
 */
import type { KeeperApi } from '../../../../main/contract/contract.ts';
import { HttpApi } from './http.ts';

declare global {
  interface Window {
    keeper?: KeeperApi;
  }
}

const TOKEN_KEY = 'waku-keeper-token';

/** Takes the token out of `#token=…` (into session storage), so it leaves the address bar. */
export function takeToken(location: Location, storage: Storage, history: History): string | null {
  const match = /(?:^#|&)token=([0-9a-f]{64})/.exec(location.hash);
  if (match?.[1]) {
    storage.setItem(TOKEN_KEY, match[1]);
    history.replaceState(null, '', `${location.pathname}${location.search}#/overview`);
    return match[1];
  }
  return storage.getItem(TOKEN_KEY);
}

export function pickApi(): KeeperApi | null {
  if (window.keeper !== undefined) return window.keeper;
  const token = takeToken(window.location, window.sessionStorage, window.history);
  return token === null ? null : new HttpApi(window.location.origin, token);
}
