/**
 * Publishing over REST (POST /relay/v1/messages/{topic} and
 * /relay/v1/auto/messages): the posted message is encoded, checked by the
 * same rules as a relayed one (message/decode.ts with the network's rules),
 * published on relay, and — since gossipsub never hands a node its own
 * message — stored once through the archive writer and put in the message
 * cache, as nwaku's relay delivers its own messages to its handlers. A
 * message that breaks a rule gets nwaku's 400 and goes nowhere.
 */
import { decodeForArchive } from '../message/decode.ts';
import { autoShard, parseContentTopic, shardTopic } from '../message/topics.ts';
import { MAX_META_BYTES } from '../message/validate.ts';
import type { RejectReason } from '../message/validate.ts';
import type { RestBackend } from './backend.ts';
import type { MessageCache } from './message-cache.ts';
import type { EncodedMessage } from './message-json.ts';
import { text } from './router.ts';
import type { Reply } from './router.ts';

/** How long a publish may take before it is nwaku's 500 "timedout". */
export const PUBLISH_TIMEOUT_MS = 5000;

/**
 * Shards in a cluster for autosharding, as nwaku counts them: 8 on The Waku
 * Network (cluster 1, its `twn` preset), else nwaku's `--num-shards-in-network`
 * default of 1. Keeper has no flag of its own for it.
 */
export function autoShardCount(clusterId: number): number {
  return clusterId === 1 ? 8 : 1;
}

/** The pubsub topic nwaku derives for a content topic on `clusterId`, or nwaku's reason why none. */
export function autoShardTopic(contentTopic: string, clusterId: number): { ok: true; topic: string } | { ok: false; error: string } {
  const parts = parseContentTopic(contentTopic);
  if (parts === undefined) {
    const why = contentTopic.startsWith('/')
      ? 'Invalid content topic structure. Expected either /<application>/<version>/<topic-name>/<encoding> or /<gen>/<application>/<version>/<topic-name>/<encoding>'
      : `content-topic '${contentTopic}' must start with slash`;
    return { ok: false, error: `invalid format: ${why}` };
  }
  if (parts.generation !== 0) return { ok: false, error: 'Generation > 0 are not supported yet' };
  return { ok: true, topic: shardTopic(clusterId, autoShard(parts, autoShardCount(clusterId))) };
}

/** Checks, publishes and keeps one encoded message; the reply is nwaku's. */
export async function publishMessage(b: RestBackend, cache: MessageCache, pubsubTopic: string, m: EncodedMessage, nowNs: bigint): Promise<Reply> {
  const decoded = decodeForArchive(pubsubTopic, m.bytes, b.rules, nowNs);
  // Ephemeral messages are valid traffic: relayed, never kept.
  if (!decoded.ok && decoded.reason !== 'ephemeral') {
    return text(400, `Failed to publish: ${refusal(decoded.reason, b, m.timestamp, nowNs)}`);
  }
  let outcome: 'published' | 'duplicate';
  let timer: NodeJS.Timeout | undefined;
  try {
    const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), PUBLISH_TIMEOUT_MS)));
    const result = await Promise.race([b.publish(pubsubTopic, m.bytes), timeout]);
    if (result === 'timeout') return text(500, 'Failed to publish: timedout');
    outcome = result;
  } catch (err) {
    return text(500, `Failed to publish: ${err instanceof Error ? err.message : String(err)}`);
  } finally {
    clearTimeout(timer);
  }
  // A duplicate was relayed before, and kept then if it was to be: nothing to do again.
  if (outcome === 'published') {
    if (decoded.ok && b.relayed().includes(pubsubTopic) && b.keeps(m.contentTopic)) b.store(decoded.message);
    cache.add(pubsubTopic, m.bytes);
  }
  return text(200, 'OK');
}

/** Why a message may not be published, in nwaku's words where nwaku has them. */
function refusal(reason: RejectReason, b: RestBackend, timestamp: bigint, nowNs: bigint): string {
  switch (reason) {
    case 'too-large':
      return `Message size exceeded maximum of ${b.rules.maxMessageBytes} bytes`;
    case 'unsigned':
    case 'bad-signature':
    case 'signature-expired':
      return 'signed shard validation failed';
    case 'meta-too-large':
      return `meta is longer than ${MAX_META_BYTES} bytes`;
    case 'clock-skew':
    case 'no-timestamp':
      // nwaku's archive's words: its ±20 s from the clock.
      return timestamp < nowNs ? 'invalid_message_too_old' : 'invalid_message_future_timestamp';
    case 'bad-content-topic':
      return 'the content topic is empty';
    default:
      return reason;
  }
}
