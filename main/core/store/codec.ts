/**
 * Store v3 wire format (13/WAKU2-STORE). Requests are decoded with @waku/proto;
 * responses are written by hand so that stored messages go out as the bytes
 * they were archived as, without a decode/encode round trip per message.
 */
import { proto_store } from '@waku/proto';
import type { Uint8ArrayList } from 'uint8arraylist';
import { ProtoError, ProtoReader } from '../util/proto-reader.ts';

export const STORE_CODEC = '/vac/waku/store-query/3.0.0';

export const StoreStatus = {
  OK: 200,
  BAD_RESPONSE: 300,
  BAD_REQUEST: 400,
  TOO_MANY_REQUESTS: 429,
  SERVICE_UNAVAILABLE: 503,
} as const;
export type StoreStatusCode = (typeof StoreStatus)[keyof typeof StoreStatus];

export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 100;
export const MAX_CONTENT_TOPICS = 10;
/** Larger than any valid request (100 hashes, 10 content topics of free form); longer frames are refused. */
export const MAX_REQUEST_BYTES = 1024 * 1024;

/** The largest answer a page of messages may make: 100 of the largest messages, plus framing. */
export function maxResponseBytes(maxMessageBytes: number): number {
  return MAX_PAGE_SIZE * (maxMessageBytes + 256) + 64 * 1024;
}

export type StoreQueryRequest = proto_store.StoreQueryRequest;
export type StoreQueryResponse = proto_store.StoreQueryResponse;

export function decodeRequest(bytes: Uint8Array | Uint8ArrayList): StoreQueryRequest {
  return proto_store.StoreQueryRequest.decode(bytes);
}

export function encodeRequest(req: Partial<StoreQueryRequest>): Uint8Array {
  return proto_store.StoreQueryRequest.encode(req);
}

export function decodeResponse(bytes: Uint8Array | Uint8ArrayList): StoreQueryResponse {
  return proto_store.StoreQueryResponse.decode(bytes);
}

/** One entry of an answer as it arrived: the message as its encoded bytes (a view into the answer). */
export interface RawStoreEntry {
  messageHash: Uint8Array | undefined;
  /** The encoded WakuMessage, undecoded: checked and stored as these bytes. */
  message: Uint8Array | undefined;
  pubsubTopic: string | undefined;
}

export interface RawStoreResponse {
  requestId: string;
  statusCode: number | undefined;
  statusDesc: string | undefined;
  messages: RawStoreEntry[];
  paginationCursor: Uint8Array | undefined;
}

const utf8 = new TextDecoder();

/**
 * Decodes an answer in one pass, leaving each message as its bytes: a filler
 * checks and stores them as received, so decoding every message into objects
 * and encoding it again (what protons would make it do) is saved. Same meaning
 * as protons' decoder (last value wins, unknown fields skipped); throws on
 * malformed input.
 */
export function decodeResponseRaw(input: Uint8Array | Uint8ArrayList): RawStoreResponse {
  const bytes = input instanceof Uint8Array ? input : input.subarray();
  const out: RawStoreResponse = { requestId: '', statusCode: undefined, statusDesc: undefined, messages: [], paginationCursor: undefined };
  const r = new ProtoReader(bytes);
  while (!r.done) {
    const tag = r.varint();
    const field = Math.floor(tag / 8);
    const wireType = tag & 7;
    if (field === 1 && wireType === 2) out.requestId = utf8.decode(r.bytes());
    else if (field === 10 && wireType === 0) out.statusCode = Number(BigInt.asUintN(32, r.varint64()));
    else if (field === 11 && wireType === 2) out.statusDesc = utf8.decode(r.bytes());
    else if (field === 20 && wireType === 2) out.messages.push(decodeEntry(r.bytes()));
    else if (field === 51 && wireType === 2) out.paginationCursor = r.bytes();
    else if (field === 0) throw new ProtoError('field number 0');
    else r.skip(wireType);
  }
  return out;
}

