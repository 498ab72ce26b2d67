/**
 * Deterministic message hash of 14/WAKU2-MESSAGE:
 * sha256(pubsubTopic ‖ payload ‖ contentTopic ‖ meta ‖ timestamp).
 *
 * The timestamp is always hashed as 8 big-endian bytes (an absent timestamp is
 * 0), as the spec and nwaku do. js-waku's `messageHash` leaves an absent or
 * zero timestamp out; Keeper never stores timestamp-less messages, so the two
 * agree on every message Keeper serves.
 */
import { createHash } from 'node:crypto';

export interface HashableMessage {
  payload: Uint8Array;
  contentTopic: string;
  meta?: Uint8Array | undefined;
  timestamp?: bigint | undefined;
}

const timestampBytes = Buffer.alloc(8);

export function messageHash(pubsubTopic: string, message: HashableMessage): Uint8Array {
  const h = createHash('sha256');
  h.update(pubsubTopic, 'utf8');
  h.update(message.payload);
  h.update(message.contentTopic, 'utf8');
  if (message.meta !== undefined && message.meta.length > 0) h.update(message.meta);
  timestampBytes.writeBigInt64BE(message.timestamp ?? 0n);
  h.update(timestampBytes);
  const digest = h.digest();
  return new Uint8Array(digest.buffer, digest.byteOffset, digest.byteLength);
}

export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

export function fromHex(hex: string): Uint8Array {
  const clean = hex.startsWith('0x') ? hex.slice(2) : hex;
  if (!/^([0-9a-fA-F]{2})*$/.test(clean)) throw new Error(`not a hex string: ${hex}`);
  return new Uint8Array(Buffer.from(clean, 'hex'));
}

/** Byte equality without copying. */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}
