/**
 * The local HTTP API: the dashboard's files, `GET /api/status`, the commands
 * (`POST /api/commands/<name>`), a pushed stream of status and log entries
 * (`GET /api/stream`), and `GET /metrics`. Loopback unless told otherwise;
 * every data route needs the bearer token; a request from a foreign web origin
 * or to a foreign Host name is refused.
 */
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ApiErrorCode, ApiResult, CommandName, KeeperCommands } from '../../contract/contract.ts';
import { COMMANDS } from '../../contract/contract.ts';
import { tokenMatches } from './token.ts';
import { DASHBOARD_CSP, dashboardBuilt, dashboardFile } from './dashboard-files.ts';
import type { StatusPublisher } from './status-publisher.ts';

export interface ApiBackend {
  commands: KeeperCommands;
  /** The live feed of status snapshots and log entries. */
  feed: Pick<StatusPublisher, 'subscribe'>;
  metrics(): Promise<{ contentType: string; body: string }>;
}

export interface ApiServerOptions {
  host: string;
  port: number;
  /** Try a free port when `port` is taken (for the default port only). */
  fallbackToFreePort?: boolean;
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);
const MAX_BODY_BYTES = 64 * 1024;
const HTTP_STATUS: Record<ApiErrorCode, number> = { invalid: 400, 'not-found': 404, conflict: 409, unavailable: 503, internal: 500 };
export class ApiServer {
  private readonly server: Server;
  private readonly backend: ApiBackend;
  private readonly token: string;
  private readonly rendererDir: string | undefined;
  private readonly streams = new Set<ServerResponse>();
  private origins = new Set<string>();
  private hosts = new Set<string>();
  private publicHost = false;
  url = '';

  constructor(backend: ApiBackend, token: string, rendererDir?: string) {
    this.backend = backend;
    this.token = token;
    this.rendererDir = rendererDir;
    this.server = createServer((req, res) => {
      this.route(req, res).catch((err: unknown) => {
        if (!res.headersSent) sendJson(res, 500, failure('internal', String(err)));
        else res.destroy();
      });
    });
    this.server.headersTimeout = 10_000;
    this.server.requestTimeout = 0; // the stream stays open; other routes are bounded below
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
    for (const s of this.streams) s.end();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Referrer-Policy', 'no-referrer');
    res.setHeader('Cache-Control', 'no-store');
    // DNS rebinding: a page on evil.example resolving to 127.0.0.1 still sends its own Host.
    if (!this.publicHost && !this.hosts.has(req.headers.host ?? '')) return sendJson(res, 421, failure('invalid', 'wrong Host'));
    const origin = req.headers.origin;
    if (origin !== undefined && !this.origins.has(origin) && !this.publicHost) {
      return sendJson(res, 403, failure('invalid', 'requests from other web origins are refused'));
    }
    const path = (req.url ?? '/').split('?')[0] ?? '/';

    if (!path.startsWith('/api/') && path !== '/metrics') {
      if (req.method !== 'GET' && req.method !== 'HEAD') return sendJson(res, 405, failure('invalid', 'method not allowed'));
      return this.serveFile(path, res);
    }
    const auth = req.headers.authorization;
    const given = auth?.startsWith('Bearer ') ? auth.slice(7).trim() : undefined;
    if (!tokenMatches(this.token, given)) {
      res.setHeader('WWW-Authenticate', 'Bearer');
      return sendJson(res, 401, failure('invalid', 'send Authorization: Bearer <the token from the data dir>'));
    }

    if (path === '/api/status' && req.method === 'GET') {
      const r = await this.backend.commands.getStatus();
      return r.ok ? sendJson(res, 200, r.value) : sendJson(res, HTTP_STATUS[r.error.code], r);
    }
    if (path === '/metrics' && req.method === 'GET') {
      const m = await this.backend.metrics();
      return sendText(res, 200, m.contentType, m.body);
    }
    if (path === '/api/stream' && req.method === 'GET') return this.stream(req, res);
    const name = /^\/api\/commands\/([A-Za-z]+)$/.exec(path)?.[1];
    if (name !== undefined && (COMMANDS as readonly string[]).includes(name)) {
      if (req.method !== 'POST') return sendJson(res, 405, failure('invalid', 'commands are POSTed'));
      return this.command(name as CommandName, req, res);
    }
    return sendJson(res, 404, failure('not-found', `no route ${path}`));
  }

  private async command(name: CommandName, req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!(req.headers['content-type'] ?? '').startsWith('application/json')) {
      return sendJson(res, 415, failure('invalid', 'send the argument as application/json'));
    }
    let arg: unknown;
    try {
      const body = await readBody(req, MAX_BODY_BYTES);
      arg = body.length === 0 ? null : JSON.parse(body);
    } catch (err) {
      return sendJson(res, 400, failure('invalid', `the body is not JSON: ${(err as Error).message}`));
    }
    // Each command takes at most one argument; the contract types it, the Keeper checks it.
    const fn = this.backend.commands[name] as (a: unknown) => Promise<ApiResult<unknown>>;
    const result = await fn.call(this.backend.commands, arg);
    return sendJson(res, result.ok ? 200 : HTTP_STATUS[result.error.code], result);
  }

  /** Server-sent events: `status` snapshots and `log` entries, until the client goes. */
  private stream(req: IncomingMessage, res: ServerResponse): void {
    res.writeHead(200, { 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-store', Connection: 'keep-alive' });
    this.streams.add(res);
    const send = (event: string, data: unknown): void => {
      if (!res.writableEnded) res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    };
    const stop = this.backend.feed.subscribe({ status: (s) => send('status', s), log: (e) => send('log', e) });
    const end = (): void => {
      stop();
      this.streams.delete(res);
    };
    req.on('close', end);
    res.on('close', end);
  }

  private serveFile(path: string, res: ServerResponse): void {
    if (!dashboardBuilt(this.rendererDir)) {
      return sendText(res, 503, 'text/plain; charset=utf-8', 'The dashboard is not built: run `npm run build:renderer`.\n');
    }
    const found = dashboardFile(this.rendererDir, path);
    if (found === null) return sendText(res, 404, 'text/plain; charset=utf-8', 'not found\n');
    res.setHeader('Content-Security-Policy', DASHBOARD_CSP);
    res.setHeader('Cache-Control', found.immutable ? 'public, max-age=31536000, immutable' : 'no-store');
    sendText(res, 200, found.contentType, found.body);
  }
}

function failure(code: ApiErrorCode, message: string): ApiResult<never> {
  return { ok: false, error: { code, message } };
}

function readBody(req: IncomingMessage, max: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > max) {
        reject(new Error(`larger than ${max} bytes`));
        req.destroy();
      } else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
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

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  sendText(res, status, 'application/json; charset=utf-8', JSON.stringify(body));
}

function sendText(res: ServerResponse, status: number, type: string, body: string | Buffer): void {
  res.statusCode = status;
  res.setHeader('Content-Type', type);
  res.end(body);
}
