/**
 * The checks of one entry of a store peer's answer: a message that is not what
 * it claims to be, or not what was asked, is refused with the reason.
 */
import type { Decoded } from './decode.ts';
import { messageHash, sameBytes } from './hash.ts';
import { DEFAULT_RULES, validateMessage } from './validate.ts';
import type { MessageRules } from './validate.ts';
import { decodeWakuMessage } from './wire.ts';
import type { WireWakuMessage } from './wire.ts';

/** What a store peer was asked: answers outside it are refused. */
export interface AskedRange {
  pubsubTopic: string;
  /** Inclusive bounds in ns; absent for hash lookups. */
  startNs?: bigint;
  endNs?: bigint;
}

/** One entry of an answer, its message as the encoded bytes that arrived. */
export interface StoreEntry {
  messageHash?: Uint8Array | undefined;
  message?: Uint8Array | undefined;
  pubsubTopic?: string | undefined;
}

/**
 * Checks one message a store peer returned: present and decodable, on the
 * topic asked, inside the time asked (both ends inclusive: nwaku treats the end
 * as inclusive), valid by the network's rules, and carrying the hash its
 * content hashes to. The rules of time that relay applies (the clock, a
 * protected shard's window) do not apply to history. The message is kept as
 * the bytes it arrived as.
 */
export function checkStoreEntry(entry: StoreEntry, asked: AskedRange, rules: MessageRules = DEFAULT_RULES): Decoded {
  const bytes = entry.message;
  if (bytes === undefined || entry.messageHash === undefined) return { ok: false, reason: 'missing-message' };
  if (entry.pubsubTopic !== undefined && entry.pubsubTopic !== asked.pubsubTopic) return { ok: false, reason: 'wrong-topic' };
  let msg: WireWakuMessage;
  try {
    msg = decodeWakuMessage(bytes);
  } catch {
    return { ok: false, reason: 'undecodable' };
  }
  const reason = validateMessage(asked.pubsubTopic, msg, rules, { encodedBytes: bytes.length });
  if (reason !== undefined) return { ok: false, reason };
  const timestamp = msg.timestamp ?? 0n;
  if ((asked.startNs !== undefined && timestamp < asked.startNs) || (asked.endNs !== undefined && timestamp > asked.endNs)) {
    return { ok: false, reason: 'outside-window' };
  }
  const hash = messageHash(asked.pubsubTopic, msg);
  if (!sameBytes(hash, entry.messageHash)) return { ok: false, reason: 'hash-mismatch' };
  return { ok: true, message: { hash, pubsubTopic: asked.pubsubTopic, contentTopic: msg.contentTopic, timestamp, message: bytes } };
}
