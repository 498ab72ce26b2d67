/**
 * The transfer protocol's frame, `WakuMessageAndTopic`, as nwaku encodes it
 * (waku/waku_store_sync/codec.nim): field 1 the pubsub topic, field 2 the
 * encoded WakuMessage. The spec's proto (standards/core/sync.md) numbers them
 * the other way round; nwaku is what runs, so nwaku's numbering it is.
 */
export const RECONCILIATION_CODEC = '/vac/waku/reconciliation/1.0.0';
export const TRANSFER_CODEC = '/vac/waku/transfer/1.0.0';

export class TransferCodecError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TransferCodecError';
  }
}

export interface MessageAndTopic {
  pubsubTopic: string;
  /** The encoded WakuMessage (a view into the frame). */
  message: Uint8Array;
}

const utf8 = new TextEncoder();
const utf8Strict = new TextDecoder('utf-8', { fatal: true });

export function encodeMessageAndTopic(pubsubTopic: string, message: Uint8Array): Uint8Array {
  const topic = utf8.encode(pubsubTopic);
  const body = withPayloadField(message);
  const out = new Uint8Array(1 + varintLength(topic.length) + topic.length + 1 + varintLength(body.length) + body.length);
  let at = 0;
  out[at++] = 0x0a;
  at = writeVarint(out, at, topic.length);
  out.set(topic, at);
  at += topic.length;
  out[at++] = 0x12;
  at = writeVarint(out, at, body.length);
  out.set(body, at);
  return out;
}

/** Both fields are required, as nwaku's decoder requires them; unknown fields are skipped; the last value of a field wins. */
export function decodeMessageAndTopic(buf: Uint8Array): MessageAndTopic {
  let topic: Uint8Array | undefined;
  let message: Uint8Array | undefined;
  const r = { at: 0 };
  while (r.at < buf.length) {
    const tag = readVarint(buf, r);
    const field = Math.floor(tag / 8);
    const wire = tag & 7;
    if (field === 0) throw new TransferCodecError('field number 0');
    if (wire === 2) {
      const len = readVarint(buf, r);
      if (len > buf.length - r.at) throw new TransferCodecError('length beyond the end');
      const view = buf.subarray(r.at, r.at + len);
      r.at += len;
      if (field === 1) topic = view;
      else if (field === 2) message = view;
    } else if (wire === 0) readVarint(buf, r);
    else if (wire === 1 || wire === 5) {
      r.at += wire === 1 ? 8 : 4;
      if (r.at > buf.length) throw new TransferCodecError('truncated field');
    } else throw new TransferCodecError(`wire type ${wire}`);
    if ((field === 1 || field === 2) && wire !== 2) throw new TransferCodecError(`field ${field} is not length-delimited`);
  }
  if (topic === undefined) throw new TransferCodecError('no pubsub topic');
  if (message === undefined) throw new TransferCodecError('no message');
  let pubsubTopic: string;
  try {
    pubsubTopic = utf8Strict.decode(topic);
  } catch {
    throw new TransferCodecError('pubsub topic is not UTF-8');
  }
  return { pubsubTopic, message };
}

/**
 * nwaku's WakuMessage decoder refuses a message without a payload field, and
 * protobuf encoders (js-waku's among them) leave an empty payload out. An
 * explicit empty payload in front means the same message to everyone else.
 */
function withPayloadField(message: Uint8Array): Uint8Array {
  if (hasField(message, 1)) return message;
  const out = new Uint8Array(message.length + 2);
  out[0] = 0x0a;
  out[1] = 0x00;
  out.set(message, 2);
  return out;
}

function hasField(buf: Uint8Array, want: number): boolean {
  const r = { at: 0 };
  try {
    while (r.at < buf.length) {
      const tag = readVarint(buf, r);
      if (Math.floor(tag / 8) === want) return true;
      const wire = tag & 7;
      if (wire === 0) readVarint(buf, r);
      else if (wire === 2) r.at += readVarint(buf, r);
      else if (wire === 1) r.at += 8;
      else if (wire === 5) r.at += 4;
      else return false;
    }
  } catch {
    return false;
  }
  return false;
}

/** A varint that fits a double exactly: tags and lengths. */
function readVarint(buf: Uint8Array, r: { at: number }): number {
  let v = 0;
  let scale = 1;
  for (let i = 0; i < 8; i++) {
    if (r.at >= buf.length) throw new TransferCodecError('truncated varint');
    const b = buf[r.at++] as number;
    v += (b & 0x7f) * scale;
    if (b < 0x80) return v;
    scale *= 128;
  }
  throw new TransferCodecError('varint too long');
}

function varintLength(n: number): number {
  let len = 1;
  for (let v = n; v >= 0x80; v = Math.floor(v / 128)) len++;
  return len;
}

function writeVarint(out: Uint8Array, at: number, n: number): number {
  let v = n;
  let i = at;
  while (v >= 0x80) {
    out[i++] = (v % 128) | 0x80;
    v = Math.floor(v / 128);
  }
  out[i++] = v;
  return i;
}
