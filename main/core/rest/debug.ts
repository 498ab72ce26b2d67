/**
 * nwaku's debug routes: GET /debug/v1/info (and /info) — the node's listen
 * addresses — and GET /debug/v1/version (and /version), as text.
 */
import type { RestBackend } from './backend.ts';
import { json, text } from './router.ts';
import type { Route } from './router.ts';

export function debugRoutes(b: RestBackend): Route[] {
  // nwaku's DebugWakuInfo; its optional `enrUri` is left out: Keeper signs no ENR (it runs no discv5).
  const info = async () => json(200, { listenAddresses: (await b.status()).multiaddrs });
  const version = async () => text(200, (await b.status()).version);
  return [
    { method: 'GET', path: '/debug/v1/info', handler: info },
    { method: 'GET', path: '/info', handler: info },
    { method: 'GET', path: '/debug/v1/version', handler: version },
    { method: 'GET', path: '/version', handler: version },
  ];
}
