/**
 * From bytes seen on relay to a message the archive may keep: decode, check
 * the rules, hash. Pure: the clock comes in through the options.
 */
import type { ArchiveMessage } from './message.ts';
import { messageHash } from './hash.ts';
import { validateMessage } from './validate.ts';
import type { RejectReason, ValidateOptions } from './validate.ts';
import { decodeWakuMessage } from './wire.ts';
import type { WireWakuMessage } from './wire.ts';

export type Decoded = { ok: true; message: ArchiveMessage } | { ok: false; reason: RejectReason };

/** Decodes an encoded WakuMessage seen on `pubsubTopic` and checks it against the archive's rules. */
export function decodeForArchive(pubsubTopic: string, bytes: Uint8Array, opts: ValidateOptions = {}): Decoded {
  let msg: WireWakuMessage;
  try {
    msg = decodeWakuMessage(bytes);
  } catch {
    return { ok: false, reason: 'undecodable' };
  }
  const reason = validateMessage(pubsubTopic, msg, opts);
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
