/**
 * A WakuMessage decoder for the relay path (14/WAKU2-MESSAGE): one pass over
 * the bytes, payload and meta as views into them (util/proto-reader.ts). It
 * keeps protons' meaning (last value of a field wins, unknown fields skipped)
 * and is tested against it; protons' decoder was a third of the ingest path's cost.
 */
import { ProtoError, ProtoReader } from '../util/proto-reader.ts';

export interface WireWakuMessage {
  payload: Uint8Array;
  contentTopic: string;
  version: number | undefined;
  timestamp: bigint | undefined;
  meta: Uint8Array | undefined;
  ephemeral: boolean | undefined;
  /** Present (as raw bytes) when the message carries an RLN proof. */
  rateLimitProof: Uint8Array | undefined;
}

const EMPTY = new Uint8Array(0);
const utf8 = new TextDecoder();

export function decodeWakuMessage(buf: Uint8Array): WireWakuMessage {
  const out: WireWakuMessage = {
    payload: EMPTY,
    contentTopic: '',
    version: undefined,
    timestamp: undefined,
    meta: undefined,
    ephemeral: undefined,
    rateLimitProof: undefined,
  };
  const r = new ProtoReader(buf);
  while (!r.done) {
    const tag = r.varint();
    const field = Math.floor(tag / 8);
    const wireType = tag & 7;
    if (field === 1 && wireType === 2) out.payload = r.bytes();
    else if (field === 2 && wireType === 2) out.contentTopic = utf8.decode(r.bytes());
    else if (field === 3 && wireType === 0) out.version = Number(BigInt.asUintN(32, r.varint64()));
    else if (field === 10 && wireType === 0) {
      // sint64: zigzag.
      const z = r.varint64();
      out.timestamp = (z >> 1n) ^ -(z & 1n);
    } else if (field === 11 && wireType === 2) out.meta = r.bytes();
    else if (field === 21 && wireType === 2) out.rateLimitProof = r.bytes();
    else if (field === 31 && wireType === 0) out.ephemeral = r.varint64() !== 0n;
    else if (field === 0) throw new ProtoError('field number 0');
    else r.skip(wireType);
  }
  return out;
}