function decodeEntry(bytes: Uint8Array): RawStoreEntry {
  const e: RawStoreEntry = { messageHash: undefined, message: undefined, pubsubTopic: undefined };
  const r = new ProtoReader(bytes);
  while (!r.done) {
    const tag = r.varint();
    const field = Math.floor(tag / 8);
    const wireType = tag & 7;
    if (field === 1 && wireType === 2) e.messageHash = r.bytes();
    else if (field === 2 && wireType === 2) e.message = r.bytes();
    else if (field === 3 && wireType === 2) e.pubsubTopic = utf8.decode(r.bytes());
    else if (field === 0) throw new ProtoError('field number 0');
    else r.skip(wireType);
  }
  return e;
}

export interface ResponseEntry {
  hash: Uint8Array;
  /** The encoded WakuMessage; absent for hash-only answers. */
  message?: Uint8Array | undefined;
  pubsubTopic?: string | undefined;
}

export interface ResponseFields {
  requestId: string;
  statusCode: number;
  statusDesc: string;
  messages?: readonly ResponseEntry[];
  cursor?: Uint8Array | undefined;
}

const TAG_REQUEST_ID = 0x0a; // 1, length-delimited
const TAG_STATUS_CODE = 0x50; // 10, varint
const TAG_STATUS_DESC = 0x5a; // 11, length-delimited
const TAG_MESSAGES = [0xa2, 0x01]; // 20, length-delimited
const TAG_CURSOR = [0x9a, 0x03]; // 51, length-delimited
const TAG_KV_HASH = 0x0a; // WakuMessageKeyValue.message_hash = 1
const TAG_KV_MESSAGE = 0x12; // message = 2
const TAG_KV_PUBSUB = 0x1a; // pubsub_topic = 3

function varintSize(n: number): number {
  let size = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 128);
    size++;
  }
  return size;
}

class Writer {
  readonly buf: Buffer;
  pos = 0;
  constructor(size: number) {
    this.buf = Buffer.allocUnsafe(size);
  }
  byte(b: number): void {
    this.buf[this.pos++] = b;
  }
  varint(n: number): void {
    while (n >= 0x80) {
      this.buf[this.pos++] = (n & 0x7f) | 0x80;
      n = Math.floor(n / 128);
    }
    this.buf[this.pos++] = n;
  }
  bytes(b: Uint8Array): void {
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }
}

function fieldSize(tagBytes: number, length: number): number {
  return tagBytes + varintSize(length) + length;
}

export function encodeResponse(r: ResponseFields): Uint8Array {
  const requestId = Buffer.from(r.requestId, 'utf8');
  const statusDesc = Buffer.from(r.statusDesc, 'utf8');
  const entries = (r.messages ?? []).map((e) => {
    const pubsub = e.pubsubTopic === undefined ? undefined : Buffer.from(e.pubsubTopic, 'utf8');
    const size =
      fieldSize(1, e.hash.length) +
      (e.message === undefined ? 0 : fieldSize(1, e.message.length)) +
      (pubsub === undefined ? 0 : fieldSize(1, pubsub.length));
    return { e, pubsub, size };
  });
  let total = fieldSize(1, requestId.length) + 1 + varintSize(r.statusCode) + fieldSize(1, statusDesc.length);
  for (const x of entries) total += fieldSize(2, x.size);
  if (r.cursor) total += fieldSize(2, r.cursor.length);

  const w = new Writer(total);
  w.byte(TAG_REQUEST_ID);
  w.varint(requestId.length);
  w.bytes(requestId);
  w.byte(TAG_STATUS_CODE);
  w.varint(r.statusCode);
  w.byte(TAG_STATUS_DESC);
  w.varint(statusDesc.length);
  w.bytes(statusDesc);
  for (const { e, pubsub, size } of entries) {
    w.bytes(Uint8Array.from(TAG_MESSAGES));
    w.varint(size);
    w.byte(TAG_KV_HASH);
    w.varint(e.hash.length);
    w.bytes(e.hash);
    if (e.message !== undefined) {
      w.byte(TAG_KV_MESSAGE);
      w.varint(e.message.length);
      w.bytes(e.message);
    }
    if (pubsub !== undefined) {
      w.byte(TAG_KV_PUBSUB);
      w.varint(pubsub.length);
      w.bytes(pubsub);
    }
  }
  if (r.cursor) {
    w.bytes(Uint8Array.from(TAG_CURSOR));
    w.varint(r.cursor.length);
    w.bytes(r.cursor);
  }
  return new Uint8Array(w.buf.buffer, w.buf.byteOffset, w.pos);
}
