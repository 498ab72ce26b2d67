/**
 * From bytes seen on relay to a message the archive may keep: decode, check
 * the rules, hash. Pure: the clock comes in through the options.
 */
import type { ArchiveMessage } from './message.ts';
import { messageHash } from './hash.ts';
import { DEFAULT_RULES, validateMessage } from './validate.ts';
import type { MessageRules, RejectReason } from './validate.ts';
import { decodeWakuMessage } from './wire.ts';
import type { WireWakuMessage } from './wire.ts';

export type Decoded = { ok: true; message: ArchiveMessage } | { ok: false; reason: RejectReason };

/**
 * What nwaku relays on but does not archive: a message too far from the clock
 * or without a timestamp (its archive refuses them), an ephemeral one, one
 * without a content topic. Relay refuses — and its sender's score pays for —
 * only what nwaku's relay refuses: undecodable, oversized, badly signed.
 */
export const RELAYED_NOT_KEPT: ReadonlySet<RejectReason> = new Set(['clock-skew', 'no-timestamp', 'ephemeral', 'bad-content-topic']);

/** Decodes an encoded WakuMessage seen on `pubsubTopic` and checks it against the rules. */
export function decodeForArchive(pubsubTopic: string, bytes: Uint8Array, rules: MessageRules = DEFAULT_RULES, nowNs?: bigint): Decoded {
  let msg: WireWakuMessage;
  try {
    msg = decodeWakuMessage(bytes);
  } catch {
    return { ok: false, reason: 'undecodable' };
  }
  const reason = validateMessage(pubsubTopic, msg, rules, { encodedBytes: bytes.length, ...(nowNs === undefined ? {} : { nowNs }) });
  if (reason !== undefined) return { ok: false, reason };
  return {
    ok: true,
    message: {
      hash: messageHash(pubsubTopic, msg),
      pubsubTopic,
      contentTopic: msg.contentTopic,
      timestamp: msg.timestamp ?? 0n,
      message: bytes,
    },
  };
}
