/**
 * The dashboard is served from `app://keeper/`, not `file://`: a standard,
 * secure scheme with a strict CSP, answering only for files inside the built
 * renderer.
 */
import { protocol } from 'electron';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { extname, join, normalize, sep } from 'node:path';

export const APP_SCHEME = 'app';

export const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
};

/** Must run before the app is ready. */
export function registerAppScheme(): void {
  protocol.registerSchemesAsPrivileged([{ scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true } }]);
}

/** Answers a request for `app://keeper/<path>` from `rendererDir`. Exported for the smoke test. */
export function answer(rendererDir: string, url: string): Response {
  const { host, pathname } = new URL(url);
  if (host !== 'keeper') return new Response('not found', { status: 404 });
  const rel = normalize(decodeURIComponent(pathname === '/' ? '/index.html' : pathname)).replace(/^([/\\])+/, '');
  const file = join(rendererDir, rel);
  if (!file.startsWith(rendererDir + sep) || !existsSync(file) || !statSync(file).isFile()) {
    return new Response('not found', { status: 404 });
  }
  return new Response(readFileSync(file), {
    headers: { 'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream', 'Content-Security-Policy': CSP, 'X-Content-Type-Options': 'nosniff' },
  });
}

export function serveApp(rendererDir: string): void {
  protocol.handle(APP_SCHEME, (request) => answer(rendererDir, request.url));
}
