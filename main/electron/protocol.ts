/**
 * The dashboard is served from `app://keeper/`, not `file://`: a standard,
 * secure scheme with a strict CSP, answering only for files inside the built
 * renderer.
 */
import { protocol } from 'electron';
import { DASHBOARD_CSP, dashboardFile } from '../core/api/dashboard-files.ts';

export const APP_SCHEME = 'app';

/** Must run before the app is ready. */
export function registerAppScheme(): void {
  protocol.registerSchemesAsPrivileged([{ scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true } }]);
}

/** Answers a request for `app://keeper/<path>` from `rendererDir`. Exported for the smoke test. */
export function answer(rendererDir: string, url: string): Response {
  const { host, pathname } = new URL(url);
  const found = host === 'keeper' ? dashboardFile(rendererDir, pathname) : null;
  if (found === null) return new Response('not found', { status: 404 });
  return new Response(found.body, {
    headers: { 'Content-Type': found.contentType, 'Content-Security-Policy': DASHBOARD_CSP, 'X-Content-Type-Options': 'nosniff' },
  });
}

export function serveApp(rendererDir: string): void {
  protocol.handle(APP_SCHEME, (request) => answer(rendererDir, request.url));
}
