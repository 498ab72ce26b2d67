/**
 * WakuMessages in nwaku's REST JSON: the message a client posts to relay (its
 * RelayWakuMessage: base64 payload, meta and proof, an int64 ns timestamp),
 * and the two shapes nwaku writes — relay's (every field, `proof` even when
 * empty) and store's (meta and proof only when present). Timestamps are JSON
 * numbers with all their digits (json.ts). Pure: the clock is a parameter.
 */
import { proto_message } from '@waku/proto';
import type { WireWakuMessage } from '../message/wire.ts';

/** What a client posts: nwaku's RelayWakuMessage. */
export interface RelayWakuMessage {
  /** base64 */
  payload: string;
  contentTopic: string;
  version?: number | undefined;
  timestamp?: bigint | undefined;
  /** base64 */
  meta?: string | undefined;
  ephemeral?: boolean | undefined;
  /** base64: an RLN proof, carried as it is. */
  proof?: string | undefined;
}

export type Read<T> = { ok: true; value: T } | { ok: false; error: string };

/** The JSON keys whose integers must keep every digit. */
export const INT64_KEYS: ReadonlySet<string> = new Set(['timestamp']);

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const UINT32_MAX = 2 ** 32 - 1;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const EMPTY = new Uint8Array(0);
/** WakuMessage field 21 (rate_limit_proof), length-delimited. */
const PROOF_TAG = [0xaa, 0x01];

/** Standard base64 with padding, as nwaku's REST decodes it; undefined when `text` is not. */
export function fromBase64(text: string): Uint8Array | undefined {
  if (!BASE64.test(text)) return undefined;
  const b = Buffer.from(text, 'base64');
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

export function toBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

const blank = (s: string): boolean => s.trim().length === 0;

/**
 * Reads a posted message as nwaku reads a RelayWakuMessage: `payload` and
 * `contentTopic` present and not blank, each field of its type, unknown
 * fields ignored. `value` comes from parseJson with INT64_KEYS.
 */
export function readRelayMessage(value: unknown): Read<RelayWakuMessage> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return bad('a JSON object was expected');
  const o = value as Record<string, unknown>;
  for (const key of ['payload', 'contentTopic', 'meta', 'proof'] as const) {
    if (o[key] !== undefined && typeof o[key] !== 'string') return bad(`\`${key}\` must be a string`);
  }
  if (typeof o.payload !== 'string' || blank(o.payload)) return bad('Field `payload` is missing or empty');
  if (typeof o.contentTopic !== 'string' || blank(o.contentTopic)) return bad('Field `contentTopic` is missing or empty');
  const { version, timestamp, ephemeral } = o;
  if (version !== undefined && !(typeof version === 'number' && Number.isInteger(version) && version >= 0 && version <= UINT32_MAX)) {
    return bad('`version` must be a non-negative integer');
  }
  if (timestamp !== undefined && !(typeof timestamp === 'bigint' && timestamp >= INT64_MIN && timestamp <= INT64_MAX)) {
    return bad('`timestamp` must be an integer (int64 nanoseconds)');
  }
  if (ephemeral !== undefined && typeof ephemeral !== 'boolean') return bad('`ephemeral` must be true or false');
  return {
    ok: true,
    value: {
      payload: o.payload,
      contentTopic: o.contentTopic,
      version,
      timestamp,
      meta: o.meta as string | undefined,
      ephemeral,
      proof: o.proof as string | undefined,
    },
  };
}

function bad(error: string): { ok: false; error: string } {
  return { ok: false, error };
}

export interface EncodedMessage {
  /** The encoded WakuMessage, as it is published and archived. */
  bytes: Uint8Array;
  contentTopic: string;
  timestamp: bigint;
}

/**
 * The WakuMessage a posted message stands for, encoded: base64 decoded, and a
 * missing or zero timestamp set to `nowNs`, as nwaku does. An error is
 * nwaku's "Incorrect base64 string".
 */
export function encodeRelayMessage(m: RelayWakuMessage, nowNs: bigint): Read<EncodedMessage> {
  const payload = fromBase64(m.payload);
  const meta = m.meta === undefined ? EMPTY : fromBase64(m.meta);
  const proof = m.proof === undefined ? EMPTY : fromBase64(m.proof);
  if (payload === undefined || meta === undefined || proof === undefined) return bad('Incorrect base64 string');
  const timestamp = m.timestamp === undefined || m.timestamp === 0n ? nowNs : m.timestamp;
  const message = proto_message.WakuMessage.encode({
    payload,
    contentTopic: m.contentTopic,
    version: m.version ?? 0,
    timestamp,
    meta: meta.length > 0 ? meta : undefined,
    ephemeral: m.ephemeral === true ? true : undefined,
  });
  // The proof travels as the bytes given (field 21): Keeper checks no RLN proof, as nwaku without RLN.
  const bytes = proof.length === 0 ? message : Buffer.concat([message, Buffer.from(PROOF_TAG), varint(proof.length), proof]);
  return { ok: true, value: { bytes: new Uint8Array(bytes), contentTopic: m.contentTopic, timestamp } };
}

function varint(n: number): Uint8Array {
  const out: number[] = [];
  let v = n;
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  out.push(v);
  return Uint8Array.from(out);
}

/** A message's fields with nwaku's defaults for absent ones (0, false, empty). */
export interface MessageFields {
  payload: Uint8Array;
  contentTopic: string;
  version: number;
  timestamp: bigint;
  meta: Uint8Array;
  ephemeral: boolean;
  proof: Uint8Array;
}

export function fieldsOfWire(m: WireWakuMessage): MessageFields {
  return {
    payload: m.payload,
    contentTopic: m.contentTopic,
    version: m.version ?? 0,
    timestamp: m.timestamp ?? 0n,
    meta: m.meta ?? EMPTY,
    ephemeral: m.ephemeral ?? false,
    proof: m.rateLimitProof ?? EMPTY,
  };
}

/** A message as a Store v3 client decoded it (@waku/proto). */
export function fieldsOfProto(m: proto_message.WakuMessage): MessageFields {
  const { payload, contentTopic, version, timestamp, meta, ephemeral } = m;
  const rateLimitProof = m.rateLimitProof === undefined ? undefined : proto_message.RateLimitProof.encode(m.rateLimitProof);
  return fieldsOfWire({ payload, contentTopic, version, timestamp, meta, ephemeral, rateLimitProof });
}

/** nwaku's relay JSON of a message (GET /relay/v1/messages): every field, meta only when present. */
export function relayMessageJson(f: MessageFields): Record<string, unknown> {
  const out: Record<string, unknown> = { payload: toBase64(f.payload), contentTopic: f.contentTopic, version: f.version, timestamp: f.timestamp };
  if (f.meta.length > 0) out.meta = toBase64(f.meta);
  out.ephemeral = f.ephemeral;
  out.proof = toBase64(f.proof);
  return out;
}

/** nwaku's store JSON of a message (GET /store/v3/messages): meta and proof only when present. */
export function storeMessageJson(f: MessageFields): Record<string, unknown> {
  const out: Record<string, unknown> = { payload: toBase64(f.payload), contentTopic: f.contentTopic };
  if (f.meta.length > 0) out.meta = toBase64(f.meta);
  out.version = f.version;
  out.timestamp = f.timestamp;
  out.ephemeral = f.ephemeral;
  if (f.proof.length > 0) out.proof = toBase64(f.proof);
  return out;
}
