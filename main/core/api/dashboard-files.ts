/**
 * The built dashboard's files, as both the local HTTP API and the Electron
 * app:// protocol serve them: one place for the path rules (nothing outside
 * the directory), the content types and the page's CSP.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { extname, join, normalize, sep } from 'node:path';

/** Scripts and styles from the dashboard itself; inline style attributes (Svelte's style:) allowed. */
export const DASHBOARD_CSP =
  "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json; charset=utf-8',
  '.woff2': 'font/woff2',
};

export interface DashboardFile {
  body: Buffer<ArrayBuffer>;
  contentType: string;
  /** Vite's hashed assets never change under their name. */
  immutable: boolean;
}

export function dashboardBuilt(dir: string | undefined): dir is string {
  return dir !== undefined && existsSync(join(dir, 'index.html'));
}

/** The file a URL path names inside `dir`, or null (outside it, missing, malformed). */
export function dashboardFile(dir: string, urlPath: string): DashboardFile | null {
  let rel: string;
  try {
    rel = normalize(decodeURIComponent(urlPath === '/' ? '/index.html' : urlPath)).replace(/^([/\\])+/, '');
  } catch {
    return null;
  }
  const file = join(dir, rel);
  if (!file.startsWith(dir + sep) || !existsSync(file) || !statSync(file).isFile()) return null;
  return {
    body: readFileSync(file),
    contentType: CONTENT_TYPES[extname(file)] ?? 'application/octet-stream',
    immutable: rel.startsWith('assets'),
  };
}
