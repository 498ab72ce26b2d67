/**
 * nwaku's REST API on its own listener (`--rest HOST:PORT`, off by default):
 * debug, health, admin peers, relay and store, with nwaku's paths, shapes,
 * status codes and messages. Like nwaku's it has no token: anyone who can
 * reach the port may publish and subscribe, so it listens on loopback unless
 * told otherwise. On loopback a request must name a loopback Host (no DNS
 * rebinding), and a request a browser sends from a web page (it carries an
 * Origin) is refused, as nwaku refuses origins it was not told to allow.
 * Bodies are bounded; anything malformed gets a 4xx and the server goes on.
 */
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { adminRoutes } from './admin.ts';
import type { RestBackend } from './backend.ts';
import { debugRoutes } from './debug.ts';
import { healthRoutes } from './health.ts';
import { MessageCache } from './message-cache.ts';
import { relayRoutes } from './relay.ts';
import { match, text } from './router.ts';
import type { Reply, RequestBody, Route } from './router.ts';
import { storeRoutes } from './store.ts';

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);
/** nwaku's own cap on a request body (16 MiB): past it the connection is closed. */
const MAX_DRAIN_BYTES = 16 * 1024 * 1024;

export interface RestAddress {
  host: string;
  port: number;
}

class TooLarge extends Error {}

export class RestServer {
  /** What relay delivered on the subscribed topics, until a client takes it. */
  readonly cache = new MessageCache();
  private readonly address: RestAddress;
  private readonly routes: Route[];
  private readonly server: Server;
  private readonly maxBodyBytes: number;
  private hosts: Set<string> | null = null;
  private stopListening: (() => void) | undefined;
  private readonly backend: RestBackend;
  url = '';

  constructor(backend: RestBackend, address: RestAddress) {
    this.backend = backend;
    this.address = address;
    // A message of the largest size the network allows, base64 (4/3) in JSON, and room for the rest.
    this.maxBodyBytes = Math.ceil((backend.rules.maxMessageBytes * 4) / 3) + 64 * 1024;
    this.routes = [...debugRoutes(backend), ...healthRoutes(backend), ...adminRoutes(backend), ...relayRoutes(backend, this.cache), ...storeRoutes(backend)];
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        if (!res.headersSent) send(res, text(500, err instanceof Error ? err.message : String(err)));
        else res.destroy();
      });
    });
    this.server.headersTimeout = 10_000;
    this.server.requestTimeout = 30_000;
    this.server.keepAliveTimeout = 5_000;
    this.server.maxHeadersCount = 100;
    this.server.on('clientError', (_err, socket) => {
      if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nContent-Length: 15\r\nConnection: close\r\n\r\nInvalid request');
      else socket.destroy();
    });
  }

  /** Starts listening, with the relayed topics subscribed in the cache as nwaku subscribes its shards; returns the URL. */
  async listen(): Promise<string> {
    const { host, port } = this.address;
    await new Promise<void>((resolve, reject) => {
      const fail = (err: Error): void => reject(new Error(`--rest ${host}:${port}: ${err.message}`));
      this.server.once('error', fail);
      this.server.listen(port, host, () => {
        this.server.off('error', fail);
        resolve();
      });
    });
    for (const t of this.backend.relayed()) this.cache.subscribe(t);
    this.stopListening = this.backend.onRelayed((topic, data) => this.cache.add(topic, data));
    const bound = (this.server.address() as AddressInfo).port;
    const shown = host.includes(':') ? `[${host}]` : host;
    if (LOOPBACK.has(host)) this.hosts = new Set([`${shown}:${bound}`, `localhost:${bound}`, `127.0.0.1:${bound}`, `[::1]:${bound}`]);
    this.url = `http://${shown}:${bound}`;
    return this.url;
  }

  async close(): Promise<void> {
    this.stopListening?.();
    this.stopListening = undefined;
    if (!this.server.listening) return;
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (this.hosts !== null && !this.hosts.has(req.headers.host ?? '')) return send(res, text(421, 'Misdirected request: wrong Host'));
    if (req.headers.origin !== undefined) return send(res, text(403, 'Origin not allowed'));
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    const found = match(this.routes, req.method ?? 'GET', path);
    if ('reply' in found) {
      req.resume();
      return send(res, found.reply);
    }
    let body: RequestBody | undefined;
    try {
      body = await this.readBody(req);
    } catch (err) {
      if (!(err instanceof TooLarge)) throw err;
      return send(res, text(413, `Request body larger than ${this.maxBodyBytes} bytes`));
    }
    const reply = await found.handler({ params: found.params, query: new URLSearchParams(q < 0 ? '' : url.slice(q + 1)), body });
    send(res, reply);
  }

  /**
   * Reads the body, keeping at most maxBodyBytes of it; a larger one is read
   * to its end and dropped (TooLarge), so the client gets its 413 instead of
   * a reset, and one larger than nwaku's own 16 MiB cap closes the connection.
   */
  private readBody(req: IncomingMessage): Promise<RequestBody | undefined> {
    const mediaType = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      req.on('data', (c: Buffer) => {
        size += c.length;
        if (size <= this.maxBodyBytes) chunks.push(c);
        else if (size > MAX_DRAIN_BYTES) req.destroy();
      });
      req.on('end', () => {
        if (size > this.maxBodyBytes) reject(new TooLarge());
        else resolve(size === 0 ? undefined : { mediaType, text: Buffer.concat(chunks).toString('utf8') });
      });
      req.on('error', reject);
      req.on('close', () => reject(new TooLarge()));
    });
  }
}

function send(res: ServerResponse, reply: Reply): void {
  if (res.headersSent) return;
  res.statusCode = reply.status;
  res.setHeader('Content-Type', reply.contentType);
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.end(reply.body);
}
