/** Builders of WakuMessages for tests. */
import { proto_message } from '@waku/proto';
import type { ArchiveMessage } from '../../main/core/message/message.ts';
import { messageHash } from '../../main/core/message/hash.ts';

export const TEST_PUBSUB = '/waku/2/rs/16/32';
export const TEST_CONTENT = ['/waku/1/0x0000aaaa/rfc26', '/waku/1/0x0000bbbb/rfc26', '/waku/1/0x0000cccc/rfc26'];

export interface MessageSpec {
  pubsubTopic?: string;
  contentTopic?: string;
  timestamp: bigint;
  payload?: Uint8Array;
  meta?: Uint8Array;
  ephemeral?: boolean;
}

export function wakuMessageBytes(spec: MessageSpec): Uint8Array {
  return proto_message.WakuMessage.encode({
    payload: spec.payload ?? new TextEncoder().encode(`message at ${spec.timestamp}`),
    contentTopic: spec.contentTopic ?? TEST_CONTENT[0],
    timestamp: spec.timestamp,
    meta: spec.meta,
    ephemeral: spec.ephemeral,
    version: 0,
  });
}

/** The encoded WakuMessage of a spec, with the defaults filled in as archiveMessage does. */
export function encodeBytes(spec: MessageSpec): Uint8Array {
  return archiveMessage(spec).message;
}

export function archiveMessage(spec: MessageSpec): ArchiveMessage {
  const pubsubTopic = spec.pubsubTopic ?? TEST_PUBSUB;
  const contentTopic = spec.contentTopic ?? TEST_CONTENT[0] ?? '';
  const payload = spec.payload ?? new TextEncoder().encode(`message at ${spec.timestamp}`);
  const message = wakuMessageBytes({ ...spec, contentTopic, payload });
  return {
    hash: messageHash(pubsubTopic, { payload, contentTopic, meta: spec.meta, timestamp: spec.timestamp }),
    pubsubTopic,
    contentTopic,
    timestamp: spec.timestamp,
    message,
  };
}

export const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** `n` messages one ms apart from `startNs`, round-robin over the test content topics. */
export function series(n: number, startNs: bigint, opts: { pubsubTopic?: string; stepNs?: bigint } = {}): ArchiveMessage[] {
  const step = opts.stepNs ?? 1_000_000n;
  return Array.from({ length: n }, (_, i) =>
    archiveMessage({
      pubsubTopic: opts.pubsubTopic,
      contentTopic: TEST_CONTENT[i % TEST_CONTENT.length],
      timestamp: startNs + BigInt(i) * step,
      payload: new TextEncoder().encode(`payload ${i} @ ${startNs}`),
    }),
  );
}
