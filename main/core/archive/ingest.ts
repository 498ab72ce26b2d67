/**
 * The one path by which messages enter the archive: decode, validate, hash,
 * then insert in batches. Relay and gap filling both come through here.
 */
import { proto_message } from '@waku/proto';
import type { Archive, ArchiveMessage } from './archive.ts';
import { messageHash, sameBytes } from './hash.ts';
import { validateMessage } from './validate.ts';
import { decodeWakuMessage } from './wire.ts';
import type { WireWakuMessage } from './wire.ts';
import type { RejectReason, ValidateOptions } from './validate.ts';

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

/** What a store peer was asked: answers outside it are refused. */
export interface AskedRange {
  pubsubTopic: string;
  /** Inclusive bounds in ns; absent for hash lookups. */
  startNs?: bigint;
  endNs?: bigint;
}

export interface StoreEntry {
  messageHash?: Uint8Array;
  message?: proto_message.WakuMessage;
  pubsubTopic?: string;
}

/**
 * Checks one message a store peer returned: present, on the topic asked, inside
 * the time asked (both ends inclusive: nwaku treats the end as inclusive), valid
 * by the archive's rules, and carrying the hash its content hashes to.
 */
export function checkStoreEntry(entry: StoreEntry, asked: AskedRange): Decoded {
  const msg = entry.message;
  if (msg === undefined || entry.messageHash === undefined) return { ok: false, reason: 'missing-message' };
  if (entry.pubsubTopic !== undefined && entry.pubsubTopic !== asked.pubsubTopic) return { ok: false, reason: 'wrong-topic' };
  const reason = validateMessage(asked.pubsubTopic, msg);
  if (reason !== undefined) return { ok: false, reason };
  const timestamp = msg.timestamp ?? 0n;
  if ((asked.startNs !== undefined && timestamp < asked.startNs) || (asked.endNs !== undefined && timestamp > asked.endNs)) {
    return { ok: false, reason: 'outside-window' };
  }
  const hash = messageHash(asked.pubsubTopic, msg);
  if (!sameBytes(hash, entry.messageHash)) return { ok: false, reason: 'hash-mismatch' };
  return {
    ok: true,
    message: { hash, pubsubTopic: asked.pubsubTopic, contentTopic: msg.contentTopic, timestamp, message: proto_message.WakuMessage.encode(msg) },
  };
}

export interface IngestorOptions {
  /** Flush when this many messages wait, even before the event loop turns. */
  maxBatch?: number;
  onInserted?: (inserted: number, batch: readonly ArchiveMessage[]) => void;
  onError?: (err: unknown, batch: readonly ArchiveMessage[]) => void;
}

/**
 * Collects messages and writes them in one transaction per event-loop turn:
 * under load many messages share a commit, at rest each is written at once.
 */
export class Ingestor {
  private readonly archive: Archive;
  private readonly maxBatch: number;
  private readonly onInserted: IngestorOptions['onInserted'];
  private readonly onError: IngestorOptions['onError'];
  private pending: ArchiveMessage[] = [];
  private scheduled: NodeJS.Immediate | undefined;

  constructor(archive: Archive, opts: IngestorOptions = {}) {
    this.archive = archive;
    this.maxBatch = opts.maxBatch ?? 5000;
    this.onInserted = opts.onInserted;
    this.onError = opts.onError;
  }

  push(message: ArchiveMessage): void {
    this.pending.push(message);
    if (this.pending.length >= this.maxBatch) this.flush();
    else this.scheduled ??= setImmediate(() => this.flush());
  }

  get queued(): number {
    return this.pending.length;
  }

  /** Writes what is waiting now; returns how many were new. */
  flush(): number {
    if (this.scheduled !== undefined) clearImmediate(this.scheduled);
    this.scheduled = undefined;
    const batch = this.pending;
    if (batch.length === 0) return 0;
    this.pending = [];
    try {
      const inserted = this.archive.insert(batch);
      this.onInserted?.(inserted, batch);
      return inserted;
    } catch (err) {
      this.onError?.(err, batch);
      return 0;
    }
  }
}
