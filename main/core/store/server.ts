/**
 * The Store v3 protocol server on a libp2p node.
 *
 * One request per stream. The answer is written as soon as the request is read,
 * but the write side is closed only after the client has closed its own: js-waku
 * clients multiplex with mplex, and a stream ended early by the server makes
 * mplex abort the whole connection once a client pages quickly.
 */
import type { Libp2p } from '@libp2p/interface';
import type { Uint8ArrayList } from 'uint8arraylist';
import type { Archive } from '../archive/archive.ts';
import { answerRequest, decodeFrame, errorText, statusResponse } from './answer.ts';
import { encodeResponse, MAX_REQUEST_BYTES, STORE_CODEC, StoreStatus } from './codec.ts';
import { UNKNOWN_REQUEST_ID } from './query.ts';
import { RateLimiter } from '../util/rate-limit.ts';
import { foreground } from '../util/loop-pressure.ts';
import { oneRequestHandler } from '../util/one-request-stream.ts';
import type { RateLimit } from '../util/rate-limit.ts';

/** Per peer: bursts of 200 requests, 50 a second after that. */
export const DEFAULT_STORE_RATE_LIMIT: RateLimit = { capacity: 200, perSecond: 50 };

export interface StoreServerOptions {
  rateLimit?: RateLimit;
  /** A stream that sees no progress for this long is aborted. */
  idleTimeoutMs?: number;
  maxInboundStreams?: number;
  /** Called after each answer, for metrics and logs. */
  onServed?: (served: ServedRequest) => void;
}

export interface ServedRequest {
  peer: string;
  status: number;
  messages: number;
  /** The messages went with their bodies. */
  bodies: boolean;
  ms: number;
}

type ProtocolRegistrar = Pick<Libp2p, 'handle' | 'unhandle'>;

export class StoreServer {
  private readonly archive: Archive;
  private readonly limiter: RateLimiter;
  private readonly idleTimeoutMs: number;
  private readonly maxInboundStreams: number;
  private readonly onServed: ((served: ServedRequest) => void) | undefined;
  private registrar: ProtocolRegistrar | undefined;
  private readonly byStatus: Record<string, number> = {};
  private readonly sent = { bodies: 0, hashes: 0 };
  /** While false every request gets 503 (starting, stopping, archive unusable). */
  available = true;

  constructor(archive: Archive, opts: StoreServerOptions = {}) {
    this.archive = archive;
    this.limiter = new RateLimiter(opts.rateLimit ?? DEFAULT_STORE_RATE_LIMIT);
    this.idleTimeoutMs = opts.idleTimeoutMs ?? 30_000;
    this.maxInboundStreams = opts.maxInboundStreams ?? 32;
    this.onServed = opts.onServed;
  }

  async start(registrar: ProtocolRegistrar): Promise<void> {
    const handler = oneRequestHandler({
      maxRequestBytes: MAX_REQUEST_BYTES,
      idleTimeoutMs: this.idleTimeoutMs,
      respond: (peer, frame) => this.respond(peer, frame),
      malformed: (peer, err) => {
        const fields = statusResponse(UNKNOWN_REQUEST_ID, StoreStatus.BAD_REQUEST, `malformed frame: ${errorText(err)}`);
        this.served({ peer, status: fields.statusCode, messages: 0, bodies: false, ms: 0 });
        return encodeResponse(fields);
      },
    });
    await registrar.handle(STORE_CODEC, handler, {
      maxInboundStreams: this.maxInboundStreams,
      runOnLimitedConnection: false,
    });
    this.registrar = registrar;
  }

  async stop(): Promise<void> {
    this.available = false;
    await this.registrar?.unhandle(STORE_CODEC);
    this.registrar = undefined;
  }

  /** Answers one request frame from `peer`: decode, rate limit, availability, then the archive. */
  respond(peer: string, frame: Uint8Array | Uint8ArrayList): Uint8Array {
    const started = performance.now();
    foreground();
    // Every frame costs a token, well-formed or not.
    const allowed = this.limiter.take(peer);
    const decoded = decodeFrame(frame);
    let fields;
    if (!decoded.ok) {
      fields = decoded.response;
    } else if (!allowed) {
      fields = statusResponse(decoded.request.requestId, StoreStatus.TOO_MANY_REQUESTS, 'rate limit exceeded, slow down');
    } else if (!this.available || !this.archive.isOpen) {
      fields = statusResponse(decoded.request.requestId, StoreStatus.SERVICE_UNAVAILABLE, 'store is not available now');
    } else {
      fields = answerRequest(this.archive, decoded.request);
    }
    const bytes = encodeResponse(fields);
    const messages = fields.messages?.length ?? 0;
    const bodies = messages > 0 && fields.messages?.[0]?.message !== undefined;
    this.served({ peer, status: fields.statusCode, messages, bodies, ms: performance.now() - started });
    return bytes;
  }

  /** Requests answered since start, by status code. */
  requestsByStatus(): Record<string, number> {
    return { ...this.byStatus };
  }

  /** Messages sent in answers since start: with their bodies, and as hashes only. */
  messagesSent(): { bodies: number; hashes: number } {
    return { ...this.sent };
  }

  private served(s: ServedRequest): void {
    const key = String(s.status);
    this.byStatus[key] = (this.byStatus[key] ?? 0) + 1;
    this.sent[s.bodies ? 'bodies' : 'hashes'] += s.messages;
    this.onServed?.(s);
  }
}
