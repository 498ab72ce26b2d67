/**
 * The coverage protocol's server: asked for a pubsub topic, content topics and
 * a time range, it answers the stretches this Keeper holds of it — online, or
 * filled and verified, never merely asked — signed with the node's key.
 */
import type { Libp2p, PrivateKey } from '@libp2p/interface';
import type { Uint8ArrayList } from 'uint8arraylist';
import { isValidPubsubTopic } from '../message/topics.ts';
import { errorMessage } from '../util/errors.ts';
import type { Interval } from '../util/intervals.ts';
import { oneRequestHandler } from '../util/one-request-stream.ts';
import { RateLimiter } from '../util/rate-limit.ts';
import type { RateLimit } from '../util/rate-limit.ts';
import { capIntervals, signAttestation } from './attestation.ts';
import { COVERAGE_CODEC, CoverageStatus, decodeCoverageRequest, encodeCoverageResponse, MAX_REQUEST_BYTES } from './codec.ts';
import type { CoverageRequest } from './codec.ts';

/** What this node can attest: the stretches of `range` it holds for the topic and content topics. */
export type HeldFn = (pubsubTopic: string, contentTopics: readonly string[], range: Interval) => Interval[];

export interface CoverageServerOptions {
  rateLimit?: RateLimit;
  idleTimeoutMs?: number;
  now?: () => number;
}

/** Coverage questions are cheap to answer but signed: a few a second per peer is plenty. */
const DEFAULT_RATE: RateLimit = { capacity: 100, perSecond: 20 };
const MAX_REQUEST_ID = 128;

type ProtocolRegistrar = Pick<Libp2p, 'handle' | 'unhandle'>;

export class CoverageServer {
  private readonly held: HeldFn;
  private readonly key: PrivateKey;
  private readonly selfId: string;
  private readonly limiter: RateLimiter;
  private readonly idleTimeoutMs: number;
  private readonly now: () => number;
  private registrar: ProtocolRegistrar | undefined;
  /** While false every request gets 503 (stopping). */
  available = true;

  constructor(held: HeldFn, key: PrivateKey, selfId: string, opts: CoverageServerOptions = {}) {
    this.held = held;
    this.key = key;
    this.selfId = selfId;
    this.limiter = new RateLimiter(opts.rateLimit ?? DEFAULT_RATE);
    this.idleTimeoutMs = opts.idleTimeoutMs ?? 10_000;
    this.now = opts.now ?? Date.now;
  }

  async start(registrar: ProtocolRegistrar): Promise<void> {
    const handler = oneRequestHandler({
      maxRequestBytes: MAX_REQUEST_BYTES,
      idleTimeoutMs: this.idleTimeoutMs,
      respond: (peer, frame) => this.respond(peer, frame),
      malformed: (_peer, err) => this.status('N/A', CoverageStatus.BAD_REQUEST, `malformed frame: ${errorMessage(err).slice(0, 200)}`),
    });
    await registrar.handle(COVERAGE_CODEC, handler, { maxInboundStreams: 16, runOnLimitedConnection: false });
    this.registrar = registrar;
  }

  async stop(): Promise<void> {
    this.available = false;
    await this.registrar?.unhandle(COVERAGE_CODEC);
    this.registrar = undefined;
  }

  /** Answers one request frame from `peer`. */
  async respond(peer: string, frame: Uint8Array | Uint8ArrayList): Promise<Uint8Array> {
    const allowed = this.limiter.take(peer);
    let req: CoverageRequest;
    try {
      req = decodeCoverageRequest(frame);
    } catch (err) {
      return this.status('N/A', CoverageStatus.BAD_REQUEST, `undecodable request: ${errorMessage(err).slice(0, 200)}`);
    }
    const requestId = req.requestId === '' ? 'N/A' : req.requestId.slice(0, MAX_REQUEST_ID);
    const bad = problemOf(req);
    if (bad !== null) return this.status(requestId, CoverageStatus.BAD_REQUEST, bad);
    if (!allowed) return this.status(requestId, CoverageStatus.TOO_MANY_REQUESTS, 'rate limit exceeded, slow down');
    if (!this.available) return this.status(requestId, CoverageStatus.SERVICE_UNAVAILABLE, 'not available now');
    const range = { start: Number(req.startMs), end: Number(req.endMs) };
    const held = capIntervals(this.held(req.pubsubTopic, req.contentTopics, range));
    const signed = await signAttestation(this.key, {
      peerId: this.selfId,
      requestId: req.requestId,
      pubsubTopic: req.pubsubTopic,
      contentTopics: req.contentTopics,
      startMs: req.startMs,
      endMs: req.endMs,
      held: held.map((i) => ({ startMs: BigInt(i.start), endMs: BigInt(i.end) })),
      issuedMs: BigInt(this.now()),
    });
    return encodeCoverageResponse({ requestId: req.requestId, statusCode: CoverageStatus.OK, statusDesc: 'OK', ...signed });
  }

  private status(requestId: string, statusCode: number, statusDesc: string): Uint8Array {
    return encodeCoverageResponse({ requestId, statusCode, statusDesc, attestation: new Uint8Array(0), signature: new Uint8Array(0) });
  }
}

/** What makes a request unanswerable, or null. */
function problemOf(req: CoverageRequest): string | null {
  if (req.requestId === '' || req.requestId.length > MAX_REQUEST_ID) return `request_id must be 1 to ${MAX_REQUEST_ID} characters`;
  if (!isValidPubsubTopic(req.pubsubTopic)) return 'pubsub_topic is not a pubsub topic';
  if (req.contentTopics.some((t) => t === '')) return 'a content topic is empty';
  if (req.endMs <= req.startMs) return 'end_ms must be after start_ms';
  if (req.endMs > BigInt(Number.MAX_SAFE_INTEGER)) return 'end_ms is out of range';
  return null;
}
