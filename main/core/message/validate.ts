/**
 * The rules a WakuMessage must pass before it is relayed or enters the
 * archive, as nwaku and the Status fleet apply them. Pure: the clock and the
 * limits are parameters, so every rule can be tested at its edge.
 */
import type { RejectReason } from '../../contract/contract.ts';
import { checkShardSignature } from './protected-shards.ts';
import type { ProtectedShards } from './protected-shards.ts';
import { isValidContentTopic, isValidPubsubTopic } from './topics.ts';

export type { RejectReason };

/** 64/WAKU2-NETWORK's cap on an encoded WakuMessage, and nwaku's default. */
export const DEFAULT_MAX_MESSAGE_BYTES = 150 * 1024;
/** 14/WAKU2-MESSAGE: meta is at most 64 bytes (nwaku's decoder refuses more). */
export const MAX_META_BYTES = 64;
/** Relay drops messages whose timestamp is further than this from the local clock. */
export const MAX_CLOCK_SKEW_NS = 20_000_000_000n;

/** The limits of the network a Keeper serves: its message size cap and its protected shards. */
export interface MessageRules {
  /** The most an encoded WakuMessage may weigh. */
  maxMessageBytes: number;
  /** Pubsub topics whose messages must be signed by the topic's key. */
  protectedShards: ProtectedShards;
}

export const DEFAULT_RULES: MessageRules = { maxMessageBytes: DEFAULT_MAX_MESSAGE_BYTES, protectedShards: new Map() };

export interface ValidatableMessage {
  payload: Uint8Array;
  contentTopic: string;
  meta?: Uint8Array | undefined;
  timestamp?: bigint | undefined;
  ephemeral?: boolean | undefined;
}

export interface ValidateOptions {
  /** Local clock in ns; when given, the relay rules of time apply (±20 s, and a protected shard's ±5 min). */
  nowNs?: bigint;
  /** The encoded message's size, when known; else it is reckoned from the fields. */
  encodedBytes?: number;
}

/** undefined when the message may be relayed and stored, else the first rule it breaks. */
export function validateMessage(
  pubsubTopic: string,
  msg: ValidatableMessage,
  rules: MessageRules = DEFAULT_RULES,
  opts: ValidateOptions = {},
): RejectReason | undefined {
  if (!isValidPubsubTopic(pubsubTopic)) return 'bad-pubsub-topic';
  if (!isValidContentTopic(msg.contentTopic)) return 'bad-content-topic';
  const metaLength = msg.meta?.length ?? 0;
  if (metaLength > MAX_META_BYTES) return 'meta-too-large';
  if ((opts.encodedBytes ?? encodedLength(msg)) > rules.maxMessageBytes) return 'too-large';
  // A protected shard's signature first: relay refuses a message that fails it, whatever else is true of it.
  const key = rules.protectedShards.get(pubsubTopic);
  if (key !== undefined) {
    const bad = checkShardSignature(pubsubTopic, msg, key, opts.nowNs);
    if (bad !== undefined) return bad;
  }
  if (msg.timestamp === undefined || msg.timestamp <= 0n) return 'no-timestamp';
  if (opts.nowNs !== undefined) {
    const skew = msg.timestamp - opts.nowNs;
    if (skew > MAX_CLOCK_SKEW_NS || skew < -MAX_CLOCK_SKEW_NS) return 'clock-skew';
  }
  if (msg.ephemeral === true) return 'ephemeral';
  return undefined;
}

/** The size of a WakuMessage's protobuf encoding, reckoned from its fields (payload, topic, meta, timestamp, version). */
function encodedLength(msg: ValidatableMessage): number {
  const field = (n: number): number => (n === 0 ? 0 : 1 + varintLength(n) + n);
  return field(msg.payload.length) + field(Buffer.byteLength(msg.contentTopic)) + field(msg.meta?.length ?? 0) + 11 + 2 + 3;
}

function varintLength(n: number): number {
  let len = 1;
  for (let v = n; v >= 0x80; v = Math.floor(v / 128)) len++;
  return len;
}
