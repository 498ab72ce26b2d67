/**
 * The local HTTP API: the dashboard, `GET /api/status` and `GET /metrics`.
 * Loopback unless told otherwise; every data route needs the bearer token; a
 * request from a foreign web origin or to a foreign Host name is refused.
 */
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { KeeperStatus } from './contract.ts';
import { tokenMatches } from './token.ts';
import { DASHBOARD_HTML, DASHBOARD_JS } from './placeholder-dashboard.ts';

export interface ApiBackend {
  status(): Promise<KeeperStatus>;
  metrics(): Promise<{ contentType: string; body: string }>;
}

export interface ApiServerOptions {
  host: string;
  port: number;
  /** Try a free port when `port` is taken (for the default port only). */
  fallbackToFreePort?: boolean;
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

export class ApiServer {
  private readonly server: Server;
  private readonly backend: ApiBackend;
  private readonly token: string;
  private origins = new Set<string>();
  private hosts = new Set<string>();
  private publicHost = false;
  url = '';

  constructor(backend: ApiBackend, token: string) {
    this.backend = backend;
    this.token = token;
    this.server = createServer((req, res) => {
      this.route(req, res).catch((err: unknown) => send(res, 500, { error: 'internal', message: String(err) }));
    });
    this.server.headersTimeout = 10_000;
    this.server.requestTimeout = 30_000;
    this.server.keepAliveTimeout = 5_000;
  }

  async listen(opts: ApiServerOptions): Promise<string> {
    try {
      await listenOn(this.server, opts.host, opts.port);
    } catch (err) {
      if (!opts.fallbackToFreePort || (err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
      await listenOn(this.server, opts.host, 0);
    }
    const { port } = this.server.address() as AddressInfo;
    const host = opts.host.includes(':') ? `[${opts.host}]` : opts.host;
    this.publicHost = !LOOPBACK.has(opts.host);
    this.hosts = new Set([`${host}:${port}`, `localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`]);
    this.origins = new Set([...this.hosts].map((h) => `http://${h}`));
    this.url = `http://${host}:${port}`;
    return this.url;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Referrer-Policy', 'no-referrer');
    res.setHeader('Cache-Control', 'no-store');
    // DNS rebinding: a page on evil.example resolving to 127.0.0.1 still sends its own Host.
    if (!this.publicHost && !this.hosts.has(req.headers.host ?? '')) return send(res, 421, { error: 'wrong-host' });
    const origin = req.headers.origin;
    if (origin !== undefined && !this.origins.has(origin) && !this.publicHost) return send(res, 403, { error: 'wrong-origin' });
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, { error: 'method-not-allowed' });

    if (path === '/' || path === '/index.html') return sendText(res, 200, 'text/html; charset=utf-8', DASHBOARD_HTML, true);
    if (path === '/dashboard.js') return sendText(res, 200, 'text/javascript; charset=utf-8', DASHBOARD_JS, true);

    if (path !== '/api/status' && path !== '/metrics') return send(res, 404, { error: 'not-found' });
    const auth = req.headers.authorization;
    const given = auth?.startsWith('Bearer ') ? auth.slice(7).trim() : undefined;
    if (!tokenMatches(this.token, given)) {
      res.setHeader('WWW-Authenticate', 'Bearer');
      return send(res, 401, { error: 'unauthorized', message: 'send Authorization: Bearer <token from the data dir>' });
    }
    if (path === '/api/status') return send(res, 200, await this.backend.status());
    const m = await this.backend.metrics();
    return sendText(res, 200, m.contentType, m.body, false);
  }
}

function listenOn(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => reject(err);
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

function send(res: ServerResponse, status: number, body: unknown): void {
  sendText(res, status, 'application/json; charset=utf-8', JSON.stringify(body), false);
}

function sendText(res: ServerResponse, status: number, type: string, body: string, page: boolean): void {
  res.statusCode = status;
  res.setHeader('Content-Type', type);
  if (page) {
    res.setHeader('Content-Security-Policy', "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'unsafe-inline'; frame-ancestors 'none'");
  }
  res.end(body);
}
