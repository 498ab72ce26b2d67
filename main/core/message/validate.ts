/**
 * The rules a WakuMessage must pass before it enters the archive. Pure: the
 * clock is a parameter, so every rule can be tested at its edge.
 */
import type { RejectReason } from '../../contract/contract.ts';
import { isValidContentTopic, isValidPubsubTopic } from './topics.ts';

export type { RejectReason };

export const MAX_MESSAGE_BYTES = 150 * 1024;
export const MAX_META_BYTES = 64;
/** Relay drops messages whose timestamp is further than this from the local clock. */
export const MAX_CLOCK_SKEW_NS = 20_000_000_000n;


export interface ValidatableMessage {
  payload: Uint8Array;
  contentTopic: string;
  meta?: Uint8Array | undefined;
  timestamp?: bigint | undefined;
  ephemeral?: boolean | undefined;
}

export interface ValidateOptions {
  /** Local clock in ns; when given, the ±20 s relay rule applies. */
  nowNs?: bigint;
}

/** undefined when the message may be stored, else the first rule it breaks. */
export function validateMessage(
  pubsubTopic: string,
  msg: ValidatableMessage,
  opts: ValidateOptions = {},
): RejectReason | undefined {
  if (!isValidPubsubTopic(pubsubTopic)) return 'bad-pubsub-topic';
  if (!isValidContentTopic(msg.contentTopic)) return 'bad-content-topic';
  const metaLength = msg.meta?.length ?? 0;
  if (metaLength > MAX_META_BYTES) return 'meta-too-large';
  if (msg.payload.length + metaLength > MAX_MESSAGE_BYTES) return 'too-large';
  if (msg.timestamp === undefined || msg.timestamp <= 0n) return 'no-timestamp';
  if (opts.nowNs !== undefined) {
    const skew = msg.timestamp - opts.nowNs;
    if (skew > MAX_CLOCK_SKEW_NS || skew < -MAX_CLOCK_SKEW_NS) return 'clock-skew';
  }
  if (msg.ephemeral === true) return 'ephemeral';
  return undefined;
}
