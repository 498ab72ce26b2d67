/**
 * The coverage protocol's wire format (docs/coverage-protocol.md), protobuf
 * with protons-runtime: a request, the signed attestation, the response that
 * carries it. The attestation travels as the bytes that were signed.
 */
import { decodeMessage, encodeMessage } from 'protons-runtime';
import type { Codec, Reader, Writer } from 'protons-runtime';
import { codecOf, writeString, writeU64 } from '../util/protons-fields.ts';
import type { Uint8ArrayList } from 'uint8arraylist';

export const COVERAGE_CODEC = '/waku-keeper/coverage/1.0.0';
/** What is signed: this, then the encoded attestation. */
export const SIGNING_DOMAIN = new TextEncoder().encode('waku-keeper/coverage/1.0.0\n');

/** A request names at most this many content topics (a few communities' worth). */
export const MAX_CONTENT_TOPICS = 100;
/** An attestation lists at most this many intervals; a Keeper with more drops the shortest (it claims less, never more). */
export const MAX_INTERVALS = 1000;
export const MAX_REQUEST_BYTES = 64 * 1024;
export const MAX_RESPONSE_BYTES = 128 * 1024;

export const CoverageStatus = { OK: 200, BAD_REQUEST: 400, TOO_MANY_REQUESTS: 429, SERVICE_UNAVAILABLE: 503 } as const;

export interface CoverageRequest {
  requestId: string;
  pubsubTopic: string;
  /** Empty: the whole pubsub topic. */
  contentTopics: string[];
  startMs: bigint;
  endMs: bigint;
}

export interface WireInterval {
  startMs: bigint;
  endMs: bigint;
}

export interface Attestation {
  /** The attester's peer id; it must be the peer that answered. */
  peerId: string;
  requestId: string;
  pubsubTopic: string;
  contentTopics: string[];
  startMs: bigint;
  endMs: bigint;
  /** What the attester holds of [startMs, endMs): sorted, disjoint, inside the range. */
  held: WireInterval[];
  issuedMs: bigint;
}

export interface CoverageResponse {
  requestId: string;
  statusCode: number;
  statusDesc: string;
  /** An encoded Attestation, present with 200. */
  attestation: Uint8Array;
  signature: Uint8Array;
}

const byt = (w: Writer, field: number, v: Uint8Array | undefined): void => {
  if (v !== undefined && v.length > 0) w.uint32((field << 3) | 2).bytes(v);
};

const intervalCodec: Codec<WireInterval> = codecOf<WireInterval>(
  (o, w) => {
    writeU64(w, 1, o.startMs);
    writeU64(w, 2, o.endMs);
  },
  (r, end) => {
    const o: WireInterval = { startMs: 0n, endMs: 0n };
    while (r.pos < end) {
      const tag = r.uint32();
      if (tag >>> 3 === 1) o.startMs = r.uint64();
      else if (tag >>> 3 === 2) o.endMs = r.uint64();
      else r.skipType(tag & 7);
    }
    return o;
  },
);

const requestCodec: Codec<CoverageRequest> = codecOf<CoverageRequest>(
  (o, w) => {
    writeString(w, 1, o.requestId);
    writeString(w, 10, o.pubsubTopic);
    for (const t of o.contentTopics ?? []) w.uint32((11 << 3) | 2).string(t);
    writeU64(w, 12, o.startMs);
    writeU64(w, 13, o.endMs);
  },
  (r, end) => {
    const o: CoverageRequest = { requestId: '', pubsubTopic: '', contentTopics: [], startMs: 0n, endMs: 0n };
    while (r.pos < end) {
      const tag = r.uint32();
      const field = tag >>> 3;
      if (field === 1) o.requestId = r.string();
      else if (field === 10) o.pubsubTopic = r.string();
      else if (field === 11) {
        if (o.contentTopics.length >= MAX_CONTENT_TOPICS) throw new Error(`more than ${MAX_CONTENT_TOPICS} content topics`);
        o.contentTopics.push(r.string());
      } else if (field === 12) o.startMs = r.uint64();
      else if (field === 13) o.endMs = r.uint64();
      else r.skipType(tag & 7);
    }
    return o;
  },
);

const attestationCodec: Codec<Attestation> = codecOf<Attestation>(
  (o, w) => {
    writeString(w, 1, o.peerId);
    writeString(w, 2, o.requestId);
    writeString(w, 3, o.pubsubTopic);
    for (const t of o.contentTopics ?? []) w.uint32((4 << 3) | 2).string(t);
    writeU64(w, 5, o.startMs);
    writeU64(w, 6, o.endMs);
    for (const i of o.held ?? []) {
      w.uint32((7 << 3) | 2);
      intervalCodec.encode(i, w);
    }
    writeU64(w, 8, o.issuedMs);
  },
  (r, end) => {
    const o: Attestation = { peerId: '', requestId: '', pubsubTopic: '', contentTopics: [], startMs: 0n, endMs: 0n, held: [], issuedMs: 0n };
    while (r.pos < end) {
      const tag = r.uint32();
      const field = tag >>> 3;
      if (field === 1) o.peerId = r.string();
      else if (field === 2) o.requestId = r.string();
      else if (field === 3) o.pubsubTopic = r.string();
      else if (field === 4) {
        if (o.contentTopics.length >= MAX_CONTENT_TOPICS) throw new Error(`more than ${MAX_CONTENT_TOPICS} content topics`);
        o.contentTopics.push(r.string());
      } else if (field === 5) o.startMs = r.uint64();
      else if (field === 6) o.endMs = r.uint64();
      else if (field === 7) {
        if (o.held.length >= MAX_INTERVALS) throw new Error(`more than ${MAX_INTERVALS} intervals`);
        o.held.push(intervalCodec.decode(r, r.uint32()));
      } else if (field === 8) o.issuedMs = r.uint64();
      else r.skipType(tag & 7);
    }
    return o;
  },
);

const responseCodec: Codec<CoverageResponse> = codecOf<CoverageResponse>(
  (o, w) => {
    writeString(w, 1, o.requestId);
    if (o.statusCode !== undefined) w.uint32(10 << 3).uint32(o.statusCode);
    writeString(w, 11, o.statusDesc);
    byt(w, 20, o.attestation);
    byt(w, 21, o.signature);
  },
  (r, end) => {
    const o: CoverageResponse = { requestId: '', statusCode: 0, statusDesc: '', attestation: new Uint8Array(0), signature: new Uint8Array(0) };
    while (r.pos < end) {
      const tag = r.uint32();
      const field = tag >>> 3;
      if (field === 1) o.requestId = r.string();
      else if (field === 10) o.statusCode = r.uint32();
      else if (field === 11) o.statusDesc = r.string();
      else if (field === 20) o.attestation = r.bytes();
      else if (field === 21) o.signature = r.bytes();
      else r.skipType(tag & 7);
    }
    return o;
  },
);

export const encodeCoverageRequest = (o: CoverageRequest): Uint8Array => encodeMessage(o, requestCodec);
export const decodeCoverageRequest = (b: Uint8Array | Uint8ArrayList): CoverageRequest => decodeMessage(b, requestCodec);
export const encodeAttestation = (o: Attestation): Uint8Array => encodeMessage(o, attestationCodec);
export const decodeAttestation = (b: Uint8Array | Uint8ArrayList): Attestation => decodeMessage(b, attestationCodec);
export const encodeCoverageResponse = (o: CoverageResponse): Uint8Array => encodeMessage(o, responseCodec);
export const decodeCoverageResponse = (b: Uint8Array | Uint8ArrayList): CoverageResponse => decodeMessage(b, responseCodec);
