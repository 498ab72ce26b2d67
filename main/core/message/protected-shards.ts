/**
 * Protected shards, as nwaku's signed-shard validator checks them: on a
 * protected pubsub topic a message counts only when its `meta` carries a
 * 64-byte secp256k1 signature (r ‖ s, low S) by the shard's public key over
 * sha256(pubsubTopic ‖ payload ‖ contentTopic ‖ timestamp as 8 little-endian
 * bytes ‖ ephemeral as one byte), and — when it arrives over relay — its
 * timestamp is less than 5 minutes from the local clock. The Status fleet
 * protects /waku/2/rs/16/{1,128,256} this way.
 */
import { secp256k1 } from '@noble/curves/secp256k1';
import { hash } from 'node:crypto';
import type { RejectReason } from '../../contract/contract.ts';

/** A protected pubsub topic's public key (33-byte compressed or 65-byte uncompressed), by topic. */
export type ProtectedShards = ReadonlyMap<string, Uint8Array>;

/** nwaku's window around the local clock for a protected shard's relayed messages. */
export const SIGNED_MESSAGE_WINDOW_NS = 5n * 60n * 1_000_000_000n;

export interface SignableMessage {
  payload: Uint8Array;
  contentTopic: string;
  timestamp?: bigint | undefined;
  ephemeral?: boolean | undefined;
  meta?: Uint8Array | undefined;
}

/** What the shard's key signs (not the 14/WAKU2-MESSAGE hash: meta, which carries the signature, is left out). */
export function shardSigningDigest(pubsubTopic: string, msg: SignableMessage): Uint8Array {
  const ts = Buffer.alloc(8);
  ts.writeBigUInt64LE(BigInt.asUintN(64, msg.timestamp ?? 0n));
  const bytes = Buffer.concat([Buffer.from(pubsubTopic, 'utf8'), msg.payload, Buffer.from(msg.contentTopic, 'utf8'), ts, Buffer.from([msg.ephemeral === true ? 1 : 0])]);
  const digest = hash('sha256', bytes, 'buffer');
  return new Uint8Array(digest.buffer, digest.byteOffset, digest.byteLength);
}

/** undefined when the message carries a good signature by `key`, else why not. `nowNs` applies relay's time window. */
export function checkShardSignature(pubsubTopic: string, msg: SignableMessage, key: Uint8Array, nowNs?: bigint): RejectReason | undefined {
  if (msg.timestamp === undefined || msg.timestamp === 0n) return 'unsigned';
  if (nowNs !== undefined) {
    const skew = msg.timestamp - nowNs;
    if (skew >= SIGNED_MESSAGE_WINDOW_NS || skew <= -SIGNED_MESSAGE_WINDOW_NS) return 'signature-expired';
  }
  const sig = msg.meta;
  if (sig === undefined || sig.length !== 64) return 'unsigned';
  let good = false;
  try {
    // The digest is what is signed (no second hash), and high-S signatures are refused, as libsecp256k1 does.
    good = secp256k1.verify(sig, shardSigningDigest(pubsubTopic, msg), key, { prehash: false, lowS: true });
  } catch {
    good = false;
  }
  return good ? undefined : 'bad-signature';
}

/** Parses a protected shard given as `SHARD:PUBKEY` (hex, compressed or not); throws with what is wrong. */
export function parseProtectedShard(text: string): { shard: number; publicKey: Uint8Array } {
  const m = /^(\d{1,4}):(?:0x)?([0-9a-fA-F]+)$/.exec(text.trim());
  if (!m) throw new Error(`"${text}" is not SHARD:PUBKEY (example: 128:04…, the key in hex)`);
  const shard = Number(m[1]);
  if (shard > 1023) throw new Error(`shard ${shard} is out of range (0 to 1023)`);
  const publicKey = Uint8Array.from(Buffer.from(m[2] ?? '', 'hex'));
  try {
    secp256k1.ProjectivePoint.fromHex(publicKey);
  } catch {
    throw new Error(`"${m[2]}" is not a secp256k1 public key`);
  }
  return { shard, publicKey };
}
